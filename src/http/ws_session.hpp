// The WebSocket side of http::server (the admin UI's live monitor): one
// session per accepted upgrade, plain or TLS. Included only by server.cpp.
#pragma once

#include "server_impl.hpp"

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>

namespace otppi::http::detail {

namespace bws = beast::websocket;

// One accepted WebSocket: a read loop that only keeps the connection alive
// (control frames, the close handshake) and an ordered queue of text frames
// going out. Counted among the server's connections (for its client too, so
// a client's WebSockets count against its cap), so stop() closes it; never
// shed, as it is in use for as long as it is open.
template <class NextLayer>
class ws_session final : public server::impl::session_base,
                         public websocket,
                         public std::enable_shared_from_this<ws_session<NextLayer>> {
public:
    static constexpr std::size_t max_queued = 256;

    ws_session(std::shared_ptr<server::impl> srv, NextLayer&& next, const std::string& client) : srv_(std::move(srv)), ws_(std::move(next)) {
        srv_->add(this, client, false);
    }
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
    void shed() override { close(); }

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

}  // namespace otppi::http::detail
