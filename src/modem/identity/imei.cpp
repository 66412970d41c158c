// Identity: changing the IMEI. Only some vendors can (vendor_profile::
// imei_change, e.g. vendors/mediatek_imei.cpp); the generic driver asks the
// profile for the machine instead of knowing the command.
#include "../driver/answer_operation.hpp"
#include "otppi/modem/vendors/extensions.hpp"

namespace otppi::modem {

void modem::change_imei(const std::string& imei, std::function<void(bool ok, std::string error)> done) {
    auto& m = *impl_;
    // Before bring-up the vendor is not known yet: the queue says "not ready".
    if (auto why = m.cannot_run(); why && m.state_ != modem_state::ready) return m.answer_now(std::move(done), *why);
    if (!m.vendor_->imei_change)
        return m.answer_now(std::move(done), "IMEI change is not supported on this modem (" + std::string(m.vendor_->name) +
                                                 " profile; AT+EGMR exists on MediaTek-based modules such as SIMCom SIM800)");
    m.enqueue(std::make_unique<impl::answer_operation>("imei", m.vendor_->imei_change->make(imei), std::move(done)));
}

}  // namespace otppi::modem
