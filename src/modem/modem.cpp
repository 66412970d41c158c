#include "otppi/core/overloaded.hpp"
#include "otppi/modem/modem.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <filesystem>
#include <random>
#include <span>
#include <utility>
#include <variant>

#include "otppi/core/files.hpp"
#include "otppi/core/log.hpp"
#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/vendors/huawei.hpp"
#include "otppi/modem/vendors/quectel.hpp"
#include "otppi/modem/vendors/simcom.hpp"

namespace otppi::modem {

namespace net = boost::asio;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

std::string_view to_string(modem_state s) noexcept {
    switch (s) {
        case modem_state::disabled:
            return "disabled";
        case modem_state::disconnected:
            return "disconnected";
        case modem_state::opening:
            return "opening";
        case modem_state::initializing:
            return "initializing";
        case modem_state::ready:
            return "ready";
        case modem_state::failed:
            return "failed";
    }
    return "?";
}

std::string_view to_string(send_error_kind k) noexcept {
    switch (k) {
        case send_error_kind::none:
            return "none";
        case send_error_kind::retry_elsewhere:
            return "retry_elsewhere";
        case send_error_kind::permanent:
            return "permanent";
        case send_error_kind::take_modem_out:
            return "take_modem_out";
    }
    return "?";
}

namespace {

using core::overloaded;

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

std::string describe(const at_result& r) {
    std::string s(to_string(r.status));
    if (r.status == at_status::cms_error) s = "+CMS ERROR";
    if (r.status == at_status::cme_error) s = "+CME ERROR";
    if (r.code) s += ' ' + std::to_string(*r.code);
    if (!r.error_text.empty()) s += " (" + r.error_text + ')';
    return s;
}

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

// "+628126666666" / "628126666666" -> digits; nullopt when anything else remains.
std::optional<std::string> destination_digits(std::string_view s) {
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    if (s.size() < 3 || s.size() > 20) return std::nullopt;
    for (char c : s)
        if (c < '0' || c > '9') return std::nullopt;
    return std::string(s);
}

// Short codes and service numbers are national; everything the pool hands
// over (normalised receivers) is international.
bool looks_international(std::string_view digits) { return digits.size() > 8; }

std::string masked(std::string_view number) {
    if (!number.empty() && number.front() == '+') number.remove_prefix(1);
    return core::mask_msisdn(number);
}

void wipe(std::string& s) {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
    s.clear();
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

std::string hex_of(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (auto b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0xF]);
    }
    return out;
}

}  // namespace

// ====================================================================== impl

struct modem::impl : std::enable_shared_from_this<impl> {
    // An operation of the public API. It runs while it is `op_`; commands it
    // submits are answered only while it still is (serial check).
    struct operation {
        virtual ~operation() = default;
        virtual const char* name() const = 0;
        virtual void start(impl& m) = 0;
        // Answers the caller with an error (posted). No state change here: the
        // owner ends the operation.
        virtual void answer_error(impl& m, std::string why, send_error_kind kind) = 0;
        virtual bool on_urc(impl&, const unsolicited&) { return false; }
        virtual void on_timer(impl&) {}
        // A USSD answer may take 30 s: stop() does not wait for it.
        virtual bool abort_on_stop() const { return false; }
        std::uint64_t serial = 0;
    };
    struct send_op;
    struct ussd_op;
    struct yes_no_op;
    struct simple_op;
    struct imei_op;
    struct voice_op;

    enum class failure_class { none, permanent, recheck };

    impl(net::io_context& ioc, config::modem_config cfg, modem_options opts, const core::Clock& clock);

    net::io_context& ioc_;
    config::modem_config cfg_;
    modem_options opts_;
    const core::Clock& clock_;
    std::string dir_;  // <state_dir>/modems/<id>, empty: nothing persisted
    serial_channel channel_;
    pin_latch latch_;
    std::optional<bringup> bringup_;
    std::uint64_t bringup_gen_ = 0;
    modem_identity identity_;
    const vendor_profile* vendor_ = &generic_vendor();
    modem_state state_ = modem_state::disabled;
    modem_state reported_ = modem_state::disabled;
    modem_counters counters_;
    otppi::modem::inbox inbox_;
    report_store reports_;
    std::function<void(const modem_event&)> listener_;
    net::steady_timer reopen_timer_;
    net::steady_timer wait_timer_;
    net::steady_timer op_timer_;
    net::steady_timer periodic_timer_;
    net::steady_timer inbox_timer_;
    // Bumps whenever the port closes or opens: completions of an older
    // session are ignored.
    std::uint64_t session_ = 0;
    bool started_ = false;
    bool stopping_ = false;
    bool shut_down_ = false;
    std::vector<std::function<void()>> stop_waiters_;
    milliseconds backoff_;
    failure_class failure_ = failure_class::none;
    std::string failure_logged_;
    std::string transient_logged_;
    bool open_failure_logged_ = false;
    bool lost_since_ready_ = false;
    bool reopen_pending_ = false;
    bool ussd_session_ = false;
    std::uint8_t next_concat_ref_ = 0;
    // Text mode: the TE character set and AT+CSMP line the modem has now as far
    // as we know (nullopt / empty: unknown, set again before the next send),
    // and +CMTI indices whose reading waits for the operation in flight (a
    // read switches the character set, which an operation must not see).
    std::optional<text_charset> charset_;
    std::string csmp_;
    std::vector<int> deferred_reads_;
    std::unique_ptr<operation> op_;
    std::deque<std::unique_ptr<operation>> queue_;
    std::uint64_t op_serial_ = 0;
    bool pumping_ = false;

    const std::string& id() const { return cfg_.id; }

    // --------------------------------------------------------------- helpers

    template <class F>
    void post_user(F f) {
        net::post(ioc_, [w = weak_from_this(), f = std::move(f)]() mutable {
            auto self = w.lock();
            if (!self || self->shut_down_) return;
            f();
        });
    }

    template <class F>
    void post_self(F f) {
        net::post(ioc_, [w = weak_from_this(), f = std::move(f)]() mutable {
            auto self = w.lock();
            if (!self || self->shut_down_) return;
            f(*self);
        });
    }

    template <class F>
    void arm(net::steady_timer& t, milliseconds after, F f) {
        t.expires_after(after);
        t.async_wait([w = weak_from_this(), f = std::move(f)](const boost::system::error_code& ec) mutable {
            if (ec) return;
            auto self = w.lock();
            if (!self || self->shut_down_) return;
            f(*self);
        });
    }

    void emit(modem_event ev) {
        net::post(ioc_, [w = weak_from_this(), ev = std::move(ev)] {
            auto self = w.lock();
            if (!self || self->shut_down_ || !self->listener_) return;
            auto l = self->listener_;  // the listener may replace itself
            l(ev);
        });
    }

    void set_state(modem_state s, std::string detail = {}) {
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
    bool submit(at_command cmd, std::function<void(impl&, const at_result&)> fn) {
        auto id = channel_.submit(std::move(cmd), [w = weak_from_this(), session = session_, fn = std::move(fn)](const at_result& r) {
            auto self = w.lock();
            if (!self || self->shut_down_ || self->session_ != session) return;
            if (r.status == at_status::timeout) ++self->counters_.timeouts;
            fn(*self, r);
        });
        return id.has_value();
    }

    // Submits a command for operation `op`; dropped if `op` is no longer current.
    bool op_submit(operation* op, at_command cmd, std::function<void(const at_result&)> fn) {
        const std::uint64_t serial = op->serial;
        return submit(std::move(cmd), [serial, fn = std::move(fn)](impl& m, const at_result& r) {
            if (!m.op_ || m.op_->serial != serial) return;
            fn(r);
        });
    }

    void arm_op_timer(operation* op, milliseconds after) {
        arm(op_timer_, after, [serial = op->serial](impl& m) {
            if (m.op_ && m.op_->serial == serial) m.op_->on_timer(m);
        });
    }

    std::string pin_marker_path() const { return dir_.empty() ? std::string{} : dir_ + "/pin_rejected"; }

    std::string pin_fingerprint(std::string_view pin) const {
        // Keyed by the modem id so the marker says nothing about the PIN.
        const std::string key = "otppi pin latch " + cfg_.id;
        try {
            otp::hmac_sha512 mac({reinterpret_cast<const std::uint8_t*>(key.data()), key.size()});
            otp::hmac_sha512::digest d{};
            if (!mac.mac({reinterpret_cast<const std::uint8_t*>(pin.data()), pin.size()}, d)) return {};
            return hex_of(d);
        } catch (const std::exception&) {
            return {};
        }
    }

    void remember_rejected_pin() {
        auto path = pin_marker_path();
        if (path.empty() || cfg_.sim_pin.empty()) return;
        auto fp = pin_fingerprint(cfg_.sim_pin);
        if (fp.empty()) return;
        if (auto e = core::ensure_directory(dir_, 0700); !e.empty()) {
            spdlog::warn("modem {}: {}", id(), e);
            return;
        }
        if (auto e = core::atomic_write_file(path, fp + "\n", 0600); !e.empty()) spdlog::warn("modem {}: {}", id(), e);
    }

    void forget_rejected_pin() {
        auto path = pin_marker_path();
        if (path.empty()) return;
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }

    void load_pin_latch() {
        latch_ = pin_latch(cfg_.sim_pin.empty() ? std::nullopt : std::optional<std::string>(cfg_.sim_pin));
        auto path = pin_marker_path();
        if (path.empty() || cfg_.sim_pin.empty()) return;
        std::error_code ec;
        if (!std::filesystem::exists(path, ec)) return;
        auto text = core::read_file(path);
        if (!text) return;
        std::string stored = *text;
        while (!stored.empty() && (stored.back() == '\n' || stored.back() == '\r')) stored.pop_back();
        if (stored == pin_fingerprint(cfg_.sim_pin)) {
            latch_.record(false);
            spdlog::warn("modem {}: the configured SIM PIN was rejected before; it will not be tried again until it changes", id());
        }
    }

    // ------------------------------------------------------------ lifecycle

    void start() {
        if (started_ || shut_down_) return;
        started_ = true;
        stopping_ = false;
        backoff_ = opts_.reopen_interval;
        // start() never calls back: the first attempt runs from the loop.
        post_self([](impl& m) { m.try_open(); });
    }

    void try_open() {
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

    void schedule_reopen() {
        if (!started_ || stopping_) return;
        arm(reopen_timer_, backoff_, [](impl& m) { m.try_open(); });
        const milliseconds cap = std::max(opts_.reopen_max_interval, opts_.reopen_interval);
        backoff_ = std::min(backoff_ * 2, cap);
    }

    void begin_bringup() {
        wait_timer_.cancel();
        periodic_timer_.cancel();
        bringup_options bo;
        bo.vendor = vendor_by_name(cfg_.vendor);
        bo.query_own_number = opts_.query_own_number;
        bo.sim_ready_polls = std::max(1u, opts_.sim_ready_polls);
        bo.sim_poll_delay = opts_.sim_poll_delay;
        bo.sms_mode = sms_mode_from_config(cfg_.sms_mode);
        charset_.reset();
        csmp_.clear();
        deferred_reads_.clear();
        bringup_.emplace(latch_, bo);
        ++bringup_gen_;
        set_state(modem_state::initializing);
        on_bringup(bringup_->start());
    }

    void on_bringup(bringup_action a) {
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

    void bringup_done() {
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
    void log_sms_mode() {
        if (identity_.sms_mode != sms_format::text) return;
        charset_ = text_charset::gsm;  // the bring-up set AT+CSCS="GSM"
        const bool configured = sms_mode_from_config(cfg_.sms_mode) == sms_mode_setting::text;
        const auto level = configured ? spdlog::level::info : spdlog::level::warn;
        spdlog::log(level, "modem {}: SMS in text mode ({}): single-part messages only, {}{}", id(),
                    configured ? "configured" : "the modem refused PDU mode",
                    identity_.ucs2_charset ? "UCS2 for non-GSM text" : "no UCS2 (GSM 7-bit text only)",
                    identity_.text_headers ? "" : ", no AT+CSDH (8-bit and UCS2 bodies cannot be told apart)");
    }

    void bringup_failed(const bringup_actions::failed& f) {
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
    void transient_failure(const std::string& why) {
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
    void enter_failed(failure_class cls, const std::string& why) {
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

    void close_port() {
        channel_.close();
        ++session_;
        bringup_.reset();
        wait_timer_.cancel();
        periodic_timer_.cancel();
        ussd_session_ = false;
    }

    void port_lost(channel_close_reason reason, const std::string& detail) {
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

    void reopen_now(const std::string& why) {
        reopen_pending_ = false;
        close_port();
        reopen_timer_.cancel();
        failure_ = failure_class::none;
        failure_logged_.clear();
        backoff_ = opts_.reopen_interval;
        set_state(modem_state::disconnected, why);
        post_self([](impl& m) { m.try_open(); });
    }

    void stop(std::function<void()> done) {
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
            op->answer_error(*this, "modem " + id() + " stopping", send_error_kind::retry_elsewhere);
        }
        if (op_ && op_->abort_on_stop()) {
            op_->answer_error(*this, "modem " + id() + " stopping", send_error_kind::retry_elsewhere);
            op_.reset();
            op_timer_.cancel();
        }
        if (!op_) finish_stop();
    }

    void finish_stop() {
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

    void shutdown() {
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

    void apply_config(const config::modem_config& c) {
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

    void retry_pin() {
        forget_rejected_pin();
        latch_.rearm(cfg_.sim_pin.empty() ? std::nullopt : std::optional<std::string>(cfg_.sim_pin));
        if (started_ && !stopping_ && state_ == modem_state::failed) reopen_now("PIN retry requested");
    }

    // ----------------------------------------------------------- operations

    void fail_all_ops(const std::string& why, send_error_kind kind) {
        if (op_) {
            auto op = std::move(op_);
            op_timer_.cancel();
            op->answer_error(*this, why, kind);
        }
        while (!queue_.empty()) {
            auto op = std::move(queue_.front());
            queue_.pop_front();
            op->answer_error(*this, why, kind);
        }
    }

    void enqueue(std::unique_ptr<operation> op) {
        if (shut_down_ || !started_ || stopping_) {
            op->answer_error(*this, "modem " + id() + " is stopped", send_error_kind::retry_elsewhere);
            return;
        }
        if (state_ != modem_state::ready) {
            op->answer_error(*this, "modem " + id() + " not ready (" + std::string(to_string(state_)) + ")",
                             send_error_kind::retry_elsewhere);
            return;
        }
        if (op_ && queue_.size() >= opts_.max_queued_ops) {
            op->answer_error(*this, "modem busy", send_error_kind::retry_elsewhere);
            return;
        }
        queue_.push_back(std::move(op));
        pump_ops();
    }

    void pump_ops() {
        if (pumping_) return;
        pumping_ = true;
        while (!op_ && !queue_.empty() && state_ == modem_state::ready && !reopen_pending_) {
            op_ = std::move(queue_.front());
            queue_.pop_front();
            op_->serial = ++op_serial_;
            op_->start(*this);
        }
        pumping_ = false;
    }

    // The current operation answered its caller; the next one may start.
    void complete_op() {
        op_.reset();
        op_timer_.cancel();
        if (!deferred_reads_.empty() && state_ == modem_state::ready && channel_.is_open()) {
            auto indices = std::move(deferred_reads_);
            deferred_reads_.clear();
            for (int i : indices) read_stored(i);
        }
        if (stopping_) {
            finish_stop();
            return;
        }
        if (reopen_pending_) {
            reopen_now("configuration changed");
            return;
        }
        pump_ops();
    }

    // --------------------------------------------------------------- status

    int signal_dbm() const { return identity_.signal && identity_.signal->dbm ? *identity_.signal->dbm : 0; }

    void arm_periodic() {
        milliseconds every{0};
        if (state_ == modem_state::ready) every = opts_.signal_interval;
        if (state_ == modem_state::failed && failure_ == failure_class::recheck) every = opts_.failed_recheck_interval;
        if (every.count() <= 0) {
            periodic_timer_.cancel();
            return;
        }
        arm(periodic_timer_, every, [](impl& m) { m.on_periodic(); });
    }

    void on_periodic() {
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

    void recheck_sim() {
        bool ok = submit(make_command("AT+CPIN?", opts_.command_timeout), [](impl& m, const at_result& r) {
            if (m.state_ != modem_state::failed || m.failure_ != failure_class::recheck) return;
            auto s = sim_state_from(r);
            if (s == sim_state::ready || s == sim_state::sim_pin) {
                spdlog::info("modem {}: SIM answers again ({}), re-initialising", m.id(), to_string(s));
                m.begin_bringup();
                return;
            }
            m.arm_periodic();
        });
        if (!ok) arm_periodic();
    }

    // ------------------------------------------------------------------ URCs

    void on_urc(const unsolicited& u) {
        if (op_ && op_->on_urc(*this, u)) return;
        switch (u.kind) {
            case urc_kind::sms_stored:
            case urc_kind::status_report_stored:
                if (state_ != modem_state::ready) return;  // read by AT+CMGL once ready
                if (auto idx = parse_cmti(u.line)) read_stored(idx->index);
                return;
            case urc_kind::sms_deliver:
                if (auto p = parse_cmt(u)) handle_pdu(p->pdu);
                return;
            case urc_kind::status_report:
                if (auto p = parse_cds(u))
                    handle_pdu(p->pdu);
                else if (auto t = parse_cds_text(u.line))
                    handle_text_record(*t, text_charset::gsm);
                return;
            case urc_kind::ussd:
                if (auto r = parse_cusd(u.line)) {
                    ussd_session_ = r->status == 1;
                    spdlog::debug("modem {}: USSD answer with no request waiting (status {})", id(), r->status);
                }
                return;
            case urc_kind::registration:
                if (auto r = parse_creg(u.line)) identity_.registration = r;
                return;
            case urc_kind::sim_status:
                on_sim_status(u);
                return;
            case urc_kind::modem_ready:
                if (state_ == modem_state::ready && detail::iequals(detail::trim(u.line), "RDY")) {
                    // Power-cycled under us: echo, PDU mode and CNMI are back to defaults.
                    spdlog::warn("modem {}: the modem restarted, re-initialising", id());
                    fail_all_ops("modem " + id() + " restarted", send_error_kind::retry_elsewhere);
                    begin_bringup();
                }
                return;
            default:
                spdlog::debug("modem {}: unsolicited {}", id(), u.name);
                return;
        }
    }

    void on_sim_status(const unsolicited& u) {
        std::optional<sim_state> s;
        if (detail::istarts_with(detail::trim(u.line), "+CPIN:")) {
            std::vector<std::string> lines{u.line};
            s = parse_cpin(lines);
        }
        if (state_ == modem_state::ready && s && (*s == sim_state::not_inserted || *s == sim_state::failure)) {
            enter_failed(failure_class::recheck, "SIM " + std::string(to_string(*s)));
            return;
        }
        if (state_ == modem_state::failed && failure_ == failure_class::recheck) {
            // Hot-swap indications (+CPIN: READY, +CSMINS: 0,1 ...): ask now.
            if (!s || *s == sim_state::ready || *s == sim_state::sim_pin) recheck_sim();
        }
    }

    // --------------------------------------------------------- incoming SMS

    void sync_storage() {
        if (identity_.sms_mode == sms_format::text) {
            sync_storage_text();
            return;
        }
        // Messages that arrived while we were away (or whose +CMTI was lost).
        // Its deadline is kept short: sends queue behind it on a stalled modem.
        submit(make_list_pdus(4, 2 * opts_.command_timeout), [](impl& m, const at_result& r) {
            if (!r.ok()) {
                spdlog::debug("modem {}: AT+CMGL failed: {}", m.id(), describe(r));
                return;
            }
            for (const auto& sp : parse_cmgl(r.lines)) {
                if (sp.stat >= 2) continue;  // stored outgoing messages are not ours to touch
                if (m.handle_pdu(sp.pdu) && sp.index) m.delete_stored(*sp.index);
            }
        });
    }

    void read_stored(int index) {
        if (identity_.sms_mode == sms_format::text) {
            read_stored_text(index);
            return;
        }
        auto cmd = make_read_pdu(index);
        if (!cmd) return;
        cmd->timeout = std::max(cmd->timeout, opts_.command_timeout);
        submit(std::move(*cmd), [index](impl& m, const at_result& r) {
            if (!r.ok()) {
                spdlog::debug("modem {}: AT+CMGR={} failed: {}", m.id(), index, describe(r));
                return;
            }
            auto sp = parse_cmgr(r.lines);
            if (!sp) return;  // empty slot
            if (m.handle_pdu(sp->pdu)) m.delete_stored(index);
        });
    }

    // ------------------------------------------------------- text mode reads

    // Reads happen under AT+CSCS="UCS2" when the modem has it: every body is
    // then hex, so no message text can pass for a final result ("OK") or lose
    // characters that are control codes in the GSM set. The switch, the read
    // and the switch back are queued together, so nothing runs in between.
    text_charset read_charset() const { return identity_.ucs2_charset ? text_charset::ucs2 : text_charset::gsm; }

    // Submits `cmd` under the read character set; `fn` gets the result and the
    // set it was printed in.
    void submit_text_read(at_command cmd, std::function<void(impl&, const at_result&, text_charset)> fn) {
        auto printed = std::make_shared<text_charset>(text_charset::gsm);
        const bool switch_set = read_charset() == text_charset::ucs2;
        if (switch_set) {
            submit(make_cscs(text_charset::ucs2, opts_.command_timeout), [printed](impl& m, const at_result& r) {
                if (r.ok()) {
                    *printed = text_charset::ucs2;
                    m.charset_ = text_charset::ucs2;
                } else {
                    m.charset_.reset();
                    spdlog::debug("modem {}: AT+CSCS=\"UCS2\" failed ({}); reading in the GSM set", m.id(), describe(r));
                }
            });
        }
        submit(std::move(cmd), [printed, fn = std::move(fn)](impl& m, const at_result& r) { fn(m, r, *printed); });
        if (switch_set) {
            submit(make_cscs(text_charset::gsm, opts_.command_timeout), [](impl& m, const at_result& r) {
                if (r.ok()) {
                    m.charset_ = text_charset::gsm;
                } else {
                    m.charset_.reset();
                    spdlog::warn("modem {}: could not set AT+CSCS=\"GSM\" back: {}", m.id(), describe(r));
                }
            });
        }
    }

    void sync_storage_text() {
        // +CMGL prints no <dcs>: list to learn the indices, then read each one.
        submit(make_list_text(2 * opts_.command_timeout), [](impl& m, const at_result& r) {
            if (!r.ok()) {
                spdlog::debug("modem {}: AT+CMGL failed: {}", m.id(), describe(r));
                return;
            }
            for (const auto& rec : parse_cmgl_text(r.lines))
                if (rec.index && (rec.stat <= 1 || rec.status_report)) m.read_stored_text(*rec.index);
        });
    }

    void read_stored_text(int index) {
        if (op_) {
            // The operation may be between its own AT+CSCS and AT+CMGS.
            if (deferred_reads_.size() < 256 && std::find(deferred_reads_.begin(), deferred_reads_.end(), index) == deferred_reads_.end())
                deferred_reads_.push_back(index);
            return;
        }
        auto cmd = make_read_text(index, opts_.command_timeout);
        if (!cmd) return;
        submit_text_read(std::move(*cmd), [index](impl& m, const at_result& r, text_charset printed) {
            if (!r.ok()) {
                spdlog::debug("modem {}: AT+CMGR={} failed: {}", m.id(), index, describe(r));
                return;
            }
            auto rec = parse_cmgr_text(r.lines);
            if (!rec) return;  // empty slot
            if (m.handle_text_record(*rec, printed)) m.delete_stored(index);
        });
    }

    // The text-mode twin of handle_pdu.
    bool handle_text_record(const text_sms_record& rec, text_charset printed) {
        if (rec.status_report) {
            auto sr = decode_text_report(rec, printed);
            if (!sr) {
                spdlog::warn("modem {}: unreadable text-mode status report", id());
                return true;
            }
            handle_report(*sr);
            return true;
        }
        if (rec.stat > 1) return false;  // a stored outgoing message: not ours
        auto d = decode_text_deliver(rec, printed);
        if (!d) return false;
        inbox_part p;
        p.from = d->originator.display();
        p.text = std::move(d->ud.text);
        p.received_unix = clock_.unix_seconds();
        if (d->scts)
            if (auto t = to_unix_seconds(*d->scts)) p.sc_timestamp_unix = *t;
        p.concat = d->ud.concat;
        return store_part(std::move(p));
    }

    void delete_stored(int index) {
        auto cmd = make_delete_sms(index);
        if (!cmd) return;
        cmd->timeout = std::max(cmd->timeout, opts_.command_timeout);
        submit(std::move(*cmd), [index](impl& m, const at_result& r) {
            if (!r.ok()) spdlog::warn("modem {}: could not delete SMS {} from the SIM: {}", m.id(), index, describe(r));
        });
    }

    // Files what a stored or pushed PDU carries. True when it is safely kept
    // (or not worth keeping) and may be deleted from the SIM.
    bool handle_pdu(const std::string& hex) {
        auto d = decode_pdu_verbose(hex, true);
        if (!d.pdu) {
            spdlog::warn("modem {}: undecodable PDU ({} octets): {}", id(), hex.size() / 2, d.error);
            // Kept for a person to look at rather than silently deleted.
            inbox_part p;
            p.text = "(undecodable PDU) " + hex;
            p.received_unix = clock_.unix_seconds();
            return store_part(std::move(p));
        }
        switch (d.pdu->type()) {
            case pdu_type::deliver: {
                const auto& m = std::get<sms_deliver>(d.pdu->message);
                inbox_part p;
                p.from = m.originator.display();
                p.text = m.ud.text;
                p.received_unix = clock_.unix_seconds();
                if (m.scts)
                    if (auto t = to_unix_seconds(*m.scts)) p.sc_timestamp_unix = *t;
                p.concat = m.ud.concat;
                return store_part(std::move(p));
            }
            case pdu_type::status_report:
                handle_report(std::get<sms_status_report>(d.pdu->message));
                return true;
            case pdu_type::submit:
                return false;
        }
        return false;
    }

    bool store_part(inbox_part p) {
        auto res = inbox_.add(std::move(p));
        if (!res.stored()) {
            spdlog::error("modem {}: cannot store an incoming SMS ({}); it stays on the SIM", id(), res.error);
            return false;
        }
        for (auto& m : res.flushed) announce(std::move(m));
        if (res.message) announce(std::move(*res.message));
        arm_inbox_timer();
        return true;
    }

    void announce(incoming_sms m) {
        ++counters_.received;
        spdlog::info("modem {}: SMS from {} stored as {} ({} part{}{})", id(), masked(m.from), m.id, m.parts, m.parts == 1 ? "" : "s",
                     m.complete ? "" : ", incomplete");
        modem_event ev{modem_event::kind::incoming_sms, state_, m.id, std::move(m), std::nullopt};
        emit(std::move(ev));
    }

    void arm_inbox_timer() {
        auto at = inbox_.next_expiry();
        if (!at) {
            inbox_timer_.cancel();
            return;
        }
        const std::int64_t in = std::max<std::int64_t>(0, *at - clock_.unix_seconds());
        arm(inbox_timer_, std::chrono::seconds(in) + 10ms, [](impl& m) {
            for (auto& msg : m.inbox_.expire(m.clock_.unix_seconds())) m.announce(std::move(msg));
            m.arm_inbox_timer();
        });
    }

    void handle_report(const sms_status_report& sr) {
        ++counters_.reports;
        const std::int64_t now = clock_.unix_seconds();
        auto rec = reports_.apply_report(cfg_.id, sr.message_ref, sr.recipient.number, sr.status, now);
        if (!reports_.last_error().empty()) spdlog::warn("modem {}: {}", id(), reports_.last_error());
        delivery_report dr;
        dr.modem_id = cfg_.id;
        dr.message_reference = sr.message_ref;
        dr.recipient = rec ? rec->recipient : sr.recipient.number;
        dr.state = std::string(to_string(sr.state()));
        dr.status = sr.status;
        dr.at_unix = now;
        dr.matched = rec.has_value();
        if (rec) {
            dr.part = rec->part;
            dr.parts = rec->parts;
        }
        spdlog::debug("modem {}: delivery report MR {} to {}: {} (TP-ST {}){}", id(), dr.message_reference, masked(dr.recipient), dr.state,
                      dr.status, dr.matched ? "" : ", no matching send");
        modem_event ev{modem_event::kind::delivery_report, state_, dr.state, std::nullopt, std::move(dr)};
        emit(std::move(ev));
    }
};

// ================================================================ operations

struct modem::impl::send_op final : operation {
    std::string destination;
    std::vector<std::string> pdus;
    std::function<void(sms_send_result)> done;
    sms_send_result result;
    std::size_t next = 0;
    std::chrono::steady_clock::time_point started{};
    bool begun = false;  // reached the modem (refusals before that are not failed sends)
    // An AT+CMGS is outstanding: if the port dies now, the modem may already
    // have the PDU and send it, so the message must not be resent elsewhere.
    bool part_in_flight = false;
    bool answered = false;
    // Text mode (the modem runs AT+CMGF=1): the text itself goes to the modem.
    core::secure_string text;
    bool international = true;
    bool status_report = true;
    std::uint8_t validity = 167;
    std::optional<text_send_plan> plan;

    ~send_op() override {
        for (auto& p : pdus) wipe(p);
        if (plan) wipe(plan->body);
    }
    const char* name() const override { return "send"; }

    void start(impl& m) override {
        begun = true;
        started = std::chrono::steady_clock::now();
        if (m.identity_.sms_mode == sms_format::text) {
            start_text(m);
            return;
        }
        text.clear();
        if (pdus.size() > 1 && m.identity_.cmms_supported) {
            // Keeps the radio link between parts; a refusal changes nothing.
            bool ok = m.op_submit(this, make_command("AT+CMMS=2", m.opts_.command_timeout), [this, &m](const at_result&) { send_next(m); });
            if (!ok) finish(m, send_error_kind::retry_elsewhere, "modem command queue refused the send");
            return;
        }
        send_next(m);
    }

    void send_next(impl& m) {
        auto cmd = make_send_pdu(pdus[next], m.opts_.send_timeout, m.opts_.command_timeout);
        if (!cmd) {
            finish(m, send_error_kind::permanent, "part " + std::to_string(next + 1) + " could not be framed for AT+CMGS");
            return;
        }
        part_in_flight = true;
        bool ok = m.op_submit(this, std::move(*cmd), [this, &m](const at_result& r) {
            part_in_flight = false;
            on_part(m, r);
        });
        if (!ok) {
            part_in_flight = false;
            finish(m, send_error_kind::retry_elsewhere, "modem command queue refused the send");
        }
    }

    // A part the modem accepted: counted, and kept for its delivery report.
    void accepted(impl& m, const at_result& r, std::size_t part_no, std::size_t parts) {
        auto mr = parse_cmgs(r.lines);
        ++result.parts_accepted;
        result.message_reference = mr.value_or(-1);
        if (!mr) {
            spdlog::warn("modem {}: part {}/{} accepted without a +CMGS reference", m.id(), part_no, parts);
            return;
        }
        sent_record rec;
        rec.modem_id = m.cfg_.id;
        rec.message_reference = *mr;
        rec.recipient = destination;
        rec.part = static_cast<int>(part_no);
        rec.parts = static_cast<int>(parts);
        rec.sent_unix = m.clock_.unix_seconds();
        m.reports_.record_sent(std::move(rec));
        if (!m.reports_.last_error().empty()) spdlog::warn("modem {}: {}", m.id(), m.reports_.last_error());
    }

    void on_part(impl& m, const at_result& r) {
        const std::string part = std::to_string(next + 1) + "/" + std::to_string(pdus.size());
        if (r.ok()) {
            accepted(m, r, next + 1, pdus.size());
            wipe(pdus[next]);
            if (++next < pdus.size()) {
                send_next(m);
                return;
            }
            finish(m, send_error_kind::none, {});
            return;
        }
        if (r.status == at_status::timeout && r.data_sent) result.maybe_sent = true;
        auto f = classify_send_failure(r).value_or(send_failure::retry_elsewhere);
        finish(m, kind_of(f), "part " + part + ": " + describe(r) + (result.maybe_sent ? " (the modem may have sent it)" : ""));
    }

    // ---- text mode: [AT+CSCS] [AT+CSMP] AT+CMGS="<da>",<toda> <text>^Z [AT+CSCS="GSM"]

    void start_text(impl& m) {
        result.parts = 1;
        plan = plan_text_send(text.view(), m.identity_.ucs2_charset);
        text.clear();
        if (!plan->ok()) {
            // Bad UTF-8 is the caller's; the rest is this modem's limit: a PDU-mode
            // modem of the pool can send it.
            finish(m, plan->error == text_plan_error::invalid_utf8 ? send_error_kind::permanent : send_error_kind::retry_elsewhere,
                   plan->error_text);
            return;
        }
        if (m.charset_ == plan->charset) {
            set_parameters(m);
            return;
        }
        const text_charset cs = plan->charset;
        bool ok = m.op_submit(this, make_cscs(cs, m.opts_.command_timeout), [this, &m, cs](const at_result& r) {
            if (!r.ok()) {
                m.charset_.reset();
                end_text(m, send_error_kind::retry_elsewhere,
                         "text mode: the modem refused AT+CSCS=\"" + std::string(to_string(cs)) + "\": " + describe(r));
                return;
            }
            m.charset_ = cs;
            set_parameters(m);
        });
        if (!ok) finish(m, send_error_kind::retry_elsewhere, "modem command queue refused the send");
    }

    void set_parameters(impl& m) {
        auto cmd = make_csmp(status_report, validity, plan->charset, m.opts_.command_timeout);
        if (cmd.text == m.csmp_) {
            send_text(m);
            return;
        }
        std::string line = cmd.text;
        bool ok = m.op_submit(this, std::move(cmd), [this, &m, line](const at_result& r) {
            if (!r.ok()) {
                m.csmp_.clear();
                end_text(m, send_error_kind::retry_elsewhere, "text mode: the modem refused AT+CSMP: " + describe(r));
                return;
            }
            m.csmp_ = line;
            send_text(m);
        });
        if (!ok) end_text(m, send_error_kind::retry_elsewhere, "modem command queue refused the send");
    }

    void send_text(impl& m) {
        auto cmd = make_send_text(destination, international, *plan, m.opts_.send_timeout, m.opts_.command_timeout);
        if (!cmd) {
            end_text(m, send_error_kind::permanent, "the message could not be framed for AT+CMGS in text mode");
            return;
        }
        part_in_flight = true;
        bool ok = m.op_submit(this, std::move(*cmd), [this, &m](const at_result& r) {
            part_in_flight = false;
            wipe(plan->body);
            if (r.ok()) {
                accepted(m, r, 1, 1);
                end_text(m, send_error_kind::none, {});
                return;
            }
            if (r.status == at_status::timeout && r.data_sent) result.maybe_sent = true;
            auto f = classify_send_failure(r).value_or(send_failure::retry_elsewhere);
            end_text(m, kind_of(f), "text mode: " + describe(r) + (result.maybe_sent ? " (the modem may have sent it)" : ""));
        });
        if (!ok) {
            part_in_flight = false;
            end_text(m, send_error_kind::retry_elsewhere, "modem command queue refused the send");
        }
    }

    // USSD and the reads expect the GSM set back after a UCS2 send.
    void end_text(impl& m, send_error_kind kind, std::string error) {
        if (plan) wipe(plan->body);
        if (m.charset_ == text_charset::gsm) {
            finish(m, kind, std::move(error));
            return;
        }
        bool ok = m.op_submit(this, make_cscs(text_charset::gsm, m.opts_.command_timeout), [this, &m, kind, error](const at_result& r) {
            if (r.ok()) {
                m.charset_ = text_charset::gsm;
            } else {
                m.charset_.reset();
                spdlog::warn("modem {}: could not set AT+CSCS=\"GSM\" back: {}", m.id(), describe(r));
            }
            finish(m, kind, error);
        });
        if (!ok) finish(m, kind, std::move(error));
    }

    void finish(impl& m, send_error_kind kind, std::string error) {
        result.ok = kind == send_error_kind::none;
        result.kind = kind;
        result.error = std::move(error);
        const auto took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started).count();
        if (result.ok) {
            ++m.counters_.sent;
            spdlog::info("modem {}: SMS to {} sent, {} part{}, MR {}, {} ms", m.id(), masked(destination), result.parts,
                         result.parts == 1 ? "" : "s", result.message_reference, took);
        } else {
            ++m.counters_.failed;
            m.counters_.last_error = result.error;
            spdlog::warn("modem {}: SMS to {} failed after {}/{} part(s) ({}): {}", m.id(), masked(destination), result.parts_accepted,
                         result.parts, to_string(kind), result.error);
        }
        m.counters_.parts += static_cast<std::uint64_t>(result.parts_accepted);
        reply(m);
        const bool take_out = kind == send_error_kind::take_modem_out;
        const std::string why = result.error;
        m.complete_op();  // destroys *this
        if (take_out && m.state_ == modem_state::ready) m.enter_failed(failure_class::recheck, "SIM error while sending: " + why);
    }

    void reply(impl& m) {
        if (answered) return;
        answered = true;
        m.post_user([done = std::move(done), r = result] { done(r); });
    }

    void answer_error(impl& m, std::string why, send_error_kind kind) override {
        result.ok = false;
        result.kind = kind;
        result.error = std::move(why);
        if (part_in_flight) {
            result.maybe_sent = true;
            result.error += " while sending part " + std::to_string(result.parts_accepted + 1) + " (the modem may have sent it)";
        }
        if (!answered && begun) {
            ++m.counters_.failed;
            m.counters_.parts += static_cast<std::uint64_t>(result.parts_accepted);
            m.counters_.last_error = result.error;
        }
        reply(m);
    }
};

struct modem::impl::ussd_op final : operation {
    std::string code;
    std::function<void(ussd_result)> done;
    bool answered = false;

    const char* name() const override { return "ussd"; }
    bool abort_on_stop() const override { return true; }

    void start(impl& m) override {
        auto cmd = make_ussd(code, 15);
        if (!cmd) {
            finish(m, error_result("invalid USSD string (digits, *, # and + only)"));
            return;
        }
        cmd->timeout = m.opts_.command_timeout;
        // One deadline for the whole exchange: the OK, then the +CUSD answer.
        m.arm_op_timer(this, m.opts_.ussd_timeout);
        bool ok = m.op_submit(this, std::move(*cmd), [this, &m](const at_result& r) {
            if (!r.ok()) finish(m, error_result("USSD request refused: " + describe(r)));
        });
        if (!ok) finish(m, error_result("modem command queue refused the request"));
    }

    static ussd_result error_result(std::string why) {
        ussd_result r;
        r.error = std::move(why);
        return r;
    }

    bool on_urc(impl& m, const unsolicited& u) override {
        if (u.kind != urc_kind::ussd) return false;
        auto p = parse_cusd(u.line);
        if (!p) return true;
        ussd_result r;
        r.status = p->status;
        r.raw = p->text.value_or("");
        r.dcs = p->dcs.value_or(-1);
        r.replyable = p->status == 1;
        m.ussd_session_ = r.replyable;
        if (p->text) {
            auto text = decode_ussd_text(r.raw, r.dcs >= 0 ? r.dcs : 15, m.vendor_->ussd_packed_hex);
            r.text = text.value_or(r.raw);
        }
        switch (p->status) {
            case 0:
            case 1:
                r.ok = true;
                break;
            case 2:
                // Some networks close the session with their last text.
                r.ok = p->text.has_value();
                if (!r.ok) r.error = "USSD session ended by the network";
                break;
            case 4:
                r.error = "USSD operation not supported";
                break;
            case 5:
                r.error = "USSD network timeout";
                break;
            default:
                r.error = "USSD status " + std::to_string(p->status);
        }
        finish(m, std::move(r));
        return true;
    }

    void on_timer(impl& m) override {
        // Close the dangling session so the next request is not refused.
        m.submit(make_ussd_cancel(), [](impl&, const at_result&) {});
        m.ussd_session_ = false;
        finish(m, error_result("no USSD answer within " + std::to_string(m.opts_.ussd_timeout.count()) + " ms"));
    }

    void finish(impl& m, ussd_result r) {
        if (!r.ok && m.counters_.last_error != r.error) m.counters_.last_error = r.error;
        if (!answered) {
            answered = true;
            m.post_user([done = std::move(done), r = std::move(r)] { done(r); });
        }
        m.complete_op();
    }

    void answer_error(impl& m, std::string why, send_error_kind) override {
        if (answered) return;
        answered = true;
        m.post_user([done = std::move(done), r = error_result(std::move(why))] { done(r); });
    }
};

// An operation answered as (ok, error), exactly once, then ended.
struct modem::impl::yes_no_op : operation {
    std::function<void(bool, std::string)> done;
    bool answered = false;

    void finish(impl& m, bool ok, std::string error) {
        answer(m, ok, std::move(error));
        m.complete_op();
    }

    void answer(impl& m, bool ok, std::string error) {
        if (answered) return;
        answered = true;
        on_answer();
        m.post_user([done = std::move(done), ok, error = std::move(error)] { done(ok, error); });
    }

    void answer_error(impl& m, std::string why, send_error_kind) override { answer(m, false, std::move(why)); }

protected:
    virtual void on_answer() {}
};

// One command, answered as (ok, error): AT+CLCK.
struct modem::impl::simple_op final : yes_no_op {
    const char* op_name = "command";
    std::optional<at_command> cmd;
    std::string invalid;  // set: refuse before sending
    std::function<std::string(const at_result&)> explain;

    const char* name() const override { return op_name; }

    void start(impl& m) override {
        if (!cmd) {
            finish(m, false, invalid);
            return;
        }
        bool ok = m.op_submit(this, std::move(*cmd), [this, &m](const at_result& r) {
            if (r.ok())
                finish(m, true, {});
            else
                finish(m, false, explain ? explain(r) : describe(r));
        });
        if (!ok) finish(m, false, "modem command queue refused the request");
    }

};

struct modem::impl::imei_op final : yes_no_op {
    std::string imei;

    const char* name() const override { return "imei"; }

    void start(impl& m) override {
        auto cmd = make_imei_change(imei);
        if (!cmd) {
            finish(m, false, "invalid IMEI: 15 digits with a valid Luhn check digit");
            return;
        }
        cmd->timeout = std::max(cmd->timeout, m.opts_.command_timeout);
        bool ok = m.op_submit(this, std::move(*cmd), [this, &m](const at_result& r) {
            if (!r.ok()) {
                finish(m, false, "AT+EGMR refused: " + describe(r));
                return;
            }
            spdlog::info("modem {}: IMEI written ({}); most modules use it after a restart", m.id(), imei);
            // Read back: some firmwares report the new IMEI at once.
            bool sent = m.op_submit(this, make_command("AT+CGSN", m.opts_.command_timeout), [this, &m](const at_result& rr) {
                if (rr.ok())
                    if (auto v = parse_imei(rr.lines); v && *v != m.identity_.imei) {
                        m.identity_.imei = *v;
                        m.emit(modem_event{modem_event::kind::identity_updated, m.state_, "imei", std::nullopt, std::nullopt});
                    }
                finish(m, true, {});
            });
            if (!sent) finish(m, true, {});
        });
        if (!ok) finish(m, false, "modem command queue refused the request");
    }

};

// ATD<number>; -> wait until the call is up -> AT+CTTS -> wait for "+CTTS: 0"
// -> ATH. Every phase has a deadline; the call is always hung up.
struct modem::impl::voice_op final : yes_no_op {
    enum class phase { dialing, connecting, speaking, settling, hanging_up };

    std::string number;  // as dialled ("+62...")
    core::secure_string text;
    phase ph = phase::dialing;
    bool clcc_works = true;
    bool call_seen = false;
    std::chrono::steady_clock::time_point dialed_at{};

    const char* name() const override { return "voice"; }

    milliseconds since_dial() const { return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - dialed_at); }

    void start(impl& m) override {
        at_command atd = make_command("ATD" + number + ";", m.opts_.command_timeout);
        // The dialled number is personal data: only its masked form is logged.
        atd.sensitive = true;
        bool ok = m.op_submit(this, std::move(atd), [this, &m](const at_result& r) {
            if (!r.ok()) {
                hang_up(m, false, "call failed: " + describe(r));
                return;
            }
            ph = phase::connecting;
            dialed_at = std::chrono::steady_clock::now();
            m.arm_op_timer(this, std::min(m.opts_.voice_poll_interval, m.opts_.voice_connect_delay));
        });
        if (!ok) finish(m, false, "modem command queue refused the call");
    }

    void poll(impl& m) {
        const milliseconds elapsed = since_dial();
        if (elapsed >= m.opts_.voice_answer_timeout) {
            hang_up(m, false, "no answer");
            return;
        }
        if (!clcc_works) {
            // The modem cannot say when the call is answered: give it the fixed delay.
            if (elapsed >= m.opts_.voice_connect_delay)
                speak(m);
            else
                m.arm_op_timer(this, m.opts_.voice_connect_delay - elapsed);
            return;
        }
        bool ok = m.op_submit(this, make_command("AT+CLCC", m.opts_.command_timeout), [this, &m](const at_result& r) {
            if (ph != phase::connecting) return;
            if (!r.ok()) {
                clcc_works = false;
                poll(m);
                return;
            }
            std::optional<int> stat;
            for (const auto& l : r.lines) {
                if (!detail::istarts_with(detail::trim(l), "+CLCC:")) continue;
                auto f = detail::split_fields(detail::after_colon(l));
                auto dir = f.size() > 1 ? detail::parse_int(f[1].value) : std::nullopt;
                auto st = f.size() > 2 ? detail::parse_int(f[2].value) : std::nullopt;
                if (dir && *dir == 0 && st) stat = st;  // our (mobile-originated) call
            }
            if (stat && *stat == 0) {
                speak(m);
                return;
            }
            if (stat) {
                call_seen = true;  // dialling / alerting
            } else if (call_seen) {
                hang_up(m, false, "call ended before it was answered");
                return;
            } else if (since_dial() >= m.opts_.voice_connect_delay) {
                // No call listed at all: this modem does not report calls.
                speak(m);
                return;
            }
            m.arm_op_timer(this, m.opts_.voice_poll_interval);
        });
        if (!ok) hang_up(m, false, "modem command queue refused a command");
    }

    void speak(impl& m) {
        ph = phase::speaking;
        auto cmd = make_tts(text.view());
        if (!cmd) {
            hang_up(m, false, "the text cannot be spoken (quotes, control characters or over 500 bytes)");
            return;
        }
        cmd->sensitive = true;  // the spoken OTP
        cmd->timeout = std::max(cmd->timeout, m.opts_.command_timeout);
        // Roughly 80 ms per character of speech, plus slack; "+CTTS: 0" ends it sooner.
        const milliseconds estimate = std::min(m.opts_.voice_speak_timeout, milliseconds(80 * static_cast<long>(text.size())) + 5s);
        bool ok = m.op_submit(this, std::move(*cmd), [this, &m, estimate](const at_result& r) {
            if (ph != phase::speaking) return;
            if (!r.ok()) {
                hang_up(m, false, "text-to-speech refused: " + describe(r));
                return;
            }
            m.arm_op_timer(this, estimate);
        });
        if (!ok) hang_up(m, false, "modem command queue refused a command");
    }

    void on_timer(impl& m) override {
        switch (ph) {
            case phase::connecting:
                poll(m);
                return;
            case phase::speaking:  // no "+CTTS: 0" from this firmware: the estimate has passed
            case phase::settling:
                hang_up(m, true, {});
                return;
            default:
                return;
        }
    }

    bool on_urc(impl& m, const unsolicited& u) override {
        const auto line = detail::trim(u.line);
        if (u.kind == urc_kind::call_ended) {
            if (ph == phase::connecting || ph == phase::dialing)
                hang_up(m, false, "call not answered (" + std::string(line) + ")");
            else if (ph == phase::speaking)
                hang_up(m, false, "the callee hung up during the readout");
            else if (ph == phase::settling)
                hang_up(m, true, {});
            return true;
        }
        if (ph == phase::connecting && (detail::istarts_with(line, "+COLP") || detail::iequals(line, "MO CONNECTED") ||
                                        detail::iequals(line, "CONNECT") || detail::istarts_with(line, "CONNECT "))) {
            speak(m);
            return true;
        }
        if (ph == phase::connecting && detail::iequals(line, "MO RING")) {
            call_seen = true;
            return true;
        }
        if (u.kind == urc_kind::tts && ph == phase::speaking) {
            auto f = detail::split_fields(detail::after_colon(line));
            if (!f.empty() && detail::parse_int(f[0].value) == 0) {
                // Done speaking; a short pause so the last digit is not cut off.
                ph = phase::settling;
                m.arm_op_timer(this, m.opts_.voice_hangup_delay);
            }
            return true;
        }
        return false;
    }

    void hang_up(impl& m, bool ok, std::string error) {
        ph = phase::hanging_up;
        m.op_timer_.cancel();
        bool sent = m.op_submit(this, make_command("ATH", m.opts_.command_timeout), [this, &m, ok, error](const at_result& r) {
            if (!r.ok()) spdlog::warn("modem {}: ATH failed: {}", m.id(), describe(r));
            finish(m, ok, error);
        });
        if (!sent) finish(m, ok, std::move(error));
    }

    void finish(impl& m, bool ok, std::string error) {
        if (ok)
            spdlog::info("modem {}: voice OTP to {} read out", m.id(), masked(number));
        else
            spdlog::warn("modem {}: voice OTP to {} failed: {}", m.id(), masked(number), error);
        yes_no_op::finish(m, ok, std::move(error));
    }

private:
    // The readout holds the OTP: wiped once the caller has its answer.
    void on_answer() override { text.clear(); }
};

// ------------------------------------------------------------- impl::impl

namespace {
std::string modem_dir(const modem_options& o, const config::modem_config& c) {
    if (o.state_dir.empty()) return {};
    return o.state_dir + "/modems/" + detail::file_safe_id(c.id);
}

channel_options make_channel_options(const config::modem_config& c, const modem_options& o) {
    channel_options co;
    co.name = c.id;
    co.engine.timeout_threshold = std::max(1u, o.timeout_threshold);
    co.engine.escape_settle = o.escape_settle;
    return co;
}
}  // namespace

modem::impl::impl(net::io_context& ioc, config::modem_config cfg, modem_options opts, const core::Clock& clock)
    : ioc_(ioc),
      cfg_(std::move(cfg)),
      opts_(std::move(opts)),
      clock_(clock),
      dir_(modem_dir(opts_, cfg_)),
      channel_(ioc, make_channel_options(cfg_, opts_)),
      inbox_(inbox_options{dir_.empty() ? std::string{} : dir_ + "/inbox.json", cfg_.id, opts_.inbox_capacity, opts_.reassembly_timeout}),
      reports_(report_store_options{dir_.empty() ? std::string{} : dir_ + "/reports.jsonl", opts_.reports_capacity}),
      reopen_timer_(ioc),
      wait_timer_(ioc),
      op_timer_(ioc),
      periodic_timer_(ioc),
      inbox_timer_(ioc),
      backoff_(opts_.reopen_interval) {
    // Concatenation references only need to differ between messages in flight
    // to one receiver; a random start avoids reusing one right after a restart.
    std::random_device rd;
    next_concat_ref_ = static_cast<std::uint8_t>(rd());
    if (auto e = inbox_.load(); !e.empty()) spdlog::warn("modem {}: inbox: {}", cfg_.id, e);
    if (auto e = reports_.load(); !e.empty()) spdlog::warn("modem {}: reports: {}", cfg_.id, e);
    load_pin_latch();
}

// ================================================================== modem

modem::modem(net::io_context& ioc, config::modem_config cfg, modem_options opts, const core::Clock& clock)
    : impl_(std::make_shared<impl>(ioc, std::move(cfg), std::move(opts), clock)) {
    std::weak_ptr<impl> w = impl_;
    impl_->channel_.on_urc([w](const unsolicited& u) {
        if (auto s = w.lock(); s && !s->shut_down_) s->on_urc(u);
    });
    impl_->channel_.on_close([w](channel_close_reason r, const std::string& detail) {
        if (auto s = w.lock(); s && !s->shut_down_) s->port_lost(r, detail);
    });
    // The inbox may hold incomplete groups from before a restart.
    impl_->arm_inbox_timer();
}

modem::~modem() {
    if (impl_) impl_->shutdown();
}

void modem::start() { impl_->start(); }
void modem::stop(std::function<void()> done) { impl_->stop(std::move(done)); }
void modem::apply_config(const config::modem_config& cfg) { impl_->apply_config(cfg); }
modem_state modem::state() const { return impl_->state_; }
bool modem::ready() const { return impl_->state_ == modem_state::ready; }
bool modem::busy() const { return impl_->op_ != nullptr; }
const modem_identity& modem::identity() const { return impl_->identity_; }
int modem::signal_dbm() const { return impl_->signal_dbm(); }
const modem_counters& modem::counters() const { return impl_->counters_; }
const config::modem_config& modem::config() const { return impl_->cfg_; }
const channel_stats& modem::io_stats() const { return impl_->channel_.stats(); }
bool modem::ussd_session_open() const { return impl_->ussd_session_; }
std::size_t modem::queued_operations() const { return impl_->queue_.size(); }
void modem::on_event(std::function<void(const modem_event&)> cb) { impl_->listener_ = std::move(cb); }
void modem::retry_pin() { impl_->retry_pin(); }

void modem::send_sms(sms_send_request req, std::function<void(sms_send_result)> done) {
    auto& m = *impl_;
    auto op = std::make_unique<impl::send_op>();
    op->done = std::move(done);
    auto digits = destination_digits(req.destination);
    if (!digits) {
        op->answer_error(m, "invalid destination: 3 to 20 digits expected", send_error_kind::permanent);
        return;
    }
    op->destination = *digits;
    submit_options so;
    so.destination = *digits;
    so.destination_international = looks_international(*digits);
    so.request_status_report = req.status_report;
    if (req.validity) so.validity_relative = validity_for(*req.validity);
    so.concat_ref = m.next_concat_ref_;
    auto enc = encode_submit(req.text.view(), so);
    if (!enc.ok()) {
        op->answer_error(m, "cannot encode the message: " + enc.error, send_error_kind::permanent);
        return;
    }
    if (enc.pdus.size() > 1) ++m.next_concat_ref_;
    // Kept for text mode, which the op checks when it starts (the mode is the
    // one of the bring-up it runs under).
    op->international = so.destination_international;
    op->status_report = so.request_status_report;
    op->validity = so.validity_relative.value_or(167);
    op->text = std::move(req.text);
    op->result.parts = static_cast<int>(enc.pdus.size());
    for (auto& p : enc.pdus) op->pdus.push_back(std::move(p.hex));
    m.enqueue(std::move(op));
}

void modem::ussd(const std::string& code, std::function<void(ussd_result)> done) {
    auto op = std::make_unique<impl::ussd_op>();
    op->code = code;
    op->done = std::move(done);
    impl_->enqueue(std::move(op));
}

void modem::ussd_reply(const std::string& text, std::function<void(ussd_result)> done) {
    auto op = std::make_unique<impl::ussd_op>();
    op->code = text;
    op->done = std::move(done);
    if (!impl_->ussd_session_) {
        op->answer_error(*impl_, "no USSD session is waiting for a reply", send_error_kind::permanent);
        return;
    }
    impl_->enqueue(std::move(op));
}

void modem::ussd_cancel(std::function<void()> done) {
    auto& m = *impl_;
    // A request still waiting for its answer ends here.
    if (m.op_ && std::string_view(m.op_->name()) == "ussd") {
        m.op_->answer_error(m, "USSD cancelled", send_error_kind::none);
        m.complete_op();
    }
    m.ussd_session_ = false;
    auto cb = std::make_shared<std::function<void()>>(std::move(done));
    bool sent = m.channel_.is_open() && m.submit(make_ussd_cancel(), [cb](impl& self, const at_result&) {
        if (*cb) self.post_user(std::move(*cb));
    });
    if (!sent && *cb) m.post_user(std::move(*cb));
}

void modem::set_sim_lock(bool enable, const std::string& pin, std::function<void(bool ok, std::string error)> done) {
    auto op = std::make_unique<impl::simple_op>();
    op->op_name = "sim_lock";
    op->done = std::move(done);
    op->cmd = make_clck_set(enable, pin);
    if (op->cmd) op->cmd->timeout = std::max(op->cmd->timeout, impl_->opts_.command_timeout);
    op->invalid = "the PIN must be 4 to 8 digits";
    op->explain = [](const at_result& r) {
        // Each wrong PIN costs one of the SIM's (usually three) attempts.
        if (r.status == at_status::cme_error && r.code == 16) return std::string("incorrect PIN (the SIM counted this attempt)");
        if (r.status == at_status::cme_error && r.code == 12) return std::string("the SIM wants its PUK");
        return "AT+CLCK refused: " + describe(r);
    };
    if (enable && impl_->cfg_.sim_pin.empty())
        spdlog::warn("modem {}: enabling the SIM PIN lock with no sim_pin configured: the next bring-up will stop at SIM PIN", impl_->id());
    impl_->enqueue(std::move(op));
}

void modem::change_imei(const std::string& imei, std::function<void(bool ok, std::string error)> done) {
    auto& m = *impl_;
    auto op = std::make_unique<impl::imei_op>();
    op->imei = imei;
    op->done = std::move(done);
    if (m.state_ == modem_state::ready && !m.vendor_->supports_imei_change) {
        op->answer(m, false,
                   "IMEI change is not supported on this modem (" + std::string(m.vendor_->name) +
                       " profile; AT+EGMR exists on MediaTek-based modules such as SIMCom SIM800)");
        return;
    }
    m.enqueue(std::move(op));
}

void modem::voice_otp(const std::string& destination, core::secure_string spoken_text,
                      std::function<void(bool ok, std::string error)> done) {
    auto& m = *impl_;
    auto op = std::make_unique<impl::voice_op>();
    op->done = std::move(done);
    op->text = std::move(spoken_text);
    auto digits = destination_digits(destination);
    if (!digits) {
        op->answer(m, false, "invalid destination: 3 to 20 digits expected");
        return;
    }
    op->number = (looks_international(*digits) ? "+" : "") + *digits;
    if (m.state_ == modem_state::ready && !m.vendor_->supports_tts) {
        op->answer(m, false,
                   "voice OTP needs text-to-speech, which this modem does not have (" + std::string(m.vendor_->name) +
                       " profile; AT+CTTS is on SIMCom modules)");
        return;
    }
    m.enqueue(std::move(op));
}

std::vector<incoming_sms> modem::inbox() const { return impl_->inbox_.list(); }
bool modem::delete_inbox(const std::string& id) { return impl_->inbox_.remove(id); }
bool modem::mark_inbox_read(const std::string& id, bool read) { return impl_->inbox_.mark_read(id, read); }
std::vector<sent_record> modem::recent_sent(std::size_t n) const { return impl_->reports_.recent(n); }

}  // namespace otppi::modem
