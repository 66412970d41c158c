// Operations only some vendors have, registered by the vendor profile
// (vendor_profile::voice, vendor_profile::imei_change) instead of flags the
// generic driver would test: the driver asks the profile for the machine and
// runs it like any other operation (driver/operation.hpp).
//
// Contract: extensions are immutable statics with program lifetime. The
// machines they make are sans-io; the driver checks the destination and the
// state before it asks for one.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "otppi/modem/driver/operation.hpp"
#include "otppi/core/secure_string.hpp"

namespace otppi::modem {

// A voice call that reads a text out (voice OTP).
struct voice_extension {
    std::string_view how;  // for error texts and logs: "AT+CTTS"
    // `number` as dialled ("+62..." or a national number).
    std::unique_ptr<driver::answer_machine> (*make)(std::string number, core::secure_string text);
};

// Writing the IMEI.
struct imei_extension {
    std::string_view how;  // "AT+EGMR"
    std::unique_ptr<driver::answer_machine> (*make)(std::string imei);
};

// SIMCom: ATD, AT+CLCC, AT+CTTS, ATH (vendors/simcom_voice.cpp).
const voice_extension& simcom_voice();
// MediaTek-based modules (SIM800 and no-name brands): AT+EGMR (vendors/mediatek_imei.cpp).
const imei_extension& mediatek_imei();

}  // namespace otppi::modem
