// Time as a dependency: engines take a Clock& so tests can move time by hand
// instead of sleeping. Thread-safety: implementations are read-only or used on
// one thread (the io_context thread) only.
#pragma once

#include <chrono>
#include <cstdint>

namespace otppi::core {

class Clock {
public:
    using duration = std::chrono::milliseconds;
    using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;

    virtual ~Clock() = default;
    // Monotonic time for deadlines, TTLs and throttles.
    virtual time_point now() const = 0;
    // Wall-clock unix seconds, only for comparing with client-given timestamps
    // (data.expiration, data.date_time).
    virtual std::int64_t unix_seconds() const = 0;
};

class SystemClock final : public Clock {
public:
    time_point now() const override {
        return std::chrono::time_point_cast<duration>(std::chrono::steady_clock::now());
    }
    std::int64_t unix_seconds() const override {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

// A clock that only moves when told to. For tests.
class ManualClock final : public Clock {
public:
    explicit ManualClock(std::int64_t unix_start = 1'700'000'000) : unix_(unix_start) {}
    time_point now() const override { return mono_; }
    std::int64_t unix_seconds() const override {
        return unix_ + std::chrono::duration_cast<std::chrono::seconds>(mono_.time_since_epoch()).count();
    }
    void advance(duration d) { mono_ += d; }

private:
    std::int64_t unix_;
    time_point mono_{};
};

}  // namespace otppi::core
