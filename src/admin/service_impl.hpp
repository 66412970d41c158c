// Internal to src/admin: the state shared by the request framework
// (service.cpp: sessions, CSRF, assets, monitor) and the JSON API handlers
// (handlers.cpp, accounts.cpp).
#pragma once

#include "otppi/admin/assets.hpp"
#include "otppi/admin/service.hpp"
#include "otppi/admin/session_store.hpp"
#include "otppi/http/host_check.hpp"
#include "otppi/otp/throttle.hpp"

#include <nlohmann/json.hpp>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace otppi::admin {

using nlohmann::json;

// One API call on its way through the handlers.
struct call {
    http::request req;
    http::responder respond;
    std::vector<std::string> segments;  // path after /admin/api/, split on '/', percent-decoded
    std::string session_id;             // the cookie's id; may be rotated by login
    json body;                          // the parsed JSON body (an object), or null
    bool tls = false;
};
using call_ptr = std::shared_ptr<call>;

// The value of `key` in a list like "a=1; b=2" (cookies, sep ';') or "a=1&b=2"
// (query strings, sep '&'); empty when absent.
std::string list_value(std::string_view list, char sep, std::string_view key);

// A string field of the body, or nullopt with `error` set to a sentence (the
// first problem only): missing, not text, longer than `max_len`, or empty
// when required.
std::optional<std::string> text(const json& body, const char* name, std::size_t max_len, std::string& error, bool required = true);

// One day's SMS log (pool/sms_log.hpp's CSV under state_dir/sms-log/): each
// entry as its 8 fields; the header line and damaged lines are left out.
// Blocking file I/O: call it on the file executor.
std::vector<std::vector<std::string>> read_sms_log_day(const std::string& state_dir, const std::string& day);

struct service::impl {
    explicit impl(admin_deps d);

    admin_deps deps;
    asset_store assets;
    std::string assets_error;  // why the UI's files could not be loaded
    session_store sessions;
    otp::sliding_window_throttle login_failures;
    // First-run setup (admin/setup_code.hpp): the code while no
    // administrator exists, empty once one does; wrong codes per address.
    std::string setup_code;
    otp::sliding_window_throttle setup_failures;
    struct monitor {
        std::shared_ptr<http::websocket> socket;
        std::string session_id;  // closed when this session ends
    };
    std::vector<monitor> monitors;
    std::function<void()> cancel_tick;
    bool stopped = false;
    // Config changes wait here so that each starts from the previous result.
    std::deque<std::function<void()>> config_queue;
    bool config_busy = false;
    // SMS sent and failed per UTC day, from pool events (seeded from the SMS
    // log at start).
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> day_counts;
    // The OTP engine's values as started: api::service keeps them until the
    // process restarts, whatever the running config says later.
    config::otp_config engine_otp;
    http::host_check hosts;

    const config::config& cfg() const { return deps.current_config(); }

    // ---- framework (service.cpp)
    void route(const call_ptr& c);
    void reply(const call_ptr& c, int status, const json& body, std::vector<std::pair<std::string, std::string>> extra = {});
    void fail(const call_ptr& c, int status, const std::string& message, const std::vector<std::string>& errors = {});
    // The caller's live session; a logged-in one whose administrator was
    // removed or given a new password since its login is ended here.
    admin_session* session_of(const call_ptr& c);
    bool credential_current(const admin_session& s) const;
    // Ends every session whose credentials changed and closes its monitors.
    void end_stale_sessions();
    // Makes (or reads back) the setup code while no administrator exists and
    // forgets and deletes it once one does. `at_start`: blocking file work is
    // allowed (the daemon is starting); later it runs on deps.file_io.
    void prepare_setup_code(bool at_start);
    std::string setup_code_path() const;
    std::string cookie_for(const std::string& id, bool tls) const;
    json status_json();
    json modems_json();
    void broadcast(const std::string& text);
    void tick();
    std::string today() const;

    // Runs `edit` on the JSON form of the current config, validates the
    // result with the config schema, then saves and applies it. `edit` returns
    // an empty string, or "404 ..." / "409 ..." to refuse with that status.
    void change_config(const call_ptr& c, std::function<std::string(json& doc)> edit, std::function<void(const config::config&)> after);
    void next_config_change();
    void save_users(std::function<void(std::string error)> done);

    // ---- handlers (handlers.cpp)
    void get_session(const call_ptr& c);
    void setup(const call_ptr& c);
    void login(const call_ptr& c);
    void logout(const call_ptr& c);
    void change_password(const call_ptr& c);
    void modems(const call_ptr& c);
    void modem_action(const call_ptr& c);
    void send_sms(const call_ptr& c);
    void inbox(const call_ptr& c);
    void ussd(const call_ptr& c);
    void blocklist(const call_ptr& c);
    void users(const call_ptr& c, bool admins);
    void settings(const call_ptr& c);
    void sms_log(const call_ptr& c);
};

}  // namespace otppi::admin
