// What the API needs from the modem side: send one SMS, list modems, run USSD.
// Implemented by the modem pool; a "no modem" implementation answers when no
// modem is configured. Callbacks are invoked exactly once, on the io_context
// thread, never from inside the call itself (so callers may hold state freely).
#pragma once

#include <cstdint>
#include <functional>
#include "otppi/core/secure_string.hpp"

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

namespace otppi::api {

struct outgoing_sms {
    std::string receiver;           // normalised international digits
    core::secure_string text;        // UTF-8; may hold an OTP: wiped on destruction, never logged
    std::int64_t expires_unix = 0;  // 0 = no expiry; past expiry it is dropped, never sent late
    bool is_otp = false;
    bool voice = false;             // read the text out in a call instead (voice OTP)
    std::string modem_id;           // empty: route by prefix; else send on this modem (manual SMS)
    std::string client_id;          // data.id, for logs and idempotency
};

enum class send_status {
    sent,          // the modem accepted it (+CMGS)
    failed,        // no modem could send it; final
    expired,       // dropped because its expiration passed before a modem was free
    queue_full,    // not accepted: every eligible queue is full
    no_modem,      // no active modem can take API traffic
    not_supported  // e.g. voice on a modem without text-to-speech
};

struct send_result {
    send_status status = send_status::failed;
    std::string modem_id;
    int message_reference = -1;  // TP-MR of the last part
    int parts = 0;
    std::string error;  // human-readable, no message text
};

struct ussd_result {
    bool ok = false;
    std::string text;        // decoded UTF-8 answer
    std::string raw;         // as the modem sent it
    bool replyable = false;  // network waits for an answer (+CUSD: 1)
    std::string error;
    bool unknown_modem = false;
};

class sms_gateway {
public:
    virtual ~sms_gateway() = default;
    virtual void send(outgoing_sms msg, std::function<void(send_result)> done) = 0;
    virtual void ussd(const std::string& modem_id, const std::string& code, std::function<void(ussd_result)> done) = 0;
    // OTP-Pi's get-modem-list shape: {id: {id, name, port, imei, ...}}.
    virtual nlohmann::json modem_list() const = 0;
};

}  // namespace otppi::api
