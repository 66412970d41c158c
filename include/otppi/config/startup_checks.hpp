// What a start of the daemon needs beyond a well-formed config: the checks the
// admin settings API runs before saving, the admin restart and SIGHUP reload
// run before going ahead, and `otppi config-check` runs from the command line.
//
// Every problem is "<json.path>: <what is wrong>", like parse_config()'s errors.
// Checked:
// - state_dir: not a system directory (/, /etc, /usr, /var, ...; symlinks
//   resolved), a writable directory, or creatable under a writable parent;
// - admin.web_root (admin enabled): not a system directory, a directory with
//   an index.html (a warning only for config-check, see web_root below);
// - TLS (api.https enabled, admin.https on): certificate chain and key load
//   (OpenSSL) and the key matches the certificate;
// - bind addresses (enabled listeners) parse or resolve, and name an address
//   of this machine;
// - ports: no two enabled listeners on the same port where their addresses
//   overlap; with probe_ports, a port this daemon does not hold yet is free.
//
// Not pure: reads files, resolves names and binds test sockets; call it off
// the event loop. Thread-safety: none needed (no shared state).
#pragma once

#include "otppi/config/config.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace otppi::config {

struct startup_check_options {
    // The config this daemon runs with: its listeners' ports are held by us and
    // are not reported as taken. Null from the command line.
    const config* running = nullptr;
    // Try to bind each enabled listener that `running` does not already hold.
    bool probe_ports = false;
    // Include admin.web_root. Without its files the daemon still starts (the
    // gateway does not need the UI), so `otppi config-check`, which systemd
    // runs before every start, reports them as a warning instead.
    bool web_root = true;
};

std::vector<std::string> check_startup(const config& cfg, const startup_check_options& opts = {});
// admin.web_root alone (nothing when the admin UI is disabled).
std::vector<std::string> check_web_root(const config& cfg);

// The problems of `next` that `baseline` does not have: an edit is refused for
// what it breaks, not for what was already broken before it (those stay for
// config-check and the restart check to name).
std::vector<std::string> new_startup_problems(const config& next, const config& baseline, const startup_check_options& opts = {});

namespace detail {
// Pure: whether `path` (absolute, lexically normalised by the caller or not)
// is a directory of the operating system that the daemon must not own or serve.
bool is_system_directory(std::string_view path);
// Pure: "<path>: ..." for every pair of enabled listeners that would collide.
std::vector<std::string> port_collisions(const config& cfg);
}  // namespace detail

}  // namespace otppi::config
