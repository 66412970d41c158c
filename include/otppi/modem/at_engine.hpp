// One-command-in-flight AT state machine (sans-io: events in, actions out).
//
// Contract
// - Events: submit(), on_bytes(), on_timeout(), cancel(), reset(). Each
//   returns the actions the owner (the serial channel) must carry out, in
//   order. I/O actions (write, start_timer, cancel_timer) always come before
//   notifications (complete, urc, needs_reopen, diagnostic), so a completion
//   handler may call back into the engine (e.g. submit the next command) and
//   the actions of that nested call are never undone by the outer ones.
// - There is one timer. start_timer arms it (replacing any armed deadline),
//   cancel_timer disarms it. Each start_timer carries a generation; deliver
//   expiry with on_timeout(generation) and stale expiries are ignored, which
//   closes the "timer fired while being re-armed" race of real timers.
// - Deadlines are fixed when a command (or its data phase) is written:
//   unsolicited codes never extend them (Gammu's stall with Huawei sticks).
// - Commands run one at a time in submit order. The queue is bounded; a full
//   queue is reported by submit() and nothing is queued.
// - AT+CMGS style commands (at_command::data set) wait for the "> " prompt,
//   then write "<data>\x1A" and wait again with data_timeout. When the prompt
//   does not come, or the send fails, the engine writes ESC (0x1B) and lets
//   the port settle for `escape_settle` (swallowing stray final results)
//   before the next command, so later commands cannot land in a message body.
//   An unexpected prompt is answered with ESC as well (except the per-line
//   prompts of a text-mode body, see at_command::data_line_prompts).
// - Consecutive timeouts are counted (any final result or prompt clears the
//   count; URCs do not, since a stalled modem can still chatter). Reaching a
//   multiple of `timeout_threshold` emits needs_reopen: the channel reopens
//   the port, calls reset() and runs bring-up again.
// - With `escape_on_open` the first command after construction or reset() is
//   preceded by ESC + settle: after a crash the modem may still sit at a
//   prompt from a send that never finished.
// - Known limit: a reply arriving after its deadline is attributed to the next
//   command; give slow commands (AT+COPS=?, AT+CMGL) generous deadlines.
// - Never throws on device input.
//
// Thread-safety: none; owned and driven by one executor.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "otppi/modem/at_parser.hpp"

namespace otppi::modem {

using command_id = std::uint64_t;

struct at_command {
    std::string text;  // "AT+CSQ", without the trailing CR
    std::chrono::milliseconds timeout{std::chrono::seconds(5)};
    std::string info_prefix;   // "+CSQ:"; lines starting with it are the reply
    bool accept_bare = false;  // also take lines that are no known URC (AT+CGSN, AT+CMGL PDUs)
    bool dial = false;         // ATD: NO CARRIER/BUSY/... are final results
    bool sensitive = false;    // carries a secret (PIN): the channel must not log the bytes
    // Second phase (AT+CMGS=<len>): written after the prompt, followed by Ctrl-Z.
    std::optional<std::string> data;
    std::chrono::milliseconds data_timeout{std::chrono::seconds(120)};
    // Text-mode message bodies: the modem answers each CR of the data with a
    // fresh "> " (27.005 3.5.1); those prompts are expected, not answered with ESC.
    bool data_line_prompts = false;
};

// A line that was not what the engine expected; for logs and metrics only.
enum class diagnostic_kind : std::uint8_t {
    line_overflow,        // a line longer than max_line was dropped
    stray_final,          // a final result with no command waiting (late reply?)
    unexpected_prompt,    // a prompt nobody asked for; answered with ESC
    final_before_prompt,  // AT+CMGS ended before the prompt came
    lines_truncated,      // a reply had more information lines than kept
};
std::string_view to_string(diagnostic_kind k) noexcept;

namespace actions {
struct write {
    std::string bytes;
    bool sensitive = false;
};
struct start_timer {
    std::chrono::milliseconds after{};
    std::uint64_t generation = 0;
};
struct cancel_timer {};
struct complete {
    command_id id = 0;
    at_result result;
};
struct urc {
    unsolicited value;
};
struct needs_reopen {
    unsigned consecutive_timeouts = 0;
};
struct diagnostic {
    diagnostic_kind kind{};
    std::string detail;
};
}  // namespace actions

using at_action = std::variant<actions::write, actions::start_timer, actions::cancel_timer, actions::complete, actions::urc,
                               actions::needs_reopen, actions::diagnostic>;

struct at_engine_config {
    std::size_t max_queue = 32;      // waiting commands, not counting the one in flight
    unsigned timeout_threshold = 3;  // consecutive timeouts before needs_reopen
    std::chrono::milliseconds escape_settle{300};
    std::size_t max_line = at_parser::default_max_line;
    std::size_t max_info_lines = 1024;  // AT+CMGL of a full ME store is ~2 x 255 lines
    bool escape_on_open = true;
};

struct submit_result {
    std::optional<command_id> id;  // empty: the queue was full and nothing was queued
    std::vector<at_action> actions;
    bool accepted() const noexcept { return id.has_value(); }
};

class at_engine {
public:
    explicit at_engine(at_engine_config config = {});

    submit_result submit(at_command cmd);
    std::vector<at_action> on_bytes(std::string_view bytes);
    std::vector<at_action> on_bytes(std::span<const std::byte> bytes);
    // Expiry of the timer armed with `generation`; stale generations are ignored.
    std::vector<at_action> on_timeout(std::uint64_t generation);
    // Expiry of the currently armed timer (tests, or channels that cancel reliably).
    std::vector<at_action> on_timeout();
    // Drops a queued command (completes it as aborted). A command already in
    // flight is not touched: the modem is executing it.
    std::vector<at_action> cancel(command_id id);
    // After the port was reopened: aborts everything, forgets partial input and
    // the timeout count.
    std::vector<at_action> reset();

    bool idle() const noexcept;
    std::size_t queued() const noexcept { return queue_.size(); }
    unsigned consecutive_timeouts() const noexcept { return consecutive_timeouts_; }
    std::optional<command_id> in_flight() const noexcept;

private:
    enum class state : std::uint8_t { idle, await_reply, await_prompt, await_data_reply, escaping };

    struct pending {
        command_id id = 0;
        at_command cmd;
    };
    struct running {
        command_id id = 0;
        at_command cmd;
        at_result result;
        std::string echo;  // the line to drop if the modem echoes it back
    };

    struct out {
        std::vector<at_action> io;
        std::vector<at_action> notes;
        std::vector<at_action> take();
    };

    void pump(out& o);
    void start(pending p, out& o);
    void arm(std::chrono::milliseconds after, out& o);
    void begin_escape(out& o);
    void finish(at_result r, bool escape, out& o);
    void handle_line(std::string line, std::string pdu, out& o);
    void handle_prompt(out& o);
    void handle_timeout(out& o);
    line_context context() const;

    at_engine_config config_;
    at_parser parser_;
    std::deque<pending> queue_;
    std::optional<running> current_;
    state state_ = state::idle;
    command_id next_id_ = 1;
    std::uint64_t generation_ = 0;
    bool timer_armed_ = false;
    bool need_escape_ = false;
    unsigned consecutive_timeouts_ = 0;
    std::vector<frame> frames_;  // reused scratch buffer
};

}  // namespace otppi::modem
