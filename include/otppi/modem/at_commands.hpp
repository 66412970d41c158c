// AT response parsers, command builders and error classification.
//
// Contract
// - Pure functions over the information lines of an at_result (or one URC
//   line). Malformed device input yields nullopt / an empty vector / an
//   "unknown" value; nothing here throws on device input or does I/O.
// - PDUs stay hex strings at this layer; decoding them is the PDU codec's job.
// - Builders validate what they put on the wire (no quotes or CR can be
//   smuggled into a command) and return nullopt when the input is unusable.
//
// Thread-safety: stateless, safe from any thread.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "otppi/modem/at_engine.hpp"
#include "otppi/modem/at_parser.hpp"

namespace otppi::modem {

using lines_view = std::span<const std::string>;

// ----------------------------------------------------------------- SIM (+CPIN)
enum class sim_state : std::uint8_t {
    ready,
    sim_pin,
    sim_puk,
    sim_pin2,
    sim_puk2,
    ph_sim_pin,
    ph_net_pin,
    not_inserted,
    not_ready,  // still initialising: ask again later
    busy,       // CME 14: ask again later
    failure,    // CME 13/15
    unknown,
};
std::string_view to_string(sim_state s) noexcept;

std::optional<sim_state> parse_cpin(lines_view lines);
// The SIM state told by an AT+CPIN? result, including the modems that answer
// with +CME ERROR: 10 (no SIM) instead of a +CPIN line.
sim_state sim_state_from(const at_result& r);

// ----------------------------------------------------------- signal (+CSQ)
struct signal_quality {
    int rssi = 99;  // 0..31, 99 unknown
    int ber = 99;
    std::optional<int> dbm;  // 2 * rssi - 113 for 0..31
};
std::optional<signal_quality> parse_csq(lines_view lines);

// ----------------------------------------------------- operator (+COPS?)
struct operator_info {
    int mode = 0;
    std::optional<int> format;
    std::string name;  // empty when not registered
    std::optional<int> act;
};
std::optional<operator_info> parse_cops(lines_view lines);

// ----------------------------------------- registration (+CREG/+CGREG/+CEREG)
enum class reg_status : std::uint8_t {
    not_registered = 0,
    home = 1,
    searching = 2,
    denied = 3,
    unknown = 4,
    roaming = 5,
    sms_only_home = 6,
    sms_only_roaming = 7,
    emergency_only = 8,
    other = 255,
};
struct registration_info {
    std::optional<int> n;  // the <n> of the read-command reply; empty for a URC
    reg_status status = reg_status::unknown;
    std::string lac;
    std::string cell_id;
    std::optional<int> act;
    bool unsolicited = false;
    bool registered() const noexcept {
        return status == reg_status::home || status == reg_status::roaming || status == reg_status::sms_only_home ||
               status == reg_status::sms_only_roaming;
    }
};
// Accepts both the reply of AT+CREG? and the unsolicited form.
std::optional<registration_info> parse_creg(std::string_view line);

// ------------------------------------------------------------- SMSC (+CSCA?)
struct smsc_address {
    std::string number;
    std::optional<int> type;  // 145 international, 129 national/unknown
};
std::optional<smsc_address> parse_csca(lines_view lines);

// ---------------------------------------------------------------- identity
// AT+CGSN: bare digits, "+CGSN: <sn>" or quoted; 14..16 digits.
std::optional<std::string> parse_imei(lines_view lines);
// AT+CIMI: bare digits, 6..15.
std::optional<std::string> parse_imsi(lines_view lines);
// +CCID/+ICCID/+QCCID/^ICCID/ICCID:/bare, or +CRSM read of EF_ICCID.
// Nibble-swapped raw EF contents ("98...") are put back in order and 'F'
// padding is removed. 18..22 digits.
std::optional<std::string> parse_iccid(lines_view lines);
// AT+CGMI/CGMM/CGMR: the first line, without an optional "<prefix>" or
// "Revision:"-style label.
std::optional<std::string> parse_identity_text(lines_view lines, std::string_view prefix);

struct subscriber_number {
    std::string alpha;
    std::string number;
    std::optional<int> type;
};
std::vector<subscriber_number> parse_cnum(lines_view lines);

// ------------------------------------------------------------------- SMS
// +CMGS: <mr>[,<scts>] -> TP-Message-Reference 0..255.
std::optional<int> parse_cmgs(lines_view lines);

struct sms_index {
    std::string storage;  // "SM", "ME", "MT", "SR"
    int index = 0;
};
// +CMTI: "SM",3 and +CDSI: "SR",4
std::optional<sms_index> parse_cmti(std::string_view line);

struct incoming_pdu {
    std::string alpha;
    int length = 0;   // TPDU octets, as the modem announced
    std::string pdu;  // hex, with SMSC part
};
// +CMT: [<alpha>],<length> + PDU line (PDU mode).
std::optional<incoming_pdu> parse_cmt(const unsolicited& u);
// +CDS: <length> + PDU line (PDU mode).
std::optional<incoming_pdu> parse_cds(const unsolicited& u);

struct stored_pdu {
    std::optional<int> index;  // from +CMGL; absent for +CMGR
    int stat = 0;              // 0 unread, 1 read, 2 unsent, 3 sent
    std::string alpha;
    int length = 0;
    std::string pdu;
};
std::optional<stored_pdu> parse_cmgr(lines_view lines);
// Header/PDU pairs of AT+CMGL=<stat> in PDU mode; malformed pairs are skipped.
std::vector<stored_pdu> parse_cmgl(lines_view lines);

struct csms_support {
    int service = 0;
    bool mt = false, mo = false, bm = false;
};
std::optional<csms_support> parse_csms(lines_view lines);
std::optional<int> parse_cmms(lines_view lines);

// AT+CLCK="SC",2 -> whether the SIM PIN lock is on.
std::optional<bool> parse_clck(lines_view lines);

// ------------------------------------------------------------------ calls
// One line of AT+CLCC: +CLCC: <id>,<dir>,<stat>,<mode>,<mpty>[,<number>,<type>]
// (27.007 7.18). stat: 0 active, 1 held, 2 dialling, 3 alerting, 4 incoming,
// 5 waiting. The number is not kept (personal data, and not needed).
struct call_entry {
    int id = -1;
    bool outgoing = false;  // <dir> 0: mobile originated
    int stat = -1;
};
std::vector<call_entry> parse_clcc(lines_view lines);
// The <stat> of our outgoing call (the last one listed), if any is listed.
std::optional<int> outgoing_call_state(lines_view lines);

// ------------------------------------------------------------------- USSD
struct ussd_response {
    int status = 0;                   // 0 done, 1 network waits for a reply, 2 cancelled, 4 unsupported, 5 timeout
    std::optional<std::string> text;  // unquoted, \" and \XX escapes resolved
    std::optional<int> dcs;
};
std::optional<ussd_response> parse_cusd(std::string_view line);

enum class cbs_alphabet : std::uint8_t { gsm7, eight_bit, ucs2 };
// Alphabet of a Cell Broadcast data coding scheme (23.038 clause 5), as used by USSD.
cbs_alphabet ussd_alphabet(int dcs) noexcept;

struct ussd_text {
    enum class form_t : std::uint8_t { plain, ucs2, packed_gsm7_hex, eight_bit_hex };
    std::string text;  // UTF-8 for plain/ucs2; the undecoded hex otherwise
    form_t form = form_t::plain;
};
// UCS-2 hex payloads are decoded to UTF-8 here. Packed GSM 7-bit hex (Huawei
// firmwares that do not transcode, see vendor_profile::ussd_packed_hex) and
// 8-bit hex are returned as hex for the PDU codec to decode.
ussd_text decode_ussd_text(const ussd_response& r, bool packed_gsm7_hex);

// ------------------------------------------------- error classification
// What the sender should do with a message whose send failed.
enum class send_failure : std::uint8_t {
    retry_elsewhere,  // network or modem trouble: another modem (or later) may work
    permanent,        // the message or the number is wrong: no modem will do better
    take_modem_out,   // this modem/SIM cannot send until someone looks at it
};
std::string_view to_string(send_failure f) noexcept;

send_failure classify_cms_error(int code) noexcept;
send_failure classify_cme_error(int code) noexcept;
// nullopt for an ok result.
std::optional<send_failure> classify_send_failure(const at_result& r) noexcept;

// --------------------------------------------------------------- builders
// A command with info prefix / bare-line acceptance derived from its name:
// "AT+CSQ" -> "+CSQ:", AT+CGSN/CIMI/CGMI/CGMM/CGMR/CCID/CMGL/CMGR and ATI
// accept bare lines, ATD dials.
at_command make_command(std::string text, std::chrono::milliseconds timeout = std::chrono::seconds(5));

// AT+CMGS=<TPDU octets> with the hex PDU (SMSC part included, "00" = SIM's
// SMSC) as second phase. The length is computed from the PDU.
std::optional<at_command> make_send_pdu(std::string_view hex_pdu, std::chrono::milliseconds send_timeout = std::chrono::seconds(120),
                                        std::chrono::milliseconds prompt_timeout = std::chrono::seconds(10));

// AT+CUSD=1,"<code>",<dcs>. Accepts [0-9*#+] (and hex digits for firmwares
// that want packed GSM 7-bit hex).
std::optional<at_command> make_ussd(std::string_view code, int dcs = 15);
at_command make_ussd_cancel();

at_command make_list_pdus(int stat = 4, std::chrono::milliseconds timeout = std::chrono::seconds(60));
std::optional<at_command> make_read_pdu(int index);
std::optional<at_command> make_delete_sms(int index);

bool is_valid_pin(std::string_view pin) noexcept;  // 4..8 digits
std::optional<at_command> make_enter_pin(std::string_view pin);
at_command make_clck_query();
std::optional<at_command> make_clck_set(bool enable, std::string_view pin);

namespace detail {
struct field {
    std::string value;
    bool quoted = false;
};
// Splits "a,\"b,c\",d" into fields, honouring quotes and backslash escapes.
std::vector<field> split_fields(std::string_view s);
// Resolves \" \\ and \XX (two hex digits, V.250 style) escapes.
std::string unescape(std::string_view s);
std::optional<int> parse_int(std::string_view s) noexcept;
std::string_view after_colon(std::string_view line) noexcept;
std::optional<std::string> ucs2_hex_to_utf8(std::string_view hex);
std::string swap_nibbles(std::string_view s);
}  // namespace detail

}  // namespace otppi::modem
