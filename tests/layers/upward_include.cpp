// Compiled by the ctest `layers_upward_include_fails` against the modem layer
// alone: the modem layer must not see the pool above it, so this must not compile.
#include "otppi/pool/pool.hpp"
int main() { return 0; }
