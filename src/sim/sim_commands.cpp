// Extended commands (AT+NAME, AT+NAME?, AT+NAME=?, AT+NAME=args): one table
// of {name, handler}, and the handlers of the general, network and SIM
// commands. Messaging, call and USSD handlers live with their state in
// sim_messaging.cpp and sim_voice_ussd.cpp.
#include "otppi/sim/sim_state.hpp"

#include "sim_detail.hpp"

#include <algorithm>
#include <iterator>

namespace otppi::sim {

namespace m = otppi::modem;
using m::detail::split_fields;
using namespace detail;

// =====================================================================================
// the table

const modem_device::ext_command* modem_device::find_command(std::string_view name) {
    // Names as the device answers them; several names may share a handler. A
    // name not here answers ERROR. A linear scan: some 60 short names, one
    // command line at a time.
    static constexpr ext_command table[] = {
        // identity (27.007 and their V.25ter twins)
        {"+CGMI", &modem_device::x_identity}, {"+GMI", &modem_device::x_identity},
        {"+CGMM", &modem_device::x_identity}, {"+GMM", &modem_device::x_identity},
        {"+CGMR", &modem_device::x_identity}, {"+GMR", &modem_device::x_identity},
        {"+CGSN", &modem_device::x_identity}, {"+GSN", &modem_device::x_identity},
        {"+GCAP", &modem_device::x_identity},
        // general and network
        {"+CMEE", &modem_device::x_cmee}, {"+COPS", &modem_device::x_cops},
        {"+CREG", &modem_device::x_creg}, {"+CGREG", &modem_device::x_creg},
        {"+CSQ", &modem_device::x_csq}, {"+CFUN", &modem_device::x_cfun},
        {"+CSCLK", &modem_device::x_csclk}, {"+CBC", &modem_device::x_cbc},
        {"+CCLK", &modem_device::x_cclk}, {"^CURC", &modem_device::x_curc},
        // SIM; the ICCID, each vendor its own way
        {"+CIMI", &modem_device::x_cimi}, {"+CCID", &modem_device::x_iccid},
        {"+CICCID", &modem_device::x_iccid}, {"+QCCID", &modem_device::x_iccid},
        {"^ICCID", &modem_device::x_iccid}, {"+CRSM", &modem_device::x_crsm},
        {"+CPIN", &modem_device::x_cpin}, {"+CLCK", &modem_device::x_clck},
        {"+CSCA", &modem_device::x_csca}, {"+CNUM", &modem_device::x_cnum},
        // messaging
        {"+CMGF", &modem_device::x_cmgf}, {"+CSCS", &modem_device::x_cscs},
        {"+CNMI", &modem_device::x_cnmi}, {"+CSMS", &modem_device::x_csms},
        {"+CMMS", &modem_device::x_cmms}, {"+CPMS", &modem_device::x_cpms},
        {"+CSMP", &modem_device::x_csmp}, {"+CSDH", &modem_device::x_csdh},
        {"+CMGS", &modem_device::x_cmgs}, {"+CMGL", &modem_device::x_cmgl},
        {"+CMGR", &modem_device::x_cmgr}, {"+CMGD", &modem_device::x_cmgd},
        {"+CMGDA", &modem_device::x_cmgd},
        // calls, USSD, vendor extras
        {"+CLCC", &modem_device::x_clcc}, {"+CUSD", &modem_device::x_cusd},
        {"+CTTS", &modem_device::x_ctts}, {"+EGMR", &modem_device::x_egmr},
        // Settings the daemon or users may send and the simulator accepts without modelling.
        {"+CLIP", &modem_device::x_accepted}, {"+CLTS", &modem_device::x_accepted},
        {"+IPR", &modem_device::x_accepted}, {"+IFC", &modem_device::x_accepted},
        {"+CNETLIGHT", &modem_device::x_accepted}, {"+CIURC", &modem_device::x_accepted},
        {"+CSGS", &modem_device::x_accepted}, {"+COLP", &modem_device::x_accepted},
        {"+CRSL", &modem_device::x_accepted}, {"+CLVL", &modem_device::x_accepted},
        {"+CMIC", &modem_device::x_accepted}, {"+CSNS", &modem_device::x_accepted},
        {"+CMTE", &modem_device::x_accepted}, {"+CSMINS", &modem_device::x_accepted},
        {"+CGATT", &modem_device::x_accepted}, {"+CEER", &modem_device::x_accepted},
        {"+CALS", &modem_device::x_accepted}, {"+CSDT", &modem_device::x_accepted},
        {"+CRC", &modem_device::x_accepted}, {"+CSCB", &modem_device::x_accepted},
        {"+CNMA", &modem_device::x_accepted},
    };
    auto it = std::find_if(std::begin(table), std::end(table), [&](const ext_command& e) { return e.name == name; });
    return it == std::end(table) ? nullptr : &*it;
}

void modem_device::handle_extended(const std::string& raw, sim_clock::time_point now) {
    // Name up to '=' or '?', upper-cased; the arguments keep their case (quoted text).
    ext_call c;
    c.now = now;
    std::size_t end = raw.find_first_of("=?");
    c.name = upper_outside_quotes(raw.substr(0, end));
    while (!c.name.empty() && c.name.back() == ' ') c.name.pop_back();
    c.exec = true;
    if (end != std::string::npos) {
        c.exec = false;
        if (raw[end] == '?') {
            c.read = true;
            if (end + 1 != raw.size()) return error();
        } else if (raw.compare(end, 2, "=?") == 0) {
            c.test = true;
            if (end + 2 != raw.size()) return error();
        } else {
            c.set = true;
            c.args = raw.substr(end + 1);
        }
    }
    c.f = split_fields(c.args);
    if (const ext_command* cmd = find_command(c.name)) return (this->*(cmd->handler))(c);
    error();
}

// =====================================================================================
// general and network

void modem_device::x_identity(const ext_call& c) {
    std::string value;
    if (c.name == "+CGMI" || c.name == "+GMI")
        value = options_.manufacturer;
    else if (c.name == "+CGMM" || c.name == "+GMM")
        value = options_.model;
    else if (c.name == "+CGMR" || c.name == "+GMR")
        value = options_.revision;
    else if (c.name == "+CGSN" || c.name == "+GSN")
        value = imei_;
    else
        value = "+GCAP: +CGSM";
    if (c.set) return error();
    if (!c.test) info(value);
    ok();
}

void modem_device::x_cmee(const ext_call& c) {
    if (c.read) return info("+CMEE: " + std::to_string(cmee_)), ok();
    if (c.test) return info("+CMEE: (0-2)"), ok();
    auto v = c.set ? int_field(c.f, 0) : std::optional<int>(0);
    if (!v || *v < 0 || *v > 2) return error();
    cmee_ = *v;
    return ok();
}

void modem_device::x_cops(const ext_call& c) {
    if (c.test)
        return info("+COPS: (2,\"" + options_.operator_name + "\",\"\",\"" + options_.imsi.substr(0, 5) + "\"),,(0-4),(0-2)"), ok();
    if (c.set) {
        auto mode = int_field(c.f, 0);
        if (!mode || *mode < 0 || *mode > 4) return cme_error(3);
        if (*mode == 3) {
            auto fmt = int_field(c.f, 1);
            if (!fmt || *fmt < 0 || *fmt > 2) return cme_error(3);
            cops_format_ = *fmt;
        }
        return ok();
    }
    if (!c.read) return error();
    const bool reg =
        fault_ != fault::sim_removed && card_.status == sim_status::ready && cfun_ == 1 && (registration_ == 1 || registration_ == 5);
    if (!reg) return info("+COPS: 0"), ok();
    std::string opname = cops_format_ == 2 ? options_.imsi.substr(0, 5) : options_.operator_name;
    return info("+COPS: 0," + std::to_string(cops_format_) + ",\"" + opname + "\""), ok();
}

void modem_device::x_creg(const ext_call& c) {
    if (c.test) return info(c.name + ": (0-2)"), ok();
    if (c.set) {
        auto n = int_field(c.f, 0);
        if (!n || *n < 0 || *n > 2) return error();
        creg_n_ = *n;
        return ok();
    }
    if (!c.read) return error();
    const bool sim_ok = fault_ != fault::sim_removed && card_.status == sim_status::ready && cfun_ == 1;
    const int stat = sim_ok ? registration_ : 0;
    std::string line = c.name + ": " + std::to_string(creg_n_) + "," + std::to_string(stat);
    if (creg_n_ == 2 && (stat == 1 || stat == 5)) line += ",\"1A2B\",\"00C3\"";
    return info(line), ok();
}

void modem_device::x_csq(const ext_call& c) {
    if (c.test) return info("+CSQ: (0-31,99),(0-7,99)"), ok();
    if (!c.exec) return error();
    const int rssi = cfun_ == 1 ? options_.signal_rssi : 99;
    return info("+CSQ: " + std::to_string(rssi) + ",0"), ok();
}

void modem_device::x_cfun(const ext_call& c) {
    if (c.read) return info("+CFUN: " + std::to_string(cfun_)), ok();
    if (c.test) return info("+CFUN: (0,1,4),(0,1)"), ok();
    auto fun = c.set ? int_field(c.f, 0) : std::nullopt;
    if (!fun || (*fun != 0 && *fun != 1 && *fun != 4)) return cme_error(3);
    cfun_ = *fun;
    if (int_field(c.f, 1) == 1) {
        // Reset requested: settings back to power-up values, SIM locked again.
        ok();
        reset_settings();
        cfun_ = *fun;
        if (card_.status != sim_status::puk) card_.status = card_.pin_lock ? sim_status::pin : sim_status::ready;
        return;
    }
    return ok();
}

void modem_device::x_csclk(const ext_call& c) {
    if (c.read) return info("+CSCLK: " + std::to_string(csclk_)), ok();
    if (c.test) return info("+CSCLK: (0-2)"), ok();
    auto v = c.set ? int_field(c.f, 0) : std::nullopt;
    if (!v || *v < 0 || *v > 2) return error();
    csclk_ = *v;
    return ok();
}

void modem_device::x_cbc(const ext_call& c) {
    if (c.test) return ok();
    return info("+CBC: 0,85,4050"), ok();
}

void modem_device::x_cclk(const ext_call& c) {
    if (c.test) return ok();
    if (c.set) return ok();
    auto ts = wall_timestamp();
    return info("+CCLK: \"" + text_timestamp(ts) + "\""), ok();
}

void modem_device::x_curc(const ext_call&) {
    if (vendor_ == vendor_kind::huawei) return ok();
    error();
}

void modem_device::x_accepted(const ext_call& c) {
    if (c.read) info(c.name + ": 0");
    ok();
}

// =====================================================================================
// SIM

bool modem_device::sim_usable(bool sms) {
    if (fault_ == fault::sim_removed) {
        sms ? cms_error(310) : cme_error(10);
        return false;
    }
    if (card_.status == sim_status::pin) {
        sms ? cms_error(311) : cme_error(11);
        return false;
    }
    if (card_.status == sim_status::puk) {
        sms ? cms_error(316) : cme_error(12);
        return false;
    }
    return true;
}

void modem_device::x_cimi(const ext_call& c) {
    if (c.test) return ok();
    if (!c.exec) return error();
    if (!sim_usable(false)) return;
    return info(options_.imsi), ok();
}

// ICCID, the vendor's way; the ICCID sits outside the PIN-protected files and is
// readable with the SIM locked. SIM800: bare digits to AT+CCID, nothing else.
void modem_device::x_iccid(const ext_call& c) {
    const bool simcom = vendor_ == vendor_kind::simcom || vendor_ == vendor_kind::simcom_lte;
    std::optional<std::string> iccid_line;
    if (c.name == "+CCID" && (c.exec || c.read) && vendor_ != vendor_kind::huawei)
        iccid_line = simcom ? options_.iccid : "+CCID: " + options_.iccid;
    else if (c.name == "+CICCID" && c.exec && vendor_ == vendor_kind::simcom_lte)
        iccid_line = "+ICCID: " + options_.iccid;
    else if (c.name == "+QCCID" && c.exec && vendor_ == vendor_kind::quectel)
        iccid_line = "+QCCID: " + options_.iccid;
    else if (c.name == "^ICCID" && c.read && vendor_ == vendor_kind::huawei)
        iccid_line = "^ICCID: " + m::detail::swap_nibbles(options_.iccid + (options_.iccid.size() % 2 ? "F" : ""));
    if (iccid_line) {
        if (fault_ == fault::sim_removed) return cme_error(10);
        return info(*iccid_line), ok();
    }
    if (c.test && (c.name == "+CCID" || c.name == "+CICCID" || c.name == "+QCCID")) return ok();
    error();
}

void modem_device::x_crsm(const ext_call& c) {
    if (c.test) return ok();
    // Only READ BINARY of EF_ICCID (2FE2): the bring-up's fallback for the ICCID.
    if (!c.set || int_field(c.f, 0) != 176 || int_field(c.f, 1) != 12258) return cme_error(4);
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

void modem_device::x_clck(const ext_call& c) {
    if (c.test) return info("+CLCK: (\"SC\",\"AO\",\"OI\",\"OX\",\"AI\",\"IR\",\"AB\",\"AG\",\"AC\",\"FD\",\"PN\",\"PU\",\"PP\")"), ok();
    if (!c.set) return error();
    return cmd_clck(c.args);
}

void modem_device::x_csca(const ext_call& c) {
    if (c.test) return ok();
    if (c.read) {
        if (!sim_usable(false)) return;
        return info("+CSCA: \"" + smsc_ + "\"," + (!smsc_.empty() && smsc_.front() == '+' ? "145" : "129")), ok();
    }
    if (!c.set || c.f.empty() || c.f[0].value.empty()) return error();
    smsc_ = c.f[0].value;
    return ok();
}

void modem_device::x_cnum(const ext_call& c) {
    if (c.test) return ok();
    if (!c.exec) return error();
    if (!sim_usable(false)) return;
    if (!options_.own_number.empty())
        info("+CNUM: \"\",\"" + options_.own_number + "\"," + (options_.own_number.front() == '+' ? "145" : "129"));
    return ok();
}

void modem_device::x_cpin(const ext_call& c) { cmd_cpin(c.read ? "?" : c.test ? "=?" : c.exec ? "" : "=" + c.args); }

void modem_device::cmd_cpin(const std::string& a) {
    if (a == "=?") return ok();
    if (a == "?") {
        if (fault_ == fault::sim_removed) return cme_error(10);
        const char* s = card_.status == sim_status::ready ? "READY" : card_.status == sim_status::pin ? "SIM PIN" : "SIM PUK";
        return info(std::string("+CPIN: ") + s), ok();
    }
    if (a.empty() || a[0] != '=') return error();
    if (fault_ == fault::sim_removed) return cme_error(10);
    const auto f = split_fields(std::string_view(a).substr(1));
    if (f.empty() || f[0].value.empty()) return cme_error(3);
    const std::string& first = f[0].value;
    switch (card_.status) {
        case sim_status::ready:
            return cme_error(3);
        case sim_status::pin:
            if (first == card_.pin) {
                card_.status = sim_status::ready;
                card_.pin_attempts = 3;
                return ok();
            }
            if (--card_.pin_attempts <= 0) card_.status = sim_status::puk;
            return cme_error(16);
        case sim_status::puk:
            if (f.size() < 2 || !all_digits(f[1].value) || f[1].value.size() < 4 || f[1].value.size() > 8) return cme_error(3);
            if (card_.puk_attempts <= 0) return cme_error(13);  // PUK exhausted: the SIM is dead
            if (first == options_.puk) {
                card_.pin = f[1].value;
                card_.pin_lock = true;
                card_.status = sim_status::ready;
                card_.pin_attempts = 3;
                card_.puk_attempts = 10;
                return ok();
            }
            --card_.puk_attempts;
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
    if (*mode == 2) return info(std::string("+CLCK: ") + (card_.pin_lock ? "1" : "0")), ok();
    if (f.size() < 3) return cme_error(3);
    if (f[2].value != card_.pin) {
        if (--card_.pin_attempts <= 0) card_.status = sim_status::puk;
        return cme_error(16);
    }
    card_.pin_attempts = 3;
    card_.pin_lock = *mode == 1;
    ok();
}


}  // namespace otppi::sim
