// Modem bring-up as data: a list of steps {command, timeout, processor,
// optional, condition}, run by a small sans-io runner.
//
// Contract
// - probe_steps() (echo off, numeric errors, manufacturer/model) runs first;
//   its answers pick the vendor profile (vendor_for) unless one is forced,
//   then init_steps(vendor) runs: vendor lines, identity, SIM, SMS setup,
//   network state. Both lists are plain values a test can inspect.
// - SMS format (bringup_options::sms_mode): PDU mode is required unless text
//   mode is configured, or "auto" is and the modem refuses AT+CMGF=0 (ERROR,
//   or +CMS 302/303/304, and AT+CMGF=? does not list 0; when it does, the
//   refusal is retried like a SIM still loading, and text mode is taken only
//   once the attempts run out). Text mode then sets AT+CSCS="GSM", asks
//   AT+CSCS=? for UCS2 and turns on AT+CSDH=1 (see text_mode.hpp).
// - The runner does no I/O: start()/on_result()/on_wait_done() return what to
//   do next (send a command, wait, done, failed). The owner submits commands
//   to the at_engine and feeds each completion back with on_result().
// - SIM PIN safety: the PIN is entered by exactly one step, only when the SIM
//   says "SIM PIN", a PIN is configured and the pin_latch is open. That step
//   is single-shot (the runner never repeats it, whatever its processor says)
//   and any outcome but OK closes the latch, which outlives the run: no later
//   bring-up (after a reopen) sends a PIN again until the operator configures
//   a new one with pin_latch::rearm(). A wrong PIN is reported once, as
//   bringup_error::pin_rejected; later runs fail with pin_locked_out.
// - ATZ / AT&F are deliberately not sent: the daemon sets every parameter it
//   relies on, while a profile reset can re-enable echo, change the baud rate
//   or flow control of the port (AT&F on several modules) and reboot some
//   firmwares. ATE0 is the first real command; the engine drops echo anyway.
//
// Thread-safety: none; a runner and its latch belong to one modem's executor.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/at_engine.hpp"
#include "otppi/modem/text_mode.hpp"
#include "otppi/modem/vendors/generic.hpp"

namespace otppi::modem {

struct modem_identity {
    std::string vendor;  // profile name
    std::string manufacturer;
    std::string model;
    std::string revision;
    std::string imei;
    std::string imsi;
    std::string iccid;
    sim_state sim = sim_state::unknown;
    std::string operator_name;
    std::optional<registration_info> registration;
    std::optional<signal_quality> signal;
    std::string smsc;
    std::string own_number;
    bool sms_indications = false;  // AT+CNMI accepted (+CMTI arrives)
    bool status_reports = false;   // ... with <ds>=1 (+CDS arrives)
    std::optional<csms_support> csms;
    bool cmms_supported = false;
    // Message format in use: pdu, or text (configured, or PDU refused in auto).
    sms_format sms_mode = sms_format::pdu;
    bool ucs2_charset = false;  // text mode: AT+CSCS=? lists "UCS2"
    bool text_headers = false;  // text mode: AT+CSDH=1 accepted (<fo>, <dcs> in +CMGR)
};

// Remembers across bring-up runs that a PIN attempt failed.
class pin_latch {
public:
    explicit pin_latch(std::optional<std::string> pin = std::nullopt) : pin_(std::move(pin)) {}

    bool configured() const noexcept { return pin_.has_value(); }
    bool rejected() const noexcept { return rejected_; }
    // A PIN may be entered: one is configured and no attempt has failed.
    bool may_try() const noexcept { return pin_.has_value() && !rejected_; }
    const std::string& pin() const noexcept { return pin_ ? *pin_ : empty_; }
    // Called by the PIN step with its outcome; a failure closes the latch.
    void record(bool accepted) noexcept {
        if (!accepted) rejected_ = true;
    }
    // The operator configured a (new) PIN: allow one attempt with it.
    void rearm(std::optional<std::string> pin) {
        pin_ = std::move(pin);
        rejected_ = false;
    }

private:
    std::optional<std::string> pin_;
    bool rejected_ = false;
    inline static const std::string empty_{};
};

enum class bringup_error : std::uint8_t {
    none,
    no_response,     // a required step timed out (ATE0 on a dead port)
    command_failed,  // a required step answered ERROR
    sim_not_inserted,
    sim_pin_required,    // the SIM wants a PIN and none is configured
    pin_rejected,        // the one PIN attempt failed (this run)
    pin_locked_out,      // an earlier run's PIN attempt failed: not trying again
    invalid_pin_config,  // configured PIN is not 4..8 digits; never sent
    sim_puk_required,
    sim_locked,  // PH-SIM/PH-NET/PIN2 style locks we cannot clear
    sim_failure,
    sim_not_ready,  // SIM never became ready
};
std::string_view to_string(bringup_error e) noexcept;

struct bringup_context {
    modem_identity identity;
    pin_latch* latch = nullptr;
    const vendor_profile* vendor = nullptr;
    bool pin_sent = false;
    // sms_mode auto: what AT+CMGF=? listed (nullopt: not answered), and
    // whether AT+CMGF=0 was accepted.
    std::optional<bool> pdu_listed;
    bool pdu_confirmed = false;
};

enum class step_verdict : std::uint8_t { next, retry, fail };

struct step_outcome {
    step_verdict verdict = step_verdict::next;
    bringup_error error = bringup_error::none;  // for fail, and for retry once attempts run out
    std::string detail;
};

using step_processor = step_outcome (*)(const at_result&, bringup_context&);
using step_condition = bool (*)(const bringup_context&);
using step_builder = std::optional<at_command> (*)(const bringup_context&);

struct bringup_step {
    std::string_view name;
    at_command command;
    step_processor process = nullptr;  // nullptr: OK -> next, else fail
    bool optional = false;             // a failure is recorded and skipped
    step_condition when = nullptr;     // nullptr: always
    step_builder build = nullptr;      // command made at run time (the PIN)
    unsigned max_attempts = 1;
    std::chrono::milliseconds retry_delay{0};
    bool single_shot = false;  // never sent twice in a run, whatever happens
};

struct bringup_options {
    const vendor_profile* vendor = nullptr;  // force a profile; nullptr: pick from CGMI/CGMM
    bool query_own_number = true;            // AT+CNUM (slow or empty on many SIMs)
    unsigned sim_ready_polls = 15;           // AT+CPIN? polls while the SIM initialises
    std::chrono::milliseconds sim_poll_delay{std::chrono::seconds(1)};
    // pdu: AT+CMGF=0 must work. text: AT+CMGF=1. automatic: AT+CMGF=? then
    // AT+CMGF=0, and text mode when the modem refuses PDU mode.
    sms_mode_setting sms_mode = sms_mode_setting::pdu;
};

std::vector<bringup_step> probe_steps(const bringup_options& options = {});
std::vector<bringup_step> init_steps(const vendor_profile& vendor, const bringup_options& options = {});

namespace bringup_actions {
struct send {
    at_command command;
};
struct wait {
    std::chrono::milliseconds delay{};
};
struct done {};
struct failed {
    bringup_error error = bringup_error::none;
    std::string step;
    std::string detail;
};
}  // namespace bringup_actions

using bringup_action = std::variant<bringup_actions::send, bringup_actions::wait, bringup_actions::done, bringup_actions::failed>;

class bringup {
public:
    // `latch` must outlive the runner; it is shared by all runs for one modem.
    explicit bringup(pin_latch& latch, bringup_options options = {});

    bringup_action start();
    // The result of the command of the last send action.
    bringup_action on_result(const at_result& r);
    // The delay of the last wait action has passed.
    bringup_action on_wait_done();

    const modem_identity& identity() const noexcept { return ctx_.identity; }
    // Names of optional steps that failed (for the log / device inspector).
    const std::vector<std::string>& skipped() const noexcept { return skipped_; }
    const std::vector<bringup_step>& plan() const noexcept { return plan_; }
    bool finished() const noexcept { return finished_; }

private:
    enum class phase : std::uint8_t { probe, init };

    bringup_action advance();
    bringup_action send_current();
    bringup_action fail(bringup_error e, std::string detail);

    bringup_options options_;
    bringup_context ctx_;
    std::vector<bringup_step> plan_;
    std::size_t index_ = 0;
    unsigned attempts_ = 0;
    phase phase_ = phase::probe;
    bool finished_ = false;
    bool waiting_ = false;
    std::vector<std::string> skipped_;
};

}  // namespace otppi::modem
