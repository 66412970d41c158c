#include "service_impl.hpp"

#include "otppi/api/service.hpp"
#include "otppi/admin/setup_code.hpp"
#include "otppi/auth/user_store.hpp"
#include "otppi/core/files.hpp"
#include "otppi/config/startup_checks.hpp"
#include "otppi/core/json.hpp"
#include "otppi/pool/pool.hpp"
#include "otppi/pool/sms_log.hpp"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

namespace otppi::admin {

namespace {

// What the browser may load: only our own files, no inline script or style,
// no framing. 'self' covers same-origin WebSockets in current browsers.
constexpr const char* content_security_policy =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

constexpr auto monitor_interval = std::chrono::seconds(2);
constexpr std::size_t max_monitors = 32;
// One session (one stolen cookie, or one runaway tab) cannot take every slot:
// a few windows per browser is plenty for a dashboard.
constexpr std::size_t max_monitors_per_session = 4;

std::vector<std::pair<std::string, std::string>> security_headers(bool tls) {
    std::vector<std::pair<std::string, std::string>> h = {{"Content-Security-Policy", content_security_policy},
                                                          {"X-Content-Type-Options", "nosniff"},
                                                          {"X-Frame-Options", "DENY"},
                                                          {"Referrer-Policy", "no-referrer"},
                                                          {"Cross-Origin-Opener-Policy", "same-origin"}};
    // Over TLS only: a browser that once reached the UI over HTTPS then
    // refuses a downgraded plain-HTTP copy (RFC 6797 ignores it over HTTP).
    if (tls) h.emplace_back("Strict-Transport-Security", "max-age=31536000");
    return h;
}

std::string percent_decode(const std::string& s, bool& ok) {
    std::string out;
    ok = true;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        auto hexval = [](char ch) { return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1; };
        if (i + 2 >= s.size() || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0) {
            ok = false;
            return {};
        }
        out += static_cast<char>(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
        i += 2;
    }
    return out;
}

// A request from a page of ours carries our own origin (browsers add Origin
// to every POST, PUT, DELETE and WebSocket handshake): one of this device's
// names, never merely the Host the page itself chose. None at all is a
// script, which still needs the session's CSRF token.
bool origin_allowed(http::host_check& hosts, const http::request& req, bool required) {
    if (req.origin.empty()) return !required;
    if (req.host.empty()) return false;
    return hosts.allows_origin(req.origin, req.tls, req.host);
}

bool tokens_equal(const std::string& a, const std::string& b) {
    return a.size() == b.size() && !a.empty() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

service::impl::impl(admin_deps d)
    : deps(std::move(d)),
      sessions(deps.clock, std::chrono::seconds(deps.current_config().admin.session_idle_s), std::chrono::seconds(deps.current_config().admin.session_absolute_s)),
      // Ten wrong passwords per address in five minutes, then 429: slow
      // enough against guessing, loose enough for a person who mistypes.
      login_failures(10, std::chrono::minutes(5), deps.clock.now()),
      // The setup code has 50 bits; ten guesses per address in five minutes
      // leaves a guesser nothing, and the owner who mistypes a few times in.
      setup_failures(10, std::chrono::minutes(5), deps.clock.now()),
      engine_otp(deps.running_config().otp),
      hosts(deps.clock, deps.running_config().server_names, {deps.running_config().admin.bind}) {}

service::service(admin_deps deps) : impl_(std::make_unique<impl>(std::move(deps))) {
    auto& s = *impl_;
    s.prepare_setup_code(true);
    // Today's counts survive a restart: count them from today's SMS log.
    s.deps.file_io([&s, state_dir = s.cfg().state_dir, day = s.today(), post = s.deps.post] {
        std::uint64_t sent = 0, failed = 0;
        for (const auto& f : read_sms_log_day(state_dir, day)) ++(f[5] == "sent" ? sent : failed);
        post([&s, day, sent, failed] {
            auto& c = s.day_counts[day];
            c.first += sent;
            c.second += failed;
        });
    });
}

service::~service() = default;

std::string service::load_assets() {
    auto err = impl_->assets.load(impl_->cfg().admin.web_root);
    if (impl_->assets.size() == 0) impl_->assets_error = err;
    if (err.empty()) spdlog::info("admin UI: {} files from {}", impl_->assets.size(), impl_->cfg().admin.web_root);
    return err;
}

void service::apply_config(const config::config& cfg) {
    impl_->hosts.set_configured(cfg.server_names);
    impl_->sessions.set_timeouts(std::chrono::seconds(cfg.admin.session_idle_s), std::chrono::seconds(cfg.admin.session_absolute_s));
}

void service::stop() {
    auto& s = *impl_;
    s.stopped = true;
    if (s.cancel_tick) s.cancel_tick();
    auto monitors = std::move(s.monitors);
    s.monitors.clear();
    for (auto& m : monitors) m.socket->close();
}

std::string service::impl::today() const { return pool::sms_log::day_of(deps.clock.unix_seconds()); }

std::string list_value(std::string_view list, char sep, std::string_view key) {
    std::size_t pos = 0;
    while (pos < list.size()) {
        auto end = list.find(sep, pos);
        if (end == std::string_view::npos) end = list.size();
        auto part = list.substr(pos, end - pos);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        if (part.size() > key.size() && part.starts_with(key) && part[key.size()] == '=') return std::string(part.substr(key.size() + 1));
        pos = end + 1;
    }
    return {};
}

void service::on_pool_event(const pool::pool_event& ev) {
    auto& s = *impl_;
    if (ev.kind == "sms_sent" || ev.kind == "sms_failed") {
        auto& c = s.day_counts[s.today()];
        ++(ev.kind == "sms_sent" ? c.first : c.second);
        while (s.day_counts.size() > 2) s.day_counts.erase(s.day_counts.begin());
    }
    if (s.monitors.empty()) return;
    json frame = {{"type", "event"}, {"time", s.deps.clock.unix_seconds()}, {"kind", ev.kind}, {"modem_id", ev.modem_id}, {"detail", ev.detail}};
    s.broadcast(frame.dump(-1, ' ', false, json::error_handler_t::replace));
}

void service::impl::broadcast(const std::string& text) {
    for (auto& m : std::vector<monitor>(monitors)) m.socket->send(text);
}

void service::impl::tick() {
    cancel_tick = nullptr;
    if (stopped || monitors.empty()) return;
    // A monitor lives only as long as its session (logout, expiry, password change).
    for (auto& m : std::vector<monitor>(monitors))
        if (!sessions.alive(m.session_id)) m.socket->close();
    const auto now = deps.clock.unix_seconds();
    broadcast(json({{"type", "status"}, {"time", now}, {"status", status_json()}}).dump(-1, ' ', false, json::error_handler_t::replace));
    broadcast(json({{"type", "modems"}, {"time", now}, {"modems", modems_json()}}).dump(-1, ' ', false, json::error_handler_t::replace));
    cancel_tick = deps.schedule(std::chrono::duration_cast<std::chrono::milliseconds>(monitor_interval), [this] { tick(); });
}

void service::impl::reply(const call_ptr& c, int status, const json& body, std::vector<std::pair<std::string, std::string>> extra) {
    if (!c->respond) return;
    http::response res;
    res.status = status;
    res.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    res.headers = security_headers(c->tls);
    res.headers.emplace_back("Cache-Control", "no-store");
    for (auto& h : extra) res.headers.push_back(std::move(h));
    auto respond = std::move(c->respond);
    c->respond = nullptr;
    respond(std::move(res));
}

void service::impl::fail(const call_ptr& c, int status, const std::string& message, const std::vector<std::string>& errors) {
    json body = {{"error", message}};
    if (!errors.empty()) body["errors"] = errors;
    reply(c, status, body);
}

std::string service::impl::cookie_for(const std::string& id, bool tls) const {
    return "otppi_session=" + id + "; Path=/; HttpOnly; SameSite=Strict" + (tls ? "; Secure" : "");
}

admin_session* service::impl::session_of(const call_ptr& c) {
    auto* s = sessions.find(c->session_id);
    if (s && s->logged_in() && !credential_current(*s)) {
        sessions.remove(c->session_id);
        return nullptr;
    }
    return s;
}

bool service::impl::credential_current(const admin_session& s) const {
    const auto* rec = deps.users.find(auth::user_kind::admin, s.user);
    return rec && !s.credential.empty() && rec->password_hash == s.credential;
}

void service::impl::end_stale_sessions() {
    const auto n = sessions.remove_if([this](const admin_session& s) { return s.logged_in() && !credential_current(s); });
    if (n > 0) spdlog::info("admin: {} session(s) ended: their administrator was removed or has a new password", n);
    for (auto& m : std::vector<monitor>(monitors))
        if (!sessions.alive(m.session_id)) m.socket->close();
}

void service::users_changed() {
    impl_->end_stale_sessions();
    impl_->prepare_setup_code(false);
}

std::string service::impl::setup_code_path() const { return deps.running_config().state_dir + "/setup-code"; }

void service::impl::prepare_setup_code(bool at_start) {
    const auto path = setup_code_path();
    if (!deps.users.empty(auth::user_kind::admin)) {
        // Claimed (by the UI or `otppi admin-user add`): the code is spent.
        if (setup_code.empty() && !at_start) return;
        setup_code.clear();
        auto remove = [path] {
            std::error_code ec;
            std::filesystem::remove(path, ec);
        };
        if (at_start)
            remove();
        else
            deps.file_io(remove);
        return;
    }
    if (!setup_code.empty()) return;
    if (at_start) {
        // A restart before the box was claimed keeps the code the operator
        // may have noted already.
        std::error_code ec;
        if (std::filesystem::exists(path, ec)) {
            auto text = core::read_file(path, nullptr, 256);
            if (text)
                while (!text->empty() && (text->back() == '\n' || text->back() == '\r' || text->back() == ' ')) text->pop_back();
            if (text && !canonical_setup_code(*text).empty()) {
                setup_code = *text;
                spdlog::info("first-run setup: no administrator yet; the setup code the admin UI asks for is in {} (shown in this log when it was made)", path);
                return;
            }
        }
    }
    try {
        setup_code = make_setup_code();
    } catch (const std::exception& e) {
        spdlog::error("first-run setup: {}; the admin UI cannot be claimed until a restart", e.what());
        return;
    }
    // The one secret that goes to the log, once: it is how the operator of a
    // new box learns it (like the code on a router's label). It only lets
    // someone create the first administrator, and dies with that.
    spdlog::info("first-run setup: no administrator yet. Setup code: {} (also in {}, mode 0600); the admin UI asks for it", setup_code, path);
    auto write = [path, code = setup_code] {
        if (auto err = core::atomic_write_file(path, code + "\n", 0600); !err.empty())
            spdlog::error("first-run setup: the setup code could not be written: {} (it is in the line above)", err);
    };
    if (at_start)
        write();
    else
        deps.file_io(write);
}

void service::handle(http::request req, http::responder respond) {
    auto& s = *impl_;
    auto c = std::make_shared<call>();
    c->tls = req.tls;
    c->session_id = list_value(req.cookie, ';', "otppi_session");
    c->respond = std::move(respond);
    c->req = std::move(req);
    const auto path = c->req.path();
    const auto& method = c->req.method;

    // Only requests addressed to this device by one of its names: a page of
    // another site that resolves its own name to us (DNS rebinding) is
    // turned away before it can read a page or open a session.
    if (!s.hosts.allows_host(c->req.host)) return s.fail(c, 421, http::host_check::refusal(c->req.host));

    if (path == "/admin/ws") {
        auto* sess = s.session_of(c);
        if (!c->req.websocket_upgrade) return s.fail(c, 400, "This address is the live monitor's WebSocket.");
        if (!origin_allowed(s.hosts, c->req, true)) return s.fail(c, 403, "The monitor can only be opened from this device's own pages.");
        if (!sess || !sess->logged_in()) return s.fail(c, 401, "Please log in first.");
        const auto mine = std::count_if(s.monitors.begin(), s.monitors.end(), [&](const auto& m) { return m.session_id == c->session_id; });
        if (static_cast<std::size_t>(mine) >= max_monitors_per_session)
            return s.fail(c, 429, "This session already has " + std::to_string(max_monitors_per_session) +
                                      " live monitors open (the dashboard in other tabs or windows). Close one and try again.");
        if (s.monitors.size() >= max_monitors) return s.fail(c, 503, "Too many monitor windows are open.");
        http::response res;
        res.accept_websocket = [&s, session_id = c->session_id](std::shared_ptr<http::websocket> ws) {
            if (s.stopped) return ws->close();
            s.monitors.push_back({ws, session_id});
            http::websocket* raw = ws.get();
            ws->on_close([&s, raw] {
                s.monitors.erase(std::remove_if(s.monitors.begin(), s.monitors.end(), [&](const auto& m) { return m.socket.get() == raw; }), s.monitors.end());
            });
            const auto now = s.deps.clock.unix_seconds();
            ws->send(json({{"type", "status"}, {"time", now}, {"status", s.status_json()}}).dump(-1, ' ', false, json::error_handler_t::replace));
            ws->send(json({{"type", "modems"}, {"time", now}, {"modems", s.modems_json()}}).dump(-1, ' ', false, json::error_handler_t::replace));
            if (!s.cancel_tick) s.cancel_tick = s.deps.schedule(std::chrono::duration_cast<std::chrono::milliseconds>(monitor_interval), [&s] { s.tick(); });
        };
        auto r = std::move(c->respond);
        return r(std::move(res));
    }

    if (path.rfind("/admin/api/", 0) != 0) {
        // Static files: GET only.
        if (method != "GET" && method != "HEAD") return s.fail(c, 405, "Only GET is allowed here.");
        if (s.assets.size() == 0) return s.fail(c, 503, "The admin UI's files are not installed: " + s.assets_error);
        const auto* a = s.assets.find(path);
        if (!a) return s.fail(c, 404, "There is no page at " + path.substr(0, 200) + ".");
        http::response res;
        res.content_type = a->content_type;
        res.headers = security_headers(c->tls);
        res.headers.emplace_back("Cache-Control", "no-cache");
        res.headers.emplace_back("ETag", a->etag);
        if (c->req.if_none_match == a->etag)
            res.status = 304;
        else if (method == "GET")
            res.body = a->body;
        auto r = std::move(c->respond);
        return r(std::move(res));
    }

    // JSON API.
    std::string rest = path.substr(std::string("/admin/api/").size());
    std::size_t pos = 0;
    while (pos <= rest.size()) {
        auto end = rest.find('/', pos);
        if (end == std::string::npos) end = rest.size();
        bool ok = true;
        c->segments.push_back(percent_decode(rest.substr(pos, end - pos), ok));
        if (!ok) return s.fail(c, 400, "The address has a broken %-escape.");
        pos = end + 1;
    }
    const bool changes = method != "GET" && method != "HEAD";
    if (changes) {
        if (!origin_allowed(s.hosts, c->req, false)) return s.fail(c, 403, "Refused: the request came from another site.");
        auto* sess = s.session_of(c);
        if (!sess) return s.fail(c, 401, "Your session has expired. Please reload the page and log in again.");
        if (!tokens_equal(c->req.csrf_token, sess->csrf_token))
            return s.fail(c, 403, "Refused: the security token (CSRF) is missing or out of date. Reload the page and try again.");
        if (!c->req.body.empty()) {
            auto parsed = core::parse_json_limited(c->req.body);
            if (!parsed.ok() && parsed.error->what == core::json_error::kind::too_deep)
                return s.fail(c, 400, "The request body is nested too deeply: " + parsed.error->message + ".");
            c->body = std::move(parsed.value);
            if (c->body.is_discarded() || !c->body.is_object()) return s.fail(c, 400, "The request body must be a JSON object.");
        }
        if (c->body.is_null()) c->body = json::object();
    }
    const auto& first = c->segments.front();
    // Reachable without a login.
    if (first == "session" && c->segments.size() == 1) return method == "GET" ? s.get_session(c) : s.fail(c, 405, "Use GET.");
    if (first == "setup" && c->segments.size() == 1) return method == "POST" ? s.setup(c) : s.fail(c, 405, "Use POST.");
    if (first == "login" && c->segments.size() == 1) return method == "POST" ? s.login(c) : s.fail(c, 405, "Use POST.");

    auto* sess = s.session_of(c);
    if (!sess || !sess->logged_in()) return s.fail(c, 401, "Please log in.");
    s.route(c);
}

void service::impl::route(const call_ptr& c) {
    const auto& first = c->segments.front();
    const auto& method = c->req.method;
    const auto n = c->segments.size();
    if (first == "logout" && n == 1 && method == "POST") return logout(c);
    if (first == "password" && n == 1 && method == "POST") return change_password(c);
    if (first == "status" && n == 1 && method == "GET") return reply(c, 200, status_json());
    if (first == "modems") return n == 1 ? modems(c) : modem_action(c);
    if (first == "sms" && n == 1 && method == "POST") return send_sms(c);
    if (first == "inbox") return inbox(c);
    if (first == "ussd") return ussd(c);
    if (first == "blocklist") return blocklist(c);
    if (first == "api-users") return users(c, false);
    if (first == "admins") return users(c, true);
    if (first == "settings" && n == 1) return settings(c);
    if (first == "sms-log" && n == 1 && method == "GET") return sms_log(c);
    if (first == "restart" && n == 1 && method == "POST") {
        // Refused while the saved config could not start: a restart would end
        // in a dead service to be fixed by hand.
        return deps.file_io([this, c, saved = cfg(), running = deps.running_config()]() mutable {
            auto problems = config::check_startup(saved, {&running, true});
            deps.post([this, c, problems = std::move(problems)] {
                if (!problems.empty())
                    return fail(c, 409, "Not restarted: the daemon would not start with the saved configuration.", problems);
                spdlog::info("admin: '{}' restarts the daemon", session_of(c) ? session_of(c)->user : "");
                reply(c, 200, {{"restarting", true}});
                if (deps.restart) deps.restart();
            });
        });
    }
    fail(c, 404, "Unknown admin API call: " + method + " /admin/api/" + first.substr(0, 64));
}

json service::impl::status_json() {
    json st = deps.process_status ? deps.process_status() : json::object();
    const auto& config = cfg();
    st["device_name"] = config.device_name;
    st["version"] = OTPPI_VERSION;
    auto list = deps.pool.modem_list();
    int ready = 0, queue = 0;
    for (const auto& [id, m] : list.items()) {
        if (m.value("connected", false)) ++ready;
        queue += m.value("queueDepth", 0);
    }
    st["modems_total"] = config.modems.size();
    st["modems_ready"] = ready;
    st["queue_length"] = queue;
    st["otp_live"] = deps.api.live_otps();
    auto it = day_counts.find(today());
    st["sms_sent_today"] = it == day_counts.end() ? 0 : it->second.first;
    st["sms_failed_today"] = it == day_counts.end() ? 0 : it->second.second;
    return st;
}

json service::impl::modems_json() {
    json out = json::array();
    auto list = deps.pool.modem_list();
    for (const auto& mc : cfg().modems) {
        json m = {{"id", mc.id},
                  {"name", mc.name},
                  {"port", mc.port},
                  {"baud_rate", mc.baud_rate},
                  {"active", mc.active},
                  {"default_modem", mc.default_modem},
                  {"send_sms_from_api", mc.send_sms_from_api},
                  {"recipient_prefix", mc.recipient_prefix},
                  {"vendor", mc.vendor},
                  {"sms_mode", mc.sms_mode},
                  {"parity", mc.parity},
                  {"data_bits", mc.data_bits},
                  {"stop_bits", mc.stop_bits},
                  {"max_sms_per_minute", mc.max_sms_per_minute},
                  {"max_sms_per_day", mc.max_sms_per_day},
                  {"sim_pin_set", !mc.sim_pin.empty()}};
        auto it = list.find(mc.id);
        if (it != list.end()) {
            const auto& l = *it;
            m["connected"] = l.value("connected", false);
            m["state"] = l.value("state", "");
            m["imei"] = l.value("imei", "");
            m["imsi"] = l.value("imsi", "");
            m["iccid"] = l.value("iccid", "");
            m["manufacturer"] = l.value("manufacturer", "");
            m["model"] = l.value("model", "");
            m["operator"] = l.value("copsOperator", "");
            m["sms_center"] = l.value("smsCenter", "");
            m["signal_dbm"] = l.value("signalDbm", 0);
            m["in_rotation"] = l.value("inRotation", false);
            m["queue_depth"] = l.value("queueDepth", 0);
            for (const char* k : {"sent", "failed", "retried", "timeouts", "reopens"}) m[k] = l.value(k, 0);
            m["last_error"] = l.value("lastError", "");
        } else {
            m["connected"] = false;
            m["state"] = "disabled";
        }
        out.push_back(std::move(m));
    }
    return out;
}

void service::impl::change_config(const call_ptr& c, std::function<std::string(json& doc)> edit, std::function<void(const config::config&)> after) {
    config_queue.push_back([this, c, edit = std::move(edit), after = std::move(after)] {
        json doc = config::to_json(cfg());
        auto refusal = edit(doc);
        if (!refusal.empty()) {
            config_busy = false;
            fail(c, std::stoi(refusal.substr(0, 3)), refusal.substr(4));
            return next_config_change();
        }
        auto loaded = config::parse_config(doc.dump());
        if (!loaded.ok()) {
            config_busy = false;
            auto n = loaded.errors.size();
            fail(c, 400, "Not saved: " + std::to_string(n) + (n == 1 ? " problem." : " problems."), loaded.errors);
            return next_config_change();
        }
        // What a start needs (TLS files, directories, addresses) is checked
        // off the loop before saving: a saved config that cannot start would
        // leave a dead service at the next restart.
        deps.file_io([this, c, next = std::move(*loaded.cfg), baseline = cfg(), running = deps.running_config(), after]() mutable {
            auto problems = config::new_startup_problems(next, baseline, {&running, true});
            deps.post([this, c, next = std::move(next), problems = std::move(problems), after]() mutable {
                if (!problems.empty()) {
                    config_busy = false;
                    auto n = problems.size();
                    fail(c, 422, "Not saved: the daemon could not start with this (" + std::to_string(n) + (n == 1 ? " problem)." : " problems)."), problems);
                    return next_config_change();
                }
                deps.change_config(std::move(next), [this, c, after](std::vector<std::string> errors) {
                    config_busy = false;
                    if (!errors.empty())
                        fail(c, 500, "The configuration could not be saved: " + errors.front(), errors);
                    else
                        after(cfg());
                    next_config_change();
                });
            });
        });
    });
    if (!config_busy) next_config_change();
}

void service::impl::next_config_change() {
    if (config_busy || config_queue.empty()) return;
    config_busy = true;
    auto job = std::move(config_queue.front());
    config_queue.pop_front();
    job();
}

}  // namespace otppi::admin
