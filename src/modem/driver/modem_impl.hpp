// The driver core behind otppi::modem::modem (include/otppi/modem/modem.hpp):
// port lifecycle and reopen (driver/lifecycle.cpp), the operation queue and
// the one executor of the capability machines (driver/executor.cpp), and the
// routing of unsolicited codes to the operation in flight, then to the
// handlers capabilities and vendors registered (add_urc_handler).
//
// Capability modules define their part of this struct in their own files:
// messaging/ (send, incoming SMS and delivery reports), ussd/, sim/ (PIN
// latch persistence, SIM lock), identity/ (IMEI), voice/; vendor-only
// machines live in vendors/ and are reached through the vendor profile.
//
// Private to src/modem. Thread-safety: none (the io_context's thread).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otppi/core/log.hpp"
#include "otppi/modem/driver/operation.hpp"
#include "otppi/modem/modem.hpp"
#include "otppi/modem/pdu.hpp"
#include "otppi/modem/text_mode.hpp"

namespace otppi::modem {

namespace driver {

// "+628126666666" / "628126666666" -> digits; nullopt when anything else remains.
inline std::optional<std::string> destination_digits(std::string_view s) {
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    if (s.size() < 3 || s.size() > 20) return std::nullopt;
    for (char c : s)
        if (c < '0' || c > '9') return std::nullopt;
    return std::string(s);
}

// Short codes and service numbers are national; everything the pool hands
// over (normalised receivers) is international.
inline bool looks_international(std::string_view digits) { return digits.size() > 8; }

inline std::string masked(std::string_view number) {
    if (!number.empty() && number.front() == '+') number.remove_prefix(1);
    return core::mask_msisdn(number);
}

}  // namespace driver

struct modem::impl : std::enable_shared_from_this<impl> {
    using milliseconds = std::chrono::milliseconds;

    // An operation of the public API: a sans-io machine plus its caller's
    // callback. It runs while it is `op_`; events reach it only while it is.
    struct operation {
        virtual ~operation() = default;
        virtual std::string_view name() const = 0;
        virtual driver::op_step resume(driver::op_env& env, const driver::op_event& ev) = 0;
        // The machine has its outcome: answer the caller (posted), count, log.
        // `aborted`: ended from outside (stop, port lost, queue refused).
        virtual void answer(impl& m, bool aborted) = 0;
        // After the queue moved on (a send whose failure takes the modem out).
        virtual void after(impl&) {}
        // A USSD answer may take 30 s: stop() does not wait for it.
        virtual bool abort_on_stop() const { return false; }
        std::uint64_t serial = 0;
    };
    // An operation answered as (ok, error) whose machine may come from a
    // vendor (SIM lock, IMEI change, voice OTP).
    struct send_operation;    // messaging/send.cpp
    struct ussd_operation;    // ussd/ussd.cpp
    struct answer_operation;  // driver/answer_operation.hpp
    // Answers an (ok, error) caller with an error, without an operation.
    void answer_now(std::function<void(bool, std::string)> done, std::string error);

    enum class failure_class { none, permanent, recheck };
    using urc_handler = std::function<bool(impl&, const unsolicited&)>;

    impl(boost::asio::io_context& ioc, config::modem_config cfg, modem_options opts, const core::Clock& clock);

    boost::asio::io_context& ioc_;
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
    boost::asio::steady_timer reopen_timer_;
    boost::asio::steady_timer wait_timer_;
    boost::asio::steady_timer op_timer_;
    boost::asio::steady_timer periodic_timer_;
    boost::asio::steady_timer inbox_timer_;
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
    // Text mode: what the modem's AT+CSCS and AT+CSMP are as far as we know,
    // and +CMTI indices whose reading waits for the operation in flight (a
    // read switches the character set, which an operation must not see).
    driver::text_link link_;
    std::vector<int> deferred_reads_;
    std::unique_ptr<operation> op_;
    std::deque<std::unique_ptr<operation>> queue_;
    std::uint64_t op_serial_ = 0;
    bool pumping_ = false;
    std::vector<std::pair<urc_kind, urc_handler>> urc_handlers_;

    const std::string& id() const { return cfg_.id; }

    // --------------------------------------------------------------- helpers

    template <class F>
    void post_user(F f) {
        boost::asio::post(ioc_, [w = weak_from_this(), f = std::move(f)]() mutable {
            auto self = w.lock();
            if (!self || self->shut_down_) return;
            f();
        });
    }

    template <class F>
    void post_self(F f) {
        boost::asio::post(ioc_, [w = weak_from_this(), f = std::move(f)]() mutable {
            auto self = w.lock();
            if (!self || self->shut_down_) return;
            f(*self);
        });
    }

    template <class F>
    void arm(boost::asio::steady_timer& t, milliseconds after, F f) {
        t.expires_after(after);
        t.async_wait([w = weak_from_this(), f = std::move(f)](const boost::system::error_code& ec) mutable {
            if (ec) return;
            auto self = w.lock();
            if (!self || self->shut_down_) return;
            f(*self);
        });
    }

    void emit(modem_event ev);
    void set_state(modem_state s, std::string detail = {});
    // Submits a command of this port session; `fn` runs only if the session
    // is still the same when the answer comes.
    bool submit(at_command cmd, std::function<void(impl&, const at_result&)> fn);

    // ------------------------------------------- lifecycle (driver/lifecycle.cpp)
    void start();
    void try_open();
    void schedule_reopen();
    void begin_bringup();
    void on_bringup(bringup_action a);
    void bringup_done();
    void log_sms_mode();
    void bringup_failed(const bringup_actions::failed& f);
    void transient_failure(const std::string& why);
    void enter_failed(failure_class cls, const std::string& why);
    void close_port();
    void port_lost(channel_close_reason reason, const std::string& detail);
    void reopen_now(const std::string& why);
    void stop(std::function<void()> done);
    void finish_stop();
    void shutdown();
    void apply_config(const config::modem_config& c);
    void retry_pin();
    int signal_dbm() const { return identity_.signal && identity_.signal->dbm ? *identity_.signal->dbm : 0; }
    void arm_periodic();
    void on_periodic();
    // Unsolicited codes: the operation in flight first, then the handlers
    // registered for the kind, newest registration of a vendor first.
    void on_urc(const unsolicited& u);
    void add_urc_handler(urc_kind kind, urc_handler h, bool first = false);
    void register_driver_urcs();

    // --------------------------------------- operations (driver/executor.cpp)
    // Why no operation can run now ("modem busy", "not ready"), if so.
    std::optional<std::string> cannot_run() const;
    void enqueue(std::unique_ptr<operation> op);
    void pump_ops();
    // Feeds an event to the operation in flight if it is still `serial`, and
    // carries out the actions it answers with.
    void drive(std::uint64_t serial, const driver::op_event& ev);
    void execute(std::uint64_t serial, std::vector<driver::op_action> actions);
    bool drive_urc(const unsolicited& u);
    // Ends `op` from outside (it may be queued or in flight): its machine
    // gets `abort` and the caller its answer. The owner removes it.
    void abort_op(operation& op, const std::string& why, send_error_kind kind);
    void fail_all_ops(const std::string& why, send_error_kind kind);
    // The operation in flight has its outcome.
    void finish_op();
    // The operation in flight is over; the next one may start.
    void complete_op();
    driver::op_env env();

    // ----------------------------------------- SIM (sim/pin_marker.cpp, sim/sim.cpp)
    std::string pin_marker_path() const { return dir_.empty() ? std::string{} : dir_ + "/pin_rejected"; }
    std::string pin_fingerprint(std::string_view pin) const;
    void remember_rejected_pin();
    void forget_rejected_pin();
    void load_pin_latch();
    void recheck_sim();
    void on_sim_status(const unsolicited& u);
    void register_sim_urcs();

    // ----------------------------- incoming SMS and reports (messaging/incoming.cpp)
    void register_messaging_urcs();
    void sync_storage();
    void read_stored(int index);
    // Reads happen under AT+CSCS="UCS2" when the modem has it: every body is
    // then hex, so no message text can pass for a final result ("OK") or lose
    // characters that are control codes in the GSM set.
    text_charset read_charset() const { return identity_.ucs2_charset ? text_charset::ucs2 : text_charset::gsm; }
    void submit_text_read(at_command cmd, std::function<void(impl&, const at_result&, text_charset)> fn);
    void sync_storage_text();
    void read_stored_text(int index);
    bool handle_text_record(const text_sms_record& rec, text_charset printed);
    void delete_stored(int index);
    bool handle_pdu(const std::string& hex);
    bool store_part(inbox_part p);
    void announce(incoming_sms m);
    void arm_inbox_timer();
    void handle_report(const sms_status_report& sr);

    // ----------------------------------------------------- USSD (ussd/ussd.cpp)
    void register_ussd_urcs();
};

}  // namespace otppi::modem
