#include "otppi/http/host_check.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <array>
#include <charconv>

namespace otppi::http {

namespace {

// Interfaces are read again on a miss at most this often: often enough to
// follow a new DHCP lease, rarely enough that a flood of bad Host headers
// cannot make every request walk the interface list.
constexpr auto refresh_interval = std::chrono::seconds(10);

// An IP literal in canonical text form, or empty if `s` is none.
std::string canonical_ip(const std::string& s) {
    std::array<unsigned char, 16> buf{};
    std::array<char, INET6_ADDRSTRLEN> out{};
    if (inet_pton(AF_INET, s.c_str(), buf.data()) == 1) return inet_ntop(AF_INET, buf.data(), out.data(), out.size()) ? out.data() : "";
    if (inet_pton(AF_INET6, s.c_str(), buf.data()) == 1) return inet_ntop(AF_INET6, buf.data(), out.data(), out.size()) ? out.data() : "";
    return {};
}

bool valid_port(std::string_view p) {
    if (p.empty() || p.size() > 5) return false;
    unsigned v = 0;
    auto r = std::from_chars(p.data(), p.data() + p.size(), v);
    return r.ec == std::errc{} && r.ptr == p.data() + p.size() && v <= 65535;
}

bool loopback(const std::string& host) {
    if (host == "localhost" || host == "::1") return true;
    std::array<unsigned char, 4> v4{};
    return inet_pton(AF_INET, host.c_str(), v4.data()) == 1 && v4[0] == 127;
}

}  // namespace

bool normalize_host(std::string_view value, std::string& host, std::string& port) {
    host.clear();
    port.clear();
    if (value.empty() || value.size() > 300) return false;
    std::string_view h;
    if (value.front() == '[') {
        const auto close = value.find(']');
        if (close == std::string_view::npos) return false;
        h = value.substr(1, close - 1);
        auto rest = value.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':' || !valid_port(rest.substr(1))) return false;
            port = rest.substr(1);
        }
        auto ip = canonical_ip(std::string(h));
        if (ip.empty() || ip.find(':') == std::string::npos) return false;  // brackets hold IPv6 only
        host = ip;
        return true;
    }
    const auto colon = value.rfind(':');
    h = value.substr(0, colon);
    if (colon != std::string_view::npos) {
        if (h.find(':') != std::string_view::npos) return false;  // a bare IPv6 literal needs brackets
        if (!valid_port(value.substr(colon + 1))) return false;
        port = value.substr(colon + 1);
    }
    // No empty labels (".", "a..b", ".a"); one trailing dot is the root and goes.
    if (h.empty() || h.front() == '.' || h.find("..") != std::string_view::npos) return false;
    if (h.back() == '.') h.remove_suffix(1);
    if (h.empty() || h.size() > 253) return false;
    for (char ch : h) {
        const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_';
        if (!ok) return false;
        host += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    }
    if (auto ip = canonical_ip(host); !ip.empty()) host = ip;
    return true;
}

bool host_allowed(std::string_view host_header, const std::set<std::string>& names) {
    if (host_header.empty()) return true;
    std::string host, port;
    if (!normalize_host(host_header, host, port)) return false;
    return loopback(host) || names.count(host) > 0;
}

bool origin_allowed(std::string_view origin, bool tls, std::string_view host_header, const std::set<std::string>& names) {
    const std::string_view scheme = tls ? "https://" : "http://";
    if (origin.size() <= scheme.size()) return false;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(origin[i])) != scheme[i]) return false;
    std::string o_host, o_port, h_host, h_port;
    if (!normalize_host(origin.substr(scheme.size()), o_host, o_port)) return false;  // also refuses a path or "null"
    if (!host_allowed(origin.substr(scheme.size()), names)) return false;
    // Both must name us: the front door checks Host first, this holds on its own too.
    if (!host_allowed(host_header, names)) return false;
    if (!host_header.empty() && !normalize_host(host_header, h_host, h_port)) return false;
    auto effective = [tls](const std::string& p) {
        unsigned v = tls ? 443 : 80;
        if (!p.empty()) std::from_chars(p.data(), p.data() + p.size(), v);
        return v;
    };
    return host_header.empty() || effective(o_port) == effective(h_port);
}

std::set<std::string> static_names(const std::vector<std::string>& configured, const std::string& bind_address, const std::string& host_name) {
    std::set<std::string> out = {"localhost", "127.0.0.1", "::1"};
    auto add = [&out](const std::string& name) {
        // Configured and bind addresses are bare: an IPv6 literal has no brackets there.
        const bool bare_v6 = !name.empty() && name.front() != '[' && name.find(':') != std::string::npos;
        std::string host, port;
        if (normalize_host(bare_v6 ? "[" + name + "]" : name, host, port)) out.insert(host);
    };
    for (const auto& n : configured) add(n);
    // A wildcard bind is no name a browser would use.
    if (!bind_address.empty() && bind_address != "0.0.0.0" && bind_address != "::") add(bind_address);
    if (!host_name.empty()) {
        add(host_name);
        if (host_name.find('.') == std::string::npos) add(host_name + ".local");
    }
    return out;
}

std::set<std::string> interface_addresses() {
    std::set<std::string> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return out;
    for (auto* ifa = list; ifa; ifa = ifa->ifa_next) {
        if (!ifa->ifa_addr) continue;
        std::array<char, INET6_ADDRSTRLEN> text{};
        if (ifa->ifa_addr->sa_family == AF_INET) {
            const auto* a = reinterpret_cast<const sockaddr_in*>(ifa->ifa_addr);
            if (inet_ntop(AF_INET, &a->sin_addr, text.data(), text.size())) out.insert(text.data());
        } else if (ifa->ifa_addr->sa_family == AF_INET6) {
            const auto* a = reinterpret_cast<const sockaddr_in6*>(ifa->ifa_addr);
            if (inet_ntop(AF_INET6, &a->sin6_addr, text.data(), text.size())) out.insert(text.data());
        }
    }
    ::freeifaddrs(list);
    return out;
}

host_check::host_check(const core::Clock& clock, std::vector<std::string> configured, std::vector<std::string> bind_addresses)
    : clock_(clock), configured_(std::move(configured)), binds_(std::move(bind_addresses)) {
    rebuild();
}

void host_check::set_configured(std::vector<std::string> configured) {
    configured_ = std::move(configured);
    rebuild();
}

void host_check::rebuild() {
    std::array<char, 256> name{};
    std::string host_name;
    if (::gethostname(name.data(), name.size() - 1) == 0) host_name = name.data();
    names_.clear();
    for (const auto& b : binds_) names_.merge(static_names(configured_, b, host_name));
    if (binds_.empty()) names_ = static_names(configured_, {}, host_name);
    names_.merge(interface_addresses());
    refreshed_ = clock_.now();
    ever_refreshed_ = true;
}

bool host_check::refresh_if_due() {
    if (ever_refreshed_ && clock_.now() - refreshed_ < refresh_interval) return false;
    rebuild();
    return true;
}

bool host_check::allows_host(std::string_view host_header) {
    if (host_allowed(host_header, names_)) return true;
    return refresh_if_due() && host_allowed(host_header, names_);
}

bool host_check::allows_origin(std::string_view origin, bool tls, std::string_view host_header) {
    if (origin_allowed(origin, tls, host_header, names_)) return true;
    return refresh_if_due() && origin_allowed(origin, tls, host_header, names_);
}

std::string host_check::refusal(std::string_view host_header) {
    std::string shown;
    for (char ch : host_header.substr(0, 100)) shown += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
    return "The Host '" + shown + "' is not a name of this device. Use its address or add the name to server_names in the configuration.";
}

}  // namespace otppi::http
