// The daemon: one io_context on one thread owns all state (API, OTP store,
// modems); slow work (password hashing, file writes) runs on small worker pools
// and posts its result back. run() returns the process exit code.
//
// Lifecycle: start listeners -> READY=1 -> serve -> SIGTERM/SIGINT: STOPPING=1,
// stop accepting, let in-flight requests finish within general.shutdown_grace_s,
// exit 0. SIGHUP: re-read the config into a temporary, swap only if valid.
#pragma once

#include "otppi/config/config.hpp"

#include <functional>
#include <memory>
#include <string>

namespace otppi::daemon {

struct run_options {
    std::string config_path;
    std::string log_level_override;  // from --log-level, wins over the config
    // Called on the io thread once listening; tests use it to learn the ports.
    std::function<void(std::uint16_t http_port, std::uint16_t https_port)> on_ready;
};

class app {
public:
    app(run_options opts, config::config cfg);
    ~app();
    int run();
    // Asks a running app to stop, from any thread (used by tests).
    void request_stop();
    // After run() returned: whether the admin asked for a restart (main then
    // re-executes the binary with the same arguments, keeping the PID that
    // systemd watches).
    bool restart_requested() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace otppi::daemon
