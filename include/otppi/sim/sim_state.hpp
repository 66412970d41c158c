// The "device brain" of the modem simulator: what a SIMCom SIM800L answers to
// an AT dialogue, with no I/O (sans-io). Bytes from the driver go in, bytes
// for the driver come out, and timed events (the +CMGS of a send, +CDS, +CUSD)
// run when the owner calls on_time() with a clock value past next_deadline().
//
// Contract
// - on_input() takes the driver's bytes in chunks of any size. The device
//   echoes (while echo is on), runs one command per CR, and queues replies;
//   take_output() hands them over. Time only advances through the `now`
//   arguments, so a test can drive the device without sleeping.
// - One command at a time, like the real module: bytes that arrive while a
//   send is being "transmitted" (send_delay) are held and run afterwards.
// - Unsolicited codes (+CMTI, +CDS, +CUSD, +CTTS) go out as soon as they
//   happen, except while the device waits for a PDU after "> " (the link is
//   reserved then, 27.005 <mode> 2): they are flushed when the send ends.
// - +CMTI needs AT+CNMI <mt> 1 (the power-up default, 2,1,0,0,0); +CDS needs
//   <ds> 1 (the driver's bring-up sets AT+CNMI=2,1,0,1,0) and the SRR bit in
//   the SUBMIT, and options.status_reports.
// - Text mode (AT+CMGF=1): AT+CSCS ("IRA", "GSM", "UCS2", "HEX"), AT+CSMP
//   <fo>/<vp>/<dcs> and AT+CSDH shape what AT+CMGS reads after "> " and what
//   AT+CMGR/AT+CMGL/+CDS print (27.005 3.1, 3.5.1): hex for a UCS2 <dcs> or a
//   user data header, else the text in the TE set. One part per message:
//   longer text is refused with +CMS ERROR: 305. options.text_only is a modem
//   without PDU mode, options.ucs2_charset whether "UCS2" is offered.
// - Secrets never reach commands(): PINs/PUKs are masked as "****" and the
//   text of AT+CTTS (a spoken OTP) is replaced by "<redacted>"; PDU bodies and
//   text-mode message bodies are not commands and are not logged.
// - Device input never throws; injection methods throw std::invalid_argument
//   for unusable arguments (test bugs, not device behaviour).
// - Histories (sent(), commands(), calls()) keep the last options.history_limit
//   entries; sent_count() counts every message ever accepted.
//
// Layout: the byte-level input, power, time and the basic commands are in
// src/sim/sim_state.cpp; the extended commands (AT+NAME...) are a table of
// {name, handler} (sim_commands.cpp), each handler next to the state it
// works on: the SIM card, the message storage, calls and USSD.
//
// Thread-safety: none. modem_simulator wraps it in a mutex and a thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otppi/modem/at_commands.hpp"

namespace otppi::sim {

struct sim_options {
    std::string manufacturer = "SIMCOM_Ltd", model = "SIMCOM_SIM800L", revision = "Revision:1418B04SIM800L24";
    std::string imei = "359848091599999", imsi = "510101234567890", iccid = "89621010691340116477";
    std::string operator_name = "TELKOMSEL", smsc = "+6281100000", own_number = "";
    // Empty: the SIM's PIN lock is off (its PIN is then "1234", for AT+CLCK).
    // Else AT+CPIN? answers SIM PIN until this PIN is entered; 3 wrong -> SIM PUK.
    std::string pin;
    std::string puk = "12345678";
    // From the PDU + Ctrl-Z to +CMGS (a real modem takes 1-5 s; tests use small values).
    std::chrono::milliseconds send_delay{250};
    std::chrono::milliseconds ussd_delay{100};
    bool echo = true;  // modems power up with echo on (ATE0 turns it off)
    int signal_rssi = 20;
    // +CDS after each accepted part that asked for a report (SRR), after report_delay.
    bool status_reports = true;
    std::chrono::milliseconds report_delay{50};
    bool supports_tts = true, supports_imei_change = true;
    // Optional symlink to the pty slave (removed on unplug, recreated on replug).
    std::string link;

    // ---- beyond the basic contract
    std::chrono::milliseconds tts_delay{200};  // AT+CTTS until "+CTTS: 0" (done speaking)
    // ATD ...; -> the callee answers after this (AT+CLCC: dialling, alerting, then active);
    // never when answer_calls is false (the call stays "alerting").
    std::chrono::milliseconds call_answer_delay{200};
    bool answer_calls = true;
    std::size_t storage_capacity = 30;   // SMS slots of the SIM ("SM")
    std::size_t history_limit = 100000;  // entries kept by sent()/commands()/calls()
    // Emit RDY/+CFUN: 1/+CPIN: .../Call Ready/SMS Ready at power-up, as a SIM800
    // with a fixed baud rate does. Off by default: the factory setting is
    // autobauding, which says nothing until the first AT.
    bool boot_urcs = false;
    // Text mode (27.005 AT+CMGF=1) is always there. text_only: a modem without
    // PDU mode (AT+CMGF=0 -> ERROR, AT+CMGF=? lists only 1, text mode at
    // power-up). ucs2_charset: AT+CSCS offers "UCS2".
    bool text_only = false;
    bool ucs2_charset = true;
};

// One message accepted by the "network" (+CMGS answered); concatenated parts
// come out as one entry once all parts arrived.
struct sent_sms {
    std::string destination;  // digits as in the PDU (no '+')
    std::string text;         // UTF-8 (hex for 8-bit data)
    int parts = 1;
    std::vector<int> message_references;  // TP-MR of each part, in part order
    bool status_report_requested = false;
    std::optional<int> validity;  // TP-VP relative, when present
    std::string raw_pdus_joined_by_comma;
};

// A call placed with ATD and what AT+CTTS said during it.
struct voice_call {
    std::string number;
    std::vector<std::string> spoken;  // UTF-8 (UCS-2 hex of AT+CTTS=1 is decoded)
    bool active = false;              // not hung up yet
    bool answered = false;            // the callee picked up
};

enum class fault {
    none,
    cms_error,            // the next N sends answer +CMS ERROR: <code> (after send_delay)
    silent,               // ignores the next N commands (no echo, no answer, no URCs)
    silent_after_prompt,  // the next N sends get "> " but the PDU is never answered
    error,                // the next N commands answer ERROR
    sim_removed,          // +CPIN? -> +CME ERROR: 10, SMS -> +CMS ERROR: 310, no URC (N ignored)
};
std::string_view to_string(fault f) noexcept;

using sim_clock = std::chrono::steady_clock;

class modem_device {
public:
    explicit modem_device(sim_options options, sim_clock::time_point now = sim_clock::now());

    // ---- I/O side (the simulator's loop)
    void on_input(std::string_view bytes, sim_clock::time_point now);
    void on_time(sim_clock::time_point now);
    std::optional<sim_clock::time_point> next_deadline() const;
    std::string take_output();
    bool has_output() const noexcept { return !output_.empty(); }
    // Power loss and power-up: settings back to defaults (echo on, CMEE 0,
    // CNMI 2,1,0,0,0), the SIM locked again if its PIN lock is on, pending
    // sends, reports and USSD lost. Kept: SIM storage, the PIN, the IMEI
    // (EGMR writes NV memory), the TP-MR counter, faults and all histories.
    void power_cycle(sim_clock::time_point now);

    // ---- injection
    void set_fault(fault f, int cms_code, int count, sim_clock::time_point now);
    void clear_fault(sim_clock::time_point now);
    fault current_fault() const noexcept { return fault_; }
    // Stores the message (several parts when long) in "SM" and announces each
    // part (+CMTI with CNMI <mt> 1; +CMT without storing with <mt> 2).
    // Throws std::invalid_argument when `from`/`text` cannot be encoded.
    void deliver_sms(const std::string& from, const std::string& utf8_text, sim_clock::time_point now);
    void set_ussd_reply(const std::string& code, const std::string& reply_utf8, bool ucs2, bool wait_for_reply);
    void set_send_delay(std::chrono::milliseconds d) noexcept { options_.send_delay = d; }
    void set_signal(int rssi) noexcept { options_.signal_rssi = rssi; }
    // +CREG <stat>: 1 home, 5 roaming, 0/2/3 not registered (sends fail with 331).
    void set_registration(int stat) noexcept { registration_ = stat; }
    // The callee hangs up: "NO CARRIER" when a call is up.
    void end_call(sim_clock::time_point now);

    // ---- observation
    const std::deque<sent_sms>& sent() const noexcept { return sent_; }
    std::size_t sent_count() const noexcept { return sent_total_; }
    const std::deque<std::string>& commands() const noexcept { return commands_; }
    const std::deque<voice_call>& calls() const noexcept { return voice_.calls; }
    std::size_t stored_count() const noexcept;
    const std::string& imei() const noexcept { return imei_; }
    bool echo() const noexcept { return echo_; }
    const sim_options& options() const noexcept { return options_; }

private:
    enum class input_mode { command, pdu, text };
    enum class sim_status { ready, pin, puk };
    enum class event_tag { none, send, report, ussd, tts, boot, call };
    enum class vendor_kind { simcom, simcom_lte, quectel, huawei, other };

    struct stored_sms {
        int stat = 0;  // 0 unread, 1 read, 2 unsent, 3 sent
        std::string pdu;
        int tpdu_length = 0;
    };
    struct partial_message {
        std::map<int, std::string> texts;  // by seq
        std::map<int, int> refs;
        std::map<int, std::string> pdus;
        int total = 0;
        sent_sms first;
    };
    struct timed_event {
        sim_clock::time_point at;
        std::uint64_t seq = 0;
        event_tag tag = event_tag::none;
        std::function<void(sim_clock::time_point)> run;
    };

    // ---- the device's state, by part (settings of the AT interface stay flat below)
    // The SIM card: its lock and retry counters live on the card, so a power
    // cycle keeps a PUK-blocked SIM blocked.
    struct sim_card {
        sim_status status = sim_status::ready;
        bool pin_lock = false;
        std::string pin;
        int pin_attempts = 3;
        int puk_attempts = 10;
    };
    // The SIM's message storage ("SM"), slot i at index i - 1.
    struct sms_storage {
        std::vector<std::optional<stored_sms>> slots;
        std::uint16_t next_concat_ref = 1;  // for messages delivered in parts
    };
    // Voice calls placed with ATD, and what AT+CTTS said in them.
    struct call_state {
        std::deque<voice_call> calls;
        int stat = 0;  // +CLCC <stat> of the active call: 2 dialling, 3 alerting, 0 active
    };
    struct ussd_reply {
        std::string text;
        bool ucs2 = false;
        bool wait_for_reply = false;  // +CUSD: 1, the network waits for an answer
    };
    struct ussd_state {
        std::map<std::string, ussd_reply> replies;  // by code
        bool session = false;
        int presentation = 0;  // AT+CUSD=<n>, a setting reset at power-up
    };

    // ---- extended commands (AT+NAME...): a table of {name, handler}
    // One command line, parsed once: which of the four forms, and its arguments.
    struct ext_call {
        std::string name;  // upper-cased, e.g. "+CMGS"
        std::string args;  // after '=', case kept (quoted text)
        std::vector<modem::detail::field> f;
        sim_clock::time_point now;
        bool exec = false, read = false, test = false, set = false;
    };
    using ext_handler = void (modem_device::*)(const ext_call&);
    struct ext_command {
        std::string_view name;
        ext_handler handler;
    };
    static const ext_command* find_command(std::string_view name);

    // input
    void feed_byte(char c, sim_clock::time_point now);
    void run_line(std::string line, sim_clock::time_point now);
    // Ends message entry (Ctrl-Z, or ESC when `cancel`): the body, or nullopt
    // when it was cancelled or a fault swallows it (answered here).
    std::optional<std::string> end_message_input(bool cancel);
    void end_pdu(bool cancel, sim_clock::time_point now);
    void end_text(bool cancel, sim_clock::time_point now);
    // Text mode helpers: the typed body as UTF-8 (nullopt: not decodable with
    // the current AT+CSCS / AT+CSMP), a stored message as +CMGR/+CMGL print it
    // (header after "+CMGR: "/"+CMGL: <index>,", then CR LF and the body), and
    // the +CDS of a status report in the current format.
    std::optional<std::string> text_body_utf8(const std::string& body) const;
    std::optional<std::string> text_record(const stored_sms& s) const;
    std::string te_string(std::string_view utf8) const;
    std::string status_report_urc(int mr, const std::string& recipient) const;

    // command handlers
    void execute(const std::string& cmd, sim_clock::time_point now);
    void handle_extended(const std::string& cmd, sim_clock::time_point now);
    // general and network (sim_commands.cpp)
    void x_identity(const ext_call& c);  // +CGMI +CGMM +CGMR +CGSN +GCAP and their V.25ter names
    void x_cmee(const ext_call& c);
    void x_cops(const ext_call& c);
    void x_creg(const ext_call& c);
    void x_csq(const ext_call& c);
    void x_cfun(const ext_call& c);
    void x_csclk(const ext_call& c);
    void x_cbc(const ext_call& c);
    void x_cclk(const ext_call& c);
    void x_curc(const ext_call& c);
    void x_accepted(const ext_call& c);  // settings taken without being modelled
    // SIM (sim_commands.cpp)
    void x_cimi(const ext_call& c);
    void x_iccid(const ext_call& c);
    void x_crsm(const ext_call& c);
    void x_cpin(const ext_call& c);
    void x_clck(const ext_call& c);
    void x_csca(const ext_call& c);
    void x_cnum(const ext_call& c);
    // messaging (sim_messaging.cpp)
    void x_cmgf(const ext_call& c);
    void x_cscs(const ext_call& c);
    void x_cnmi(const ext_call& c);
    void x_csms(const ext_call& c);
    void x_cmms(const ext_call& c);
    void x_cpms(const ext_call& c);
    void x_csmp(const ext_call& c);
    void x_csdh(const ext_call& c);
    void x_cmgs(const ext_call& c);
    void x_cmgl(const ext_call& c);
    void x_cmgr(const ext_call& c);
    void x_cmgd(const ext_call& c);  // +CMGD and SIMCom's +CMGDA
    // calls, USSD, vendor extras (sim_voice_ussd.cpp)
    void x_clcc(const ext_call& c);
    void x_cusd(const ext_call& c);
    void x_ctts(const ext_call& c);
    void x_egmr(const ext_call& c);
    void cmd_cpin(const std::string& args);
    void cmd_clck(const std::string& args);
    void cmd_cmgs(const std::string& args);
    void cmd_cmgl(const std::string& args);
    void cmd_cmgr(const std::string& args);
    void cmd_cmgd(const std::string& args);
    void cmd_cpms(const std::string& args);
    void cmd_cusd(const std::string& args, sim_clock::time_point now);
    void cmd_ctts(const std::string& args, sim_clock::time_point now);
    void cmd_egmr(const std::string& args);
    void cmd_cnmi(const std::string& args);
    void cmd_clcc();
    voice_call* active_call();

    // sending
    void accept_submit(const std::string& pdu_hex, sim_clock::time_point now);
    void record_part(const std::string& pdu_hex, int mr);

    // output helpers
    void emit(std::string_view bytes);
    void info(std::string_view line);  // "\r\n<line>\r\n"
    void ok();
    void error();
    void cme_error(int code);
    void cms_error(int code);
    void urc(std::string text);
    void flush_held_urcs();

    bool sim_usable(bool sms);  // answers the error itself when not
    void schedule(sim_clock::time_point at, event_tag tag, std::function<void(sim_clock::time_point)> fn);
    void cancel_events(event_tag tag);
    void reset_settings();
    void power_up(sim_clock::time_point now);
    void consume_fault();
    int first_free_slot() const;
    void log_command(std::string masked);
    void push_sent(sent_sms s);

    sim_options options_;
    std::string output_;

    // settings (reset at power-up)
    bool echo_ = true;
    int cmee_ = 0;
    int cmgf_ = 0;
    std::string cscs_ = "IRA";
    int cnmi_mode_ = 2, cnmi_mt_ = 1, cnmi_bm_ = 0, cnmi_ds_ = 0, cnmi_bfr_ = 0;
    int csms_ = 0;
    int cmms_ = 0;
    int creg_n_ = 0;
    int cfun_ = 1;
    int csclk_ = 0;
    int csmp_fo_ = 17, csmp_vp_ = 167, csmp_dcs_ = 0;
    int csdh_ = 0;
    int cops_format_ = 0;

    // input state
    input_mode mode_ = input_mode::command;
    std::string line_;
    bool line_overflow_ = false;
    std::string body_;  // PDU hex or text-mode text after "> "
    int cmgs_length_ = 0;
    std::string text_destination_;
    bool busy_ = false;  // a send is in flight: input is held
    std::string held_input_;
    std::vector<std::string> held_urcs_;

    sim_card card_;
    sms_storage store_;
    call_state voice_;
    ussd_state ussd_;
    std::string smsc_;

    // modem
    std::string imei_;
    vendor_kind vendor_ = vendor_kind::simcom;
    int registration_ = 1;
    int next_mr_ = 0;

    // faults
    fault fault_ = fault::none;
    int fault_code_ = 0;
    int fault_count_ = -1;

    // timed events, ordered by (at, seq)
    std::vector<timed_event> events_;
    std::uint64_t event_seq_ = 0;

    // observation
    std::deque<sent_sms> sent_;
    std::size_t sent_total_ = 0;
    std::map<std::string, partial_message> partial_;
    std::deque<std::string> commands_;
};

namespace detail {
// "AT+CPIN=\"1234\"" -> "AT+CPIN=\"****\"", AT+CTTS -> "AT+CTTS=<redacted>".
std::string mask_command(std::string_view line);
// "628126666666" -> "62812****666": the middle of a number for logs.
std::string mask_number(std::string_view digits);
}  // namespace detail

}  // namespace otppi::sim
