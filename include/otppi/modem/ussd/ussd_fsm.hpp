// One USSD request (or a reply within an open session), as a sans-io machine
// (driver/operation.hpp): AT+CUSD=1,"<code>",15, then the +CUSD answer, all
// under one deadline (modem_options::ussd_timeout). The OK of AT+CUSD only
// says the request left; the answer is the unsolicited +CUSD.
//
// Contract
// - Exactly one outcome: the network's answer (status 0/1, or 2 with text),
//   an error (refused, unsupported, network timeout, our deadline).
// - On our deadline the session is cancelled with a detached AT+CUSD=2 so
//   the next request is not refused, and session_open() says false.
// - session_open() is set only when the outcome says something about the
//   network session (an answer or our deadline); a refusal leaves it as is.
#pragma once

#include <optional>
#include <string>

#include "otppi/modem/driver/operation.hpp"

namespace otppi::modem::ussd {

class ussd_fsm {
public:
    explicit ussd_fsm(std::string code) : code_(std::move(code)) {}

    driver::op_step resume(driver::op_env& env, const driver::op_event& ev);

    const ussd_result& result() const noexcept { return result_; }
    std::optional<bool> session_open() const noexcept { return session_open_; }

private:
    driver::op_step fail(std::string why);

    std::string code_;
    ussd_result result_;
    std::optional<bool> session_open_;
    bool finished_ = false;
};

// The outcome of one +CUSD line: status, text decoded with the vendor's
// quirk (packed GSM 7-bit hex), and an error text for the statuses that are
// no answer. Pure; exposed for tests.
ussd_result ussd_answer(const ussd_response& p, bool packed_hex);

}  // namespace otppi::modem::ussd
