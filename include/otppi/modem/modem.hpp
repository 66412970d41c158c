// One GSM modem: port lifecycle, bring-up, and the operations the pool and
// the admin UI use (send SMS, USSD, SIM lock, IMEI change, voice OTP), plus
// the incoming side (inbox, delivery reports).
//
// Contract
// - Lifecycle: disabled (constructed, or stopped) -> start() -> opening (an
//   open attempt; transient, never reported by an event) -> initializing
//   (bring-up runs) -> ready. A port that cannot be opened, or is lost
//   (unplug, read error, consecutive timeouts), or a bring-up that fails for
//   a reason that may pass (no answer, SIM still loading) gives
//   `disconnected`, and the port is retried on a timer: reopen_interval, then
//   doubling up to reopen_max_interval; ready resets the backoff.
// - `failed` keeps the modem out of service until a person acts, and is
//   logged once: no SIM, SIM PIN needed but not configured, wrong PIN, PUK,
//   network/SIM locks, or a send failing with an error of the take_modem_out
//   class (classify_send_failure: +CMS 310-318 and the like). The PIN
//   is tried at most once per configured PIN: a rejected PIN is remembered
//   across reopens and restarts (a marker in state_dir holding a keyed hash of
//   the PIN, never the PIN), so a restart loop cannot PUK-lock the SIM;
//   apply_config() with a different PIN allows one new attempt. A failed
//   modem keeps its port open: unplugging and replugging it (to change the
//   SIM) runs bring-up again; when the failure was "no SIM"/"SIM error", an
//   AT+CPIN? every failed_recheck_interval brings it back once the SIM
//   answers READY.
// - Operations (send_sms, ussd, ussd_reply, set_sim_lock, change_imei,
//   voice_otp) run one at a time; while one runs the modem is busy() and
//   further operations wait in a queue of max_queued_ops; beyond that, or
//   when the modem is not ready, the callback gets an immediate error (for a
//   send: kind retry_elsewhere). Background work (reading and deleting
//   incoming SMS, signal refresh) shares the port between operations but
//   never counts as busy.
// - Sending: the text is encoded with encode_submit (status report as asked,
//   TP-VP from `validity`, else the encoder's 24 h); AT+CMMS=2 precedes a
//   multi-part message when the modem supports it; parts go out strictly in
//   order; a failure part-way reports parts_accepted so the pool never
//   resends an accepted part. Each accepted part is recorded for delivery
//   reports (report_store); the text is never stored or logged.
// - Text mode (identity().sms_mode == text, modems[].sms_mode; see
//   text_mode.hpp): one part per message. A longer text, or one that needs
//   UCS2 on a modem without it, is answered retry_elsewhere before anything
//   is sent (a PDU-mode modem can take it). Incoming messages are read after
//   the operation in flight, since a read switches AT+CSCS.
// - Every callback and event is posted to the io_context: never invoked
//   inside the call that caused it. Each operation's callback is called
//   exactly once - unless the modem object is destroyed first: ~modem()
//   DROPS the callbacks of operations in flight or queued (none of them
//   runs afterwards, also not ones already posted). Call stop() and wait for
//   its callback to have every operation answered.
// - stop(done): queued operations are answered with an error ("modem
//   stopping"), a USSD wait ends at once, a send or voice call in flight
//   finishes (each command has its deadline, so this is bounded by
//   send_timeout per part), then the port closes, the state becomes disabled
//   and `done` is posted. start() may be called again afterwards.
// - Idle cost: one pending read on the port and one periodic timer
//   (signal_interval; AT+CSQ). A disconnected modem has only its reopen
//   timer; an inbox with an incomplete concatenated message, one timer for
//   its reassembly deadline. The only polling is AT+CLCC during the set-up
//   of a voice OTP call (every voice_poll_interval, bounded by
//   voice_answer_timeout), since modems do not all report "answered".
//
// Thread-safety: none. Construct, call and destroy on the thread that runs
// the io_context; callbacks run there too.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otppi/config/config.hpp"
#include "otppi/core/clock.hpp"
#include "otppi/modem/bringup.hpp"
#include "otppi/modem/inbox.hpp"
#include "otppi/modem/reports.hpp"
#include "otppi/modem/serial_channel.hpp"
#include "otppi/core/secure_string.hpp"

namespace boost::asio {
class io_context;
}

namespace otppi::modem {

enum class modem_state { disabled, disconnected, opening, initializing, ready, failed };
std::string_view to_string(modem_state s) noexcept;

struct modem_options {
    std::string state_dir;  // inbox, reports, PIN marker under <state_dir>/modems/<id>/; empty: memory only
    std::chrono::milliseconds reopen_interval{5000};
    std::chrono::milliseconds command_timeout{10000};  // also the wait for the "> " prompt of AT+CMGS
    std::chrono::milliseconds send_timeout{60000};     // after the PDU, per part
    std::chrono::milliseconds ussd_timeout{30000};     // for the +CUSD answer
    // --- members beyond the pool's interface
    std::chrono::milliseconds reopen_max_interval{30000};
    std::chrono::milliseconds signal_interval{60000};          // AT+CSQ while ready; 0 = never
    std::chrono::milliseconds failed_recheck_interval{60000};  // AT+CPIN? while failed for SIM absence/errors; 0 = never
    std::size_t max_queued_ops = 8;
    unsigned timeout_threshold = 3;  // consecutive timeouts before the port is reopened
    std::chrono::milliseconds escape_settle{300};
    unsigned sim_ready_polls = 15;
    std::chrono::milliseconds sim_poll_delay{1000};
    bool query_own_number = true;
    // Tests: one deadline for every bring-up step instead of the plan's own.
    std::optional<std::chrono::milliseconds> bringup_step_timeout;
    bool exclusive_port = true;  // TIOCEXCL
    // Voice OTP: AT+CLCC is asked every voice_poll_interval until the call is
    // active; a modem that cannot tell (AT+CLCC refused, or no call listed)
    // is given voice_connect_delay after ATD before the text is spoken.
    std::chrono::milliseconds voice_connect_delay{6000};
    std::chrono::milliseconds voice_poll_interval{1000};
    std::chrono::milliseconds voice_answer_timeout{45000};
    std::chrono::milliseconds voice_speak_timeout{90000};  // upper bound for "+CTTS: 0"
    std::chrono::milliseconds voice_hangup_delay{1000};    // after the readout, before ATH
    std::chrono::seconds reassembly_timeout{std::chrono::minutes(30)};
    std::size_t inbox_capacity = 1000;
    std::size_t reports_capacity = 10000;
    int reports_retention_days = 0;  // sms.log_retention_days; 0: capacity only
};

struct sms_send_request {
    std::string destination;  // international digits ("628126666666"; a leading '+' is accepted)
    core::secure_string text;
    bool status_report = true;
    std::optional<std::chrono::seconds> validity;
};

enum class send_error_kind { none, retry_elsewhere, permanent, take_modem_out };
std::string_view to_string(send_error_kind k) noexcept;

struct sms_send_result {
    bool ok = false;
    int message_reference = -1;  // last part's TP-MR
    int parts = 0;
    int parts_accepted = 0;
    // No answer after a PDU was written: the modem may have sent that part.
    // The pool never hands such a message to another modem.
    bool maybe_sent = false;
    send_error_kind kind = send_error_kind::none;
    std::string error;  // human text, never the message
};

// NOTE: the pool interface called this `ussd_response`; that name is already
// taken in this namespace by the +CUSD parser's result (at_commands.hpp).
struct ussd_result {
    bool ok = false;
    std::string text;  // decoded UTF-8
    std::string raw;   // the quoted payload as the modem sent it
    int dcs = -1;
    bool replyable = false;  // +CUSD: 1: the network waits for ussd_reply()
    std::string error;
    // --- members beyond the pool's interface
    int status = -1;  // <m> of +CUSD
};

struct modem_event {
    enum class kind { state_changed, incoming_sms, delivery_report, identity_updated } what;
    modem_state state;
    std::string detail;  // state_changed: why (e.g. "unplugged", "sim_pin_required")
    std::optional<incoming_sms> sms;
    std::optional<delivery_report> report;
};

struct modem_counters {
    std::uint64_t sent = 0, failed = 0, parts = 0, timeouts = 0, reopens = 0;
    std::string last_error;
    // --- members beyond the pool's interface
    std::uint64_t received = 0;  // incoming messages stored
    std::uint64_t reports = 0;   // delivery reports received
};

class modem {
public:
    modem(boost::asio::io_context& ioc, config::modem_config cfg, modem_options opts, const core::Clock& clock);
    ~modem();
    modem(const modem&) = delete;
    modem& operator=(const modem&) = delete;

    void start();
    void stop(std::function<void()> done);
    // Serial settings or vendor changed -> reopen (after the operation in
    // flight); a new sim_pin re-arms the one PIN attempt and retries bring-up
    // when the modem failed for its PIN; name/prefix changes need nothing here.
    void apply_config(const config::modem_config& cfg);
    // The admin says the SIM's PIN was fixed: forget the rejected-PIN marker and
    // allow one attempt with the configured PIN (re-runs bring-up when failed).
    void retry_pin();

    modem_state state() const;
    bool ready() const;
    bool busy() const;
    const modem_identity& identity() const;
    int signal_dbm() const;  // 0 when unknown
    const modem_counters& counters() const;
    const config::modem_config& config() const;

    void send_sms(sms_send_request req, std::function<void(sms_send_result)> done);
    void ussd(const std::string& code, std::function<void(ussd_result)> done);
    void ussd_reply(const std::string& text, std::function<void(ussd_result)> done);
    void ussd_cancel(std::function<void()> done);
    void set_sim_lock(bool enable, const std::string& pin, std::function<void(bool ok, std::string error)> done);
    void change_imei(const std::string& imei, std::function<void(bool ok, std::string error)> done);
    void voice_otp(const std::string& destination, core::secure_string spoken_text, std::function<void(bool ok, std::string error)> done);

    std::vector<incoming_sms> inbox() const;
    bool delete_inbox(const std::string& id);
    bool mark_inbox_read(const std::string& id, bool read = true);
    std::vector<sent_record> recent_sent(std::size_t n) const;

    void on_event(std::function<void(const modem_event&)> cb);

    // Diagnostics and tests.
    const channel_stats& io_stats() const;
    bool ussd_session_open() const;
    std::size_t queued_operations() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace otppi::modem
