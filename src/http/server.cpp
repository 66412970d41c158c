#include "otppi/http/server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <openssl/ssl.h>
#include <optional>
#include <spdlog/spdlog.h>
#include <unordered_set>

namespace otppi::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace bws = beast::websocket;
using tcp = net::ip::tcp;

namespace {

// Benign codes that only mean "the peer went away" or "we closed it".
bool benign(const beast::error_code& ec) {
    return ec == net::error::operation_aborted || ec == net::error::eof || ec == net::error::connection_reset ||
           ec == beast::error::timeout || ec == net::ssl::error::stream_truncated || ec == bhttp::error::end_of_stream ||
           ec == net::error::broken_pipe || ec == net::error::bad_descriptor || ec == net::error::not_connected;
}

void fail(const beast::error_code& ec, const char* what) {
    if (benign(ec)) return;
    spdlog::debug("http: {}: {}", what, ec.message());
}

const char* reason_json(int status) {
    switch (status) {
    case 400: return R"({"response_code":"1400","message":"malformed HTTP request"})";
    case 408: return R"({"response_code":"1408","message":"request not received in time"})";
    case 413: return R"({"response_code":"1413","message":"request body too large"})";
    case 431: return R"({"response_code":"1431","message":"request headers too large"})";
    case 503: return R"({"response_code":"1503","message":"server busy: too many open connections"})";
    default: return R"({"response_code":"1102","message":"error"})";
    }
}

}  // namespace

struct server::impl : std::enable_shared_from_this<impl> {
    struct session_base {
        virtual ~session_base() = default;
        virtual void on_server_stop() = 0;
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
    std::unordered_set<session_base*> sessions_;
    server_stats stats_;

    void do_accept();
    void reject_busy(tcp::socket socket);

    void add(session_base* s) {
        sessions_.insert(s);
        stats_.open = sessions_.size();
    }
    void remove(session_base* s) {
        sessions_.erase(s);
        stats_.open = sessions_.size();
        if (stopping_ && sessions_.empty() && on_drained_) {
            auto cb = std::move(on_drained_);
            on_drained_ = nullptr;
            net::post(ioc_, std::move(cb));
        }
    }
};

namespace {

// One accepted WebSocket: a read loop that only keeps the connection alive
// (control frames, the close handshake) and an ordered queue of text frames
// going out. Counted among the server's connections, so stop() closes it.
template <class NextLayer>
class ws_session final : public server::impl::session_base,
                         public websocket,
                         public std::enable_shared_from_this<ws_session<NextLayer>> {
public:
    static constexpr std::size_t max_queued = 256;

    ws_session(std::shared_ptr<server::impl> srv, NextLayer&& next) : srv_(std::move(srv)), ws_(std::move(next)) { srv_->add(this); }
    ~ws_session() override { srv_->remove(this); }

    void run(bhttp::request<bhttp::string_body> req, std::function<void(std::shared_ptr<websocket>)> accepted) {
        req_ = std::move(req);
        beast::get_lowest_layer(ws_).expires_never();
        auto timeouts = bws::stream_base::timeout::suggested(beast::role_type::server);
        timeouts.handshake_timeout = std::chrono::seconds(5);  // also bounds the close handshake at stop
        timeouts.keep_alive_pings = true;                       // a vanished browser is noticed
        timeouts.idle_timeout = std::chrono::seconds(60);
        ws_.set_option(timeouts);
        ws_.set_option(bws::stream_base::decorator([](bws::response_type& res) { res.set(bhttp::field::server, "otppi"); }));
        ws_.read_message_max(4096);
        ws_.async_accept(req_, [self = this->shared_from_this(), accepted = std::move(accepted)](beast::error_code ec) {
            if (ec) {
                fail(ec, "websocket accept");
                return self->closed();
            }
            self->open_ = true;
            if (self->closing_) return self->close_now();  // the server stopped during the handshake
            accepted(self);
            self->do_read();
        });
    }

    void send(std::string text) override {
        if (!open_ || closing_) return;
        if (out_.size() >= max_queued) {
            spdlog::debug("websocket: client too slow ({} frames waiting), closing", out_.size());
            return close();
        }
        out_.push_back(std::move(text));
        if (!writing_) do_write();
    }

    void close() override {
        if (closing_) return;
        closing_ = true;
        if (open_ && !writing_) close_now();
    }

    void on_close(std::function<void()> cb) override {
        if (done_) {
            if (cb) cb();
            return;
        }
        on_close_ = std::move(cb);
    }

    void on_server_stop() override { close(); }

private:
    void do_read() {
        ws_.async_read(in_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) {
                fail(ec, "websocket read");
                return self->closed();
            }
            self->in_.consume(self->in_.size());  // the monitor takes no input
            self->do_read();
        });
    }

    void do_write() {
        writing_ = true;
        ws_.text(true);
        ws_.async_write(net::buffer(out_.front()), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
            self->writing_ = false;
            if (ec) {
                fail(ec, "websocket write");
                self->out_.clear();
                return;  // the read loop sees the failure too and reports the close
            }
            self->out_.pop_front();
            if (self->closing_) return self->close_now();
            if (!self->out_.empty()) self->do_write();
        });
    }

    void close_now() {
        out_.clear();
        // A browser answers the close frame at once; do not let one that
        // does not hold up a daemon stop for long.
        auto timeouts = bws::stream_base::timeout::suggested(beast::role_type::server);
        timeouts.handshake_timeout = std::chrono::seconds(1);
        ws_.set_option(timeouts);
        ws_.async_close(bws::close_code::going_away, [self = this->shared_from_this()](beast::error_code ec) {
            fail(ec, "websocket close");
            beast::error_code ignored;
            beast::get_lowest_layer(self->ws_).socket().close(ignored);
        });
    }

    void closed() {
        open_ = false;
        closing_ = true;
        if (done_) return;
        done_ = true;
        if (auto cb = std::move(on_close_)) cb();
    }

    std::shared_ptr<server::impl> srv_;
    bws::stream<NextLayer> ws_;
    bhttp::request<bhttp::string_body> req_;
    beast::flat_buffer in_;
    std::deque<std::string> out_;
    std::function<void()> on_close_;
    bool open_ = false, writing_ = false, closing_ = false, done_ = false;
};

// The request/response cycle, shared by plain and TLS connections. Derived
// supplies stream() and do_eof(), as in Beast's server-flex example.
template <class Derived>
class session : public server::impl::session_base {
public:
    session(std::shared_ptr<server::impl> srv, std::string remote) : srv_(std::move(srv)), remote_(std::move(remote)) {
        srv_->add(this);
    }
    ~session() override { srv_->remove(this); }

    void on_server_stop() override {
        // Idle (or still mid-request) connections close now; a request that is
        // being handled gets its answer first, with Connection: close.
        if (state_ == state::idle || state_ == state::reading) beast::get_lowest_layer(derived().stream()).socket().close();
    }

protected:
    enum class state { idle, reading, handling, writing, closing };

    Derived& derived() { return static_cast<Derived&>(*this); }

    void do_read() {
        if (srv_->stopping_) return derived().do_eof();
        state_ = state::idle;
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(srv_->limits_.header_limit));
        parser_->body_limit(srv_->limits_.body_limit);
        if (buffer_.size() > 0) return read_header();
        // Wait for the first byte of the next request with the idle deadline;
        // only then does the (shorter) header deadline start.
        beast::get_lowest_layer(derived().stream()).expires_after(srv_->limits_.idle_timeout);
        derived().stream().async_read_some(buffer_.prepare(1024),
                                           [self = derived().shared_from_this()](beast::error_code ec, std::size_t n) {
                                               self->on_first_bytes(ec, n);
                                           });
    }

    void on_first_bytes(beast::error_code ec, std::size_t n) {
        if (ec) {
            if (ec == beast::error::timeout) ++srv_->stats_.timeouts;
            fail(ec, "read");
            return derived().do_eof();
        }
        buffer_.commit(n);
        read_header();
    }

    void read_header() {
        state_ = state::reading;
        if (parse_buffered()) return;
        beast::get_lowest_layer(derived().stream()).expires_after(srv_->limits_.header_timeout);
        bhttp::async_read_header(derived().stream(), buffer_, *parser_,
                                 [self = derived().shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
    }

    // Keep-alive clients usually deliver a whole request in one segment: parse
    // what is already buffered right here instead of a round trip through the
    // event loop per parse step. Returns true when it took over the request
    // (complete, failed, or handed on to on_header with the header done).
    bool parse_buffered() {
        if (buffer_.size() == 0) return false;
        parser_->eager(true);
        beast::error_code ec;
        while (buffer_.size() > 0 && !parser_->is_done()) {
            const auto n = parser_->put(buffer_.data(), ec);
            buffer_.consume(n);
            if (ec == bhttp::error::need_more) {
                ec = {};
                break;
            }
            if (ec) {
                on_read_error(ec);
                return true;
            }
            if (n == 0) break;
        }
        if (!parser_->is_header_done()) return false;  // the async read carries on from here
        on_header({});
        return true;
    }

    void on_header(beast::error_code ec) {
        if (ec) return on_read_error(ec);
        const auto& hdr = parser_->get();
        if (auto len = parser_->content_length(); len && *len > srv_->limits_.body_limit) {
            ++srv_->stats_.too_large;
            return send_error(413);
        }
        if (parser_->is_done()) return on_request();
        if (beast::iequals(hdr[bhttp::field::expect], "100-continue")) {
            // curl sends Expect: 100-continue for bodies over 1 KiB and would
            // otherwise wait a second before sending the body.
            static const std::string continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
            beast::get_lowest_layer(derived().stream()).expires_after(srv_->limits_.write_timeout);
            net::async_write(derived().stream(), net::buffer(continue_line),
                             [self = derived().shared_from_this()](beast::error_code wec, std::size_t) {
                                 if (wec) return self->on_read_error(wec);
                                 self->read_body();
                             });
            return;
        }
        read_body();
    }

    void read_body() {
        beast::get_lowest_layer(derived().stream()).expires_after(srv_->limits_.body_timeout);
        bhttp::async_read(derived().stream(), buffer_, *parser_, [self = derived().shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->on_read_error(ec);
            self->on_request();
        });
    }

    void on_read_error(beast::error_code ec) {
        if (ec == bhttp::error::body_limit) {
            ++srv_->stats_.too_large;
            return send_error(413);
        }
        if (ec == bhttp::error::header_limit) {
            ++srv_->stats_.too_large;
            return send_error(431);
        }
        if (ec == beast::error::timeout) {
            ++srv_->stats_.timeouts;
            // The peer is too slow to answer reliably; try a 408 but do not wait long.
            return send_error(408);
        }
        if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
            fail(ec, "read");
            return derived().do_eof();
        }
        if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category()) {
            // Any other parser error: the bytes were not HTTP/1.1.
            ++srv_->stats_.bad_requests;
            return send_error(400);
        }
        fail(ec, "read");
        derived().do_eof();
    }

    void send_error(int status) {
        response res;
        res.status = status;
        res.body = reason_json(status);
        res.close = true;
        write(std::move(res), false);
    }

    void on_request() {
        ++srv_->stats_.requests;
        state_ = state::handling;
        beast::get_lowest_layer(derived().stream()).expires_never();
        auto msg = parser_->release();
        request req;
        req.method = std::string(msg.method_string());
        req.target = std::string(msg.target());
        // One pass over the fields instead of a lookup for each; the first of
        // a repeated field counts, as with msg[name].
        unsigned seen = 0;
        auto take = [&seen](std::string& to, unsigned bit, std::string_view value) {
            if (seen & bit) return;
            seen |= bit;
            to.assign(value.data(), value.size());
        };
        for (const auto& f : msg) {
            switch (f.name()) {
            case bhttp::field::authorization: take(req.authorization, 1, f.value()); break;
            case bhttp::field::content_type: take(req.content_type, 2, f.value()); break;
            case bhttp::field::cookie: take(req.cookie, 4, f.value()); break;
            case bhttp::field::origin: take(req.origin, 8, f.value()); break;
            case bhttp::field::unknown:
                if (beast::iequals(f.name_string(), "X-CSRF-Token")) take(req.csrf_token, 16, f.value());
                break;
            default: break;
            }
        }
        req.body = std::move(msg.body());
        req.remote_address = remote_;
        req.tls = Derived::is_tls;
        req.keep_alive = msg.keep_alive();
        req.host = std::string(msg[bhttp::field::host]);
        req.if_none_match = std::string(msg[bhttp::field::if_none_match]);
        req.websocket_upgrade = bws::is_upgrade(msg);
        if (req.websocket_upgrade) upgrade_req_.emplace(msg);
        const bool keep_alive = req.keep_alive;
        // The responder may be called long after this function returns (an SMS
        // send); it holds the session alive and is good for one call only.
        auto self = derived().shared_from_this();
        srv_->handler_(std::move(req), [self, keep_alive](response res) mutable {
            if (!self) return;  // answered already
            // Drop our reference once used: a responder kept around by its
            // caller must not keep the connection (and a server stop) waiting.
            auto session = std::move(self);
            if (res.accept_websocket && session->upgrade_req_) return session->upgrade(std::move(res.accept_websocket));
            session->write(std::move(res), keep_alive);
        });
    }

    // Hands the connection to a WebSocket session; this HTTP session ends
    // (the last reference goes with the responder) without closing the socket.
    void upgrade(std::function<void(std::shared_ptr<websocket>)> accepted) {
        state_ = state::closing;
        if (srv_->stopping_) return derived().do_eof();
        using next_layer = std::decay_t<decltype(derived().stream())>;
        std::make_shared<ws_session<next_layer>>(srv_, std::move(derived().stream()))->run(std::move(*upgrade_req_), std::move(accepted));
        upgrade_req_.reset();
    }

    void write(response r, bool keep_alive) {
        state_ = state::writing;
        res_.emplace();
        res_->version(11);
        res_->result(static_cast<unsigned>(r.status));
        res_->set(bhttp::field::server, "otppi");
        res_->set(bhttp::field::content_type, r.content_type);
        for (auto& [name, value] : r.headers) res_->set(name, value);
        res_->keep_alive(keep_alive && !r.close && !srv_->stopping_);
        res_->body() = std::move(r.body);
        res_->prepare_payload();
        beast::get_lowest_layer(derived().stream()).expires_after(srv_->limits_.write_timeout);
        bhttp::async_write(derived().stream(), *res_, [self = derived().shared_from_this()](beast::error_code ec, std::size_t) {
            self->on_write(ec);
        });
    }

    void on_write(beast::error_code ec) {
        if (ec) {
            fail(ec, "write");
            return derived().do_eof();
        }
        const bool keep = res_->keep_alive();
        res_.reset();
        if (!keep) return derived().do_eof();
        do_read();
    }

    std::shared_ptr<server::impl> srv_;
    std::string remote_;
    beast::flat_buffer buffer_{8192};
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    std::optional<bhttp::response<bhttp::string_body>> res_;
    std::optional<bhttp::request<bhttp::string_body>> upgrade_req_;
    state state_ = state::idle;
};

class plain_session : public session<plain_session>, public std::enable_shared_from_this<plain_session> {
public:
    static constexpr bool is_tls = false;
    plain_session(std::shared_ptr<server::impl> srv, tcp::socket&& socket, std::string remote)
        : session(std::move(srv), std::move(remote)), stream_(std::move(socket)) {}
    void run() { do_read(); }
    beast::tcp_stream& stream() { return stream_; }
    void do_eof() {
        state_ = state::closing;
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.socket().close(ec);
    }

private:
    beast::tcp_stream stream_;
};

class tls_session : public session<tls_session>, public std::enable_shared_from_this<tls_session> {
public:
    static constexpr bool is_tls = true;
    tls_session(std::shared_ptr<server::impl> srv, tcp::socket&& socket, net::ssl::context& ctx, std::string remote)
        : session(std::move(srv), std::move(remote)), stream_(std::move(socket), ctx) {}
    void run() {
        state_ = state::reading;
        beast::get_lowest_layer(stream_).expires_after(srv_->limits_.header_timeout);
        stream_.async_handshake(net::ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
            if (ec) {
                fail(ec, "tls handshake");
                return;  // dropping the last reference closes the socket
            }
            self->do_read();
        });
    }
    beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
    void do_eof() {
        if (state_ == state::closing) return;
        state_ = state::closing;
        beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
        stream_.async_shutdown([self = shared_from_this()](beast::error_code ec) {
            fail(ec, "tls shutdown");
            beast::error_code ignored;
            beast::get_lowest_layer(self->stream_).socket().close(ignored);
        });
    }

private:
    beast::ssl_stream<beast::tcp_stream> stream_;
};

}  // namespace

void server::impl::reject_busy(tcp::socket socket) {
    ++stats_.rejected_busy;
    // Best effort, never blocking: a busy server must not wait on a slow client.
    static const std::string busy = std::string("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: ") +
                                    std::to_string(std::char_traits<char>::length(reason_json(503))) + "\r\n\r\n" + reason_json(503);
    beast::error_code ec;
    socket.non_blocking(true, ec);
    if (!tls_) socket.write_some(net::buffer(busy), ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
}

void server::impl::do_accept() {
    acceptor_.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (ec) {
            if (ec == net::error::operation_aborted || self->stopping_) return;
            // EMFILE and friends: log and keep accepting after a short pause.
            spdlog::warn("http: accept failed: {}", ec.message());
            auto timer = std::make_shared<net::steady_timer>(self->ioc_, std::chrono::milliseconds(100));
            timer->async_wait([self, timer](beast::error_code) { self->do_accept(); });
            return;
        }
        ++self->stats_.accepted;
        if (self->sessions_.size() >= self->limits_.max_connections) {
            self->reject_busy(std::move(socket));
        } else {
            beast::error_code ep_ec;
            auto ep = socket.remote_endpoint(ep_ec);
            std::string remote = ep_ec ? std::string("unknown") : ep.address().to_string();
            socket.set_option(tcp::no_delay(true), ep_ec);
            if (self->tls_)
                std::make_shared<tls_session>(self, std::move(socket), *self->tls_, std::move(remote))->run();
            else
                std::make_shared<plain_session>(self, std::move(socket), std::move(remote))->run();
        }
        self->do_accept();
    });
}

server::server(net::io_context& ioc, handler h, limits lim, net::ssl::context* tls)
    : impl_(std::make_shared<impl>(ioc, std::move(h), lim, tls)) {}

server::~server() {
    beast::error_code ec;
    impl_->acceptor_.close(ec);
}

std::string server::listen(const std::string& address, std::uint16_t port) {
    beast::error_code ec;
    auto addr = net::ip::make_address(address, ec);
    if (ec) return "invalid bind address '" + address + "': " + ec.message();
    tcp::endpoint ep(addr, port);
    auto& acc = impl_->acceptor_;
    acc.open(ep.protocol(), ec);
    if (!ec) acc.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acc.bind(ep, ec);
    if (!ec) acc.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        beast::error_code ignored;
        acc.close(ignored);
        return "cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message();
    }
    impl_->do_accept();
    return {};
}

std::uint16_t server::port() const {
    beast::error_code ec;
    auto ep = impl_->acceptor_.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

void server::stop(std::function<void()> on_drained) {
    auto& s = *impl_;
    s.stopping_ = true;
    beast::error_code ec;
    s.acceptor_.close(ec);
    s.on_drained_ = std::move(on_drained);
    // Copy: closing a socket may destroy sessions (and erase them) later, not now,
    // but iterate over a snapshot anyway.
    std::vector<impl::session_base*> snapshot(s.sessions_.begin(), s.sessions_.end());
    for (auto* sess : snapshot) sess->on_server_stop();
    if (s.sessions_.empty() && s.on_drained_) {
        auto cb = std::move(s.on_drained_);
        s.on_drained_ = nullptr;
        net::post(s.ioc_, std::move(cb));
    }
}

const server_stats& server::stats() const { return impl_->stats_; }

void server::set_limits(const limits& lim) { impl_->limits_ = lim; }

std::shared_ptr<net::ssl::context> make_tls_context(const std::string& cert_file, const std::string& key_file, std::string& error) {
    auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
    ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 | net::ssl::context::no_sslv3 |
                     net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    beast::error_code ec;
    ctx->use_certificate_chain_file(cert_file, ec);
    if (ec) {
        error = "cannot load TLS certificate " + cert_file + ": " + ec.message();
        return nullptr;
    }
    ctx->use_private_key_file(key_file, net::ssl::context::pem, ec);
    if (ec) {
        error = "cannot load TLS key " + key_file + ": " + ec.message();
        return nullptr;
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
        error = "TLS key " + key_file + " does not match certificate " + cert_file;
        return nullptr;
    }
    return ctx;
}

}  // namespace otppi::http
