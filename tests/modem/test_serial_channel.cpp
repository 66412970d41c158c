// serial_channel over a real pty: the test plays the modem on the master side
// with its own async reads on the same io_context (no threads, no sleeps).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/serial_channel.hpp"

namespace {

using namespace otppi::modem;
using namespace std::chrono_literals;
namespace net = boost::asio;

template <class Pred>
bool run_until(net::io_context& ioc, Pred pred, std::chrono::milliseconds limit = 3s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        if (ioc.stopped()) ioc.restart();
        ioc.run_for(2ms);
    }
    return true;
}

void run_for(net::io_context& ioc, std::chrono::milliseconds d) {
    const auto deadline = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < deadline) {
        if (ioc.stopped()) ioc.restart();
        ioc.run_for(2ms);
    }
}

// The modem end of a pty. It keeps its own slave fd open, as a real device
// node stays while the driver closes and reopens it.
class fake_modem {
public:
    explicit fake_modem(net::io_context& ioc) : master_(ioc) {
        int fd = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 || ::grantpt(fd) != 0 || ::unlockpt(fd) != 0) throw std::runtime_error("pty");
        std::array<char, 128> name{};
        ::ptsname_r(fd, name.data(), name.size());
        path_ = name.data();
        keep_ = ::open(path_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
        termios t{};
        ::tcgetattr(keep_, &t);
        ::cfmakeraw(&t);
        ::tcsetattr(keep_, TCSANOW, &t);
        master_.assign(fd);
        read();
    }
    ~fake_modem() {
        if (keep_ >= 0) ::close(keep_);
    }

    const std::string& path() const { return path_; }
    // Each CR- or Ctrl-Z-terminated chunk, and "<esc>" for each ESC.
    std::function<void(const std::string&)> on_line;
    std::vector<std::string> lines;
    std::string raw;

    void send(std::string_view s) { net::write(master_, net::buffer(s.data(), s.size())); }
    // The device goes away: the driver's fd sees a hang-up.
    void unplug() {
        boost::system::error_code ec;
        master_.close(ec);
        if (keep_ >= 0) ::close(keep_);
        keep_ = -1;
    }

private:
    void read() {
        master_.async_read_some(net::buffer(buf_), [this](const boost::system::error_code& ec, std::size_t n) {
            if (ec) return;
            for (std::size_t i = 0; i < n; ++i) {
                char c = buf_[i];
                raw.push_back(c);
                if (c == '\x1B') {
                    emit("<esc>");
                } else if (c == '\r' || c == '\x1A') {
                    emit(c == '\x1A' ? partial_ + "<ctrl-z>" : partial_);
                    partial_.clear();
                } else if (c != '\n') {
                    partial_.push_back(c);
                }
            }
            read();
        });
    }
    void emit(std::string l) {
        lines.push_back(l);
        if (on_line) on_line(l);
    }

    net::posix::stream_descriptor master_;
    std::array<char, 512> buf_{};
    std::string partial_;
    std::string path_;
    int keep_ = -1;
};

channel_options fast() {
    channel_options o;
    o.name = "t";
    o.engine.escape_settle = 10ms;
    return o;
}

serial_settings settings_for(const fake_modem& f) {
    serial_settings s;
    s.path = f.path();
    return s;
}

TEST(SerialChannel, SettingsFromConfigAreChecked) {
    otppi::config::modem_config c;
    c.port = "/dev/ttyUSB0";
    c.baud_rate = 9600;
    c.parity = "even";
    c.data_bits = 7;
    c.stop_bits = 2;
    auto s = serial_settings_from(c);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->baud_rate, 9600u);
    EXPECT_EQ(s->parity, serial_settings::parity_t::even);
    EXPECT_EQ(s->data_bits, 7u);
    EXPECT_EQ(s->stop_bits, 2u);
    std::string err;
    c.parity = "mark";
    EXPECT_FALSE(serial_settings_from(c, &err));
    EXPECT_NE(err.find("parity"), std::string::npos);
    c.parity = "none";
    c.stop_bits = 3;
    EXPECT_FALSE(serial_settings_from(c, &err));
    EXPECT_NE(err.find("stop_bits"), std::string::npos);
    c.stop_bits = 1;
    c.port.clear();
    EXPECT_FALSE(serial_settings_from(c, &err));
}

TEST(SerialChannel, OpenFailureIsAClearError) {
    net::io_context ioc;
    serial_channel ch(ioc, fast());
    serial_settings s;
    s.path = "/dev/otppi-no-such-port";
    auto e = ch.open(s);
    EXPECT_NE(e.find("/dev/otppi-no-such-port"), std::string::npos) << e;
    EXPECT_FALSE(ch.is_open());
    EXPECT_FALSE(ch.submit(make_command("AT"), [](at_result) { FAIL(); }));
}

TEST(SerialChannel, AppliesLineSettingsToThePort) {
    net::io_context ioc;
    fake_modem dev(ioc);
    serial_channel ch(ioc, fast());
    serial_settings s = settings_for(dev);
    s.baud_rate = 9600;
    s.stop_bits = 2;
    ASSERT_EQ(ch.open(s), "");
    int fd = ::open(dev.path().c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    termios t{};
    ASSERT_EQ(::tcgetattr(fd, &t), 0);
    ::close(fd);
    EXPECT_EQ(::cfgetospeed(&t), static_cast<speed_t>(B9600));
    EXPECT_TRUE(t.c_cflag & CSTOPB);
    EXPECT_FALSE(t.c_cflag & PARENB);
    EXPECT_EQ(t.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
    EXPECT_FALSE(t.c_lflag & ICANON) << "raw mode";
    EXPECT_FALSE(t.c_lflag & ECHO);
    EXPECT_FALSE(t.c_iflag & ICRNL) << "CR must reach the parser as CR";

    // Recent Linux ptys only do 8 data bits without parity (a UART does all):
    // whatever the line refuses is a clear error naming the setting, never a
    // port silently running with other settings than configured.
    s.parity = serial_settings::parity_t::odd;
    s.data_bits = 7;
    auto e = ch.open(s);
    if (!e.empty()) {
        EXPECT_TRUE(e.find("data bits") != std::string::npos || e.find("parity") != std::string::npos) << e;
        EXPECT_FALSE(ch.is_open());
    }
}

TEST(SerialChannel, CommandReplyAndUrcAfterTheOpeningEscape) {
    net::io_context ioc;
    fake_modem dev(ioc);
    dev.on_line = [&](const std::string& l) {
        if (l == "AT+CSQ") dev.send("\r\n+CMTI: \"SM\",3\r\n\r\n+CSQ: 20,0\r\n\r\nOK\r\n");
    };
    serial_channel ch(ioc, fast());
    std::vector<std::string> urcs;
    ch.on_urc([&](const unsolicited& u) { urcs.push_back(u.name); });
    ASSERT_EQ(ch.open(settings_for(dev)), "");
    std::optional<at_result> got;
    ASSERT_TRUE(ch.submit(make_command("AT+CSQ", 1s), [&](at_result r) { got = std::move(r); }));
    ASSERT_TRUE(run_until(ioc, [&] { return got.has_value(); }));
    EXPECT_TRUE(got->ok());
    ASSERT_EQ(got->lines.size(), 1u);
    EXPECT_EQ(got->lines[0], "+CSQ: 20,0");
    ASSERT_EQ(urcs.size(), 1u);
    EXPECT_EQ(urcs[0], "+CMTI");
    ASSERT_GE(dev.lines.size(), 2u);
    EXPECT_EQ(dev.lines[0], "<esc>") << "a modem left at a prompt must not swallow our first command";
    EXPECT_EQ(dev.lines[1], "AT+CSQ");
    EXPECT_TRUE(ch.idle());
}

TEST(SerialChannel, CompletionMaySubmitTheNextCommand) {
    net::io_context ioc;
    fake_modem dev(ioc);
    dev.on_line = [&](const std::string& l) {
        if (l.rfind("AT", 0) == 0) dev.send("\r\nOK\r\n");
    };
    serial_channel ch(ioc, fast());
    ASSERT_EQ(ch.open(settings_for(dev)), "");
    int done = 0;
    std::function<void(at_result)> next = [&](at_result r) {
        EXPECT_TRUE(r.ok());
        if (++done < 5) ch.submit(make_command("AT+N" + std::to_string(done)), next);
    };
    ch.submit(make_command("AT+N0"), next);
    ASSERT_TRUE(run_until(ioc, [&] { return done == 5; }));
    EXPECT_EQ(ch.stats().commands, 5u);
}

TEST(SerialChannel, PromptThenPduThenReference) {
    net::io_context ioc;
    fake_modem dev(ioc);
    std::string pdu_seen;
    dev.on_line = [&](const std::string& l) {
        if (l.rfind("AT+CMGS=", 0) == 0) dev.send("\r\n> ");
        if (l.size() > 8 && l.substr(l.size() - 8) == "<ctrl-z>") {
            pdu_seen = l.substr(0, l.size() - 8);
            dev.send("\r\n+CMGS: 42\r\n\r\nOK\r\n");
        }
    };
    serial_channel ch(ioc, fast());
    ASSERT_EQ(ch.open(settings_for(dev)), "");
    const std::string pdu = "0011000C912618216666660000A705E8329BFD06";
    auto cmd = make_send_pdu(pdu, 2s, 1s);
    ASSERT_TRUE(cmd);
    std::optional<at_result> got;
    ch.submit(std::move(*cmd), [&](at_result r) { got = std::move(r); });
    ASSERT_TRUE(run_until(ioc, [&] { return got.has_value(); }));
    ASSERT_TRUE(got->ok()) << to_string(got->status);
    EXPECT_EQ(parse_cmgs(got->lines), 42);
    EXPECT_EQ(pdu_seen, pdu);
}

TEST(SerialChannel, ConsecutiveTimeoutsCloseThePortAndSayWhy) {
    net::io_context ioc;
    fake_modem dev(ioc);  // never answers
    channel_options o = fast();
    o.engine.timeout_threshold = 2;
    serial_channel ch(ioc, o);
    std::optional<channel_close_reason> closed;
    ch.on_close([&](channel_close_reason r, const std::string&) { closed = r; });
    ASSERT_EQ(ch.open(settings_for(dev)), "");
    std::vector<at_status> results;
    ch.submit(make_command("AT", 50ms), [&](at_result r) { results.push_back(r.status); });
    ch.submit(make_command("AT", 50ms), [&](at_result r) { results.push_back(r.status); });
    ch.submit(make_command("AT", 50ms), [&](at_result r) { results.push_back(r.status); });
    ASSERT_TRUE(run_until(ioc, [&] { return closed.has_value(); }));
    EXPECT_EQ(*closed, channel_close_reason::timeouts);
    EXPECT_FALSE(ch.is_open());
    // The second timeout's completion runs, then the port closes; the third
    // command's callback is dropped with the session.
    ASSERT_EQ(results.size(), 2u);
    EXPECT_EQ(results[0], at_status::timeout);
    run_for(ioc, 100ms);
    EXPECT_EQ(results.size(), 2u);
    // The owner reopens: the exclusive flag did not outlive our close.
    EXPECT_EQ(ch.open(settings_for(dev)), "");
}

TEST(SerialChannel, HangUpIsReportedAsUnplug) {
    net::io_context ioc;
    fake_modem dev(ioc);
    serial_channel ch(ioc, fast());
    std::optional<channel_close_reason> closed;
    int calls = 0;
    ch.on_close([&](channel_close_reason r, const std::string&) {
        closed = r;
        ++calls;
    });
    ASSERT_EQ(ch.open(settings_for(dev)), "");
    bool answered = false;
    ch.submit(make_command("AT", 5s), [&](at_result) { answered = true; });
    run_for(ioc, 30ms);
    dev.unplug();
    ASSERT_TRUE(run_until(ioc, [&] { return closed.has_value(); }));
    EXPECT_EQ(*closed, channel_close_reason::unplugged);
    EXPECT_FALSE(ch.is_open());
    run_for(ioc, 50ms);
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(answered);
}

TEST(SerialChannel, ExplicitCloseDropsCallbacksAndReopenWorks) {
    net::io_context ioc;
    fake_modem dev(ioc);
    serial_channel ch(ioc, fast());
    bool closed_reported = false;
    ch.on_close([&](channel_close_reason, const std::string&) { closed_reported = true; });
    ASSERT_EQ(ch.open(settings_for(dev)), "");
    bool answered = false;
    ch.submit(make_command("AT", 5s), [&](at_result) { answered = true; });
    run_for(ioc, 20ms);
    ch.close();
    run_for(ioc, 50ms);
    EXPECT_FALSE(answered);
    EXPECT_FALSE(closed_reported);
    dev.on_line = [&](const std::string& l) {
        if (l == "AT") dev.send("\r\nOK\r\n");
    };
    ASSERT_EQ(ch.open(settings_for(dev)), "");
    ASSERT_TRUE(ch.submit(make_command("AT", 1s), [&](at_result r) { answered = r.ok(); }));
    ASSERT_TRUE(run_until(ioc, [&] { return answered; }));
}

TEST(SerialChannel, DestroyedWithACommandInFlight) {
    net::io_context ioc;
    fake_modem dev(ioc);
    bool answered = false;
    {
        serial_channel ch(ioc, fast());
        ASSERT_EQ(ch.open(settings_for(dev)), "");
        ch.submit(make_command("AT", 50ms), [&](at_result) { answered = true; });
        run_for(ioc, 5ms);
    }
    run_for(ioc, 100ms);
    EXPECT_FALSE(answered);
}

TEST(SerialChannel, IdleChannelDoesNoIo) {
    net::io_context ioc;
    fake_modem dev(ioc);
    dev.on_line = [&](const std::string& l) {
        if (l == "AT") dev.send("\r\nOK\r\n");
    };
    serial_channel ch(ioc, fast());
    ASSERT_EQ(ch.open(settings_for(dev)), "");
    bool ok = false;
    ch.submit(make_command("AT", 1s), [&](at_result r) { ok = r.ok(); });
    ASSERT_TRUE(run_until(ioc, [&] { return ok; }));
    run_for(ioc, 50ms);
    const channel_stats before = ch.stats();
    run_for(ioc, 400ms);
    const channel_stats& after = ch.stats();
    EXPECT_EQ(after.reads, before.reads);
    EXPECT_EQ(after.writes, before.writes);
    EXPECT_EQ(after.timer_expiries, before.timer_expiries);
}

TEST(SerialChannel, LoggableBytesHidePdusAndSecrets) {
    EXPECT_EQ(detail::loggable_bytes("AT+CPIN=\"1234\"\r", true), "<sensitive, 15 bytes>");
    EXPECT_EQ(detail::loggable_bytes("AT+CSQ\r", false), "AT+CSQ\\r");
    EXPECT_EQ(detail::loggable_bytes("0011000C912618216666660000A705E8329BFD06\x1A", false), "<pdu 20 octets><ctrl-z>");
    EXPECT_EQ(detail::loggable_bytes("\r\n+CGSN: 359848091599999\r\n", false), "\\r\\n+CGSN: 359848091599999\\r\\n");
    EXPECT_EQ(detail::loggable_bytes("\x1B", false), "<esc>");
}

TEST(SerialChannel, TraceLogNeverShowsThePinOrThePdu) {
    auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(512);
    auto logger = std::make_shared<spdlog::logger>("serial-test", sink);
    logger->set_level(spdlog::level::trace);
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(logger);

    {
        net::io_context ioc;
        fake_modem dev(ioc);
        dev.on_line = [&](const std::string& l) {
            // A modem with echo on repeats the PIN back.
            if (l.rfind("AT+CPIN=", 0) == 0) dev.send(l + "\r\r\nOK\r\n");
            if (l.rfind("AT+CMGS=", 0) == 0) dev.send("\r\n> ");
            if (l.find("<ctrl-z>") != std::string::npos) dev.send("\r\n+CMGS: 1\r\n\r\nOK\r\n");
        };
        serial_channel ch(ioc, fast());
        ASSERT_EQ(ch.open(settings_for(dev)), "");
        int done = 0;
        ch.submit(*make_enter_pin("4711"), [&](at_result) { ++done; });
        ch.submit(*make_send_pdu("0011000C912618216666660000A705E8329BFD06"), [&](at_result) { ++done; });
        ASSERT_TRUE(run_until(ioc, [&] { return done == 2; }));
    }
    spdlog::set_default_logger(previous);
    auto lines = sink->last_formatted();
    ASSERT_FALSE(lines.empty());
    bool saw_pdu_marker = false;
    for (const auto& l : lines) {
        EXPECT_EQ(l.find("4711"), std::string::npos) << l;
        EXPECT_EQ(l.find("E8329BFD06"), std::string::npos) << l;
        if (l.find("<pdu 20 octets>") != std::string::npos) saw_pdu_marker = true;
    }
    EXPECT_TRUE(saw_pdu_marker);
}

}  // namespace
