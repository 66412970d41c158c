#include "otppi/sim/modem_simulator.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <system_error>

namespace otppi::sim {

namespace {

constexpr std::size_t max_pending_output = 1 << 20;
constexpr std::size_t read_chunk = 4096;
// How many freshly unplugged pts names replug() steps over to get a new one.
constexpr std::size_t remembered_paths = 8;

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

}  // namespace

modem_simulator::modem_simulator(sim_options options) : options_(std::move(options)), device_(options_, sim_clock::now()) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw_errno("eventfd");
    try {
        std::lock_guard lk(mu_);
        open_pty();
        make_link();
        plugged_ = true;
    } catch (...) {
        close_pty();
        close_fd(wake_fd_);
        throw;
    }
    thread_ = std::thread([this] { run(); });
}

modem_simulator::~modem_simulator() {
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    wake();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lk(mu_);
    if (plugged_) {
        close_pty();
        if (!options_.link.empty()) ::unlink(options_.link.c_str());
    }
    close_fd(wake_fd_);
}

// ------------------------------------------------------------------------------- pty

void modem_simulator::open_pty() {
    std::vector<pty> spares;  // ptys opened only to step over recently used numbers
    auto release = [](pty& p) {
        close_fd(p.slave);
        close_fd(p.master);
    };
    try {
        for (std::size_t attempt = 0;; ++attempt) {
            pty p;
            p.master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
            if (p.master < 0) throw_errno("posix_openpt");
            if (::grantpt(p.master) != 0 || ::unlockpt(p.master) != 0) {
                int e = errno;
                release(p);
                errno = e;
                throw_errno("grantpt/unlockpt");
            }
            std::array<char, 128> name{};
            if (::ptsname_r(p.master, name.data(), name.size()) != 0) {
                int e = errno;
                release(p);
                errno = e;
                throw_errno("ptsname_r");
            }
            p.path = name.data();
            const bool reused = std::find(old_paths_.begin(), old_paths_.end(), p.path) != old_paths_.end();
            if (reused && attempt < remembered_paths) {
                // A replugged modem gets a new name, like ttyUSB0 -> ttyUSB1: the driver
                // must not find it again at the old path.
                spares.push_back(std::move(p));
                continue;
            }
            // Our own slave fd: raw mode is set before the driver can open the port, and the
            // pty stays alive while the driver closes and reopens it (no EIO on the master).
            p.slave = ::open(p.path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
            if (p.slave < 0) {
                int e = errno;
                release(p);
                errno = e;
                throw_errno("open pty slave");
            }
            termios t{};
            if (::tcgetattr(p.slave, &t) != 0) {
                int e = errno;
                release(p);
                errno = e;
                throw_errno("tcgetattr");
            }
            ::cfmakeraw(&t);
            ::cfsetispeed(&t, B115200);
            ::cfsetospeed(&t, B115200);
            t.c_cc[VMIN] = 1;
            t.c_cc[VTIME] = 0;
            if (::tcsetattr(p.slave, TCSANOW, &t) != 0) {
                int e = errno;
                release(p);
                errno = e;
                throw_errno("tcsetattr");
            }
            int fl = ::fcntl(p.master, F_GETFL);
            if (fl < 0 || ::fcntl(p.master, F_SETFL, fl | O_NONBLOCK) != 0) {
                int e = errno;
                release(p);
                errno = e;
                throw_errno("fcntl O_NONBLOCK");
            }
            pty_ = std::move(p);
            break;
        }
    } catch (...) {
        for (auto& s : spares) release(s);
        throw;
    }
    for (auto& s : spares) release(s);
}

void modem_simulator::close_pty() {
    // Our slave first, then the master: the driver's fd is hung up (EIO/POLLHUP).
    close_fd(pty_.slave);
    close_fd(pty_.master);
}

void modem_simulator::make_link() {
    if (options_.link.empty()) return;
    // symlink + rename: the name always points somewhere valid or nowhere, never half-made.
    const std::string tmp = options_.link + ".tmp." + std::to_string(::getpid());
    ::unlink(tmp.c_str());
    if (::symlink(pty_.path.c_str(), tmp.c_str()) != 0) throw_errno("symlink");
    if (::rename(tmp.c_str(), options_.link.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        errno = e;
        throw_errno("rename symlink");
    }
}

void modem_simulator::wake() const {
    std::uint64_t one = 1;
    // EAGAIN means the counter is already non-zero: the thread wakes anyway.
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

// ------------------------------------------------------------------------------- loop

void modem_simulator::flush_output() {
    std::string out = device_.take_output();
    if (!plugged_) {
        pending_out_.clear();
        return;
    }
    const std::size_t room = max_pending_output - std::min(max_pending_output, pending_out_.size());
    pending_out_.append(out, 0, std::min(room, out.size()));
    while (!pending_out_.empty()) {
        auto n = ::write(pty_.master, pending_out_.data(), pending_out_.size());
        if (n > 0) {
            pending_out_.erase(0, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        // EAGAIN: the driver is not reading; POLLOUT tells when to go on. Anything else:
        // keep the bytes, the next poll round reports the state of the fd.
        break;
    }
}

void modem_simulator::run() {
    std::unique_lock lk(mu_);
    std::array<char, read_chunk> buf{};
    while (!stop_) {
        if (unplug_requested_) {
            close_pty();
            if (!options_.link.empty()) ::unlink(options_.link.c_str());
            old_paths_.push_back(pty_.path);
            if (old_paths_.size() > remembered_paths) old_paths_.erase(old_paths_.begin());
            plugged_ = false;
            pending_out_.clear();
            // Power is gone: a send in flight never completes, nothing is said.
            device_.power_cycle(sim_clock::now());
            (void)device_.take_output();
            unplug_requested_ = false;
            cv_.notify_all();
        }

        std::array<pollfd, 2> fds{};
        fds[0] = {wake_fd_, POLLIN, 0};
        nfds_t nfds = 1;
        if (plugged_) {
            fds[1] = {pty_.master, static_cast<short>(POLLIN | (pending_out_.empty() ? 0 : POLLOUT)), 0};
            nfds = 2;
        }
        int timeout_ms = -1;
        if (auto deadline = device_.next_deadline()) {
            auto left = *deadline - sim_clock::now();
            // Rounded up: waking a hair early would only spin once more.
            auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
            timeout_ms = static_cast<int>(std::clamp<std::int64_t>(ms, 0, 60000));
        }

        lk.unlock();
        int rc = ::poll(fds.data(), nfds, timeout_ms);
        lk.lock();
        if (stop_) break;
        if (rc < 0 && errno != EINTR) continue;

        if (fds[0].revents & POLLIN) {
            std::uint64_t v;
            [[maybe_unused]] auto n = ::read(wake_fd_, &v, sizeof v);
        }
        if (nfds == 2 && plugged_ && fds[1].fd == pty_.master) {
            bool got_data = false;
            if (fds[1].revents & POLLIN) {
                // Bounded per round, so a driver that floods the port cannot starve timers.
                for (int round = 0; round < 16; ++round) {
                    auto n = ::read(pty_.master, buf.data(), buf.size());
                    if (n <= 0) break;
                    got_data = true;
                    device_.on_input(std::string_view(buf.data(), static_cast<std::size_t>(n)), sim_clock::now());
                    if (static_cast<std::size_t>(n) < buf.size()) break;
                }
            }
            if (!got_data && (fds[1].revents & (POLLHUP | POLLERR))) {
                // Cannot happen while our slave fd is open; if the slave side was hung up
                // anyway (vhangup), a level-triggered HUP would spin this loop: get a fresh
                // slave fd, or give the port up as unplugged.
                close_fd(pty_.slave);
                pty_.slave = ::open(pty_.path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (pty_.slave < 0) unplug_requested_ = true;
            }
        }
        device_.on_time(sim_clock::now());
        flush_output();

        if (device_.sent_count() != announced_) {
            const std::size_t fresh = device_.sent_count() - announced_;
            announced_ = device_.sent_count();
            cv_.notify_all();
            if (handler_) {
                const auto& all = device_.sent();
                const std::size_t take = std::min(fresh, all.size());
                std::vector<sent_sms> batch(all.end() - static_cast<std::ptrdiff_t>(take), all.end());
                auto handler = handler_;
                lk.unlock();
                for (const auto& s : batch) handler(s);
                lk.lock();
            }
        }
    }
    // Stopping: an unplug() still waiting must not wait forever.
    unplug_requested_ = false;
    cv_.notify_all();
}

// ------------------------------------------------------------------------------- observation

std::string modem_simulator::port() const {
    std::lock_guard lk(mu_);
    return options_.link.empty() ? pty_.path : options_.link;
}

std::string modem_simulator::pts_path() const {
    std::lock_guard lk(mu_);
    return plugged_ ? pty_.path : std::string{};
}

bool modem_simulator::plugged() const {
    std::lock_guard lk(mu_);
    return plugged_;
}

std::vector<sent_sms> modem_simulator::sent() const {
    std::lock_guard lk(mu_);
    return {device_.sent().begin(), device_.sent().end()};
}

std::size_t modem_simulator::sent_count() const {
    std::lock_guard lk(mu_);
    return device_.sent_count();
}

bool modem_simulator::wait_for_sent(std::size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, timeout, [&] { return device_.sent_count() >= n; });
}

std::vector<std::string> modem_simulator::commands() const {
    std::lock_guard lk(mu_);
    return {device_.commands().begin(), device_.commands().end()};
}

std::vector<voice_call> modem_simulator::calls() const {
    std::lock_guard lk(mu_);
    return {device_.calls().begin(), device_.calls().end()};
}

std::string modem_simulator::imei() const {
    std::lock_guard lk(mu_);
    return device_.imei();
}

std::size_t modem_simulator::stored_sms_count() const {
    std::lock_guard lk(mu_);
    return device_.stored_count();
}

void modem_simulator::on_sent(std::function<void(const sent_sms&)> handler) {
    std::lock_guard lk(mu_);
    handler_ = std::move(handler);
}

// ------------------------------------------------------------------------------- injection

void modem_simulator::set_fault(fault f, int cms_code, int count) {
    {
        std::lock_guard lk(mu_);
        device_.set_fault(f, cms_code, count, sim_clock::now());
    }
    wake();
}

void modem_simulator::clear_fault() {
    {
        std::lock_guard lk(mu_);
        device_.clear_fault(sim_clock::now());
    }
    wake();
}

void modem_simulator::deliver_sms(const std::string& from, const std::string& utf8_text) {
    {
        std::lock_guard lk(mu_);
        device_.deliver_sms(from, utf8_text, sim_clock::now());
    }
    wake();
}

void modem_simulator::set_ussd_reply(const std::string& code, const std::string& reply_utf8, bool ucs2, bool wait_for_reply) {
    std::lock_guard lk(mu_);
    device_.set_ussd_reply(code, reply_utf8, ucs2, wait_for_reply);
}

void modem_simulator::set_send_delay(std::chrono::milliseconds d) {
    std::lock_guard lk(mu_);
    device_.set_send_delay(d);
}

void modem_simulator::set_signal(int rssi) {
    std::lock_guard lk(mu_);
    device_.set_signal(rssi);
}

void modem_simulator::set_registration(int stat) {
    std::lock_guard lk(mu_);
    device_.set_registration(stat);
}

void modem_simulator::end_call() {
    {
        std::lock_guard lk(mu_);
        device_.end_call(sim_clock::now());
    }
    wake();
}

void modem_simulator::unplug() {
    std::unique_lock lk(mu_);
    if (!plugged_ || stop_) return;
    // The I/O thread closes the fds itself: closing under a poll() in progress would keep
    // the master alive (poll holds a reference) and the driver would not see the hang-up.
    unplug_requested_ = true;
    wake();
    cv_.wait(lk, [&] { return !unplug_requested_; });
}

void modem_simulator::replug() {
    {
        std::lock_guard lk(mu_);
        if (plugged_ || stop_) return;
        open_pty();
        try {
            make_link();
        } catch (...) {
            close_pty();
            throw;
        }
        plugged_ = true;
        pending_out_.clear();
        device_.power_cycle(sim_clock::now());
    }
    wake();
}

}  // namespace otppi::sim
