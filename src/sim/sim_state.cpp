// The device's core: power, time, output, faults, the byte-level input
// (command lines, message entry after "> ") and the basic V.25ter commands.
// Extended commands (AT+...) are a table: sim_commands.cpp; their handlers
// live with their part of the device (sim_messaging.cpp, sim_voice_ussd.cpp).
#include "otppi/sim/sim_state.hpp"

#include "sim_detail.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include "otppi/modem/gsm7.hpp"
#include "otppi/modem/pdu.hpp"

namespace otppi::sim {

namespace m = otppi::modem;
using m::detail::split_fields;
using namespace detail;

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

// =====================================================================================
// construction, power

modem_device::modem_device(sim_options options, sim_clock::time_point now) : options_(std::move(options)) {
    card_.pin_lock = !options_.pin.empty();
    card_.pin = card_.pin_lock ? options_.pin : std::string("1234");
    imei_ = options_.imei;
    smsc_ = options_.smsc;
    store_.slots.resize(std::max<std::size_t>(1, options_.storage_capacity));
    card_.status = card_.pin_lock ? sim_status::pin : sim_status::ready;
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
    ussd_.presentation = 0;
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
    ussd_.session = false;
    for (auto& c : voice_.calls) c.active = false;
    voice_.stat = 0;
    // The SIM's retry counters live on the card: a PUK-blocked SIM stays blocked.
    if (card_.status != sim_status::puk) card_.status = card_.pin_lock ? sim_status::pin : sim_status::ready;
    if (options_.boot_urcs) {
        schedule(now + std::chrono::milliseconds(20), event_tag::boot, [this](sim_clock::time_point t) {
            urc("RDY");
            urc("+CFUN: 1");
            if (fault_ == fault::sim_removed)
                urc("+CPIN: NOT INSERTED");
            else
                urc(card_.status == sim_status::ready ? "+CPIN: READY" : card_.status == sim_status::pin ? "+CPIN: SIM PIN" : "+CPIN: SIM PUK");
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
    auto text = cme_text(code);
    if (cmee_ == 2 && text)
        info("+CME ERROR: " + std::string(*text));
    else
        info("+CME ERROR: " + std::to_string(code));
}

// +CMS ERROR is the final result of SMS commands whatever AT+CMEE says (27.005
// §3.2.5); CMEE=2 only makes it verbose.
void modem_device::cms_error(int code) {
    auto text = cms_text(code);
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
        ussd_.session = false;
    } else if (before == fault::sim_removed && f != fault::sim_removed) {
        // A SIM put back is a new SIM session: locked again when its lock is on.
        if (card_.status != sim_status::puk) card_.status = card_.pin_lock ? sim_status::pin : sim_status::ready;
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

// =====================================================================================
// commands: the basic ones (extended: sim_commands.cpp)

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
                for (auto& call : voice_.calls) call.active = false;
                voice_.stat = 0;
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
                for (auto& call : voice_.calls) call.active = false;
                cancel_events(event_tag::call);
                voice_.calls.push_back(voice_call{num, {}, true, false});
                while (voice_.calls.size() > options_.history_limit) voice_.calls.pop_front();
                voice_.stat = 2;  // dialling
                schedule(now + options_.call_answer_delay / 2, event_tag::call, [this](sim_clock::time_point) {
                    if (active_call()) voice_.stat = 3;  // alerting
                });
                if (options_.answer_calls) {
                    schedule(now + options_.call_answer_delay, event_tag::call, [this](sim_clock::time_point) {
                        if (auto* answered = active_call()) {
                            answered->answered = true;
                            voice_.stat = 0;
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

}  // namespace otppi::sim
