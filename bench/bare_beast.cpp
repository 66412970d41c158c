// The HTTP limit that bench/http.sh measures the daemon against: the least a
// Boost.Beast server can do per request on this machine. It has the daemon's
// I/O model (one io_context on one thread, keep-alive, TCP_NODELAY, a deadline
// on every read) and answers every request with 200 and the body "{}": no
// authentication, no JSON, no routing.
//
//   otppi-bench-bare-beast PORT [LIFETIME_S]
//
// Listens on 127.0.0.1:PORT (0 picks a free port) and prints
// "listening on 127.0.0.1:<port>" once it accepts. Stops on SIGINT/SIGTERM,
// and by itself after LIFETIME_S seconds (default 600) so that a benchmark
// that dies half-way leaves nothing running for long.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

constexpr auto read_deadline = std::chrono::seconds(30);

class session : public std::enable_shared_from_this<session> {
public:
    explicit session(tcp::socket&& socket) : stream_(std::move(socket)) {}

    void run() { do_read(); }

private:
    void do_read() {
        req_ = {};
        stream_.expires_after(read_deadline);
        http::async_read(stream_, buffer_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec) return close();  // end_of_stream, timeout, reset, bad request: all just close
        res_ = {};
        res_.version(req_.version());
        res_.result(http::status::ok);
        res_.set(http::field::content_type, "application/json");
        res_.keep_alive(req_.keep_alive());
        res_.body() = "{}";
        res_.prepare_payload();
        http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code wec, std::size_t) { self->on_write(wec); });
    }

    void on_write(beast::error_code ec) {
        if (ec || !res_.keep_alive()) return close();
        do_read();
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.socket().close(ignored);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_{8192};
    http::request<http::string_body> req_;
    http::response<http::string_body> res_;
};

void do_accept(tcp::acceptor& acceptor) {
    acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted) return;
        if (!ec) {
            socket.set_option(tcp::no_delay(true), ec);  // as the daemon does
            std::make_shared<session>(std::move(socket))->run();
        }
        do_accept(acceptor);
    });
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: %s PORT [LIFETIME_S]\n", argv[0]);
        return 2;
    }
    const long port = std::strtol(argv[1], nullptr, 10);
    const long lifetime_s = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 600;
    if (port < 0 || port > 65535 || lifetime_s <= 0) {
        std::fprintf(stderr, "%s: PORT must be 0..65535 and LIFETIME_S > 0\n", argv[0]);
        return 2;
    }

    net::io_context ioc{1};
    tcp::acceptor acceptor(ioc);
    const tcp::endpoint endpoint(net::ip::make_address_v4("127.0.0.1"), static_cast<unsigned short>(port));
    beast::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
        std::fprintf(stderr, "%s: cannot listen on 127.0.0.1:%ld: %s\n", argv[0], port, ec.message().c_str());
        return 1;
    }
    do_accept(acceptor);

    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&ioc](beast::error_code, int) { ioc.stop(); });
    net::steady_timer lifetime(ioc, std::chrono::seconds(lifetime_s));
    lifetime.async_wait([&ioc](beast::error_code wait_ec) {
        if (!wait_ec) ioc.stop();
    });

    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
    std::fflush(stdout);
    ioc.run();
    return 0;
}
