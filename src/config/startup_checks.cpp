#include "otppi/config/startup_checks.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace otppi::config {

namespace fs = std::filesystem;

namespace detail {

bool is_system_directory(std::string_view raw) {
    std::string p = fs::path(std::string(raw)).lexically_normal().string();
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (p.empty() || p == "/") return true;
    // Kernel file systems: nothing under them is ours.
    for (std::string_view pseudo : {"/proc", "/sys", "/dev"})
        if (p == pseudo || p.starts_with(std::string(pseudo) + "/")) return true;
    // The operating system's own directories, as a whole. Their subdirectories
    // (/var/lib/otppi, /usr/local/share/otppi/web, /etc/otppi) are where a
    // package puts its files.
    static constexpr std::array exact{"/bin",       "/boot",          "/etc",           "/home",         "/media",        "/mnt",
                                      "/opt",       "/root",          "/run",           "/sbin",         "/srv",          "/tmp",
                                      "/usr",       "/var",           "/usr/bin",       "/usr/sbin",     "/usr/include",  "/usr/libexec",
                                      "/usr/share", "/usr/src",       "/usr/local",     "/usr/local/bin", "/usr/local/sbin", "/usr/local/lib",
                                      "/usr/local/share", "/usr/local/etc", "/var/lib", "/var/log",     "/var/run",      "/var/tmp",
                                      "/var/cache", "/var/spool",     "/var/mail",      "/var/backups",  "/var/local",    "/var/opt",
                                      "/etc/ssl",   "/etc/systemd"};
    if (std::find(exact.begin(), exact.end(), p) != exact.end()) return true;
    // /lib, /lib32, /lib64, /libx32 and their /usr and /usr/local twins.
    for (std::string_view parent : {"/", "/usr/", "/usr/local/"}) {
        if (!p.starts_with(parent)) continue;
        std::string_view rest = std::string_view(p).substr(parent.size());
        for (std::string_view lib : {"lib", "lib32", "lib64", "libx32", "libexec"})
            if (rest == lib) return true;
    }
    return false;
}

namespace {
struct listener_ref {
    const char* name;  // JSON path of the listener
    const char* port_path;
    bool enabled;
    std::string bind;
    std::uint16_t port;
};

std::vector<listener_ref> listeners_of(const config& cfg) {
    return {{"api.http", "api.http.port", cfg.api.http.enabled, cfg.api.http.bind, cfg.api.http.port},
            {"api.https", "api.https.port", cfg.api.https.enabled, cfg.api.https.bind, cfg.api.https.port},
            {"admin", "admin.port", cfg.admin.enabled, cfg.admin.bind, cfg.admin.port}};
}

bool wildcard(const std::string& bind) { return bind.empty() || bind == "0.0.0.0" || bind == "::" || bind == "[::]"; }
}  // namespace

std::vector<std::string> port_collisions(const config& cfg) {
    std::vector<std::string> out;
    const auto ls = listeners_of(cfg);
    for (std::size_t i = 0; i < ls.size(); ++i)
        for (std::size_t j = i + 1; j < ls.size(); ++j) {
            const auto& a = ls[i];
            const auto& b = ls[j];
            if (!a.enabled || !b.enabled || a.port != b.port) continue;
            if (a.bind != b.bind && !wildcard(a.bind) && !wildcard(b.bind)) continue;
            out.push_back(std::string(b.port_path) + ": " + std::to_string(b.port) + " is also " + a.port_path + " (on " + a.bind +
                          "); each listener needs a port of its own");
        }
    return out;
}

}  // namespace detail

namespace {

std::string openssl_reason() {
    const unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return "unknown error";
    // OpenSSL 3 files a failed open as a system error: errno in the reason.
    if (ERR_SYSTEM_ERROR(e)) return std::strerror(static_cast<int>(ERR_GET_REASON(e)));
    const char* r = ERR_reason_error_string(e);
    return r ? r : "error " + std::to_string(e);
}

SSL_CTX* new_ctx() {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    // An encrypted key would make OpenSSL prompt on a terminal; the daemon
    // cannot answer one, so treat it as unreadable.
    if (ctx) SSL_CTX_set_default_passwd_cb(ctx, [](char*, int, int, void*) { return 0; });
    return ctx;
}

void check_tls(const std::string& where, const std::string& cert, const std::string& key, std::vector<std::string>& out) {
    ERR_clear_error();
    SSL_CTX* cert_ctx = new_ctx();
    SSL_CTX* key_ctx = new_ctx();
    if (!cert_ctx || !key_ctx) {
        out.push_back(where + ".cert_file: cannot check: " + openssl_reason());
    } else {
        // Each file on its own first, so that an unreadable key and a key of
        // another certificate get different messages.
        const bool cert_ok = SSL_CTX_use_certificate_chain_file(cert_ctx, cert.c_str()) == 1;
        if (!cert_ok) out.push_back(where + ".cert_file: cannot load the certificate " + cert + ": " + openssl_reason());
        const bool key_ok = SSL_CTX_use_PrivateKey_file(key_ctx, key.c_str(), SSL_FILETYPE_PEM) == 1;
        if (!key_ok) out.push_back(where + ".key_file: cannot load the key " + key + " (PEM, not encrypted): " + openssl_reason());
        if (cert_ok && key_ok &&
            (SSL_CTX_use_PrivateKey(cert_ctx, SSL_CTX_get0_privatekey(key_ctx)) != 1 || SSL_CTX_check_private_key(cert_ctx) != 1))
            out.push_back(where + ".key_file: " + key + " is not the key of the certificate " + cert);
    }
    ERR_clear_error();
    SSL_CTX_free(cert_ctx);
    SSL_CTX_free(key_ctx);
}

void check_state_dir(const std::string& path, std::vector<std::string>& out) {
    std::error_code ec;
    const auto canonical = fs::weakly_canonical(path, ec);
    if (detail::is_system_directory(path) || (!ec && detail::is_system_directory(canonical.string()))) {
        out.push_back("state_dir: " + path + " is a system directory; use one of its own, such as /var/lib/otppi");
        return;
    }
    if (fs::exists(path, ec)) {
        if (!fs::is_directory(path, ec)) {
            out.push_back("state_dir: " + path + " exists and is not a directory");
            return;
        }
        if (::access(path.c_str(), W_OK | X_OK) != 0)
            out.push_back("state_dir: " + path + " is not writable by this user (uid " + std::to_string(::geteuid()) + ")");
        return;
    }
    // Created at start: the nearest existing parent must let us.
    fs::path parent = fs::path(path).parent_path();
    while (!parent.empty() && parent != parent.root_path() && !fs::exists(parent, ec)) parent = parent.parent_path();
    if (parent.empty()) parent = "/";
    if (!fs::is_directory(parent, ec) || ::access(parent.c_str(), W_OK | X_OK) != 0)
        out.push_back("state_dir: " + path + " does not exist and cannot be created (" + parent.string() + " is not writable by uid " +
                      std::to_string(::geteuid()) + ")");
}

void check_web_root_dir(const std::string& path, std::vector<std::string>& out) {
    std::error_code ec;
    const auto canonical = fs::weakly_canonical(path, ec);
    if (detail::is_system_directory(path) || (!ec && detail::is_system_directory(canonical.string()))) {
        out.push_back("admin.web_root: " + path + " is a system directory; set it to the installed web/ folder of otppi");
        return;
    }
    if (!fs::is_directory(path, ec)) {
        out.push_back("admin.web_root: " + path + " is not a directory");
        return;
    }
    if (!fs::is_regular_file(fs::path(path) / "index.html", ec))
        out.push_back("admin.web_root: " + path + " has no index.html; set it to the installed web/ folder of otppi");
}

// Resolves `bind` and checks it is an address of this machine (a bind to
// port 0 succeeds); with `probe_port`, also that `port` is free.
void check_listener(const std::string& where, const std::string& port_path, const std::string& bind, std::uint16_t port, bool probe_port,
                    std::vector<std::string>& out) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* res = nullptr;
    const std::string host = bind.size() > 2 && bind.front() == '[' && bind.back() == ']' ? bind.substr(1, bind.size() - 2) : bind;
    if (int rc = ::getaddrinfo(host.c_str(), "0", &hints, &res); rc != 0 || !res) {
        out.push_back(where + ".bind: cannot resolve '" + bind + "': " + ::gai_strerror(rc));
        return;
    }
    auto try_bind = [&](std::uint16_t p, int& err) {
        int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            return false;
        }
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_storage addr{};
        std::memcpy(&addr, res->ai_addr, res->ai_addrlen);
        if (addr.ss_family == AF_INET)
            reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(p);
        else if (addr.ss_family == AF_INET6)
            reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(p);
        const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), res->ai_addrlen) == 0;
        err = ok ? 0 : errno;
        ::close(fd);
        return ok;
    };
    int err = 0;
    if (!try_bind(0, err) && err == EADDRNOTAVAIL) {
        out.push_back(where + ".bind: " + bind + " is not an address of this machine");
    } else if (probe_port && !try_bind(port, err)) {
        if (err == EADDRINUSE)
            out.push_back(port_path + ": " + std::to_string(port) + " on " + bind + " is in use by another program");
        else if (err == EACCES)
            out.push_back(port_path + ": " + std::to_string(port) + " needs a privilege this process lacks (ports below 1024 need CAP_NET_BIND_SERVICE)");
    }
    ::freeaddrinfo(res);
}

bool held_by(const config& running, const std::string& bind, std::uint16_t port) {
    const auto& r = running;
    auto same = [&](bool enabled, const std::string& b, std::uint16_t p) { return enabled && b == bind && p == port; };
    return same(r.api.http.enabled, r.api.http.bind, r.api.http.port) || same(r.api.https.enabled, r.api.https.bind, r.api.https.port) ||
           same(r.admin.enabled, r.admin.bind, r.admin.port);
}

}  // namespace

std::vector<std::string> check_startup(const config& cfg, const startup_check_options& opts) {
    std::vector<std::string> out;
    check_state_dir(cfg.state_dir, out);
    if (opts.web_root && cfg.admin.enabled) check_web_root_dir(cfg.admin.web_root, out);
    if (cfg.api.https.enabled) check_tls("api.https", cfg.api.https.cert_file, cfg.api.https.key_file, out);
    if (cfg.admin.enabled && cfg.admin.https) check_tls("admin", cfg.admin.cert_file, cfg.admin.key_file, out);
    const auto collisions = detail::port_collisions(cfg);
    out.insert(out.end(), collisions.begin(), collisions.end());
    auto listener = [&](const char* where, const char* port_path, bool enabled, const std::string& bind, std::uint16_t port) {
        if (!enabled) return;
        const bool probe = opts.probe_ports && collisions.empty() && !(opts.running && held_by(*opts.running, bind, port));
        check_listener(where, port_path, bind, port, probe, out);
    };
    listener("api.http", "api.http.port", cfg.api.http.enabled, cfg.api.http.bind, cfg.api.http.port);
    listener("api.https", "api.https.port", cfg.api.https.enabled, cfg.api.https.bind, cfg.api.https.port);
    listener("admin", "admin.port", cfg.admin.enabled, cfg.admin.bind, cfg.admin.port);
    return out;
}

std::vector<std::string> check_web_root(const config& cfg) {
    std::vector<std::string> out;
    if (cfg.admin.enabled) check_web_root_dir(cfg.admin.web_root, out);
    return out;
}

std::vector<std::string> new_startup_problems(const config& next, const config& baseline, const startup_check_options& opts) {
    auto problems = check_startup(next, opts);
    if (problems.empty()) return problems;
    const auto before = check_startup(baseline, opts);
    std::erase_if(problems, [&](const std::string& p) { return std::find(before.begin(), before.end(), p) != before.end(); });
    return problems;
}

}  // namespace otppi::config
