#include "otppi/daemon/app.hpp"

#include "otppi/admin/service.hpp"
#include "otppi/api/protocol.hpp"
#include "otppi/api/service.hpp"
#include "otppi/auth/user_store.hpp"
#include "otppi/config/startup_checks.hpp"
#include "otppi/core/files.hpp"
#include "otppi/core/log.hpp"
#include "otppi/core/scheduler.hpp"
#include "otppi/core/systemd.hpp"
#include "otppi/http/host_check.hpp"
#include "otppi/http/server.hpp"
#include "otppi/pool/pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

namespace otppi::daemon {

// The daemon wires every layer; core's helpers (files, log, scheduler, systemd) are used unqualified.
using namespace otppi::core;
namespace net = boost::asio;

namespace {

// The OTP HMAC key: 64 random bytes made on first start, kept in state_dir
// with mode 0600. Losing it only invalidates live OTPs (at most 10 minutes old).
bool load_or_create_key(const std::string& path, std::array<std::uint8_t, 64>& key, std::string& error) {
    struct stat st{};
    if (::stat(path.c_str(), &st) == 0) {
        if ((st.st_mode & 077) != 0) spdlog::warn("{} is readable by others; run: chmod 600 {}", path, path);
        auto data = read_file(path, &error, 1024);
        if (!data) return false;
        if (data->size() != key.size()) {
            error = path + ": expected " + std::to_string(key.size()) + " bytes, found " + std::to_string(data->size());
            return false;
        }
        std::copy(data->begin(), data->end(), key.begin());
        OPENSSL_cleanse(data->data(), data->size());
        return true;
    }
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
        error = "CSPRNG failed while creating " + path;
        return false;
    }
    std::string bytes(reinterpret_cast<const char*>(key.data()), key.size());
    error = atomic_write_file(path, bytes, 0600);
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return error.empty();
}

http::limits limits_from(const config::api_config& api) {
    http::limits lim;
    lim.body_limit = api.max_body_bytes;
    lim.max_connections = static_cast<std::size_t>(api.max_connections);
    lim.max_connections_per_client = static_cast<std::size_t>(api.max_connections_per_client);
    lim.header_timeout = std::chrono::seconds(api.header_timeout_s);
    lim.idle_timeout = std::chrono::seconds(api.idle_timeout_s);
    lim.body_timeout = std::chrono::seconds(api.header_timeout_s);
    return lim;
}

http::limits admin_limits(const config::admin_config& admin) {
    http::limits lim;
    lim.max_connections = 256;  // a few browsers, not the API's traffic
    lim.max_connections_per_client = static_cast<std::size_t>(admin.max_connections_per_client);
    return lim;
}

// Resident memory of this process, from /proc (0 where unavailable).
std::int64_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    long pages = 0, resident = 0;
    if (!(statm >> pages >> resident)) return 0;
    return static_cast<std::int64_t>(resident) * ::sysconf(_SC_PAGESIZE);
}

// The SoC temperature on a Raspberry Pi (and most ARM boards); null elsewhere.
nlohmann::json cpu_temperature() {
    std::ifstream in("/sys/class/thermal/thermal_zone0/temp");
    long milli = 0;
    if (!(in >> milli)) return nullptr;
    return static_cast<double>(milli / 100) / 10.0;
}

}  // namespace

struct app::impl {
    impl(run_options o, config::config c) : opts(std::move(o)), cfg(std::move(c)), users(cfg.state_dir) {}

    run_options opts;
    config::config cfg;
    SystemClock clock;
    net::io_context ioc{1};
    // Slow hashes on one pool, file writes on another so that a burst of
    // logins cannot delay persisting a block-list change. One thread each
    // keeps writes ordered.
    net::thread_pool hash_pool{1};
    net::thread_pool file_pool{1};
    net::signal_set stop_signals{ioc, SIGTERM, SIGINT};
    net::signal_set hup_signal{ioc, SIGHUP};
    net::steady_timer watchdog_timer{ioc};
    net::steady_timer housekeeping_timer{ioc};
    net::steady_timer grace_timer{ioc};
    auth::user_store users;
    std::unique_ptr<pool::modem_pool> modems;
    std::unique_ptr<api::service> api;
    std::unique_ptr<http::host_check> api_hosts;
    std::shared_ptr<net::ssl::context> tls;
    std::unique_ptr<http::server> http_server;
    std::unique_ptr<http::server> https_server;
    std::unique_ptr<admin::service> admin;
    std::shared_ptr<net::ssl::context> admin_tls;
    std::unique_ptr<http::server> admin_server;
    std::int64_t started_unix = 0;
    config::config file_cfg;  // as last read from or written to the config file
    bool stopping = false;
    bool restart = false;
    int exit_code = 0;
    std::int64_t users_mtime = 0;

    std::string start();
    void shutdown(const char* why);
    void reload();
    void users_reloaded(const char* why);
    void apply(config::config next);
    std::string start_admin();
    nlohmann::json process_status() const;
    void arm_stop_signals();
    void arm_hup();
    void arm_watchdog(std::chrono::microseconds interval);
    void arm_housekeeping();
    std::int64_t file_mtime(const std::string& path) const {
        struct stat st{};
        if (::stat(path.c_str(), &st) != 0) return 0;
        // mtime alone misses a second write within one timestamp tick (the
        // CLI replaces the file by rename, so the inode changes too).
        const auto mtime = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000U + static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
        return static_cast<std::int64_t>(mtime ^ (static_cast<std::uint64_t>(st.st_ino) << 20) ^ (static_cast<std::uint64_t>(st.st_size) << 40));
    }
};

std::string app::impl::start() {
    started_unix = clock.unix_seconds();
    file_cfg = cfg;
    if (auto err = ensure_directory(cfg.state_dir, 0750); !err.empty()) return err;
    if (auto err = users.load(); !err.empty()) return err;
    users_mtime = file_mtime(users.path());
    if (users.empty(auth::user_kind::api))
        spdlog::warn("no API users yet: every API request will get 401. Add one with: otppi api-user add NAME --config {}", opts.config_path);

    std::array<std::uint8_t, 64> key{};
    std::string key_error;
    if (!load_or_create_key(cfg.state_dir + "/otp.key", key, key_error)) return key_error;

    auto post = [this](std::function<void()> fn) { net::post(ioc, std::move(fn)); };
    pool::pool_options pool_opts;
    pool_opts.file_io = [this](std::function<void()> fn) { net::post(file_pool, std::move(fn)); };
    modems = std::make_unique<pool::modem_pool>(ioc, cfg, clock, std::move(pool_opts));
    api::service_deps deps{
        clock,
        [this](std::function<void()> fn) { net::post(hash_pool, std::move(fn)); },
        post,
        [this](std::function<void()> fn) { net::post(file_pool, std::move(fn)); },
        make_scheduler(ioc),
        users,
        *modems,
    };
    api = std::make_unique<api::service>(cfg, std::move(deps), key);
    OPENSSL_cleanse(key.data(), key.size());
    if (auto err = api->load_state(); !err.empty()) return err;

    // The API's front door refuses a Host that is not this device's (a page
    // of another site reaching us by DNS rebinding), in the API's envelope.
    api_hosts = std::make_unique<http::host_check>(clock, cfg.server_names, std::vector<std::string>{cfg.api.http.bind, cfg.api.https.bind});
    auto handler = [this](http::request req, http::responder respond) {
        if (!api_hosts->allows_host(req.host)) {
            http::response res;
            res.status = 421;
            res.body = nlohmann::json({{"response_code", api::code_string(api::code::malformed_request)}, {"message", http::host_check::refusal(req.host)}})
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            res.close = true;
            return respond(std::move(res));
        }
        api->handle(std::move(req), std::move(respond));
    };
    std::uint16_t http_port = 0, https_port = 0;
    if (cfg.api.http.enabled) {
        http_server = std::make_unique<http::server>(ioc, handler, limits_from(cfg.api));
        if (auto err = http_server->listen(cfg.api.http.bind, cfg.api.http.port); !err.empty()) return "api.http: " + err;
        http_port = http_server->port();
        spdlog::info("REST API listening on http://{}:{}", cfg.api.http.bind, http_port);
    }
    if (cfg.api.https.enabled) {
        std::string err;
        tls = http::make_tls_context(cfg.api.https.cert_file, cfg.api.https.key_file, err);
        if (!tls) return "api.https: " + err;
        https_server = std::make_unique<http::server>(ioc, handler, limits_from(cfg.api), tls.get());
        if (err = https_server->listen(cfg.api.https.bind, cfg.api.https.port); !err.empty()) return "api.https: " + err;
        https_port = https_server->port();
        spdlog::info("REST API listening on https://{}:{}", cfg.api.https.bind, https_port);
    }
    if (!http_server && !https_server) spdlog::warn("api.http and api.https are both disabled: the REST API is off");
    if (auto err = start_admin(); !err.empty()) return err;
    modems->start();

    arm_stop_signals();
    arm_hup();
    if (auto interval = systemd::watchdog_ping_interval()) arm_watchdog(*interval);
    arm_housekeeping();
    systemd::notify_ready("serving; " + std::to_string(cfg.modems.size()) + " modem(s) configured");
    if (opts.on_ready) opts.on_ready(http_port, https_port);
    return {};
}

void app::impl::arm_stop_signals() {
    stop_signals.async_wait([this](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        shutdown(signo == SIGTERM ? "SIGTERM" : "SIGINT");
        arm_stop_signals();  // a second signal during the grace period is ignored, not fatal
    });
}

void app::impl::arm_hup() {
    hup_signal.async_wait([this](const boost::system::error_code& ec, int) {
        if (ec) return;
        reload();
        arm_hup();
    });
}

void app::impl::arm_watchdog(std::chrono::microseconds interval) {
    systemd::notify_watchdog();
    watchdog_timer.expires_after(interval);
    // The ping is sent from the event loop itself, so a stalled loop stops
    // pinging and systemd restarts us.
    watchdog_timer.async_wait([this, interval](const boost::system::error_code& ec) {
        if (!ec) arm_watchdog(interval);
    });
}

void app::impl::arm_housekeeping() {
    housekeeping_timer.expires_after(std::chrono::seconds(2));
    housekeeping_timer.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping) return;
        // `otppi api-user add` edits users.json while we run: pick it up
        // without a reload (one stat every two seconds).
        if (auto m = file_mtime(users.path()); m != users_mtime) {
            users_mtime = m;
            users_reloaded("users file changed");
        }
        arm_housekeeping();
    });
}

// Reads the users file again (user_store keeps the old users when it cannot)
// and ends what the changes revoke: cached API credentials and admin sessions
// of users whose record changed or vanished.
void app::impl::users_reloaded(const char* why) {
    if (auto err = users.load(); !err.empty())
        spdlog::error("{}: users file not loaded, still using the {} API user(s) and {} administrator(s) loaded before: {}", why,
                      users.names(auth::user_kind::api).size(), users.names(auth::user_kind::admin).size(), err);
    else
        spdlog::info("{}: users file loaded: {} API user(s), {} administrator(s)", why, users.names(auth::user_kind::api).size(),
                     users.names(auth::user_kind::admin).size());
    api->users_changed();
    if (admin) admin->users_changed();
}

void app::impl::reload() {
    systemd::notify_reloading();
    auto loaded = config::load_config_file(opts.config_path);
    if (!loaded.ok()) {
        spdlog::error("reload: {} is invalid, keeping the running config:\n{}", opts.config_path, loaded.error_text());
        systemd::notify_ready("reload rejected: invalid config");
        return;
    }
    auto& next = *loaded.cfg;
    // What the next start will need, checked now: a reload that takes a file
    // the daemon could not restart with would only defer the failure. Run on
    // the loop like the rest of a reload (an operator's rare action; bind
    // addresses are numeric or /etc/hosts names in practice).
    if (auto problems = config::new_startup_problems(next, file_cfg, {&cfg, true}); !problems.empty()) {
        std::string text;
        for (const auto& p : problems) text += "\n" + p;
        spdlog::error("reload: the daemon could not start with {}, keeping the running config:{}", opts.config_path, text);
        systemd::notify_ready("reload rejected: config would not start");
        return;
    }
    // Listener addresses and the state directory are bound at start-up.
    auto same_listener = [](const config::listener& a, const config::listener& b) {
        return a.enabled == b.enabled && a.bind == b.bind && a.port == b.port;
    };
    if (!same_listener(next.api.http, cfg.api.http) || !same_listener(next.api.https, cfg.api.https) ||
        next.api.https.cert_file != cfg.api.https.cert_file || next.api.https.key_file != cfg.api.https.key_file ||
        next.state_dir != cfg.state_dir || next.admin.port != cfg.admin.port || next.admin.bind != cfg.admin.bind)
        spdlog::warn("reload: listener, TLS or state_dir changes take effect after a restart");
    file_cfg = next;
    apply(std::move(next));
    users_mtime = file_mtime(users.path());
    users_reloaded("reload");
    if (admin)
        if (auto err = admin->load_assets(); !err.empty()) spdlog::error("reload: admin UI files not reloaded: {}", err);
    spdlog::info("reload: configuration applied from {}", opts.config_path);
    systemd::notify_ready("serving (reloaded)");
}

// Applies a validated configuration (from SIGHUP or the admin UI). Listener
// addresses and the state directory are bound at start-up and kept.
void app::impl::apply(config::config next) {
    next.api.http = cfg.api.http;
    next.api.https = cfg.api.https;
    next.state_dir = cfg.state_dir;
    next.admin.bind = cfg.admin.bind;
    next.admin.port = cfg.admin.port;
    cfg = std::move(next);
    if (opts.log_level_override.empty()) set_log_level(cfg.general.log_level);
    if (http_server) http_server->set_limits(limits_from(cfg.api));
    if (https_server) https_server->set_limits(limits_from(cfg.api));
    if (admin_server) admin_server->set_limits(admin_limits(cfg.admin));
    api->apply_config(cfg);
    if (api_hosts) api_hosts->set_configured(cfg.server_names);
    modems->apply_config(cfg);
    if (admin) admin->apply_config(cfg);
}

std::string app::impl::start_admin() {
    if (!cfg.admin.enabled) {
        spdlog::info("admin UI disabled (admin.enabled is false)");
        return {};
    }
    admin::admin_deps deps{
        clock,
        [this](std::function<void()> fn) { net::post(hash_pool, std::move(fn)); },
        [this](std::function<void()> fn) { net::post(ioc, std::move(fn)); },
        [this](std::function<void()> fn) { net::post(file_pool, std::move(fn)); },
        make_scheduler(ioc),
        users,
        *api,
        *modems,
        [this]() -> const config::config& { return file_cfg; },
        [this]() -> const config::config& { return cfg; },
        [this](config::config next, std::function<void(std::vector<std::string>)> done) {
            // Written by the file executor, applied back on the io thread.
            net::post(file_pool, [this, next = std::move(next), done = std::move(done)]() mutable {
                auto err = config::save_config_file(opts.config_path, next);
                net::post(ioc, [this, err, next = std::move(next), done = std::move(done)]() mutable {
                    if (!err.empty()) {
                        spdlog::error("admin: config not saved: {}", err);
                        std::vector<std::string> errors;
                        std::size_t pos = 0;
                        while (pos < err.size()) {
                            auto end = err.find('\n', pos);
                            if (end == std::string::npos) end = err.size();
                            errors.push_back(err.substr(pos, end - pos));
                            pos = end + 1;
                        }
                        return done(errors);
                    }
                    file_cfg = next;
                    apply(std::move(next));
                    spdlog::info("admin: configuration saved to {} and applied", opts.config_path);
                    done({});
                });
            });
        },
        [this] { return process_status(); },
        [this] {
            restart = true;
            // After the answer is on its way: shutdown lets requests being
            // written finish.
            net::post(ioc, [this] { shutdown("restart requested in the admin UI"); });
        },
    };
    admin = std::make_unique<admin::service>(std::move(deps));
    // Without its files the UI cannot show, but the gateway and the admin
    // JSON API still work: say so loudly rather than refuse to start.
    if (auto err = admin->load_assets(); !err.empty()) spdlog::error("admin UI: {} (set admin.web_root to the installed web/ folder)", err);
    modems->on_event([this](const pool::pool_event& ev) {
        if (admin) admin->on_pool_event(ev);
    });
    if (cfg.admin.https) {
        std::string err;
        admin_tls = http::make_tls_context(cfg.admin.cert_file, cfg.admin.key_file, err);
        if (!admin_tls) return "admin: " + err;
    }
    admin_server = std::make_unique<http::server>(
        ioc, [this](http::request req, http::responder respond) { admin->handle(std::move(req), std::move(respond)); }, admin_limits(cfg.admin), admin_tls.get());
    if (auto err = admin_server->listen(cfg.admin.bind, cfg.admin.port); !err.empty()) return "admin: " + err;
    spdlog::info("admin UI on {}://{}:{}", cfg.admin.https ? "https" : "http", cfg.admin.bind, admin_server->port());
    return {};
}

nlohmann::json app::impl::process_status() const {
    const auto now = clock.unix_seconds();
    double load[3] = {0, 0, 0};
    if (::getloadavg(load, 3) != 3) load[0] = load[1] = load[2] = 0;
    std::size_t connections = 0;
    if (http_server) connections += http_server->stats().open;
    if (https_server) connections += https_server->stats().open;
    return {{"uptime_s", now - started_unix},
            {"started_unix", started_unix},
            {"memory_rss_bytes", resident_bytes()},
            {"cpu_temperature_c", cpu_temperature()},
            {"load_average", {load[0], load[1], load[2]}},
            {"http_connections", connections}};
}

void app::impl::shutdown(const char* why) {
    if (stopping) return;
    stopping = true;
    spdlog::info("{}: stopping; finishing work in flight (at most {} s)", why, cfg.general.shutdown_grace_s);
    // A restart keeps the process: to systemd it is a reload (RELOADING=1
    // now, READY=1 from the re-executed binary); STOPPING=1 would make it
    // wait for an exit that never comes.
    if (restart)
        systemd::notify_reloading();
    else
        systemd::notify_stopping();
    hup_signal.cancel();
    watchdog_timer.cancel();
    housekeeping_timer.cancel();
    auto pending = std::make_shared<int>(0);
    auto finished = [this, pending] {
        if (--*pending > 0) return;
        spdlog::info("stopped cleanly");
        grace_timer.cancel();
        ioc.stop();
    };
    // Each part reports when it is done; the last one ends the loop.
    ++*pending;  // modems
    if (http_server) ++*pending;
    if (https_server) ++*pending;
    if (admin_server) ++*pending;
    if (admin) admin->stop();
    if (admin_server) admin_server->stop(finished);
    if (http_server) http_server->stop(finished);
    if (https_server) https_server->stop(finished);
    modems->stop(finished);
    grace_timer.expires_after(std::chrono::seconds(cfg.general.shutdown_grace_s));
    grace_timer.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        spdlog::warn("grace period over: stopping with work still in flight");
        ioc.stop();
    });
}

app::app(run_options opts, config::config cfg) : impl_(std::make_unique<impl>(std::move(opts), std::move(cfg))) {}

app::~app() {
    // Workers may still hold tasks that post back into the loop; finish them
    // before the objects they reference go away.
    impl_->hash_pool.join();
    impl_->file_pool.join();
}

bool app::restart_requested() const { return impl_->restart; }

void app::request_stop() {
    net::post(impl_->ioc, [this] { impl_->shutdown("stop requested"); });
}

int app::run() {
    auto& s = *impl_;
    if (auto err = s.start(); !err.empty()) {
        spdlog::critical("cannot start: {}", err);
        return 1;
    }
    s.ioc.run();
    // Drain file writes that were already queued (e.g. a block-list change that
    // was answered): nothing accepted is lost.
    s.file_pool.join();
    return s.exit_code;
}

}  // namespace otppi::daemon
