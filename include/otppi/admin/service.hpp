// The admin web UI's server side: static assets, sessions and CSRF, the admin
// JSON API (docs/admin-api.md) and the live monitor WebSocket.
//
// Contract
// - handle() answers every request exactly once, with a JSON error sentence
//   for every failure; bad input never throws past it.
// - State-changing requests need a session cookie, its CSRF token in
//   X-CSRF-Token, and no foreign Origin. Everything but GET /admin/api/session,
//   setup, login and the static files needs a logged-in session.
// - Configuration changes are serialised: each starts from the configuration
//   the previous one left, is validated by the config schema, written to the
//   config file atomically and applied (deps.change_config) before the answer.
// - Password hashing runs on deps.offload, file writes on deps.file_io; the
//   io thread never waits for either.
// - Secrets (passwords, SIM PINs, message text of the monitor) never reach a
//   log; the only message text in replies is the inbox, for its owner.
// Thread-safety: everything on the io_context thread.
#pragma once

#include "otppi/config/config.hpp"
#include "otppi/core/clock.hpp"
#include "otppi/core/scheduler.hpp"
#include "otppi/http/server.hpp"

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace otppi::auth {
class user_store;
}
namespace otppi::api {
class service;
}
namespace otppi::pool {
class modem_pool;
struct pool_event;
}  // namespace otppi::pool

namespace otppi::admin {

using executor_fn = std::function<void(std::function<void()>)>;
// Validated next config in, list of problems out (empty: saved and applied).
using change_config_fn = std::function<void(config::config next, std::function<void(std::vector<std::string> errors)> done)>;

struct admin_deps {
    const core::Clock& clock;
    executor_fn offload;  // password hashes
    executor_fn post;     // back onto the io thread
    executor_fn file_io;  // ordered, blocking file work
    core::schedule_fn schedule;
    auth::user_store& users;
    api::service& api;
    pool::modem_pool& pool;
    // The configuration as saved in the file (what edits start from), and the
    // one running now (they differ in what applies only after a restart).
    std::function<const config::config&()> current_config;
    std::function<const config::config&()> running_config;
    change_config_fn change_config;
    // Process figures from the app: uptime_s, started_unix, memory_rss_bytes,
    // cpu_temperature_c, load_average, http_connections.
    std::function<nlohmann::json()> process_status;
    // Stops the daemon gracefully and starts it again (same PID).
    std::function<void()> restart;
};

class service {
public:
    explicit service(admin_deps deps);
    ~service();
    service(const service&) = delete;
    service& operator=(const service&) = delete;

    // Loads the assets from config admin.web_root. Empty string on success.
    std::string load_assets();
    void handle(http::request req, http::responder respond);
    // Session timeouts and the like, after a reload.
    void apply_config(const config::config& cfg);
    // The users file was (re)loaded: ends the sessions (and monitors) of every
    // administrator whose record changed or vanished.
    void users_changed();
    // Feeds the live monitor.
    void on_pool_event(const pool::pool_event& ev);
    // Closes monitor connections and timers (daemon stop).
    void stop();

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace otppi::admin
