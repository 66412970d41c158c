#include "otppi/modem/messaging/send_fsm.hpp"

#include <spdlog/spdlog.h>

#include "otppi/core/overloaded.hpp"
#include "otppi/modem/at_commands.hpp"

namespace otppi::modem::messaging {

using driver::op_step;
namespace ev = driver::op_events;

namespace {

send_error_kind kind_of(send_failure f) {
    switch (f) {
        case send_failure::retry_elsewhere:
            return send_error_kind::retry_elsewhere;
        case send_failure::permanent:
            return send_error_kind::permanent;
        case send_failure::take_modem_out:
            return send_error_kind::take_modem_out;
    }
    return send_error_kind::retry_elsewhere;
}

constexpr const char* queue_refused = "modem command queue refused the send";

}  // namespace

send_fsm::send_fsm(prepared_send p) : msg_(std::move(p)) { result_.parts = static_cast<int>(msg_.pdus.size()); }

send_fsm::~send_fsm() {
    for (auto& p : msg_.pdus) driver::wipe(p);
    if (plan_) driver::wipe(plan_->body);
}

op_step send_fsm::resume(driver::op_env& env, const driver::op_event& e) {
    return std::visit(core::overloaded{
                          [&](const ev::start&) { return start(env); },
                          [&](const ev::result& r) { return on_result(env, *r.value); },
                          [&](const ev::refused&) { return on_refused(env); },
                          [&](const ev::timer&) { return op_step::none(); },
                          [&](const ev::urc&) { return op_step::ignored(); },
                          [&](const ev::abort& a) { return on_abort(a); },
                      },
                      e);
}

op_step send_fsm::start(driver::op_env& env) {
    begun_ = true;
    started_ = env.now;
    if (env.identity.sms_mode == sms_format::text) return start_text(env);
    msg_.text.clear();
    if (msg_.pdus.size() > 1 && env.identity.cmms_supported) {
        // Keeps the radio link between parts; a refusal changes nothing.
        wait_ = wait::cmms;
        return op_step::submit(make_command("AT+CMMS=2", env.opts.command_timeout));
    }
    return send_next(env);
}

op_step send_fsm::send_next(driver::op_env& env) {
    auto cmd = make_send_pdu(msg_.pdus[next_], env.opts.send_timeout, env.opts.command_timeout);
    if (!cmd) return finish(send_error_kind::permanent, "part " + std::to_string(next_ + 1) + " could not be framed for AT+CMGS");
    wait_ = wait::part;
    return op_step::submit(std::move(*cmd));
}

std::optional<sent_record> send_fsm::accepted(driver::op_env& env, const at_result& r, std::size_t part_no, std::size_t parts) {
    auto mr = parse_cmgs(r.lines);
    ++result_.parts_accepted;
    result_.message_reference = mr.value_or(-1);
    if (!mr) {
        spdlog::warn("modem {}: part {}/{} accepted without a +CMGS reference", env.modem_id, part_no, parts);
        return std::nullopt;
    }
    sent_record rec;
    rec.modem_id = std::string(env.modem_id);
    rec.message_reference = *mr;
    rec.recipient = msg_.destination;
    rec.part = static_cast<int>(part_no);
    rec.parts = static_cast<int>(parts);
    rec.sent_unix = env.unix_now;
    return rec;
}

op_step send_fsm::on_result(driver::op_env& env, const at_result& r) {
    switch (wait_) {
        case wait::cmms:
            return send_next(env);
        case wait::part: {
            const std::string part = std::to_string(next_ + 1) + "/" + std::to_string(msg_.pdus.size());
            if (r.ok()) {
                op_step step;
                if (auto rec = accepted(env, r, next_ + 1, msg_.pdus.size())) step.actions.emplace_back(driver::op_actions::record_sent{std::move(*rec)});
                driver::wipe(msg_.pdus[next_]);
                op_step rest = ++next_ < msg_.pdus.size() ? send_next(env) : finish(send_error_kind::none, {});
                for (auto& a : rest.actions) step.actions.push_back(std::move(a));
                return step;
            }
            if (r.status == at_status::timeout && r.data_sent) result_.maybe_sent = true;
            auto f = classify_send_failure(r).value_or(send_failure::retry_elsewhere);
            return finish(kind_of(f), "part " + part + ": " + describe(r) + (result_.maybe_sent ? " (the modem may have sent it)" : ""));
        }
        case wait::charset:
            if (!r.ok()) {
                env.link.charset.reset();
                return end_text(env, send_error_kind::retry_elsewhere,
                                "text mode: the modem refused AT+CSCS=\"" + std::string(to_string(pending_charset_)) + "\": " + describe(r));
            }
            env.link.charset = pending_charset_;
            return set_parameters(env);
        case wait::parameters:
            if (!r.ok()) {
                env.link.csmp.clear();
                return end_text(env, send_error_kind::retry_elsewhere, "text mode: the modem refused AT+CSMP: " + describe(r));
            }
            env.link.csmp = pending_csmp_;
            return send_text(env);
        case wait::text_part: {
            driver::wipe(plan_->body);
            if (r.ok()) {
                op_step step;
                if (auto rec = accepted(env, r, 1, 1)) step.actions.emplace_back(driver::op_actions::record_sent{std::move(*rec)});
                op_step rest = end_text(env, send_error_kind::none, {});
                for (auto& a : rest.actions) step.actions.push_back(std::move(a));
                return step;
            }
            if (r.status == at_status::timeout && r.data_sent) result_.maybe_sent = true;
            auto f = classify_send_failure(r).value_or(send_failure::retry_elsewhere);
            return end_text(env, kind_of(f), "text mode: " + describe(r) + (result_.maybe_sent ? " (the modem may have sent it)" : ""));
        }
        case wait::charset_back:
            if (r.ok()) {
                env.link.charset = text_charset::gsm;
            } else {
                env.link.charset.reset();  // the send's outcome stands; the next read or send sets it again
                spdlog::warn("modem {}: could not set AT+CSCS=\"GSM\" back: {}", env.modem_id, describe(r));
            }
            return finish(end_kind_, std::move(end_error_));
        case wait::nothing:
        case wait::finished:
            return op_step::none();
    }
    return op_step::none();
}

op_step send_fsm::on_refused(driver::op_env& env) {
    switch (wait_) {
        case wait::cmms:
        case wait::part:
        case wait::charset:
            return finish(send_error_kind::retry_elsewhere, queue_refused);
        case wait::parameters:
        case wait::text_part:
            return end_text(env, send_error_kind::retry_elsewhere, queue_refused);
        case wait::charset_back:
            return finish(end_kind_, std::move(end_error_));
        case wait::nothing:
        case wait::finished:
            return op_step::none();
    }
    return op_step::none();
}

// ---- text mode: [AT+CSCS] [AT+CSMP] AT+CMGS="<da>",<toda> <text>^Z [AT+CSCS="GSM"]

op_step send_fsm::start_text(driver::op_env& env) {
    result_.parts = 1;
    plan_ = plan_text_send(msg_.text.view(), env.identity.ucs2_charset);
    msg_.text.clear();
    if (!plan_->ok()) {
        // Bad UTF-8 is the caller's; the rest is this modem's limit: a PDU-mode
        // modem of the pool can send it.
        return finish(plan_->error == text_plan_error::invalid_utf8 ? send_error_kind::permanent : send_error_kind::retry_elsewhere,
                      plan_->error_text);
    }
    if (env.link.charset == plan_->charset) return set_parameters(env);
    pending_charset_ = plan_->charset;
    wait_ = wait::charset;
    return op_step::submit(make_cscs(pending_charset_, env.opts.command_timeout));
}

op_step send_fsm::set_parameters(driver::op_env& env) {
    auto cmd = make_csmp(msg_.status_report, msg_.validity, plan_->charset, env.opts.command_timeout);
    if (cmd.text == env.link.csmp) return send_text(env);
    pending_csmp_ = cmd.text;
    wait_ = wait::parameters;
    return op_step::submit(std::move(cmd));
}

op_step send_fsm::send_text(driver::op_env& env) {
    auto cmd = make_send_text(msg_.destination, msg_.international, *plan_, env.opts.send_timeout, env.opts.command_timeout);
    if (!cmd) return end_text(env, send_error_kind::permanent, "the message could not be framed for AT+CMGS in text mode");
    wait_ = wait::text_part;
    return op_step::submit(std::move(*cmd));
}

// USSD and the reads expect the GSM set back after a UCS2 send.
op_step send_fsm::end_text(driver::op_env& env, send_error_kind kind, std::string error) {
    if (plan_) driver::wipe(plan_->body);
    if (env.link.charset == text_charset::gsm) return finish(kind, std::move(error));
    end_kind_ = kind;
    end_error_ = std::move(error);
    wait_ = wait::charset_back;
    return op_step::submit(make_cscs(text_charset::gsm, env.opts.command_timeout));
}

op_step send_fsm::finish(send_error_kind kind, std::string error) {
    wait_ = wait::finished;
    result_.ok = kind == send_error_kind::none;
    result_.kind = kind;
    result_.error = std::move(error);
    return op_step::finished();
}

op_step send_fsm::on_abort(const ev::abort& a) {
    // The part the modem is working on may go out: never resent elsewhere.
    const bool in_flight = wait_ == wait::part || wait_ == wait::text_part;
    wait_ = wait::finished;
    result_.ok = false;
    result_.kind = a.kind;
    result_.error = a.why;
    if (in_flight) {
        result_.maybe_sent = true;
        result_.error += " while sending part " + std::to_string(result_.parts_accepted + 1) + " (the modem may have sent it)";
    }
    return op_step::finished();
}

}  // namespace otppi::modem::messaging
