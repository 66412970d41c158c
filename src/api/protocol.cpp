#include "otppi/api/protocol.hpp"

namespace otppi::api {

std::string_view code_string(code c) {
    switch (c) {
    case code::success: return "0000";
    case code::unauthorized: return "1100";
    case code::send_failed: return "1101";
    case code::failed: return "1102";
    case code::duplicated: return "1201";
    case code::invalid_otp: return "1202";
    case code::expired: return "1203";
    case code::attempts_exhausted: return "1204";
    case code::receiver_throttled: return "1205";
    case code::rate_limited: return "1206";
    case code::receiver_blocked: return "1207";
    case code::malformed_request: return "1301";
    case code::unknown_command: return "1302";
    case code::request_expired: return "1303";
    case code::queue_full: return "1304";
    case code::not_configured: return "1305";
    case code::method_not_allowed: return "1306";
    case code::not_found: return "1307";
    case code::pending: return "1308";
    case code::unknown_modem: return "1309";
    case code::not_supported: return "1310";
    case code::too_many_failures: return "1311";
    }
    return "1102";
}

// OTP-Pi answered 200 for every outcome but auth and method; clients written
// for it look at response_code only. Outcomes of a well-formed request keep
// 200; protocol errors get the status an HTTP client expects.
int http_status(code c) {
    switch (c) {
    case code::unauthorized: return 401;
    case code::malformed_request:
    case code::unknown_command: return 400;
    case code::method_not_allowed: return 405;
    case code::not_found: return 404;
    case code::receiver_throttled:
    case code::rate_limited:
    case code::too_many_failures: return 429;
    case code::queue_full: return 503;
    case code::pending: return 202;
    default: return 200;
    }
}

std::string_view default_message(code c) {
    switch (c) {
    case code::success: return "success";
    case code::unauthorized: return "authentication required: HTTP Basic with an API user";
    case code::send_failed: return "the SMS could not be sent by any modem";
    case code::failed: return "the request failed";
    case code::duplicated: return "a live OTP already exists for this reference";
    case code::invalid_otp: return "invalid OTP";
    case code::expired: return "OTP expired, already used, or unknown reference";
    case code::attempts_exhausted: return "too many wrong codes: this OTP is no longer valid";
    case code::receiver_throttled: return "too many OTPs sent to this receiver recently";
    case code::rate_limited: return "rate limit of this API user exceeded";
    case code::receiver_blocked: return "receiver is blocked: nothing was sent";
    case code::malformed_request: return "malformed request";
    case code::unknown_command: return "unknown command";
    case code::request_expired: return "request expired before it could be sent: dropped";
    case code::queue_full: return "server busy: queue full, try again later";
    case code::not_configured: return "email channel not configured";
    case code::method_not_allowed: return "method not allowed: use POST or PUT";
    case code::not_found: return "no such API path";
    case code::pending: return "accepted and queued; no modem answer yet";
    case code::unknown_modem: return "no modem with this id";
    case code::not_supported: return "not supported by this modem";
    case code::too_many_failures: return "too many failed logins from this address: try again later";
    }
    return "error";
}

}  // namespace otppi::api
