// The one executor of the capability machines (driver/operation.hpp) and
// the operation queue. See driver/modem_impl.hpp.
#include <spdlog/spdlog.h>

#include "../driver/modem_impl.hpp"
#include "otppi/core/overloaded.hpp"

namespace otppi::modem {

namespace ev = driver::op_events;
namespace act = driver::op_actions;

driver::op_env modem::impl::env() {
    return driver::op_env{opts_, identity_, *vendor_, link_, cfg_.id, clock_.now(), clock_.unix_seconds()};
}

void modem::impl::abort_op(operation& op, const std::string& why, send_error_kind kind) {
    auto e = env();
    // The machine only settles its outcome here; whatever it would still
    // send is not sent (the port is gone, or the modem stops).
    (void)op.resume(e, ev::abort{why, kind});
    op.answer(*this, true);
}

void modem::impl::fail_all_ops(const std::string& why, send_error_kind kind) {
    if (op_) {
        auto op = std::move(op_);
        op_timer_.cancel();
        abort_op(*op, why, kind);
    }
    while (!queue_.empty()) {
        auto op = std::move(queue_.front());
        queue_.pop_front();
        abort_op(*op, why, kind);
    }
}

std::optional<std::string> modem::impl::cannot_run() const {
    if (shut_down_ || !started_ || stopping_) return "modem " + id() + " is stopped";
    if (state_ != modem_state::ready) return "modem " + id() + " not ready (" + std::string(to_string(state_)) + ")";
    if (op_ && queue_.size() >= opts_.max_queued_ops) return std::string("modem busy");
    return std::nullopt;
}

void modem::impl::enqueue(std::unique_ptr<operation> op) {
    if (auto why = cannot_run()) {
        abort_op(*op, *why, send_error_kind::retry_elsewhere);
        return;
    }
    queue_.push_back(std::move(op));
    pump_ops();
}

void modem::impl::pump_ops() {
    if (pumping_) return;
    pumping_ = true;
    while (!op_ && !queue_.empty() && state_ == modem_state::ready && !reopen_pending_) {
        op_ = std::move(queue_.front());
        queue_.pop_front();
        op_->serial = ++op_serial_;
        drive(op_->serial, ev::start{});
    }
    pumping_ = false;
}

void modem::impl::drive(std::uint64_t serial, const driver::op_event& e) {
    if (!op_ || op_->serial != serial) return;  // an answer for an operation that has ended
    auto en = env();
    auto step = op_->resume(en, e);
    execute(serial, std::move(step.actions));
}

bool modem::impl::drive_urc(const unsolicited& u) {
    const std::uint64_t serial = op_->serial;
    auto en = env();
    auto step = op_->resume(en, ev::urc{&u});
    if (!step.handled) return false;
    execute(serial, std::move(step.actions));
    return true;
}

void modem::impl::execute(std::uint64_t serial, std::vector<driver::op_action> actions) {
    for (auto& a : actions) {
        if (!op_ || op_->serial != serial) return;
        if (auto* s = std::get_if<act::submit>(&a)) {
            if (s->detached) {
                submit(std::move(s->command), [](impl&, const at_result&) {});
                continue;
            }
            const bool queued = submit(std::move(s->command), [serial](impl& m, const at_result& r) { m.drive(serial, ev::result{&r}); });
            if (!queued) {
                // The machine decides what a refusal means; the rest of this
                // step was planned for a command that is not coming.
                drive(serial, ev::refused{});
                return;
            }
        } else if (auto* t = std::get_if<act::arm_timer>(&a)) {
            arm(op_timer_, t->after, [serial](impl& m) { m.drive(serial, ev::timer{}); });
        } else if (auto* r = std::get_if<act::record_sent>(&a)) {
            reports_.record_sent(std::move(r->record));
            if (!reports_.last_error().empty()) spdlog::warn("modem {}: {}", id(), reports_.last_error());
        } else {
            finish_op();
            return;
        }
    }
}

void modem::impl::finish_op() {
    auto op = std::move(op_);
    op_timer_.cancel();
    op->answer(*this, false);
    complete_op();
    op->after(*this);
}

// The current operation answered its caller; the next one may start.
void modem::impl::complete_op() {
    op_.reset();
    op_timer_.cancel();
    if (!deferred_reads_.empty() && state_ == modem_state::ready && channel_.is_open()) {
        auto indices = std::move(deferred_reads_);
        deferred_reads_.clear();
        for (int i : indices) read_stored(i);
    }
    if (stopping_) {
        finish_stop();
        return;
    }
    if (reopen_pending_) {
        reopen_now("configuration changed");
        return;
    }
    pump_ops();
}

}  // namespace otppi::modem
