// Resident memory of the OTP engine holding N live OTPs for N distinct
// receivers (so N receiver-throttle entries too).
//
//   otp_memory [N]     (default 1,000,000)
//
// Prints VmRSS before and after filling, the peak (VmHWM), the bytes per OTP
// and the issue rate. The per-API-user rate limit is off: one user issuing a
// million codes would be refused after the first 60. Time is a ManualClock
// that does not move, so every OTP stays live while we measure.
#include "otppi/core/clock.hpp"
#include "otppi/otp/engine.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

// A field of /proc/self/status in KiB ("VmRSS", "VmHWM"), or -1.
long status_kib(const std::string& field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, field.size() + 1, field + ":") == 0) {
            return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
        }
    }
    return -1;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace otppi;
    const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
    if (n == 0) {
        std::fprintf(stderr, "usage: %s [N > 0]\n", argv[0]);
        return 2;
    }

    std::array<std::uint8_t, otp::engine_key_size> key{};
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
        std::fprintf(stderr, "RAND_bytes failed\n");
        return 1;
    }
    core::ManualClock clock;
    otp::engine_config config;  // defaults: 6 digits, 180 s, 5 tries, 5 per receiver per 10 min
    config.user_max_issues = 0;
    config.capacity = std::max<std::size_t>(config.capacity, n);
    otp::engine engine(config, key, clock);

    const long rss_before = status_kib("VmRSS");
    const auto start = std::chrono::steady_clock::now();
    char reference[32];
    char receiver[32];
    for (std::size_t i = 0; i < n; ++i) {
        std::snprintf(reference, sizeof reference, "ref-%010zu", i);
        std::snprintf(receiver, sizeof receiver, "62812%08zu", i);
        otp::issue_request request;
        request.reference = reference;
        request.receiver = receiver;
        request.params = {"login", "web", "", ""};
        const auto result = engine.issue(request, "bench");
        if (result.status != otp::otp_status::ok) {
            std::fprintf(stderr, "issue %zu failed: %.*s\n", i, static_cast<int>(to_string(result.status).size()),
                         to_string(result.status).data());
            return 1;
        }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const long rss_after = status_kib("VmRSS");
    const long hwm = status_kib("VmHWM");

    const auto st = engine.otp_store().statistics();
    std::printf("live OTPs:            %zu (receiver throttle keys: %zu)\n", engine.size(), engine.receiver_throttle().size());
    std::printf("VmRSS before:         %.1f MiB\n", rss_before / 1024.0);
    std::printf("VmRSS after:          %.1f MiB\n", rss_after / 1024.0);
    std::printf("VmHWM (peak):         %.1f MiB\n", hwm / 1024.0);
    std::printf("per OTP (incl. throttle entry): %.1f bytes\n",
                static_cast<double>(rss_after - rss_before) * 1024.0 / static_cast<double>(n));
    std::printf("store: %zu slots, %zu buckets, %zu heap items; throttle: %.1f MiB\n", st.slots, st.buckets, st.heap_items,
                static_cast<double>(engine.receiver_throttle().memory_bytes()) / (1024.0 * 1024.0));
    std::printf("issue rate:           %.0f /s (%.2f us each)\n", static_cast<double>(n) / seconds, seconds * 1e6 / static_cast<double>(n));

    // Everything expires: the sweep cost and what stays allocated.
    clock.advance(std::chrono::minutes(11));
    const auto sweep_start = std::chrono::steady_clock::now();
    const std::size_t swept = engine.sweep();
    const double sweep_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - sweep_start).count();
    std::printf("sweep of all:         %zu items in %.3f s; VmRSS after: %.1f MiB (slabs kept for reuse)\n", swept, sweep_s,
                status_kib("VmRSS") / 1024.0);
    return hwm > 256 * 1024 ? 3 : 0;  // the budget: 256 MiB for the whole process
}
