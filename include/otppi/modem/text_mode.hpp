// SMS text mode (3GPP TS 27.005, AT+CMGF=1): the fallback for modems that do
// not do PDU mode, or are configured not to use it.
//
// What text mode can and cannot do, and so what the driver does with it:
// - One part per message. Concatenated SMS need a user data header, which a
//   text-mode AT+CMGS cannot add (27.005 3.5.1 lets <fo> announce one only for
//   hex bodies the TE builds itself). plan_text_send() refuses longer texts.
// - The body is typed in the TE character set (AT+CSCS). The driver keeps
//   "GSM" and types GSM 7-bit default-alphabet codes, one byte each; a line
//   break is typed as CR (27.005 lets CR into the body; the modem answers each
//   with a new "> "). Codes that the entry mode itself takes as control
//   characters cannot be typed: 0x00 '@' (a NUL ends C strings in firmware),
//   0x08 'ò' (backspace), 0x1A 'Ξ' (Ctrl-Z ends the body), 0x1B (ESC cancels,
//   so no extension-table character: € [ ] { } \ ^ ~ |). Texts with those, or
//   with characters outside the GSM alphabet, go as UCS2: AT+CSCS="UCS2",
//   AT+CSMP <dcs> 8 and the UTF-16 text in hex (the destination then in UCS2
//   hex as well), when the modem lists UCS2 in AT+CSCS=?; else they are refused.
// - Reading: with UCS2 available, messages are read with AT+CSCS="UCS2" so the
//   body is hex whatever it contains (a body line "OK" cannot end the reply
//   early, '@' is not lost as a NUL). AT+CSDH=1 adds <fo> and <dcs> to the
//   header, which tell hex 8-bit/UCS2 bodies and user data headers apart.
//
// Contract: pure functions, no I/O; malformed modem output gives nullopt or an
// empty vector, never an exception (only std::bad_alloc). Builders refuse
// input they cannot put on the wire safely. Thread-safety: stateless.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/pdu.hpp"

namespace otppi::modem {

// The message format a modem runs in after bring-up.
enum class sms_format : std::uint8_t { pdu, text };
std::string_view to_string(sms_format f) noexcept;

// modems[].sms_mode: "pdu" (default), "text", or "auto" (PDU, text when the
// modem refuses PDU mode).
enum class sms_mode_setting : std::uint8_t { pdu, text, automatic };
// Anything but "text" and "auto" is pdu (the config schema admits only the three).
sms_mode_setting sms_mode_from_config(std::string_view s) noexcept;
std::string_view to_string(sms_mode_setting m) noexcept;

// The TE character set (AT+CSCS) the driver uses in text mode.
enum class text_charset : std::uint8_t { gsm, ucs2 };
std::string_view to_string(text_charset c) noexcept;  // "GSM", "UCS2"

// ------------------------------------------------------------ bring-up
// AT+CMGF=? -> "+CMGF: (0,1)", "(0-1)", "(1)": the message formats offered.
std::optional<std::vector<int>> parse_cmgf_modes(lines_view lines);
// AT+CSCS=? -> +CSCS: ("IRA","GSM","UCS2"): upper-cased names.
std::vector<std::string> parse_cscs_list(lines_view lines);

// ------------------------------------------------------------- sending
inline constexpr std::size_t text_mode_max_gsm7 = 160;  // septets of one part
inline constexpr std::size_t text_mode_max_ucs2 = 70;   // UTF-16 code units of one part

enum class text_plan_error : std::uint8_t { none, invalid_utf8, too_long, needs_ucs2 };

struct text_send_plan {
    text_charset charset = text_charset::gsm;
    // GSM 7-bit codes one per byte (CR for a line break), or UCS-2 hex.
    std::string body;
    std::size_t units = 0;      // septets or UTF-16 code units
    std::size_t pdu_parts = 1;  // parts the text takes in PDU mode (for the error text)
    text_plan_error error = text_plan_error::none;
    std::string error_text;  // human text, never the message
    bool ok() const noexcept { return error == text_plan_error::none; }
};
// How a UTF-8 text goes out in text mode: GSM when every character can be
// typed (see the header comment), else UCS2 when `ucs2_available`. Refuses
// texts over one part and texts that need UCS2 without it.
text_send_plan plan_text_send(std::string_view utf8, bool ucs2_available);

// AT+CSCS="GSM" / "UCS2".
at_command make_cscs(text_charset cs, std::chrono::milliseconds timeout = std::chrono::seconds(5));
// AT+CSMP=<fo>,<vp>,0,<dcs>: SMS-SUBMIT with relative validity, status report
// requested or not; <dcs> 0 (GSM 7-bit) or 8 (UCS2).
at_command make_csmp(bool status_report, std::uint8_t validity, text_charset cs,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));
// AT+CMGS="<da>",<toda> with the plan's body as data. <da> is "+<digits>"
// (type 145) when international, else the digits (129), in UCS2 hex when the
// plan is UCS2. The command is sensitive (the body is the message). nullopt
// for a number that is not 1..20 digits or a body the entry mode cannot take.
std::optional<at_command> make_send_text(std::string_view digits, bool international, const text_send_plan& plan,
                                         std::chrono::milliseconds send_timeout = std::chrono::seconds(120),
                                         std::chrono::milliseconds prompt_timeout = std::chrono::seconds(10));
// AT+CMGR=<index> and AT+CMGL="ALL" for text mode; sensitive (the reply is message text).
std::optional<at_command> make_read_text(int index, std::chrono::milliseconds timeout = std::chrono::seconds(5));
at_command make_list_text(std::chrono::milliseconds timeout = std::chrono::seconds(60));

// ----------------------------------------------------------- receiving
// One message as AT+CMGR / AT+CMGL / +CDS print it in text mode, fields as
// printed (still in the TE character set).
struct text_sms_record {
    std::optional<int> index;  // from +CMGL
    int stat = 0;              // 0 unread, 1 read, 2 unsent, 3 sent; 0 for +CDS
    bool status_report = false;
    // SMS-DELIVER (and stored SMS-SUBMIT)
    std::string address;  // <oa>/<da>, or <ra> of a status report
    std::optional<int> address_type;
    std::string alpha;
    std::string scts;                 // "yy/MM/dd,hh:mm:ss+zz"
    std::optional<int> fo, pid, dcs;  // with AT+CSDH=1 (CMGR; CMGL prints no <dcs>)
    std::string data;                 // body lines joined with '\n'
    // SMS-STATUS-REPORT
    int mr = -1;
    std::string dt;
    int st = -1;
};
// +CMGR: <stat>,<oa>,[<alpha>],<scts>[,<tooa>,<fo>,<pid>,<dcs>,<sca>,<tosca>,<length>] + <data>
// +CMGR: <stat>,<fo>,<mr>,[<ra>],[<tora>],<scts>,<dt>,<st>   (status report)
std::optional<text_sms_record> parse_cmgr_text(lines_view lines);
// +CMGL: <index>,<stat>,<oa/da>,[<alpha>],[<scts>][,<tooa/toda>,<length>] + <data>, repeated;
// +CMGL: <index>,<stat>,<fo>,<mr>,[<ra>],[<tora>],<scts>,<dt>,<st> for status reports.
std::vector<text_sms_record> parse_cmgl_text(lines_view lines);
// +CDS: <fo>,<mr>,[<ra>],[<tora>],<scts>,<dt>,<st>
std::optional<text_sms_record> parse_cds_text(std::string_view line);
// "yy/MM/dd,hh:mm:ss±zz" (zone in quarter hours; may be missing).
std::optional<sms_timestamp> parse_text_timestamp(std::string_view s);

struct text_deliver {
    sms_address originator;
    std::optional<sms_timestamp> scts;
    user_data ud;
};
// `cs` is the character set the modem printed the record in.
std::optional<text_deliver> decode_text_deliver(const text_sms_record& r, text_charset cs);
std::optional<sms_status_report> decode_text_report(const text_sms_record& r, text_charset cs);

}  // namespace otppi::modem
