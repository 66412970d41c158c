// USSD: requests and replies run as ussd_fsm (ussd/ussd_fsm.hpp); a +CUSD
// that no request waits for only updates whether a session is open.
#include <spdlog/spdlog.h>

#include "../driver/modem_impl.hpp"
#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/ussd/ussd_fsm.hpp"

namespace otppi::modem {

struct modem::impl::ussd_operation final : modem::impl::operation {
    ussd::ussd_fsm fsm;
    std::function<void(ussd_result)> done;
    bool answered = false;

    ussd_operation(std::string code, std::function<void(ussd_result)> d) : fsm(std::move(code)), done(std::move(d)) {}

    std::string_view name() const override { return "ussd"; }
    bool abort_on_stop() const override { return true; }
    driver::op_step resume(driver::op_env& env, const driver::op_event& ev) override { return fsm.resume(env, ev); }

    void answer(modem::impl& m, bool aborted) override {
        if (answered) return;
        answered = true;
        const ussd_result& r = fsm.result();
        if (auto open = fsm.session_open()) m.ussd_session_ = *open;
        if (!aborted && !r.ok && m.counters_.last_error != r.error) m.counters_.last_error = r.error;
        m.post_user([done = std::move(done), r] { done(r); });
    }
};

void modem::impl::register_ussd_urcs() {
    add_urc_handler(urc_kind::ussd, [](impl& m, const unsolicited& u) {
        if (auto r = parse_cusd(u.line)) {
            m.ussd_session_ = r->status == 1;
            spdlog::debug("modem {}: USSD answer with no request waiting (status {})", m.id(), r->status);
        }
        return true;
    });
}

void modem::ussd(const std::string& code, std::function<void(ussd_result)> done) {
    impl_->enqueue(std::make_unique<impl::ussd_operation>(code, std::move(done)));
}

void modem::ussd_reply(const std::string& text, std::function<void(ussd_result)> done) {
    auto op = std::make_unique<impl::ussd_operation>(text, std::move(done));
    if (!impl_->ussd_session_) {
        impl_->abort_op(*op, "no USSD session is waiting for a reply", send_error_kind::permanent);
        return;
    }
    impl_->enqueue(std::move(op));
}

void modem::ussd_cancel(std::function<void()> done) {
    auto& m = *impl_;
    // A request still waiting for its answer ends here.
    if (m.op_ && m.op_->name() == "ussd") {
        m.abort_op(*m.op_, "USSD cancelled", send_error_kind::none);
        m.complete_op();
    }
    m.ussd_session_ = false;
    auto cb = std::make_shared<std::function<void()>>(std::move(done));
    bool sent = m.channel_.is_open() && m.submit(make_ussd_cancel(), [cb](impl& self, const at_result&) {
        if (*cb) self.post_user(std::move(*cb));
    });
    if (!sent && *cb) m.post_user(std::move(*cb));
}

}  // namespace otppi::modem
