// The admin JSON API's calls (docs/admin-api.md), one function per resource.
#include "service_impl.hpp"

#include "otppi/api/service.hpp"
#include "otppi/auth/password.hpp"
#include "otppi/auth/user_store.hpp"
#include "otppi/core/files.hpp"
#include "otppi/core/log.hpp"
#include "otppi/modem/modem.hpp"
#include "otppi/pool/pool.hpp"
#include "otppi/pool/sms_log.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>

namespace otppi::admin {

namespace {

constexpr std::size_t min_password = 8;
constexpr std::size_t max_password = 1024;
constexpr std::size_t max_message_bytes = 2000;  // as the REST API: ~13 GSM parts

// A string field of the body, or nullopt with `error` set to a sentence.
std::optional<std::string> text(const json& body, const char* name, std::size_t max_len, std::string& error, bool required = true) {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) {
        if (required && error.empty()) error = std::string(name) + ": required";
        return std::nullopt;
    }
    if (!it->is_string()) {
        if (error.empty()) error = std::string(name) + ": expected text";
        return std::nullopt;
    }
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > max_len) {
        if (error.empty()) error = std::string(name) + ": at most " + std::to_string(max_len) + " characters";
        return std::nullopt;
    }
    if (required && s.empty()) {
        if (error.empty()) error = std::string(name) + ": must not be empty";
        return std::nullopt;
    }
    return s;
}

std::string password_problem(const std::string& p) {
    if (p.size() < min_password) return "The password needs at least " + std::to_string(min_password) + " characters.";
    if (p.size() > max_password) return "The password is too long (at most " + std::to_string(max_password) + " characters).";
    return {};
}

void wipe(std::string& s) {
    if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
    s.clear();
}

// Verifying against this when the user does not exist makes an unknown name
// cost as much time as a wrong password.
const std::string& dummy_hash() {
    static const std::string h = auth::hash_password("otppi timing equaliser");
    return h;
}

bool all_digits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

int modem_error_status(const std::string& error) {
    return error.find("timed out") != std::string::npos || error.find("timeout") != std::string::npos || error.find("did not answer") != std::string::npos
               ? 504
               : 502;
}

// One line of the SMS log: time,"modem","receiver","kind",parts,"status",mr,"error".
std::vector<std::string> csv_fields(std::string_view line) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        char ch = line[i];
        if (quoted) {
            if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                cur += '"';
                ++i;
            } else if (ch == '"') {
                quoted = false;
            } else {
                cur += ch;
            }
        } else if (ch == '"') {
            quoted = true;
        } else if (ch == ',') {
            out.push_back(std::move(cur));
            cur.clear();
        } else {
            cur += ch;
        }
    }
    out.push_back(std::move(cur));
    return out;
}

std::int64_t parse_iso(const std::string& s) {
    std::tm tm{};
    if (!strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return 0;
    return static_cast<std::int64_t>(timegm(&tm));
}


// What differs between the saved and the running configuration and only
// takes effect after a restart (listeners, TLS files, state_dir, the OTP
// engine's parameters).
json restart_required(const config::config& saved, const config::config& running, const config::otp_config& engine) {
    json out = json::array();
    auto listener_changed = [](const config::listener& a, const config::listener& b) { return a.enabled != b.enabled || a.bind != b.bind || a.port != b.port; };
    if (listener_changed(saved.api.http, running.api.http)) out.push_back("api.http");
    if (listener_changed(saved.api.https, running.api.https) || saved.api.https.cert_file != running.api.https.cert_file ||
        saved.api.https.key_file != running.api.https.key_file)
        out.push_back("api.https");
    if (saved.admin.bind != running.admin.bind || saved.admin.port != running.admin.port || saved.admin.https != running.admin.https ||
        saved.admin.cert_file != running.admin.cert_file || saved.admin.key_file != running.admin.key_file || saved.admin.enabled != running.admin.enabled)
        out.push_back("admin");
    if (saved.state_dir != running.state_dir) out.push_back("state_dir");
    const auto& o = saved.otp;
    if (o.length != engine.length || o.expiration_s != engine.expiration_s || o.max_attempts != engine.max_attempts ||
        o.resend_limit != engine.resend_limit || o.resend_window_s != engine.resend_window_s || o.capacity != engine.capacity ||
        o.reference_scope != engine.reference_scope)
        out.push_back("otp");
    return out;
}

}  // namespace

std::vector<std::vector<std::string>> read_sms_log_day(const std::string& state_dir, const std::string& day) {
    std::vector<std::vector<std::string>> rows;
    auto text = core::read_file(state_dir + "/sms-log/" + day + ".csv", nullptr, 64 * 1024 * 1024);
    if (!text) return rows;
    std::size_t pos = 0;
    while (pos < text->size()) {
        auto end = text->find('\n', pos);
        if (end == std::string::npos) end = text->size();
        auto f = csv_fields(std::string_view(text->data() + pos, end - pos));
        pos = end + 1;
        if (f.size() < 8 || f[0] == "time") continue;  // not an entry, or the file's header line
        rows.push_back(std::move(f));
    }
    return rows;
}

// ------------------------------------------------------------- sessions

void service::impl::get_session(const call_ptr& c) {
    auto* s = session_of(c);
    std::vector<std::pair<std::string, std::string>> extra;
    if (!s) {
        std::string id;
        s = &sessions.create(id);
        c->session_id = id;
        extra.emplace_back("Set-Cookie", cookie_for(id, c->tls));
    }
    reply(c, 200,
          {{"setup_required", deps.users.empty(auth::user_kind::admin)},
           {"logged_in", s->logged_in()},
           {"user", s->user},
           {"csrf_token", s->csrf_token},
           {"device_name", cfg().device_name},
           {"version", OTPPI_VERSION}},
          std::move(extra));
}

void service::impl::setup(const call_ptr& c) {
    if (!deps.users.empty(auth::user_kind::admin)) return fail(c, 409, "An administrator already exists. Please log in.");
    std::string error;
    auto name = text(c->body, "username", 64, error);
    auto password = text(c->body, "password", max_password, error);
    if (!error.empty()) return fail(c, 400, error, {error});
    if (!auth::user_store::valid_name(*name)) return fail(c, 400, "User name: 1 to 64 of the letters A-Z, a-z, digits and . _ @ -", {"username: invalid"});
    if (auto p = password_problem(*password); !p.empty()) return fail(c, 400, p, {"password: " + p});
    deps.offload([this, c, name = *name, password = *password]() mutable {
        auto hash = auth::hash_password(password);
        wipe(password);
        deps.post([this, c, name, hash] {
            if (!deps.users.empty(auth::user_kind::admin)) return fail(c, 409, "An administrator already exists. Please log in.");
            if (hash.empty()) return fail(c, 500, "The password could not be hashed (random number generator failure).");
            deps.users.put(auth::user_kind::admin, name, {hash, deps.clock.unix_seconds()});
            save_users([this, c, name](std::string err) {
                if (!err.empty()) {
                    deps.users.remove(auth::user_kind::admin, name);
                    return fail(c, 500, "The administrator could not be saved: " + err);
                }
                spdlog::info("admin: first administrator '{}' created from {}", name, c->req.remote_address);
                std::string id;
                auto& s = sessions.login(c->session_id, name, id);
                reply(c, 201, {{"user", name}, {"csrf_token", s.csrf_token}}, {{"Set-Cookie", cookie_for(id, c->tls)}});
            });
        });
    });
}

void service::impl::login(const call_ptr& c) {
    const auto key = static_cast<std::uint64_t>(std::hash<std::string>{}(c->req.remote_address));
    const auto now = deps.clock.now();
    login_failures.sweep(now, 64);
    if (!login_failures.allowed(key, now)) {
        const auto wait = std::chrono::duration_cast<std::chrono::seconds>(login_failures.retry_at(key, now) - now).count() + 1;
        reply(c, 429, {{"error", "Too many failed logins from your address. Try again in " + std::to_string(wait) + " seconds."}},
              {{"Retry-After", std::to_string(wait)}});
        return;
    }
    std::string error;
    auto name = text(c->body, "username", 64, error);
    auto password = text(c->body, "password", max_password, error);
    if (!error.empty()) return fail(c, 400, error, {error});
    const auto* rec = deps.users.find(auth::user_kind::admin, *name);
    std::string hash = rec ? rec->password_hash : std::string();
    deps.offload([this, c, key, name = *name, password = *password, hash]() mutable {
        const bool ok = hash.empty() ? (auth::verify_password(password, dummy_hash()) && false) : auth::verify_password(password, hash);
        wipe(password);
        deps.post([this, c, key, name, ok] {
            if (!ok || !deps.users.find(auth::user_kind::admin, name)) {
                login_failures.record(key, deps.clock.now());
                spdlog::warn("admin: failed login from {}", c->req.remote_address);
                return fail(c, 401, "Wrong user name or password.");
            }
            std::string id;
            auto& s = sessions.login(c->session_id, name, id);
            spdlog::info("admin: '{}' logged in from {}", name, c->req.remote_address);
            reply(c, 200, {{"user", name}, {"csrf_token", s.csrf_token}}, {{"Set-Cookie", cookie_for(id, c->tls)}});
        });
    });
}

void service::impl::logout(const call_ptr& c) {
    sessions.remove(c->session_id);
    reply(c, 200, json::object(), {{"Set-Cookie", std::string("otppi_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict") + (c->tls ? "; Secure" : "")}});
}

void service::impl::change_password(const call_ptr& c) {
    std::string error;
    auto current = text(c->body, "current_password", max_password, error);
    auto next = text(c->body, "new_password", max_password, error);
    if (!error.empty()) return fail(c, 400, error, {error});
    if (auto p = password_problem(*next); !p.empty()) return fail(c, 400, p, {"new_password: " + p});
    const std::string user = session_of(c)->user;
    const auto* rec = deps.users.find(auth::user_kind::admin, user);
    if (!rec) return fail(c, 401, "Your account no longer exists.");
    deps.offload([this, c, user, current = *current, next = *next, stored = rec->password_hash]() mutable {
        const bool ok = auth::verify_password(current, stored);
        std::string hash = ok ? auth::hash_password(next) : std::string();
        wipe(current);
        wipe(next);
        deps.post([this, c, user, ok, hash] {
            if (!ok) return fail(c, 400, "The current password is wrong.", {"current_password: wrong password"});
            const auto* stored_rec = deps.users.find(auth::user_kind::admin, user);
            if (!stored_rec || hash.empty()) return fail(c, 500, "The password could not be changed.");
            auto updated = *stored_rec;
            updated.password_hash = hash;
            deps.users.put(auth::user_kind::admin, user, updated);
            save_users([this, c, user](std::string err) {
                if (!err.empty()) return fail(c, 500, "The new password could not be saved: " + err);
                std::string id;
                auto& s = sessions.login(c->session_id, user, id);
                sessions.remove_user(user, id);
                spdlog::info("admin: '{}' changed their password", user);
                reply(c, 200, {{"csrf_token", s.csrf_token}}, {{"Set-Cookie", cookie_for(id, c->tls)}});
            });
        });
    });
}

void service::impl::save_users(std::function<void(std::string error)> done) {
    // A copy is written by the file executor; the store itself stays on the io thread.
    auto copy = std::make_shared<auth::user_store>(deps.users);
    deps.file_io([this, copy, done = std::move(done)]() mutable {
        auto err = copy->save();
        deps.post([err = std::move(err), done = std::move(done)] { done(err); });
    });
}

// ------------------------------------------------------------- modems

namespace {
json* find_modem(json& doc, const std::string& id) {
    for (auto& m : doc["modems"])
        if (m.value("id", "") == id) return &m;
    return nullptr;
}
}  // namespace

void service::impl::modems(const call_ptr& c) {
    if (c->req.method == "GET") return reply(c, 200, {{"modems", modems_json()}});
    if (c->req.method != "POST") return fail(c, 405, "Use GET or POST.");
    auto body = c->body;
    if (!body.contains("id") || !body["id"].is_string()) return fail(c, 400, "id: required", {"id: required"});
    const std::string id = body["id"];
    change_config(
        c,
        [id, body](json& doc) -> std::string {
            if (find_modem(doc, id)) return "409 A modem with the id '" + id + "' exists already.";
            doc["modems"].push_back(body);
            return {};
        },
        [this, c, id](const config::config&) {
            spdlog::info("admin: modem {} added", id);
            for (auto& m : modems_json())
                if (m["id"] == id) return reply(c, 201, {{"modem", m}});
            reply(c, 201, json::object());
        });
}

void service::impl::modem_action(const call_ptr& c) {
    const std::string id = c->segments[1];
    const auto& method = c->req.method;
    const auto n = c->segments.size();
    auto has_modem = std::any_of(cfg().modems.begin(), cfg().modems.end(), [&](const auto& m) { return m.id == id; });
    if (!has_modem) return fail(c, 404, "There is no modem '" + id.substr(0, 64) + "'.");
    auto reply_modem = [this, c, id](const config::config&) {
        for (auto& m : modems_json())
            if (m["id"] == id) return reply(c, 200, {{"modem", m}});
        reply(c, 200, json::object());
    };
    if (n == 2 && method == "PUT") {
        auto body = c->body;
        if (body.contains("id") && body["id"] != id) return fail(c, 400, "The id of a modem cannot be changed; remove it and add it again.", {"id: cannot be changed"});
        body.erase("id");
        return change_config(
            c,
            [id, body](json& doc) -> std::string {
                auto* m = find_modem(doc, id);
                if (!m) return "404 There is no modem '" + id + "'.";
                for (auto& [k, v] : body.items()) (*m)[k] = v;
                return {};
            },
            reply_modem);
    }
    if (n == 2 && method == "DELETE") {
        return change_config(
            c,
            [id](json& doc) -> std::string {
                auto& list = doc["modems"];
                for (auto it = list.begin(); it != list.end(); ++it)
                    if (it->value("id", "") == id) {
                        list.erase(it);
                        return {};
                    }
                return "404 There is no modem '" + id + "'.";
            },
            [this, c, id](const config::config&) {
                spdlog::info("admin: modem {} removed", id);
                reply(c, 200, json::object());
            });
    }
    if (n != 3 || method != "POST") return fail(c, 404, "Unknown modem action.");
    const auto& action = c->segments[2];
    if (action == "connect" || action == "disconnect") {
        const bool active = action == "connect";
        return change_config(
            c,
            [id, active](json& doc) -> std::string {
                (*find_modem(doc, id))["active"] = active;
                return {};
            },
            reply_modem);
    }
    auto* dev = deps.pool.find(id);
    if (!dev || !dev->ready()) return fail(c, 503, "Modem '" + id + "' is not connected and ready.");
    if (action == "sim-lock") {
        auto enable = c->body.find("enable");
        std::string error;
        auto pin = text(c->body, "pin", 8, error);
        if (enable == c->body.end() || !enable->is_boolean()) return fail(c, 400, "enable: expected true or false", {"enable: expected true or false"});
        if (!error.empty()) return fail(c, 400, error, {error});
        if (pin->size() < 4 || !all_digits(*pin)) return fail(c, 400, "The PIN is 4 to 8 digits.", {"pin: expected 4 to 8 digits"});
        const bool on = enable->get<bool>();
        dev->set_sim_lock(on, *pin, [this, c, id, on, pin = *pin](bool ok, std::string err) {
            if (!ok) return fail(c, modem_error_status(err), "The modem refused: " + err);
            spdlog::info("admin: SIM PIN lock of modem {} turned {}", id, on ? "on" : "off");
            if (!on) return reply(c, 200, json::object());
            // The PIN is now needed at every start: keep it in the config so
            // the modem unlocks its SIM after a restart.
            change_config(
                c,
                [id, pin](json& doc) -> std::string {
                    if (auto* m = find_modem(doc, id)) (*m)["sim_pin"] = pin;
                    return {};
                },
                [this, c](const config::config&) { reply(c, 200, json::object()); });
        });
        return;
    }
    if (action == "imei") {
        std::string error;
        auto imei = text(c->body, "imei", 15, error);
        if (!error.empty()) return fail(c, 400, error, {error});
        if (imei->size() != 15 || !all_digits(*imei)) return fail(c, 400, "An IMEI is 15 digits.", {"imei: expected 15 digits"});
        dev->change_imei(*imei, [this, c, id](bool ok, std::string err) {
            if (!ok) return fail(c, modem_error_status(err), "The IMEI was not changed: " + err);
            spdlog::info("admin: IMEI of modem {} changed", id);
            reply(c, 200, json::object());
        });
        return;
    }
    fail(c, 404, "Unknown modem action '" + action.substr(0, 32) + "'.");
}

// ------------------------------------------------------------- SMS, inbox, USSD

void service::impl::send_sms(const call_ptr& c) {
    std::string error;
    auto modem_id = text(c->body, "modem_id", 64, error, false);
    auto receiver_raw = text(c->body, "receiver", 32, error);
    auto message = text(c->body, "message", max_message_bytes, error);
    if (!error.empty()) return fail(c, 400, error, {error});
    auto receiver = config::normalize_msisdn(*receiver_raw, cfg().sms.country_code);
    if (!receiver || receiver->size() < 5 || receiver->size() > 20)
        return fail(c, 400, "The receiver is not a phone number (5 to 20 digits, with an optional leading + or 0).", {"receiver: not a phone number"});
    if (deps.api.blocks().contains(*receiver)) return fail(c, 400, "This number is on the block list.", {"receiver: blocked"});
    api::outgoing_sms msg;
    msg.receiver = *receiver;
    msg.text = otp::secure_string(*message);
    if (modem_id && !modem_id->empty()) {
        if (!deps.pool.find(*modem_id)) return fail(c, 404, "There is no modem '" + *modem_id + "'.");
        msg.modem_id = *modem_id;
    }
    c->body.erase("message");  // no copy of the text outlives the send
    deps.pool.send(std::move(msg), [this, c](api::send_result r) {
        switch (r.status) {
        case api::send_status::sent:
            return reply(c, 200, {{"modem_id", r.modem_id}, {"message_reference", r.message_reference}, {"parts", r.parts}});
        case api::send_status::no_modem: return fail(c, 503, "No modem can send now" + (r.error.empty() ? std::string(".") : ": " + r.error));
        case api::send_status::queue_full: return fail(c, 503, "Every modem queue is full; try again shortly.");
        case api::send_status::expired: return fail(c, 504, "Not sent: no modem was free in time.");
        case api::send_status::not_supported:
        case api::send_status::failed: return fail(c, modem_error_status(r.error), "Not sent: " + (r.error.empty() ? std::string("the modem failed") : r.error));
        }
    });
}

void service::impl::inbox(const call_ptr& c) {
    const auto& method = c->req.method;
    const auto n = c->segments.size();
    if (n == 1 && method == "GET") {
        std::vector<modem::incoming_sms> all;
        for (const auto& mc : cfg().modems)
            if (auto* dev = deps.pool.find(mc.id)) {
                auto list = dev->inbox();
                all.insert(all.end(), list.begin(), list.end());
            }
        std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.received_unix > b.received_unix; });
        json out = json::array();
        for (const auto& m : all)
            out.push_back({{"id", m.id},
                           {"modem_id", m.modem_id},
                           {"from", m.from},
                           {"text", m.text},
                           {"received_unix", m.received_unix},
                           {"parts", m.parts},
                           {"read", m.read},
                           {"complete", m.complete}});
        return reply(c, 200, {{"messages", out}});
    }
    if (n < 3) return fail(c, 404, "Unknown inbox call.");
    auto* dev = deps.pool.find(c->segments[1]);
    if (!dev) return fail(c, 404, "There is no modem '" + c->segments[1].substr(0, 64) + "'.");
    const auto& id = c->segments[2];
    if (n == 4 && c->segments[3] == "read" && method == "POST") {
        auto read = c->body.find("read");
        const bool value = read == c->body.end() || !read->is_boolean() || read->get<bool>();
        return dev->mark_inbox_read(id, value) ? reply(c, 200, json::object()) : fail(c, 404, "That message is not in the inbox.");
    }
    if (n == 3 && method == "DELETE") return dev->delete_inbox(id) ? reply(c, 200, json::object()) : fail(c, 404, "That message is not in the inbox.");
    fail(c, 404, "Unknown inbox call.");
}

void service::impl::ussd(const call_ptr& c) {
    if (c->req.method != "POST") return fail(c, 405, "Use POST.");
    std::string error;
    auto modem_id = text(c->body, "modem_id", 64, error);
    if (!error.empty()) return fail(c, 400, error, {error});
    auto* dev = deps.pool.find(*modem_id);
    if (!dev) return fail(c, 404, "There is no modem '" + *modem_id + "'.");
    auto answer = [this, c](modem::ussd_result r) {
        if (!r.ok) return fail(c, modem_error_status(r.error), "USSD failed: " + (r.error.empty() ? std::string("no answer") : r.error));
        reply(c, 200, {{"response", r.text}, {"replyable", r.replyable}});
    };
    const auto n = c->segments.size();
    if (n == 1) {
        auto code = text(c->body, "code", 64, error);
        if (!error.empty()) return fail(c, 400, error, {error});
        if (!std::all_of(code->begin(), code->end(), [](char ch) { return (ch >= '0' && ch <= '9') || ch == '*' || ch == '#' || ch == '+'; }))
            return fail(c, 400, "A USSD code has only digits, * and #, like *888#.", {"code: only digits, * and #"});
        if (!dev->ready()) return fail(c, 503, "Modem '" + *modem_id + "' is not connected and ready.");
        return dev->ussd(*code, answer);
    }
    if (n == 2 && c->segments[1] == "reply") {
        auto reply_text = text(c->body, "text", 160, error);
        if (!error.empty()) return fail(c, 400, error, {error});
        if (!dev->ussd_session_open()) return fail(c, 409, "No USSD session is waiting for an answer on this modem.");
        return dev->ussd_reply(*reply_text, answer);
    }
    if (n == 2 && c->segments[1] == "cancel") return dev->ussd_cancel([this, c] { reply(c, 200, json::object()); });
    fail(c, 404, "Unknown USSD call.");
}

// ------------------------------------------------------------- block list, users

void service::impl::blocklist(const call_ptr& c) {
    const auto& method = c->req.method;
    const auto n = c->segments.size();
    if (n == 1 && method == "GET") {
        const auto& numbers = deps.api.blocks().numbers();
        return reply(c, 200, {{"numbers", json(std::vector<std::string>(numbers.begin(), numbers.end()))}});
    }
    std::string raw;
    if (n == 1 && method == "POST") {
        std::string error;
        auto v = text(c->body, "msisdn", 32, error);
        if (!error.empty()) return fail(c, 400, error, {error});
        raw = *v;
    } else if (n == 2 && method == "DELETE") {
        raw = c->segments[1];
    } else {
        return fail(c, 404, "Unknown block list call.");
    }
    auto number = config::normalize_msisdn(raw, cfg().sms.country_code);
    if (!number || number->size() < 5 || number->size() > 20)
        return fail(c, 400, "That is not a phone number (5 to 20 digits, with an optional leading + or 0).", {"msisdn: not a phone number"});
    const bool block = method == "POST";
    deps.api.set_blocked(*number, block, [this, c, block, number = *number](bool changed, std::string err) {
        if (!err.empty()) return fail(c, 500, "Changed in memory but not saved: " + err);
        if (!block && !changed) return fail(c, 404, "That number is not on the block list.");
        reply(c, block ? 201 : 200, {{"msisdn", number}});
    });
}

void service::impl::users(const call_ptr& c, bool admins) {
    const auto kind = admins ? auth::user_kind::admin : auth::user_kind::api;
    const auto& method = c->req.method;
    const auto n = c->segments.size();
    const std::string list_key = admins ? "admins" : "users";
    if (n == 1 && method == "GET") {
        json out = json::array();
        for (const auto& name : deps.users.names(kind))
            out.push_back({{"name", name}, {"created_unix", deps.users.find(kind, name)->created_unix}});
        return reply(c, 200, {{list_key, out}});
    }
    auto saved = [this, admins](const call_ptr& call, int status, json body) {
        return [this, call, status, body = std::move(body), admins](std::string err) {
            if (!err.empty()) return fail(call, 500, "Not saved: " + err);
            if (!admins) deps.api.users_changed();
            reply(call, status, body);
        };
    };
    if (n == 1 && method == "POST") {
        std::string error;
        auto name = text(c->body, "name", 64, error);
        auto password = text(c->body, "password", max_password, error);
        if (!error.empty()) return fail(c, 400, error, {error});
        if (!auth::user_store::valid_name(*name))
            return fail(c, 400, "Name: 1 to 64 of the letters A-Z, a-z, digits and . _ @ -", {"name: invalid"});
        if (auto p = password_problem(*password); !p.empty()) return fail(c, 400, p, {"password: " + p});
        if (deps.users.find(kind, *name)) return fail(c, 409, "'" + *name + "' exists already.");
        deps.offload([this, c, kind, name = *name, password = *password, saved]() mutable {
            auto hash = auth::hash_password(password);
            wipe(password);
            deps.post([this, c, kind, name, hash, saved] {
                if (hash.empty()) return fail(c, 500, "The password could not be hashed.");
                if (deps.users.find(kind, name)) return fail(c, 409, "'" + name + "' exists already.");
                deps.users.put(kind, name, {hash, deps.clock.unix_seconds()});
                spdlog::info("admin: {} '{}' added by '{}'", kind == auth::user_kind::api ? "API user" : "administrator", name, session_of(c) ? session_of(c)->user : "");
                save_users(saved(c, 201, {{"name", name}}));
            });
        });
        return;
    }
    if (n < 2) return fail(c, 404, "Unknown call.");
    const std::string name = c->segments[1];
    if (!deps.users.find(kind, name)) return fail(c, 404, "There is no '" + name.substr(0, 64) + "'.");
    if (n == 3 && c->segments[2] == "password" && method == "POST") {
        std::string error;
        auto password = text(c->body, "password", max_password, error);
        if (!error.empty()) return fail(c, 400, error, {error});
        if (auto p = password_problem(*password); !p.empty()) return fail(c, 400, p, {"password: " + p});
        deps.offload([this, c, kind, name, password = *password, saved, admins]() mutable {
            auto hash = auth::hash_password(password);
            wipe(password);
            deps.post([this, c, kind, name, hash, saved, admins] {
                const auto* rec = deps.users.find(kind, name);
                if (!rec || hash.empty()) return fail(c, 404, "There is no '" + name + "'.");
                auto updated = *rec;
                updated.password_hash = hash;
                deps.users.put(kind, name, updated);
                if (admins) sessions.remove_user(name, c->session_id);
                save_users(saved(c, 200, json::object()));
            });
        });
        return;
    }
    if (n == 2 && method == "DELETE") {
        if (admins) {
            if (session_of(c)->user == name) return fail(c, 409, "You cannot remove yourself; another administrator can.");
            if (deps.users.names(kind).size() <= 1) return fail(c, 409, "The last administrator cannot be removed.");
        }
        auto record = *deps.users.find(kind, name);
        deps.users.remove(kind, name);
        if (admins) sessions.remove_user(name);
        spdlog::info("admin: {} '{}' removed", admins ? "administrator" : "API user", name);
        save_users(saved(c, 200, json::object()));
        return;
    }
    fail(c, 404, "Unknown call.");
}

// ------------------------------------------------------------- settings, SMS log

void service::impl::settings(const call_ptr& c) {
    auto visible = [](json doc) {
        doc.erase("modems");
        return doc;
    };
    if (c->req.method == "GET")
        return reply(c, 200, {{"settings", visible(config::to_json(cfg()))}, {"restart_required", restart_required(cfg(), deps.running_config(), engine_otp)}});
    if (c->req.method != "PUT") return fail(c, 405, "Use GET or PUT.");
    if (c->body.contains("modems")) return fail(c, 400, "Modems are changed on the modems page.", {"modems: not a setting"});
    auto patch = c->body;
    change_config(
        c,
        [patch](json& doc) -> std::string {
            doc.merge_patch(patch);
            return {};
        },
        [this, c, visible](const config::config& now) {
            const auto restart = restart_required(now, deps.running_config(), engine_otp);
            spdlog::info("admin: settings changed by '{}'", session_of(c) ? session_of(c)->user : "");
            reply(c, 200, {{"settings", visible(config::to_json(now))}, {"restart_required", restart}});
        });
}

void service::impl::sms_log(const call_ptr& c) {
    int days = 7;
    const auto q = c->req.target.find('?');
    if (auto v = q == std::string::npos ? std::string() : list_value(std::string_view(c->req.target).substr(q + 1), '&', "days"); !v.empty()) {
        if (!all_digits(v) || v.size() > 3) return fail(c, 400, "days: expected a number from 1 to 90");
        days = std::stoi(v);
    }
    if (days < 1 || days > 90) return fail(c, 400, "days: expected a number from 1 to 90");
    const auto state_dir = cfg().state_dir;
    const auto now = deps.clock.unix_seconds();
    deps.file_io([this, c, state_dir, days, now] {
        json day_list = json::array();
        std::vector<json> entries;
        for (int i = days - 1; i >= 0; --i) {
            const auto date = pool::sms_log::day_of(now - static_cast<std::int64_t>(i) * 86400);
            json per_modem = json::object();
            for (const auto& f : read_sms_log_day(state_dir, date)) {
                auto& counts = per_modem[f[1]];
                if (counts.is_null()) counts = {{"sent", 0}, {"failed", 0}};
                const bool sent = f[5] == "sent";
                counts[sent ? "sent" : "failed"] = counts[sent ? "sent" : "failed"].get<int>() + 1;
                entries.push_back({{"time", parse_iso(f[0])}, {"modem_id", f[1]}, {"receiver", f[2]}, {"kind", f[3]},
                                   {"parts", std::atoi(f[4].c_str())}, {"status", f[5]}, {"error", f[7]}});
                if (entries.size() > 400) entries.erase(entries.begin(), entries.begin() + 200);
            }
            day_list.push_back({{"date", date}, {"modems", per_modem}});
        }
        json newest = json::array();
        for (auto it = entries.rbegin(); it != entries.rend() && newest.size() < 200; ++it) newest.push_back(std::move(*it));
        deps.post([this, c, day_list = std::move(day_list), newest = std::move(newest)] { reply(c, 200, {{"days", day_list}, {"entries", newest}}); });
    });
}

}  // namespace otppi::admin
