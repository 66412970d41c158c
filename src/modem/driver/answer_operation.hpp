// See driver/answer_operation.cpp. Private to src/modem.
#pragma once

#include "../driver/modem_impl.hpp"

namespace otppi::modem {

struct modem::impl::answer_operation final : modem::impl::operation {
    answer_operation(std::string_view name, std::unique_ptr<driver::answer_machine> machine, std::function<void(bool, std::string)> done);

    std::string_view name() const override { return name_; }
    driver::op_step resume(driver::op_env& env, const driver::op_event& ev) override { return machine_->resume(env, ev); }
    void answer(impl& m, bool aborted) override;

private:
    std::string_view name_;
    std::unique_ptr<driver::answer_machine> machine_;
    std::function<void(bool, std::string)> done_;
    bool answered_ = false;
};

}  // namespace otppi::modem
