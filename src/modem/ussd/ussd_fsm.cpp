#include "otppi/modem/ussd/ussd_fsm.hpp"

#include "otppi/core/overloaded.hpp"
#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/pdu.hpp"

namespace otppi::modem::ussd {

using driver::op_step;
namespace ev = driver::op_events;

ussd_result ussd_answer(const ussd_response& p, bool packed_hex) {
    ussd_result r;
    r.status = p.status;
    r.raw = p.text.value_or("");
    r.dcs = p.dcs.value_or(-1);
    r.replyable = p.status == 1;
    if (p.text) {
        auto text = decode_ussd_text(r.raw, r.dcs >= 0 ? r.dcs : 15, packed_hex);
        r.text = text.value_or(r.raw);
    }
    switch (p.status) {
        case 0:
        case 1:
            r.ok = true;
            break;
        case 2:
            // Some networks close the session with their last text.
            r.ok = p.text.has_value();
            if (!r.ok) r.error = "USSD session ended by the network";
            break;
        case 4:
            r.error = "USSD operation not supported";
            break;
        case 5:
            r.error = "USSD network timeout";
            break;
        default:
            r.error = "USSD status " + std::to_string(p.status);
    }
    return r;
}

op_step ussd_fsm::fail(std::string why) {
    finished_ = true;
    result_ = ussd_result{};
    result_.error = std::move(why);
    return op_step::finished();
}

op_step ussd_fsm::resume(driver::op_env& env, const driver::op_event& e) {
    if (finished_) return std::holds_alternative<ev::urc>(e) ? op_step::ignored() : op_step::none();
    return std::visit(
        core::overloaded{
            [&](const ev::start&) {
                auto cmd = make_ussd(code_, 15);
                if (!cmd) return fail("invalid USSD string (digits, *, # and + only)");
                cmd->timeout = env.opts.command_timeout;
                // One deadline for the whole exchange: the OK, then the +CUSD answer.
                op_step step = op_step::arm(env.opts.ussd_timeout);
                step.actions.emplace_back(driver::op_actions::submit{std::move(*cmd)});
                return step;
            },
            [&](const ev::result& r) {
                if (r.value->ok()) return op_step::none();  // the answer comes as +CUSD
                return fail("USSD request refused: " + describe(*r.value));
            },
            [&](const ev::refused&) { return fail("modem command queue refused the request"); },
            [&](const ev::timer&) {
                // Close the dangling session so the next request is not refused.
                op_step step = fail("no USSD answer within " + std::to_string(env.opts.ussd_timeout.count()) + " ms");
                session_open_ = false;
                step.actions.insert(step.actions.begin(), driver::op_actions::submit{make_ussd_cancel(), true});
                return step;
            },
            [&](const ev::urc& u) {
                if (u.value->kind != urc_kind::ussd) return op_step::ignored();
                auto p = parse_cusd(u.value->line);
                if (!p) return op_step::none();  // ours, but unreadable: keep waiting
                finished_ = true;
                result_ = ussd_answer(*p, env.vendor.ussd_packed_hex);
                session_open_ = result_.replyable;
                return op_step::finished();
            },
            [&](const ev::abort& a) { return fail(a.why); },
        },
        e);
}

}  // namespace otppi::modem::ussd
