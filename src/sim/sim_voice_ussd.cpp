// Calls (ATD, AT+CLCC, SIMCom's AT+CTTS text-to-speech), USSD (AT+CUSD) and
// MediaTek's IMEI write (AT+EGMR).
#include "otppi/sim/sim_state.hpp"

#include "sim_detail.hpp"

#include <algorithm>
#include <stdexcept>

#include "otppi/modem/gsm7.hpp"
#include "otppi/modem/pdu.hpp"

namespace otppi::sim {

namespace m = otppi::modem;
using m::detail::split_fields;
using namespace detail;

void modem_device::set_ussd_reply(const std::string& code, const std::string& reply_utf8, bool ucs2, bool wait_for_reply) {
    if (!m::utf8_to_code_points(reply_utf8)) throw std::invalid_argument("set_ussd_reply: reply is not UTF-8");
    ussd_.replies[code] = ussd_reply{reply_utf8, ucs2, wait_for_reply};
}

void modem_device::x_clcc(const ext_call& c) {
    if (c.test) return ok();
    if (!c.exec) return error();
    return cmd_clcc();
}

void modem_device::x_cusd(const ext_call& c) {
    if (c.read) return info("+CUSD: " + std::to_string(ussd_.presentation)), ok();
    if (c.test) return info("+CUSD: (0-2)"), ok();
    if (!c.set) return ok();
    return cmd_cusd(c.args, c.now);
}

void modem_device::x_ctts(const ext_call& c) {
    if (!options_.supports_tts) return error();
    if (c.read) {
        const bool speaking = std::any_of(events_.begin(), events_.end(), [](const timed_event& e) { return e.tag == event_tag::tts; });
        return info(std::string("+CTTS: ") + (speaking ? "1" : "0")), ok();
    }
    if (c.test) return info("+CTTS: (0-2),\"text\""), ok();
    if (!c.set) return error();
    return cmd_ctts(c.args, c.now);
}

void modem_device::x_egmr(const ext_call& c) {
    if (!options_.supports_imei_change) return error();
    if (c.test) return ok();
    if (!c.set) return error();
    return cmd_egmr(c.args);
}

void modem_device::cmd_cusd(const std::string& args, sim_clock::time_point now) {
    const auto f = split_fields(args);
    auto n = int_field(f, 0);
    if (!n || *n < 0 || *n > 2) return cme_error(3);
    if (*n == 2) {
        // Cancels the session and any answer still on its way.
        cancel_events(event_tag::ussd);
        ussd_.session = false;
        return ok();
    }
    ussd_.presentation = *n;
    if (f.size() < 2) return ok();
    if (!sim_usable(false)) return;
    if (registration_ != 1 && registration_ != 5) return cme_error(30);
    const std::string code = f[1].value;
    ok();
    cancel_events(event_tag::ussd);
    auto it = ussd_.replies.find(code);
    if (it == ussd_.replies.end()) {
        ussd_.session = false;
        // The network does not know the code: "operation not supported".
        schedule(now + options_.ussd_delay, event_tag::ussd, [this](sim_clock::time_point) { urc("+CUSD: 4"); });
        return;
    }
    const std::string reply = it->second.text;
    const bool ucs2 = it->second.ucs2, wait = it->second.wait_for_reply;
    ussd_.session = wait;
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
        voice_.calls.push_back(voice_call{"", {}, false});
        while (voice_.calls.size() > options_.history_limit) voice_.calls.pop_front();
        call = &voice_.calls.back();
    }
    call->spoken.push_back(std::move(text));
    ok();
    cancel_events(event_tag::tts);
    schedule(now + options_.tts_delay, event_tag::tts, [this](sim_clock::time_point) { urc("+CTTS: 0"); });
}

voice_call* modem_device::active_call() {
    for (auto it = voice_.calls.rbegin(); it != voice_.calls.rend(); ++it)
        if (it->active) return &*it;
    return nullptr;
}

void modem_device::cmd_clcc() {
    if (const auto* c = active_call(); c && !c->number.empty()) {
        const bool intl = c->number.front() == '+';
        info("+CLCC: 1,0," + std::to_string(voice_.stat) + ",0,0,\"" + c->number + "\"," + (intl ? "145" : "129") + ",\"\"");
    }
    ok();
}

void modem_device::end_call(sim_clock::time_point) {
    auto* c = active_call();
    if (!c) return;
    c->active = false;
    voice_.stat = 0;
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
