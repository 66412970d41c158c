// Response codes of the REST API. 0000, 1100-1102 and 1201-1203 are OTP-Pi's and keep their
// meaning so that existing clients work unchanged; the rest are ours, for
// outcomes OTP-Pi could not tell apart. docs/api.md is the reference.
#pragma once

#include <string_view>

namespace otppi::api {

enum class code {
    success,             // 0000
    unauthorized,        // 1100 (HTTP 401)
    send_failed,         // 1101 no modem could send the SMS (OTP-Pi: "no device connected")
    failed,              // 1102 generic failure
    duplicated,          // 1201 a live OTP already has this reference
    invalid_otp,         // 1202 wrong code (or receiver/params differ from creation)
    expired,             // 1203 OTP expired, already used, or unknown reference
    attempts_exhausted,  // 1204 too many wrong codes: this OTP is dead
    receiver_throttled,  // 1205 too many OTPs to this receiver in the window (HTTP 429)
    rate_limited,        // 1206 this API user sends too fast (HTTP 429)
    receiver_blocked,    // 1207 receiver is on the block list: nothing sent
    malformed_request,   // 1301 not JSON, wrong types, missing or invalid fields (HTTP 400)
    unknown_command,     // 1302 (HTTP 400)
    request_expired,     // 1303 data.expiration already passed: dropped, not sent
    queue_full,          // 1304 every eligible modem queue / the OTP store is full (HTTP 503)
    not_configured,      // 1305 channel not configured (email)
    method_not_allowed,  // 1306 (HTTP 405)
    not_found,           // 1307 no such API path (HTTP 404)
    pending,             // 1308 accepted and queued, but no modem answer within api.reply_wait_s
    unknown_modem,       // 1309 modem_id not configured
    not_supported,       // 1310 the modem cannot do this (e.g. voice without TTS)
    too_many_failures,   // 1311 too many failed logins from this address (HTTP 429)
};

std::string_view code_string(code c);
int http_status(code c);
std::string_view default_message(code c);

}  // namespace otppi::api
