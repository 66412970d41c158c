#include "otppi/http/server.hpp"

#include "otppi/http/fold_scanner.hpp"
#include "server_impl.hpp"
#include "ws_session.hpp"

#include <algorithm>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <openssl/ssl.h>
#include <optional>

namespace otppi::http {

using detail::fail;
namespace bws = beast::websocket;

namespace {

const char* reason_json(int status) {
    switch (status) {
    case 400: return R"({"response_code":"1400","message":"malformed HTTP request"})";
    case 408: return R"({"response_code":"1408","message":"request not received in time"})";
    case 413: return R"({"response_code":"1413","message":"request body too large"})";
    case 417: return R"({"response_code":"1417","message":"unsupported Expect header: only 100-continue is supported"})";
    case 429: return R"({"response_code":"1429","message":"too many open connections from this address"})";
    case 431: return R"({"response_code":"1431","message":"request headers too large"})";
    case 503: return R"({"response_code":"1503","message":"server busy: too many open connections"})";
    default: return R"({"response_code":"1102","message":"error"})";
    }
}

constexpr const char* obs_fold_json = R"json({"response_code":"1400","message":"malformed HTTP request: folded header line (obs-fold)"})json";

// The request/response cycle, shared by plain and TLS connections. Derived
// supplies stream() and do_eof(), as in Beast's server-flex example.
template <class Derived>
class session : public server::impl::session_base {
public:
    session(std::shared_ptr<server::impl> srv, std::string remote, std::string client)
        : srv_(std::move(srv)), remote_(std::move(remote)), client_(std::move(client)) {
        srv_->add(this, client_, true);  // sheddable until its first request header is in
    }
    ~session() override { srv_->remove(this); }

    void on_server_stop() override {
        // Idle (or still mid-request) connections close now; a request that is
        // being handled gets its answer first, with Connection: close.
        if (state_ == state::idle || state_ == state::reading) beast::get_lowest_layer(derived().stream()).socket().close();
    }

    // Picked to make room at the cap: no request of it has been accepted
    // (the table only offers connections waiting for a header), so closing
    // loses nothing. Out of the table at once, so the newcomer takes its place.
    void shed() override {
        srv_->remove(this);
        state_ = state::closing;
        beast::error_code ignored;
        beast::get_lowest_layer(derived().stream()).socket().close(ignored);
    }

protected:
    enum class state { idle, reading, handling, writing, lingering, closing };

    Derived& derived() { return static_cast<Derived&>(*this); }

    void do_read() {
        if (srv_->stopping_) return derived().do_eof();
        state_ = state::idle;
        linger_ = false;
        srv_->set_sheddable(this, true);
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(srv_->limits_.header_limit));
        parser_->body_limit(srv_->limits_.body_limit);
        fold_.reset();
        header_fed_ = header_consumed_ = 0;
        header_deadline_set_ = false;
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

    // Reads until the header is complete. Not bhttp::async_read_header: the
    // bytes have to pass the fold scanner before the parser takes them.
    void read_header() {
        state_ = state::reading;
        if (parse_buffered()) return;
        if (!header_deadline_set_) {
            // One deadline for the whole header, from its first byte.
            beast::get_lowest_layer(derived().stream()).expires_after(srv_->limits_.header_timeout);
            header_deadline_set_ = true;
        }
        const auto room = buffer_.max_size() - buffer_.size();
        if (room == 0) return on_read_error(bhttp::error::header_limit);
        derived().stream().async_read_some(buffer_.prepare(std::min<std::size_t>(room, 4096)),
                                           [self = derived().shared_from_this()](beast::error_code ec, std::size_t n) {
                                               if (ec) return self->on_read_error(ec);
                                               self->buffer_.commit(n);
                                               self->read_header();
                                           });
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
            if (!parser_->is_header_done() && !fold_.done()) {
                // The parser keeps an incomplete line in the buffer, so every
                // header byte is seen here before it takes it; only new ones
                // are fed.
                const auto data = buffer_.data();
                const std::string_view bytes(static_cast<const char*>(data.data()), data.size());
                if (fold_.feed(bytes.substr(header_fed_ - header_consumed_))) {
                    ++srv_->stats_.bad_requests;
                    send_error(400, obs_fold_json);
                    return true;
                }
                header_fed_ = header_consumed_ + bytes.size();
            }
            const auto n = parser_->put(buffer_.data(), ec);
            buffer_.consume(n);
            header_consumed_ += n;
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
        srv_->set_sheddable(this, false);  // a request is under way now
        const auto& hdr = parser_->get();
        if (auto len = parser_->content_length(); len && *len > srv_->limits_.body_limit) {
            ++srv_->stats_.too_large;
            return send_error(413);
        }
        // RFC 9110 10.1.1: an expectation the server cannot meet is answered
        // 417; only 100-continue is defined.
        bool expect_continue = false;
        for (auto [it, end] = hdr.equal_range(bhttp::field::expect); it != end; ++it) {
            if (!beast::iequals(it->value(), "100-continue")) {
                ++srv_->stats_.bad_requests;
                return send_error(417);
            }
            expect_continue = true;
        }
        if (parser_->is_done()) return on_request();
        if (expect_continue) {
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

    // An error answer ends the connection. Unless the client was too slow
    // (408), it may still be sending the request (a 2 MiB body after a 413):
    // closing with unread bytes would make the kernel reset the connection,
    // and a client that writes its whole body before reading (Python's
    // urllib, PHP's curl) would see "broken pipe" instead of this answer. So
    // the connection lingers after the answer, reading and dropping what
    // comes (see linger()).
    void send_error(int status, const char* body = nullptr) {
        srv_->set_sheddable(this, false);
        linger_ = status != 408;
        if (linger_) linger_left_ = linger_budget();
        response res;
        res.status = status;
        res.body = body ? body : reason_json(status);
        res.close = true;
        write(std::move(res), false);
    }

    // What is left to drop: the rest of a declared body, at most
    // limits::linger_bytes; that much when the length is unknown.
    std::uint64_t linger_budget() {
        std::uint64_t budget = srv_->limits_.linger_bytes;
        // Read from the fields: the parser refuses a Content-Length over the
        // limit before it counts the header as done.
        if (parser_) {
            const auto declared = parser_->get()[bhttp::field::content_length];
            std::uint64_t length = 0;
            const auto [end, err] = std::from_chars(declared.data(), declared.data() + declared.size(), length);
            if (!declared.empty() && err == std::errc{} && end == declared.data() + declared.size() && !parser_->chunked()) {
                const std::uint64_t buffered = buffer_.size();
                budget = std::min(budget, length > buffered ? length - buffered : 0);
            }
        }
        buffer_.consume(buffer_.size());
        return budget;
    }

    // Lingering close, bounded in bytes (linger_left_) and in time
    // (limits::linger_timeout). A plain connection says it is done sending
    // first, so the client reads the answer and the end at once.
    void linger() {
        state_ = state::lingering;
        derived().shutdown_send();
        beast::get_lowest_layer(derived().stream()).expires_after(srv_->limits_.linger_timeout);
        linger_read();
    }

    void linger_read() {
        if (linger_left_ == 0) return derived().do_eof();
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(linger_left_, buffer_.max_size()));
        derived().stream().async_read_some(buffer_.prepare(want), [self = derived().shared_from_this()](beast::error_code ec, std::size_t n) {
            self->linger_left_ -= std::min<std::uint64_t>(n, self->linger_left_);
            if (ec) {
                fail(ec, "linger");
                return self->derived().do_eof();
            }
            self->linger_read();
        });
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
        std::make_shared<detail::ws_session<next_layer>>(srv_, std::move(derived().stream()), client_)
            ->run(std::move(*upgrade_req_), std::move(accepted));
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
        if (!keep) return linger_ ? linger() : derived().do_eof();
        do_read();
    }

    std::shared_ptr<server::impl> srv_;
    std::string remote_;
    std::string client_;  // client_key(remote_): what the per-client cap counts
    beast::flat_buffer buffer_{8192};
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    std::optional<bhttp::response<bhttp::string_body>> res_;
    std::optional<bhttp::request<bhttp::string_body>> upgrade_req_;
    state state_ = state::idle;
    fold_scanner fold_;
    std::uint64_t header_fed_ = 0, header_consumed_ = 0;  // this request's bytes: seen by fold_, taken by the parser
    bool header_deadline_set_ = false;
    bool linger_ = false;
    std::uint64_t linger_left_ = 0;
};

class plain_session : public session<plain_session>, public std::enable_shared_from_this<plain_session> {
public:
    static constexpr bool is_tls = false;
    plain_session(std::shared_ptr<server::impl> srv, tcp::socket&& socket, std::string remote, std::string client)
        : session(std::move(srv), std::move(remote), std::move(client)), stream_(std::move(socket)) {}
    void run() { do_read(); }
    beast::tcp_stream& stream() { return stream_; }
    void shutdown_send() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
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
    tls_session(std::shared_ptr<server::impl> srv, tcp::socket&& socket, net::ssl::context& ctx, std::string remote, std::string client)
        : session(std::move(srv), std::move(remote), std::move(client)), stream_(std::move(socket), ctx) {}
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
    // TLS has no half-close that leaves the client's records readable: the
    // close_notify goes after the lingering reads, in do_eof().
    void shutdown_send() {}
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

// The answer to a connection that is not let in: written at once, in the
// socket buffer, before the client has asked (so it cannot be a reply to a
// request the client sent later); on TLS nothing can be written before the
// handshake, so the connection is only closed.
void server::impl::refuse(tcp::socket socket, int status) {
    auto canned = [](const char* line, int code) {
        const std::string body = reason_json(code);
        return std::string("HTTP/1.1 ") + line + "\r\nContent-Type: application/json\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    };
    static const std::string busy = canned("503 Service Unavailable", 503);
    static const std::string too_many = canned("429 Too Many Requests", 429);
    // Best effort, never blocking: a busy server must not wait on a slow client.
    beast::error_code ec;
    socket.non_blocking(true, ec);
    if (!tls_) socket.write_some(net::buffer(status == 429 ? too_many : busy), ec);
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
        beast::error_code ep_ec;
        auto ep = socket.remote_endpoint(ep_ec);
        std::string remote = ep_ec ? std::string("unknown") : ep.address().to_string();
        std::string client = client_key(remote);
        const auto& lim = self->limits_;
        const auto d = self->table_.admit(client, lim.max_connections, lim.max_connections_per_client);
        switch (d.what) {
        case connection_table::verdict::client_full:
            ++self->stats_.rejected_client;
            spdlog::debug("http: {} is at its cap of {} connections, refused", client, lim.max_connections_per_client);
            self->refuse(std::move(socket), 429);
            return self->do_accept();
        case connection_table::verdict::server_full:
            ++self->stats_.rejected_busy;
            self->refuse(std::move(socket), 503);
            return self->do_accept();
        case connection_table::verdict::accept_after_shedding:
            ++self->stats_.shed;
            spdlog::debug("http: at the cap of {} connections, closing an idle one of {} for {}", lim.max_connections,
                          d.shed->client(), client);
            static_cast<impl::session_base*>(d.shed)->shed();
            break;
        case connection_table::verdict::accept: break;
        }
        socket.set_option(tcp::no_delay(true), ep_ec);
        if (self->tls_)
            std::make_shared<tls_session>(self, std::move(socket), *self->tls_, std::move(remote), std::move(client))->run();
        else
            std::make_shared<plain_session>(self, std::move(socket), std::move(remote), std::move(client))->run();
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
    for (auto* e : s.table_.snapshot()) static_cast<impl::session_base*>(e)->on_server_stop();
    if (s.table_.size() == 0 && s.on_drained_) {
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
