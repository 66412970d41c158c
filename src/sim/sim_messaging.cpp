// Messaging: text-mode rendering, sends (+CMGS) and what the "network"
// makes of them, the SIM's message storage, and the SMS commands.
#include "otppi/sim/sim_state.hpp"

#include "sim_detail.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "otppi/modem/gsm7.hpp"
#include "otppi/modem/pdu.hpp"

namespace otppi::sim {

namespace m = otppi::modem;
using m::detail::split_fields;
using namespace detail;

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
// storage

int modem_device::first_free_slot() const {
    for (std::size_t i = 0; i < store_.slots.size(); ++i)
        if (!store_.slots[i]) return static_cast<int>(i) + 1;
    return 0;
}

std::size_t modem_device::stored_count() const noexcept {
    return static_cast<std::size_t>(std::count_if(store_.slots.begin(), store_.slots.end(), [](const auto& s) { return s.has_value(); }));
}

void modem_device::deliver_sms(const std::string& from, const std::string& utf8_text, sim_clock::time_point now) {
    (void)now;
    m::deliver_options o;
    o.originator = from;
    o.smsc = digits_of(smsc_);
    o.timestamp = wall_timestamp();
    o.concat_ref = store_.next_concat_ref++;
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
        store_.slots[static_cast<std::size_t>(slot - 1)] = stored_sms{0, p.hex, p.tpdu_length};
        if (cnmi_mt_ == 1) urc("+CMTI: \"SM\"," + std::to_string(slot));
    }
}

// =====================================================================================
// commands

void modem_device::x_cmgf(const ext_call& c) {
    if (c.read) return info("+CMGF: " + std::to_string(cmgf_)), ok();
    if (c.test) return info(options_.text_only ? "+CMGF: (1)" : "+CMGF: (0,1)"), ok();
    auto v = c.set ? int_field(c.f, 0) : std::optional<int>(0);
    if (!v || (*v != 0 && *v != 1) || (*v == 0 && options_.text_only)) return error();
    cmgf_ = *v;
    return ok();
}

void modem_device::x_cscs(const ext_call& c) {
    if (c.read) return info("+CSCS: \"" + cscs_ + "\""), ok();
    if (c.test && !options_.ucs2_charset) return info("+CSCS: (\"IRA\",\"GSM\",\"HEX\",\"PCCP\",\"PCDN\",\"8859-1\")"), ok();
    if (c.test) return info("+CSCS: (\"IRA\",\"GSM\",\"UCS2\",\"HEX\",\"PCCP\",\"PCDN\",\"8859-1\")"), ok();
    if (!c.set || c.f.empty()) return error();
    std::string cs = upper_outside_quotes(c.f[0].value);
    static constexpr std::string_view known[] = {"IRA", "GSM", "UCS2", "HEX", "PCCP", "PCDN", "8859-1"};
    if (std::find(std::begin(known), std::end(known), cs) == std::end(known)) return error();
    if (cs == "UCS2" && !options_.ucs2_charset) return error();
    cscs_ = cs;
    return ok();
}

void modem_device::x_cnmi(const ext_call& c) {
    if (c.read)
        return info("+CNMI: " + std::to_string(cnmi_mode_) + "," + std::to_string(cnmi_mt_) + "," + std::to_string(cnmi_bm_) + "," +
                    std::to_string(cnmi_ds_) + "," + std::to_string(cnmi_bfr_)),
               ok();
    if (c.test) return info("+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)"), ok();
    if (!c.set) return c.exec ? ok() : error();
    return cmd_cnmi(c.args);
}

void modem_device::x_csms(const ext_call& c) {
    if (c.read) return info("+CSMS: " + std::to_string(csms_) + ",1,1,1"), ok();
    if (c.test) return info("+CSMS: (0,1)"), ok();
    auto v = c.set ? int_field(c.f, 0) : std::nullopt;
    if (!v || (*v != 0 && *v != 1)) return cms_error(303);
    csms_ = *v;
    return info("+CSMS: 1,1,1"), ok();
}

void modem_device::x_cmms(const ext_call& c) {
    if (c.read) return info("+CMMS: " + std::to_string(cmms_)), ok();
    if (c.test) return info("+CMMS: (0-2)"), ok();
    auto v = c.set ? int_field(c.f, 0) : std::optional<int>(0);
    if (!v || *v < 0 || *v > 2) return error();
    cmms_ = *v;
    return ok();
}

void modem_device::x_cpms(const ext_call& c) { cmd_cpms(c.read ? "?" : c.test ? "=?" : c.set ? c.args : ""); }

void modem_device::x_csmp(const ext_call& c) {
    if (c.read)
        return info("+CSMP: " + std::to_string(csmp_fo_) + "," + std::to_string(csmp_vp_) + ",0," + std::to_string(csmp_dcs_)), ok();
    if (c.test) return ok();
    if (!c.set) return error();
    if (auto fo = int_field(c.f, 0)) csmp_fo_ = *fo;
    if (auto vp = int_field(c.f, 1)) csmp_vp_ = *vp;
    if (auto dcs = int_field(c.f, 3); dcs && *dcs >= 0 && *dcs <= 255) csmp_dcs_ = *dcs;
    return ok();
}

void modem_device::x_csdh(const ext_call& c) {
    if (c.read) return info("+CSDH: " + std::to_string(csdh_)), ok();
    if (c.test) return info("+CSDH: (0,1)"), ok();
    auto v = c.set ? int_field(c.f, 0) : std::optional<int>(0);
    if (!v || (*v != 0 && *v != 1)) return error();
    csdh_ = *v;
    return ok();
}

void modem_device::x_cmgs(const ext_call& c) {
    if (c.test) return ok();
    if (!c.set) return error();
    return cmd_cmgs(c.args);
}

void modem_device::x_cmgl(const ext_call& c) {
    if (c.test)
        return info(cmgf_ == 0 ? "+CMGL: (0-4)" : "+CMGL: (\"REC UNREAD\",\"REC READ\",\"STO UNSENT\",\"STO SENT\",\"ALL\")"), ok();
    if (c.read) return error();
    return cmd_cmgl(c.set ? c.args : (cmgf_ == 0 ? "0" : "\"REC UNREAD\""));
}

void modem_device::x_cmgr(const ext_call& c) {
    if (c.test) return ok();
    if (!c.set) return error();
    return cmd_cmgr(c.args);
}

void modem_device::x_cmgd(const ext_call& c) {
    if (c.test) return info(c.name == "+CMGD" ? "+CMGD: (1-" + std::to_string(store_.slots.size()) + "),(0-4)" : "+CMGDA: (1-6)"), ok();
    if (!c.set) return error();
    if (c.name == "+CMGD") return cmd_cmgd(c.args);
    // SIMCom's bulk delete: 1 read, 2 unread, 3 sent, 4 unsent, 5 received, 6 all.
    if (!sim_usable(true)) return;
    int type = 0;
    if (auto v = int_field(c.f, 0))
        type = *v;
    else if (!c.f.empty()) {
        static constexpr std::pair<std::string_view, int> names[] = {{"DEL READ", 1},   {"DEL UNREAD", 2}, {"DEL SENT", 3},
                                                                     {"DEL UNSENT", 4}, {"DEL INBOX", 5},  {"DEL ALL", 6}};
        for (auto [nm, t] : names)
            if (m::detail::iequals(c.f[0].value, nm)) type = t;
    }
    if (type < 1 || type > 6) return error();
    for (auto& s : store_.slots) {
        if (!s) continue;
        const int st = s->stat;
        const bool del = type == 6 || (type == 1 && st == 1) || (type == 2 && st == 0) || (type == 3 && st == 3) ||
                         (type == 4 && st == 2) || (type == 5 && st <= 1);
        if (del) s.reset();
    }
    return ok();
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
    const std::string used = std::to_string(stored_count()), total = std::to_string(store_.slots.size());
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
    for (std::size_t i = 0; i < store_.slots.size(); ++i) {
        auto& s = store_.slots[i];
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
    if (!index || *index < 1 || static_cast<std::size_t>(*index) > store_.slots.size()) return cms_error(321);
    auto& s = store_.slots[static_cast<std::size_t>(*index - 1)];
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
        if (!index || *index < 1 || static_cast<std::size_t>(*index) > store_.slots.size()) return cms_error(321);
        store_.slots[static_cast<std::size_t>(*index - 1)].reset();
        return ok();
    }
    for (auto& s : store_.slots) {
        if (!s) continue;
        const int st = s->stat;
        // 1: read; 2: read and sent; 3: read, sent and unsent; 4: all.
        const bool del = flag == 4 || st == 1 || (flag >= 2 && st == 3) || (flag >= 3 && st == 2);
        if (del) s.reset();
    }
    ok();
}

}  // namespace otppi::sim
