// Internals of http::server shared by its source files (server.cpp, the
// sessions; ws_session.hpp, the WebSocket): the server's state, the
// connection accounting, and the one place that decides which I/O errors are
// worth a log line. Included only from src/http/.
#pragma once

#include "otppi/http/connection_table.hpp"
#include "otppi/http/server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace otppi::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

namespace detail {

// Benign codes that only mean "the peer went away" or "we closed it".
inline bool benign(const beast::error_code& ec) {
    return ec == net::error::operation_aborted || ec == net::error::eof || ec == net::error::connection_reset ||
           ec == beast::error::timeout || ec == net::ssl::error::stream_truncated || ec == bhttp::error::end_of_stream ||
           ec == net::error::broken_pipe || ec == net::error::bad_descriptor || ec == net::error::not_connected;
}

inline void fail(const beast::error_code& ec, const char* what) {
    if (benign(ec)) return;
    spdlog::debug("http: {}: {}", what, ec.message());
}

}  // namespace detail

struct server::impl : std::enable_shared_from_this<impl> {
    // A connection as the server sees it: counted in the table (per client),
    // closed by stop(), and closed by shed() when the table picks it to make
    // room at the cap.
    struct session_base : connection_table::entry {
        virtual ~session_base() = default;
        virtual void on_server_stop() = 0;
        virtual void shed() = 0;
    };

    impl(net::io_context& ioc, handler h, limits lim, net::ssl::context* tls)
        : ioc_(ioc), handler_(std::move(h)), limits_(lim), tls_(tls), acceptor_(ioc) {}

    net::io_context& ioc_;
    handler handler_;
    limits limits_;
    net::ssl::context* tls_;
    tcp::acceptor acceptor_;
    bool stopping_ = false;
    std::function<void()> on_drained_;
    connection_table table_;
    server_stats stats_;

    void do_accept();
    void refuse(tcp::socket socket, int status);

    void add(session_base* s, const std::string& client, bool sheddable) {
        table_.add(*s, client, sheddable);
        stats_.open = table_.size();
    }
    // Also called for a session shed earlier (then a no-op on the table).
    void remove(session_base* s) {
        table_.remove(*s);
        stats_.open = table_.size();
        if (stopping_ && table_.size() == 0 && on_drained_) {
            auto cb = std::move(on_drained_);
            on_drained_ = nullptr;
            net::post(ioc_, std::move(cb));
        }
    }
    void set_sheddable(session_base* s, bool sheddable) { table_.set_sheddable(*s, sheddable); }
};

}  // namespace otppi::http
