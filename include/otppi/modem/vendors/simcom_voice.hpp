// Voice OTP on SIMCom modules, as a sans-io machine answered as (ok, error):
// ATD<number>; -> wait until the call is up -> AT+CTTS=2,"<text>" -> wait
// for "+CTTS: 0" -> a short pause -> ATH.
//
// Contract
// - Every phase has a deadline (modem_options voice_*), and once the call was
//   dialled it is always hung up, whatever happens.
// - "Answered" is learned from +COLP / MO CONNECTED / CONNECT, or by asking
//   AT+CLCC every voice_poll_interval; a modem that cannot tell (AT+CLCC
//   refused, or no call listed) is given voice_connect_delay after ATD.
// - The dialled number and the spoken text are sensitive: the commands carry
//   them marked so, logs show the number masked, and the text is wiped once
//   the machine has its outcome.
// - Several commands may be outstanding (an AT+CLCC when +COLP arrives and
//   AT+CTTS goes out): results are matched to their commands in order.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "otppi/modem/driver/operation.hpp"
#include "otppi/core/secure_string.hpp"

namespace otppi::modem::vendors {

class simcom_voice_fsm final : public driver::answer_machine {
public:
    enum class phase : std::uint8_t { idle, dialing, connecting, speaking, settling, hanging_up, finished };

    simcom_voice_fsm(std::string number, core::secure_string text) : number_(std::move(number)), text_(std::move(text)) {}

    driver::op_step resume(driver::op_env& env, const driver::op_event& ev) override;
    const driver::op_answer& answer() const override { return answer_; }
    phase current_phase() const noexcept { return ph_; }

private:
    enum class cmd : std::uint8_t { dial, clcc, tts, hangup };

    driver::op_step submit(at_command c, cmd kind);
    driver::op_step on_result(driver::op_env& env, cmd kind, const at_result& r);
    driver::op_step on_refused(driver::op_env& env, cmd kind);
    driver::op_step on_urc(driver::op_env& env, const unsolicited& u);
    driver::op_step poll(driver::op_env& env);
    driver::op_step speak(driver::op_env& env);
    driver::op_step hang_up(driver::op_env& env, bool ok, std::string error);
    driver::op_step finish(driver::op_env* env, bool ok, std::string error);
    std::chrono::milliseconds since_dial(const driver::op_env& env) const;

    std::string number_;
    core::secure_string text_;
    phase ph_ = phase::idle;
    std::deque<cmd> outstanding_;
    bool clcc_works_ = true;
    bool call_seen_ = false;
    core::Clock::time_point dialed_at_{};
    std::chrono::milliseconds speak_estimate_{};
    bool hangup_ok_ = false;
    std::string hangup_error_;
    driver::op_answer answer_;
};

}  // namespace otppi::modem::vendors
