// Host and Origin headers and typed setup codes, all straight from the
// network: never a crash, and the checks agree with themselves.
#include "otppi/admin/setup_code.hpp"
#include "otppi/http/host_check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    static const auto names = otppi::http::static_names({"gateway.example.com", "10.1.2.3", "fe80::1"}, "192.168.1.5", "otppi");
    // The first half is Host, the rest Origin.
    const auto host = bytes.substr(0, size / 2);
    const auto origin = bytes.substr(size / 2);
    std::string h, p;
    if (otppi::http::normalize_host(host, h, p)) {
        // What normalize_host gives back normalises to itself.
        std::string h2, p2;
        const bool v6 = h.find(':') != std::string::npos;
        if (!otppi::http::normalize_host(v6 ? "[" + h + "]" : h, h2, p2) || h2 != h) std::abort();
    }
    const bool host_ok = otppi::http::host_allowed(host, names);
    for (bool tls : {false, true})
        if (otppi::http::origin_allowed(origin, tls, host, names) && !host_ok) std::abort();  // an allowed origin needs an allowed Host
    const auto code = otppi::admin::canonical_setup_code(bytes);
    if (!code.empty() && !otppi::admin::setup_code_matches(bytes, code)) std::abort();
    return 0;
}
