// The one-time setup code that claims an unconfigured box.
//
// While no administrator exists, whoever reaches the admin port first could
// create one. So the first administrator needs a code that only someone with
// access to the device has: it is made from the CSPRNG at the first start
// without an administrator, written to <state_dir>/setup-code (mode 0600)
// and shown once in the service log, like the code a router prints on its
// label. Creating the first administrator deletes it.
//
// Format: 10 characters in two groups of five, "7KQ2M-X9DRT", from an
// alphabet without look-alikes (Crockford's base32: no I, L, O, U), so 50
// bits. Typing is forgiving: case, spaces and dashes do not matter, and O, I
// and L count as 0, 1 and 1.
// Thread-safety: pure functions, any thread.
#pragma once

#include <string>
#include <string_view>

namespace otppi::admin {

// A new code "XXXXX-XXXXX"; throws std::runtime_error if the CSPRNG fails
// (start-up only).
std::string make_setup_code();
// The code's 10 significant characters, upper case, look-alikes mapped;
// empty when `typed` is not a code (wrong length or characters).
std::string canonical_setup_code(std::string_view typed);
// Constant-time comparison of what was typed with the expected code.
bool setup_code_matches(std::string_view typed, std::string_view expected);

}  // namespace otppi::admin
