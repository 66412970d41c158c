// The admin JSON API's calls about accounts (docs/admin-api.md): the session,
// first-run setup with its one-time code, login, logout, passwords, and the
// API users and administrators.
#include "service_impl.hpp"

#include "otppi/admin/setup_code.hpp"
#include "otppi/api/service.hpp"
#include "otppi/auth/password.hpp"
#include "otppi/auth/user_store.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

namespace otppi::admin {

namespace {

constexpr std::size_t min_password = 8;
constexpr std::size_t max_password = 1024;
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

}  // namespace

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
    const auto key = static_cast<std::uint64_t>(std::hash<std::string>{}(c->req.remote_address));
    const auto now = deps.clock.now();
    setup_failures.sweep(now, 64);
    if (!setup_failures.allowed(key, now)) {
        const auto wait = std::chrono::duration_cast<std::chrono::seconds>(setup_failures.retry_at(key, now) - now).count() + 1;
        reply(c, 429, {{"error", "Too many wrong setup codes from your address. Try again in " + std::to_string(wait) + " seconds."}},
              {{"Retry-After", std::to_string(wait)}});
        return;
    }
    std::string error;
    auto code = text(c->body, "setup_code", 64, error);
    auto name = text(c->body, "username", 64, error);
    auto password = text(c->body, "password", max_password, error);
    if (!error.empty()) return fail(c, 400, error, {error});
    if (setup_code.empty()) return fail(c, 503, "There is no setup code (see the service log); restart the service to make one.");
    if (!setup_code_matches(*code, setup_code)) {
        setup_failures.record(key, now);
        spdlog::warn("admin: wrong setup code from {}", c->req.remote_address);
        return fail(c, 403,
                    "The setup code is not right. It is in the file setup-code in the daemon's state directory "
                    "(/var/lib/otppi by default) and in the service log.",
                    {"setup_code: wrong code"});
    }
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
                spdlog::info("admin: first administrator '{}' created from {}; the setup code is spent", name, c->req.remote_address);
                prepare_setup_code(false);
                std::string id;
                const auto* rec = deps.users.find(auth::user_kind::admin, name);
                auto& s = sessions.login(c->session_id, name, id, rec ? rec->password_hash : std::string());
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
        deps.post([this, c, key, name, ok, hash] {
            const auto* now_rec = deps.users.find(auth::user_kind::admin, name);
            if (ok && (!now_rec || now_rec->password_hash != hash)) {
                // The record changed while the hash ran: the password was
                // checked against credentials that no longer exist. Not the
                // client's fault, so not counted as a failure.
                return fail(c, 401, "Wrong user name or password.");
            }
            if (!ok || !now_rec) {
                // While the users file cannot be read, a name we do not know
                // may well be in it: that failure is ours, not the client's.
                if (now_rec || deps.users.load_error().empty()) login_failures.record(key, deps.clock.now());
                spdlog::warn("admin: failed login from {}", c->req.remote_address);
                return fail(c, 401, "Wrong user name or password.");
            }
            std::string id;
            auto& s = sessions.login(c->session_id, name, id, hash);
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
            const auto previous = *stored_rec;
            auto updated = previous;
            updated.password_hash = hash;
            deps.users.put(auth::user_kind::admin, user, updated);
            save_users([this, c, user, previous, hash](std::string err) {
                if (!err.empty()) {
                    // Not on disk, so not in force: the next reload would bring the old one back.
                    if (const auto* r = deps.users.find(auth::user_kind::admin, user); r && r->password_hash == hash)
                        deps.users.put(auth::user_kind::admin, user, previous);
                    return fail(c, 500, "The new password could not be saved: " + err);
                }
                std::string id;
                auto& s = sessions.login(c->session_id, user, id, hash);
                sessions.remove_user(user, id);
                end_stale_sessions();
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

// ------------------------------------------------------------- API users, administrators

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
    auto saved = [this, admins](const call_ptr& call, int status, json body, std::vector<std::pair<std::string, std::string>> extra = {}) {
        return [this, call, status, body = std::move(body), admins, extra = std::move(extra)](std::string err) {
            if (!err.empty()) return fail(call, 500, "Not saved: " + err);
            if (!admins) deps.api.users_changed();
            reply(call, status, body, extra);
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
                if (!admins) deps.api.users_changed();  // the old password stops working now, not after the write
                // Every session opened with the old password ends; an
                // administrator who changes their own password here keeps
                // working in a new session, as with POST /admin/api/password.
                const auto* own = admins ? session_of(c) : nullptr;
                if (own && own->user == name) {
                    std::string id;
                    auto& s = sessions.login(c->session_id, name, id, hash);
                    c->session_id = id;
                    sessions.remove_user(name, id);
                    end_stale_sessions();
                    save_users(saved(c, 200, {{"csrf_token", s.csrf_token}}, {{"Set-Cookie", cookie_for(id, c->tls)}}));
                    return;
                }
                if (admins) {
                    sessions.remove_user(name);
                    end_stale_sessions();
                }
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
        if (admins) {
            sessions.remove_user(name);
            end_stale_sessions();
        }
        if (!admins) deps.api.users_changed();
        spdlog::info("admin: {} '{}' removed", admins ? "administrator" : "API user", name);
        save_users(saved(c, 200, json::object()));
        return;
    }
    fail(c, 404, "Unknown call.");
}

}  // namespace otppi::admin
