// The thin Asio executor under the sans-io at_engine: one serial port, one
// engine, one command timer.
//
// Contract
// - open() opens the tty (O_NONBLOCK, so it never blocks the io thread),
//   applies baud rate, parity, data and stop bits (a pty accepts them too),
//   puts the line in raw mode, drops stale input, optionally takes exclusive
//   use (TIOCEXCL) and starts reading. Errors are returned as text; nothing
//   throws.
// - The channel carries out the engine's actions: bytes read are fed to
//   on_bytes(); writes go out one at a time in order (a later write waits for
//   the earlier one, so prompt data and ESC never interleave); start_timer /
//   cancel_timer drive one steady_timer whose expiry is delivered with its
//   generation, so a stale expiry is ignored by the engine.
// - submit() hands a command to the engine. When it returns an id, `done` is
//   called exactly once with the result - unless the port closes first, in
//   which case `done` is dropped (never called) and the owner learns of the
//   close from on_close (unrequested) or because it called close() itself.
//   `done` is called from inside the channel's I/O handler, not posted, so a
//   handler may submit the next command at once (the engine is built for
//   that). submit() itself never calls `done`.
// - Unsolicited result codes go to on_urc, also from inside the I/O handler.
// - The port closes itself, and reports it once through on_close, when a read
//   or write fails (EIO/HUP/EOF of an unplugged USB modem or a closed pty
//   master) or when the engine asks for a reopen after consecutive timeouts.
//   Reopening (with backoff, and bring-up) is the owner's job: the channel
//   holds no retry timer of its own.
// - Logging: AT traffic only at trace level. Commands flagged `sensitive`
//   (PIN, TTS text) are logged as their length only, and so is everything
//   read while such a command is in flight (a modem with echo on repeats it).
//   Hex runs that look like PDUs are logged as "<pdu N octets>".
// - No polling: with nothing to do the channel waits on one async read and no
//   timer.
//
// Thread-safety: none. Every call, and every callback, happens on the thread
// running the io_context. The object may be destroyed at any time, also from
// inside one of its own callbacks; pending I/O then ends quietly.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "otppi/config/config.hpp"
#include "otppi/modem/at_engine.hpp"

namespace boost::asio {
class io_context;
}

namespace otppi::modem {

struct serial_settings {
    enum class parity_t : std::uint8_t { none, odd, even };

    std::string path;
    unsigned baud_rate = 115200;
    parity_t parity = parity_t::none;
    unsigned data_bits = 8;  // 5..8
    unsigned stop_bits = 1;  // 1 or 2
    // TIOCEXCL: a second open() of the tty (ModemManager, a stray minicom)
    // fails instead of stealing half of the modem's answers.
    bool exclusive = true;

    friend bool operator==(const serial_settings&, const serial_settings&) = default;
};

// The serial part of a modem's configuration, checked. nullopt (and `error`
// naming the field) when a value cannot be put on a tty.
std::optional<serial_settings> serial_settings_from(const config::modem_config& cfg, std::string* error = nullptr);

enum class channel_close_reason : std::uint8_t {
    unplugged,  // EOF/EIO/ENXIO/ENODEV: the device went away
    io_error,   // another read/write error
    timeouts,   // the engine saw too many consecutive timeouts
};
std::string_view to_string(channel_close_reason r) noexcept;

struct channel_stats {
    std::uint64_t opens = 0;
    std::uint64_t reads = 0;  // completed read operations
    std::uint64_t bytes_read = 0;
    std::uint64_t writes = 0;  // completed write operations
    std::uint64_t bytes_written = 0;
    std::uint64_t timer_expiries = 0;  // command deadlines that fired
    std::uint64_t diagnostics = 0;     // engine diagnostics (stray finals, overflows ...)
    std::uint64_t commands = 0;        // commands accepted by submit()
};

struct channel_options {
    at_engine_config engine;
    std::size_t read_chunk = 4096;
    std::string name;  // for log lines (the modem id)
};

class serial_channel {
public:
    using completion = std::function<void(at_result)>;
    using urc_handler = std::function<void(const unsolicited&)>;
    using close_handler = std::function<void(channel_close_reason, const std::string& detail)>;

    serial_channel(boost::asio::io_context& ioc, channel_options options = {});
    ~serial_channel();
    serial_channel(const serial_channel&) = delete;
    serial_channel& operator=(const serial_channel&) = delete;

    void on_urc(urc_handler h);
    void on_close(close_handler h);

    // Opens (or re-opens) the port. Empty string on success, else why not.
    // A port that was open is closed first (its commands are dropped).
    std::string open(const serial_settings& settings);
    // Closes the port; queued and running commands are dropped without their
    // callbacks; on_close is not called. No-op when closed.
    void close();
    bool is_open() const noexcept;

    // Queues a command. nullopt when the port is closed or the engine's queue
    // is full; `done` is then never called.
    std::optional<command_id> submit(at_command cmd, completion done);
    // Drops a command that has not been written yet; its `done` is not called.
    bool cancel(command_id id);

    // No command running or queued.
    bool idle() const noexcept;
    std::size_t queued() const noexcept;
    const channel_stats& stats() const noexcept;
    const serial_settings& settings() const noexcept;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

namespace detail {
// What the trace log shows for bytes written or read: control characters
// spelled out, PDU-like hex runs (>= 24 hex digits) replaced by
// "<pdu N octets>", and everything replaced by its length when `sensitive`.
std::string loggable_bytes(std::string_view bytes, bool sensitive);
}  // namespace detail

}  // namespace otppi::modem
