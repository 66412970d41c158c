// The driver core: port lifecycle (open, bring-up, failure classes,
// reopen with backoff, stop), the periodic signal refresh and the routing
// of unsolicited codes. See driver/modem_impl.hpp.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <variant>

#include "../driver/modem_impl.hpp"
#include "otppi/core/overloaded.hpp"
#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/vendors/huawei.hpp"
#include "otppi/modem/vendors/quectel.hpp"
#include "otppi/modem/vendors/simcom.hpp"

namespace otppi::modem {

namespace net = boost::asio;
using core::overloaded;
using std::chrono::milliseconds;

namespace {

const vendor_profile* vendor_by_name(std::string_view name) {
    if (name == "simcom") return &simcom_vendor();
    if (name == "simcom_lte") return &simcom_lte_vendor();
    if (name == "huawei") return &huawei_vendor();
    if (name == "huawei_legacy") return &huawei_legacy_vendor();
    if (name == "quectel") return &quectel_vendor();
    if (name == "mediatek") return &mediatek_vendor();
    if (name == "generic") return &generic_vendor();
    return nullptr;  // "auto" or unknown: picked from +CGMI/+CGMM
}

bool is_pin_class(bringup_error e) {
    switch (e) {
        case bringup_error::sim_pin_required:
        case bringup_error::pin_rejected:
        case bringup_error::pin_locked_out:
        case bringup_error::invalid_pin_config:
        case bringup_error::sim_puk_required:
        case bringup_error::sim_locked:
            return true;
        default:
            return false;
    }
}

}  // namespace

void modem::impl::emit(modem_event ev) {
    net::post(ioc_, [w = weak_from_this(), ev = std::move(ev)] {
        auto self = w.lock();
        if (!self || self->shut_down_ || !self->listener_) return;
        auto l = self->listener_;  // the listener may replace itself
        l(ev);
    });
}

void modem::impl::set_state(modem_state s, std::string detail) {
    state_ = s;
    // `opening` lasts for one synchronous open() and is never observable
    // from outside; reporting it would make every failed retry two events.
    if (s == modem_state::opening || s == reported_) return;
    reported_ = s;
    spdlog::info("modem {}: {}{}{}", id(), to_string(s), detail.empty() ? "" : ": ", detail);
    emit(modem_event{modem_event::kind::state_changed, s, std::move(detail), std::nullopt, std::nullopt});
}

// Submits a command of this port session; `fn` runs only if the session
// is still the same when the answer comes.
bool modem::impl::submit(at_command cmd, std::function<void(impl&, const at_result&)> fn) {
    auto id = channel_.submit(std::move(cmd), [w = weak_from_this(), session = session_, fn = std::move(fn)](const at_result& r) {
        auto self = w.lock();
        if (!self || self->shut_down_ || self->session_ != session) return;
        if (r.status == at_status::timeout) ++self->counters_.timeouts;
        fn(*self, r);
    });
    return id.has_value();
}

void modem::impl::start() {
    if (started_ || shut_down_) return;
    started_ = true;
    stopping_ = false;
    backoff_ = opts_.reopen_interval;
    // start() never calls back: the first attempt runs from the loop.
    post_self([](impl& m) { m.try_open(); });
}

void modem::impl::try_open() {
    if (!started_ || stopping_ || channel_.is_open()) return;
    std::string err;
    auto settings = serial_settings_from(cfg_, &err);
    if (!settings) {
        enter_failed(failure_class::permanent, "invalid serial settings: " + err);
        return;
    }
    settings->exclusive = opts_.exclusive_port;
    state_ = modem_state::opening;
    auto e = channel_.open(*settings);
    if (!e.empty()) {
        // A missing modem would otherwise log every few seconds forever.
        if (!open_failure_logged_)
            spdlog::warn("modem {}: {}", id(), e);
        else
            spdlog::debug("modem {}: {}", id(), e);
        open_failure_logged_ = true;
        counters_.last_error = e;
        // Work queued for a port that is gone goes to another modem now.
        fail_all_ops("modem " + id() + " disconnected: " + e, send_error_kind::retry_elsewhere);
        set_state(modem_state::disconnected, e);
        schedule_reopen();
        return;
    }
    open_failure_logged_ = false;
    if (lost_since_ready_) ++counters_.reopens;
    ++session_;
    spdlog::debug("modem {}: opened {} at {} baud", id(), settings->path, settings->baud_rate);
    begin_bringup();
}

void modem::impl::schedule_reopen() {
    if (!started_ || stopping_) return;
    arm(reopen_timer_, backoff_, [](impl& m) { m.try_open(); });
    const milliseconds cap = std::max(opts_.reopen_max_interval, opts_.reopen_interval);
    backoff_ = std::min(backoff_ * 2, cap);
}

void modem::impl::begin_bringup() {
    wait_timer_.cancel();
    periodic_timer_.cancel();
    bringup_options bo;
    bo.vendor = vendor_by_name(cfg_.vendor);
    bo.query_own_number = opts_.query_own_number;
    bo.sim_ready_polls = std::max(1u, opts_.sim_ready_polls);
    bo.sim_poll_delay = opts_.sim_poll_delay;
    bo.sms_mode = sms_mode_from_config(cfg_.sms_mode);
    link_ = {};
    deferred_reads_.clear();
    bringup_.emplace(latch_, bo);
    ++bringup_gen_;
    set_state(modem_state::initializing);
    on_bringup(bringup_->start());
}

void modem::impl::on_bringup(bringup_action a) {
    std::visit(overloaded{
                   [this](bringup_actions::send& s) {
                       at_command cmd = std::move(s.command);
                       if (opts_.bringup_step_timeout) cmd.timeout = *opts_.bringup_step_timeout;
                       bool ok = submit(std::move(cmd), [gen = bringup_gen_](impl& m, const at_result& r) {
                           if (!m.bringup_ || m.bringup_gen_ != gen) return;
                           m.on_bringup(m.bringup_->on_result(r));
                       });
                       if (!ok) transient_failure("bring-up: the port refused a command");
                   },
                   [this](bringup_actions::wait& w) {
                       arm(wait_timer_, w.delay, [gen = bringup_gen_](impl& m) {
                           if (!m.bringup_ || m.bringup_gen_ != gen) return;
                           m.on_bringup(m.bringup_->on_wait_done());
                       });
                   },
                   [this](bringup_actions::done&) { bringup_done(); },
                   [this](bringup_actions::failed& f) { bringup_failed(f); },
               },
               a);
}

void modem::impl::bringup_done() {
    identity_ = bringup_->identity();
    for (const auto& s : bringup_->skipped()) spdlog::debug("modem {}: bring-up step {} skipped", id(), s);
    bringup_.reset();
    if (auto* v = vendor_by_name(identity_.vendor)) vendor_ = v;
    failure_ = failure_class::none;
    failure_logged_.clear();
    transient_logged_.clear();
    lost_since_ready_ = false;
    backoff_ = opts_.reopen_interval;
    spdlog::info("modem {}: {} {} ({} profile), IMEI {}, operator \"{}\", signal {} dBm, SMS in {} mode", id(), identity_.manufacturer,
                 identity_.model, identity_.vendor, identity_.imei, identity_.operator_name, signal_dbm(),
                 to_string(identity_.sms_mode));
    spdlog::debug("modem {}: IMSI {}, ICCID {}", id(), identity_.imsi, identity_.iccid);
    log_sms_mode();
    set_state(modem_state::ready);
    emit(modem_event{modem_event::kind::identity_updated, state_, {}, std::nullopt, std::nullopt});
    arm_periodic();
    sync_storage();
    if (reopen_pending_) {
        reopen_now("configuration changed");
        return;
    }
    pump_ops();
}

// Text mode limits what the modem can send: said once per bring-up, as a
// warning when it was not asked for.
void modem::impl::log_sms_mode() {
    if (identity_.sms_mode != sms_format::text) return;
    link_.charset = text_charset::gsm;  // the bring-up set AT+CSCS="GSM"
    const bool configured = sms_mode_from_config(cfg_.sms_mode) == sms_mode_setting::text;
    const auto level = configured ? spdlog::level::info : spdlog::level::warn;
    spdlog::log(level, "modem {}: SMS in text mode ({}): single-part messages only, {}{}", id(),
                configured ? "configured" : "the modem refused PDU mode",
                identity_.ucs2_charset ? "UCS2 for non-GSM text" : "no UCS2 (GSM 7-bit text only)",
                identity_.text_headers ? "" : ", no AT+CSDH (8-bit and UCS2 bodies cannot be told apart)");
}

void modem::impl::bringup_failed(const bringup_actions::failed& f) {
    bringup_.reset();
    std::string why(to_string(f.error));
    if (!f.step.empty()) why += " at " + f.step;
    if (!f.detail.empty()) why += ": " + f.detail;
    if (f.error == bringup_error::pin_rejected) remember_rejected_pin();
    if (is_pin_class(f.error)) {
        enter_failed(failure_class::permanent, why);
    } else if (f.error == bringup_error::sim_not_inserted || f.error == bringup_error::sim_failure) {
        enter_failed(failure_class::recheck, why);
    } else {
        transient_failure("bring-up failed: " + why);
    }
}

// Something that may pass: close, and try again later with backoff.
void modem::impl::transient_failure(const std::string& why) {
    counters_.last_error = why;
    // A modem that keeps failing the same way is logged once, not every retry.
    if (why != transient_logged_)
        spdlog::warn("modem {}: {}", id(), why);
    else
        spdlog::debug("modem {}: {}", id(), why);
    transient_logged_ = why;
    close_port();
    fail_all_ops("modem " + id() + " disconnected: " + why, send_error_kind::retry_elsewhere);
    set_state(modem_state::disconnected, why);
    if (stopping_) {
        finish_stop();
        return;
    }
    schedule_reopen();
}

// Out of service until someone acts; reported once. The port stays open
// so an unplug (to swap the SIM) is noticed and a recheck can run.
void modem::impl::enter_failed(failure_class cls, const std::string& why) {
    failure_ = cls;
    counters_.last_error = why;
    bringup_.reset();
    wait_timer_.cancel();
    if (why != failure_logged_) {
        spdlog::error("modem {}: out of service: {}", id(), why);
        failure_logged_ = why;
    }
    fail_all_ops("modem " + id() + " out of service: " + why, send_error_kind::retry_elsewhere);
    set_state(modem_state::failed, why);
    if (stopping_) {
        finish_stop();
        return;
    }
    arm_periodic();
}

void modem::impl::close_port() {
    channel_.close();
    ++session_;
    bringup_.reset();
    wait_timer_.cancel();
    periodic_timer_.cancel();
    ussd_session_ = false;
}

void modem::impl::port_lost(channel_close_reason reason, const std::string& detail) {
    ++session_;
    bringup_.reset();
    wait_timer_.cancel();
    periodic_timer_.cancel();
    ussd_session_ = false;
    lost_since_ready_ = true;
    const std::string why = std::string(to_string(reason)) + (detail.empty() ? "" : ": " + detail);
    counters_.last_error = "port lost: " + why;
    fail_all_ops("modem " + id() + " lost its port (" + why + ")", send_error_kind::retry_elsewhere);
    set_state(modem_state::disconnected, std::string(to_string(reason)));
    if (stopping_) {
        finish_stop();
        return;
    }
    // A failed modem that is unplugged is probably getting a new SIM.
    failure_ = failure_class::none;
    failure_logged_.clear();
    schedule_reopen();
}

void modem::impl::reopen_now(const std::string& why) {
    reopen_pending_ = false;
    close_port();
    reopen_timer_.cancel();
    failure_ = failure_class::none;
    failure_logged_.clear();
    backoff_ = opts_.reopen_interval;
    set_state(modem_state::disconnected, why);
    post_self([](impl& m) { m.try_open(); });
}

void modem::impl::stop(std::function<void()> done) {
    if (!started_) {
        if (done) post_user(std::move(done));
        return;
    }
    if (done) stop_waiters_.push_back(std::move(done));
    if (stopping_) return;
    stopping_ = true;
    reopen_timer_.cancel();
    periodic_timer_.cancel();
    inbox_timer_.cancel();
    while (!queue_.empty()) {
        auto op = std::move(queue_.front());
        queue_.pop_front();
        abort_op(*op, "modem " + id() + " stopping", send_error_kind::retry_elsewhere);
    }
    if (op_ && op_->abort_on_stop()) {
        abort_op(*op_, "modem " + id() + " stopping", send_error_kind::retry_elsewhere);
        op_.reset();
        op_timer_.cancel();
    }
    if (!op_) finish_stop();
}

void modem::impl::finish_stop() {
    if (!stopping_) return;
    close_port();
    reopen_timer_.cancel();
    op_timer_.cancel();
    inbox_timer_.cancel();
    started_ = false;
    stopping_ = false;
    set_state(modem_state::disabled, "stopped");
    auto waiters = std::move(stop_waiters_);
    stop_waiters_.clear();
    for (auto& w : waiters) post_user(std::move(w));
}

void modem::impl::shutdown() {
    shut_down_ = true;
    listener_ = nullptr;
    // Callbacks of operations are dropped, as documented.
    op_.reset();
    queue_.clear();
    stop_waiters_.clear();
    channel_.close();
    reopen_timer_.cancel();
    wait_timer_.cancel();
    op_timer_.cancel();
    periodic_timer_.cancel();
    inbox_timer_.cancel();
}

void modem::impl::apply_config(const config::modem_config& c) {
    const bool serial_changed = c.port != cfg_.port || c.baud_rate != cfg_.baud_rate || c.parity != cfg_.parity ||
                                c.data_bits != cfg_.data_bits || c.stop_bits != cfg_.stop_bits;
    const bool vendor_changed = c.vendor != cfg_.vendor || c.sms_mode != cfg_.sms_mode;
    const bool pin_changed = c.sim_pin != cfg_.sim_pin;
    cfg_ = c;
    if (pin_changed) {
        forget_rejected_pin();
        latch_.rearm(cfg_.sim_pin.empty() ? std::nullopt : std::optional<std::string>(cfg_.sim_pin));
    }
    if (!started_ || stopping_) return;
    const bool rerun = serial_changed || vendor_changed || (pin_changed && state_ == modem_state::failed);
    if (!rerun) return;
    if (op_) {
        reopen_pending_ = true;
        return;
    }
    reopen_now("configuration changed");
}

void modem::impl::retry_pin() {
    forget_rejected_pin();
    latch_.rearm(cfg_.sim_pin.empty() ? std::nullopt : std::optional<std::string>(cfg_.sim_pin));
    if (started_ && !stopping_ && state_ == modem_state::failed) reopen_now("PIN retry requested");
}

void modem::impl::arm_periodic() {
    milliseconds every{0};
    if (state_ == modem_state::ready) every = opts_.signal_interval;
    if (state_ == modem_state::failed && failure_ == failure_class::recheck) every = opts_.failed_recheck_interval;
    if (every.count() <= 0) {
        periodic_timer_.cancel();
        return;
    }
    arm(periodic_timer_, every, [](impl& m) { m.on_periodic(); });
}

void modem::impl::on_periodic() {
    if (state_ == modem_state::ready) {
        // Only between operations; the signal can wait for the next round.
        if (!op_ && channel_.idle()) {
            submit(make_command("AT+CSQ", opts_.command_timeout), [](impl& m, const at_result& r) {
                if (r.ok())
                    if (auto q = parse_csq(r.lines)) m.identity_.signal = q;
            });
        }
        arm_periodic();
        return;
    }
    if (state_ == modem_state::failed && failure_ == failure_class::recheck) recheck_sim();
}

void modem::impl::on_urc(const unsolicited& u) {
    if (op_ && drive_urc(u)) return;
    for (auto& [kind, handler] : urc_handlers_)
        if (kind == u.kind && handler(*this, u)) return;
    spdlog::debug("modem {}: unsolicited {}", id(), u.name);
}

void modem::impl::add_urc_handler(urc_kind kind, urc_handler h, bool first) {
    if (first)
        urc_handlers_.insert(urc_handlers_.begin(), {kind, std::move(h)});
    else
        urc_handlers_.emplace_back(kind, std::move(h));
}

// The codes the core itself acts on: registration and a modem that restarted.
void modem::impl::register_driver_urcs() {
    add_urc_handler(urc_kind::registration, [](impl& m, const unsolicited& u) {
        if (auto r = parse_creg(u.line)) m.identity_.registration = r;
        return true;
    });
    add_urc_handler(urc_kind::modem_ready, [](impl& m, const unsolicited& u) {
        if (m.state_ == modem_state::ready && detail::iequals(detail::trim(u.line), "RDY")) {
            // Power-cycled under us: echo, PDU mode and CNMI are back to defaults.
            spdlog::warn("modem {}: the modem restarted, re-initialising", m.id());
            m.fail_all_ops("modem " + m.id() + " restarted", send_error_kind::retry_elsewhere);
            m.begin_bringup();
        }
        return true;
    });
}

}  // namespace otppi::modem
