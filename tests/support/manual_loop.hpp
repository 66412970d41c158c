// A deterministic stand-in for the io_context in unit tests: posted tasks and
// timers run only when the test says so, against a ManualClock.
#pragma once

#include "otppi/core/clock.hpp"

#include <deque>
#include <functional>
#include <map>
#include <memory>

namespace otppi::test {

class manual_loop {
public:
    explicit manual_loop(core::ManualClock& clock) : clock_(clock) {}

    std::function<void(std::function<void()>)> executor() {
        return [this](std::function<void()> fn) { tasks_.push_back(std::move(fn)); };
    }

    // Same signature as api::schedule_fn.
    std::function<std::function<void()>(std::chrono::milliseconds, std::function<void()>)> scheduler() {
        return [this](std::chrono::milliseconds after, std::function<void()> fn) -> std::function<void()> {
            auto id = next_id_++;
            timers_.emplace(id, timer{clock_.now() + after, std::move(fn)});
            return [this, id] { timers_.erase(id); };
        };
    }

    // Runs posted tasks (and what they post) until none is left.
    void drain() {
        while (!tasks_.empty()) {
            auto fn = std::move(tasks_.front());
            tasks_.pop_front();
            fn();
        }
    }

    // Moves the clock and fires the timers that fall due, in deadline order.
    void advance(std::chrono::milliseconds d) {
        const auto until = clock_.now() + d;
        for (;;) {
            drain();
            auto due = timers_.end();
            for (auto it = timers_.begin(); it != timers_.end(); ++it)
                if (it->second.at <= until && (due == timers_.end() || it->second.at < due->second.at)) due = it;
            if (due == timers_.end()) break;
            if (due->second.at > clock_.now()) clock_.advance(std::chrono::duration_cast<core::Clock::duration>(due->second.at - clock_.now()));
            auto fn = std::move(due->second.fn);
            timers_.erase(due);
            fn();
        }
        if (until > clock_.now()) clock_.advance(std::chrono::duration_cast<core::Clock::duration>(until - clock_.now()));
        drain();
    }

    std::size_t pending_timers() const { return timers_.size(); }

private:
    struct timer {
        core::Clock::time_point at;
        std::function<void()> fn;
    };
    core::ManualClock& clock_;
    std::deque<std::function<void()>> tasks_;
    std::map<std::uint64_t, timer> timers_;
    std::uint64_t next_id_ = 0;
};

}  // namespace otppi::test
