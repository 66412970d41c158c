#include "otppi/modem/at_commands.hpp"

#include "otppi/modem/gsm7.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>

namespace otppi::modem {

using detail::iequals;
using detail::istarts_with;
using detail::trim;

namespace detail {

std::optional<int> parse_int(std::string_view s) noexcept {
    s = trim(s);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    if (s.empty()) return std::nullopt;
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

std::string_view after_colon(std::string_view line) noexcept {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return trim(line);
    return trim(line.substr(colon + 1));
}

namespace {
int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}
}  // namespace

std::string unescape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '\\' && i + 1 < s.size()) {
            char n = s[i + 1];
            if (n == '"' || n == '\\') {
                out.push_back(n);
                ++i;
                continue;
            }
            if (i + 2 < s.size() && hex_value(n) >= 0 && hex_value(s[i + 2]) >= 0) {
                out.push_back(static_cast<char>(hex_value(n) * 16 + hex_value(s[i + 2])));
                i += 2;
                continue;
            }
        }
        out.push_back(c);
    }
    return out;
}

std::vector<field> split_fields(std::string_view s) {
    std::vector<field> out;
    std::size_t i = 0;
    const std::size_t n = s.size();
    if (trim(s).empty()) return out;
    while (true) {
        while (i < n && (s[i] == ' ' || s[i] == '\t')) ++i;
        field f;
        if (i < n && s[i] == '"') {
            f.quoted = true;
            std::size_t start = ++i;
            while (i < n && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < n) ++i;
                ++i;
            }
            f.value = unescape(s.substr(start, i - start));
            if (i < n) ++i;  // closing quote
            while (i < n && s[i] != ',') ++i;
        } else {
            std::size_t start = i;
            while (i < n && s[i] != ',') ++i;
            f.value = std::string(trim(s.substr(start, i - start)));
        }
        out.push_back(std::move(f));
        if (i >= n) break;
        ++i;  // ','
    }
    return out;
}

std::optional<std::string> ucs2_hex_to_utf8(std::string_view hex) {
    // The PDU codec's UCS-2 decoder (surrogate pairs joined, lone ones shown
    // as U+FFFD) serves USSD text as well.
    if (hex.size() % 4 != 0) return std::nullopt;
    auto bytes = from_hex(hex);
    if (!bytes) return std::nullopt;
    return ucs2_bytes_to_utf8(*bytes);
}

std::string swap_nibbles(std::string_view s) {
    std::string out(s);
    for (std::size_t i = 0; i + 1 < out.size(); i += 2) std::swap(out[i], out[i + 1]);
    return out;
}

}  // namespace detail

namespace {

using detail::after_colon;
using detail::parse_int;
using detail::split_fields;

const std::string* find_prefixed(lines_view lines, std::string_view prefix) {
    for (const auto& l : lines)
        if (istarts_with(trim(l), prefix)) return &l;
    return nullptr;
}

// Both characters must already be known to be hex digits.
int hex_byte(char hi, char lo) noexcept {
    auto v = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    return v(hi) * 16 + v(lo);
}

bool all_digits(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string strip_quotes(std::string_view s) {
    s = trim(s);
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    return std::string(trim(s));
}

std::optional<int> field_int(const std::vector<detail::field>& f, std::size_t i) {
    if (i >= f.size()) return std::nullopt;
    return parse_int(f[i].value);
}

std::string field_str(const std::vector<detail::field>& f, std::size_t i) { return i < f.size() ? f[i].value : std::string{}; }

// Some modems left in UCS2 character set print "+62811" as "002B00360032...".
std::string maybe_ucs2_digits(const std::string& s) {
    if (s.size() < 8 || s.size() % 4 != 0 || !detail::is_hex(s)) return s;
    std::string out;
    for (std::size_t i = 0; i < s.size(); i += 4) {
        if (s[i] != '0' || s[i + 1] != '0') return s;
        int v = hex_byte(s[i + 2], s[i + 3]);
        if (!((v >= '0' && v <= '9') || v == '+' || v == '*' || v == '#')) return s;
        out.push_back(static_cast<char>(v));
    }
    return out;
}

}  // namespace

// ------------------------------------------------------------------ SIM

std::string_view to_string(sim_state s) noexcept {
    switch (s) {
        case sim_state::ready:
            return "ready";
        case sim_state::sim_pin:
            return "sim_pin";
        case sim_state::sim_puk:
            return "sim_puk";
        case sim_state::sim_pin2:
            return "sim_pin2";
        case sim_state::sim_puk2:
            return "sim_puk2";
        case sim_state::ph_sim_pin:
            return "ph_sim_pin";
        case sim_state::ph_net_pin:
            return "ph_net_pin";
        case sim_state::not_inserted:
            return "not_inserted";
        case sim_state::not_ready:
            return "not_ready";
        case sim_state::busy:
            return "busy";
        case sim_state::failure:
            return "failure";
        case sim_state::unknown:
            return "unknown";
    }
    return "?";
}

std::optional<sim_state> parse_cpin(lines_view lines) {
    const std::string* l = find_prefixed(lines, "+CPIN:");
    if (!l) return std::nullopt;
    auto v = strip_quotes(after_colon(*l));
    struct entry {
        std::string_view text;
        sim_state state;
    };
    static constexpr std::array table{
        entry{"READY", sim_state::ready},
        entry{"SIM PIN", sim_state::sim_pin},
        entry{"SIM PUK", sim_state::sim_puk},
        entry{"SIM PIN2", sim_state::sim_pin2},
        entry{"SIM PUK2", sim_state::sim_puk2},
        entry{"PH-SIM PIN", sim_state::ph_sim_pin},
        entry{"PH-NET PIN", sim_state::ph_net_pin},
        entry{"NOT READY", sim_state::not_ready},
        entry{"NOT INSERTED", sim_state::not_inserted},
        entry{"SIM REMOVED", sim_state::not_inserted},
    };
    for (const auto& e : table)
        if (iequals(e.text, v)) return e.state;
    return sim_state::unknown;
}

sim_state sim_state_from(const at_result& r) {
    if (r.ok()) return parse_cpin(r.lines).value_or(sim_state::unknown);
    if (!r.code) return sim_state::unknown;
    int c = *r.code;
    if (r.status == at_status::cme_error) {
        switch (c) {
            case 5:
                return sim_state::ph_sim_pin;
            case 10:
                return sim_state::not_inserted;
            case 11:
                return sim_state::sim_pin;
            case 12:
                return sim_state::sim_puk;
            case 13:
            case 15:
                return sim_state::failure;
            case 14:
                return sim_state::busy;
            case 17:
                return sim_state::sim_pin2;
            case 18:
                return sim_state::sim_puk2;
            default:
                return sim_state::unknown;
        }
    }
    if (r.status == at_status::cms_error) {
        switch (c) {
            case 310:
                return sim_state::not_inserted;
            case 311:
                return sim_state::sim_pin;
            case 312:
                return sim_state::ph_sim_pin;
            case 313:
            case 315:
                return sim_state::failure;
            case 314:
                return sim_state::busy;
            case 316:
                return sim_state::sim_puk;
            case 317:
                return sim_state::sim_pin2;
            case 318:
                return sim_state::sim_puk2;
            default:
                return sim_state::unknown;
        }
    }
    return sim_state::unknown;
}

// --------------------------------------------------------------- queries

std::optional<signal_quality> parse_csq(lines_view lines) {
    const std::string* l = find_prefixed(lines, "+CSQ:");
    if (!l) return std::nullopt;
    auto f = split_fields(after_colon(*l));
    auto rssi = field_int(f, 0);
    auto ber = field_int(f, 1);
    if (!rssi || !ber || *rssi < 0 || *ber < 0) return std::nullopt;
    signal_quality q{*rssi, *ber, std::nullopt};
    if (*rssi <= 31) q.dbm = 2 * *rssi - 113;
    return q;
}

std::optional<operator_info> parse_cops(lines_view lines) {
    const std::string* l = find_prefixed(lines, "+COPS:");
    if (!l) return std::nullopt;
    auto body = after_colon(*l);
    // AT+COPS=? lists "(...)" groups; that is not a read reply.
    if (!body.empty() && body.front() == '(') return std::nullopt;
    auto f = split_fields(body);
    auto mode = field_int(f, 0);
    if (!mode) return std::nullopt;
    operator_info o;
    o.mode = *mode;
    o.format = field_int(f, 1);
    o.name = field_str(f, 2);
    o.act = field_int(f, 3);
    return o;
}

std::optional<registration_info> parse_creg(std::string_view line) {
    line = trim(line);
    auto name = detail::urc_name(line);
    if (!(iequals(name, "+CREG") || iequals(name, "+CGREG") || iequals(name, "+CEREG") || iequals(name, "+C5GREG"))) return std::nullopt;
    auto f = split_fields(after_colon(line));
    if (f.empty()) return std::nullopt;
    registration_info r;
    r.unsolicited = detail::is_registration_urc_form(line);
    std::size_t base = 0;
    if (!r.unsolicited) {
        r.n = field_int(f, 0);
        if (!r.n) return std::nullopt;
        base = 1;
    }
    auto stat = field_int(f, base);
    if (!stat) return std::nullopt;
    r.status = (*stat >= 0 && *stat <= 8) ? static_cast<reg_status>(*stat) : reg_status::other;
    r.lac = field_str(f, base + 1);
    r.cell_id = field_str(f, base + 2);
    r.act = field_int(f, base + 3);
    return r;
}

std::optional<smsc_address> parse_csca(lines_view lines) {
    const std::string* l = find_prefixed(lines, "+CSCA:");
    if (!l) return std::nullopt;
    auto f = split_fields(after_colon(*l));
    if (f.empty()) return std::nullopt;
    smsc_address a{maybe_ucs2_digits(f[0].value), field_int(f, 1)};
    return a;
}

// -------------------------------------------------------------- identity

namespace {
// The value of an identity line: drop a "+CGSN:"-style label and quotes.
std::string identity_value(std::string_view line, std::initializer_list<std::string_view> labels) {
    line = trim(line);
    for (auto label : labels) {
        if (istarts_with(line, label)) {
            line = trim(line.substr(label.size()));
            break;
        }
    }
    return strip_quotes(line);
}
}  // namespace

std::optional<std::string> parse_imei(lines_view lines) {
    for (const auto& l : lines) {
        auto v = identity_value(l, {"+CGSN:", "+GSN:", "IMEI:"});
        if (all_digits(v) && v.size() >= 14 && v.size() <= 16) return v;
    }
    return std::nullopt;
}

std::optional<std::string> parse_imsi(lines_view lines) {
    for (const auto& l : lines) {
        auto v = identity_value(l, {"+CIMI:", "IMSI:"});
        if (all_digits(v) && v.size() >= 6 && v.size() <= 15) return v;
    }
    return std::nullopt;
}

std::optional<std::string> parse_iccid(lines_view lines) {
    for (const auto& l : lines) {
        std::string v;
        bool raw_ef = false;
        auto t = trim(l);
        if (istarts_with(t, "+CRSM:")) {
            // +CRSM: <sw1>,<sw2>,"<EF_ICCID hex>"; 144,0 is success.
            auto f = split_fields(after_colon(t));
            if (f.size() < 3 || field_int(f, 0) != 144) continue;
            v = f[2].value;
            raw_ef = true;
        } else {
            v = identity_value(t, {"+CCID:", "+ICCID:", "+QCCID:", "^ICCID:", "ICCID:", "+SCID:"});
            if (!v.empty() && v.front() == 'S') v.erase(0, 1);  // "SCID: S8986..." (some SIMCom)
        }
        if (v.size() < 18 || v.size() > 22 || !detail::is_hex(v)) continue;
        // EF_ICCID is BCD with swapped nibbles; ICCIDs start with 89 (ISO 7812
        // telecom), so a value starting with 98 is the raw EF order.
        if (raw_ef || (v[0] == '9' && v[1] == '8')) v = detail::swap_nibbles(v);
        while (!v.empty() && (v.back() == 'F' || v.back() == 'f')) v.pop_back();
        if (all_digits(v) && v.size() >= 18) return v;
    }
    return std::nullopt;
}

std::optional<std::string> parse_identity_text(lines_view lines, std::string_view prefix) {
    for (const auto& l : lines) {
        auto t = trim(l);
        if (t.empty()) continue;
        std::string v;
        if (!prefix.empty() && istarts_with(t, prefix))
            v = strip_quotes(t.substr(prefix.size()));
        else
            v = identity_value(t, {"Revision:", "Manufacturer:", "Model:"});
        if (!v.empty()) return v;
    }
    return std::nullopt;
}

std::vector<subscriber_number> parse_cnum(lines_view lines) {
    std::vector<subscriber_number> out;
    for (const auto& l : lines) {
        if (!istarts_with(trim(l), "+CNUM:")) continue;
        auto f = split_fields(after_colon(l));
        if (f.size() < 2 || f[1].value.empty()) continue;
        out.push_back(subscriber_number{f[0].value, maybe_ucs2_digits(f[1].value), field_int(f, 2)});
    }
    return out;
}

// ------------------------------------------------------------------- SMS

std::optional<int> parse_cmgs(lines_view lines) {
    const std::string* l = find_prefixed(lines, "+CMGS:");
    if (!l) return std::nullopt;
    auto f = split_fields(after_colon(*l));
    auto mr = field_int(f, 0);
    if (!mr || *mr < 0 || *mr > 255) return std::nullopt;
    return mr;
}

std::optional<sms_index> parse_cmti(std::string_view line) {
    auto name = detail::urc_name(trim(line));
    if (!iequals(name, "+CMTI") && !iequals(name, "+CDSI")) return std::nullopt;
    auto f = split_fields(after_colon(line));
    auto idx = field_int(f, 1);
    if (!idx || *idx < 0) return std::nullopt;
    return sms_index{f[0].value, *idx};
}

std::optional<incoming_pdu> parse_cmt(const unsolicited& u) {
    if (!iequals(u.name, "+CMT") || u.pdu.empty() || !detail::is_hex(u.pdu)) return std::nullopt;
    auto f = split_fields(after_colon(u.line));
    auto len = f.size() >= 2 ? field_int(f, f.size() - 1) : field_int(f, 0);
    if (!len || *len <= 0) return std::nullopt;
    return incoming_pdu{f.size() >= 2 ? f[0].value : std::string{}, *len, u.pdu};
}

std::optional<incoming_pdu> parse_cds(const unsolicited& u) {
    if (!iequals(u.name, "+CDS") || u.pdu.empty() || !detail::is_hex(u.pdu)) return std::nullopt;
    auto f = split_fields(after_colon(u.line));
    auto len = field_int(f, 0);
    if (!len || *len <= 0) return std::nullopt;
    return incoming_pdu{{}, *len, u.pdu};
}

namespace {
std::optional<int> parse_stat(const detail::field& f) {
    if (auto v = parse_int(f.value)) return v;
    // Text-mode names, printed by a few firmwares even in PDU mode.
    if (iequals(f.value, "REC UNREAD")) return 0;
    if (iequals(f.value, "REC READ")) return 1;
    if (iequals(f.value, "STO UNSENT")) return 2;
    if (iequals(f.value, "STO SENT")) return 3;
    return std::nullopt;
}
}  // namespace

std::optional<stored_pdu> parse_cmgr(lines_view lines) {
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
        if (!istarts_with(trim(lines[i]), "+CMGR:")) continue;
        auto f = split_fields(after_colon(lines[i]));
        if (f.size() < 2) return std::nullopt;
        auto stat = parse_stat(f[0]);
        auto len = field_int(f, f.size() - 1);
        const auto& pdu = lines[i + 1];
        if (!stat || !len || !detail::is_hex(pdu)) return std::nullopt;
        return stored_pdu{std::nullopt, *stat, f.size() >= 3 ? f[1].value : std::string{}, *len, pdu};
    }
    return std::nullopt;
}

std::vector<stored_pdu> parse_cmgl(lines_view lines) {
    std::vector<stored_pdu> out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (!istarts_with(trim(lines[i]), "+CMGL:")) continue;
        if (i + 1 >= lines.size()) break;
        const auto& pdu = lines[i + 1];
        if (!detail::is_hex(pdu)) continue;  // the next header (or junk): skip this one
        auto f = split_fields(after_colon(lines[i]));
        if (f.size() < 3) continue;
        auto index = field_int(f, 0);
        auto stat = parse_stat(f[1]);
        auto len = field_int(f, f.size() - 1);
        if (!index || !stat || !len) continue;
        out.push_back(stored_pdu{index, *stat, f.size() >= 4 ? f[2].value : std::string{}, *len, pdu});
        ++i;
    }
    return out;
}

std::optional<csms_support> parse_csms(lines_view lines) {
    const std::string* l = find_prefixed(lines, "+CSMS:");
    if (!l) return std::nullopt;
    auto f = split_fields(after_colon(*l));
    auto service = field_int(f, 0);
    auto mt = field_int(f, 1), mo = field_int(f, 2), bm = field_int(f, 3);
    if (!service || !mt || !mo || !bm) return std::nullopt;
    return csms_support{*service, *mt == 1, *mo == 1, *bm == 1};
}

std::optional<int> parse_cmms(lines_view lines) {
    const std::string* l = find_prefixed(lines, "+CMMS:");
    if (!l) return std::nullopt;
    return parse_int(after_colon(*l));
}

std::optional<bool> parse_clck(lines_view lines) {
    const std::string* l = find_prefixed(lines, "+CLCK:");
    if (!l) return std::nullopt;
    auto f = split_fields(after_colon(*l));
    auto v = field_int(f, 0);
    if (!v || (*v != 0 && *v != 1)) return std::nullopt;
    return *v == 1;
}

// ------------------------------------------------------------------ calls

std::vector<call_entry> parse_clcc(lines_view lines) {
    std::vector<call_entry> out;
    for (const auto& l : lines) {
        if (!istarts_with(trim(l), "+CLCC:")) continue;
        auto f = detail::split_fields(detail::after_colon(l));
        auto id = field_int(f, 0), dir = field_int(f, 1), stat = field_int(f, 2);
        if (!dir || !stat) continue;  // neither ours nor theirs can be told
        call_entry c;
        c.id = id.value_or(-1);
        c.outgoing = *dir == 0;
        c.stat = *stat;
        out.push_back(c);
    }
    return out;
}

std::optional<int> outgoing_call_state(lines_view lines) {
    std::optional<int> stat;
    for (const auto& c : parse_clcc(lines))
        if (c.outgoing) stat = c.stat;  // the last listed: the newest call
    return stat;
}

// ------------------------------------------------------------------ USSD

std::optional<ussd_response> parse_cusd(std::string_view line) {
    line = trim(line);
    if (!istarts_with(line, "+CUSD:")) return std::nullopt;
    auto body = after_colon(line);
    ussd_response r;
    auto comma = body.find(',');
    auto status = parse_int(body.substr(0, comma));
    if (!status) return std::nullopt;
    r.status = *status;
    if (comma == std::string_view::npos) return r;
    auto rest = trim(body.substr(comma + 1));
    auto first = rest.find('"');
    auto last = rest.rfind('"');
    if (first != std::string_view::npos && last != first) {
        // Take everything up to the LAST quote: firmwares differ in escaping
        // quotes inside the text (\" , \22 or not at all), but <dcs> never
        // contains one.
        r.text = detail::unescape(rest.substr(first + 1, last - first - 1));
        auto tail = trim(rest.substr(last + 1));
        if (!tail.empty() && tail.front() == ',') r.dcs = parse_int(tail.substr(1));
        return r;
    }
    if (first != std::string_view::npos) {
        // Unterminated quote (cut short): keep what arrived.
        r.text = detail::unescape(rest.substr(first + 1));
        return r;
    }
    auto f = split_fields(rest);
    if (!f.empty()) r.text = f[0].value;
    r.dcs = field_int(f, 1);
    return r;
}

// -------------------------------------------------- error classification

std::string_view to_string(send_failure f) noexcept {
    switch (f) {
        case send_failure::retry_elsewhere:
            return "retry_elsewhere";
        case send_failure::permanent:
            return "permanent";
        case send_failure::take_modem_out:
            return "take_modem_out";
    }
    return "?";
}

// Why these classes (27.005 clause 3.2.5 defines the ranges):
//
//   0..127   RP-cause values from the network (24.011 annex E.2).
//            permanent: 1 unassigned number, 27 destination out of order
//              (the recipient side; our other modems reach the same place),
//              95/96/97/99 invalid message / mandatory IE / type / IE (our PDU).
//            take_modem_out: 8 operator determined barring, 10 call barred,
//              30 unknown subscriber, 50 facility not subscribed: this SIM is
//              barred or lacks SMS service and will not get better by itself.
//            retry_elsewhere: the rest: 21 transfer rejected (often no credit
//              on this SIM), 28 unidentified subscriber, 29, 38 network out of
//              order, 41 temporary failure, 42 congestion, 47, 69, 81, 98,
//              111, 127, and unassigned values.
//   128..255 TP-Failure-Cause from the SMSC (23.040 9.2.3.22).
//            permanent: 0x80..0xBF (PID, DCS, command and TPDU errors: our
//              PDU), 0xC3 invalid SME address (bad number), 0xC4 destination
//              barred, 0xC5 rejected duplicate (resending would duplicate),
//              0xC6/0xC7 validity period not supported.
//            take_modem_out: 0xC1 no SC subscription for this SIM.
//            retry_elsewhere: 0xC0 SC busy, 0xC2 SC failure, 0xD0..0xFF.
//   300..    27.005 codes of the ME itself.
//            permanent: 304/305 invalid PDU/text parameter (our encoder is
//              wrong), 321 invalid memory index (the caller's index).
//            take_modem_out: 310..318 SIM missing/PIN/PUK/failure/busy/wrong,
//              320 memory failure.
//            retry_elsewhere: 300..303, 322 memory full (storing only; the
//              modem layer cleans the store), 330 SMSC unknown, 331 no network,
//              332 network timeout, 340, 500 unknown, 512+ vendor codes.
send_failure classify_cms_error(int code) noexcept {
    if (code >= 0 && code <= 127) {
        switch (code) {
            case 1:
            case 27:
            case 95:
            case 96:
            case 97:
            case 99:
                return send_failure::permanent;
            case 8:
            case 10:
            case 30:
            case 50:
                return send_failure::take_modem_out;
            default:
                return send_failure::retry_elsewhere;
        }
    }
    if (code >= 128 && code <= 255) {
        if (code <= 0xBF) return send_failure::permanent;
        switch (code) {
            case 0xC3:
            case 0xC4:
            case 0xC5:
            case 0xC6:
            case 0xC7:
                return send_failure::permanent;
            case 0xC1:
                return send_failure::take_modem_out;
            default:
                return send_failure::retry_elsewhere;
        }
    }
    if (code == 304 || code == 305 || code == 321) return send_failure::permanent;
    if ((code >= 310 && code <= 318) || code == 320) return send_failure::take_modem_out;
    return send_failure::retry_elsewhere;
}

// +CME ERROR (27.007 9.2): SIM-group codes take the modem out like their CMS
// twins; bad text/dial strings are ours; the rest is transient.
send_failure classify_cme_error(int code) noexcept {
    switch (code) {
        case 5:
        case 10:
        case 11:
        case 12:
        case 13:
        case 14:
        case 15:
        case 16:
        case 17:
        case 18:
        case 23:
            return send_failure::take_modem_out;
        case 24:
        case 25:
        case 26:
        case 27:
            return send_failure::permanent;
        default:
            return send_failure::retry_elsewhere;
    }
}

std::optional<send_failure> classify_send_failure(const at_result& r) noexcept {
    switch (r.status) {
        case at_status::ok:
            return std::nullopt;
        case at_status::cms_error:
            return r.code ? classify_cms_error(*r.code) : send_failure::retry_elsewhere;
        case at_status::cme_error:
            return r.code ? classify_cme_error(*r.code) : send_failure::retry_elsewhere;
        default:
            // ERROR, timeout, aborted: nothing says the message is at fault. A
            // timeout after the PDU was written may still have sent it; for an
            // OTP a rare duplicate beats a lost code.
            return send_failure::retry_elsewhere;
    }
}

// --------------------------------------------------------------- builders

namespace {
bool is_basic_name_char(char c) noexcept { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }
}  // namespace

at_command make_command(std::string text, std::chrono::milliseconds timeout) {
    at_command c;
    c.timeout = timeout;
    std::string_view t = text;
    if (istarts_with(t, "AT")) {
        auto rest = t.substr(2);
        if (!rest.empty() && (rest[0] == '+' || rest[0] == '^' || rest[0] == '$' || rest[0] == '%' || rest[0] == '*' || rest[0] == '#')) {
            std::size_t n = 1;
            while (n < rest.size() && is_basic_name_char(rest[n])) ++n;
            auto name = rest.substr(0, n);
            c.info_prefix = std::string(name) + ':';
            static constexpr std::array bare{"+CGMI", "+CGMM", "+CGMR", "+CGSN",  "+CIMI", "+GMI", "+GMM",
                                             "+GMR",  "+GSN",  "+CCID", "+ICCID", "+CMGL", "+CMGR"};
            for (auto b : bare)
                if (iequals(name, b)) c.accept_bare = true;
        } else if (!rest.empty() && (rest[0] == 'I' || rest[0] == 'i')) {
            c.accept_bare = true;  // ATI: free-form identification lines
        } else if (!rest.empty() && (rest[0] == 'D' || rest[0] == 'd')) {
            c.dial = true;
        }
    }
    c.text = std::move(text);
    return c;
}

std::optional<at_command> make_send_pdu(std::string_view hex_pdu, std::chrono::milliseconds send_timeout,
                                        std::chrono::milliseconds prompt_timeout) {
    if (hex_pdu.size() < 4 || hex_pdu.size() % 2 != 0 || !detail::is_hex(hex_pdu)) return std::nullopt;
    int smsc = hex_byte(hex_pdu[0], hex_pdu[1]);
    std::size_t octets = hex_pdu.size() / 2;
    if (static_cast<std::size_t>(smsc) + 1 >= octets) return std::nullopt;
    std::size_t tpdu = octets - 1 - static_cast<std::size_t>(smsc);
    if (tpdu > 176) return std::nullopt;  // longest SMS-SUBMIT TPDU
    at_command c;
    c.text = "AT+CMGS=" + std::to_string(tpdu);
    c.info_prefix = "+CMGS:";
    c.timeout = prompt_timeout;
    c.data = std::string(hex_pdu);
    c.data_timeout = send_timeout;
    return c;
}

at_command make_list_pdus(int stat, std::chrono::milliseconds timeout) {
    return make_command("AT+CMGL=" + std::to_string(stat < 0 || stat > 4 ? 4 : stat), timeout);
}

std::optional<at_command> make_read_pdu(int index) {
    if (index < 0 || index > 65535) return std::nullopt;
    return make_command("AT+CMGR=" + std::to_string(index));
}

std::optional<at_command> make_delete_sms(int index) {
    if (index < 0 || index > 65535) return std::nullopt;
    return make_command("AT+CMGD=" + std::to_string(index));
}

bool is_valid_pin(std::string_view pin) noexcept { return pin.size() >= 4 && pin.size() <= 8 && all_digits(pin); }

}  // namespace otppi::modem
