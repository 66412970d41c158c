#include "otppi/core/overloaded.hpp"
#include "otppi/modem/serial_channel.hpp"

#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <termios.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace otppi::modem {

namespace net = boost::asio;

std::string_view to_string(channel_close_reason r) noexcept {
    switch (r) {
        case channel_close_reason::unplugged:
            return "unplugged";
        case channel_close_reason::io_error:
            return "io_error";
        case channel_close_reason::timeouts:
            return "timeouts";
    }
    return "?";
}

std::optional<serial_settings> serial_settings_from(const config::modem_config& cfg, std::string* error) {
    auto fail = [error](std::string what) -> std::optional<serial_settings> {
        if (error) *error = std::move(what);
        return std::nullopt;
    };
    serial_settings s;
    if (cfg.port.empty()) return fail("port: empty");
    s.path = cfg.port;
    if (cfg.baud_rate <= 0) return fail("baud_rate: must be positive");
    s.baud_rate = static_cast<unsigned>(cfg.baud_rate);
    if (cfg.parity == "none")
        s.parity = serial_settings::parity_t::none;
    else if (cfg.parity == "odd")
        s.parity = serial_settings::parity_t::odd;
    else if (cfg.parity == "even")
        s.parity = serial_settings::parity_t::even;
    else
        return fail("parity: expected none, odd or even");
    if (cfg.data_bits < 5 || cfg.data_bits > 8) return fail("data_bits: expected 5..8");
    s.data_bits = static_cast<unsigned>(cfg.data_bits);
    if (cfg.stop_bits != 1 && cfg.stop_bits != 2) return fail("stop_bits: expected 1 or 2");
    s.stop_bits = static_cast<unsigned>(cfg.stop_bits);
    return s;
}

namespace detail {

std::string loggable_bytes(std::string_view bytes, bool sensitive) {
    if (sensitive) return "<sensitive, " + std::to_string(bytes.size()) + " bytes>";
    auto is_hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); };
    std::string out;
    out.reserve(bytes.size() + 16);
    std::size_t i = 0;
    while (i < bytes.size()) {
        std::size_t j = i;
        while (j < bytes.size() && is_hex(bytes[j])) ++j;
        // PDUs carry message text (OTPs): never in the log, not even as hex.
        // Short runs are numbers (IMEI, ICCID, +CMGS references) and stay.
        if (j - i >= 24) {
            out += "<pdu " + std::to_string((j - i) / 2) + " octets>";
            i = j;
            continue;
        }
        for (; i < j; ++i) out.push_back(bytes[i]);
        if (i >= bytes.size()) break;
        const auto c = static_cast<unsigned char>(bytes[i]);
        switch (c) {
            case '\r':
                out += "\\r";
                break;
            case '\n':
                out += "\\n";
                break;
            case 0x1A:
                out += "<ctrl-z>";
                break;
            case 0x1B:
                out += "<esc>";
                break;
            default:
                if (c < 0x20 || c == 0x7F) {
                    static constexpr char digits[] = "0123456789ABCDEF";
                    out += "\\x";
                    out.push_back(digits[c >> 4]);
                    out.push_back(digits[c & 0xF]);
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
        ++i;
    }
    return out;
}

}  // namespace detail

namespace {
using core::overloaded;

bool trace_on() { return spdlog::default_logger_raw()->should_log(spdlog::level::trace); }

bool is_unplug(const boost::system::error_code& ec) {
    if (ec == net::error::eof) return true;
    if (ec.category() == boost::system::system_category()) {
        const int v = ec.value();
        return v == EIO || v == ENXIO || v == ENODEV || v == EBADF || v == EPIPE;
    }
    return false;
}
}  // namespace

struct serial_channel::impl : std::enable_shared_from_this<impl> {
    impl(net::io_context& ioc, channel_options options)
        : opts_(std::move(options)),
          port_(ioc),
          timer_(ioc),
          engine_(opts_.engine),
          read_buf_(std::max<std::size_t>(opts_.read_chunk, 64)) {}

    channel_options opts_;
    net::serial_port port_;
    net::steady_timer timer_;
    at_engine engine_;
    serial_settings settings_;
    std::unordered_map<command_id, completion> pending_;
    std::vector<char> read_buf_;
    std::string write_queue_;  // bytes waiting for the write in progress to finish
    bool writing_ = false;
    bool open_ = false;
    // Bumps on every open and close. Handlers of I/O started in an earlier
    // session compare it and stay silent, so a read that completed just
    // before a close can never start a second read loop after a reopen.
    std::uint64_t epoch_ = 0;
    bool sensitive_in_flight_ = false;
    urc_handler on_urc_;
    close_handler on_close_;
    channel_stats stats_;

    // ------------------------------------------------------------- open/close

    std::string open(const serial_settings& s) {
        close_port();
        boost::system::error_code ec;
        port_.open(s.path, ec);
        if (ec) return "cannot open " + s.path + ": " + ec.message();
        using base = net::serial_port_base;
        base::parity::type parity = base::parity::none;
        if (s.parity == serial_settings::parity_t::odd) parity = base::parity::odd;
        if (s.parity == serial_settings::parity_t::even) parity = base::parity::even;
        auto fail = [&](const char* what) {
            std::string msg = std::string("cannot set ") + what + " on " + s.path + ": " + ec.message();
            boost::system::error_code ignored;
            port_.close(ignored);
            return msg;
        };
        port_.set_option(base::baud_rate(s.baud_rate), ec);
        if (ec) return fail("baud rate");
        port_.set_option(base::parity(parity), ec);
        if (ec) return fail("parity");
        port_.set_option(base::character_size(s.data_bits), ec);
        if (ec) return fail("data bits");
        port_.set_option(base::stop_bits(s.stop_bits == 2 ? base::stop_bits::two : base::stop_bits::one), ec);
        if (ec) return fail("stop bits");
        port_.set_option(base::flow_control(base::flow_control::none), ec);
        if (ec) return fail("flow control");
        const int fd = port_.native_handle();
        warn_if_not_applied(fd, s);
        if (s.exclusive && ::ioctl(fd, TIOCEXCL) != 0)
            spdlog::debug("modem {}: TIOCEXCL on {} failed: {}", opts_.name, s.path, std::strerror(errno));
        // Answers to commands of an earlier session (or boot noise) would be
        // taken as replies to ours.
        ::tcflush(fd, TCIOFLUSH);
        settings_ = s;
        ++epoch_;
        open_ = true;
        ++stats_.opens;
        engine_.reset();  // forgets partial input; the first command is preceded by ESC
        do_read();
        return {};
    }

    // Some tty drivers accept settings they cannot do and drop them (a Linux
    // pty keeps 8N only); USB modems ignore them anyway. Worth a warning
    // when a real UART runs with other settings than configured.
    void warn_if_not_applied(int fd, const serial_settings& s) {
        termios t{};
        if (::tcgetattr(fd, &t) != 0) return;
        std::string diff;
        const bool parenb = (t.c_cflag & PARENB) != 0;
        const bool want_parity = s.parity != serial_settings::parity_t::none;
        if (parenb != want_parity) diff += " parity";
        if (want_parity && parenb && (((t.c_cflag & PARODD) != 0) != (s.parity == serial_settings::parity_t::odd))) diff += " parity";
        const tcflag_t sizes[] = {CS5, CS6, CS7, CS8};
        if (s.data_bits >= 5 && s.data_bits <= 8 && (t.c_cflag & CSIZE) != sizes[s.data_bits - 5]) diff += " data_bits";
        if (((t.c_cflag & CSTOPB) != 0) != (s.stop_bits == 2)) diff += " stop_bits";
        if (!diff.empty()) spdlog::warn("modem {}: {} did not take:{}", opts_.name, s.path, diff);
    }

    void close_port() {
        if (!open_) return;
        ++epoch_;
        open_ = false;
        boost::system::error_code ec;
        // The exclusive flag belongs to the tty, not to our fd: if someone else
        // holds the tty open (a pty's other end), it would outlive our close and
        // make our own reopen fail with EBUSY.
        if (settings_.exclusive) ::ioctl(port_.native_handle(), TIOCNXCL);
        port_.close(ec);
        timer_.cancel();
        // The completions reset() produces (aborted) are dropped with their
        // callbacks: the owner closed the port or is told through on_close.
        (void)engine_.reset();
        pending_.clear();
        write_queue_.clear();
        writing_ = false;
        sensitive_in_flight_ = false;
    }

    void lost(channel_close_reason reason, const std::string& detail) {
        if (!open_) return;
        close_port();
        if (on_close_) {
            auto h = on_close_;  // the handler may replace itself
            h(reason, detail);
        }
    }

    // ------------------------------------------------------------------ I/O

    void do_read() {
        port_.async_read_some(net::buffer(read_buf_),
                              [self = shared_from_this(), epoch = epoch_](const boost::system::error_code& ec, std::size_t n) {
                                  self->on_read(ec, n, epoch);
                              });
    }

    void on_read(const boost::system::error_code& ec, std::size_t n, std::uint64_t epoch) {
        if (epoch != epoch_) return;
        if (ec) {
            if (ec == net::error::operation_aborted) return;
            spdlog::warn("modem {}: read from {} failed: {}", opts_.name, settings_.path, ec.message());
            lost(is_unplug(ec) ? channel_close_reason::unplugged : channel_close_reason::io_error, ec.message());
            return;
        }
        ++stats_.reads;
        stats_.bytes_read += n;
        std::string_view bytes(read_buf_.data(), n);
        if (trace_on()) spdlog::trace("modem {} <- {}", opts_.name, detail::loggable_bytes(bytes, sensitive_in_flight_));
        run(engine_.on_bytes(bytes));
        if (epoch == epoch_) do_read();
    }

    void queue_write(const std::string& bytes, bool sensitive) {
        if (trace_on()) spdlog::trace("modem {} -> {}", opts_.name, detail::loggable_bytes(bytes, sensitive));
        if (sensitive) sensitive_in_flight_ = true;
        write_queue_ += bytes;
        if (!writing_) do_write();
    }

    void do_write() {
        // The buffer belongs to the operation, so a close/reopen can never hand
        // memory that a cancelled write still points at to a new write.
        auto buf = std::make_shared<std::string>(std::move(write_queue_));
        write_queue_.clear();
        writing_ = true;
        net::async_write(port_, net::buffer(*buf),
                         [self = shared_from_this(), buf, epoch = epoch_](const boost::system::error_code& ec, std::size_t n) {
                             self->on_write(ec, n, epoch);
                         });
    }

    void on_write(const boost::system::error_code& ec, std::size_t n, std::uint64_t epoch) {
        if (epoch != epoch_) return;
        writing_ = false;
        if (ec) {
            if (ec == net::error::operation_aborted) return;
            spdlog::warn("modem {}: write to {} failed: {}", opts_.name, settings_.path, ec.message());
            lost(is_unplug(ec) ? channel_close_reason::unplugged : channel_close_reason::io_error, ec.message());
            return;
        }
        ++stats_.writes;
        stats_.bytes_written += n;
        if (!write_queue_.empty()) do_write();
    }

    void arm(std::chrono::milliseconds after, std::uint64_t generation) {
        timer_.expires_after(after);
        timer_.async_wait([self = shared_from_this(), generation, epoch = epoch_](const boost::system::error_code& ec) {
            if (ec || epoch != self->epoch_) return;
            ++self->stats_.timer_expiries;
            self->run(self->engine_.on_timeout(generation));
        });
    }

    // Carries out the engine's actions in order. A callback may close (and
    // even reopen) the port: the rest of the list then belongs to a dead
    // session and is dropped.
    void run(std::vector<at_action> acts) {
        const std::uint64_t epoch = epoch_;
        for (auto& a : acts) {
            if (epoch != epoch_) return;
            std::visit(overloaded{
                           [this](actions::write& w) { queue_write(w.bytes, w.sensitive); },
                           [this](actions::start_timer& t) { arm(t.after, t.generation); },
                           [this](actions::cancel_timer&) { timer_.cancel(); },
                           [this](actions::complete& c) {
                               sensitive_in_flight_ = false;
                               auto it = pending_.find(c.id);
                               if (it == pending_.end()) return;
                               completion done = std::move(it->second);
                               pending_.erase(it);
                               if (done) done(std::move(c.result));
                           },
                           [this](actions::urc& u) {
                               if (trace_on()) spdlog::trace("modem {}: URC {}", opts_.name, u.value.name);
                               if (on_urc_) {
                                   auto h = on_urc_;
                                   h(u.value);
                               }
                           },
                           [this](actions::needs_reopen& r) {
                               spdlog::warn("modem {}: {} consecutive timeouts, closing {}", opts_.name, r.consecutive_timeouts,
                                            settings_.path);
                               lost(channel_close_reason::timeouts, std::to_string(r.consecutive_timeouts) + " consecutive timeouts");
                           },
                           [this](actions::diagnostic& d) {
                               ++stats_.diagnostics;
                               // The detail can be a reply line; PDUs in it stay out of the log.
                               spdlog::debug("modem {}: {} {}", opts_.name, to_string(d.kind),
                                             detail::loggable_bytes(d.detail, sensitive_in_flight_));
                           },
                       },
                       a);
        }
    }

    std::optional<command_id> submit(at_command cmd, completion done) {
        if (!open_) return std::nullopt;
        auto sr = engine_.submit(std::move(cmd));
        if (!sr.accepted()) return std::nullopt;
        ++stats_.commands;
        pending_.emplace(*sr.id, std::move(done));
        run(std::move(sr.actions));
        return sr.id;
    }

    bool cancel(command_id id) {
        auto it = pending_.find(id);
        if (it == pending_.end()) return false;
        auto acts = engine_.cancel(id);
        if (acts.empty()) return false;  // already written: the modem is running it
        pending_.erase(it);
        return true;
    }
};

serial_channel::serial_channel(net::io_context& ioc, channel_options options) : impl_(std::make_shared<impl>(ioc, std::move(options))) {}

serial_channel::~serial_channel() {
    impl_->on_urc_ = nullptr;
    impl_->on_close_ = nullptr;
    impl_->close_port();
}

void serial_channel::on_urc(urc_handler h) { impl_->on_urc_ = std::move(h); }
void serial_channel::on_close(close_handler h) { impl_->on_close_ = std::move(h); }
std::string serial_channel::open(const serial_settings& settings) { return impl_->open(settings); }
void serial_channel::close() { impl_->close_port(); }
bool serial_channel::is_open() const noexcept { return impl_->open_; }
std::optional<command_id> serial_channel::submit(at_command cmd, completion done) { return impl_->submit(std::move(cmd), std::move(done)); }
bool serial_channel::cancel(command_id id) { return impl_->cancel(id); }
bool serial_channel::idle() const noexcept { return impl_->engine_.idle(); }
std::size_t serial_channel::queued() const noexcept { return impl_->engine_.queued(); }
const channel_stats& serial_channel::stats() const noexcept { return impl_->stats_; }
const serial_settings& serial_channel::settings() const noexcept { return impl_->settings_; }

}  // namespace otppi::modem
