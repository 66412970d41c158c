// Huawei quirks (E1xx/E3xx sticks, ME909 modules).
//
// Contract: profiles are immutable statics; pure and thread-safe.
#pragma once

#include <string_view>

#include "otppi/modem/at_parser.hpp"
#include "otppi/modem/vendors/generic.hpp"

namespace otppi::modem {

// Current firmwares: ^ICCID?, AT^CURC=0 to silence periodic reports.
const vendor_profile& huawei_vendor();
// E1xx/E220-era sticks: as above, plus USSD exchanged as packed GSM 7-bit hex.
const vendor_profile& huawei_legacy_vendor();

// True for E1xx-era models ("E173", "E1550", "E220"...).
bool huawei_is_legacy_model(std::string_view model) noexcept;
// Periodic status chatter (^RSSI, ^BOOT, ^MODE, ^DSFLOWRPT, ^SRVST...) that
// needs no action and only merits debug logging.
bool huawei_is_chatter(const unsolicited& u) noexcept;

}  // namespace otppi::modem
