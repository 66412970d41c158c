// AT byte-stream framing and line classification (sans-io, no I/O, no time).
//
// Contract
// - at_parser turns the bytes a modem port produces, in chunks of any size
//   (one byte at a time included), into frames: complete lines, the SMS
//   prompt "> ", and overflow reports for lines longer than max_line.
//   Lines end in CR LF; a lone CR or LF also ends a line; empty lines vanish.
//   C0 control characters other than CR/LF (NUL at power-up, an echoed ESC or
//   Ctrl-Z) are dropped, and lines are trimmed of blanks.
// - Two-line unsolicited codes of PDU mode (+CMT, +CDS, +CBM: a header and a
//   hex PDU line) come out as one frame with `pdu` set. A header whose next
//   line is not hex comes out alone (text mode, or a damaged PDU). The
//   one-line text-mode form of +CDS (it has quoted time stamps) is not held.
// - A +CUSD line whose quoted text spans several lines (USSD menus) is joined
//   with '\n' until the quote closes, a final result code shows up, or the
//   line limit is reached.
// - Memory stays bounded by about 2 * max_line per parser whatever the input.
//   Device input never throws (only std::bad_alloc can).
// - classify_line() decides, from what command is in flight, whether a line
//   is a final result, an information line of that command, or an
//   unsolicited result code (URC). It is pure.
//
// Thread-safety: none. One parser per port, used from the port's executor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace otppi::modem {

// How a command ended.
enum class at_status : std::uint8_t {
    ok,
    error,       // plain ERROR (no detail; CMEE=0 or a syntax error)
    cme_error,   // +CME ERROR: <n|text>  (equipment / SIM / network)
    cms_error,   // +CMS ERROR: <n|text>  (SMS service)
    no_carrier,  // call progress results, only final for ATD
    busy,
    no_answer,
    no_dialtone,
    connect,
    timeout,  // no final result before the deadline
    aborted,  // dropped by reset()/cancel() before or while it ran
};
std::string_view to_string(at_status s) noexcept;

// The outcome of one AT command.
struct at_result {
    at_status status = at_status::ok;
    // Numeric +CME/+CMS code; for the verbose form (CMEE=2) the code is filled
    // in when the text is one we know, and error_text keeps the text.
    std::optional<int> code;
    std::string error_text;
    // Information lines that belong to the command, in arrival order
    // (echo and URCs removed).
    std::vector<std::string> lines;
    // Some lines were lost (too long, or more than the engine keeps).
    bool truncated = false;
    // The command's data phase (e.g. the PDU after "> ") had been written
    // when it ended: on a timeout the modem may have acted on it (sent the
    // SMS) without us hearing back, so it must not be repeated elsewhere.
    bool data_sent = false;

    bool ok() const noexcept { return status == at_status::ok; }
};
// For logs and error texts: "+CME ERROR 10 (SIM not inserted)", "timeout".
std::string describe(const at_result& r);

enum class urc_kind : std::uint8_t {
    sms_stored,            // +CMTI: "SM",3
    sms_deliver,           // +CMT: ,23 + PDU line
    status_report,         // +CDS: 25 + PDU line
    status_report_stored,  // +CDSI: "SM",4
    cell_broadcast,        // +CBM: 88 + PDU line
    ussd,                  // +CUSD: 0,"...",15
    ring,                  // RING, +CRING: VOICE
    call_ended,            // NO CARRIER / BUSY / NO ANSWER / NO DIALTONE outside a dial
    caller_id,             // +CLIP, +CCWA
    registration,          // +CREG/+CGREG/+CEREG unsolicited form
    sim_status,            // +CPIN: NOT READY, +QUSIM, +CSMINS, ^SIMST
    modem_ready,           // RDY, Call Ready, SMS Ready, PB DONE
    power,                 // power-down and voltage warnings, +CFUN
    signal,                // ^RSSI, ^HCSQ, +CSQN
    network_time,          // *PSUTTZ, +CTZV, +CTZE, DST
    tts,                   // +CTTS (SIMCom text-to-speech finished)
    vendor,                // other ^..., +QIND, +QIURC, +CIEV, +CGEV ...
    unknown,               // anything else nobody asked for
};
std::string_view to_string(urc_kind k) noexcept;

struct unsolicited {
    urc_kind kind = urc_kind::unknown;
    std::string name;  // "+CMTI", "^RSSI", "RING": the text before ':' or the whole line
    std::string line;  // the full (first) line
    std::string pdu;   // hex PDU line of +CMT/+CDS/+CBM, else empty
};

struct frame {
    enum class kind_t : std::uint8_t { line, prompt, overflow };
    kind_t kind = kind_t::line;
    std::string text;  // line; for overflow the first bytes of the lost line
    std::string pdu;   // only for two-line URC headers
};

class at_parser {
public:
    static constexpr std::size_t default_max_line = 4096;

    // max_line is clamped to at least 16 bytes.
    explicit at_parser(std::size_t max_line = default_max_line) noexcept;

    // Appends the frames completed by `bytes` to `out`.
    void feed(std::string_view bytes, std::vector<frame>& out);
    // Forget partial state (after the port was reopened).
    void reset() noexcept;
    // Bytes held for an unfinished line (for tests and diagnostics).
    std::size_t buffered() const noexcept { return line_.size() + pending_header_.size(); }

private:
    void end_line(std::vector<frame>& out);
    void deliver(std::string line, std::vector<frame>& out);
    void flush_pending(std::vector<frame>& out);

    std::size_t max_line_;
    std::string line_;            // bytes of the current physical line(s)
    std::string pending_header_;  // +CMT/+CDS/+CBM header waiting for its PDU line
    bool discarding_ = false;     // inside an overlong line: drop until its end
    bool in_cusd_text_ = false;   // line_ is a +CUSD with an open quoted string
    char last_terminator_ = 0;    // to fold CR LF into one '\n' inside +CUSD text
};

// What the engine knows about the command in flight.
struct line_context {
    bool active = false;           // a command is waiting for its final result
    bool dial = false;             // ATD: call progress codes are final results
    std::string_view info_prefix;  // e.g. "+CSQ:"; empty when the reply has none
    bool accept_bare = false;      // lines without a known URC prefix belong to it
};

enum class line_class : std::uint8_t { final_result, info, urc };

struct final_result {
    at_status status = at_status::ok;
    std::optional<int> code;
    std::string text;  // verbose error text, if any
};

// The final result a line stands for, or nullopt. Call progress codes
// (NO CARRIER, BUSY, NO ANSWER, NO DIALTONE, CONNECT) only count with `dial`.
std::optional<final_result> parse_final_result(std::string_view line, bool dial);

line_class classify_line(std::string_view line, const line_context& ctx);

// The URC kind of a line if it is a code we know to be unsolicited.
std::optional<urc_kind> known_urc(std::string_view line);

unsolicited make_unsolicited(std::string_view line, std::string pdu = {});

// Numeric code for a verbose +CME ERROR text (27.007 clause 9.2), if known.
std::optional<int> cme_code_from_text(std::string_view text);
// Numeric code for a verbose +CMS ERROR text (27.005 clause 3.2.5), if known.
std::optional<int> cms_code_from_text(std::string_view text);

namespace detail {
bool iequals(std::string_view a, std::string_view b) noexcept;
bool istarts_with(std::string_view s, std::string_view prefix) noexcept;
std::string_view trim(std::string_view s) noexcept;
bool is_hex(std::string_view s) noexcept;
// "+CREG: 1,\"1A2B\",\"00C3\"" (no <n>) rather than the read-command reply.
bool is_registration_urc_form(std::string_view line) noexcept;
// The text before ':' (trimmed) or the whole line.
std::string_view urc_name(std::string_view line) noexcept;
}  // namespace detail

}  // namespace otppi::modem
