// Which Host and Origin values name this device.
//
// A web page on another site can make a browser send requests to this box
// (DNS rebinding: its own name resolves to our address), and those requests
// carry the page's name in Host and in Origin. So both ports accept only a
// Host that is one of this device's own names, and the admin UI accepts only
// an Origin that is one of them (not merely equal to Host, which the page
// controls).
//
// This device's names: "localhost", the loopback literals (127.0.0.0/8, ::1),
// the addresses of its interfaces, the listener's bind address, the machine's
// host name (and host name + ".local", as mDNS announces it), and the names
// configured in `server_names`. Names compare case-insensitively without a
// trailing dot; IP literals compare in their canonical form. The port is
// not part of the check (a rebinding page cannot move to our port without
// also being on our name).
//
// The functions are pure; `host_check` adds the lookup of the interfaces,
// refreshed on a miss at most every few seconds (addresses from DHCP change).
// Thread-safety: host_check is used on the io_context thread only.
#pragma once

#include "otppi/core/clock.hpp"

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace otppi::http {

// "name", "name:port", "1.2.3.4:80", "[::1]:8888" -> the host part in the
// form names are kept in (lower case, no trailing dot, IP literals canonical).
// False for anything that is not a plausible host.
bool normalize_host(std::string_view host_header, std::string& host, std::string& port);

// Whether `host_header` names a host in `names` (names as normalize_host
// leaves them). An empty header is allowed: only HTTP/1.0 clients omit it,
// and no browser does.
bool host_allowed(std::string_view host_header, const std::set<std::string>& names);

// Whether `origin` ("http://name[:port]") is a page of this device: its
// scheme is the connection's, its host is in `names`, and its port (or the
// scheme's default) is the port of `host_header`, the address the browser
// used for this request.
bool origin_allowed(std::string_view origin, bool tls, std::string_view host_header, const std::set<std::string>& names);

// The built-in names (localhost, loopback literals), the configured ones, the
// bind address and the host name, normalised. Interfaces are not included.
std::set<std::string> static_names(const std::vector<std::string>& configured, const std::string& bind_address, const std::string& host_name);

// The addresses of this machine's interfaces (getifaddrs), normalised.
std::set<std::string> interface_addresses();

class host_check {
public:
    host_check(const core::Clock& clock, std::vector<std::string> configured, std::vector<std::string> bind_addresses);

    // Config reload (server_names changed).
    void set_configured(std::vector<std::string> configured);
    bool allows_host(std::string_view host_header);
    bool allows_origin(std::string_view origin, bool tls, std::string_view host_header);

    // A 421 message for a refused Host.
    static std::string refusal(std::string_view host_header);

private:
    bool refresh_if_due();
    void rebuild();

    const core::Clock& clock_;
    std::vector<std::string> configured_;
    std::vector<std::string> binds_;
    std::set<std::string> names_;
    core::Clock::time_point refreshed_{};
    bool ever_refreshed_ = false;
};

}  // namespace otppi::http
