// Messaging, outgoing side: modem::send_sms prepares the message (digits,
// PDUs) and queues the send machine (messaging/send_fsm.hpp); this file also
// counts and logs the outcome and answers the caller.
#include <spdlog/spdlog.h>

#include "../driver/modem_impl.hpp"
#include "otppi/modem/messaging/send_fsm.hpp"
#include "otppi/modem/pdu.hpp"

namespace otppi::modem {

struct modem::impl::send_operation final : modem::impl::operation {
    messaging::send_fsm fsm;
    std::function<void(sms_send_result)> done;
    bool answered = false;

    send_operation(messaging::prepared_send p, std::function<void(sms_send_result)> d) : fsm(std::move(p)), done(std::move(d)) {}

    std::string_view name() const override { return "send"; }
    driver::op_step resume(driver::op_env& env, const driver::op_event& ev) override { return fsm.resume(env, ev); }

    void answer(modem::impl& m, bool aborted) override {
        if (answered) return;
        answered = true;
        const sms_send_result& result = fsm.result();
        if (aborted) {
            // Ended from outside: counted only when it had reached the modem.
            if (fsm.begun()) {
                ++m.counters_.failed;
                m.counters_.parts += static_cast<std::uint64_t>(result.parts_accepted);
                m.counters_.last_error = result.error;
            }
        } else {
            const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(m.clock_.now() - fsm.started()).count();
            if (result.ok) {
                ++m.counters_.sent;
                spdlog::info("modem {}: SMS to {} sent, {} part{}, MR {}, {} ms", m.id(), driver::masked(fsm.destination()), result.parts,
                             result.parts == 1 ? "" : "s", result.message_reference, took);
            } else {
                ++m.counters_.failed;
                m.counters_.last_error = result.error;
                spdlog::warn("modem {}: SMS to {} failed after {}/{} part(s) ({}): {}", m.id(), driver::masked(fsm.destination()),
                             result.parts_accepted, result.parts, to_string(result.kind), result.error);
            }
            m.counters_.parts += static_cast<std::uint64_t>(result.parts_accepted);
        }
        m.post_user([done = std::move(done), r = result] { done(r); });
    }

    void after(modem::impl& m) override {
        const sms_send_result& result = fsm.result();
        if (result.kind == send_error_kind::take_modem_out && m.state_ == modem_state::ready)
            m.enter_failed(modem::impl::failure_class::recheck, "SIM error while sending: " + result.error);
    }
};

void modem::send_sms(sms_send_request req, std::function<void(sms_send_result)> done) {
    auto& m = *impl_;
    auto refuse = [&](std::string why) {
        auto op = std::make_unique<impl::send_operation>(messaging::prepared_send{}, std::move(done));
        m.abort_op(*op, why, send_error_kind::permanent);
    };
    auto digits = driver::destination_digits(req.destination);
    if (!digits) return refuse("invalid destination: 3 to 20 digits expected");
    submit_options so;
    so.destination = *digits;
    so.destination_international = driver::looks_international(*digits);
    so.request_status_report = req.status_report;
    if (req.validity) so.validity_relative = validity_for(*req.validity);
    so.concat_ref = m.next_concat_ref_;
    auto enc = encode_submit(req.text.view(), so);
    if (!enc.ok()) return refuse("cannot encode the message: " + enc.error);
    if (enc.pdus.size() > 1) ++m.next_concat_ref_;
    messaging::prepared_send p;
    p.destination = *digits;
    // Kept for text mode, which the machine checks when it starts (the mode
    // is the one of the bring-up it runs under).
    p.international = so.destination_international;
    p.status_report = so.request_status_report;
    p.validity = so.validity_relative.value_or(167);
    p.text = std::move(req.text);
    for (auto& part : enc.pdus) p.pdus.push_back(std::move(part.hex));
    m.enqueue(std::make_unique<impl::send_operation>(std::move(p), std::move(done)));
}

}  // namespace otppi::modem
