#include "otppi/otp/throttle.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace otppi::otp {

namespace {

constexpr std::uint32_t meta_head(std::uint32_t meta) noexcept { return meta >> 16; }
constexpr std::uint32_t meta_count(std::uint32_t meta) noexcept { return meta & 0xffffu; }
constexpr std::uint32_t make_meta(std::uint32_t head, std::uint32_t count) noexcept { return head << 16 | count; }

constexpr std::uint64_t tick_limit = std::numeric_limits<std::uint32_t>::max();

}  // namespace

sliding_window_throttle::sliding_window_throttle(std::uint32_t limit, duration window, time_point origin)
    : limit_(limit), window_(window), window_ticks_(0), origin_(origin), stride_(header_words + limit) {
    if (limit > max_limit) throw std::invalid_argument("otp throttle: limit above 65535");
    if (window < resolution || window > std::chrono::duration_cast<duration>(std::chrono::hours(24 * 30))) {
        throw std::invalid_argument("otp throttle: window must be between 100 ms and 30 days");
    }
    // Round up so that the window is never shorter than configured.
    window_ticks_ = static_cast<std::uint32_t>((window + resolution - duration(1)) / resolution);
    slots_per_chunk_ = std::max<std::size_t>(1, 65536 / stride_);
}

std::uint64_t sliding_window_throttle::tick_of(time_point t) const noexcept {
    if (t <= origin_) return 0;
    return static_cast<std::uint64_t>((t - origin_) / resolution);
}

std::size_t sliding_window_throttle::find_bucket(key_type key) const {
    return index_.find(key, [&](std::uint32_t slot) { return key_of(slot_words(slot)) == key; });
}

std::uint32_t sliding_window_throttle::live_count(const std::uint32_t* w, std::uint64_t now_tick) const noexcept {
    const std::uint32_t head = meta_head(w[2]);
    const std::uint32_t count = meta_count(w[2]);
    const std::uint32_t* ring = w + header_words;
    // The ring is in time order: skip the expired prefix.
    std::uint32_t expired = 0;
    while (expired < count && !in_window(ring[(head + expired) % limit_], now_tick)) ++expired;
    return count - expired;
}

std::uint32_t sliding_window_throttle::prune(std::uint32_t* w, std::uint64_t now_tick) const noexcept {
    std::uint32_t head = meta_head(w[2]);
    std::uint32_t count = meta_count(w[2]);
    const std::uint32_t* ring = w + header_words;
    while (count > 0 && !in_window(ring[head], now_tick)) {
        head = (head + 1) % limit_;
        --count;
    }
    w[2] = make_meta(head, count);
    return count;
}

std::uint32_t sliding_window_throttle::count(key_type key, time_point now) const {
    if (!enabled()) return 0;
    const std::size_t bucket = find_bucket(key);
    if (bucket == detail::slot_index::npos) return 0;
    return live_count(slot_words(index_.slot_at(bucket)), tick_of(now));
}

sliding_window_throttle::time_point sliding_window_throttle::retry_at(key_type key, time_point now) const {
    if (allowed(key, now)) return now;
    // Full ring, every event in the window: the oldest one leaving frees a
    // place.
    const std::uint32_t* w = slot_words(index_.slot_at(find_bucket(key)));
    const std::uint32_t oldest = w[header_words + meta_head(w[2])];
    return origin_ + resolution * (static_cast<std::int64_t>(oldest) + window_ticks_);
}

std::uint32_t sliding_window_throttle::allocate_slot() {
    if (!free_slots_.empty()) {
        const std::uint32_t slot = free_slots_.back();
        free_slots_.pop_back();
        return slot;
    }
    if (slots_used_ == chunks_.size() * slots_per_chunk_) {
        chunks_.push_back(std::make_unique<std::uint32_t[]>(slots_per_chunk_ * stride_));
    }
    return slots_used_++;
}

void sliding_window_throttle::erase_bucket(std::size_t bucket) {
    const std::uint32_t slot = index_.slot_at(bucket);
    index_.erase(bucket, [this](std::uint32_t s) { return key_of(slot_words(s)); });
    // count == 0 marks a free slot for sweep().
    std::memset(slot_words(slot), 0, stride_ * sizeof(std::uint32_t));
    free_slots_.push_back(slot);
    --live_;
}

void sliding_window_throttle::forget_all(time_point new_origin) {
    chunks_.clear();
    slots_used_ = 0;
    free_slots_.clear();
    live_ = 0;
    index_.reset(1024);
    fifo_.clear();
    origin_ = new_origin;
}

void sliding_window_throttle::record(key_type key, time_point now) {
    if (!enabled()) return;
    std::uint64_t now_tick = tick_of(now);
    if (now_tick + window_ticks_ >= tick_limit) {
        forget_all(now);
        now_tick = 0;
    }
    std::size_t bucket = find_bucket(key);
    std::uint32_t slot = 0;
    if (bucket == detail::slot_index::npos) {
        slot = allocate_slot();
        std::uint32_t* w = slot_words(slot);
        w[0] = static_cast<std::uint32_t>(key);
        w[1] = static_cast<std::uint32_t>(key >> 32);
        w[2] = make_meta(0, 0);
        index_.insert(slot, key, [this](std::uint32_t s) { return key_of(slot_words(s)); });
        ++live_;
    } else {
        slot = index_.slot_at(bucket);
    }
    std::uint32_t* w = slot_words(slot);
    std::uint32_t count = prune(w, now_tick);
    std::uint32_t head = meta_head(w[2]);
    if (count == limit_) {
        head = (head + 1) % limit_;
        --count;
    }
    w[header_words + (head + count) % limit_] = static_cast<std::uint32_t>(now_tick);
    w[2] = make_meta(head, count + 1);
    fifo_.push_back({static_cast<std::uint32_t>(now_tick + window_ticks_), slot});
}

bool sliding_window_throttle::try_acquire(key_type key, time_point now) {
    if (!allowed(key, now)) return false;
    record(key, now);
    return true;
}

std::size_t sliding_window_throttle::sweep(time_point now, std::size_t budget) {
    const std::uint64_t now_tick = tick_of(now);
    std::size_t done = 0;
    while (done < budget && !fifo_.empty() && fifo_.front().expires_tick <= now_tick) {
        const std::uint32_t slot = fifo_.front().slot;
        fifo_.pop_front();
        ++done;
        // The item may belong to an older event of a key that is still
        // active, or to a slot since freed or reused: erase whatever is there
        // only if its newest event has left the window.
        const std::uint32_t* w = slot_words(slot);
        const std::uint32_t count = meta_count(w[2]);
        if (count == 0) continue;
        const std::uint32_t newest = w[header_words + (meta_head(w[2]) + count - 1) % limit_];
        if (!in_window(newest, now_tick)) erase_bucket(find_bucket(key_of(w)));
    }
    if (fifo_.empty()) fifo_.shrink_to_fit();
    return done;
}

std::optional<sliding_window_throttle::time_point> sliding_window_throttle::next_deadline() const {
    if (fifo_.empty()) return std::nullopt;
    return origin_ + resolution * static_cast<std::int64_t>(fifo_.front().expires_tick);
}

std::size_t sliding_window_throttle::memory_bytes() const noexcept {
    return chunks_.size() * slots_per_chunk_ * stride_ * sizeof(std::uint32_t) + index_.bucket_count() * sizeof(std::uint32_t) +
           fifo_.size() * sizeof(fifo_item) + free_slots_.capacity() * sizeof(std::uint32_t);
}

}  // namespace otppi::otp
