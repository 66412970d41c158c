// Turning the SIM's PIN lock on or off (AT+CLCK="SC",<0|1>,"<pin>"), as a
// sans-io machine (driver/operation.hpp) answered as (ok, error).
//
// Contract: a PIN that is not 4 to 8 digits is refused before anything is
// sent (a wrong PIN costs one of the SIM's attempts); the PIN is wiped when
// the machine is destroyed and never appears in an error text.
#pragma once

#include <string>

#include "otppi/modem/driver/operation.hpp"

namespace otppi::modem::sim {

class sim_lock_fsm final : public driver::answer_machine {
public:
    sim_lock_fsm(bool enable, std::string pin) : enable_(enable), pin_(std::move(pin)) {}
    ~sim_lock_fsm() override { driver::wipe(pin_); }
    sim_lock_fsm(const sim_lock_fsm&) = delete;
    sim_lock_fsm& operator=(const sim_lock_fsm&) = delete;

    driver::op_step resume(driver::op_env& env, const driver::op_event& ev) override;
    const driver::op_answer& answer() const override { return answer_; }

private:
    driver::op_step finish(bool ok, std::string error);

    bool enable_;
    std::string pin_;
    driver::op_answer answer_;
    bool finished_ = false;
};

}  // namespace otppi::modem::sim
