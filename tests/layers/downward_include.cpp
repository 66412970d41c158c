// The control of `layers_upward_include_fails`: the same build against the modem
// layer, including a header of a layer below it (config), must compile.
#include "otppi/config/config.hpp"
#include "otppi/modem/modem.hpp"
int main() { return 0; }
