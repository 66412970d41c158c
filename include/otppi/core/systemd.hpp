// sd_notify wrappers. All are no-ops when the daemon is not started by
// systemd (NOTIFY_SOCKET unset), so a terminal run behaves the same.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace otppi::core::systemd {

void notify_ready(std::string_view status);
void notify_reloading();
void notify_stopping();
void notify_status(std::string_view status);
void notify_watchdog();
// Half of WatchdogSec when the unit asks for a watchdog, else nullopt.
std::optional<std::chrono::microseconds> watchdog_ping_interval();

}  // namespace otppi::core::systemd
