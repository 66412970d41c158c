// SMS PDU codec (3GPP TS 23.040 TPDUs, TS 23.038 data coding) and USSD text decoding.
//
// What it does: plans how a UTF-8 text is split into SMS parts; encodes SMS-SUBMIT for
// AT+CMGS in PDU mode; decodes SMS-DELIVER, SMS-SUBMIT and SMS-STATUS-REPORT as read from a
// modem (+CMGR, +CMGL, +CMT, +CDS); encodes SMS-DELIVER and SMS-STATUS-REPORT so a modem
// simulator can play the network side; decodes +CUSD text by its data coding scheme.
//
// Contract: pure code, no I/O, no exceptions for bad input (only std::bad_alloc). Decoders take
// untrusted bytes (they are fuzzed): garbage and truncation give std::nullopt / an error string,
// never a crash or an out-of-bounds read. Encoders reject what they cannot encode (invalid UTF-8,
// bad numbers, more than 255 parts) with an error string instead of producing a wrong PDU.
// Hex output is upper case. Thread-safety: stateless, callable from any thread.
#pragma once

#include "otppi/modem/gsm7.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace otppi::modem {

// ---- planning --------------------------------------------------------------------------------

enum class encoding { gsm7, ucs2 };

// A concatenated message carries the part number in one octet.
inline constexpr std::size_t max_sms_parts = 255;

// Units one part holds: septets for gsm7, UTF-16 code units for ucs2. Multipart capacity
// depends on the concatenation header: 153/67 with the 8-bit reference, 152/66 with the
// 16-bit one (its header is one octet longer).
std::size_t sms_part_capacity(encoding enc, bool multipart, bool use_16bit_ref = false) noexcept;

struct sms_plan {
    encoding enc = encoding::gsm7;
    // Whole text: septets (an extension-table character counts 2) or UTF-16 units.
    std::size_t units = 0;
    // One entry per part; a single part when the text fits 160 septets / 70 units. An escape
    // pair or a surrogate pair is never split across parts. An empty text is one empty part.
    std::vector<std::string> parts_utf8;
    std::vector<std::size_t> part_units;
};

// gsm7 when every character is in the default alphabet or extension table, else ucs2.
// nullopt on invalid UTF-8. The plan may exceed max_sms_parts; encoders refuse that.
std::optional<sms_plan> plan_sms(std::string_view utf8, bool use_16bit_ref = false);

// ---- encoding SMS-SUBMIT ---------------------------------------------------------------------

struct submit_options {
    // Digits only, international without '+' (e.g. "628126666666"); a leading '+' is tolerated.
    std::string destination;
    // Type-of-address 0x91 (international/ISDN); false gives 0x81 (unknown/ISDN) for short codes.
    bool destination_international = true;
    bool request_status_report = false;
    // TP-VP relative (TS 23.040 §9.2.3.12.1); 167 = 24 h; nullopt = no TP-VP.
    std::optional<std::uint8_t> validity_relative = std::uint8_t{167};
    // Same value in every part of one message; unique per destination among messages in flight.
    std::uint16_t concat_ref = 0;
    bool use_16bit_ref = false;
    // DCS message class 0: shown at once, not stored by the handset.
    bool flash = false;
};

struct encoded_pdu {
    // Full hex including the SMSC part ("00" = use the SIM's SMSC for SUBMIT).
    std::string hex;
    // Octets without the SMSC part: the <length> of AT+CMGS, +CMGR, +CMT and +CDS.
    int tpdu_length = 0;
};
using submit_pdu = encoded_pdu;

struct encode_result {
    std::vector<encoded_pdu> pdus;  // in part order; empty on error
    std::string error;              // empty on success
    bool ok() const noexcept { return error.empty(); }
};

// TP-MR 00 (the modem assigns it), PID 00, DCS 00/08 (10/18 when flash), concatenation UDH
// (IEI 00 or 08) when the text needs more than one part.
encode_result encode_submit(std::string_view utf8, const submit_options& opts);

// ---- decoded fields --------------------------------------------------------------------------

struct sms_address {
    // Digits for numeric types (BCD '*', '#', 'a'..'c' for 0xA..0xE); the decoded name for
    // alphanumeric ones (type 0xD0, GSM 7-bit packed).
    std::string number;
    std::uint8_t type = 0x91;

    bool alphanumeric() const noexcept { return (type & 0x70) == 0x50; }
    bool international() const noexcept { return (type & 0x70) == 0x10; }
    // "+<digits>" for international numbers, the raw number otherwise.
    std::string display() const { return international() ? "+" + number : number; }
};

// Service-centre time stamp (TS 23.040 §9.2.3.11): local time plus its offset from UTC.
struct sms_timestamp {
    int year = 0;  // two digits as sent, 0..99; to_unix_seconds reads it as 2000 + year
    int month = 1;
    int day = 1;
    int hour = 0;
    int minute = 0;
    int second = 0;
    int tz_quarters = 0;  // offset from UTC in quarter hours, -79..79

    friend bool operator==(const sms_timestamp&, const sms_timestamp&) = default;
};

// UTC seconds since 1970; nullopt if the fields do not form a valid date and time.
std::optional<std::int64_t> to_unix_seconds(const sms_timestamp& ts);

struct concat_info {
    std::uint16_t ref = 0;
    std::uint8_t total = 0;  // >= 1
    std::uint8_t seq = 0;    // 1..total
    bool ref16 = false;      // from IEI 08

    friend bool operator==(const concat_info&, const concat_info&) = default;
};

enum class data_coding { gsm7, data8, ucs2 };

struct user_data {
    std::uint8_t dcs = 0;
    data_coding coding = data_coding::gsm7;
    bool compressed = false;           // TS 23.038 compression: not decoded, text is hex
    std::optional<int> message_class;  // 0..3 when the DCS gives one
    // true when `text` holds upper-case hex of the payload (8-bit data or compressed).
    bool binary = false;
    std::string text;  // UTF-8 (or hex when binary), without the UDH
    // Raw UDH without its length octet, empty when TP-UDHI is clear.
    std::vector<std::uint8_t> header;
    // Valid IEI 00/08 from the header; an element with total 0 or seq outside 1..total is
    // ignored as TS 23.040 §9.2.3.24.1 asks.
    std::optional<concat_info> concat;
};

struct sms_deliver {
    sms_address originator;
    std::uint8_t pid = 0;
    std::optional<sms_timestamp> scts;  // nullopt when the octets are not a valid BCD time
    bool more_messages = false;         // TP-MMS clear: the SC has more waiting
    bool status_report_indication = false;
    bool reply_path = false;
    user_data ud;
};

enum class validity_format { none, relative, enhanced, absolute };

struct sms_submit {
    std::uint8_t message_ref = 0;
    sms_address destination;
    std::uint8_t pid = 0;
    bool status_report_requested = false;
    bool reject_duplicates = false;
    bool reply_path = false;
    validity_format vpf = validity_format::none;
    std::optional<std::uint8_t> validity_relative;   // vpf == relative
    std::optional<sms_timestamp> validity_absolute;  // vpf == absolute and valid
    user_data ud;
};

// What TP-ST means for the sender (TS 23.040 §9.2.3.15): the transaction completed, the SC is
// still trying, or it gave up. Reserved values count as "service rejected" (failed), as the
// spec tells receivers to treat them.
enum class delivery_state { delivered, pending, failed };
delivery_state classify_status(std::uint8_t tp_st) noexcept;

struct sms_status_report {
    std::uint8_t message_ref = 0;  // matches the +CMGS: <mr> of the send
    sms_address recipient;
    std::optional<sms_timestamp> scts;
    std::optional<sms_timestamp> discharge_time;
    std::uint8_t status = 0;
    bool command_result = false;  // TP-SRQ: report on an SMS-COMMAND, not an SMS-SUBMIT
    bool more_messages = false;
    std::optional<user_data> ud;  // only when TP-PI announces it and it decodes

    delivery_state state() const noexcept { return classify_status(status); }
};

enum class pdu_type { deliver, submit, status_report };

struct decoded_pdu {
    std::optional<sms_address> smsc;  // nullopt when absent or length 0
    std::uint8_t first_octet = 0;
    int tpdu_length = 0;              // octets after the SMSC part
    std::size_t trailing_octets = 0;  // octets after the TPDU's last field (normally 0)
    // Index order matches pdu_type.
    std::variant<sms_deliver, sms_submit, sms_status_report> message;

    pdu_type type() const noexcept { return static_cast<pdu_type>(message.index()); }
    // The user data of a DELIVER or SUBMIT, or of a STATUS-REPORT that carries one.
    const user_data* ud() const noexcept;
};

struct decode_result {
    std::optional<decoded_pdu> pdu;
    std::string error;  // why pdu is empty, for logs
};

// `hex` as a modem prints it. has_smsc_prefix: the PDU starts with the SMSC length octet, as in
// +CMGR/+CMGL/+CMT/+CDS and the AT+CMGS body. The MTI is read MS-side: 0 = DELIVER,
// 1 = SUBMIT, 2 = STATUS-REPORT; 3 is rejected.
decode_result decode_pdu_verbose(std::string_view hex, bool has_smsc_prefix = true);
std::optional<decoded_pdu> decode_pdu(std::string_view hex, bool has_smsc_prefix = true);

// TP-VP relative <-> duration (TS 23.040 §9.2.3.12.1).
std::chrono::seconds validity_duration(std::uint8_t vp) noexcept;
// Smallest TP-VP whose period is at least `ttl` (capped at 255 = 63 weeks).
std::uint8_t validity_for(std::chrono::seconds ttl) noexcept;

// ---- text mode -------------------------------------------------------------------------------

// Alphabet of an SMS data coding scheme (TS 23.038 §4), as the decoder reads it: reserved
// groups and the reserved alphabet count as the default alphabet.
data_coding sms_dcs_coding(std::uint8_t dcs) noexcept;

// TP-UD without its TP-UDL octet, as a text-mode modem prints it in hex (TS 27.005 <data> when
// <dcs> is 8-bit or UCS2, or <fo> has TP-UDHI). For the default alphabet the septet count is
// not printed: it is taken from the octet count, and a zero septet that exactly fills the last
// octet is read as padding, not '@'. nullopt when the octets cannot be user data.
std::optional<user_data> decode_user_data_octets(std::span<const std::uint8_t> octets, std::uint8_t dcs, bool udhi);

// ---- encoders for a modem simulator ----------------------------------------------------------

struct deliver_options {
    // Digits (optionally with '+') give a numeric address; anything else is sent alphanumeric
    // (GSM 7-bit, at most 11 characters).
    std::string originator;
    // Overrides the type-of-address; a TON of 5 (0x50 bits) forces alphanumeric.
    std::optional<std::uint8_t> originator_type;
    std::string smsc;  // digits; empty gives the "00" prefix
    sms_timestamp timestamp;
    std::uint16_t concat_ref = 0;
    bool use_16bit_ref = false;
    std::uint8_t pid = 0;
};
// Splits like encode_submit; one PDU per part, each with its SMSC prefix.
encode_result encode_deliver(std::string_view utf8, const deliver_options& opts);

// TP-SRQ 0 (report on a SUBMIT), TP-MMS set, no TP-PI. nullopt for a bad recipient or SMSC.
std::optional<encoded_pdu> encode_status_report(std::uint8_t message_ref, std::string_view recipient, std::uint8_t status,
                                                const sms_timestamp& scts = {}, const sms_timestamp& discharge_time = {},
                                                std::string_view smsc = {});

// ---- USSD ------------------------------------------------------------------------------------

// Text of a +CUSD answer by its CBS data coding scheme (TS 23.038 §5).
//  - UCS2 schemes (0x48, 0x11, ...): payload is hex of UTF-16BE; 0x11's two-character language
//    prefix is dropped. A payload that is not hex but is valid UTF-8 is returned as is (some
//    modems convert when AT+CSCS is not "UCS2").
//  - GSM 7-bit schemes (0x0F, 0x00-0x0F, ...): with packed_hex the payload is hex of packed
//    septets (what some modems print, whatever +CSCS says); otherwise the modem already
//    converted to text (AT+CSCS="GSM"/"IRA") and valid UTF-8 is returned as is. 0x10's "xx\r"
//    language prefix is dropped.
//  - 8-bit schemes: hex payload, returned as UTF-8 if valid, else read as Latin-1.
// nullopt for dcs outside 0..255, compressed schemes, and payloads that fit none of the above.
std::optional<std::string> decode_ussd_text(std::string_view payload, int dcs, bool packed_hex = false);

// Hex of UTF-16BE (for dcs 0x48); nullopt on invalid UTF-8.
std::optional<std::string> encode_ussd_ucs2(std::string_view utf8);
// Hex of CR-padded packed septets (for dcs 0x0F with packed_hex); nullopt when not GSM 7-bit.
std::optional<std::string> encode_ussd_gsm7_packed(std::string_view utf8);

struct ussd_payload {
    std::string payload;
    int dcs = 15;
};
// What a network would send: dcs 15 with plain text (or packed hex) when the text is GSM 7-bit,
// else dcs 0x48 with UCS-2 hex. nullopt on invalid UTF-8.
std::optional<ussd_payload> encode_ussd(std::string_view utf8, bool packed_hex = false);

}  // namespace otppi::modem
