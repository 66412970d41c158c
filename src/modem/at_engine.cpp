#include "otppi/modem/at_engine.hpp"

#include <algorithm>
#include <utility>

namespace otppi::modem {

namespace {
constexpr char ctrl_z = '\x1A';
constexpr char esc = '\x1B';
}  // namespace

std::string_view to_string(diagnostic_kind k) noexcept {
    switch (k) {
        case diagnostic_kind::line_overflow:
            return "line_overflow";
        case diagnostic_kind::stray_final:
            return "stray_final";
        case diagnostic_kind::unexpected_prompt:
            return "unexpected_prompt";
        case diagnostic_kind::final_before_prompt:
            return "final_before_prompt";
        case diagnostic_kind::lines_truncated:
            return "lines_truncated";
    }
    return "?";
}

std::vector<at_action> at_engine::out::take() {
    std::vector<at_action> all = std::move(io);
    all.reserve(all.size() + notes.size());
    for (auto& n : notes) all.push_back(std::move(n));
    io.clear();
    notes.clear();
    return all;
}

at_engine::at_engine(at_engine_config config) : config_(config), parser_(config.max_line), need_escape_(config.escape_on_open) {
    if (config_.timeout_threshold == 0) config_.timeout_threshold = 1;
}

bool at_engine::idle() const noexcept { return state_ == state::idle && queue_.empty(); }

std::optional<command_id> at_engine::in_flight() const noexcept {
    if (current_) return current_->id;
    return std::nullopt;
}

submit_result at_engine::submit(at_command cmd) {
    if (queue_.size() >= config_.max_queue) return {};
    out o;
    command_id id = next_id_++;
    queue_.push_back(pending{id, std::move(cmd)});
    pump(o);
    return submit_result{id, o.take()};
}

void at_engine::arm(std::chrono::milliseconds after, out& o) {
    ++generation_;
    timer_armed_ = true;
    o.io.push_back(actions::start_timer{after, generation_});
}

void at_engine::begin_escape(out& o) {
    state_ = state::escaping;
    o.io.push_back(actions::write{std::string(1, esc), false});
    arm(config_.escape_settle, o);
}

void at_engine::pump(out& o) {
    if (state_ != state::idle) return;
    if (!queue_.empty()) {
        if (need_escape_) {
            need_escape_ = false;
            begin_escape(o);
            return;
        }
        pending p = std::move(queue_.front());
        queue_.pop_front();
        start(std::move(p), o);
        return;
    }
    if (timer_armed_) {
        timer_armed_ = false;
        o.io.push_back(actions::cancel_timer{});
    }
}

void at_engine::start(pending p, out& o) {
    running r;
    r.id = p.id;
    r.cmd = std::move(p.cmd);
    r.echo = r.cmd.text;
    std::string bytes = r.cmd.text + '\r';
    bool sensitive = r.cmd.sensitive;
    auto timeout = r.cmd.timeout;
    state_ = r.cmd.data ? state::await_prompt : state::await_reply;
    current_ = std::move(r);
    o.io.push_back(actions::write{std::move(bytes), sensitive});
    arm(timeout, o);
}

void at_engine::finish(at_result r, bool escape, out& o) {
    o.notes.push_back(actions::complete{current_->id, std::move(r)});
    current_.reset();
    if (escape)
        begin_escape(o);
    else
        state_ = state::idle;
}

line_context at_engine::context() const {
    line_context ctx;
    if (!current_) return ctx;
    ctx.active = state_ == state::await_reply || state_ == state::await_prompt || state_ == state::await_data_reply;
    ctx.dial = current_->cmd.dial && state_ == state::await_reply;
    ctx.info_prefix = current_->cmd.info_prefix;
    ctx.accept_bare = current_->cmd.accept_bare;
    return ctx;
}

void at_engine::handle_line(std::string line, std::string pdu, out& o) {
    auto ctx = context();
    if (ctx.active && !current_->echo.empty() && detail::iequals(line, current_->echo)) {
        // Echo is still on (before ATE0, or after a modem reset): our own
        // command coming back is not part of the reply.
        current_->echo.clear();
        return;
    }
    switch (classify_line(line, ctx)) {
        case line_class::final_result: {
            auto f = parse_final_result(line, ctx.dial);
            if (!ctx.active || !f) {
                o.notes.push_back(actions::diagnostic{diagnostic_kind::stray_final, std::move(line)});
                return;
            }
            consecutive_timeouts_ = 0;
            at_result r = std::move(current_->result);
            r.status = f->status;
            r.code = f->code;
            r.error_text = std::move(f->text);
            switch (state_) {
                case state::await_prompt:
                    // The modem refused before asking for the PDU. It may still
                    // be half-way into text entry on some firmware: ESC.
                    if (r.ok()) {
                        r.status = at_status::error;
                        o.notes.push_back(actions::diagnostic{diagnostic_kind::final_before_prompt, std::move(line)});
                    }
                    finish(std::move(r), true, o);
                    return;
                case state::await_data_reply: {
                    bool failed = !r.ok();
                    finish(std::move(r), failed, o);
                    return;
                }
                default:
                    finish(std::move(r), false, o);
                    return;
            }
        }
        case line_class::info: {
            auto& res = current_->result;
            std::size_t need = pdu.empty() ? 1 : 2;
            if (res.lines.size() + need > config_.max_info_lines) {
                if (!res.truncated) o.notes.push_back(actions::diagnostic{diagnostic_kind::lines_truncated, {}});
                res.truncated = true;
                return;
            }
            res.lines.push_back(std::move(line));
            if (!pdu.empty()) res.lines.push_back(std::move(pdu));
            return;
        }
        case line_class::urc:
            o.notes.push_back(actions::urc{make_unsolicited(line, std::move(pdu))});
            return;
    }
}

void at_engine::handle_prompt(out& o) {
    if (state_ == state::await_prompt && current_ && current_->cmd.data) {
        consecutive_timeouts_ = 0;
        state_ = state::await_data_reply;
        const std::string& data = *current_->cmd.data;
        current_->echo = data;
        o.io.push_back(actions::write{data + ctrl_z, current_->cmd.sensitive});
        // A fresh, fixed deadline for the network round trip of the send.
        arm(current_->cmd.data_timeout, o);
        return;
    }
    // A text-mode body with line breaks: one "> " per CR, already answered by
    // the rest of the data and its Ctrl-Z.
    if (state_ == state::await_data_reply && current_ && current_->cmd.data_line_prompts) return;
    // Nobody asked for a prompt: whatever we write next would become message
    // text, so cancel the entry mode right away.
    o.notes.push_back(actions::diagnostic{diagnostic_kind::unexpected_prompt, {}});
    o.io.push_back(actions::write{std::string(1, esc), false});
    if (state_ == state::escaping) arm(config_.escape_settle, o);
}

void at_engine::handle_timeout(out& o) {
    switch (state_) {
        case state::idle:
            return;
        case state::escaping:
            state_ = state::idle;
            return;
        case state::await_reply:
        case state::await_prompt:
        case state::await_data_reply: {
            ++consecutive_timeouts_;
            at_result r = std::move(current_->result);
            r.status = at_status::timeout;
            r.data_sent = state_ == state::await_data_reply;
            // Without a prompt or a send result the modem may be in text entry.
            bool escape = state_ != state::await_reply;
            finish(std::move(r), escape, o);
            if (consecutive_timeouts_ % config_.timeout_threshold == 0) o.notes.push_back(actions::needs_reopen{consecutive_timeouts_});
            return;
        }
    }
}

std::vector<at_action> at_engine::on_bytes(std::string_view bytes) {
    out o;
    std::vector<frame> frames;
    frames.swap(frames_);
    frames.clear();
    parser_.feed(bytes, frames);
    for (auto& f : frames) {
        switch (f.kind) {
            case frame::kind_t::line:
                handle_line(std::move(f.text), std::move(f.pdu), o);
                break;
            case frame::kind_t::prompt:
                handle_prompt(o);
                break;
            case frame::kind_t::overflow:
                if (current_) current_->result.truncated = true;
                o.notes.push_back(actions::diagnostic{diagnostic_kind::line_overflow, std::move(f.text)});
                break;
        }
    }
    frames.clear();
    frames.swap(frames_);
    // The next command is written only after the whole chunk is handled, so
    // bytes the modem sent before it could know the command are never taken
    // as its reply.
    pump(o);
    return o.take();
}

std::vector<at_action> at_engine::on_bytes(std::span<const std::byte> bytes) {
    return on_bytes(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::vector<at_action> at_engine::on_timeout(std::uint64_t generation) {
    if (!timer_armed_ || generation != generation_) return {};
    timer_armed_ = false;
    out o;
    handle_timeout(o);
    pump(o);
    return o.take();
}

std::vector<at_action> at_engine::on_timeout() { return on_timeout(generation_); }

std::vector<at_action> at_engine::cancel(command_id id) {
    out o;
    auto it = std::find_if(queue_.begin(), queue_.end(), [id](const pending& p) { return p.id == id; });
    if (it == queue_.end()) return {};
    queue_.erase(it);
    at_result r;
    r.status = at_status::aborted;
    o.notes.push_back(actions::complete{id, std::move(r)});
    return o.take();
}

std::vector<at_action> at_engine::reset() {
    out o;
    if (timer_armed_) {
        timer_armed_ = false;
        o.io.push_back(actions::cancel_timer{});
    }
    if (current_) {
        at_result r = std::move(current_->result);
        r.status = at_status::aborted;
        o.notes.push_back(actions::complete{current_->id, std::move(r)});
        current_.reset();
    }
    for (auto& p : queue_) {
        at_result r;
        r.status = at_status::aborted;
        o.notes.push_back(actions::complete{p.id, std::move(r)});
    }
    queue_.clear();
    state_ = state::idle;
    parser_.reset();
    consecutive_timeouts_ = 0;
    need_escape_ = config_.escape_on_open;
    return o.take();
}

}  // namespace otppi::modem
