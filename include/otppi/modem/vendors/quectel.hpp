// Quectel quirks (EC2x/EG2x LTE, BG9x, UC20, M95).
//
// Contract: profiles are immutable statics; pure and thread-safe.
#pragma once

#include <string_view>

#include "otppi/modem/at_parser.hpp"
#include "otppi/modem/vendors/generic.hpp"

namespace otppi::modem {

// AT+QCCID, 120 s send deadline (the AT manual's maximum for AT+CMGS).
const vendor_profile& quectel_vendor();

// "+QIND: SMS DONE": the SMS store is initialised; +CMTI/AT+CMGL work from here.
bool quectel_is_sms_ready(const unsolicited& u) noexcept;

}  // namespace otppi::modem
