// Logging set-up and the masking helpers every layer uses before a receiver
// number reaches a log line. Message bodies, OTPs, passwords and PINs are never
// passed to the logger at all; masking exists only for identifiers we must log.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace otppi::core {

// Installs a stderr logger (journald keeps stderr). `level` is one of
// trace, debug, info, warn, error, critical, off. Returns false for an unknown level.
bool init_logging(std::string_view level);
bool set_log_level(std::string_view level);
bool is_valid_log_level(std::string_view level);

// "628126666666" -> "62812****666": keeps the operator prefix and last three
// digits so an operator can still correlate sends, hides the subscriber.
std::string mask_msisdn(std::string_view msisdn);

}  // namespace otppi::core
