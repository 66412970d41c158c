// Exact sliding-window rate limit: at most `limit` events per key within any
// `window` (an event at time t counts while now - t < window).
//
// Contract:
// - Keys are 64-bit and expected to be keyed hashes of the real identifier
//   (the engine derives them from the receiver and the API user with its
//   HMAC key), so clients cannot aim collisions. Two identifiers sharing a key
//   only share a budget; at one million keys that happens with probability
//   ~2^-25 over the whole table.
// - Each key keeps a ring of its last `limit` event times, so the window is
//   exact rather than the two-bucket estimate that lets bursts of up to 2x
//   through. Times are stored as 32-bit ticks of 100 ms since `origin`, which
//   makes an entry 12 + 4*limit bytes (32 bytes for 5 per 10 minutes) and may
//   end an event's effect up to 100 ms early. After 13 years of uptime the
//   tick counter would overflow: the throttle then forgets its state once.
// - Idle keys cost nothing: every record() appends (expiry, slot) to a FIFO,
//   which is ordered because all events share one window; sweep() pops the
//   due items and drops keys whose newest event has left the window.
// - allowed() and record() are separate so that a caller checking several
//   limits records none of them unless the whole request goes through.
// - limit == 0 disables the throttle: allowed() is always true and record()
//   stores nothing.
//
// Thread-safety: none; owned by the engine on the io_context thread.
#pragma once

#include "otppi/core/clock.hpp"
#include "otppi/otp/store.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

namespace otppi::otp {

class sliding_window_throttle {
public:
    using time_point = core::Clock::time_point;
    using duration = core::Clock::duration;
    using key_type = std::uint64_t;

    static constexpr duration resolution{100};
    static constexpr std::uint32_t max_limit = 65535;

    // limit: 0 (off) .. max_limit; window: resolution .. 30 days. Throws
    // std::invalid_argument otherwise (startup only).
    sliding_window_throttle(std::uint32_t limit, duration window, time_point origin);
    sliding_window_throttle(const sliding_window_throttle&) = delete;
    sliding_window_throttle& operator=(const sliding_window_throttle&) = delete;

    bool enabled() const noexcept { return limit_ != 0; }
    std::uint32_t limit() const noexcept { return limit_; }
    duration window() const noexcept { return window_; }

    // Events of `key` still inside the window.
    std::uint32_t count(key_type key, time_point now) const;
    // Whether one more event would stay within the limit.
    bool allowed(key_type key, time_point now) const { return !enabled() || count(key, now) < limit_; }
    // When allowed() becomes true again: `now` if it already is.
    time_point retry_at(key_type key, time_point now) const;

    // Counts one event. Beyond the limit the oldest is forgotten (callers
    // check allowed() first, so that only happens if they choose to).
    void record(key_type key, time_point now);
    // allowed() + record() in one call.
    bool try_acquire(key_type key, time_point now);

    // Drops keys with no event left in the window, processing at most
    // `budget` FIFO items. Returns items processed.
    std::size_t sweep(time_point now, std::size_t budget = static_cast<std::size_t>(-1));
    // When the oldest FIFO item falls due (may be early for a key that had
    // newer events, never late).
    std::optional<time_point> next_deadline() const;

    std::size_t size() const noexcept { return live_; }
    // Bytes held by the ring slab, index and FIFO (for the memory bench).
    std::size_t memory_bytes() const noexcept;

private:
    struct fifo_item {
        std::uint32_t expires_tick;
        std::uint32_t slot;
    };

    // Words of a slot: key (2), meta = head << 16 | count, then the ring.
    static constexpr std::size_t header_words = 3;

    std::uint32_t* slot_words(std::uint32_t slot) noexcept {
        return chunks_[slot / slots_per_chunk_].get() + (slot % slots_per_chunk_) * stride_;
    }
    const std::uint32_t* slot_words(std::uint32_t slot) const noexcept {
        return chunks_[slot / slots_per_chunk_].get() + (slot % slots_per_chunk_) * stride_;
    }
    static key_type key_of(const std::uint32_t* w) noexcept { return (static_cast<key_type>(w[1]) << 32) | w[0]; }
    std::uint64_t tick_of(time_point t) const noexcept;
    // An event at `tick` still counts at now_tick. A tick from the future
    // (a caller passing an older `now`) counts rather than wrapping around.
    bool in_window(std::uint32_t tick, std::uint64_t now_tick) const noexcept {
        return tick >= now_tick || now_tick - tick < window_ticks_;
    }
    std::size_t find_bucket(key_type key) const;
    // Events of the slot in the window at now_tick, dropping older ones.
    std::uint32_t prune(std::uint32_t* w, std::uint64_t now_tick) const noexcept;
    std::uint32_t live_count(const std::uint32_t* w, std::uint64_t now_tick) const noexcept;
    std::uint32_t allocate_slot();
    void erase_bucket(std::size_t bucket);
    void forget_all(time_point new_origin);

    std::uint32_t limit_;
    duration window_;
    std::uint32_t window_ticks_;
    time_point origin_;
    std::size_t stride_;           // words per slot
    std::size_t slots_per_chunk_;  // chunks are ~256 KiB whatever the limit
    std::vector<std::unique_ptr<std::uint32_t[]>> chunks_;
    std::uint32_t slots_used_ = 0;
    std::vector<std::uint32_t> free_slots_;
    std::size_t live_ = 0;
    detail::slot_index index_;
    std::deque<fifo_item> fifo_;
};

}  // namespace otppi::otp
