#include "otppi/modem/text_mode.hpp"

#include <algorithm>

#include "otppi/modem/gsm7.hpp"

namespace otppi::modem {

using detail::after_colon;
using detail::iequals;
using detail::istarts_with;
using detail::parse_int;
using detail::split_fields;
using detail::trim;

std::string_view to_string(sms_format f) noexcept { return f == sms_format::text ? "text" : "pdu"; }

sms_mode_setting sms_mode_from_config(std::string_view s) noexcept {
    if (s == "text") return sms_mode_setting::text;
    if (s == "auto") return sms_mode_setting::automatic;
    return sms_mode_setting::pdu;
}

std::string_view to_string(sms_mode_setting m) noexcept {
    switch (m) {
        case sms_mode_setting::pdu:
            return "pdu";
        case sms_mode_setting::text:
            return "text";
        case sms_mode_setting::automatic:
            return "auto";
    }
    return "?";
}

std::string_view to_string(text_charset c) noexcept { return c == text_charset::ucs2 ? "UCS2" : "GSM"; }

namespace {

const std::string* find_prefixed(lines_view lines, std::string_view prefix) {
    for (const auto& l : lines)
        if (istarts_with(trim(l), prefix)) return &l;
    return nullptr;
}

std::optional<int> field_int(const std::vector<detail::field>& f, std::size_t i) {
    if (i >= f.size() || f[i].quoted) return std::nullopt;
    return parse_int(f[i].value);
}

std::string field_str(const std::vector<detail::field>& f, std::size_t i) { return i < f.size() ? f[i].value : std::string{}; }

// Strings the modem printed in the TE character set: under UCS2 they are hex
// of UTF-16 (some firmwares print time stamps and <stat> plainly even then).
std::string from_charset(const std::string& s, text_charset cs) {
    if (cs == text_charset::ucs2 && !s.empty() && s.size() % 4 == 0 && detail::is_hex(s))
        if (auto u = detail::ucs2_hex_to_utf8(s)) return *u;
    return s;
}

std::optional<int> parse_stat(const detail::field& f) {
    if (!f.quoted) return parse_int(f.value);
    std::string v = f.value;
    if (v.size() % 4 == 0 && detail::is_hex(v))
        if (auto u = detail::ucs2_hex_to_utf8(v)) v = *u;
    if (iequals(v, "REC UNREAD")) return 0;
    if (iequals(v, "REC READ")) return 1;
    if (iequals(v, "STO UNSENT")) return 2;
    if (iequals(v, "STO SENT")) return 3;
    return std::nullopt;
}

std::string join_lines(lines_view lines) {
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i) out.push_back('\n');
        out += lines[i];
    }
    return out;
}

// <fo>,<mr>,[<ra>],[<tora>],<scts>,<dt>,<st> starting at field `at`.
bool fill_report(const std::vector<detail::field>& f, std::size_t at, text_sms_record& r) {
    if (f.size() < at + 7) return false;
    auto fo = field_int(f, at);
    auto mr = field_int(f, at + 1);
    auto st = field_int(f, at + 6);
    if (!fo || !mr || !st || *mr < 0 || *mr > 255 || *st < 0 || *st > 255) return false;
    r.status_report = true;
    r.fo = fo;
    r.mr = *mr;
    r.address = field_str(f, at + 2);
    r.address_type = field_int(f, at + 3);
    r.scts = field_str(f, at + 4);
    r.dt = field_str(f, at + 5);
    r.st = *st;
    return true;
}

// A status-report header has an unquoted number (<fo>) where a message has
// its quoted address.
bool is_report_form(const std::vector<detail::field>& f, std::size_t at) {
    return at < f.size() && !f[at].quoted && parse_int(f[at].value).has_value();
}

sms_address decode_address(const std::string& printed, std::optional<int> type, text_charset cs) {
    std::string s = from_charset(printed, cs);
    sms_address a;
    const bool plus = !s.empty() && s.front() == '+';
    if (plus) s.erase(0, 1);
    const bool digits =
        !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '*' || c == '#'; });
    if (type && *type >= 0 && *type <= 255) {
        a.type = static_cast<std::uint8_t>(*type);
    } else {
        a.type = plus ? 0x91 : digits ? 0x81 : 0xD0;
    }
    if (a.alphanumeric() && cs == text_charset::gsm) {
        // GSM 7-bit codes as bytes: the letters are ASCII, the rest is mapped.
        std::vector<std::uint8_t> septets(s.begin(), s.end());
        s = gsm7_to_utf8(septets);
    }
    a.number = std::move(s);
    return a;
}

std::optional<sms_timestamp> parse_ts_field(const std::string& printed, text_charset cs) {
    if (auto t = parse_text_timestamp(printed)) return t;
    return parse_text_timestamp(from_charset(printed, cs));
}

// Hex bodies may come broken over lines.
std::string without_newlines(std::string_view s) {
    std::string out;
    for (char c : s)
        if (c != '\n') out.push_back(c);
    return out;
}

bool compressed_dcs(std::uint8_t dcs) noexcept { return (dcs >> 6) <= 1 && (dcs & 0x20) != 0; }

}  // namespace

// ------------------------------------------------------------ bring-up

std::optional<std::vector<int>> parse_cmgf_modes(lines_view lines) {
    const std::string* l = find_prefixed(lines, "+CMGF:");
    if (!l) return std::nullopt;
    std::string body(after_colon(*l));
    std::erase_if(body, [](char c) { return c == '(' || c == ')' || c == ' '; });
    std::vector<int> modes;
    std::size_t start = 0;
    while (start <= body.size()) {
        auto comma = body.find(',', start);
        std::string_view item = std::string_view(body).substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        auto dash = item.find('-');
        if (dash != std::string_view::npos) {
            auto a = parse_int(item.substr(0, dash)), b = parse_int(item.substr(dash + 1));
            if (!a || !b || *a > *b || *a < 0 || *b > 1) return std::nullopt;
            for (int v = *a; v <= *b; ++v) modes.push_back(v);
        } else {
            auto v = parse_int(item);
            if (!v) return std::nullopt;
            modes.push_back(*v);
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (modes.empty()) return std::nullopt;
    return modes;
}

std::vector<std::string> parse_cscs_list(lines_view lines) {
    std::vector<std::string> out;
    const std::string* l = find_prefixed(lines, "+CSCS:");
    if (!l) return out;
    std::string body(after_colon(*l));
    if (!body.empty() && body.front() == '(') body.erase(0, 1);
    if (!body.empty() && body.back() == ')') body.pop_back();
    for (auto& f : split_fields(body)) {
        std::string v = f.value;
        for (auto& c : v)
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (!v.empty()) out.push_back(std::move(v));
    }
    return out;
}

// ------------------------------------------------------------- sending

namespace {
// Septets that the text entry of 27.005 3.5.1 takes as control characters.
bool typeable_septet(std::uint8_t s) noexcept { return s != 0x00 && s != 0x08 && s != 0x1A && s != 0x1B && s != 0x0A; }
}  // namespace

text_send_plan plan_text_send(std::string_view utf8, bool ucs2_available) {
    text_send_plan p;
    auto cps = utf8_to_code_points(utf8);
    if (!cps) {
        p.error = text_plan_error::invalid_utf8;
        p.error_text = "the text is not valid UTF-8";
        return p;
    }
    if (auto plan = plan_sms(utf8)) p.pdu_parts = plan->parts_utf8.size();

    // GSM: one typed byte per character, a line break ("\r\n", "\n" or "\r") as one CR.
    std::string gsm;
    bool gsm_ok = true;
    std::vector<std::uint8_t> septet;
    for (std::size_t i = 0; i < cps->size(); ++i) {
        char32_t cp = (*cps)[i];
        if (cp == U'\r' || cp == U'\n') {
            if (cp == U'\r' && i + 1 < cps->size() && (*cps)[i + 1] == U'\n') ++i;
            gsm.push_back(static_cast<char>(gsm7_cr));
            continue;
        }
        septet.clear();
        if (gsm7_cost(cp) != 1 || !append_gsm7(septet, cp) || septet.size() != 1 || !typeable_septet(septet[0])) {
            gsm_ok = false;
            break;
        }
        gsm.push_back(static_cast<char>(septet[0]));
    }
    const std::string parts_note = p.pdu_parts > 1 ? " (" + std::to_string(p.pdu_parts) + " parts in PDU mode)" : std::string{};
    if (gsm_ok) {
        p.units = gsm.size();
        if (p.units > text_mode_max_gsm7) {
            p.error = text_plan_error::too_long;
            p.error_text = "text mode sends single-part messages only: the text has " + std::to_string(p.units) +
                           " GSM 7-bit characters, one part holds " + std::to_string(text_mode_max_gsm7) + parts_note +
                           "; a modem in PDU mode can send it";
            return p;
        }
        p.charset = text_charset::gsm;
        p.body = std::move(gsm);
        return p;
    }
    if (!ucs2_available) {
        p.error = text_plan_error::needs_ucs2;
        p.error_text =
            "the text needs UCS2 in text mode (characters outside the GSM 7-bit alphabet, or @, \u00F2, \u039E and extension "
            "characters such as \u20AC [ ] { }, which text entry cannot type) and this modem offers no UCS2 character set; a "
            "modem in PDU mode can send it";
        return p;
    }
    auto units = utf8_to_utf16(utf8);
    if (!units) {
        p.error = text_plan_error::invalid_utf8;
        p.error_text = "the text is not valid UTF-8";
        return p;
    }
    p.units = units->size();
    if (p.units > text_mode_max_ucs2) {
        p.error = text_plan_error::too_long;
        p.error_text = "text mode sends single-part messages only: the text needs UCS2 and has " + std::to_string(p.units) +
                       " UTF-16 units, one part holds " + std::to_string(text_mode_max_ucs2) + parts_note +
                       "; a modem in PDU mode can send it";
        return p;
    }
    p.charset = text_charset::ucs2;
    p.body = to_hex(utf16_to_ucs2_bytes(*units));
    return p;
}

at_command make_cscs(text_charset cs, std::chrono::milliseconds timeout) {
    return make_command("AT+CSCS=\"" + std::string(to_string(cs)) + "\"", timeout);
}

at_command make_csmp(bool status_report, std::uint8_t validity, text_charset cs, std::chrono::milliseconds timeout) {
    // <fo>: SMS-SUBMIT (MTI 01) with TP-VPF relative (0x10), TP-SRR (0x20) when asked.
    const int fo = 0x11 | (status_report ? 0x20 : 0);
    const int dcs = cs == text_charset::ucs2 ? 8 : 0;
    return make_command("AT+CSMP=" + std::to_string(fo) + "," + std::to_string(validity) + ",0," + std::to_string(dcs), timeout);
}

std::optional<at_command> make_send_text(std::string_view digits, bool international, const text_send_plan& plan,
                                         std::chrono::milliseconds send_timeout, std::chrono::milliseconds prompt_timeout) {
    if (!plan.ok() || digits.empty() || digits.size() > 20) return std::nullopt;
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    // Ctrl-Z would end the body early and ESC would cancel it.
    if (plan.body.find_first_of("\x1A\x1B") != std::string::npos) return std::nullopt;
    std::string da = (international ? "+" : "") + std::string(digits);
    if (plan.charset == text_charset::ucs2) {
        auto u = utf8_to_utf16(da);
        if (!u) return std::nullopt;
        da = to_hex(utf16_to_ucs2_bytes(*u));
    }
    at_command c;
    c.text = "AT+CMGS=\"" + da + "\"," + (international ? "145" : "129");
    c.info_prefix = "+CMGS:";
    c.timeout = prompt_timeout;
    c.data = plan.body;
    c.data_timeout = send_timeout;
    c.sensitive = true;
    c.data_line_prompts = plan.body.find('\r') != std::string::npos;
    return c;
}

std::optional<at_command> make_read_text(int index, std::chrono::milliseconds timeout) {
    if (index < 0 || index > 65535) return std::nullopt;
    auto c = make_command("AT+CMGR=" + std::to_string(index), timeout);
    c.sensitive = true;
    return c;
}

at_command make_list_text(std::chrono::milliseconds timeout) {
    auto c = make_command("AT+CMGL=\"ALL\"", timeout);
    c.sensitive = true;
    return c;
}

// ----------------------------------------------------------- receiving

std::optional<text_sms_record> parse_cmgr_text(lines_view lines) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (!istarts_with(trim(lines[i]), "+CMGR:")) continue;
        auto f = split_fields(after_colon(lines[i]));
        if (f.size() < 2) return std::nullopt;
        text_sms_record r;
        auto stat = parse_stat(f[0]);
        if (!stat) return std::nullopt;
        r.stat = *stat;
        if (is_report_form(f, 1)) {
            if (!fill_report(f, 1, r)) return std::nullopt;
            return r;
        }
        r.address = field_str(f, 1);
        r.alpha = field_str(f, 2);
        if (r.stat <= 1) {
            // Received: <oa>,[<alpha>],<scts>[,<tooa>,<fo>,<pid>,<dcs>,<sca>,<tosca>,<length>]
            r.scts = field_str(f, 3);
            r.address_type = field_int(f, 4);
            r.fo = field_int(f, 5);
            r.pid = field_int(f, 6);
            r.dcs = field_int(f, 7);
        } else {
            // Stored outgoing: <da>,[<alpha>][,<toda>,<fo>,<pid>,<dcs>,...]
            r.address_type = field_int(f, 3);
            r.fo = field_int(f, 4);
            r.pid = field_int(f, 5);
            r.dcs = field_int(f, 6);
        }
        r.data = join_lines(lines.subspan(i + 1));
        return r;
    }
    return std::nullopt;
}

std::vector<text_sms_record> parse_cmgl_text(lines_view lines) {
    std::vector<text_sms_record> out;
    std::size_t i = 0;
    while (i < lines.size()) {
        if (!istarts_with(trim(lines[i]), "+CMGL:")) {
            ++i;
            continue;
        }
        auto f = split_fields(after_colon(lines[i]));
        std::size_t next = i + 1;
        while (next < lines.size() && !istarts_with(trim(lines[next]), "+CMGL:")) ++next;
        auto index = field_int(f, 0);
        auto stat = f.size() > 1 ? parse_stat(f[1]) : std::nullopt;
        if (index && stat && *index >= 0) {
            text_sms_record r;
            r.index = index;
            r.stat = *stat;
            bool ok = true;
            if (is_report_form(f, 2)) {
                ok = fill_report(f, 2, r);
            } else {
                r.address = field_str(f, 2);
                r.alpha = field_str(f, 3);
                r.scts = field_str(f, 4);
                r.address_type = field_int(f, 5);
                r.data = join_lines(lines.subspan(i + 1, next - i - 1));
            }
            if (ok) out.push_back(std::move(r));
        }
        i = next;
    }
    return out;
}

std::optional<text_sms_record> parse_cds_text(std::string_view line) {
    line = trim(line);
    if (!iequals(detail::urc_name(line), "+CDS")) return std::nullopt;
    auto f = split_fields(after_colon(line));
    text_sms_record r;
    if (!fill_report(f, 0, r)) return std::nullopt;
    return r;
}

std::optional<sms_timestamp> parse_text_timestamp(std::string_view s) {
    s = trim(s);
    // yy/MM/dd,hh:mm:ss[±zz]
    if (s.size() < 17) return std::nullopt;
    auto two = [&](std::size_t at) -> std::optional<int> {
        if (at + 2 > s.size()) return std::nullopt;
        char a = s[at], b = s[at + 1];
        if (a < '0' || a > '9' || b < '0' || b > '9') return std::nullopt;
        return (a - '0') * 10 + (b - '0');
    };
    if (s[2] != '/' || s[5] != '/' || s[8] != ',' || s[11] != ':' || s[14] != ':') return std::nullopt;
    auto y = two(0), mo = two(3), d = two(6), h = two(9), mi = two(12), se = two(15);
    if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
    sms_timestamp ts{*y, *mo, *d, *h, *mi, *se, 0};
    if (s.size() > 17) {
        const char sign = s[17];
        if (sign != '+' && sign != '-') return std::nullopt;
        auto zone = parse_int(s.substr(18));
        if (!zone || *zone < 0 || *zone > 79) return std::nullopt;
        ts.tz_quarters = sign == '-' ? -*zone : *zone;
    }
    if (!to_unix_seconds(ts)) return std::nullopt;
    return ts;
}

std::optional<text_deliver> decode_text_deliver(const text_sms_record& r, text_charset cs) {
    if (r.status_report || r.stat > 1) return std::nullopt;
    text_deliver d;
    d.originator = decode_address(r.address, r.address_type, cs);
    d.scts = parse_ts_field(r.scts, cs);
    const bool udhi = r.fo && (*r.fo & 0x40) != 0;
    const bool dcs_known = r.dcs && *r.dcs >= 0 && *r.dcs <= 255;
    const auto dcs = static_cast<std::uint8_t>(dcs_known ? *r.dcs : 0);
    const bool plain_gsm = !dcs_known || (sms_dcs_coding(dcs) == data_coding::gsm7 && !compressed_dcs(dcs) && !udhi);
    if (!plain_gsm) {
        // 27.005 <data>: hex of the octets for 8-bit/UCS2 or with a user data header.
        if (auto octets = from_hex(without_newlines(r.data)))
            if (auto ud = decode_user_data_octets(*octets, dcs, udhi)) {
                d.ud = std::move(*ud);
                return d;
            }
        // Not hex after all: keep what was printed rather than lose the message.
        d.ud.dcs = dcs;
        d.ud.text = r.data;
        return d;
    }
    d.ud.dcs = dcs;
    d.ud.coding = data_coding::gsm7;
    if (cs == text_charset::ucs2) {
        // GSM text converted to the UCS2 TE set: UTF-16 hex, several lines at most if the
        // modem breaks long hex; without <dcs> a UCS2 message looks the same.
        if (auto u = detail::ucs2_hex_to_utf8(without_newlines(r.data))) {
            d.ud.text = std::move(*u);
            return d;
        }
        d.ud.text = r.data;
        return d;
    }
    std::vector<std::uint8_t> septets(r.data.begin(), r.data.end());
    d.ud.text = gsm7_to_utf8(septets);
    return d;
}

std::optional<sms_status_report> decode_text_report(const text_sms_record& r, text_charset cs) {
    if (!r.status_report || r.mr < 0 || r.mr > 255 || r.st < 0 || r.st > 255) return std::nullopt;
    sms_status_report s;
    s.message_ref = static_cast<std::uint8_t>(r.mr);
    s.recipient = decode_address(r.address, r.address_type, cs);
    s.status = static_cast<std::uint8_t>(r.st);
    s.scts = parse_ts_field(r.scts, cs);
    s.discharge_time = parse_ts_field(r.dt, cs);
    return s;
}

}  // namespace otppi::modem
