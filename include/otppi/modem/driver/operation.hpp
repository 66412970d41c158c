// The vocabulary of a modem operation as a sans-io state machine (the
// at_engine and bring-up style, and Boost.Redis's exec_fsm): the driver feeds
// events to resume(), the machine answers with actions, and only the driver's
// executor (src/modem/driver/executor.cpp) touches the port and the timers.
//
// Contract
// - resume(env, event) -> op_step. The actions are carried out in order:
//   submit (an AT command whose result comes back as a `result` event, or a
//   `refused` event when the port's queue would not take it), arm_timer (the
//   operation's one timer; arming again replaces the deadline; it comes back
//   as a `timer` event), record_sent (a part the modem accepted, for delivery
//   reports) and done (the outcome is ready: the executor answers the caller
//   and starts the next operation). Nothing after done is carried out.
// - A machine receives `start` once, then only answers to what it asked for,
//   URCs (it says whether it took one: `handled`), and possibly `abort` (the
//   port went away, the modem stops): after abort it must have an outcome.
// - A detached submit's answer is not fed back (a best-effort cleanup such as
//   the USSD cancel after a timeout).
// - Time comes in op_env::now (the driver's core::Clock), never from a clock
//   of the machine's own, so tests step it with ManualClock.
//
// Thread-safety: none; a machine belongs to the operation that owns it.
#pragma once

#include <openssl/crypto.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "otppi/core/clock.hpp"
#include "otppi/modem/at_engine.hpp"
#include "otppi/modem/modem.hpp"
#include "otppi/modem/reports.hpp"
#include "otppi/modem/text_mode.hpp"
#include "otppi/modem/vendors/generic.hpp"

namespace otppi::modem::driver {

// What the driver knows of the modem's text-mode settings (AT+CSCS and the
// AT+CSMP line). Shared between the operations and the incoming-SMS reads,
// which switch the character set too; nullopt / empty: unknown, set again.
struct text_link {
    std::optional<text_charset> charset;
    std::string csmp;
};

// What a machine may read of the modem it runs on, for one event.
struct op_env {
    const modem_options& opts;
    const modem_identity& identity;
    const vendor_profile& vendor;
    text_link& link;
    std::string_view modem_id;
    core::Clock::time_point now{};
    std::int64_t unix_now = 0;
};

namespace op_events {
struct start {};
struct result {
    const at_result* value = nullptr;
};
struct refused {};  // the port's command queue was full or the port is closed
struct timer {};
struct urc {
    const unsolicited* value = nullptr;
};
struct abort {
    std::string why;
    send_error_kind kind = send_error_kind::retry_elsewhere;
};
}  // namespace op_events
using op_event = std::variant<op_events::start, op_events::result, op_events::refused, op_events::timer, op_events::urc, op_events::abort>;

namespace op_actions {
struct submit {
    at_command command;
    bool detached = false;
};
struct arm_timer {
    std::chrono::milliseconds after{};
};
struct record_sent {
    sent_record record;
};
struct done {};
}  // namespace op_actions
using op_action = std::variant<op_actions::submit, op_actions::arm_timer, op_actions::record_sent, op_actions::done>;

struct op_step {
    std::vector<op_action> actions;
    bool handled = true;  // a URC: false when it was not this operation's

    static op_step none() { return {}; }
    static op_step ignored() { return {{}, false}; }
    static op_step finished() { return {{op_actions::done{}}, true}; }
    static op_step submit(at_command c) { return {{op_actions::submit{std::move(c)}}, true}; }
    static op_step arm(std::chrono::milliseconds after) { return {{op_actions::arm_timer{after}}, true}; }
};

// The outcome of an operation answered as (ok, error): SIM lock, IMEI
// change, voice OTP. `imei`: the modem reported a new IMEI on the way.
struct op_answer {
    bool ok = false;
    std::string error;  // human text; never a PIN, a number in clear or spoken text
    std::optional<std::string> imei;
};

// A machine with that outcome, type-erased so that vendors can supply one
// (vendors/extensions.hpp) without the driver knowing its type.
class answer_machine {
public:
    virtual ~answer_machine() = default;
    virtual op_step resume(op_env& env, const op_event& ev) = 0;
    virtual const op_answer& answer() const = 0;
};

// Overwrites a string that held a secret (a message body, a PDU, a PIN)
// before it is freed. The one copy of this helper in the modem layer.
inline void wipe(std::string& s) noexcept {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

}  // namespace otppi::modem::driver
