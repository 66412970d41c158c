// Operations answered as (ok, error) - SIM lock (sim/), IMEI change
// (identity/, the machine from the vendor) and voice OTP (voice/, likewise):
// one adapter between such a machine and the executor.
#include "../driver/answer_operation.hpp"

namespace otppi::modem {

modem::impl::answer_operation::answer_operation(std::string_view name, std::unique_ptr<driver::answer_machine> machine,
                                                std::function<void(bool, std::string)> done)
    : name_(name), machine_(std::move(machine)), done_(std::move(done)) {}

void modem::impl::answer_operation::answer(impl& m, bool) {
    if (answered_) return;
    answered_ = true;
    const driver::op_answer& a = machine_->answer();
    if (a.imei && *a.imei != m.identity_.imei) {
        m.identity_.imei = *a.imei;
        m.emit(modem_event{modem_event::kind::identity_updated, m.state_, "imei", std::nullopt, std::nullopt});
    }
    m.post_user([done = std::move(done_), ok = a.ok, error = a.error] { done(ok, error); });
}

void modem::impl::answer_now(std::function<void(bool, std::string)> done, std::string error) {
    post_user([done = std::move(done), error = std::move(error)] { done(false, error); });
}

}  // namespace otppi::modem
