#include "otppi/modem/vendors/simcom_voice.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "otppi/core/log.hpp"
#include "otppi/core/overloaded.hpp"
#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/vendors/extensions.hpp"
#include "otppi/modem/vendors/simcom.hpp"

namespace otppi::modem {

namespace vendors {

using driver::op_step;
using std::chrono::milliseconds;
namespace ev = driver::op_events;
using namespace std::chrono_literals;

namespace {
std::string masked(std::string_view number) {
    if (!number.empty() && number.front() == '+') number.remove_prefix(1);
    return core::mask_msisdn(number);
}
}  // namespace

milliseconds simcom_voice_fsm::since_dial(const driver::op_env& env) const {
    return std::chrono::duration_cast<milliseconds>(env.now - dialed_at_);
}

op_step simcom_voice_fsm::submit(at_command c, cmd kind) {
    outstanding_.push_back(kind);
    return op_step::submit(std::move(c));
}

op_step simcom_voice_fsm::resume(driver::op_env& env, const driver::op_event& e) {
    if (ph_ == phase::finished) return std::holds_alternative<ev::urc>(e) ? op_step::ignored() : op_step::none();
    return std::visit(core::overloaded{
                          [&](const ev::start&) {
                              at_command atd = make_command("ATD" + number_ + ";", env.opts.command_timeout);
                              // The dialled number is personal data: only its masked form is logged.
                              atd.sensitive = true;
                              ph_ = phase::dialing;
                              return submit(std::move(atd), cmd::dial);
                          },
                          [&](const ev::result& r) {
                              if (outstanding_.empty()) return op_step::none();
                              const cmd kind = outstanding_.front();
                              outstanding_.pop_front();
                              return on_result(env, kind, *r.value);
                          },
                          [&](const ev::refused&) {
                              // A refusal answers the command just submitted.
                              if (outstanding_.empty()) return op_step::none();
                              const cmd kind = outstanding_.back();
                              outstanding_.pop_back();
                              if (kind == cmd::hangup) return finish(&env, hangup_ok_, std::move(hangup_error_));
                              return on_refused(env, kind);
                          },
                          [&](const ev::timer&) {
                              switch (ph_) {
                                  case phase::connecting:
                                      return poll(env);
                                  case phase::speaking:  // no "+CTTS: 0" from this firmware: the estimate has passed
                                  case phase::settling:
                                      return hang_up(env, true, {});
                                  default:
                                      return op_step::none();
                              }
                          },
                          [&](const ev::urc& u) { return on_urc(env, *u.value); },
                          [&](const ev::abort& a) { return finish(nullptr, false, a.why); },
                      },
                      e);
}

op_step simcom_voice_fsm::on_refused(driver::op_env& env, cmd kind) {
    // Nothing was dialled: nothing to hang up.
    if (kind == cmd::dial) return finish(&env, false, "modem command queue refused the call");
    return hang_up(env, false, "modem command queue refused a command");
}

op_step simcom_voice_fsm::on_result(driver::op_env& env, cmd kind, const at_result& r) {
    switch (kind) {
        case cmd::dial:
            if (!r.ok()) return hang_up(env, false, "call failed: " + describe(r));
            ph_ = phase::connecting;
            dialed_at_ = env.now;
            return op_step::arm(std::min(env.opts.voice_poll_interval, env.opts.voice_connect_delay));
        case cmd::clcc: {
            if (ph_ != phase::connecting) return op_step::none();
            if (!r.ok()) {
                clcc_works_ = false;
                return poll(env);
            }
            const auto stat = outgoing_call_state(r.lines);
            if (stat && *stat == 0) return speak(env);
            if (stat) {
                call_seen_ = true;  // dialling / alerting
            } else if (call_seen_) {
                return hang_up(env, false, "call ended before it was answered");
            } else if (since_dial(env) >= env.opts.voice_connect_delay) {
                // No call listed at all: this modem does not report calls.
                return speak(env);
            }
            return op_step::arm(env.opts.voice_poll_interval);
        }
        case cmd::tts:
            if (ph_ != phase::speaking) return op_step::none();
            if (!r.ok()) return hang_up(env, false, "text-to-speech refused: " + describe(r));
            return op_step::arm(speak_estimate_);
        case cmd::hangup:
            if (!r.ok()) spdlog::warn("modem {}: ATH failed: {}", env.modem_id, describe(r));
            return finish(&env, hangup_ok_, std::move(hangup_error_));
    }
    return op_step::none();
}

op_step simcom_voice_fsm::poll(driver::op_env& env) {
    const milliseconds elapsed = since_dial(env);
    if (elapsed >= env.opts.voice_answer_timeout) return hang_up(env, false, "no answer");
    if (!clcc_works_) {
        // The modem cannot say when the call is answered: give it the fixed delay.
        if (elapsed >= env.opts.voice_connect_delay) return speak(env);
        return op_step::arm(env.opts.voice_connect_delay - elapsed);
    }
    return submit(make_command("AT+CLCC", env.opts.command_timeout), cmd::clcc);
}

op_step simcom_voice_fsm::speak(driver::op_env& env) {
    ph_ = phase::speaking;
    auto c = make_tts(text_.view());
    if (!c) return hang_up(env, false, "the text cannot be spoken (quotes, control characters or over 500 bytes)");
    c->sensitive = true;  // the spoken OTP
    c->timeout = std::max(c->timeout, env.opts.command_timeout);
    // Roughly 80 ms per character of speech, plus slack; "+CTTS: 0" ends it sooner.
    speak_estimate_ = std::min(env.opts.voice_speak_timeout, milliseconds(80 * static_cast<long>(text_.size())) + 5s);
    return submit(std::move(*c), cmd::tts);
}

op_step simcom_voice_fsm::on_urc(driver::op_env& env, const unsolicited& u) {
    const auto line = detail::trim(u.line);
    if (u.kind == urc_kind::call_ended) {
        if (ph_ == phase::connecting || ph_ == phase::dialing) return hang_up(env, false, "call not answered (" + std::string(line) + ")");
        if (ph_ == phase::speaking) return hang_up(env, false, "the callee hung up during the readout");
        if (ph_ == phase::settling) return hang_up(env, true, {});
        return op_step::none();
    }
    if (ph_ == phase::connecting && (detail::istarts_with(line, "+COLP") || detail::iequals(line, "MO CONNECTED") ||
                                     detail::iequals(line, "CONNECT") || detail::istarts_with(line, "CONNECT ")))
        return speak(env);
    if (ph_ == phase::connecting && detail::iequals(line, "MO RING")) {
        call_seen_ = true;
        return op_step::none();
    }
    if (u.kind == urc_kind::tts && ph_ == phase::speaking) {
        auto f = detail::split_fields(detail::after_colon(line));
        if (!f.empty() && detail::parse_int(f[0].value) == 0) {
            // Done speaking; a short pause so the last digit is not cut off.
            ph_ = phase::settling;
            return op_step::arm(env.opts.voice_hangup_delay);
        }
        return op_step::none();
    }
    return op_step::ignored();
}

op_step simcom_voice_fsm::hang_up(driver::op_env& env, bool ok, std::string error) {
    ph_ = phase::hanging_up;
    hangup_ok_ = ok;
    hangup_error_ = std::move(error);
    return submit(make_command("ATH", env.opts.command_timeout), cmd::hangup);
}

op_step simcom_voice_fsm::finish(driver::op_env* env, bool ok, std::string error) {
    // Logged only for an end the machine reached itself; an abort is the driver's to tell.
    if (env) {
        if (ok)
            spdlog::info("modem {}: voice OTP to {} read out", env->modem_id, masked(number_));
        else
            spdlog::warn("modem {}: voice OTP to {} failed: {}", env->modem_id, masked(number_), error);
    }
    ph_ = phase::finished;
    answer_.ok = ok;
    answer_.error = std::move(error);
    // The readout holds the OTP: wiped once there is an outcome.
    text_.clear();
    return op_step::finished();
}

}  // namespace vendors

const voice_extension& simcom_voice() {
    static const voice_extension x{
        .how = "AT+CTTS",
        .make = [](std::string number, core::secure_string text) -> std::unique_ptr<driver::answer_machine> {
            return std::make_unique<vendors::simcom_voice_fsm>(std::move(number), std::move(text));
        },
    };
    return x;
}

}  // namespace otppi::modem
