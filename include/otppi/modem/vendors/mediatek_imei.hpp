// Writing the IMEI on MediaTek-based modules (AT+EGMR=1,7,"<imei>"), as a
// sans-io machine answered as (ok, error): the write, then AT+CGSN to read
// back (some firmwares report the new IMEI at once; most only after a
// restart). The read-back is best effort: its failure does not fail the write.
#pragma once

#include <string>

#include "otppi/modem/driver/operation.hpp"

namespace otppi::modem::vendors {

class mediatek_imei_fsm final : public driver::answer_machine {
public:
    explicit mediatek_imei_fsm(std::string imei) : imei_(std::move(imei)) {}

    driver::op_step resume(driver::op_env& env, const driver::op_event& ev) override;
    const driver::op_answer& answer() const override { return answer_; }

private:
    enum class wait : std::uint8_t { nothing, write, read_back, finished };
    driver::op_step finish(bool ok, std::string error);

    std::string imei_;
    driver::op_answer answer_;
    wait wait_ = wait::nothing;
};

}  // namespace otppi::modem::vendors
