// SIMCom quirks (SIM800/SIM900 2G on MediaTek, SIM7xxx LTE on Qualcomm).
//
// Contract: profiles are immutable statics; builders validate their input and
// return nullopt rather than put something unsafe on the wire. Pure, thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "otppi/modem/at_engine.hpp"
#include "otppi/modem/vendors/generic.hpp"

namespace otppi::modem {

// SIM800/SIM808/SIM868/SIM900: EGMR IMEI write, CTTS on TTS firmwares, 60 s send.
const vendor_profile& simcom_vendor();
// SIM7000/SIM7600/A76xx: no EGMR, CTTS, 120 s send.
const vendor_profile& simcom_lte_vendor();

// 15 digits with a valid Luhn check digit.
bool is_valid_imei(std::string_view imei) noexcept;
// AT+EGMR=1,7,"<imei>" (write IMEI; MediaTek firmware). Takes effect after a
// modem restart.
std::optional<at_command> make_imei_change(std::string_view imei);
// AT+CTTS=2,"<text>" for ASCII text, AT+CTTS=1,"<UCS-2 hex>" otherwise.
// Text with quotes or control characters, or longer than 500 bytes, is refused.
std::optional<at_command> make_tts(std::string_view utf8_text);
// AT+CTTS=0: stop speaking.
at_command make_tts_stop();

}  // namespace otppi::modem
