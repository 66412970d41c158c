#include "sim_detail.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <span>

#include "otppi/sim/sim_state.hpp"

namespace otppi::sim::detail {

namespace m = otppi::modem;

std::string upper_outside_quotes(std::string_view s) {
    std::string out(s);
    bool quoted = false;
    for (auto& c : out) {
        if (c == '"') quoted = !quoted;
        if (!quoted) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

std::string digits_of(std::string_view s) {
    std::string d;
    for (char c : s)
        if (c >= '0' && c <= '9') d.push_back(c);
    return d;
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<int> int_field(const std::vector<m::detail::field>& f, std::size_t i) {
    if (i >= f.size() || f[i].quoted) return std::nullopt;
    return m::detail::parse_int(f[i].value);
}

m::sms_timestamp wall_timestamp() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    m::sms_timestamp ts;
    ts.year = tm.tm_year % 100;
    ts.month = tm.tm_mon + 1;
    ts.day = tm.tm_mday;
    ts.hour = tm.tm_hour;
    ts.minute = tm.tm_min;
    ts.second = tm.tm_sec;
    ts.tz_quarters = 0;
    return ts;
}

namespace {

std::string two(int v) {
    std::string s = std::to_string(v);
    return s.size() < 2 ? "0" + s : s;
}

}  // namespace

// Text-mode time stamp: "yy/MM/dd,hh:mm:ss+zz" (27.005 <scts>).
std::string text_timestamp(const std::optional<m::sms_timestamp>& ts) {
    if (!ts) return "";
    std::string s =
        two(ts->year) + "/" + two(ts->month) + "/" + two(ts->day) + "," + two(ts->hour) + ":" + two(ts->minute) + ":" + two(ts->second);
    int q = ts->tz_quarters;
    s += q < 0 ? "-" : "+";
    s += two(q < 0 ? -q : q);
    return s;
}

std::string_view stat_text(int stat) {
    switch (stat) {
        case 0:
            return "REC UNREAD";
        case 1:
            return "REC READ";
        case 2:
            return "STO UNSENT";
        default:
            return "STO SENT";
    }
}

std::optional<int> stat_from_text(std::string_view s) {
    if (m::detail::iequals(s, "REC UNREAD")) return 0;
    if (m::detail::iequals(s, "REC READ")) return 1;
    if (m::detail::iequals(s, "STO UNSENT")) return 2;
    if (m::detail::iequals(s, "STO SENT")) return 3;
    if (m::detail::iequals(s, "ALL")) return 4;
    return std::nullopt;
}

namespace {

struct code_text {
    int code;
    std::string_view text;
};
// Verbose texts as 27.007 §9.2 and 27.005 §3.2.5 spell them (what AT+CMEE=2 prints).
constexpr code_text cme_texts[] = {
    {0, "phone failure"},
    {3, "operation not allowed"},
    {4, "operation not supported"},
    {10, "SIM not inserted"},
    {11, "SIM PIN required"},
    {12, "SIM PUK required"},
    {13, "SIM failure"},
    {14, "SIM busy"},
    {16, "incorrect password"},
    {20, "memory full"},
    {21, "invalid index"},
    {30, "no network service"},
    {100, "unknown"},
};
constexpr code_text cms_texts[] = {
    {300, "ME failure"},
    {302, "operation not allowed"},
    {303, "operation not supported"},
    {304, "invalid PDU mode parameter"},
    {305, "invalid text mode parameter"},
    {310, "SIM not inserted"},
    {311, "SIM PIN required"},
    {313, "SIM failure"},
    {314, "SIM busy"},
    {316, "SIM PUK required"},
    {320, "memory failure"},
    {321, "invalid memory index"},
    {322, "memory full"},
    {330, "SMSC address unknown"},
    {331, "no network service"},
    {332, "network timeout"},
    {500, "unknown error"},
};

std::optional<std::string_view> text_for(std::span<const code_text> table, int code) {
    for (const auto& e : table)
        if (e.code == code) return e.text;
    return std::nullopt;
}

}  // namespace

std::optional<std::string_view> cme_text(int code) { return text_for(cme_texts, code); }
std::optional<std::string_view> cms_text(int code) { return text_for(cms_texts, code); }

std::vector<std::string_view> raw_fields(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || (s[i] == ',' && !quoted)) {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
        } else if (s[i] == '"') {
            quoted = !quoted;
        }
    }
    return out;
}


std::string mask_command(std::string_view line) {
    std::string_view t = m::detail::trim(line);
    // The spoken text of AT+CTTS is a one-time password read aloud.
    if (m::detail::istarts_with(t, "AT+CTTS=") && t != "AT+CTTS=?" && !m::detail::iequals(t, "AT+CTTS=?")) return "AT+CTTS=<redacted>";
    struct rule {
        std::string_view prefix;
        std::size_t first_secret;  // index of the first field holding a secret
    };
    static constexpr rule rules[] = {{"AT+CPIN=", 0}, {"AT+CLCK=", 2}, {"AT+CPWD=", 1}, {"AT+CPIN2=", 0}};
    for (const auto& r : rules) {
        if (!m::detail::istarts_with(t, r.prefix)) continue;
        std::string_view args = t.substr(r.prefix.size());
        if (args == "?") break;
        std::string out(t.substr(0, r.prefix.size()));
        auto fields = raw_fields(args);
        for (std::size_t i = 0; i < fields.size(); ++i) {
            if (i) out += ',';
            auto f = m::detail::trim(fields[i]);
            if (i < r.first_secret || f.empty())
                out += f;
            else
                out += (f.front() == '"') ? "\"****\"" : "****";
        }
        return out;
    }
    return std::string(t);
}

std::string mask_number(std::string_view number) {
    std::string d(number);
    if (d.size() >= 9) return d.substr(0, 5) + std::string(d.size() - 8, '*') + d.substr(d.size() - 3);
    if (d.size() > 2) return std::string(d.size() - 2, '*') + d.substr(d.size() - 2);
    return std::string(d.size(), '*');
}

}  // namespace otppi::sim::detail
