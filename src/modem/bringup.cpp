#include "otppi/modem/bringup.hpp"

#include <algorithm>
#include <utility>

namespace otppi::modem {

using namespace std::chrono_literals;

std::string_view to_string(bringup_error e) noexcept {
    switch (e) {
        case bringup_error::none:
            return "none";
        case bringup_error::no_response:
            return "no_response";
        case bringup_error::command_failed:
            return "command_failed";
        case bringup_error::sim_not_inserted:
            return "sim_not_inserted";
        case bringup_error::sim_pin_required:
            return "sim_pin_required";
        case bringup_error::pin_rejected:
            return "pin_rejected";
        case bringup_error::pin_locked_out:
            return "pin_locked_out";
        case bringup_error::invalid_pin_config:
            return "invalid_pin_config";
        case bringup_error::sim_puk_required:
            return "sim_puk_required";
        case bringup_error::sim_locked:
            return "sim_locked";
        case bringup_error::sim_failure:
            return "sim_failure";
        case bringup_error::sim_not_ready:
            return "sim_not_ready";
    }
    return "?";
}

namespace {

step_outcome next() { return {}; }
step_outcome retry(bringup_error e, std::string detail = {}) { return {step_verdict::retry, e, std::move(detail)}; }
step_outcome failure(bringup_error e, std::string detail = {}) { return {step_verdict::fail, e, std::move(detail)}; }
step_outcome failure(const at_result& r) {
    // aborted: the channel reset the engine (port reopened) under this step.
    bool silent = r.status == at_status::timeout || r.status == at_status::aborted;
    return failure(silent ? bringup_error::no_response : bringup_error::command_failed, describe(r));
}

step_outcome p_default(const at_result& r, bringup_context&) { return r.ok() ? next() : failure(r); }

// Autobauding modules (SIM800) may swallow the first AT while they lock on.
step_outcome p_sync(const at_result& r, bringup_context&) { return r.ok() ? next() : retry(bringup_error::no_response, describe(r)); }

step_outcome p_manufacturer(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    c.identity.manufacturer = parse_identity_text(r.lines, "+CGMI:").value_or("");
    return next();
}

step_outcome p_model(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    c.identity.model = parse_identity_text(r.lines, "+CGMM:").value_or("");
    return next();
}

step_outcome p_revision(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    c.identity.revision = parse_identity_text(r.lines, "+CGMR:").value_or("");
    return next();
}

step_outcome p_imei(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    auto imei = parse_imei(r.lines);
    if (!imei) return failure(bringup_error::command_failed, "no IMEI in reply");
    c.identity.imei = std::move(*imei);
    return next();
}

step_outcome p_cpin(const at_result& r, bringup_context& c) {
    auto s = sim_state_from(r);
    c.identity.sim = s;
    switch (s) {
        case sim_state::ready:
        case sim_state::sim_pin2:  // only about the last PIN2-protected command
        case sim_state::sim_puk2:
            return next();
        case sim_state::sim_pin:
            // Decide here, before the PIN step exists in anyone's mind: no PIN,
            // an earlier failed attempt, or a malformed PIN all stop bring-up
            // without touching the SIM's retry counter.
            if (!c.latch || !c.latch->configured()) return failure(bringup_error::sim_pin_required);
            if (c.latch->rejected()) return failure(bringup_error::pin_locked_out);
            if (!is_valid_pin(c.latch->pin())) return failure(bringup_error::invalid_pin_config);
            return next();
        case sim_state::sim_puk:
            return failure(bringup_error::sim_puk_required);
        case sim_state::ph_sim_pin:
        case sim_state::ph_net_pin:
            return failure(bringup_error::sim_locked);
        case sim_state::failure:
            return failure(bringup_error::sim_failure, describe(r));
        case sim_state::not_inserted:
            // Reported for a moment at power-up by some modems: ask again.
            return retry(bringup_error::sim_not_inserted, describe(r));
        case sim_state::not_ready:
        case sim_state::busy:
        case sim_state::unknown:
            return retry(bringup_error::sim_not_ready, describe(r));
    }
    return retry(bringup_error::sim_not_ready, describe(r));
}

bool c_pin_needed(const bringup_context& c) { return c.identity.sim == sim_state::sim_pin && c.latch && c.latch->may_try() && !c.pin_sent; }

std::optional<at_command> b_pin(const bringup_context& c) {
    if (!c.latch || !c.latch->may_try()) return std::nullopt;
    return make_enter_pin(c.latch->pin());
}

step_outcome p_enter_pin(const at_result& r, bringup_context& c) {
    c.pin_sent = true;
    // Anything but OK (an error, or a timeout with unknown outcome) closes the
    // latch: three wrong PINs turn into a PUK-locked SIM.
    c.latch->record(r.ok());
    if (r.ok()) return next();
    return failure(bringup_error::pin_rejected, describe(r));
}

bool c_pin_sent(const bringup_context& c) { return c.pin_sent; }

// Polls only; never leads back to the PIN step.
step_outcome p_sim_ready(const at_result& r, bringup_context& c) {
    auto s = sim_state_from(r);
    c.identity.sim = s;
    switch (s) {
        case sim_state::ready:
        case sim_state::sim_pin2:
        case sim_state::sim_puk2:
            return next();
        case sim_state::sim_puk:
            return failure(bringup_error::sim_puk_required);
        case sim_state::failure:
            return failure(bringup_error::sim_failure, describe(r));
        default:
            return retry(bringup_error::sim_not_ready, describe(r));
    }
}

step_outcome p_imsi(const at_result& r, bringup_context& c) {
    if (!r.ok()) return retry(bringup_error::command_failed, describe(r));
    auto imsi = parse_imsi(r.lines);
    if (!imsi) return failure(bringup_error::command_failed, "no IMSI in reply");
    c.identity.imsi = std::move(*imsi);
    return next();
}

step_outcome p_iccid(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    auto iccid = parse_iccid(r.lines);
    if (!iccid) return failure(bringup_error::command_failed, "no ICCID in reply");
    c.identity.iccid = std::move(*iccid);
    return next();
}

bool c_iccid_missing(const bringup_context& c) { return c.identity.iccid.empty(); }

// The SMS part of the SIM may still be loading just after the SIM turned ready.
step_outcome p_retry_on_error(const at_result& r, bringup_context&) {
    return r.ok() ? next() : retry(bringup_error::command_failed, describe(r));
}

step_outcome p_pdu_mode(const at_result& r, bringup_context& c) {
    if (!r.ok()) return retry(bringup_error::command_failed, describe(r));
    c.pdu_confirmed = true;
    c.identity.sms_mode = sms_format::pdu;
    return next();
}

// A refusal that says "no PDU mode here" rather than "not now".
bool refuses_mode(const at_result& r) {
    if (r.status == at_status::error) return true;
    if (r.status == at_status::cms_error && r.code) return *r.code == 302 || *r.code == 303 || *r.code == 304;
    if (r.status == at_status::cme_error && r.code) return *r.code == 3 || *r.code == 4;
    return false;
}

step_outcome p_pdu_mode_auto(const at_result& r, bringup_context& c) {
    if (r.ok()) return p_pdu_mode(r, c);
    // Listed in AT+CMGF=?: the SMS part is probably still loading, so ask again.
    if (c.pdu_listed.value_or(false) || !refuses_mode(r)) return retry(bringup_error::command_failed, describe(r));
    return failure(bringup_error::command_failed, "PDU mode refused: " + describe(r));
}

step_outcome p_cmgf_modes(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    if (auto modes = parse_cmgf_modes(r.lines)) c.pdu_listed = std::find(modes->begin(), modes->end(), 0) != modes->end();
    return next();
}

bool c_pdu_not_confirmed(const bringup_context& c) { return !c.pdu_confirmed; }
bool c_text_mode(const bringup_context& c) { return c.identity.sms_mode == sms_format::text; }

step_outcome p_text_mode(const at_result& r, bringup_context& c) {
    if (!r.ok()) return retry(bringup_error::command_failed, describe(r));
    c.identity.sms_mode = sms_format::text;
    return next();
}

step_outcome p_cscs_list(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    auto sets = parse_cscs_list(r.lines);
    c.identity.ucs2_charset = std::find(sets.begin(), sets.end(), "UCS2") != sets.end();
    return next();
}

step_outcome p_csdh(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    c.identity.text_headers = true;
    return next();
}

step_outcome p_csms(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    c.identity.csms = parse_csms(r.lines);
    return next();
}

step_outcome p_cmms(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    c.identity.cmms_supported = true;
    return next();
}

step_outcome p_cnmi(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    c.identity.sms_indications = true;
    c.identity.status_reports = true;
    return next();
}

bool c_no_indications(const bringup_context& c) { return !c.identity.sms_indications; }

step_outcome p_cnmi_fallback(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    c.identity.sms_indications = true;
    return next();
}

step_outcome p_cops(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    if (auto op = parse_cops(r.lines)) c.identity.operator_name = op->name;
    return next();
}

step_outcome p_creg(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    for (const auto& l : r.lines)
        if (auto reg = parse_creg(l)) c.identity.registration = reg;
    return next();
}

step_outcome p_csq(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    c.identity.signal = parse_csq(r.lines);
    return next();
}

step_outcome p_csca(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    if (auto a = parse_csca(r.lines)) c.identity.smsc = a->number;
    return next();
}

step_outcome p_cnum(const at_result& r, bringup_context& c) {
    if (!r.ok()) return failure(r);
    auto nums = parse_cnum(r.lines);
    if (!nums.empty()) c.identity.own_number = nums.front().number;
    return next();
}

bringup_step step(std::string_view name, at_command cmd, step_processor p, bool optional) {
    bringup_step s;
    s.name = name;
    s.command = std::move(cmd);
    s.process = p;
    s.optional = optional;
    return s;
}

}  // namespace

std::vector<bringup_step> probe_steps(const bringup_options&) {
    std::vector<bringup_step> v;
    auto sync = step("sync", make_command("AT", 1s), p_sync, true);
    sync.max_attempts = 3;
    v.push_back(std::move(sync));
    v.push_back(step("echo_off", make_command("ATE0", 2s), p_default, false));
    v.push_back(step("numeric_errors", make_command("AT+CMEE=1", 2s), p_default, true));
    v.push_back(step("manufacturer", make_command("AT+CGMI", 2s), p_manufacturer, true));
    v.push_back(step("model", make_command("AT+CGMM", 2s), p_model, true));
    return v;
}

std::vector<bringup_step> init_steps(const vendor_profile& vendor, const bringup_options& options) {
    std::vector<bringup_step> v;
    for (const auto& line : vendor.extra_init)
        v.push_back(step("vendor_init", make_command(std::string(line.command), line.timeout), p_default, true));
    v.push_back(step("revision", make_command("AT+CGMR", 2s), p_revision, true));
    v.push_back(step("imei", make_command("AT+CGSN", 2s), p_imei, true));

    auto cpin = step("sim_status", make_command("AT+CPIN?", 5s), p_cpin, false);
    cpin.max_attempts = options.sim_ready_polls;
    cpin.retry_delay = options.sim_poll_delay;
    v.push_back(std::move(cpin));

    // The only step that ever sends a PIN. Its command is built at run time
    // from the latch, it is single-shot, and p_enter_pin never retries.
    bringup_step pin;
    pin.name = "enter_pin";
    pin.command.text = "AT+CPIN=<pin>";  // placeholder; `build` makes the real one
    pin.command.sensitive = true;
    pin.process = p_enter_pin;
    pin.when = c_pin_needed;
    pin.build = b_pin;
    pin.max_attempts = 1;
    pin.single_shot = true;
    v.push_back(std::move(pin));

    auto ready = step("sim_ready", make_command("AT+CPIN?", 5s), p_sim_ready, false);
    ready.when = c_pin_sent;
    ready.max_attempts = options.sim_ready_polls;
    ready.retry_delay = options.sim_poll_delay;
    v.push_back(std::move(ready));

    auto imsi = step("imsi", make_command("AT+CIMI", 3s), p_imsi, true);
    imsi.max_attempts = 2;
    imsi.retry_delay = 1s;
    v.push_back(std::move(imsi));

    auto iccid_cmd = make_command(std::string(vendor.iccid_command), 3s);
    iccid_cmd.info_prefix = std::string(vendor.iccid_prefix);
    iccid_cmd.accept_bare = true;
    v.push_back(step("iccid", std::move(iccid_cmd), p_iccid, true));
    // Reading EF_ICCID works on any 27.007 modem when the vendor command does not.
    auto ef = step("iccid_ef", make_command("AT+CRSM=176,12258,0,0,10", 3s), p_iccid, true);
    ef.when = c_iccid_missing;
    v.push_back(std::move(ef));

    const bool auto_mode = options.sms_mode == sms_mode_setting::automatic;
    if (auto_mode) v.push_back(step("sms_formats", make_command("AT+CMGF=?", 2s), p_cmgf_modes, true));
    if (options.sms_mode != sms_mode_setting::text) {
        // In auto mode a refusal is not fatal: text mode follows.
        auto pdu = step("pdu_mode", make_command("AT+CMGF=0", 2s), auto_mode ? p_pdu_mode_auto : p_pdu_mode, auto_mode);
        pdu.max_attempts = 5;
        pdu.retry_delay = 1s;
        v.push_back(std::move(pdu));
    }
    if (options.sms_mode != sms_mode_setting::pdu) {
        auto text = step("text_mode", make_command("AT+CMGF=1", 2s), p_text_mode, false);
        text.when = c_pdu_not_confirmed;
        text.max_attempts = 5;
        text.retry_delay = 1s;
        v.push_back(std::move(text));
        // The driver types GSM codes; other commands (USSD) expect that set too.
        auto charset = step("text_charset", make_cscs(text_charset::gsm, 2s), p_retry_on_error, false);
        charset.when = c_text_mode;
        charset.max_attempts = 2;
        charset.retry_delay = 1s;
        v.push_back(std::move(charset));
        auto sets = step("text_charsets", make_command("AT+CSCS=?", 2s), p_cscs_list, true);
        sets.when = c_text_mode;
        v.push_back(std::move(sets));
        auto headers = step("text_headers", make_command("AT+CSDH=1", 2s), p_csdh, true);
        headers.when = c_text_mode;
        v.push_back(std::move(headers));
    }
    v.push_back(step("sms_service", make_command("AT+CSMS?", 2s), p_csms, true));
    v.push_back(step("more_messages", make_command("AT+CMMS?", 2s), p_cmms, true));
    v.push_back(step("indications", make_command(std::string(vendor.cnmi), 2s), p_cnmi, true));
    auto fallback = step("indications_fallback", make_command(std::string(vendor.cnmi_fallback), 2s), p_cnmi_fallback, true);
    fallback.when = c_no_indications;
    v.push_back(std::move(fallback));

    v.push_back(step("operator_format", make_command("AT+COPS=3,0", 5s), p_default, true));
    v.push_back(step("operator", make_command("AT+COPS?", 10s), p_cops, true));
    v.push_back(step("registration", make_command("AT+CREG?", 2s), p_creg, true));
    v.push_back(step("signal", make_command("AT+CSQ", 2s), p_csq, true));
    v.push_back(step("smsc", make_command("AT+CSCA?", 5s), p_csca, true));
    if (options.query_own_number) v.push_back(step("own_number", make_command("AT+CNUM", 5s), p_cnum, true));
    return v;
}

// ------------------------------------------------------------------ runner

bringup::bringup(pin_latch& latch, bringup_options options) : options_(options) { ctx_.latch = &latch; }

bringup_action bringup::start() {
    pin_latch* latch = ctx_.latch;
    ctx_ = bringup_context{};
    ctx_.latch = latch;
    plan_ = probe_steps(options_);
    index_ = 0;
    attempts_ = 0;
    phase_ = phase::probe;
    finished_ = false;
    waiting_ = false;
    skipped_.clear();
    return advance();
}

bringup_action bringup::fail(bringup_error e, std::string detail) {
    finished_ = true;
    std::string name = index_ < plan_.size() ? std::string(plan_[index_].name) : std::string{};
    return bringup_actions::failed{e == bringup_error::none ? bringup_error::command_failed : e, std::move(name), std::move(detail)};
}

bringup_action bringup::send_current() {
    const bringup_step& s = plan_[index_];
    if (s.build) {
        auto cmd = s.build(ctx_);
        if (!cmd) return fail(bringup_error::invalid_pin_config, "command could not be built");
        return bringup_actions::send{std::move(*cmd)};
    }
    return bringup_actions::send{s.command};
}

bringup_action bringup::advance() {
    while (true) {
        while (index_ < plan_.size()) {
            const bringup_step& s = plan_[index_];
            if (s.when && !s.when(ctx_)) {
                ++index_;
                continue;
            }
            attempts_ = 1;
            return send_current();
        }
        if (phase_ == phase::probe) {
            const vendor_profile& v = options_.vendor ? *options_.vendor : vendor_for(ctx_.identity.manufacturer, ctx_.identity.model);
            ctx_.vendor = &v;
            ctx_.identity.vendor = std::string(v.name);
            plan_ = init_steps(v, options_);
            index_ = 0;
            phase_ = phase::init;
            continue;
        }
        finished_ = true;
        return bringup_actions::done{};
    }
}

bringup_action bringup::on_result(const at_result& r) {
    if (finished_ || waiting_ || index_ >= plan_.size())
        return bringup_actions::failed{bringup_error::command_failed, {}, "result out of sequence"};
    const bringup_step& s = plan_[index_];
    step_outcome o = s.process ? s.process(r, ctx_) : p_default(r, ctx_);
    if (o.verdict == step_verdict::next) {
        ++index_;
        return advance();
    }
    if (o.verdict == step_verdict::retry && !s.single_shot && attempts_ < s.max_attempts) {
        ++attempts_;
        if (s.retry_delay.count() > 0) {
            waiting_ = true;
            return bringup_actions::wait{s.retry_delay};
        }
        return send_current();
    }
    // Failed, or out of attempts.
    if (s.optional) {
        skipped_.emplace_back(s.name);
        ++index_;
        return advance();
    }
    return fail(o.error, std::move(o.detail));
}

bringup_action bringup::on_wait_done() {
    if (finished_ || !waiting_ || index_ >= plan_.size())
        return bringup_actions::failed{bringup_error::command_failed, {}, "wait out of sequence"};
    waiting_ = false;
    return send_current();
}

}  // namespace otppi::modem
