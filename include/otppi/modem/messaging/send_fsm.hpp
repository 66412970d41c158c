// Sending one SMS, as a sans-io machine (driver/operation.hpp).
//
// PDU mode: [AT+CMMS=2 when there are several parts and the modem has it]
// then AT+CMGS=<len> + PDU per part, strictly in order.
// Text mode (identity().sms_mode == text): [AT+CSCS] [AT+CSMP]
// AT+CMGS="<da>",<toda> + text, then AT+CSCS="GSM" back when it was changed;
// one part only, and a text the modem cannot take is answered
// retry_elsewhere before anything is sent.
//
// Contract
// - Each accepted part yields record_sent (for delivery reports) before the
//   next part is submitted; a failure part-way reports parts_accepted.
// - A part whose data had been written when it timed out, or that was in
//   flight when the operation was aborted, sets maybe_sent: the pool must not
//   resend the message elsewhere.
// - The message text and PDUs are wiped as soon as the modem has them, and
//   when the machine is destroyed; error texts never contain them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "otppi/modem/driver/operation.hpp"
#include "otppi/modem/text_mode.hpp"
#include "otppi/core/secure_string.hpp"

namespace otppi::modem::messaging {

// A send as the facade prepared it: the PDUs for PDU mode and the text for
// text mode (which mode applies is known only when the operation starts).
struct prepared_send {
    std::string destination;  // international or national digits, no '+'
    std::vector<std::string> pdus;
    core::secure_string text;
    bool international = true;
    bool status_report = true;
    std::uint8_t validity = 167;  // TP-VP relative
};

class send_fsm {
public:
    explicit send_fsm(prepared_send p);
    ~send_fsm();
    send_fsm(const send_fsm&) = delete;
    send_fsm& operator=(const send_fsm&) = delete;

    driver::op_step resume(driver::op_env& env, const driver::op_event& ev);

    const sms_send_result& result() const noexcept { return result_; }
    const std::string& destination() const noexcept { return msg_.destination; }
    // Reached the modem: a refusal before that is no failed send of this modem.
    bool begun() const noexcept { return begun_; }
    core::Clock::time_point started() const noexcept { return started_; }

private:
    enum class wait : std::uint8_t { nothing, cmms, part, charset, parameters, text_part, charset_back, finished };

    driver::op_step start(driver::op_env& env);
    driver::op_step on_result(driver::op_env& env, const at_result& r);
    driver::op_step on_refused(driver::op_env& env);
    driver::op_step on_abort(const driver::op_events::abort& a);

    driver::op_step send_next(driver::op_env& env);
    driver::op_step start_text(driver::op_env& env);
    driver::op_step set_parameters(driver::op_env& env);
    driver::op_step send_text(driver::op_env& env);
    driver::op_step end_text(driver::op_env& env, send_error_kind kind, std::string error);
    driver::op_step finish(send_error_kind kind, std::string error);
    std::optional<sent_record> accepted(driver::op_env& env, const at_result& r, std::size_t part_no, std::size_t parts);

    prepared_send msg_;
    sms_send_result result_;
    std::size_t next_ = 0;
    wait wait_ = wait::nothing;
    bool begun_ = false;
    core::Clock::time_point started_{};
    std::optional<text_send_plan> plan_;
    text_charset pending_charset_ = text_charset::gsm;  // asked with AT+CSCS, not yet confirmed
    std::string pending_csmp_;
    // The outcome waiting for the AT+CSCS="GSM" that ends a text-mode send.
    send_error_kind end_kind_ = send_error_kind::none;
    std::string end_error_;
};

}  // namespace otppi::modem::messaging
