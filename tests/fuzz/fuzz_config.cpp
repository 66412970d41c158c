// The config loader on any document: errors, never a crash or an exception.
// Inputs may stand for deep nesting (expand.hpp).
#include "expand.hpp"
#include "otppi/config/config.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = otppi::fuzz::expand_nesting(std::string_view(reinterpret_cast<const char*>(data), size));
    auto r = otppi::config::parse_config(text);
    // A config that loads must survive its own write-back form.
    if (r.ok()) {
        auto again = otppi::config::parse_config(otppi::config::to_json_text(*r.cfg));
        if (!again.ok()) __builtin_trap();
    }
    return 0;
}
