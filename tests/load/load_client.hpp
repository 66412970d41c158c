// Many HTTP/1.1 client connections on one io_context, for the load and fault
// tests: each connection is opened from a chosen loopback source address
// (127.0.0.2 is as good as 127.0.0.1 on Linux, so an "attacker" gets an
// address of its own), writes the bytes it is given (whole requests,
// pipelined requests, or one byte at a time) and reads Content-Length framed
// responses. Nothing here sleeps: every wait is an Asio timer.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <utility>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <fstream>
#include <sys/resource.h>

namespace otppi::test::load {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;
using error_code = boost::system::error_code;

inline double ms_since(steady::time_point t) { return std::chrono::duration<double, std::milli>(steady::now() - t).count(); }

struct reply {
    int status = 0;              // 0 when no response came (see error)
    std::string response_code;   // the body's response_code
    bool closes = false;         // the server said Connection: close
    double ms = 0;               // since the request was written (await: since the call)
    std::string error;           // why there is no response: "eof", "timeout", "reset", ...
};

// One response out of `buf` if it holds a complete one (removed from it).
inline bool take_reply(std::string& buf, reply& r) {
    const auto head_end = buf.find("\r\n\r\n");
    if (head_end == std::string::npos || buf.size() < 12) return false;
    std::string head = buf.substr(0, head_end);
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::size_t length = 0;
    if (auto p = head.find("\r\ncontent-length:"); p != std::string::npos) length = std::stoul(head.substr(p + 17));
    if (buf.size() < head_end + 4 + length) return false;
    r.status = std::stoi(buf.substr(9, 3));
    r.closes = head.find("\r\nconnection: close") != std::string::npos;
    const auto body = nlohmann::json::parse(buf.substr(head_end + 4, length), nullptr, false);
    if (body.is_object() && body.contains("response_code") && body["response_code"].is_string()) r.response_code = body["response_code"];
    buf.erase(0, head_end + 4 + length);
    return true;
}

class conn : public std::enable_shared_from_this<conn> {
public:
    conn(net::io_context& io, std::uint16_t port, const std::string& source = "127.0.0.1")
        : socket_(io), timer_(io), server_(net::ip::make_address_v4("127.0.0.1"), port), source_(net::ip::make_address_v4(source)) {}

    void connect(std::function<void(bool)> done) {
        error_code ec;
        socket_.open(tcp::v4(), ec);
        if (!ec) socket_.bind(tcp::endpoint(source_, 0), ec);
        if (ec) return net::post(socket_.get_executor(), [done] { done(false); });
        socket_.async_connect(server_, [self = shared_from_this(), done](error_code cec) {
            if (!cec) {
                error_code ignored;
                self->socket_.set_option(tcp::no_delay(true), ignored);
            }
            done(!cec);
        });
    }

    // Writes `bytes` (one or more requests), then reads `count` responses.
    // `done` gets them, fewer when the connection ended or time ran out.
    void exchange(std::string bytes, std::size_t count, std::chrono::milliseconds timeout, std::function<void(std::vector<reply>)> done) {
        out_ = std::move(bytes);
        want_ = count;
        got_.clear();
        on_replies_ = std::move(done);
        started_ = steady::now();
        arm(timeout);
        net::async_write(socket_, net::buffer(out_), [self = shared_from_this()](error_code ec, std::size_t) {
            if (ec) return self->finish(ec);
            self->read_replies();
        });
    }

    // Waits for a response the server sends unasked (a 503 at the connection
    // cap). On timeout the connection stays open, with error "timeout".
    void await_reply(std::chrono::milliseconds timeout, std::function<void(reply)> done) {
        want_ = 1;
        got_.clear();
        on_replies_ = [done = std::move(done)](std::vector<reply> rs) { done(rs.empty() ? reply{} : rs.front()); };
        started_ = steady::now();
        arm(timeout);
        read_replies();
    }

    // Writes `bytes` one byte every `every` until the server closes the
    // connection (done(ms until it closed, what it sent)) or `give_up` passes
    // (done(-1, ...)).
    void drip(std::string bytes, std::chrono::milliseconds every, std::chrono::milliseconds give_up, std::function<void(double, std::string)> done) {
        out_ = std::move(bytes);
        drip_pos_ = 0;
        drip_every_ = every;
        on_drip_ = std::move(done);
        started_ = steady::now();
        drip_deadline_ = started_ + give_up;
        drip_read();
        drip_next();
    }

    bool is_open() const { return socket_.is_open() && !closed_; }
    void close() {
        error_code ec;
        closed_ = true;
        timer_.cancel();
        socket_.close(ec);
    }

private:
    void arm(std::chrono::milliseconds timeout) {
        timed_out_ = false;
        const auto gen = ++gen_;
        timer_.expires_after(timeout);
        timer_.async_wait([self = shared_from_this(), gen](error_code ec) {
            // A late timer of an operation that already finished must not cancel the next one.
            if (ec || gen != self->gen_) return;
            self->timed_out_ = true;
            error_code ignored;
            self->socket_.cancel(ignored);
        });
    }

    void read_replies() {
        for (reply r; got_.size() < want_ && take_reply(in_, r); r = {}) {
            r.ms = ms_since(started_);
            got_.push_back(r);
        }
        if (got_.size() >= want_) return finish({});
        socket_.async_read_some(net::buffer(chunk_), [self = shared_from_this()](error_code ec, std::size_t n) {
            if (ec) return self->finish(ec);
            self->in_.append(self->chunk_.data(), n);
            self->read_replies();
        });
    }

    void finish(error_code ec) {
        ++gen_;
        timer_.cancel();
        if (ec && !timed_out_) closed_ = true;  // end of stream or reset: the connection is gone
        if (got_.size() < want_) {
            reply r;
            r.error = timed_out_ ? "timeout" : ec == net::error::eof ? "eof" : ec == net::error::connection_reset ? "reset" : ec.message();
            r.ms = ms_since(started_);
            got_.push_back(r);  // the last entry says why the rest is missing
        }
        for (const auto& r : got_)
            if (r.closes) closed_ = true;
        auto cb = std::move(on_replies_);
        on_replies_ = nullptr;
        if (cb) cb(std::exchange(got_, {}));
    }

    void drip_next() {
        if (closed_ || !on_drip_) return;
        if (steady::now() >= drip_deadline_) return drip_end(-1);
        if (drip_pos_ >= out_.size()) {
            // Everything written and not cut off: wait out the deadline on the read.
            timer_.expires_at(drip_deadline_);
        } else {
            timer_.expires_after(drip_every_);
        }
        timer_.async_wait([self = shared_from_this()](error_code ec) {
            if (ec || !self->on_drip_) return;
            if (steady::now() >= self->drip_deadline_) return self->drip_end(-1);
            if (self->drip_pos_ >= self->out_.size()) return self->drip_next();
            net::async_write(self->socket_, net::buffer(&self->out_[self->drip_pos_], 1), [self](error_code wec, std::size_t) {
                if (wec) return self->drip_end(ms_since(self->started_));
                ++self->drip_pos_;
                self->drip_next();
            });
        });
    }

    void drip_read() {
        socket_.async_read_some(net::buffer(chunk_), [self = shared_from_this()](error_code ec, std::size_t n) {
            if (!self->on_drip_) return;
            if (ec) return self->drip_end(ms_since(self->started_));
            self->in_.append(self->chunk_.data(), n);
            self->drip_read();
        });
    }

    void drip_end(double ms) {
        auto cb = std::move(on_drip_);
        on_drip_ = nullptr;
        timer_.cancel();
        closed_ = true;
        error_code ec;
        socket_.close(ec);
        if (cb) cb(ms, in_);
    }

    tcp::socket socket_;
    net::steady_timer timer_;
    tcp::endpoint server_;
    net::ip::address_v4 source_;
    std::string out_, in_;
    std::array<char, 4096> chunk_{};
    std::size_t want_ = 0;
    std::vector<reply> got_;
    std::function<void(std::vector<reply>)> on_replies_;
    steady::time_point started_{};
    bool timed_out_ = false;
    bool closed_ = false;
    std::uint64_t gen_ = 0;  // operations started, so that a stale timer does nothing
    std::size_t drip_pos_ = 0;
    std::chrono::milliseconds drip_every_{};
    steady::time_point drip_deadline_{};
    std::function<void(double, std::string)> on_drip_;
};

// `total` requests over `connections` keep-alive connections from `source`,
// `depth` of them pipelined per write. make(i) gives request i's bytes;
// on_reply(i, r) gets its response (status 0: none came, the connection
// ended first; the request may or may not have been handled). A connection
// the server closes is replaced by a new one.
class flood {
public:
    flood(net::io_context& io, std::uint16_t port, std::string source, std::size_t total, std::size_t depth,
          std::function<std::string(std::size_t)> make, std::function<void(std::size_t, const reply&)> on_reply)
        : io_(io), port_(port), source_(std::move(source)), total_(total), depth_(depth), make_(std::move(make)), on_reply_(std::move(on_reply)) {}

    void start(int connections) {
        for (int i = 0; i < connections; ++i) open_and_run();
    }
    std::size_t reconnects() const { return reconnects_; }
    std::size_t connect_failures() const { return connect_failures_; }

private:
    void open_and_run() {
        if (next_ >= total_) return;
        auto c = std::make_shared<conn>(io_, port_, source_);
        c->connect([this, c](bool ok) {
            if (!ok) {
                // Out of local ports or refused: count it and give that share to the other connections.
                ++connect_failures_;
                return;
            }
            run(c);
        });
    }

    void run(const std::shared_ptr<conn>& c) {
        if (next_ >= total_) return c->close();
        std::vector<std::size_t> ids;
        std::string bytes;
        while (ids.size() < depth_ && next_ < total_) {
            ids.push_back(next_);
            bytes += make_(next_++);
        }
        c->exchange(std::move(bytes), ids.size(), std::chrono::seconds(60), [this, c, ids](std::vector<reply> rs) {
            bool complete = true;
            for (std::size_t k = 0; k < ids.size(); ++k) {
                reply r = k < rs.size() ? rs[k] : reply{};
                if (r.status == 0) {
                    complete = false;
                    if (r.error.empty() && !rs.empty()) r.error = rs.back().error;
                }
                on_reply_(ids[k], r);
            }
            if (complete && c->is_open()) return run(c);
            ++reconnects_;
            c->close();
            open_and_run();
        });
    }

    net::io_context& io_;
    std::uint16_t port_;
    std::string source_;
    std::size_t total_, depth_;
    std::function<std::string(std::size_t)> make_;
    std::function<void(std::size_t, const reply&)> on_reply_;
    std::size_t next_ = 0;
    std::size_t reconnects_ = 0;
    std::size_t connect_failures_ = 0;
};

// Soft RLIMIT_NOFILE raised to the hard limit (children inherit it); returns
// the new soft limit.
inline rlim_t raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
}

// A value in kB from /proc/PID/status ("VmRSS", "VmHWM"); 0 when unknown.
inline long proc_status_kb(pid_t pid, const std::string& key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
    return 0;
}

}  // namespace otppi::test::load
