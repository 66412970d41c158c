// otppi command line: parse arguments, load the config, hand over to
// daemon::app (the daemon) or to one of the small admin commands.
#include "otppi/auth/password.hpp"
#include "otppi/auth/user_store.hpp"
#include "otppi/config/config.hpp"
#include "otppi/config/startup_checks.hpp"
#include "otppi/daemon/app.hpp"
#include "otppi/core/log.hpp"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

namespace {

constexpr std::size_t min_password_length = 8;

std::optional<otppi::config::config> load_or_report(const std::string& path) {
    auto loaded = otppi::config::load_config_file(path);
    if (!loaded.ok()) {
        std::cerr << "otppi: invalid configuration " << path << ":\n";
        for (const auto& e : loaded.errors) std::cerr << "  " << e << "\n";
        return std::nullopt;
    }
    return std::move(*loaded.cfg);
}

// Reads one line without echo when stdin is a terminal; otherwise the first
// line of stdin (so scripts can pipe a password in).
bool read_secret_line(const char* prompt, std::string& out) {
    const bool tty = ::isatty(STDIN_FILENO) == 1;
    termios old{};
    if (tty) {
        std::cerr << prompt << std::flush;
        ::tcgetattr(STDIN_FILENO, &old);
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    const bool ok = static_cast<bool>(std::getline(std::cin, out));
    if (tty) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
        std::cerr << "\n";
    }
    if (!out.empty() && out.back() == '\r') out.pop_back();
    return ok;
}

int manage_users(otppi::auth::user_kind kind, const std::string& action, const std::string& name, const std::string& config_path) {
    auto cfg = load_or_report(config_path);
    if (!cfg) return 2;
    const char* what = kind == otppi::auth::user_kind::api ? "API user" : "administrator";
    otppi::auth::user_store users(cfg->state_dir);
    if (auto err = users.load(); !err.empty()) {
        std::cerr << "otppi: " << err << "\n";
        return 1;
    }
    if (action == "list") {
        for (const auto& n : users.names(kind)) std::cout << n << "\n";
        return 0;
    }
    if (name.empty()) {
        std::cerr << "otppi: " << action << " needs a NAME\n";
        return 2;
    }
    if (!otppi::auth::user_store::valid_name(name)) {
        std::cerr << "otppi: invalid name '" << name << "': use 1-64 letters, digits, '.', '_', '-' or '@'\n";
        return 2;
    }
    if (action == "remove") {
        if (!users.remove(kind, name)) {
            std::cerr << "otppi: no " << what << " named '" << name << "'\n";
            return 1;
        }
    } else {  // add, passwd
        const bool exists = users.find(kind, name) != nullptr;
        if (action == "add" && exists) {
            std::cerr << "otppi: " << what << " '" << name << "' already exists; to change the password use: passwd " << name << "\n";
            return 1;
        }
        if (action == "passwd" && !exists) {
            std::cerr << "otppi: no " << what << " named '" << name << "'\n";
            return 1;
        }
        std::string password, again;
        if (!read_secret_line("Password: ", password)) {
            std::cerr << "otppi: no password on standard input\n";
            return 2;
        }
        if (::isatty(STDIN_FILENO) == 1) {
            read_secret_line("Repeat password: ", again);
            if (again != password) {
                std::cerr << "otppi: passwords do not match\n";
                return 2;
            }
        }
        if (password.size() < min_password_length) {
            std::cerr << "otppi: password too short: at least " << min_password_length << " characters\n";
            return 2;
        }
        std::string hash = otppi::auth::hash_password(password);
        OPENSSL_cleanse(password.data(), password.size());
        OPENSSL_cleanse(again.data(), again.size());
        if (hash.empty()) {
            std::cerr << "otppi: could not hash the password (OpenSSL scrypt failed)\n";
            return 1;
        }
        users.put(kind, name, {hash, static_cast<std::int64_t>(std::time(nullptr))});
    }
    if (auto err = users.save(); !err.empty()) {
        std::cerr << "otppi: " << err << "\n";
        return 1;
    }
    // Run as root for a daemon that runs as its own user: hand the file over.
    struct stat st{};
    if (::geteuid() == 0 && ::stat(cfg->state_dir.c_str(), &st) == 0 && st.st_uid != 0) {
        if (::chown(users.path().c_str(), st.st_uid, st.st_gid) != 0) std::cerr << "otppi: warning: cannot chown " << users.path() << "\n";
    }
    std::cout << what << " '" << name << "' " << (action == "remove" ? "removed" : action == "add" ? "added" : "updated")
              << " (a running daemon picks this up within seconds)\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"otppi: SMS and one-time-password gateway for GSM modems"};
    cli.set_version_flag("--version", std::string("otppi ") + OTPPI_VERSION);
    cli.fallthrough();  // `otppi config-check --config FILE` takes the top-level option
    std::string config_path = OTPPI_DEFAULT_CONFIG;
    std::string log_level;
    cli.add_option("-c,--config", config_path, "Configuration file")->capture_default_str();
    cli.add_option("--log-level", log_level, "Override general.log_level (trace, debug, info, warn, error)");

    auto* check = cli.add_subcommand("config-check", "Validate the configuration and what a start needs (directories, TLS files, addresses); exit 0 when valid");

    std::string api_action, api_name, admin_action, admin_name;
    auto* api_user = cli.add_subcommand("api-user", "Manage REST API users (password read from stdin)");
    api_user->add_option("action", api_action, "add | passwd | remove | list")->required()->check(CLI::IsMember({"add", "passwd", "remove", "list"}));
    api_user->add_option("name", api_name, "User name");
    auto* admin_user = cli.add_subcommand("admin-user", "Manage administrators of the web UI (password read from stdin)");
    admin_user->add_option("action", admin_action, "add | passwd | remove | list")->required()->check(CLI::IsMember({"add", "passwd", "remove", "list"}));
    admin_user->add_option("name", admin_name, "User name");
    cli.require_subcommand(0, 1);

    CLI11_PARSE(cli, argc, argv);

    if (*check) {
        auto cfg = load_or_report(config_path);
        if (!cfg) return 2;
        // The same checks the admin settings API and a restart run. Ports are
        // not probed: a running daemon holds them. The UI's files only warn:
        // systemd runs this before each start, and the gateway works without them.
        for (const auto& w : otppi::config::check_web_root(*cfg)) std::cerr << "otppi: warning: the admin UI would not show: " << w << "\n";
        otppi::config::startup_check_options opts;
        opts.web_root = false;
        if (auto problems = otppi::config::check_startup(*cfg, opts); !problems.empty()) {
            std::cerr << "otppi: the daemon would not start with " << config_path << ":\n";
            for (const auto& p : problems) std::cerr << "  " << p << "\n";
            return 2;
        }
        std::cout << config_path << ": OK (" << cfg->modems.size() << " modem(s))\n";
        return 0;
    }
    if (*api_user) return manage_users(otppi::auth::user_kind::api, api_action, api_name, config_path);
    if (*admin_user) return manage_users(otppi::auth::user_kind::admin, admin_action, admin_name, config_path);

    if (!log_level.empty() && !otppi::core::is_valid_log_level(log_level)) {
        std::cerr << "otppi: --log-level: expected trace, debug, info, warn, error, critical or off\n";
        return 2;
    }
    auto cfg = load_or_report(config_path);
    if (!cfg) return 2;
    otppi::core::init_logging(log_level.empty() ? cfg->general.log_level : log_level);
    otppi::daemon::run_options opts;
    opts.config_path = config_path;
    opts.log_level_override = log_level;
    int rc = 0;
    bool restart = false;
    {
        otppi::daemon::app daemon(std::move(opts), std::move(*cfg));
        rc = daemon.run();
        restart = daemon.restart_requested();
    }  // every socket, port and file of this run is closed here
    if (restart && rc == 0) {
        spdlog::info("restarting");
        spdlog::shutdown();
        ::execv("/proc/self/exe", argv);
        std::cerr << "otppi: restart failed: " << std::strerror(errno) << "\n";
        return 1;
    }
    return rc;
}
