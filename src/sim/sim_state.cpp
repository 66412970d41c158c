#include "otppi/sim/sim_state.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <span>
#include <stdexcept>
#include <utility>

#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/at_parser.hpp"
#include "otppi/modem/gsm7.hpp"
#include "otppi/modem/pdu.hpp"

namespace otppi::sim {

namespace m = otppi::modem;
using m::detail::split_fields;

std::string_view to_string(fault f) noexcept {
    switch (f) {
        case fault::none:
            return "none";
        case fault::cms_error:
            return "cms_error";
        case fault::silent:
            return "silent";
        case fault::silent_after_prompt:
            return "silent_after_prompt";
        case fault::error:
            return "error";
        case fault::sim_removed:
            return "sim_removed";
    }
    return "?";
}

namespace {

// SIM800 accepts command lines up to 556 characters; a little more costs nothing.
constexpr std::size_t max_command_line = 1024;
// The hex of the longest TPDU (176 octets) plus a full SMSC part, with room to spare.
constexpr std::size_t max_pdu_hex = 2 * (180 + 12);
constexpr std::size_t max_text_body = 1024;
constexpr std::size_t max_held_input = 4096;
constexpr std::size_t max_held_urcs = 64;
constexpr std::size_t max_partial_messages = 1024;

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

std::string two(int v) {
    std::string s = std::to_string(v);
    return s.size() < 2 ? "0" + s : s;
}

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

// Top-level fields of an argument list, keeping the raw text of each (quotes included).
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

}  // namespace

namespace detail {

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

}  // namespace detail

// =====================================================================================
// construction, power

modem_device::modem_device(sim_options options, sim_clock::time_point now) : options_(std::move(options)) {
    pin_lock_ = !options_.pin.empty();
    pin_ = pin_lock_ ? options_.pin : std::string("1234");
    imei_ = options_.imei;
    smsc_ = options_.smsc;
    storage_.resize(std::max<std::size_t>(1, options_.storage_capacity));
    sim_ = pin_lock_ ? sim_status::pin : sim_status::ready;
    // Identity picks the vendor-specific answers (ICCID command, ATI), the way the
    // driver picks its vendor profile from the same strings.
    auto has = [](const std::string& hay, std::string_view needle) {
        for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
            if (m::detail::iequals(std::string_view(hay).substr(i, needle.size()), needle)) return true;
        return false;
    };
    const std::string& mf = options_.manufacturer;
    const std::string& md = options_.model;
    if (has(mf, "SIMCOM") || m::detail::istarts_with(md, "SIM") || has(md, "SIMCOM"))
        vendor_ = (has(md, "SIM7") || has(md, "A76") || has(md, "A78")) ? vendor_kind::simcom_lte : vendor_kind::simcom;
    else if (has(mf, "QUECTEL"))
        vendor_ = vendor_kind::quectel;
    else if (has(mf, "HUAWEI"))
        vendor_ = vendor_kind::huawei;
    else
        vendor_ = vendor_kind::other;
    power_up(now);
}

void modem_device::reset_settings() {
    echo_ = options_.echo;
    cmee_ = 0;
    cmgf_ = options_.text_only ? 1 : 0;
    cscs_ = "IRA";
    cnmi_mode_ = 2;
    cnmi_mt_ = 1;
    cnmi_bm_ = 0;
    cnmi_ds_ = 0;
    cnmi_bfr_ = 0;
    csms_ = 0;
    cmms_ = 0;
    creg_n_ = 0;
    cfun_ = 1;
    csclk_ = 0;
    csmp_fo_ = 17;
    csmp_vp_ = 167;
    csmp_dcs_ = 0;
    csdh_ = 0;
    cusd_n_ = 0;
    cops_format_ = 0;
}

void modem_device::power_up(sim_clock::time_point now) {
    reset_settings();
    output_.clear();
    mode_ = input_mode::command;
    line_.clear();
    line_overflow_ = false;
    body_.clear();
    busy_ = false;
    held_input_.clear();
    held_urcs_.clear();
    events_.clear();
    ussd_session_ = false;
    for (auto& c : calls_) c.active = false;
    call_stat_ = 0;
    // The SIM's retry counters live on the card: a PUK-blocked SIM stays blocked.
    if (sim_ != sim_status::puk) sim_ = pin_lock_ ? sim_status::pin : sim_status::ready;
    if (options_.boot_urcs) {
        schedule(now + std::chrono::milliseconds(20), event_tag::boot, [this](sim_clock::time_point t) {
            urc("RDY");
            urc("+CFUN: 1");
            if (fault_ == fault::sim_removed)
                urc("+CPIN: NOT INSERTED");
            else
                urc(sim_ == sim_status::ready ? "+CPIN: READY" : sim_ == sim_status::pin ? "+CPIN: SIM PIN" : "+CPIN: SIM PUK");
            schedule(t + std::chrono::milliseconds(100), event_tag::boot, [this](sim_clock::time_point) {
                urc("Call Ready");
                urc("SMS Ready");
            });
        });
    }
}

void modem_device::power_cycle(sim_clock::time_point now) { power_up(now); }

// =====================================================================================
// time

void modem_device::schedule(sim_clock::time_point at, event_tag tag, std::function<void(sim_clock::time_point)> fn) {
    timed_event ev{at, event_seq_++, tag, std::move(fn)};
    auto pos = std::upper_bound(events_.begin(), events_.end(), ev,
                                [](const timed_event& a, const timed_event& b) { return a.at < b.at || (a.at == b.at && a.seq < b.seq); });
    events_.insert(pos, std::move(ev));
}

void modem_device::cancel_events(event_tag tag) {
    std::erase_if(events_, [tag](const timed_event& e) { return e.tag == tag; });
}

std::optional<sim_clock::time_point> modem_device::next_deadline() const {
    if (events_.empty()) return std::nullopt;
    return events_.front().at;
}

void modem_device::on_time(sim_clock::time_point now) {
    while (!events_.empty() && events_.front().at <= now) {
        timed_event ev = std::move(events_.front());
        events_.erase(events_.begin());
        // The event's own time, so follow-ups (the +CDS after a +CMGS) keep their spacing
        // whatever the lateness of the caller.
        ev.run(ev.at);
    }
}

// =====================================================================================
// output

std::string modem_device::take_output() { return std::exchange(output_, {}); }

void modem_device::emit(std::string_view bytes) {
    // A hung modem says nothing at all.
    if (fault_ == fault::silent) return;
    output_.append(bytes);
}

void modem_device::info(std::string_view line) {
    std::string s;
    s.reserve(line.size() + 4);
    s += "\r\n";
    s += line;
    s += "\r\n";
    emit(s);
}

void modem_device::ok() { emit("\r\nOK\r\n"); }
void modem_device::error() { emit("\r\nERROR\r\n"); }

void modem_device::cme_error(int code) {
    if (cmee_ == 0) return error();
    auto text = text_for(cme_texts, code);
    if (cmee_ == 2 && text)
        info("+CME ERROR: " + std::string(*text));
    else
        info("+CME ERROR: " + std::to_string(code));
}

// +CMS ERROR is the final result of SMS commands whatever AT+CMEE says (27.005
// §3.2.5); CMEE=2 only makes it verbose.
void modem_device::cms_error(int code) {
    auto text = text_for(cms_texts, code);
    if (cmee_ == 2 && text)
        info("+CMS ERROR: " + std::string(*text));
    else
        info("+CMS ERROR: " + std::to_string(code));
}

void modem_device::urc(std::string text) {
    // While the driver types a message after "> " the link is reserved: buffer (CNMI <mode> 2).
    if (mode_ != input_mode::command) {
        if (held_urcs_.size() < max_held_urcs) held_urcs_.push_back(std::move(text));
        return;
    }
    info(text);
}

void modem_device::flush_held_urcs() {
    auto held = std::exchange(held_urcs_, {});
    for (auto& u : held) info(u);
}

void modem_device::log_command(std::string masked) {
    commands_.push_back(std::move(masked));
    while (commands_.size() > options_.history_limit) commands_.pop_front();
}

// =====================================================================================
// faults

void modem_device::set_fault(fault f, int cms_code, int count, sim_clock::time_point now) {
    (void)now;
    const fault before = fault_;
    if (count == 0) f = fault::none;
    fault_ = f;
    fault_code_ = cms_code;
    fault_count_ = count < 0 ? -1 : count;
    // No URC either way: a SIM800 notices a SIM swap only with AT+CSDT=1 (off by
    // default), so the driver learns it from its next command, as in the field.
    if (f == fault::sim_removed && before != fault::sim_removed) {
        ussd_session_ = false;
    } else if (before == fault::sim_removed && f != fault::sim_removed) {
        // A SIM put back is a new SIM session: locked again when its lock is on.
        if (sim_ != sim_status::puk) sim_ = pin_lock_ ? sim_status::pin : sim_status::ready;
    }
}

void modem_device::clear_fault(sim_clock::time_point now) { set_fault(fault::none, 0, -1, now); }

void modem_device::consume_fault() {
    if (fault_count_ < 0) return;
    if (--fault_count_ <= 0) {
        fault_ = fault::none;
        fault_count_ = -1;
    }
}

// =====================================================================================
// input

void modem_device::on_input(std::string_view bytes, sim_clock::time_point now) {
    for (char c : bytes) feed_byte(c, now);
}

void modem_device::feed_byte(char c, sim_clock::time_point now) {
    if (busy_) {
        // One command at a time: the UART buffers what comes during a send.
        if (held_input_.size() < max_held_input) held_input_.push_back(c);
        return;
    }
    const auto u = static_cast<unsigned char>(c);
    switch (mode_) {
        case input_mode::command:
            if (echo_ && u != 0x1A && u != 0x1B) emit(std::string_view(&c, 1));
            if (c == '\r') {
                std::string line = std::exchange(line_, {});
                if (std::exchange(line_overflow_, false)) {
                    log_command(detail::mask_command(line.substr(0, 64)) + "...");
                    if (fault_ != fault::silent) error();
                    return;
                }
                run_line(std::move(line), now);
            } else if (u == 0x08) {
                if (!line_.empty()) line_.pop_back();
            } else if (u < 0x20 || u == 0x7F) {
                // LF after CR, a stray ESC or Ctrl-Z (the driver's "cancel just in case"):
                // nothing to do outside a message.
            } else if (line_.size() < max_command_line) {
                line_.push_back(c);
            } else {
                line_overflow_ = true;
            }
            return;
        case input_mode::pdu:
            if (u == 0x1A) return end_pdu(false, now);
            if (u == 0x1B) return end_pdu(true, now);
            if (echo_) emit(std::string_view(&c, 1));
            if (std::isxdigit(u)) {
                if (body_.size() < max_pdu_hex + 2) body_.push_back(c);
            } else if (c != '\r' && c != '\n' && c != ' ') {
                body_.push_back('!');  // poisons the PDU: answered with 304
            }
            return;
        case input_mode::text:
            if (u == 0x1A) return end_text(false, now);
            if (u == 0x1B) return end_text(true, now);
            if (echo_) emit(std::string_view(&c, 1));
            if (c == '\r') {
                if (body_.size() < max_text_body) body_.push_back('\n');
                emit("\r\n> ");
            } else if (c != '\n' && body_.size() < max_text_body) {
                body_.push_back(c);
            }
            return;
    }
}

void modem_device::run_line(std::string raw, sim_clock::time_point now) {
    std::string_view line = m::detail::trim(raw);
    // Modems ignore lines that do not start with the attention prefix.
    if (line.size() < 2 || !m::detail::istarts_with(line, "AT")) return;
    log_command(detail::mask_command(line));
    if (fault_ == fault::silent) return consume_fault();
    if (fault_ == fault::error) {
        consume_fault();
        return error();
    }
    execute(std::string(line.substr(2)), now);
}

std::optional<std::string> modem_device::end_message_input(bool cancel) {
    mode_ = input_mode::command;
    std::string body = std::exchange(body_, {});
    if (cancel) {
        ok();  // SIM800 confirms an abandoned message with OK.
        flush_held_urcs();
        return std::nullopt;
    }
    if (fault_ == fault::silent) {
        flush_held_urcs();
        return std::nullopt;
    }
    if (fault_ == fault::silent_after_prompt) {
        consume_fault();
        flush_held_urcs();
        return std::nullopt;
    }
    return body;
}

void modem_device::end_pdu(bool cancel, sim_clock::time_point now) {
    auto body = end_message_input(cancel);
    if (!body) return;
    const std::string& hex = *body;
    std::optional<m::decoded_pdu> pdu;
    if (hex.size() <= max_pdu_hex && hex.size() % 2 == 0) pdu = m::decode_pdu(hex, true);
    if (!pdu || pdu->type() != m::pdu_type::submit || pdu->tpdu_length != cmgs_length_ || pdu->trailing_octets != 0) {
        cms_error(304);
        return flush_held_urcs();
    }
    flush_held_urcs();
    // "00" means "the SIM's SMSC": with none configured the module refuses at once.
    if (!pdu->smsc && digits_of(smsc_).empty()) return cms_error(330);
    accept_submit(hex, now);
}

void modem_device::end_text(bool cancel, sim_clock::time_point now) {
    auto body = end_message_input(cancel);
    if (!body) return;
    auto decoded = text_body_utf8(*body);
    // A UCS2 <dcs> holds 70 UTF-16 units; the encoder below would pick GSM 7-bit for
    // a text that fits it, so the limit is checked here.
    const bool ucs2_dcs = m::sms_dcs_coding(static_cast<std::uint8_t>(csmp_dcs_)) == m::data_coding::ucs2;
    auto units = decoded && ucs2_dcs ? m::utf8_to_utf16(*decoded) : std::nullopt;
    if (!decoded || (ucs2_dcs && (!units || units->size() > 70))) {
        cms_error(305);
        return flush_held_urcs();
    }
    std::string text = std::move(*decoded);
    m::submit_options so;
    so.destination = digits_of(text_destination_);
    so.destination_international = !text_destination_.empty() && text_destination_.front() == '+';
    so.request_status_report = (csmp_fo_ & 0x20) != 0;
    if ((csmp_fo_ & 0x18) == 0x10)
        so.validity_relative = static_cast<std::uint8_t>(csmp_vp_);
    else
        so.validity_relative.reset();
    auto enc = m::encode_submit(text, so);
    // Text mode sends one part; longer text is refused rather than cut.
    if (!enc.ok() || enc.pdus.size() != 1) {
        cms_error(305);
        return flush_held_urcs();
    }
    flush_held_urcs();
    accept_submit(enc.pdus.front().hex, now);
}

// ---- text mode (27.005 3.1 <data>, 3.5.1 entry rules)

std::optional<std::string> modem_device::text_body_utf8(const std::string& body) const {
    const auto dcs = static_cast<std::uint8_t>(csmp_dcs_);
    const auto coding = m::sms_dcs_coding(dcs);
    if (coding != m::data_coding::gsm7 || (csmp_fo_ & 0x40)) {
        // Hex octets. Only UCS2 without a user data header is modelled.
        if (coding != m::data_coding::ucs2 || (csmp_fo_ & 0x40)) return std::nullopt;
        return m::detail::ucs2_hex_to_utf8(body);
    }
    if (cscs_ == "UCS2") return m::detail::ucs2_hex_to_utf8(body);
    if (cscs_ == "GSM") {
        // One GSM 7-bit code per byte; a typed CR (kept as '\n') is the line break.
        std::vector<std::uint8_t> septets(body.begin(), body.end());
        return m::gsm7_to_utf8(septets);
    }
    if (cscs_ == "HEX") {
        auto septets = m::from_hex(body);
        if (!septets) return std::nullopt;
        return m::gsm7_to_utf8(*septets);
    }
    return body;  // IRA and the 8-bit sets: taken as typed
}

std::string modem_device::te_string(std::string_view utf8) const {
    if (cscs_ == "UCS2") {
        auto units = m::utf8_to_utf16(utf8);
        return units ? m::to_hex(m::utf16_to_ucs2_bytes(*units)) : std::string{};
    }
    if (cscs_ == "GSM" || cscs_ == "HEX") {
        auto septets = m::utf8_to_gsm7(utf8);
        if (!septets) return std::string(utf8);
        if (cscs_ == "HEX") return m::to_hex(*septets);
        return std::string(septets->begin(), septets->end());
    }
    return std::string(utf8);
}

std::optional<std::string> modem_device::text_record(const stored_sms& s) const {
    auto pdu = m::decode_pdu(s.pdu, true);
    const auto* d = pdu ? std::get_if<m::sms_deliver>(&pdu->message) : nullptr;
    if (!d) return std::nullopt;
    const auto& ud = d->ud;
    std::string header = "\"" + std::string(stat_text(s.stat)) + "\",\"" + te_string(d->originator.display()) + "\",\"\",\"" +
                         text_timestamp(d->scts) + "\"";
    std::string body;
    if (ud.coding == m::data_coding::gsm7 && !ud.compressed && ud.header.empty()) {
        body = te_string(ud.text);
    } else {
        // Hex of the TP-UD octets, user data header included.
        std::vector<std::uint8_t> octets;
        std::size_t udh_octets = 0;
        if (!ud.header.empty()) {
            octets.push_back(static_cast<std::uint8_t>(ud.header.size()));
            octets.insert(octets.end(), ud.header.begin(), ud.header.end());
            udh_octets = octets.size();
        }
        if (ud.coding == m::data_coding::gsm7 && !ud.compressed) {
            auto septets = m::utf8_to_gsm7(ud.text);
            if (!septets) return std::nullopt;
            const std::size_t skip = (udh_octets * 8 + 6) / 7;
            auto packed = m::pack_septets(*septets, skip * 7 - udh_octets * 8);
            octets.insert(octets.end(), packed.begin(), packed.end());
        } else if (ud.binary) {
            auto raw = m::from_hex(ud.text);
            if (!raw) return std::nullopt;
            octets.insert(octets.end(), raw->begin(), raw->end());
        } else {
            auto units = m::utf8_to_utf16(ud.text);
            if (!units) return std::nullopt;
            auto bytes = m::utf16_to_ucs2_bytes(*units);
            octets.insert(octets.end(), bytes.begin(), bytes.end());
        }
        body = m::to_hex(octets);
    }
    if (csdh_) {
        const auto& oa = d->originator;
        const std::string sca = pdu->smsc ? pdu->smsc->display() : std::string{};
        header += "," + std::to_string(oa.type) + "," + std::to_string(pdu->first_octet) + "," + std::to_string(d->pid) + "," +
                  std::to_string(ud.dcs) + ",\"" + te_string(sca) + "\"," + (pdu->smsc ? std::to_string(pdu->smsc->type) : "129") + "," +
                  std::to_string(ud.coding == m::data_coding::gsm7 && ud.header.empty()
                                     ? m::utf8_to_code_points(ud.text).value_or(std::u32string{}).size()
                                     : body.size() / 2);
    }
    return header + "\r\n" + body;
}

std::string modem_device::status_report_urc(int mr, const std::string& recipient) const {
    const auto ts = wall_timestamp();
    if (cmgf_ == 1) {
        // +CDS: <fo>,<mr>,<ra>,<tora>,<scts>,<dt>,<st>; <fo> 6 = STATUS-REPORT, TP-MMS clear.
        const std::string ra = "+" + recipient;
        return "+CDS: 6," + std::to_string(mr) + ",\"" + te_string(ra) + "\",145,\"" + text_timestamp(ts) + "\",\"" + text_timestamp(ts) +
               "\",0";
    }
    auto rep = m::encode_status_report(static_cast<std::uint8_t>(mr), recipient, 0, ts, ts, digits_of(smsc_));
    if (!rep) return {};
    return "+CDS: " + std::to_string(rep->tpdu_length) + "\r\n" + rep->hex;
}

void modem_device::accept_submit(const std::string& pdu_hex, sim_clock::time_point now) {
    if (!sim_usable(true)) return;
    auto finish = [this](sim_clock::time_point t) {
        busy_ = false;
        std::string held = std::exchange(held_input_, {});
        on_input(held, t);
    };
    busy_ = true;
    if (fault_ == fault::cms_error) {
        const int code = fault_code_ > 0 ? fault_code_ : 500;
        consume_fault();
        // The TP-MR is spent on the attempt, as on a real SIM.
        next_mr_ = (next_mr_ + 1) & 0xFF;
        schedule(now + options_.send_delay, event_tag::send, [this, code, finish](sim_clock::time_point t) {
            cms_error(code);
            finish(t);
        });
        return;
    }
    if (registration_ != 1 && registration_ != 5) {
        schedule(now + options_.send_delay, event_tag::send, [this, finish](sim_clock::time_point t) {
            cms_error(331);
            finish(t);
        });
        return;
    }
    const int mr = next_mr_;
    next_mr_ = (next_mr_ + 1) & 0xFF;
    schedule(now + options_.send_delay, event_tag::send, [this, mr, pdu_hex, finish](sim_clock::time_point t) {
        emit("\r\n+CMGS: " + std::to_string(mr) + "\r\n\r\nOK\r\n");
        auto pdu = m::decode_pdu(pdu_hex, true);
        const auto* submit = pdu ? std::get_if<m::sms_submit>(&pdu->message) : nullptr;
        if (submit && submit->status_report_requested && options_.status_reports && cnmi_ds_ == 1) {
            const std::string recipient = submit->destination.number;
            schedule(t + options_.report_delay, event_tag::report, [this, mr, recipient](sim_clock::time_point) {
                auto line = status_report_urc(mr, recipient);
                if (!line.empty()) urc(std::move(line));
            });
        }
        record_part(pdu_hex, mr);
        finish(t);
    });
}

void modem_device::record_part(const std::string& pdu_hex, int mr) {
    auto pdu = m::decode_pdu(pdu_hex, true);
    if (!pdu) return;
    const auto* s = std::get_if<m::sms_submit>(&pdu->message);
    if (!s) return;
    std::optional<int> validity;
    if (s->validity_relative) validity = *s->validity_relative;
    const auto& c = s->ud.concat;
    if (!c || c->total <= 1) {
        push_sent(sent_sms{s->destination.number, s->ud.text, 1, {mr}, s->status_report_requested, validity, pdu_hex});
        return;
    }
    const std::string key = s->destination.number + '|' + std::to_string(c->ref) + '|' + std::to_string(c->total) + (c->ref16 ? "|16" : "");
    auto it = partial_.find(key);
    if (it == partial_.end()) {
        if (partial_.size() >= max_partial_messages) partial_.erase(partial_.begin());
        it = partial_.emplace(key, partial_message{}).first;
        it->second.total = c->total;
        it->second.first = sent_sms{s->destination.number, {}, c->total, {}, s->status_report_requested, validity, {}};
    }
    auto& p = it->second;
    p.texts[c->seq] = s->ud.text;
    p.refs[c->seq] = mr;
    p.pdus[c->seq] = pdu_hex;
    if (static_cast<int>(p.texts.size()) < p.total) return;
    sent_sms done = std::move(p.first);
    for (int seq = 1; seq <= p.total; ++seq) {
        done.text += p.texts[seq];
        done.message_references.push_back(p.refs[seq]);
        if (seq > 1) done.raw_pdus_joined_by_comma += ',';
        done.raw_pdus_joined_by_comma += p.pdus[seq];
    }
    partial_.erase(it);
    push_sent(std::move(done));
}

void modem_device::push_sent(sent_sms s) {
    sent_.push_back(std::move(s));
    ++sent_total_;
    while (sent_.size() > options_.history_limit) sent_.pop_front();
}

// =====================================================================================
// SIM

bool modem_device::sim_usable(bool sms) {
    if (fault_ == fault::sim_removed) {
        sms ? cms_error(310) : cme_error(10);
        return false;
    }
    if (sim_ == sim_status::pin) {
        sms ? cms_error(311) : cme_error(11);
        return false;
    }
    if (sim_ == sim_status::puk) {
        sms ? cms_error(316) : cme_error(12);
        return false;
    }
    return true;
}

int modem_device::first_free_slot() const {
    for (std::size_t i = 0; i < storage_.size(); ++i)
        if (!storage_[i]) return static_cast<int>(i) + 1;
    return 0;
}

std::size_t modem_device::stored_count() const noexcept {
    return static_cast<std::size_t>(std::count_if(storage_.begin(), storage_.end(), [](const auto& s) { return s.has_value(); }));
}

void modem_device::deliver_sms(const std::string& from, const std::string& utf8_text, sim_clock::time_point now) {
    (void)now;
    m::deliver_options o;
    o.originator = from;
    o.smsc = digits_of(smsc_);
    o.timestamp = wall_timestamp();
    o.concat_ref = next_concat_ref_++;
    auto enc = m::encode_deliver(utf8_text, o);
    if (!enc.ok()) throw std::invalid_argument("deliver_sms: " + enc.error);
    for (const auto& p : enc.pdus) {
        if (cnmi_mt_ == 2 || cnmi_mt_ == 3) {
            // Routed straight to the TE, not stored (27.005 <mt> 2).
            urc("+CMT: \"\"," + std::to_string(p.tpdu_length) + "\r\n" + p.hex);
            continue;
        }
        const int slot = first_free_slot();
        if (slot == 0) continue;  // SIM full: the network keeps it; the driver must free slots
        storage_[static_cast<std::size_t>(slot - 1)] = stored_sms{0, p.hex, p.tpdu_length};
        if (cnmi_mt_ == 1) urc("+CMTI: \"SM\"," + std::to_string(slot));
    }
}

void modem_device::set_ussd_reply(const std::string& code, const std::string& reply_utf8, bool ucs2, bool wait_for_reply) {
    if (!m::utf8_to_code_points(reply_utf8)) throw std::invalid_argument("set_ussd_reply: reply is not UTF-8");
    ussd_replies_[code] = {reply_utf8, {ucs2, wait_for_reply}};
}

// =====================================================================================
// commands

void modem_device::execute(const std::string& rest_raw, sim_clock::time_point now) {
    const std::string rest = upper_outside_quotes(rest_raw);
    if (rest.empty()) return ok();
    if (rest[0] == '+' || rest[0] == '^' || rest[0] == '*' || rest[0] == '$') return handle_extended(rest_raw, now);

    // A run of basic commands (ATE0V1, ATZ, ATI, ATD...;), one final result.
    std::vector<std::string> lines;
    std::size_t i = 0;
    auto number = [&](int def) {
        int v = 0;
        bool any = false;
        while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) {
            v = v * 10 + (rest[i++] - '0');
            any = true;
            if (v > 999) break;
        }
        return any ? v : def;
    };
    while (i < rest.size()) {
        const char c = rest[i++];
        switch (c) {
            case ' ':
                break;
            case 'E': {
                int v = number(0);
                if (v > 1) return error();
                echo_ = v == 1;
                break;
            }
            case 'V':
            case 'Q':
            case 'X':
            case 'L':
            case 'M': {
                int v = number(c == 'V' ? 1 : 0);
                // Numeric result codes (ATV0) and quiet mode are not modelled.
                if ((c == 'V' && v != 1) || (c == 'Q' && v != 0)) return error();
                break;
            }
            case 'Z':
                number(0);
                reset_settings();
                break;
            case 'I': {
                number(0);
                if (vendor_ != vendor_kind::simcom) {
                    lines.push_back(options_.manufacturer + "\r\n" + options_.model + "\r\nRevision: " + options_.revision);
                    break;
                }
                std::string model = options_.model;
                if (m::detail::istarts_with(model, "SIMCOM_")) model = model.substr(7);
                std::string rev = digits_of(options_.revision);
                if (rev.size() >= 4) model += " R" + rev.substr(0, 2) + "." + rev.substr(2, 2);
                lines.push_back(model);
                break;
            }
            case 'H':
                number(0);
                for (auto& call : calls_) call.active = false;
                call_stat_ = 0;
                cancel_events(event_tag::tts);
                cancel_events(event_tag::call);
                break;
            case 'A':
                // No call is ringing.
                return emit("\r\nNO CARRIER\r\n");
            case 'D': {
                std::string dial = rest_raw.substr(i);
                const bool voice = !dial.empty() && dial.back() == ';';
                if (voice) dial.pop_back();
                if (!sim_usable(false)) return;
                if (registration_ != 1 && registration_ != 5) return emit("\r\nNO CARRIER\r\n");
                if (!voice) return emit("\r\nNO CARRIER\r\n");  // no CSD data calls here
                std::string num;
                for (char d : dial)
                    if (std::isdigit(static_cast<unsigned char>(d)) || d == '+' || d == '*' || d == '#') num.push_back(d);
                if (num.empty()) return error();
                for (auto& call : calls_) call.active = false;
                cancel_events(event_tag::call);
                calls_.push_back(voice_call{num, {}, true, false});
                while (calls_.size() > options_.history_limit) calls_.pop_front();
                call_stat_ = 2;  // dialling
                schedule(now + options_.call_answer_delay / 2, event_tag::call, [this](sim_clock::time_point) {
                    if (active_call()) call_stat_ = 3;  // alerting
                });
                if (options_.answer_calls) {
                    schedule(now + options_.call_answer_delay, event_tag::call, [this](sim_clock::time_point) {
                        if (auto* answered = active_call()) {
                            answered->answered = true;
                            call_stat_ = 0;
                        }
                    });
                }
                return ok();
            }
            case '&': {
                if (i >= rest.size()) return error();
                const char sub = rest[i++];
                number(0);
                if (sub == 'F') {
                    reset_settings();
                } else if (sub != 'W' && sub != 'D' && sub != 'C') {
                    return error();
                }
                break;
            }
            case 'S': {
                const int reg = number(-1);
                if (reg < 0) return error();
                if (i < rest.size() && rest[i] == '?') {
                    ++i;
                    lines.push_back("000");
                } else if (i < rest.size() && rest[i] == '=') {
                    ++i;
                    number(0);
                } else {
                    return error();
                }
                break;
            }
            default:
                return error();
        }
    }
    for (const auto& l : lines) info(l);
    ok();
}

void modem_device::handle_extended(const std::string& raw, sim_clock::time_point now) {
    // Name up to '=' or '?', upper-cased; the arguments keep their case (quoted text).
    std::size_t end = raw.find_first_of("=?");
    std::string name = upper_outside_quotes(raw.substr(0, end));
    while (!name.empty() && name.back() == ' ') name.pop_back();
    enum class form { exec, read, test, set } kind = form::exec;
    std::string args;
    if (end != std::string::npos) {
        if (raw[end] == '?') {
            kind = form::read;
            if (end + 1 != raw.size()) return error();
        } else if (raw.compare(end, 2, "=?") == 0) {
            kind = form::test;
            if (end + 2 != raw.size()) return error();
        } else {
            kind = form::set;
            args = raw.substr(end + 1);
        }
    }
    const auto f = split_fields(args);
    const bool exec = kind == form::exec, read = kind == form::read, test = kind == form::test, set = kind == form::set;

    auto text_reply = [&](const std::string& value) {
        if (set) return error();
        if (!test) info(value);
        ok();
    };

    if (name == "+CGMI" || name == "+GMI") return text_reply(options_.manufacturer);
    if (name == "+CGMM" || name == "+GMM") return text_reply(options_.model);
    if (name == "+CGMR" || name == "+GMR") return text_reply(options_.revision);
    if (name == "+CGSN" || name == "+GSN") return text_reply(imei_);
    if (name == "+GCAP") return text_reply("+GCAP: +CGSM");

    if (name == "+CMEE") {
        if (read) return info("+CMEE: " + std::to_string(cmee_)), ok();
        if (test) return info("+CMEE: (0-2)"), ok();
        auto v = set ? int_field(f, 0) : std::optional<int>(0);
        if (!v || *v < 0 || *v > 2) return error();
        cmee_ = *v;
        return ok();
    }
    if (name == "+CIMI") {
        if (test) return ok();
        if (!exec) return error();
        if (!sim_usable(false)) return;
        return info(options_.imsi), ok();
    }
    // ICCID, the vendor's way; the ICCID sits outside the PIN-protected files and is
    // readable with the SIM locked. SIM800: bare digits to AT+CCID, nothing else.
    {
        const bool simcom = vendor_ == vendor_kind::simcom || vendor_ == vendor_kind::simcom_lte;
        std::optional<std::string> iccid_line;
        if (name == "+CCID" && (exec || read) && vendor_ != vendor_kind::huawei)
            iccid_line = simcom ? options_.iccid : "+CCID: " + options_.iccid;
        else if (name == "+CICCID" && exec && vendor_ == vendor_kind::simcom_lte)
            iccid_line = "+ICCID: " + options_.iccid;
        else if (name == "+QCCID" && exec && vendor_ == vendor_kind::quectel)
            iccid_line = "+QCCID: " + options_.iccid;
        else if (name == "^ICCID" && read && vendor_ == vendor_kind::huawei)
            iccid_line = "^ICCID: " + m::detail::swap_nibbles(options_.iccid + (options_.iccid.size() % 2 ? "F" : ""));
        if (iccid_line) {
            if (fault_ == fault::sim_removed) return cme_error(10);
            return info(*iccid_line), ok();
        }
        if (test && (name == "+CCID" || name == "+CICCID" || name == "+QCCID")) return ok();
    }
    if (name == "^CURC" && vendor_ == vendor_kind::huawei) return ok();
    if (name == "+CLCC") {
        if (test) return ok();
        if (!exec) return error();
        return cmd_clcc();
    }
    if (name == "+CRSM") {
        if (test) return ok();
        // Only READ BINARY of EF_ICCID (2FE2): the bring-up's fallback for the ICCID.
        if (!set || int_field(f, 0) != 176 || int_field(f, 1) != 12258) return cme_error(4);
        if (fault_ == fault::sim_removed) return cme_error(10);
        std::string padded = options_.iccid;
        if (padded.size() % 2) padded += 'F';
        while (padded.size() < 20) padded += "FF";
        std::string swapped;
        for (std::size_t k = 0; k + 1 < padded.size(); k += 2) {
            swapped += padded[k + 1];
            swapped += padded[k];
        }
        return info("+CRSM: 144,0,\"" + swapped + "\""), ok();
    }
    if (name == "+CPIN") return cmd_cpin(read ? "?" : test ? "=?" : exec ? "" : "=" + args);
    if (name == "+CLCK") {
        if (test) return info("+CLCK: (\"SC\",\"AO\",\"OI\",\"OX\",\"AI\",\"IR\",\"AB\",\"AG\",\"AC\",\"FD\",\"PN\",\"PU\",\"PP\")"), ok();
        if (!set) return error();
        return cmd_clck(args);
    }
    if (name == "+CMGF") {
        if (read) return info("+CMGF: " + std::to_string(cmgf_)), ok();
        if (test) return info(options_.text_only ? "+CMGF: (1)" : "+CMGF: (0,1)"), ok();
        auto v = set ? int_field(f, 0) : std::optional<int>(0);
        if (!v || (*v != 0 && *v != 1) || (*v == 0 && options_.text_only)) return error();
        cmgf_ = *v;
        return ok();
    }
    if (name == "+CSCS") {
        if (read) return info("+CSCS: \"" + cscs_ + "\""), ok();
        if (test && !options_.ucs2_charset) return info("+CSCS: (\"IRA\",\"GSM\",\"HEX\",\"PCCP\",\"PCDN\",\"8859-1\")"), ok();
        if (test) return info("+CSCS: (\"IRA\",\"GSM\",\"UCS2\",\"HEX\",\"PCCP\",\"PCDN\",\"8859-1\")"), ok();
        if (!set || f.empty()) return error();
        std::string cs = upper_outside_quotes(f[0].value);
        static constexpr std::string_view known[] = {"IRA", "GSM", "UCS2", "HEX", "PCCP", "PCDN", "8859-1"};
        if (std::find(std::begin(known), std::end(known), cs) == std::end(known)) return error();
        if (cs == "UCS2" && !options_.ucs2_charset) return error();
        cscs_ = cs;
        return ok();
    }
    if (name == "+CNMI") {
        if (read)
            return info("+CNMI: " + std::to_string(cnmi_mode_) + "," + std::to_string(cnmi_mt_) + "," + std::to_string(cnmi_bm_) + "," +
                        std::to_string(cnmi_ds_) + "," + std::to_string(cnmi_bfr_)),
                   ok();
        if (test) return info("+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)"), ok();
        if (!set) return exec ? ok() : error();
        return cmd_cnmi(args);
    }
    if (name == "+CSMS") {
        if (read) return info("+CSMS: " + std::to_string(csms_) + ",1,1,1"), ok();
        if (test) return info("+CSMS: (0,1)"), ok();
        auto v = set ? int_field(f, 0) : std::nullopt;
        if (!v || (*v != 0 && *v != 1)) return cms_error(303);
        csms_ = *v;
        return info("+CSMS: 1,1,1"), ok();
    }
    if (name == "+CMMS") {
        if (read) return info("+CMMS: " + std::to_string(cmms_)), ok();
        if (test) return info("+CMMS: (0-2)"), ok();
        auto v = set ? int_field(f, 0) : std::optional<int>(0);
        if (!v || *v < 0 || *v > 2) return error();
        cmms_ = *v;
        return ok();
    }
    if (name == "+CPMS") return cmd_cpms(read ? "?" : test ? "=?" : set ? args : "");
    if (name == "+COPS") {
        if (test)
            return info("+COPS: (2,\"" + options_.operator_name + "\",\"\",\"" + options_.imsi.substr(0, 5) + "\"),,(0-4),(0-2)"), ok();
        if (set) {
            auto mode = int_field(f, 0);
            if (!mode || *mode < 0 || *mode > 4) return cme_error(3);
            if (*mode == 3) {
                auto fmt = int_field(f, 1);
                if (!fmt || *fmt < 0 || *fmt > 2) return cme_error(3);
                cops_format_ = *fmt;
            }
            return ok();
        }
        if (!read) return error();
        const bool reg =
            fault_ != fault::sim_removed && sim_ == sim_status::ready && cfun_ == 1 && (registration_ == 1 || registration_ == 5);
        if (!reg) return info("+COPS: 0"), ok();
        std::string opname = cops_format_ == 2 ? options_.imsi.substr(0, 5) : options_.operator_name;
        return info("+COPS: 0," + std::to_string(cops_format_) + ",\"" + opname + "\""), ok();
    }
    if (name == "+CREG" || name == "+CGREG") {
        if (test) return info(name + ": (0-2)"), ok();
        if (set) {
            auto n = int_field(f, 0);
            if (!n || *n < 0 || *n > 2) return error();
            creg_n_ = *n;
            return ok();
        }
        if (!read) return error();
        const bool sim_ok = fault_ != fault::sim_removed && sim_ == sim_status::ready && cfun_ == 1;
        const int stat = sim_ok ? registration_ : 0;
        std::string line = name + ": " + std::to_string(creg_n_) + "," + std::to_string(stat);
        if (creg_n_ == 2 && (stat == 1 || stat == 5)) line += ",\"1A2B\",\"00C3\"";
        return info(line), ok();
    }
    if (name == "+CSQ") {
        if (test) return info("+CSQ: (0-31,99),(0-7,99)"), ok();
        if (!exec) return error();
        const int rssi = cfun_ == 1 ? options_.signal_rssi : 99;
        return info("+CSQ: " + std::to_string(rssi) + ",0"), ok();
    }
    if (name == "+CSCA") {
        if (test) return ok();
        if (read) {
            if (!sim_usable(false)) return;
            return info("+CSCA: \"" + smsc_ + "\"," + (!smsc_.empty() && smsc_.front() == '+' ? "145" : "129")), ok();
        }
        if (!set || f.empty() || f[0].value.empty()) return error();
        smsc_ = f[0].value;
        return ok();
    }
    if (name == "+CNUM") {
        if (test) return ok();
        if (!exec) return error();
        if (!sim_usable(false)) return;
        if (!options_.own_number.empty())
            info("+CNUM: \"\",\"" + options_.own_number + "\"," + (options_.own_number.front() == '+' ? "145" : "129"));
        return ok();
    }
    if (name == "+CSMP") {
        if (read)
            return info("+CSMP: " + std::to_string(csmp_fo_) + "," + std::to_string(csmp_vp_) + ",0," + std::to_string(csmp_dcs_)), ok();
        if (test) return ok();
        if (!set) return error();
        if (auto fo = int_field(f, 0)) csmp_fo_ = *fo;
        if (auto vp = int_field(f, 1)) csmp_vp_ = *vp;
        if (auto dcs = int_field(f, 3); dcs && *dcs >= 0 && *dcs <= 255) csmp_dcs_ = *dcs;
        return ok();
    }
    if (name == "+CSDH") {
        if (read) return info("+CSDH: " + std::to_string(csdh_)), ok();
        if (test) return info("+CSDH: (0,1)"), ok();
        auto v = set ? int_field(f, 0) : std::optional<int>(0);
        if (!v || (*v != 0 && *v != 1)) return error();
        csdh_ = *v;
        return ok();
    }
    if (name == "+CMGS") {
        if (test) return ok();
        if (!set) return error();
        return cmd_cmgs(args);
    }
    if (name == "+CMGL") {
        if (test)
            return info(cmgf_ == 0 ? "+CMGL: (0-4)" : "+CMGL: (\"REC UNREAD\",\"REC READ\",\"STO UNSENT\",\"STO SENT\",\"ALL\")"), ok();
        if (read) return error();
        return cmd_cmgl(set ? args : (cmgf_ == 0 ? "0" : "\"REC UNREAD\""));
    }
    if (name == "+CMGR") {
        if (test) return ok();
        if (!set) return error();
        return cmd_cmgr(args);
    }
    if (name == "+CMGD" || name == "+CMGDA") {
        if (test) return info(name == "+CMGD" ? "+CMGD: (1-" + std::to_string(storage_.size()) + "),(0-4)" : "+CMGDA: (1-6)"), ok();
        if (!set) return error();
        if (name == "+CMGD") return cmd_cmgd(args);
        // SIMCom's bulk delete: 1 read, 2 unread, 3 sent, 4 unsent, 5 received, 6 all.
        if (!sim_usable(true)) return;
        int type = 0;
        if (auto v = int_field(f, 0))
            type = *v;
        else if (!f.empty()) {
            static constexpr std::pair<std::string_view, int> names[] = {{"DEL READ", 1},   {"DEL UNREAD", 2}, {"DEL SENT", 3},
                                                                         {"DEL UNSENT", 4}, {"DEL INBOX", 5},  {"DEL ALL", 6}};
            for (auto [nm, t] : names)
                if (m::detail::iequals(f[0].value, nm)) type = t;
        }
        if (type < 1 || type > 6) return error();
        for (auto& s : storage_) {
            if (!s) continue;
            const int st = s->stat;
            const bool del = type == 6 || (type == 1 && st == 1) || (type == 2 && st == 0) || (type == 3 && st == 3) ||
                             (type == 4 && st == 2) || (type == 5 && st <= 1);
            if (del) s.reset();
        }
        return ok();
    }
    if (name == "+CUSD") {
        if (read) return info("+CUSD: " + std::to_string(cusd_n_)), ok();
        if (test) return info("+CUSD: (0-2)"), ok();
        if (!set) return ok();
        return cmd_cusd(args, now);
    }
    if (name == "+CTTS") {
        if (!options_.supports_tts) return error();
        if (read) {
            const bool speaking = std::any_of(events_.begin(), events_.end(), [](const timed_event& e) { return e.tag == event_tag::tts; });
            return info(std::string("+CTTS: ") + (speaking ? "1" : "0")), ok();
        }
        if (test) return info("+CTTS: (0-2),\"text\""), ok();
        if (!set) return error();
        return cmd_ctts(args, now);
    }
    if (name == "+EGMR") {
        if (!options_.supports_imei_change) return error();
        if (test) return ok();
        if (!set) return error();
        return cmd_egmr(args);
    }
    if (name == "+CFUN") {
        if (read) return info("+CFUN: " + std::to_string(cfun_)), ok();
        if (test) return info("+CFUN: (0,1,4),(0,1)"), ok();
        auto fun = set ? int_field(f, 0) : std::nullopt;
        if (!fun || (*fun != 0 && *fun != 1 && *fun != 4)) return cme_error(3);
        cfun_ = *fun;
        if (int_field(f, 1) == 1) {
            // Reset requested: settings back to power-up values, SIM locked again.
            ok();
            reset_settings();
            cfun_ = *fun;
            if (sim_ != sim_status::puk) sim_ = pin_lock_ ? sim_status::pin : sim_status::ready;
            return;
        }
        return ok();
    }
    if (name == "+CSCLK") {
        if (read) return info("+CSCLK: " + std::to_string(csclk_)), ok();
        if (test) return info("+CSCLK: (0-2)"), ok();
        auto v = set ? int_field(f, 0) : std::nullopt;
        if (!v || *v < 0 || *v > 2) return error();
        csclk_ = *v;
        return ok();
    }
    if (name == "+CBC") {
        if (test) return ok();
        return info("+CBC: 0,85,4050"), ok();
    }
    if (name == "+CCLK") {
        if (test) return ok();
        if (set) return ok();
        auto ts = wall_timestamp();
        return info("+CCLK: \"" + text_timestamp(ts) + "\""), ok();
    }
    // Settings the daemon or users may send and the simulator accepts without modelling.
    static constexpr std::string_view accepted[] = {"+CLIP", "+CLTS", "+IPR",  "+IFC",  "+CSDH", "+CNETLIGHT", "+CIURC",  "+CSGS",
                                                    "+COLP", "+CRSL", "+CLVL", "+CMIC", "+CSNS", "+CMTE",      "+CSMINS", "+CGATT",
                                                    "+CEER", "+CALS", "+CSDT", "+CRC",  "+CSCB", "+CNMA",      "+CGREG"};
    if (std::find(std::begin(accepted), std::end(accepted), name) != std::end(accepted)) {
        if (read) info(name + ": 0");
        return ok();
    }
    error();
}

void modem_device::cmd_cpin(const std::string& a) {
    if (a == "=?") return ok();
    if (a == "?") {
        if (fault_ == fault::sim_removed) return cme_error(10);
        const char* s = sim_ == sim_status::ready ? "READY" : sim_ == sim_status::pin ? "SIM PIN" : "SIM PUK";
        return info(std::string("+CPIN: ") + s), ok();
    }
    if (a.empty() || a[0] != '=') return error();
    if (fault_ == fault::sim_removed) return cme_error(10);
    const auto f = split_fields(std::string_view(a).substr(1));
    if (f.empty() || f[0].value.empty()) return cme_error(3);
    const std::string& first = f[0].value;
    switch (sim_) {
        case sim_status::ready:
            return cme_error(3);
        case sim_status::pin:
            if (first == pin_) {
                sim_ = sim_status::ready;
                pin_attempts_ = 3;
                return ok();
            }
            if (--pin_attempts_ <= 0) sim_ = sim_status::puk;
            return cme_error(16);
        case sim_status::puk:
            if (f.size() < 2 || !all_digits(f[1].value) || f[1].value.size() < 4 || f[1].value.size() > 8) return cme_error(3);
            if (puk_attempts_ <= 0) return cme_error(13);  // PUK exhausted: the SIM is dead
            if (first == options_.puk) {
                pin_ = f[1].value;
                pin_lock_ = true;
                sim_ = sim_status::ready;
                pin_attempts_ = 3;
                puk_attempts_ = 10;
                return ok();
            }
            --puk_attempts_;
            return cme_error(16);
    }
}

void modem_device::cmd_clck(const std::string& args) {
    const auto f = split_fields(args);
    if (f.size() < 2) return cme_error(3);
    auto mode = int_field(f, 1);
    if (!mode || *mode < 0 || *mode > 2) return cme_error(3);
    const bool sc = m::detail::iequals(f[0].value, "SC");
    if (!sim_usable(false)) return;
    if (!sc) {
        if (*mode == 2) return info("+CLCK: 0"), ok();
        return cme_error(3);
    }
    if (*mode == 2) return info(std::string("+CLCK: ") + (pin_lock_ ? "1" : "0")), ok();
    if (f.size() < 3) return cme_error(3);
    if (f[2].value != pin_) {
        if (--pin_attempts_ <= 0) sim_ = sim_status::puk;
        return cme_error(16);
    }
    pin_attempts_ = 3;
    pin_lock_ = *mode == 1;
    ok();
}

void modem_device::cmd_cnmi(const std::string& args) {
    const auto f = split_fields(args);
    int v[5] = {cnmi_mode_, cnmi_mt_, cnmi_bm_, cnmi_ds_, cnmi_bfr_};
    static constexpr int max[5] = {3, 3, 3, 2, 1};
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (i >= 5) return cms_error(303);
        if (f[i].value.empty()) continue;
        auto n = int_field(f, i);
        if (!n || *n < 0 || *n > max[i]) return cms_error(303);
        v[i] = *n;
    }
    cnmi_mode_ = v[0];
    cnmi_mt_ = v[1];
    cnmi_bm_ = v[2];
    cnmi_ds_ = v[3];
    cnmi_bfr_ = v[4];
    ok();
}

void modem_device::cmd_cpms(const std::string& a) {
    const std::string used = std::to_string(stored_count()), total = std::to_string(storage_.size());
    if (a == "=?")
        return info(
                   "+CPMS: "
                   "(\"SM\",\"ME\",\"SM_P\",\"ME_P\",\"MT\"),(\"SM\",\"ME\",\"SM_P\",\"ME_P\",\"MT\"),(\"SM\",\"ME\",\"SM_P\",\"ME_P\","
                   "\"MT\")"),
               ok();
    if (!sim_usable(true)) return;
    if (a == "?") {
        const std::string one = "\"SM\"," + used + "," + total;
        return info("+CPMS: " + one + "," + one + "," + one), ok();
    }
    const auto f = split_fields(a);
    if (f.empty() || f.size() > 3) return cms_error(302);
    for (const auto& s : f) {
        const std::string mem = upper_outside_quotes(s.value);
        // One store serves every name: the listings stay the same whatever the driver picks.
        if (mem != "SM" && mem != "ME" && mem != "MT" && mem != "SM_P" && mem != "ME_P") return cms_error(302);
    }
    std::string line = "+CPMS: ";
    for (int i = 0; i < 3; ++i) line += (i ? "," : "") + used + "," + total;
    info(line);
    ok();
}

void modem_device::cmd_cmgs(const std::string& args) {
    if (!sim_usable(true)) return;
    const auto f = split_fields(args);
    if (cmgf_ == 0) {
        auto len = int_field(f, 0);
        if (!len || *len < 1 || *len > 180 || f.size() != 1) return cms_error(304);
        cmgs_length_ = *len;
        mode_ = input_mode::pdu;
    } else {
        if (f.empty() || !f[0].quoted || f[0].value.empty()) return cms_error(305);
        std::string dest = f[0].value;
        if (cscs_ == "UCS2") {
            auto d = m::detail::ucs2_hex_to_utf8(dest);
            if (!d) return cms_error(305);
            dest = *d;
        }
        if (digits_of(dest).empty()) return cms_error(305);
        text_destination_ = dest;
        mode_ = input_mode::text;
    }
    body_.clear();
    emit("\r\n> ");
}

void modem_device::cmd_cmgl(const std::string& args) {
    if (!sim_usable(true)) return;
    const auto f = split_fields(args);
    std::optional<int> stat;
    if (cmgf_ == 0) {
        stat = int_field(f, 0);
    } else if (!f.empty() && f[0].quoted) {
        stat = stat_from_text(f[0].value);
    }
    if (!stat || *stat < 0 || *stat > 4) return cms_error(302);
    const bool keep_status = int_field(f, 1) == 1;  // SIMCom <mode> 1: do not mark as read
    std::string out;
    for (std::size_t i = 0; i < storage_.size(); ++i) {
        auto& s = storage_[i];
        if (!s || (*stat != 4 && s->stat != *stat)) continue;
        const std::string index = std::to_string(i + 1);
        if (cmgf_ == 0) {
            out += "+CMGL: " + index + "," + std::to_string(s->stat) + ",," + std::to_string(s->tpdu_length) + "\r\n" + s->pdu + "\r\n";
        } else {
            // +CMGL prints no <fo>/<dcs> (AT+CSDH=1 adds <tooa>,<length>, not
            // modelled): the header is the first four fields of +CMGR's.
            auto rec = text_record(*s);
            if (!rec) continue;
            const auto eol = rec->find("\r\n");
            std::string header = rec->substr(0, eol);
            if (auto fields = raw_fields(header); fields.size() > 4) {
                const auto cut = static_cast<std::size_t>(fields[4].data() - header.data()) - 1;
                header.resize(cut);
            }
            out += "+CMGL: " + index + "," + header + rec->substr(eol) + "\r\n";
        }
        if (s->stat == 0 && !keep_status) s->stat = 1;
    }
    if (!out.empty()) emit("\r\n" + out);
    ok();
}

void modem_device::cmd_cmgr(const std::string& args) {
    if (!sim_usable(true)) return;
    const auto f = split_fields(args);
    auto index = int_field(f, 0);
    if (!index || *index < 1 || static_cast<std::size_t>(*index) > storage_.size()) return cms_error(321);
    auto& s = storage_[static_cast<std::size_t>(*index - 1)];
    if (!s) return ok();  // SIM800 answers an empty slot with a bare OK
    if (cmgf_ == 0) {
        info("+CMGR: " + std::to_string(s->stat) + ",," + std::to_string(s->tpdu_length) + "\r\n" + s->pdu);
    } else {
        auto rec = text_record(*s);
        if (!rec) return cms_error(500);
        info("+CMGR: " + *rec);
    }
    if (s->stat == 0 && int_field(f, 1) != 1) s->stat = 1;
    ok();
}

void modem_device::cmd_cmgd(const std::string& args) {
    if (!sim_usable(true)) return;
    const auto f = split_fields(args);
    auto index = int_field(f, 0);
    const int flag = int_field(f, 1).value_or(0);
    if (flag < 0 || flag > 4) return cms_error(302);
    if (flag == 0) {
        if (!index || *index < 1 || static_cast<std::size_t>(*index) > storage_.size()) return cms_error(321);
        storage_[static_cast<std::size_t>(*index - 1)].reset();
        return ok();
    }
    for (auto& s : storage_) {
        if (!s) continue;
        const int st = s->stat;
        // 1: read; 2: read and sent; 3: read, sent and unsent; 4: all.
        const bool del = flag == 4 || st == 1 || (flag >= 2 && st == 3) || (flag >= 3 && st == 2);
        if (del) s.reset();
    }
    ok();
}

void modem_device::cmd_cusd(const std::string& args, sim_clock::time_point now) {
    const auto f = split_fields(args);
    auto n = int_field(f, 0);
    if (!n || *n < 0 || *n > 2) return cme_error(3);
    if (*n == 2) {
        // Cancels the session and any answer still on its way.
        cancel_events(event_tag::ussd);
        ussd_session_ = false;
        return ok();
    }
    cusd_n_ = *n;
    if (f.size() < 2) return ok();
    if (!sim_usable(false)) return;
    if (registration_ != 1 && registration_ != 5) return cme_error(30);
    const std::string code = f[1].value;
    ok();
    cancel_events(event_tag::ussd);
    auto it = ussd_replies_.find(code);
    if (it == ussd_replies_.end()) {
        ussd_session_ = false;
        // The network does not know the code: "operation not supported".
        schedule(now + options_.ussd_delay, event_tag::ussd, [this](sim_clock::time_point) { urc("+CUSD: 4"); });
        return;
    }
    const std::string reply = it->second.first;
    const bool ucs2 = it->second.second.first, wait = it->second.second.second;
    ussd_session_ = wait;
    schedule(now + options_.ussd_delay, event_tag::ussd, [this, reply, ucs2, wait](sim_clock::time_point) {
        const std::string m_str = wait ? "1" : "0";
        if (ucs2) {
            auto hex = m::encode_ussd_ucs2(reply);
            if (hex) urc("+CUSD: " + m_str + ",\"" + *hex + "\",72");
        } else {
            urc("+CUSD: " + m_str + ",\"" + reply + "\",15");
        }
    });
}

void modem_device::cmd_ctts(const std::string& args, sim_clock::time_point now) {
    const auto f = split_fields(args);
    auto mode = int_field(f, 0);
    if (!mode || *mode < 0 || *mode > 2) return cme_error(3);
    if (*mode == 0) {
        cancel_events(event_tag::tts);
        return ok();
    }
    if (f.size() != 2 || !f[1].quoted || f[1].value.empty()) return cme_error(3);
    std::string text = f[1].value;
    if (*mode == 1) {
        auto decoded = m::detail::ucs2_hex_to_utf8(text);
        if (!decoded) return cme_error(3);
        text = *decoded;
    }
    voice_call* call = active_call();
    if (!call) {
        // No call up: SIM800 speaks on its own speaker; kept under an empty number.
        calls_.push_back(voice_call{"", {}, false});
        while (calls_.size() > options_.history_limit) calls_.pop_front();
        call = &calls_.back();
    }
    call->spoken.push_back(std::move(text));
    ok();
    cancel_events(event_tag::tts);
    schedule(now + options_.tts_delay, event_tag::tts, [this](sim_clock::time_point) { urc("+CTTS: 0"); });
}

voice_call* modem_device::active_call() {
    for (auto it = calls_.rbegin(); it != calls_.rend(); ++it)
        if (it->active) return &*it;
    return nullptr;
}

void modem_device::cmd_clcc() {
    if (const auto* c = active_call(); c && !c->number.empty()) {
        const bool intl = c->number.front() == '+';
        info("+CLCC: 1,0," + std::to_string(call_stat_) + ",0,0,\"" + c->number + "\"," + (intl ? "145" : "129") + ",\"\"");
    }
    ok();
}

void modem_device::end_call(sim_clock::time_point) {
    auto* c = active_call();
    if (!c) return;
    c->active = false;
    call_stat_ = 0;
    cancel_events(event_tag::call);
    cancel_events(event_tag::tts);
    urc("NO CARRIER");
}

void modem_device::cmd_egmr(const std::string& args) {
    const auto f = split_fields(args);
    auto op = int_field(f, 0), item = int_field(f, 1);
    if (!op || !item || *item != 7) return error();
    if (*op == 0) return info("+EGMR: \"" + imei_ + "\""), ok();
    if (*op != 1 || f.size() != 3 || f[2].value.size() != 15 || !all_digits(f[2].value)) return error();
    imei_ = f[2].value;
    ok();
}

}  // namespace otppi::sim
