#include "otppi/api/service.hpp"

#include "otppi/api/protocol.hpp"
#include "otppi/api/request_body.hpp"
#include "otppi/core/files.hpp"
#include "otppi/core/json.hpp"
#include "otppi/core/log.hpp"
#include "otppi/otp/engine.hpp"
#include "otppi/otp/message.hpp"
#include "otppi/otp/throttle.hpp"
#include "reply_writer.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

namespace otppi::api {

using nlohmann::json;
using reply::append_json_string;
using reply::append_reply_value;
using reply::data_writer;
using reply::dump_reply;

namespace {

constexpr std::size_t max_field = 256;         // reference, params, id
constexpr std::size_t max_sms_bytes = 2000;    // ~13 concatenated GSM parts
constexpr auto idem_default_ttl = std::chrono::hours(1);
constexpr std::size_t idem_capacity = 100'000;
constexpr const char* default_otp_template = "Your OTP is %s";

// A field problem, reported as "data.<name>: <what>".
struct field_error {
    std::string text;
};

// Strings, or integers written as their decimal text (OTP-Pi's own example
// sends "id": 123456 though it documents a string). The text is moved out of
// the request: each command reads each field once.
std::optional<std::string> text_field(field_value& v, const char* name, bool required, std::size_t max_len, std::optional<field_error>& err,
                                      bool allow_integer = true) {
    if (v.missing()) {
        if (required) err = field_error{std::string("data.") + name + ": missing (required)"};
        return std::nullopt;
    }
    if (v.type != field_value::kind::string && !(allow_integer && v.is_integer())) {
        err = field_error{std::string("data.") + name +
                          (allow_integer ? ": expected string" : ": expected string (a number would lose leading zeros)") + ", got " +
                          v.type_name()};
        return std::nullopt;
    }
    if (v.text.size() > max_len) {
        err = field_error{std::string("data.") + name + ": longer than " + std::to_string(max_len) + " characters"};
        return std::nullopt;
    }
    if (required && v.text.empty()) {
        err = field_error{std::string("data.") + name + ": must not be empty"};
        return std::nullopt;
    }
    return std::move(v.text);
}

std::optional<std::int64_t> unix_field(const field_value& v, const char* name, std::optional<field_error>& err) {
    if (v.missing()) return std::nullopt;
    if (!v.is_integer()) {
        err = field_error{std::string("data.") + name + ": expected unix time in seconds (integer), got " + v.type_name()};
        return std::nullopt;
    }
    if (v.type == field_value::kind::unsigned_integer && v.unsigned_integer > static_cast<std::uint64_t>(INT64_MAX)) {
        err = field_error{std::string("data.") + name + ": out of range"};
        return std::nullopt;
    }
    const std::int64_t t = v.type == field_value::kind::unsigned_integer ? static_cast<std::int64_t>(v.unsigned_integer) : v.integer;
    // Milliseconds by mistake (OTP-Pi itself mixed the two up): say so rather
    // than keep an OTP "valid" for 50,000 years.
    if (t > 100'000'000'000LL) {
        err = field_error{std::string("data.") + name + ": looks like milliseconds; expected unix time in seconds"};
        return std::nullopt;
    }
    return t;
}

// Fields are read leniently (unknown fields ignored, as OTP-Pi did) but each
// one we use is typed and bounded. The first problem wins.
struct request_fields {
    std::optional<field_error> err;
    request_body& body;
    explicit request_fields(request_body& b) : body(b) {}
    std::optional<std::string> text(field f, bool required, std::size_t max_len = max_field) {
        if (err) return std::nullopt;
        return text_field(body[f], field_name(f), required, max_len, err);
    }
    std::optional<std::string> strict_text(field f, bool required, std::size_t max_len = max_field) {
        if (err) return std::nullopt;
        return text_field(body[f], field_name(f), required, max_len, err, false);
    }
    std::optional<std::int64_t> unix_time(field f) {
        if (err) return std::nullopt;
        return unix_field(body[f], field_name(f), err);
    }
};

// Every command takes receivers the same way: a string of 5..20 digits once
// normalised ('+' stripped, leading 0 -> country code).
std::optional<std::string> receiver_of(const std::string& raw, const std::string& country_code) {
    auto n = config::normalize_msisdn(raw, country_code);
    if (!n || n->size() < 5 || n->size() > 20) return std::nullopt;
    return n;
}

code code_of(otp::otp_status s) {
    switch (s) {
    case otp::otp_status::ok: return code::success;
    case otp::otp_status::duplicated: return code::duplicated;
    case otp::otp_status::expired: return code::expired;
    case otp::otp_status::invalid: return code::invalid_otp;
    case otp::otp_status::attempts_exhausted: return code::attempts_exhausted;
    case otp::otp_status::receiver_throttled: return code::receiver_throttled;
    case otp::otp_status::user_rate_limited: return code::rate_limited;
    case otp::otp_status::store_full: return code::queue_full;
    case otp::otp_status::bad_request: return code::malformed_request;
    case otp::otp_status::crypto_failure: return code::failed;
    }
    return code::failed;
}

code code_of(send_status s) {
    switch (s) {
    case send_status::sent: return code::success;
    case send_status::failed: return code::send_failed;
    case send_status::expired: return code::request_expired;
    case send_status::queue_full: return code::queue_full;
    case send_status::no_modem: return code::send_failed;
    case send_status::not_supported: return code::not_supported;
    }
    return code::send_failed;
}

otp::engine_config engine_config_from(const config::config& cfg) {
    otp::engine_config e;
    e.code_length = static_cast<std::size_t>(cfg.otp.length);
    e.default_expiration = std::chrono::seconds(cfg.otp.expiration_s);
    e.max_attempts = static_cast<std::uint32_t>(cfg.otp.max_attempts);
    e.receiver_max_issues = static_cast<std::uint32_t>(cfg.otp.resend_limit);
    e.receiver_window = std::chrono::seconds(cfg.otp.resend_window_s);
    e.user_max_issues = 0;  // the service applies one per-user limit to every sending command
    e.capacity = static_cast<std::size_t>(cfg.otp.capacity);
    e.scope = cfg.otp.reference_scope == "global" ? otp::reference_scope::global : otp::reference_scope::user;
    return e;
}

std::uint64_t user_key(const std::string& user) {
    // A stable 64-bit key for the throttle; collisions would only share a budget.
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : user) h = (h ^ c) * 1099511628211ULL;
    return h;
}

}  // namespace

// One API request waiting for its answer: answers once, then ignores later calls.
struct service::reply {
    http::responder respond;
    std::string command;
    json request_data;  // for echoing date_time etc.
    bool done = false;
    std::function<void()> cancel_wait;

    void send(code c, const json& data = nullptr, std::string message = {}) {
        send_with(
            c,
            [&data](std::string& out) {
                if (data.is_null()) return;
                out += ",\"data\":";
                append_reply_value(out, data);
            },
            std::move(message));
    }

    // As send(), with the data written by `write_data(body)`: nothing, or
    // ,"data":{...} (see data_writer).
    template <class WriteData>
    void send_with(code c, WriteData write_data, std::string message = {}) {
        if (done) return;
        done = true;
        if (cancel_wait) cancel_wait();
        // The envelope is written straight into the body (in OTP-Pi's key
        // order); building it as a JSON tree first was the largest cost of a
        // cached verify-otp after parsing.
        http::response res;
        res.status = http_status(c);
        std::string& out = res.body;
        out.reserve(256);
        out += '{';
        if (!command.empty()) {
            out += "\"command\":";
            append_json_string(out, command);
            out += ',';
        }
        out += "\"response_code\":\"";
        out += code_string(c);
        out += "\",\"message\":";
        append_json_string(out, message.empty() ? default_message(c) : std::string_view(message));
        write_data(out);
        out += '}';
        if (c == code::unauthorized) res.headers.emplace_back("WWW-Authenticate", "Basic realm=\"otppi\", charset=\"UTF-8\"");
        if (c == code::method_not_allowed) res.headers.emplace_back("Allow", "POST, PUT");
        respond(std::move(res));
    }
};

// send-sms idempotency by data.id: the first request sends, later ones with
// the same id share its outcome.
struct service::idem_entry {
    bool finished = false;
    code outcome = code::pending;
    json data;
    std::vector<reply_ptr> waiters;
    core::Clock::time_point expires;
};

service::service(const config::config& cfg, service_deps deps, std::span<const std::uint8_t> otp_key)
    : cfg_(cfg), deps_(std::move(deps)),
      auth_(deps_.users, deps_.clock, deps_.offload, deps_.post, cfg.api.auth_failures_per_minute),
      blocks_(cfg.state_dir, deps_.file_io, deps_.post, cfg.api.block_list_max_entries),
      engine_(std::make_unique<otp::engine>(engine_config_from(cfg), otp_key, deps_.clock)),
      user_limit_(std::make_unique<otp::sliding_window_throttle>(static_cast<std::uint32_t>(cfg.api.user_rate_limit_per_minute),
                                                                 std::chrono::minutes(1), deps_.clock.now())) {}

service::~service() {
    if (cancel_sweep_) cancel_sweep_();
}

std::string service::load_state() {
    auto err = blocks_.load();
    if (err.empty() && !blocks_.numbers().empty()) spdlog::info("block list: {} receiver(s) blocked", blocks_.numbers().size());
    return err;
}

std::size_t service::live_otps() const { return engine_->size(); }

void service::users_changed() { auth_.users_changed(); }

void service::apply_config(const config::config& cfg) {
    const bool engine_changed = cfg.otp.length != cfg_.otp.length || cfg.otp.expiration_s != cfg_.otp.expiration_s ||
                                cfg.otp.max_attempts != cfg_.otp.max_attempts || cfg.otp.resend_limit != cfg_.otp.resend_limit ||
                                cfg.otp.resend_window_s != cfg_.otp.resend_window_s || cfg.otp.capacity != cfg_.otp.capacity ||
                                cfg.otp.reference_scope != cfg_.otp.reference_scope;
    if (engine_changed)
        spdlog::warn(
            "reload: otp.length/expiration_s/max_attempts/resend/capacity/reference_scope changes apply after a restart (live OTPs are kept until then)");
    config::otp_config keep = cfg_.otp;
    cfg_ = cfg;
    cfg_.otp.length = keep.length;
    cfg_.otp.expiration_s = keep.expiration_s;
    cfg_.otp.max_attempts = keep.max_attempts;
    cfg_.otp.resend_limit = keep.resend_limit;
    cfg_.otp.resend_window_s = keep.resend_window_s;
    cfg_.otp.capacity = keep.capacity;
    cfg_.otp.reference_scope = keep.reference_scope;
    auth_.set_failures_per_minute(cfg.api.auth_failures_per_minute);
    blocks_.set_max_entries(cfg.api.block_list_max_entries);
    // Rebuilt only when the limit changed, so a reload does not hand every
    // user a fresh window.
    if (static_cast<std::uint32_t>(cfg.api.user_rate_limit_per_minute) != user_limit_->limit())
        user_limit_ = std::make_unique<otp::sliding_window_throttle>(static_cast<std::uint32_t>(cfg.api.user_rate_limit_per_minute),
                                                                     std::chrono::minutes(1), deps_.clock.now());
}

bool service::rate_limited(const std::string& user) { return !user_limit_->try_acquire(user_key(user), deps_.clock.now()); }

void service::arm_sweep() {
    if (sweep_armed_) return;
    auto next = engine_->next_deadline();
    if (!next) return;
    sweep_armed_ = true;
    auto delay = std::max(std::chrono::milliseconds(50), std::chrono::duration_cast<std::chrono::milliseconds>(*next - deps_.clock.now()));
    cancel_sweep_ = deps_.schedule(delay, [this] {
        sweep_armed_ = false;
        // Bounded work per tick keeps the loop responsive under a mass expiry.
        engine_->sweep(50'000);
        user_limit_->sweep(deps_.clock.now(), 50'000);
        const auto now = deps_.clock.now();
        while (!idem_order_.empty() && idem_order_.front().second <= now) {
            auto it = idempotency_.find(idem_order_.front().first);
            if (it != idempotency_.end() && it->second->finished && it->second->expires <= now) idempotency_.erase(it);
            idem_order_.pop_front();
        }
        arm_sweep();
    });
}

void service::handle(http::request req, http::responder respond) {
    ++counters_.requests;
    auto r = std::make_shared<reply>();
    r->respond = std::move(respond);
    if (req.method != "POST" && req.method != "PUT") return r->send(code::method_not_allowed);
    const auto path = req.path();
    const auto& p = cfg_.api.paths;
    if (path != p.otp && path != p.sms && path != p.message && path != p.email && path != p.block && path != p.unblock && path != p.modem &&
        path != p.ussd)
        return r->send(code::not_found, nullptr, "no such API path: " + path.substr(0, 200));
    // Cached credentials (keep-alive clients): answer straight away, without
    // keeping the request alive for a callback.
    if (std::string user; auth_.check_cached(req.authorization, req.remote_address, user)) return dispatch(user, req, r);
    auto request = std::make_shared<http::request>(std::move(req));
    auth_.check(request->authorization, request->remote_address, [this, r, request](auth_result result, std::string user) {
        switch (result) {
        case auth_result::ok: return dispatch(user, *request, r);
        case auth_result::throttled: ++counters_.auth_failures; return r->send(code::too_many_failures);
        case auth_result::busy: return r->send(code::queue_full, nullptr, "server busy verifying credentials, try again");
        case auth_result::malformed:
            ++counters_.auth_failures;
            return r->send(code::unauthorized, nullptr, "malformed Authorization header: expected Basic base64(user:password)");
        case auth_result::unauthorized:
            ++counters_.auth_failures;
            spdlog::info("api: authentication failed from {}", request->remote_address);
            return r->send(code::unauthorized, nullptr, request->authorization.empty() ? "authentication required: HTTP Basic with an API user"
                                                                                       : "unknown user or wrong password");
        }
    });
}

void service::dispatch(const std::string& user, const http::request& req, const reply_ptr& r) {
    request_body body = parse_request_body(req.body);
    if (body.result == request_body::verdict::not_json) return r->send(code::malformed_request, nullptr, "body is not valid JSON");
    if (body.result == request_body::verdict::too_deep)
        return r->send(code::malformed_request, nullptr, "body: " + core::too_deep_message(core::max_json_depth, body.error_offset));
    if (body.result == request_body::verdict::not_object)
        return r->send(code::malformed_request, nullptr, "body must be a JSON object {\"command\": ..., \"data\": {...}}");
    if (body.command.type != field_value::kind::string)
        return r->send(code::malformed_request, nullptr, "command: missing or not a string");
    r->command = std::move(body.command.text);
    if (r->command.size() > 64) r->command.resize(64);
    const std::string& cmd = r->command;
    if (cmd == "echo") {
        // OTP-Pi answers echo with the request itself: the one command that
        // needs the whole document (the body is known to parse).
        auto parsed = core::parse_json_limited(req.body);
        // nlohmann's syntax message quotes the bytes it stopped at: not for a reply.
        if (!parsed.ok())
            return r->send(code::malformed_request, nullptr,
                           parsed.error->what == core::json_error::kind::too_deep ? "body: " + parsed.error->message : "body is not valid JSON");
        json& doc = parsed.value;
        doc["response_code"] = code_string(code::success);
        doc["message"] = default_message(code::success);
        r->done = true;
        http::response res;
        res.body = dump_reply(doc);
        return r->respond(std::move(res));
    }
    if (body.data.present() && body.data.type != field_value::kind::object && body.data.type != field_value::kind::null)
        return r->send(code::malformed_request, nullptr, std::string("data: expected object, got ") + body.data.type_name());
    if (body.date_time) r->request_data["date_time"] = std::move(*body.date_time);

    if (cmd == "request-otp") return cmd_request_otp(r, body, user);
    if (cmd == "verify-otp") return cmd_verify_otp(r, body, user);
    if (cmd == "check-otp" || cmd == "validate-otp") return cmd_check_otp(r, body, user);
    if (cmd == "send-sms") return cmd_send_sms(r, body, user);
    if (cmd == "send-message") {
        if (const auto& rc = body[field::receiver]; rc.type == field_value::kind::string && rc.text.find('@') != std::string::npos)
            return r->send(code::not_configured);
        return cmd_send_sms(r, body, user);
    }
    if (cmd == "send-email" || cmd == "send-mail") return r->send(code::not_configured);
    if (cmd == "block-msisdn") return cmd_block(r, body, true, user);
    if (cmd == "unblock-msisdn") return cmd_block(r, body, false, user);
    if (cmd == "get-modem-list") return cmd_modem_list(r);
    if (cmd == "request-ussd") return cmd_ussd(r, body);
    r->send(code::unknown_command, nullptr,
            "unknown command '" + cmd +
                "': expected request-otp, verify-otp, check-otp, send-sms, send-message, send-email, block-msisdn, unblock-msisdn, "
                "get-modem-list, request-ussd or echo");
}

void service::cmd_request_otp(const reply_ptr& r, request_body& body, const std::string& user) {
    request_fields f(body);
    auto receiver_raw = f.strict_text(field::receiver, true, 32);
    auto reference = f.text(field::reference, true);
    std::array<std::optional<std::string>, 4> params{f.text(field::param1, false), f.text(field::param2, false),
                                                     f.text(field::param3, false), f.text(field::param4, false)};
    auto message = f.text(field::message, false, 640);
    auto language = f.text(field::language, false, 35);
    auto channel = f.text(field::channel, false, 16);
    auto expiration = f.unix_time(field::expiration);
    if (f.err) return r->send(code::malformed_request, nullptr, f.err->text);
    auto receiver = receiver_of(*receiver_raw, cfg_.sms.country_code);
    if (!receiver) return r->send(code::malformed_request, nullptr, "data.receiver: expected a phone number (5-20 digits, optional leading + or 0)");
    const bool voice = channel && *channel == "voice";
    if (channel && !voice && *channel != "sms") return r->send(code::malformed_request, nullptr, "data.channel: expected \"sms\" or \"voice\"");

    // The text template: the client's, else the configured one for its language, else ours.
    std::string tmpl = default_otp_template;
    if (message && !message->empty()) {
        if (auto e = otp::check_template(*message))
            return r->send(code::malformed_request, nullptr, "data.message: " + e->message);
        tmpl = *message;
    } else if (const auto* t = otp::select_template(cfg_.otp.templates, language.value_or(""), "en")) {
        tmpl = *t;
    }
    json reply_data = r->request_data;
    reply_data["receiver"] = *receiver_raw;
    reply_data["reference"] = *reference;
    if (blocks_.contains(*receiver)) return r->send(code::receiver_blocked, reply_data);
    if (rate_limited(user)) return r->send(code::rate_limited, reply_data);

    otp::issue_request ir;
    ir.reference = *reference;
    ir.receiver = *receiver;
    for (std::size_t i = 0; i < 4; ++i) ir.params[i] = params[i] ? std::string_view(*params[i]) : std::string_view();
    ir.expiration = expiration;
    auto issued = engine_->issue(ir, user);
    if (issued.status != otp::otp_status::ok) {
        if (issued.status == otp::otp_status::expired) return r->send(code::request_expired, reply_data, "data.expiration is not in the future");
        ++counters_.otp_rejected;
        return r->send(code_of(issued.status), reply_data);
    }
    ++counters_.otp_issued;
    arm_sweep();
    const auto expires_at = issued.expires_at_unix;

    outgoing_sms msg;
    msg.receiver = *receiver;
    msg.expires_unix = issued.expires_at_unix;
    msg.is_otp = true;
    msg.voice = voice;
    if (voice) {
        msg.text = otp::spoken_digits(issued.code.view(), language.value_or("en"));
    } else {
        auto filled = otp::fill_template(tmpl, issued.code.view());
        if (!filled) {  // cannot happen: the template was checked above
            engine_->cancel(*reference, user);
            return r->send(code::failed, reply_data);
        }
        msg.text = std::move(*filled);
    }
    issued.code.clear();
    spdlog::debug("api: request-otp user={} receiver={} ttl={}s", user, core::mask_msisdn(*receiver), issued.ttl.count());
    const std::string ref = *reference;
    json pending_data = reply_data;
    pending_data["expires_at"] = expires_at;
    send_and_reply(r, std::move(msg), pending_data, [this, r, ref, user, reply_data, expires_at](const send_result& res) mutable {
        // A code that never left the device must not block its reference.
        if (res.status != send_status::sent) engine_->cancel(ref, user);
        if (res.status == send_status::sent) {
            reply_data["expires_at"] = expires_at;
            if (!res.modem_id.empty()) reply_data["modem_id"] = res.modem_id;
        }
        r->send(code_of(res.status), reply_data, res.status == send_status::sent ? std::string{} : res.error);
    });
}

void service::cmd_verify_otp(const reply_ptr& r, request_body& body, const std::string& user) {
    request_fields f(body);
    auto receiver_raw = f.strict_text(field::receiver, true, 32);
    auto reference = f.text(field::reference, true);
    auto code_text = f.strict_text(field::otp, true, 16);
    std::array<std::optional<std::string>, 4> params{f.text(field::param1, false), f.text(field::param2, false),
                                                     f.text(field::param3, false), f.text(field::param4, false)};
    if (f.err) return r->send(code::malformed_request, nullptr, f.err->text);
    auto receiver = receiver_of(*receiver_raw, cfg_.sms.country_code);
    if (!receiver) return r->send(code::malformed_request, nullptr, "data.receiver: expected a phone number (5-20 digits, optional leading + or 0)");
    otp::verify_request vr;
    vr.api_user = user;
    vr.reference = *reference;
    vr.receiver = *receiver;
    vr.code = *code_text;
    for (std::size_t i = 0; i < 4; ++i) vr.params[i] = params[i] ? std::string_view(*params[i]) : std::string_view();
    auto res = engine_->verify(vr);
    if (res.status == otp::otp_status::ok)
        ++counters_.otp_verified;
    else
        ++counters_.otp_rejected;
    // The hottest reply: written without a JSON object, keys in sorted order.
    r->send_with(code_of(res.status), [&](std::string& out) {
        data_writer d(out);
        if (res.status == otp::otp_status::invalid) d.number("attempts_left", res.attempts_left);
        if (auto dt = r->request_data.find("date_time"); dt != r->request_data.end()) d.value("date_time", *dt);
        d.text("receiver", *receiver_raw);
        d.text("reference", *reference);
    });
}

void service::cmd_check_otp(const reply_ptr& r, request_body& body, const std::string& user) {
    request_fields f(body);
    auto reference = f.text(field::reference, true);
    if (f.err) return r->send(code::malformed_request, nullptr, f.err->text);
    auto st = engine_->status(*reference, user);
    json reply_data = r->request_data;
    reply_data["reference"] = *reference;
    reply_data["live"] = st.status == otp::otp_status::ok;
    if (st.status == otp::otp_status::ok) {
        reply_data["expires_in"] = st.remaining.count();
        reply_data["attempts_left"] = st.attempts_left;
    }
    r->send(st.status == otp::otp_status::ok ? code::success : code::expired, reply_data,
            st.status == otp::otp_status::ok ? "OTP is live" : std::string{});
}

void service::cmd_send_sms(const reply_ptr& r, request_body& body, const std::string& user) {
    request_fields f(body);
    auto receiver_raw = f.strict_text(field::receiver, true, 32);
    auto message = f.text(field::message, true, max_sms_bytes);
    auto id = f.text(field::id, false);
    auto expiration = f.unix_time(field::expiration);
    if (f.err) return r->send(code::malformed_request, nullptr, f.err->text);
    auto receiver = receiver_of(*receiver_raw, cfg_.sms.country_code);
    if (!receiver) return r->send(code::malformed_request, nullptr, "data.receiver: expected a phone number (5-20 digits, optional leading + or 0)");
    json reply_data = r->request_data;
    // The id as it came: a string, or an integer (its text was moved into `id`).
    if (id) reply_data["id"] = body[field::id].type == field_value::kind::string ? json(*id) : body[field::id].to_json();
    reply_data["receiver"] = *receiver_raw;
    const auto now_unix = deps_.clock.unix_seconds();
    // OTP-Pi compared seconds with milliseconds here; we compare seconds.
    if (expiration && *expiration <= now_unix) return r->send(code::request_expired, reply_data);
    if (blocks_.contains(*receiver)) return r->send(code::receiver_blocked, reply_data);

    std::string idem_key;
    if (id && !id->empty()) {
        idem_key = user + '\0' + *id;
        auto it = idempotency_.find(idem_key);
        if (it != idempotency_.end() && it->second->expires > deps_.clock.now()) {
            auto& e = *it->second;
            if (!e.finished) {
                // Shares the first request's outcome, within the same bounded wait.
                e.waiters.push_back(r);
                r->cancel_wait = deps_.schedule(std::chrono::seconds(cfg_.api.reply_wait_s), [r, reply_data]() mutable {
                    r->cancel_wait = nullptr;
                    reply_data["duplicate"] = true;
                    r->send(code::pending, reply_data);
                });
                return;
            }
            json d = e.data;
            d["duplicate"] = true;
            return r->send(e.outcome, d, "duplicate id: already sent, not sent again");
        }
    }
    if (rate_limited(user)) return r->send(code::rate_limited, reply_data);

    std::shared_ptr<idem_entry> entry;
    if (!idem_key.empty()) {
        if (idempotency_.size() >= idem_capacity) {
            // Oldest first; an unfinished one stays (it still has a request waiting).
            while (!idem_order_.empty() && idempotency_.size() >= idem_capacity) {
                auto old = idempotency_.find(idem_order_.front().first);
                if (old != idempotency_.end() && old->second->finished) idempotency_.erase(old);
                idem_order_.pop_front();
            }
        }
        entry = std::make_shared<idem_entry>();
        const auto ttl = expiration ? std::chrono::seconds(*expiration - now_unix) : std::chrono::duration_cast<std::chrono::seconds>(idem_default_ttl);
        entry->expires = deps_.clock.now() + std::chrono::duration_cast<core::Clock::duration>(ttl);
        idempotency_[idem_key] = entry;
        idem_order_.emplace_back(idem_key, entry->expires);
        arm_sweep();
    }

    outgoing_sms msg;
    msg.receiver = *receiver;
    msg.text = core::secure_string(*message);
    msg.expires_unix = expiration.value_or(0);
    msg.client_id = id.value_or("");
    spdlog::debug("api: send-sms user={} receiver={}", user, core::mask_msisdn(*receiver));
    send_and_reply(r, std::move(msg), reply_data, [this, r, reply_data, entry, idem_key](const send_result& res) mutable {
        if (res.status == send_status::sent) {
            reply_data["modem_id"] = res.modem_id;
            reply_data["message_reference"] = res.message_reference;
            reply_data["parts"] = res.parts;
        }
        const code c = code_of(res.status);
        r->send(c, reply_data, res.status == send_status::sent ? std::string{} : res.error);
        if (!entry) return;
        entry->finished = true;
        entry->outcome = c;
        entry->data = reply_data;
        for (auto& w : entry->waiters) {
            json d = reply_data;
            d["duplicate"] = true;
            w->send(c, d, "duplicate id: shares the outcome of the first request");
        }
        entry->waiters.clear();
        // Only a message that went out is protected against resending; a
        // failed one may be retried with the same id.
        if (res.status != send_status::sent) idempotency_.erase(idem_key);
    });
}

void service::send_and_reply(const reply_ptr& r, outgoing_sms msg, json pending_data, std::function<void(const send_result&)> after) {
    // Bounded wait: past api.reply_wait_s the client learns the message is
    // queued (1308); the send goes on, and its outcome is counted and written
    // to the SMS log by the pool.
    r->cancel_wait = deps_.schedule(std::chrono::seconds(cfg_.api.reply_wait_s), [r, pending_data = std::move(pending_data)] {
        r->cancel_wait = nullptr;
        r->send(code::pending, pending_data);
    });
    deps_.gateway.send(std::move(msg), [this, after = std::move(after)](send_result res) {
        if (res.status == send_status::sent)
            ++counters_.sms_sent;
        else
            ++counters_.sms_failed;
        after(res);
    });
}

void service::cmd_block(const reply_ptr& r, request_body& body, bool block, const std::string& user) {
    request_fields f(body);
    // OTP-Pi's README names the field "receiver" in the example and "msisdn" in the table.
    const field which = body[field::receiver].present() ? field::receiver : field::msisdn;
    const char* field_name = api::field_name(which);
    auto receiver_raw = f.strict_text(which, true, 32);
    if (f.err) return r->send(code::malformed_request, nullptr, f.err->text);
    auto receiver = receiver_of(*receiver_raw, cfg_.sms.country_code);
    if (!receiver)
        return r->send(code::malformed_request, nullptr, std::string("data.") + field_name + ": expected a phone number (5-20 digits, optional leading + or 0)");
    json reply_data = r->request_data;
    // The reply names the number `receiver` whichever name it came under (as
    // docs/api.md says); a client that sent OTP-Pi's `msisdn` also finds it
    // back under that name.
    reply_data["receiver"] = *receiver_raw;
    if (which == field::msisdn) reply_data["msisdn"] = *receiver_raw;
    reply_data["blocked"] = block;
    // Answered only once the change is on disk: an accepted block survives a crash.
    set_blocked("api user '" + user + "'", *receiver, block, [r, reply_data, block](block_outcome o) mutable {
        switch (o.result) {
        case block_outcome::status::changed: return r->send(code::success, reply_data);
        case block_outcome::status::unchanged: return r->send(code::success, reply_data, block ? "already blocked" : "was not blocked");
        case block_outcome::status::rate_limited: return r->send(code::rate_limited, reply_data, o.error);
        case block_outcome::status::full: return r->send(code::failed, reply_data, o.error);
        case block_outcome::status::failed:
            return r->send(code::failed, reply_data, "block list changed in memory but could not be saved: " + o.error);
        }
    });
}

void service::cmd_modem_list(const reply_ptr& r) {
    json reply_data = r->request_data;
    reply_data["modem_list"] = deps_.gateway.modem_list();
    r->send(code::success, reply_data);
}

void service::cmd_ussd(const reply_ptr& r, request_body& body) {
    request_fields f(body);
    auto modem_id = f.text(field::modem_id, true, 64);
    auto ussd_code = f.text(field::ussd_code, true, 64);
    if (f.err) return r->send(code::malformed_request, nullptr, f.err->text);
    for (char c : *ussd_code)
        if (!std::isdigit(static_cast<unsigned char>(c)) && c != '*' && c != '#' && c != '+')
            return r->send(code::malformed_request, nullptr, "data.ussd_code: only digits, '*', '#' and '+' are allowed");
    json reply_data = r->request_data;
    reply_data["modem_id"] = *modem_id;
    reply_data["ussd_code"] = *ussd_code;
    deps_.gateway.ussd(*modem_id, *ussd_code, [r, reply_data](ussd_result res) mutable {
        if (res.unknown_modem) return r->send(code::unknown_modem, reply_data);
        if (!res.ok) return r->send(code::failed, reply_data, res.error.empty() ? "USSD failed" : res.error);
        reply_data["ussd_response"] = res.text;
        // OTP-Pi answered with these names; keep both for its clients.
        reply_data["ussd_content"] = res.text;
        reply_data["ussd_content_raw"] = res.raw;
        reply_data["replyable"] = res.replyable;
        r->send(code::success, reply_data);
    });
}

}  // namespace otppi::api
