// Voice: a call that reads a one-time password out. Only some vendors can
// (vendor_profile::voice, e.g. vendors/simcom_voice.cpp with AT+CTTS); the
// generic driver checks the number and asks the profile for the machine.
#include "../driver/answer_operation.hpp"
#include "otppi/modem/vendors/extensions.hpp"

namespace otppi::modem {

void modem::voice_otp(const std::string& destination, core::secure_string spoken_text,
                      std::function<void(bool ok, std::string error)> done) {
    auto& m = *impl_;
    auto digits = driver::destination_digits(destination);
    if (!digits) return m.answer_now(std::move(done), "invalid destination: 3 to 20 digits expected");
    // Before bring-up the vendor is not known yet: the queue says "not ready".
    if (auto why = m.cannot_run(); why && m.state_ != modem_state::ready) return m.answer_now(std::move(done), *why);
    if (!m.vendor_->voice)
        return m.answer_now(std::move(done), "voice OTP needs text-to-speech, which this modem does not have (" +
                                                 std::string(m.vendor_->name) + " profile; AT+CTTS is on SIMCom modules)");
    std::string number = (driver::looks_international(*digits) ? "+" : "") + *digits;
    m.enqueue(std::make_unique<impl::answer_operation>("voice", m.vendor_->voice->make(std::move(number), std::move(spoken_text)),
                                                       std::move(done)));
}

}  // namespace otppi::modem
