#include "otppi/core/systemd.hpp"

#include <string>
#include <systemd/sd-daemon.h>

namespace otppi::core::systemd {

namespace {
void send(const std::string& state) { ::sd_notify(0, state.c_str()); }
}  // namespace

void notify_ready(std::string_view status) { send("READY=1\nSTATUS=" + std::string(status)); }
void notify_reloading() { send("RELOADING=1"); }
void notify_stopping() { send("STOPPING=1"); }
void notify_status(std::string_view status) { send("STATUS=" + std::string(status)); }
void notify_watchdog() { send("WATCHDOG=1"); }

std::optional<std::chrono::microseconds> watchdog_ping_interval() {
    uint64_t usec = 0;
    if (::sd_watchdog_enabled(0, &usec) > 0 && usec > 0) return std::chrono::microseconds(usec / 2);
    return std::nullopt;
}

}  // namespace otppi::core::systemd
