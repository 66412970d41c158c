// The HTTP server over real loopback sockets (port 0), plain and TLS.
// Deadlines are set to a few hundred milliseconds where a test must see one fire.
#include "otppi/http/server.hpp"
#include "support/process.hpp"
#include "support/raw_client.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_cert.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <future>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <thread>

using namespace otppi;
using namespace std::chrono_literals;
using test::post;
using test::raw_client;

namespace {

class HttpServer : public ::testing::Test {
protected:
    void start(http::limits lim = {}, boost::asio::ssl::context* tls = nullptr) {
        server = std::make_unique<http::server>(
            ioc,
            [this](http::request req, http::responder respond) {
                last_remote = req.remote_address;
                last_request = req;
                if (req.path() == "/later") {
                    held = std::move(respond);
                    held_promise.set_value();
                    return;
                }
                http::response res;
                res.body = req.method + " " + req.target + " " + req.body;
                res.content_type = "text/plain";
                respond(std::move(res));
            },
            lim, tls);
        ASSERT_EQ(server->listen("127.0.0.1", 0), "");
        port = server->port();
        ASSERT_NE(port, 0);
        io_thread = std::thread([this] { ioc.run(); });
    }
    void TearDown() override {
        if (io_thread.joinable()) {
            boost::asio::post(ioc, [this] { server->stop(); });
            ioc.stop();
            io_thread.join();
        }
    }
    // Runs fn on the io thread and waits for it.
    template <class F>
    auto on_io(F fn) {
        std::promise<decltype(fn())> p;
        boost::asio::post(ioc, [&] { p.set_value(fn()); });
        return p.get_future().get();
    }

    boost::asio::io_context ioc;
    // A request may wait on a responder with no I/O pending (as a modem send
    // does); without this the loop could run out of work and return early.
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> keep_running = boost::asio::make_work_guard(ioc);
    std::unique_ptr<http::server> server;
    std::thread io_thread;
    std::uint16_t port = 0;
    std::string last_remote;
    http::request last_request;
    http::responder held;
    std::promise<void> held_promise;
};

}  // namespace

TEST_F(HttpServer, KeepAliveServesManyRequestsOnOneConnection) {
    start();
    raw_client c(port);
    ASSERT_TRUE(c.connected());
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(c.send(post("/x", "body" + std::to_string(i))));
        auto r = c.read_reply();
        ASSERT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "POST /x body" + std::to_string(i));
        EXPECT_TRUE(r.has_header("Server: otppi"));
    }
    EXPECT_EQ(last_remote, "127.0.0.1");
    EXPECT_EQ(on_io([&] { return server->stats().requests; }), 3u);
}

TEST_F(HttpServer, OversizedContentLengthGets413BeforeAnyBodyIsSent) {
    http::limits lim;
    lim.body_limit = 1024;
    start(lim);
    raw_client c(port);
    // Only the header goes out: the answer must not wait for the body.
    ASSERT_TRUE(c.send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100000000\r\n\r\n"));
    auto r = c.read_reply(5s);
    EXPECT_EQ(r.status, 413);
    EXPECT_NE(r.body.find("\"response_code\":\"1413\""), std::string::npos);
    EXPECT_TRUE(c.closed_by_peer(2s));
}

TEST_F(HttpServer, OversizedChunkedBodyGets413) {
    http::limits lim;
    lim.body_limit = 1024;
    start(lim);
    raw_client c(port);
    std::string chunk(800, 'a');
    char size[16];
    std::snprintf(size, sizeof size, "%zx", chunk.size());
    std::string req = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) req += std::string(size) + "\r\n" + chunk + "\r\n";
    req += "0\r\n\r\n";
    c.send(req);
    EXPECT_EQ(c.read_reply(5s).status, 413);
}

TEST_F(HttpServer, HugeHeadersGet431) {
    start();
    raw_client c(port);
    c.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(20000, 'x') + "\r\n\r\n");
    EXPECT_EQ(c.read_reply(5s).status, 431);
}

TEST_F(HttpServer, GarbageGets400AndServerKeepsServing) {
    start();
    {
        raw_client c(port);
        c.send("HELLO\x01\x02 nonsense\r\n\r\n");
        EXPECT_EQ(c.read_reply(5s).status, 400);
    }
    raw_client good(port);
    good.send(post("/x", "ok"));
    EXPECT_EQ(good.read_reply().status, 200);
}

TEST_F(HttpServer, SlowHeaderIsCutOff) {
    http::limits lim;
    lim.header_timeout = 300ms;
    start(lim);
    raw_client c(port);
    c.send("POST /x HTTP/1.1\r\nHost: a\r\n");  // and never finishes
    auto r = c.read_reply(5s);
    // Either a 408 made it out or the connection was dropped; never a hang.
    EXPECT_TRUE(r.status == 408 || r.status == 0);
    EXPECT_TRUE(c.closed_by_peer(2s));
    EXPECT_GE(on_io([&] { return server->stats().timeouts; }), 1u);
}

TEST_F(HttpServer, IdleKeepAliveConnectionIsClosed) {
    http::limits lim;
    lim.idle_timeout = 300ms;
    start(lim);
    raw_client c(port);
    c.send(post("/x", "1"));
    ASSERT_EQ(c.read_reply().status, 200);
    EXPECT_TRUE(c.closed_by_peer(3s));
}

TEST_F(HttpServer, ConnectionCapAnswers503) {
    http::limits lim;
    lim.max_connections = 2;
    start(lim);
    raw_client a(port), b(port);
    a.send(post("/x", "a"));
    b.send(post("/x", "b"));
    ASSERT_EQ(a.read_reply().status, 200);
    ASSERT_EQ(b.read_reply().status, 200);
    raw_client third(port);
    auto r = third.read_reply(5s);
    EXPECT_EQ(r.status, 503);
    EXPECT_TRUE(r.has_header("Retry-After"));
    // The first two still work.
    a.send(post("/x", "again"));
    EXPECT_EQ(a.read_reply().status, 200);
}

TEST_F(HttpServer, ExpectContinueIsAnswered) {
    start();
    raw_client c(port);
    const std::string body(2000, 'z');
    c.send("POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2000\r\n\r\n");
    auto interim = c.read_reply(5s);  // "HTTP/1.1 100 Continue" has no body
    EXPECT_EQ(interim.status, 100);
    c.send(body);
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "POST /x " + body);
}

TEST_F(HttpServer, StopLetsRequestInFlightFinishThenDrains) {
    start();
    raw_client busy(port), idle(port);
    idle.send(post("/x", "warm"));
    ASSERT_EQ(idle.read_reply().status, 200);
    busy.send(post("/later", "x"));
    held_promise.get_future().wait();
    std::promise<void> drained;
    boost::asio::post(ioc, [&] { server->stop([&] { drained.set_value(); }); });
    EXPECT_TRUE(idle.closed_by_peer(3s));
    // New connections are refused once stopped.
    raw_client late(port);
    EXPECT_FALSE(late.connected() && late.send(post("/x", "late")) && late.read_reply(1s).ok());
    boost::asio::post(ioc, [&] {
        http::response res;
        res.body = "finished";
        held(std::move(res));
    });
    auto r = busy.read_reply();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "finished");
    EXPECT_TRUE(r.has_header("Connection: close"));
    EXPECT_EQ(drained.get_future().wait_for(5s), std::future_status::ready);
}

TEST_F(HttpServer, BindFailureIsReported) {
    start();
    http::server second(ioc, [](http::request, http::responder) {}, {});
    auto err = second.listen("127.0.0.1", port);
    EXPECT_NE(err.find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos) << err;
    EXPECT_NE(second.listen("not-an-address", 1).find("invalid bind address"), std::string::npos);
}

namespace {

// One HTTPS request with OpenSSL as the client; `max_version` 0 = library default.
std::string tls_request(std::uint16_t port, int max_version, std::string& error) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (max_version) SSL_CTX_set_max_proto_version(ctx, max_version);
    if (max_version && max_version < TLS1_2_VERSION) SSL_CTX_set_security_level(ctx, 0);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        SSL* ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        SSL_set_tlsext_host_name(ssl, "localhost");
        if (SSL_connect(ssl) == 1) {
            std::string req = post("/tls", "secret");
            SSL_write(ssl, req.data(), static_cast<int>(req.size()));
            char buf[4096];
            int n;
            while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) {
                out.append(buf, static_cast<std::size_t>(n));
                if (out.find("POST /tls secret") != std::string::npos) break;
            }
        } else {
            error = ERR_error_string(ERR_get_error(), nullptr);
        }
        SSL_free(ssl);
    }
    ::close(fd);
    SSL_CTX_free(ctx);
    return out;
}

}  // namespace

TEST_F(HttpServer, ServesTlsWithARealCertificate) {
    test::temp_dir dir;
    ASSERT_TRUE(test::make_self_signed(dir / "cert.pem", dir / "key.pem"));
    std::string err;
    auto ctx = http::make_tls_context(dir / "cert.pem", dir / "key.pem", err);
    ASSERT_TRUE(ctx) << err;
    start({}, ctx.get());
    std::string client_error;
    auto reply = tls_request(port, 0, client_error);
    EXPECT_NE(reply.find("HTTP/1.1 200"), std::string::npos) << client_error;
    EXPECT_NE(reply.find("POST /tls secret"), std::string::npos);
    // TLS 1.1 and older are refused.
    client_error.clear();
    EXPECT_EQ(tls_request(port, TLS1_1_VERSION, client_error), "");
    EXPECT_FALSE(client_error.empty());
    // Plain HTTP on the TLS port gets nowhere and does not hurt the server.
    {
        raw_client plain(port);
        plain.send(post("/x", "plain"));
        EXPECT_FALSE(plain.read_reply(2s).ok());
    }
    EXPECT_NE(tls_request(port, 0, client_error).find("HTTP/1.1 200"), std::string::npos);
}

TEST(HttpTls, BadCertificateFilesAreReported) {
    test::temp_dir dir;
    std::string err;
    EXPECT_FALSE(http::make_tls_context(dir / "missing.pem", dir / "key.pem", err));
    EXPECT_NE(err.find("cannot load TLS certificate"), std::string::npos) << err;
    ASSERT_TRUE(test::make_self_signed(dir / "a.pem", dir / "a.key"));
    ASSERT_TRUE(test::make_self_signed(dir / "b.pem", dir / "b.key"));
    EXPECT_FALSE(http::make_tls_context(dir / "a.pem", dir / "b.key", err));
    // OpenSSL itself notices while loading the key ("key values mismatch").
    EXPECT_TRUE(err.find("does not match") != std::string::npos || err.find("mismatch") != std::string::npos) << err;
}

TEST_F(HttpServer, PipelinedRequestsInOneSegmentAreAnsweredInOrder) {
    start();
    raw_client c(port);
    c.send(post("/a", "first") + post("/b", "second"));
    auto r1 = c.read_reply();
    auto r2 = c.read_reply();
    EXPECT_EQ(r1.body, "POST /a first");
    EXPECT_EQ(r2.body, "POST /b second");
}

TEST_F(HttpServer, HeaderSplitAcrossSegments) {
    start();
    raw_client c(port);
    const std::string req = post("/split", "body");
    c.send(req.substr(0, 7));
    std::this_thread::sleep_for(20ms);
    c.send(req.substr(7, 20));
    std::this_thread::sleep_for(20ms);
    c.send(req.substr(27));
    auto r = c.read_reply();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "POST /split body");
}

TEST_F(HttpServer, HeaderFieldsReachTheHandler) {
    start();
    raw_client c(port);
    c.send(
        "POST /fields?x=1 HTTP/1.1\r\nHost: h\r\nAuthorization: Basic first\r\ncontent-type: application/json\r\n"
        "Cookie: s=1\r\nOrigin: https://gw.example\r\nx-csrf-token: tok\r\nAuthorization: Basic second\r\n"
        "Content-Length: 2\r\n\r\n{}");
    ASSERT_EQ(c.read_reply().status, 200);
    const auto req = on_io([&] { return last_request; });
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.target, "/fields?x=1");
    EXPECT_EQ(req.authorization, "Basic first") << "the first of a repeated field counts";
    EXPECT_EQ(req.content_type, "application/json");
    EXPECT_EQ(req.cookie, "s=1");
    EXPECT_EQ(req.origin, "https://gw.example");
    EXPECT_EQ(req.csrf_token, "tok");
    EXPECT_EQ(req.body, "{}");
    EXPECT_TRUE(req.keep_alive);
}

// Issue 17, item 4: 1,100 idle connections from one address filled the
// connection cap and every other client got 503 for as long as they held.
TEST_F(HttpServer, OneAddressAtTheCapDoesNotShutOutAnother) {
    http::limits lim;
    lim.max_connections = 8;
    lim.max_connections_per_client = 0;  // the server's cap alone here
    start(lim);
    std::vector<std::unique_ptr<raw_client>> hog;
    for (int i = 0; i < 8; ++i) {
        hog.push_back(std::make_unique<raw_client>(port, "127.0.0.2"));
        ASSERT_TRUE(hog.back()->connected());
    }
    // More from the same address are refused: it would only trade its own.
    raw_client more(port, "127.0.0.2");
    EXPECT_EQ(more.read_reply(5s).status, 503);
    // Another address is served: the hog's idlest connection made room.
    raw_client legit(port, "127.0.0.1");
    legit.send(post("/x", "hello"));
    auto r = legit.read_reply(5s);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "POST /x hello");
    EXPECT_TRUE(hog[0]->closed_by_peer(2s)) << "the connection idle longest";
    hog[7]->send(post("/x", "still here"));
    EXPECT_EQ(hog[7]->read_reply().status, 200);
    const auto st = on_io([&] { return server->stats(); });
    EXPECT_EQ(st.shed, 1u);
    EXPECT_EQ(st.rejected_busy, 1u);
    EXPECT_EQ(st.open, 8u);
}

TEST_F(HttpServer, ConnectionsBeyondTheCapPerClientGet429) {
    http::limits lim;
    lim.max_connections_per_client = 3;
    start(lim);
    std::vector<std::unique_ptr<raw_client>> own;
    for (int i = 0; i < 3; ++i) {
        own.push_back(std::make_unique<raw_client>(port, "127.0.0.2"));
        own.back()->send(post("/x", "mine"));
        ASSERT_EQ(own.back()->read_reply().status, 200);
    }
    raw_client fourth(port, "127.0.0.2");
    auto r = fourth.read_reply(5s);
    EXPECT_EQ(r.status, 429);
    EXPECT_TRUE(r.has_header("Retry-After: 1"));
    EXPECT_TRUE(r.has_header("Connection: close"));
    EXPECT_NE(r.body.find(R"("response_code":"1429")"), std::string::npos) << r.body;
    EXPECT_TRUE(fourth.closed_by_peer(2s));
    raw_client other(port, "127.0.0.1");
    other.send(post("/x", "other"));
    EXPECT_EQ(other.read_reply().status, 200);
    // Once one of its own closes, the address may open another.
    own.pop_back();
    int status = 0;
    for (int i = 0; i < 100 && status != 200; ++i) {
        raw_client again(port, "127.0.0.2");
        again.send(post("/x", "again"));
        status = again.read_reply(5s).status;
        if (status != 200) std::this_thread::sleep_for(10ms);  // until the server saw the close
    }
    EXPECT_EQ(status, 200);
    EXPECT_GE(on_io([&] { return server->stats().rejected_client; }), 1u);
}

TEST_F(HttpServer, ConnectionWithARequestInProgressIsNeverShed) {
    http::limits lim;
    lim.max_connections = 2;
    lim.max_connections_per_client = 0;
    start(lim);
    raw_client busy(port, "127.0.0.2");
    busy.send(post("/later", "wait for me"));
    held_promise.get_future().wait();
    raw_client idle(port, "127.0.0.2");
    // 127.0.0.2 holds both slots: the idle one goes, the busy one stays.
    raw_client legit(port, "127.0.0.1");
    legit.send(post("/x", "in"));
    EXPECT_EQ(legit.read_reply(5s).status, 200);
    EXPECT_TRUE(idle.closed_by_peer(2s));
    // Now one each: nobody has more to give, a third address waits its turn.
    raw_client third(port, "127.0.0.3");
    EXPECT_EQ(third.read_reply(5s).status, 503);
    boost::asio::post(ioc, [&] {
        http::response res;
        res.body = "done";
        held(std::move(res));
    });
    auto r = busy.read_reply();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "done");
}

// Issue 17, item 8: an Expect other than 100-continue was ignored.
TEST_F(HttpServer, UnknownExpectationGets417) {
    start();
    {
        raw_client c(port);
        c.send("POST /x HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\n{}");
        auto r = c.read_reply(5s);
        EXPECT_EQ(r.status, 417);
        EXPECT_NE(r.body.find(R"("response_code":"1417")"), std::string::npos) << r.body;
        EXPECT_TRUE(r.has_header("Connection: close"));
    }
    {
        raw_client c(port);  // a second field with something else, and no body
        c.send("GET /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nExpect: x-more\r\n\r\n");
        EXPECT_EQ(c.read_reply(5s).status, 417);
    }
    raw_client c(port);  // 100-continue on a request without a body is fine
    c.send("GET /x HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n");
    EXPECT_EQ(c.read_reply(5s).status, 200);
    EXPECT_EQ(on_io([&] { return server->stats().requests; }), 1u);
}

// Issue 17, item 8: Beast joins an obsolete folded header line to the one
// before it; a proxy in front may read it as a header of its own.
TEST_F(HttpServer, ObsoleteFoldedHeaderLineGets400) {
    start();
    {
        raw_client c(port);
        c.send("POST /x HTTP/1.1\r\nHost: a\r\nX-Note: one\r\n two\r\nContent-Length: 2\r\n\r\n{}");
        auto r = c.read_reply(5s);
        EXPECT_EQ(r.status, 400);
        EXPECT_NE(r.body.find("obs-fold"), std::string::npos) << r.body;
        EXPECT_TRUE(c.closed_by_peer(2s));
    }
    {
        raw_client c(port);  // split right at the fold, with a tab
        c.send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n");
        std::this_thread::sleep_for(20ms);
        c.send("\tTransfer-Encoding: chunked\r\n\r\n{}");
        EXPECT_EQ(c.read_reply(5s).status, 400);
    }
    {
        raw_client c(port);  // in the second request on a connection
        c.send(post("/x", "ok") + "GET /y HTTP/1.1\r\nHost: a\r\n X: 1\r\n\r\n");
        EXPECT_EQ(c.read_reply(5s).status, 200);
        EXPECT_EQ(c.read_reply(5s).status, 400);
    }
    EXPECT_EQ(on_io([&] { return server->stats().requests; }), 1u) << "no folded request reached the handler";
    raw_client good(port);  // spaces inside a value and in the body are fine
    good.send(post("/x", "a\r\n b", "X-Note: one two\r\n"));
    EXPECT_EQ(good.read_reply().status, 200);
}

// Issue 11, item 7: a 2 MiB POST was cut off while the client was still
// sending, so a client that writes its whole body before reading saw
// "broken pipe" instead of the 413.
TEST_F(HttpServer, ClientStillSendingItsBodyReadsThe413) {
    http::limits lim;
    lim.body_limit = 64 * 1024;
    start(lim);
    raw_client c(port);
    int small = 16 * 1024;  // the client's send buffer: it really is still sending when the 413 comes
    ::setsockopt(c.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    EXPECT_TRUE(c.send(post("/x", std::string(2 * 1024 * 1024, 'x')))) << "the server reads what the client still sends";
    auto r = c.read_reply(10s);
    EXPECT_EQ(r.status, 413);
    EXPECT_NE(r.body.find(R"("response_code":"1413")"), std::string::npos) << r.body;
    EXPECT_TRUE(r.has_header("Connection: close"));
    EXPECT_TRUE(c.closed_by_peer(5s));
}

// The same with Python's http.client (what urllib sends with). Over
// loopback the kernel's buffers take 2 MiB whole, so the client gets a send
// buffer of 16 KiB, as over a real network: it is still writing when the 413
// comes, and saw "broken pipe" before the fix.
TEST_F(HttpServer, PythonClientPostingTwoMebibytesReadsThe413) {
    http::limits lim;
    lim.body_limit = 64 * 1024;
    start(lim);
    test::temp_dir dir;
    const std::string script =
        "import http.client, socket\n"
        "class Conn(http.client.HTTPConnection):\n"
        "    def connect(self):\n"
        "        self.sock = socket.socket()\n"
        "        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)\n"
        "        self.sock.settimeout(20)\n"
        "        self.sock.connect((self.host, self.port))\n"
        "try:\n"
        "    c = Conn('127.0.0.1', " + std::to_string(port) + ")\n"
        "    c.request('POST', '/x', body=b'x' * (2 * 1024 * 1024), headers={'Content-Type': 'application/json'})\n"
        "    r = c.getresponse()\n"
        "    print(r.status, r.read().decode())\n"
        "except Exception as e:\n"
        "    print('failed:', type(e).__name__, e)\n";
    auto r = test::run({"/usr/bin/env", "python3", "-c", script}, dir.path());
    ASSERT_NE(r.exit_code, 127) << "python3 is missing: scripts/install-deps.sh --test installs it";
    EXPECT_EQ(r.out.rfind("413 ", 0), 0u) << r.out << r.err;
    EXPECT_NE(r.out.find("1413"), std::string::npos) << r.out;
}

// The lingering close is bounded: a client that never stops sending is cut
// off after linger_bytes, and one that sends nothing more after linger_timeout.
TEST_F(HttpServer, LingeringAfterAnErrorIsBoundedInBytesAndTime) {
    http::limits lim;
    lim.body_limit = 1024;
    lim.linger_bytes = 64 * 1024;
    lim.linger_timeout = 300ms;
    start(lim);
    {
        raw_client c(port);  // chunked: no declared end, it just goes on
        std::string chunk(8192, 'a');
        std::string req = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
        bool cut = false;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 4096 && !cut; ++i) cut = !c.send((i ? "" : req) + "2000\r\n" + chunk + "\r\n");
        EXPECT_TRUE(cut) << "32 MiB went through";
        EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
    }
    raw_client quiet(port);
    quiet.send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n");
    EXPECT_EQ(quiet.read_reply(5s).status, 413);
    // The answer and the end of the server's side came at once; the
    // connection itself is gone after linger_timeout.
    EXPECT_TRUE(quiet.closed_by_peer(1s));
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
        gone = on_io([&] { return server->stats().open; }) == 0;
        if (!gone) std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(gone);
    raw_client good(port);
    good.send(post("/x", "fine"));
    EXPECT_EQ(good.read_reply().status, 200);
}

// The lingering close over TLS: reads go through the TLS stream, and the
// close_notify comes after them.
TEST_F(HttpServer, TlsClientStillSendingItsBodyReadsThe413) {
    test::temp_dir dir;
    ASSERT_TRUE(test::make_self_signed(dir / "cert.pem", dir / "key.pem"));
    std::string err;
    auto ctx = http::make_tls_context(dir / "cert.pem", dir / "key.pem", err);
    ASSERT_TRUE(ctx) << err;
    http::limits lim;
    lim.body_limit = 64 * 1024;
    start(lim, ctx.get());
    SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
    raw_client sock(port);
    int small = 16 * 1024;
    ::setsockopt(sock.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    SSL* ssl = SSL_new(cctx);
    SSL_set_fd(ssl, sock.fd());
    ASSERT_EQ(SSL_connect(ssl), 1);
    const std::string req = post("/x", std::string(2 * 1024 * 1024, 'x'));
    std::size_t done = 0;
    while (done < req.size()) {
        const int n = SSL_write(ssl, req.data() + done, static_cast<int>(std::min<std::size_t>(req.size() - done, 1 << 16)));
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
    }
    EXPECT_EQ(done, req.size()) << "the server reads what the client still sends";
    std::string reply;
    char buf[4096];
    for (int n; (n = SSL_read(ssl, buf, sizeof buf)) > 0;) reply.append(buf, static_cast<std::size_t>(n));
    EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0u) << reply.substr(0, 200);
    EXPECT_NE(reply.find("1413"), std::string::npos);
    SSL_free(ssl);
    SSL_CTX_free(cctx);
}
