// An HTTP/1.1 server (plain or TLS) for the REST API and the admin UI.
//
// Contract:
//  - Every read has a deadline and a size limit: the wait for a request on a
//    kept-alive connection is bounded by `idle_timeout`, the header by
//    `header_timeout` and `header_limit`, the body by `body_timeout` and
//    `body_limit`. A declared Content-Length over the limit is answered 413
//    before a byte of the body is read. An error answer other than 408 ends
//    the connection with a lingering close: what the client still sends is
//    read and dropped (up to `linger_bytes`, for `linger_timeout`), so that a
//    client busy writing its body can read the answer.
//  - An `Expect` other than 100-continue is answered 417; a header with an
//    obsolete folded line (obs-fold) 400.
//  - At most `max_connections` are open, at most `max_connections_per_client`
//    of them for one client (an IPv4 address or an IPv6 /64; see
//    connection_table.hpp). A client at its cap is answered 429 and closed at
//    once. At the server's cap an idle connection of the client with the most
//    connections is closed to make room (again connection_table.hpp); when
//    there is none to close, 503 and closed at once.
//  - The handler is called once per request on the io_context thread and must
//    call the responder exactly once, possibly later (after a modem answered).
//    One request per connection is in flight (no pipelining).
//  - stop() closes the listener and idle connections; requests in flight get
//    their answer with "Connection: close"; `on_drained` fires when the last
//    connection is gone.
// Thread-safety: all calls on the io_context's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace otppi::http {

struct request {
    std::string method;  // "GET", "POST", ...
    std::string target;  // path with query string
    std::string authorization;
    std::string content_type;
    std::string cookie;
    std::string origin;
    std::string csrf_token;  // X-CSRF-Token
    std::string body;
    std::string remote_address;
    bool tls = false;
    bool keep_alive = true;
    std::string host;               // Host header, for same-origin checks
    std::string if_none_match;      // for cached static files
    bool websocket_upgrade = false;  // a WebSocket handshake (GET with Upgrade: websocket)

    // Target without the query string.
    std::string path() const { return target.substr(0, target.find('?')); }
};

// A WebSocket the server accepted (the admin UI's live monitor). Server to
// client text frames only: what the client sends is read and dropped (pings
// and close are answered by the server). A client that does not keep up
// (more than 256 frames waiting) is disconnected rather than buffered.
// All calls on the io_context's thread.
class websocket {
public:
    virtual ~websocket() = default;
    virtual void send(std::string text) = 0;
    virtual void close() = 0;
    // Called once when the connection is gone (either side closed it).
    virtual void on_close(std::function<void()> cb) = 0;
};

struct response {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;
    bool close = false;
    // Set on the answer to a request with websocket_upgrade: the server
    // completes the handshake instead of writing this response, then hands
    // over the socket. Ignored for other requests.
    std::function<void(std::shared_ptr<websocket>)> accept_websocket;
};

using responder = std::function<void(response)>;
using handler = std::function<void(request, responder)>;

struct limits {
    std::size_t header_limit = 8 * 1024;
    std::size_t body_limit = 64 * 1024;
    std::chrono::milliseconds idle_timeout{60'000};
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{30'000};
    std::chrono::milliseconds write_timeout{30'000};
    std::size_t max_connections = 1024;
    std::size_t max_connections_per_client = 64;  // 0 = no cap per client
    std::size_t linger_bytes = 4 * 1024 * 1024;
    std::chrono::milliseconds linger_timeout{5'000};
};

struct server_stats {
    std::uint64_t accepted = 0;
    std::uint64_t rejected_busy = 0;    // 503: at max_connections, nothing to shed
    std::uint64_t rejected_client = 0;  // 429: the client at max_connections_per_client
    std::uint64_t shed = 0;             // idle connections closed to make room
    std::uint64_t requests = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t too_large = 0;
    std::uint64_t bad_requests = 0;
    std::size_t open = 0;
};

class server {
public:
    // `tls` is borrowed and must outlive the server; nullptr serves plain HTTP.
    server(boost::asio::io_context& ioc, handler h, limits lim, boost::asio::ssl::context* tls = nullptr);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds and starts accepting. Port 0 picks a free port (see port()).
    // Returns an empty string on success, else why the bind failed.
    std::string listen(const std::string& address, std::uint16_t port);
    std::uint16_t port() const;

    void stop(std::function<void()> on_drained = {});
    const server_stats& stats() const;
    void set_limits(const limits& lim);  // applies to new requests

    struct impl;  // defined in server.cpp; public only so its sessions can name it

private:
    std::shared_ptr<impl> impl_;
};

// Loads a PEM certificate chain and key into a TLS 1.2+ server context.
// Returns nullptr and sets `error` when the files cannot be used. (A shared_ptr
// so that callers can hold it without the heavy SSL headers.)
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::string& cert_file, const std::string& key_file,
                                                             std::string& error);

}  // namespace otppi::http
