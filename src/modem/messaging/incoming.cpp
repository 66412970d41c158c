// Messaging, incoming side: new-message indications, reading and deleting
// stored messages in PDU and text mode, the inbox and delivery reports
// (report_store of reports.hpp). Background work: it shares the port between
// operations but never counts as busy.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "../driver/modem_impl.hpp"
#include "otppi/modem/at_commands.hpp"

namespace otppi::modem {

using namespace std::chrono_literals;
using driver::masked;

void modem::impl::register_messaging_urcs() {
    auto stored = [](impl& m, const unsolicited& u) {
        if (m.state_ != modem_state::ready) return true;  // read by AT+CMGL once ready
        if (auto idx = parse_cmti(u.line)) m.read_stored(idx->index);
        return true;
    };
    add_urc_handler(urc_kind::sms_stored, stored);
    add_urc_handler(urc_kind::status_report_stored, stored);
    add_urc_handler(urc_kind::sms_deliver, [](impl& m, const unsolicited& u) {
        if (auto p = parse_cmt(u)) m.handle_pdu(p->pdu);
        return true;
    });
    add_urc_handler(urc_kind::status_report, [](impl& m, const unsolicited& u) {
        if (auto p = parse_cds(u))
            m.handle_pdu(p->pdu);
        else if (auto t = parse_cds_text(u.line))
            m.handle_text_record(*t, text_charset::gsm);
        return true;
    });
}

void modem::impl::sync_storage() {
    if (identity_.sms_mode == sms_format::text) {
        sync_storage_text();
        return;
    }
    // Messages that arrived while we were away (or whose +CMTI was lost).
    // Its deadline is kept short: sends queue behind it on a stalled modem.
    submit(make_list_pdus(4, 2 * opts_.command_timeout), [](impl& m, const at_result& r) {
        if (!r.ok()) {
            spdlog::debug("modem {}: AT+CMGL failed: {}", m.id(), describe(r));
            return;
        }
        for (const auto& sp : parse_cmgl(r.lines)) {
            if (sp.stat >= 2) continue;  // stored outgoing messages are not ours to touch
            if (m.handle_pdu(sp.pdu) && sp.index) m.delete_stored(*sp.index);
        }
    });
}

void modem::impl::read_stored(int index) {
    if (identity_.sms_mode == sms_format::text) {
        read_stored_text(index);
        return;
    }
    auto cmd = make_read_pdu(index);
    if (!cmd) return;
    cmd->timeout = std::max(cmd->timeout, opts_.command_timeout);
    submit(std::move(*cmd), [index](impl& m, const at_result& r) {
        if (!r.ok()) {
            spdlog::debug("modem {}: AT+CMGR={} failed: {}", m.id(), index, describe(r));
            return;
        }
        auto sp = parse_cmgr(r.lines);
        if (!sp) return;  // empty slot
        if (m.handle_pdu(sp->pdu)) m.delete_stored(index);
    });
}

// Submits `cmd` under the read character set; `fn` gets the result and the
// set it was printed in.
void modem::impl::submit_text_read(at_command cmd, std::function<void(impl&, const at_result&, text_charset)> fn) {
    auto printed = std::make_shared<text_charset>(text_charset::gsm);
    const bool switch_set = read_charset() == text_charset::ucs2;
    if (switch_set) {
        submit(make_cscs(text_charset::ucs2, opts_.command_timeout), [printed](impl& m, const at_result& r) {
            if (r.ok()) {
                *printed = text_charset::ucs2;
                m.link_.charset = text_charset::ucs2;
            } else {
                m.link_.charset.reset();
                spdlog::debug("modem {}: AT+CSCS=\"UCS2\" failed ({}); reading in the GSM set", m.id(), describe(r));
            }
        });
    }
    submit(std::move(cmd), [printed, fn = std::move(fn)](impl& m, const at_result& r) { fn(m, r, *printed); });
    if (switch_set) {
        submit(make_cscs(text_charset::gsm, opts_.command_timeout), [](impl& m, const at_result& r) {
            if (r.ok()) {
                m.link_.charset = text_charset::gsm;
            } else {
                m.link_.charset.reset();
                spdlog::warn("modem {}: could not set AT+CSCS=\"GSM\" back: {}", m.id(), describe(r));
            }
        });
    }
}

void modem::impl::sync_storage_text() {
    // +CMGL prints no <dcs>: list to learn the indices, then read each one.
    submit(make_list_text(2 * opts_.command_timeout), [](impl& m, const at_result& r) {
        if (!r.ok()) {
            spdlog::debug("modem {}: AT+CMGL failed: {}", m.id(), describe(r));
            return;
        }
        for (const auto& rec : parse_cmgl_text(r.lines))
            if (rec.index && (rec.stat <= 1 || rec.status_report)) m.read_stored_text(*rec.index);
    });
}

void modem::impl::read_stored_text(int index) {
    if (op_) {
        // The operation may be between its own AT+CSCS and AT+CMGS.
        if (deferred_reads_.size() < 256 && std::find(deferred_reads_.begin(), deferred_reads_.end(), index) == deferred_reads_.end())
            deferred_reads_.push_back(index);
        return;
    }
    auto cmd = make_read_text(index, opts_.command_timeout);
    if (!cmd) return;
    submit_text_read(std::move(*cmd), [index](impl& m, const at_result& r, text_charset printed) {
        if (!r.ok()) {
            spdlog::debug("modem {}: AT+CMGR={} failed: {}", m.id(), index, describe(r));
            return;
        }
        auto rec = parse_cmgr_text(r.lines);
        if (!rec) return;  // empty slot
        if (m.handle_text_record(*rec, printed)) m.delete_stored(index);
    });
}

// The text-mode twin of handle_pdu.
bool modem::impl::handle_text_record(const text_sms_record& rec, text_charset printed) {
    if (rec.status_report) {
        auto sr = decode_text_report(rec, printed);
        if (!sr) {
            spdlog::warn("modem {}: unreadable text-mode status report", id());
            return true;
        }
        handle_report(*sr);
        return true;
    }
    if (rec.stat > 1) return false;  // a stored outgoing message: not ours
    auto d = decode_text_deliver(rec, printed);
    if (!d) return false;
    inbox_part p;
    p.from = d->originator.display();
    p.text = std::move(d->ud.text);
    p.received_unix = clock_.unix_seconds();
    if (d->scts)
        if (auto t = to_unix_seconds(*d->scts)) p.sc_timestamp_unix = *t;
    p.concat = d->ud.concat;
    return store_part(std::move(p));
}

void modem::impl::delete_stored(int index) {
    auto cmd = make_delete_sms(index);
    if (!cmd) return;
    cmd->timeout = std::max(cmd->timeout, opts_.command_timeout);
    submit(std::move(*cmd), [index](impl& m, const at_result& r) {
        if (!r.ok()) spdlog::warn("modem {}: could not delete SMS {} from the SIM: {}", m.id(), index, describe(r));
    });
}

// Files what a stored or pushed PDU carries. True when it is safely kept
// (or not worth keeping) and may be deleted from the SIM.
bool modem::impl::handle_pdu(const std::string& hex) {
    auto d = decode_pdu_verbose(hex, true);
    if (!d.pdu) {
        spdlog::warn("modem {}: undecodable PDU ({} octets): {}", id(), hex.size() / 2, d.error);
        // Kept for a person to look at rather than silently deleted.
        inbox_part p;
        p.text = "(undecodable PDU) " + hex;
        p.received_unix = clock_.unix_seconds();
        return store_part(std::move(p));
    }
    switch (d.pdu->type()) {
        case pdu_type::deliver: {
            const auto& m = std::get<sms_deliver>(d.pdu->message);
            inbox_part p;
            p.from = m.originator.display();
            p.text = m.ud.text;
            p.received_unix = clock_.unix_seconds();
            if (m.scts)
                if (auto t = to_unix_seconds(*m.scts)) p.sc_timestamp_unix = *t;
            p.concat = m.ud.concat;
            return store_part(std::move(p));
        }
        case pdu_type::status_report:
            handle_report(std::get<sms_status_report>(d.pdu->message));
            return true;
        case pdu_type::submit:
            return false;
    }
    return false;
}

bool modem::impl::store_part(inbox_part p) {
    auto res = inbox_.add(std::move(p));
    if (!res.stored()) {
        spdlog::error("modem {}: cannot store an incoming SMS ({}); it stays on the SIM", id(), res.error);
        return false;
    }
    for (auto& m : res.flushed) announce(std::move(m));
    if (res.message) announce(std::move(*res.message));
    arm_inbox_timer();
    return true;
}

void modem::impl::announce(incoming_sms m) {
    ++counters_.received;
    spdlog::info("modem {}: SMS from {} stored as {} ({} part{}{})", id(), masked(m.from), m.id, m.parts, m.parts == 1 ? "" : "s",
                 m.complete ? "" : ", incomplete");
    modem_event ev{modem_event::kind::incoming_sms, state_, m.id, std::move(m), std::nullopt};
    emit(std::move(ev));
}

void modem::impl::arm_inbox_timer() {
    auto at = inbox_.next_expiry();
    if (!at) {
        inbox_timer_.cancel();
        return;
    }
    const std::int64_t in = std::max<std::int64_t>(0, *at - clock_.unix_seconds());
    arm(inbox_timer_, std::chrono::seconds(in) + 10ms, [](impl& m) {
        for (auto& msg : m.inbox_.expire(m.clock_.unix_seconds())) m.announce(std::move(msg));
        m.arm_inbox_timer();
    });
}

void modem::impl::handle_report(const sms_status_report& sr) {
    ++counters_.reports;
    const std::int64_t now = clock_.unix_seconds();
    auto rec = reports_.apply_report(cfg_.id, sr.message_ref, sr.recipient.number, sr.status, now);
    if (!reports_.last_error().empty()) spdlog::warn("modem {}: {}", id(), reports_.last_error());
    delivery_report dr;
    dr.modem_id = cfg_.id;
    dr.message_reference = sr.message_ref;
    dr.recipient = rec ? rec->recipient : sr.recipient.number;
    dr.state = std::string(to_string(sr.state()));
    dr.status = sr.status;
    dr.at_unix = now;
    dr.matched = rec.has_value();
    if (rec) {
        dr.part = rec->part;
        dr.parts = rec->parts;
    }
    spdlog::debug("modem {}: delivery report MR {} to {}: {} (TP-ST {}){}", id(), dr.message_reference, masked(dr.recipient), dr.state,
                  dr.status, dr.matched ? "" : ", no matching send");
    modem_event ev{modem_event::kind::delivery_report, state_, dr.state, std::nullopt, std::move(dr)};
    emit(std::move(ev));
}

}  // namespace otppi::modem
