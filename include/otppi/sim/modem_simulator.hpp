// A GSM modem on a pseudo-terminal: the driver opens port() like a real
// /dev/ttyUSBx and talks AT to a simulated SIMCom SIM800L (see sim_state.hpp
// for the dialogue). Used by the driver tests, the benchmarks and
// `otppi-modem-sim` when no hardware is present.
//
// Contract
// - The constructor opens a pty (posix_openpt, no libutil), puts it in raw
//   mode, keeps one slave fd open itself (so the driver may close and reopen
//   the port without the simulator seeing a hang-up) and starts its thread.
//   It throws std::system_error when no pty can be had; the link is created
//   with symlink+rename, replacing whatever was at options.link.
// - unplug() returns after the master side is closed: the driver's open fd is
//   hung up (poll: POLLHUP|POLLERR; read: 0 = end of file, which Asio reports
//   as error::eof; write: EIO), the /dev/pts/N path vanishes and the symlink
//   is removed. replug() opens a NEW pty (a different /dev/pts/N
//   from the one unplugged), re-creates the symlink and powers the device up
//   again (echo on, CNMI defaults, SIM PIN again when locked).
// - deliver_sms() and set_ussd_reply() throw std::invalid_argument for text
//   they cannot encode (a test bug); nothing else throws after construction
//   except replug() when no new pty can be had.
// - Observation calls return copies; wait_for_sent() blocks on a condition
//   variable until sent_count() >= n (or the timeout).
// - One I/O thread runs poll() on the master and an eventfd; it sleeps until
//   the driver writes, an injection wakes it, or the next timed event is due
//   (idle: no wake-ups at all). Output the driver does not read is kept up to
//   1 MiB, then dropped (a UART would overrun too).
//
// Thread-safety: every public method may be called from any thread,
// concurrently. The sent handler runs on the simulator's thread, outside its
// lock; it may call the simulator's observers but must not block for long.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "otppi/sim/sim_state.hpp"

namespace otppi::sim {

class modem_simulator {
public:
    explicit modem_simulator(sim_options options = {});
    ~modem_simulator();
    modem_simulator(const modem_simulator&) = delete;
    modem_simulator& operator=(const modem_simulator&) = delete;

    // What the driver opens: the symlink when options.link is set, else the
    // /dev/pts/N slave (while unplugged: the vanished path, which fails to open).
    std::string port() const;
    // The /dev/pts/N slave itself (empty while unplugged).
    std::string pts_path() const;
    bool plugged() const;

    // ---- observation
    std::vector<sent_sms> sent() const;
    std::size_t sent_count() const;
    bool wait_for_sent(std::size_t n, std::chrono::milliseconds timeout) const;
    // Every AT command line received, secrets masked (see sim_state.hpp).
    std::vector<std::string> commands() const;
    std::vector<voice_call> calls() const;
    std::string imei() const;
    std::size_t stored_sms_count() const;
    // Called on the simulator thread for each message accepted (after its
    // +CMGS went out). Replaces any earlier handler; empty to remove.
    void on_sent(std::function<void(const sent_sms&)> handler);

    // ---- injection
    void set_fault(fault f, int cms_code = 0, int count = -1 /* -1 = until cleared */);
    void clear_fault();
    void deliver_sms(const std::string& from, const std::string& utf8_text);
    void set_ussd_reply(const std::string& code, const std::string& reply_utf8, bool ucs2 = false, bool wait_for_reply = false);
    void set_send_delay(std::chrono::milliseconds d);
    void set_signal(int rssi);
    void set_registration(int stat);
    // The callee hangs up the call placed with ATD: "NO CARRIER".
    void end_call();
    void unplug();
    void replug();

private:
    struct pty {
        int master = -1;
        int slave = -1;  // ours, kept open so the driver's close is no hang-up
        std::string path;
    };

    void run();
    void wake() const;
    void open_pty();   // caller holds mu_
    void close_pty();  // caller holds mu_; only on the I/O thread or after join
    void make_link();
    void flush_output();  // caller holds mu_

    sim_options options_;
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    modem_device device_;
    pty pty_;
    std::string pending_out_;
    std::vector<std::string> old_paths_;  // unplugged pts names, not to be reused at once
    bool plugged_ = false;
    bool stop_ = false;
    bool unplug_requested_ = false;
    std::size_t announced_ = 0;  // sent entries handed to the handler
    std::function<void(const sent_sms&)> handler_;
    int wake_fd_ = -1;
    std::thread thread_;
};

}  // namespace otppi::sim
