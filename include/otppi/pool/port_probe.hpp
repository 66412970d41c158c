// Finding a modem whose tty name shifted (ttyUSB0 -> ttyUSB3 after a replug):
// list the candidate ports, and ask one of them for its IMEI.
// Thread-safety: probe_imei on the io thread; its callback is posted there.
#pragma once

#include "otppi/modem/serial_channel.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace otppi::pool {

// Paths matching the glob patterns (e.g. "/dev/ttyUSB*"), sorted, deduplicated.
std::vector<std::string> candidate_ports(const std::vector<std::string>& patterns);

// Opens `settings.path`, sends ATE0 and AT+CGSN, closes. `done` gets the IMEI,
// or an empty string when the port cannot be opened or gives no IMEI.
void probe_imei(boost::asio::io_context& ioc, const modem::serial_settings& settings, std::chrono::milliseconds timeout,
                std::function<void(std::string imei)> done);

}  // namespace otppi::pool
