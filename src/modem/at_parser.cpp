#include "otppi/modem/at_parser.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace otppi::modem {

namespace detail {

namespace {
char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) noexcept {
    auto blank = [](char c) { return c == ' ' || c == '\t'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

bool is_hex(std::string_view s) noexcept {
    if (s.empty()) return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); });
}

std::string_view urc_name(std::string_view line) noexcept {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return line;
    return trim(line.substr(0, colon));
}

bool is_registration_urc_form(std::string_view line) noexcept {
    // Read-command reply: +CREG: <n>,<stat>[,<lac>,<ci>[,<AcT>]]
    // Unsolicited:        +CREG: <stat>[,<lac>,<ci>[,<AcT>]]
    // <lac> is a quoted string, so "quoted second field" or "single field"
    // tells the URC apart without knowing the <n> the modem was set to.
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    auto rest = line.substr(colon + 1);
    auto comma = rest.find(',');
    if (comma == std::string_view::npos) return !trim(rest).empty();
    auto second = trim(rest.substr(comma + 1));
    return !second.empty() && second.front() == '"';
}

}  // namespace detail

using detail::iequals;
using detail::istarts_with;
using detail::trim;

std::string_view to_string(at_status s) noexcept {
    switch (s) {
        case at_status::ok:
            return "ok";
        case at_status::error:
            return "error";
        case at_status::cme_error:
            return "cme_error";
        case at_status::cms_error:
            return "cms_error";
        case at_status::no_carrier:
            return "no_carrier";
        case at_status::busy:
            return "busy";
        case at_status::no_answer:
            return "no_answer";
        case at_status::no_dialtone:
            return "no_dialtone";
        case at_status::connect:
            return "connect";
        case at_status::timeout:
            return "timeout";
        case at_status::aborted:
            return "aborted";
    }
    return "?";
}

std::string describe(const at_result& r) {
    std::string s(to_string(r.status));
    if (r.status == at_status::cms_error) s = "+CMS ERROR";
    if (r.status == at_status::cme_error) s = "+CME ERROR";
    if (r.code) s += ' ' + std::to_string(*r.code);
    if (!r.error_text.empty()) s += " (" + r.error_text + ')';
    return s;
}

std::string_view to_string(urc_kind k) noexcept {
    switch (k) {
        case urc_kind::sms_stored:
            return "sms_stored";
        case urc_kind::sms_deliver:
            return "sms_deliver";
        case urc_kind::status_report:
            return "status_report";
        case urc_kind::status_report_stored:
            return "status_report_stored";
        case urc_kind::cell_broadcast:
            return "cell_broadcast";
        case urc_kind::ussd:
            return "ussd";
        case urc_kind::ring:
            return "ring";
        case urc_kind::call_ended:
            return "call_ended";
        case urc_kind::caller_id:
            return "caller_id";
        case urc_kind::registration:
            return "registration";
        case urc_kind::sim_status:
            return "sim_status";
        case urc_kind::modem_ready:
            return "modem_ready";
        case urc_kind::power:
            return "power";
        case urc_kind::signal:
            return "signal";
        case urc_kind::network_time:
            return "network_time";
        case urc_kind::tts:
            return "tts";
        case urc_kind::vendor:
            return "vendor";
        case urc_kind::unknown:
            return "unknown";
    }
    return "?";
}

namespace {

struct code_text {
    int code;
    std::string_view text;
};

// 27.007 clause 9.2.1 (verbose form, CMEE=2), the ones modems really print.
constexpr std::array cme_texts{
    code_text{0, "phone failure"},
    code_text{1, "no connection to phone"},
    code_text{2, "phone-adaptor link reserved"},
    code_text{3, "operation not allowed"},
    code_text{4, "operation not supported"},
    code_text{5, "PH-SIM PIN required"},
    code_text{10, "SIM not inserted"},
    code_text{11, "SIM PIN required"},
    code_text{12, "SIM PUK required"},
    code_text{13, "SIM failure"},
    code_text{14, "SIM busy"},
    code_text{15, "SIM wrong"},
    code_text{16, "incorrect password"},
    code_text{17, "SIM PIN2 required"},
    code_text{18, "SIM PUK2 required"},
    code_text{20, "memory full"},
    code_text{21, "invalid index"},
    code_text{22, "not found"},
    code_text{23, "memory failure"},
    code_text{24, "text string too long"},
    code_text{25, "invalid characters in text string"},
    code_text{26, "dial string too long"},
    code_text{27, "invalid characters in dial string"},
    code_text{30, "no network service"},
    code_text{31, "network timeout"},
    code_text{32, "network not allowed - emergency calls only"},
    code_text{100, "unknown"},
};

// 27.005 clause 3.2.5.
constexpr std::array cms_texts{
    code_text{300, "ME failure"},
    code_text{301, "SMS service of ME reserved"},
    code_text{302, "operation not allowed"},
    code_text{303, "operation not supported"},
    code_text{304, "invalid PDU mode parameter"},
    code_text{305, "invalid text mode parameter"},
    code_text{310, "SIM not inserted"},
    code_text{310, "(U)SIM not inserted"},
    code_text{311, "SIM PIN required"},
    code_text{312, "PH-SIM PIN required"},
    code_text{313, "SIM failure"},
    code_text{314, "SIM busy"},
    code_text{315, "SIM wrong"},
    code_text{316, "SIM PUK required"},
    code_text{317, "SIM PIN2 required"},
    code_text{318, "SIM PUK2 required"},
    code_text{320, "memory failure"},
    code_text{321, "invalid memory index"},
    code_text{322, "memory full"},
    code_text{330, "SMSC address unknown"},
    code_text{331, "no network service"},
    code_text{332, "network timeout"},
    code_text{340, "no +CNMA acknowledgement expected"},
    code_text{500, "unknown error"},
};

template <std::size_t N>
std::optional<int> lookup(const std::array<code_text, N>& table, std::string_view text) {
    text = trim(text);
    for (const auto& e : table)
        if (iequals(e.text, text)) return e.code;
    return std::nullopt;
}

std::optional<int> to_int(std::string_view s) {
    s = trim(s);
    int v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

struct urc_entry {
    std::string_view name;
    urc_kind kind;
};

// URCs that carry ':' and are matched on the name before it.
constexpr std::array colon_urcs{
    urc_entry{"+CMTI", urc_kind::sms_stored},
    urc_entry{"+CMT", urc_kind::sms_deliver},
    urc_entry{"+CDSI", urc_kind::status_report_stored},
    urc_entry{"+CDS", urc_kind::status_report},
    urc_entry{"+CBM", urc_kind::cell_broadcast},
    urc_entry{"+CUSD", urc_kind::ussd},
    urc_entry{"+CRING", urc_kind::ring},
    urc_entry{"+CLIP", urc_kind::caller_id},
    urc_entry{"+CCWA", urc_kind::caller_id},
    urc_entry{"+CREG", urc_kind::registration},
    urc_entry{"+CGREG", urc_kind::registration},
    urc_entry{"+CEREG", urc_kind::registration},
    urc_entry{"+C5GREG", urc_kind::registration},
    urc_entry{"+CPIN", urc_kind::sim_status},
    urc_entry{"+QUSIM", urc_kind::sim_status},
    urc_entry{"+CSMINS", urc_kind::sim_status},
    urc_entry{"+CFUN", urc_kind::power},
    urc_entry{"+CMTE", urc_kind::power},
    urc_entry{"+CSQN", urc_kind::signal},
    urc_entry{"*PSUTTZ", urc_kind::network_time},
    urc_entry{"+PSUTTZ", urc_kind::network_time},
    urc_entry{"+CTZV", urc_kind::network_time},
    urc_entry{"+CTZE", urc_kind::network_time},
    urc_entry{"DST", urc_kind::network_time},
    urc_entry{"+CTTS", urc_kind::tts},
    urc_entry{"+QIND", urc_kind::vendor},
    urc_entry{"+QIURC", urc_kind::vendor},
    urc_entry{"+CIEV", urc_kind::vendor},
    urc_entry{"+CGEV", urc_kind::vendor},
    urc_entry{"+STIN", urc_kind::vendor},
    urc_entry{"+STKPCI", urc_kind::vendor},
};

// Whole-line URCs (no ':').
constexpr std::array word_urcs{
    urc_entry{"RING", urc_kind::ring},
    urc_entry{"NO CARRIER", urc_kind::call_ended},
    urc_entry{"BUSY", urc_kind::call_ended},
    urc_entry{"NO ANSWER", urc_kind::call_ended},
    urc_entry{"NO DIALTONE", urc_kind::call_ended},
    urc_entry{"RDY", urc_kind::modem_ready},
    urc_entry{"Call Ready", urc_kind::modem_ready},
    urc_entry{"SMS Ready", urc_kind::modem_ready},
    urc_entry{"PB DONE", urc_kind::modem_ready},
    urc_entry{"NORMAL POWER DOWN", urc_kind::power},
    urc_entry{"POWERED DOWN", urc_kind::power},
    urc_entry{"UNDER-VOLTAGE POWER DOWN", urc_kind::power},
    urc_entry{"UNDER-VOLTAGE WARNNING", urc_kind::power},  // sic, SIMCom spelling
    urc_entry{"UNDER-VOLTAGE WARNING", urc_kind::power},
    urc_entry{"OVER-VOLTAGE POWER DOWN", urc_kind::power},
    urc_entry{"OVER-VOLTAGE WARNNING", urc_kind::power},
    urc_entry{"OVER-VOLTAGE WARNING", urc_kind::power},
};

bool is_two_line_header(std::string_view line) {
    auto name = detail::urc_name(line);
    if (name.size() == line.size()) return false;  // no ':'
    // Text mode prints a status report on one line, with quoted time stamps:
    // +CDS: <fo>,<mr>,[<ra>],[<tora>],<scts>,<dt>,<st>. The PDU form is
    // "+CDS: <length>" and never has a quote.
    if (iequals(name, "+CDS")) return line.find('"') == std::string_view::npos;
    return iequals(name, "+CMT") || iequals(name, "+CBM");
}

// True when the +CUSD line's quoted text is complete. Quotes escaped with a
// backslash do not count; a line ending in `",<dcs>` is complete even with an
// odd number of quotes, since some firmware does not escape quotes in the text.
bool cusd_text_closed(std::string_view line) {
    bool open = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\\' && open) {
            ++i;
            continue;
        }
        if (line[i] == '"') open = !open;
    }
    if (!open) return true;
    auto t = trim(line);
    std::size_t i = t.size();
    while (i > 0 && t[i - 1] >= '0' && t[i - 1] <= '9') --i;
    if (i == t.size()) return false;
    auto head = trim(t.substr(0, i));
    if (head.empty() || head.back() != ',') return false;
    head = trim(head.substr(0, head.size() - 1));
    return !head.empty() && head.back() == '"';
}

}  // namespace

std::optional<int> cme_code_from_text(std::string_view text) { return lookup(cme_texts, text); }
std::optional<int> cms_code_from_text(std::string_view text) { return lookup(cms_texts, text); }

std::optional<final_result> parse_final_result(std::string_view line, bool dial) {
    line = trim(line);
    if (iequals(line, "OK")) return final_result{at_status::ok, std::nullopt, {}};
    if (iequals(line, "ERROR")) return final_result{at_status::error, std::nullopt, {}};
    // Huawei and some Chinese firmwares end unknown commands with these.
    if (iequals(line, "COMMAND NOT SUPPORT") || iequals(line, "TOO MANY PARAMETERS"))
        return final_result{at_status::error, std::nullopt, std::string(line)};
    constexpr std::string_view cme = "+CME ERROR:";
    constexpr std::string_view cms = "+CMS ERROR:";
    if (istarts_with(line, cme) || istarts_with(line, cms)) {
        bool is_cme = istarts_with(line, cme);
        auto rest = trim(line.substr(cme.size()));
        final_result r{is_cme ? at_status::cme_error : at_status::cms_error, to_int(rest), {}};
        if (!r.code) {
            r.text = std::string(rest);
            r.code = is_cme ? cme_code_from_text(rest) : cms_code_from_text(rest);
        }
        return r;
    }
    if (!dial) return std::nullopt;
    if (iequals(line, "NO CARRIER")) return final_result{at_status::no_carrier, std::nullopt, {}};
    if (iequals(line, "BUSY")) return final_result{at_status::busy, std::nullopt, {}};
    if (iequals(line, "NO ANSWER")) return final_result{at_status::no_answer, std::nullopt, {}};
    if (iequals(line, "NO DIALTONE") || iequals(line, "NO DIAL TONE")) return final_result{at_status::no_dialtone, std::nullopt, {}};
    if (iequals(line, "CONNECT") || istarts_with(line, "CONNECT "))
        return final_result{at_status::connect, std::nullopt, std::string(line)};
    return std::nullopt;
}

std::optional<urc_kind> known_urc(std::string_view line) {
    line = trim(line);
    if (line.empty()) return std::nullopt;
    auto name = detail::urc_name(line);
    bool has_colon = name.size() != line.size();
    if (line.front() == '^') {
        // Huawei (and ZTE) put every vendor notification under '^'.
        if (iequals(name, "^RSSI") || iequals(name, "^HCSQ") || iequals(name, "^CERSSI")) return urc_kind::signal;
        if (iequals(name, "^SIMST")) return urc_kind::sim_status;
        return urc_kind::vendor;
    }
    if (has_colon) {
        for (const auto& e : colon_urcs)
            if (iequals(e.name, name)) return e.kind;
        return std::nullopt;
    }
    for (const auto& e : word_urcs)
        if (iequals(e.name, line)) return e.kind;
    return std::nullopt;
}

unsolicited make_unsolicited(std::string_view line, std::string pdu) {
    line = trim(line);
    unsolicited u;
    u.kind = known_urc(line).value_or(urc_kind::unknown);
    u.name = std::string(detail::urc_name(line));
    u.line = std::string(line);
    u.pdu = std::move(pdu);
    return u;
}

line_class classify_line(std::string_view line, const line_context& ctx) {
    line = trim(line);
    if (parse_final_result(line, ctx.dial)) return line_class::final_result;
    // The modem answers AT+CUSD=... with OK and delivers the network's answer
    // later, possibly while another command runs: never part of a reply.
    if (istarts_with(line, "+CUSD:")) return line_class::urc;
    if (ctx.active && !ctx.info_prefix.empty() && istarts_with(line, ctx.info_prefix)) {
        bool registration = istarts_with(line, "+CREG:") || istarts_with(line, "+CGREG:") || istarts_with(line, "+CEREG:") ||
                            istarts_with(line, "+C5GREG:");
        if (!(registration && detail::is_registration_urc_form(line))) return line_class::info;
        return line_class::urc;
    }
    if (known_urc(line)) return line_class::urc;
    if (ctx.active && ctx.accept_bare) return line_class::info;
    return line_class::urc;
}

// ---------------------------------------------------------------- at_parser

at_parser::at_parser(std::size_t max_line) noexcept : max_line_(max_line < 16 ? 16 : max_line) {}

void at_parser::reset() noexcept {
    line_.clear();
    pending_header_.clear();
    discarding_ = false;
    in_cusd_text_ = false;
    last_terminator_ = 0;
}

void at_parser::flush_pending(std::vector<frame>& out) {
    if (pending_header_.empty()) return;
    out.push_back(frame{frame::kind_t::line, std::move(pending_header_), {}});
    pending_header_.clear();
}

void at_parser::deliver(std::string line, std::vector<frame>& out) {
    if (!pending_header_.empty()) {
        if (detail::is_hex(line)) {
            out.push_back(frame{frame::kind_t::line, std::move(pending_header_), std::move(line)});
            pending_header_.clear();
            return;
        }
        flush_pending(out);
    }
    if (is_two_line_header(line)) {
        pending_header_ = std::move(line);
        return;
    }
    out.push_back(frame{frame::kind_t::line, std::move(line), {}});
}

void at_parser::end_line(std::vector<frame>& out) {
    auto t = trim(line_);
    if (t.empty()) {
        line_.clear();
        return;
    }
    if (istarts_with(t, "+CUSD:") && !cusd_text_closed(t)) {
        // Keep reading: the USSD text goes on in the next physical line.
        in_cusd_text_ = true;
        line_.push_back('\n');
        return;
    }
    std::string line(t);
    line_.clear();
    deliver(std::move(line), out);
}

void at_parser::feed(std::string_view bytes, std::vector<frame>& out) {
    for (char ch : bytes) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '\r' || c == '\n') {
            bool folded_pair = (c == '\n' && last_terminator_ == '\r');
            last_terminator_ = static_cast<char>(c);
            if (discarding_) {
                discarding_ = false;
                continue;
            }
            if (in_cusd_text_) {
                if (folded_pair) continue;
                // The physical line just ended is everything after the last '\n'.
                auto start = line_.rfind('\n');
                start = (start == std::string::npos) ? 0 : start + 1;
                auto phys = trim(std::string_view(line_).substr(start));
                if (parse_final_result(phys, false)) {
                    // The text never closed: emit what we have, then the result.
                    std::string result(phys);
                    line_.resize(start);
                    while (!line_.empty() && line_.back() == '\n') line_.pop_back();
                    in_cusd_text_ = false;
                    std::string cusd(trim(line_));
                    line_.clear();
                    deliver(std::move(cusd), out);
                    deliver(std::move(result), out);
                    continue;
                }
                if (cusd_text_closed(line_)) {
                    in_cusd_text_ = false;
                    std::string cusd(trim(line_));
                    line_.clear();
                    deliver(std::move(cusd), out);
                    continue;
                }
                if (line_.size() >= max_line_) {
                    in_cusd_text_ = false;
                    out.push_back(frame{frame::kind_t::overflow, line_.substr(0, 64), {}});
                    line_.clear();
                    continue;
                }
                line_.push_back('\n');
                continue;
            }
            end_line(out);
            continue;
        }
        last_terminator_ = 0;
        // NUL at power-up, an echoed ESC or Ctrl-Z, other line noise: never content.
        if (c < 0x20 && c != '\t') continue;
        if (c == 0x7f) continue;
        if (discarding_) continue;
        if (line_.size() >= max_line_) {
            flush_pending(out);
            out.push_back(frame{frame::kind_t::overflow, line_.substr(0, 64), {}});
            line_.clear();
            in_cusd_text_ = false;
            discarding_ = true;
            continue;
        }
        line_.push_back(static_cast<char>(c));
        // The SMS prompt has no line end: recognise it as soon as it is whole.
        if (!in_cusd_text_ && line_.size() == 2 && line_[0] == '>' && line_[1] == ' ') {
            line_.clear();
            flush_pending(out);
            out.push_back(frame{frame::kind_t::prompt, {}, {}});
        }
    }
}

}  // namespace otppi::modem
