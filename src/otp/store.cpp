#include "otppi/otp/store.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace otppi::otp {

namespace {

constexpr std::size_t max_capacity = std::size_t{1} << 31;

// The memory budget (1M OTPs + their throttle entries in 256 MiB) is
// planned on these sizes; a new field should be a conscious decision.
static_assert(sizeof(store::entry) == 96);

// Heap order: the smallest deadline on top.
struct later {
    template <class T>
    bool operator()(const T& a, const T& b) const noexcept {
        return a.deadline_ms > b.deadline_ms;
    }
};

}  // namespace

store::store(std::size_t capacity) : capacity_(capacity) {
    if (capacity == 0 || capacity > max_capacity) {
        throw std::invalid_argument("otp store: capacity must be between 1 and 2^31");
    }
}

std::uint64_t store::hash_of(const ref_key& key) noexcept {
    // The key is already a keyed hash: any 8 of its bytes are uniform.
    std::uint64_t h = 0;
    std::memcpy(&h, key.data(), sizeof h);
    return h;
}

std::size_t store::find_bucket(const ref_key& key) const {
    return index_.find(hash_of(key), [&](std::uint32_t slot) { return slot_ref(slot).key == key; });
}

void store::erase_bucket(std::size_t bucket) {
    const std::uint32_t slot = index_.slot_at(bucket);
    index_.erase(bucket, [this](std::uint32_t s) { return hash_of(slot_ref(s).key); });
    entry& e = slot_ref(slot);
    // The digest is not the code, but a dead MAC has no reason to linger.
    OPENSSL_cleanse(&e, sizeof e);
    e = entry{};
    free_slots_.push_back(slot);
    --live_;
}

std::uint32_t store::allocate_slot() {
    if (!free_slots_.empty()) {
        const std::uint32_t slot = free_slots_.back();
        free_slots_.pop_back();
        return slot;
    }
    if (slots_used_ == chunks_.size() * chunk_size) chunks_.push_back(std::make_unique<entry[]>(chunk_size));
    return slots_used_++;
}

void store::push_heap(time_point deadline, std::uint32_t slot) {
    // Items of entries that died early stay in the heap until their deadline.
    // A burst of issue+verify could let them pile up, so once they outnumber
    // live entries the heap is rebuilt from the live slots: O(slots), paid
    // after at least as many pushes, so amortised O(1).
    if (heap_.size() >= 2 * live_ + 1024) rebuild_heap();
    heap_.push_back({deadline.time_since_epoch().count(), slot});
    std::push_heap(heap_.begin(), heap_.end(), later{});
}

void store::rebuild_heap() {
    heap_.clear();
    for (std::uint32_t slot = 0; slot < slots_used_; ++slot) {
        const entry& e = slot_ref(slot);
        if (e.live) heap_.push_back({e.deadline.time_since_epoch().count(), slot});
    }
    std::make_heap(heap_.begin(), heap_.end(), later{});
    // After a large burst, give the excess memory back.
    if (heap_.capacity() > 4 * heap_.size() + 4096) heap_.shrink_to_fit();
}

store::insert_result store::insert(const ref_key& key, const code_digest& digest, time_point deadline, std::uint8_t attempts,
                                   time_point now) {
    const std::size_t bucket = find_bucket(key);
    if (bucket != detail::slot_index::npos) {
        const std::uint32_t slot = index_.slot_at(bucket);
        entry& e = slot_ref(slot);
        if (e.deadline > now) return insert_result::duplicated;
        // A dead entry not swept yet: reuse it in place. Its old heap item is
        // now stale and will be skipped.
        e.digest = digest;
        e.deadline = deadline;
        e.attempts_left = attempts;
        push_heap(deadline, slot);
        return insert_result::inserted;
    }
    if (live_ >= capacity_) {
        // Dead entries only wait for the timer; they must not refuse service.
        sweep(now);
        if (live_ >= capacity_) return insert_result::full;
    }
    const std::uint32_t slot = allocate_slot();
    entry& e = slot_ref(slot);
    e.key = key;
    e.digest = digest;
    e.deadline = deadline;
    e.attempts_left = attempts;
    e.live = true;
    index_.insert(slot, hash_of(key), [this](std::uint32_t s) { return hash_of(slot_ref(s).key); });
    ++live_;
    push_heap(deadline, slot);
    return insert_result::inserted;
}

store::entry* store::find(const ref_key& key, time_point now) {
    const std::size_t bucket = find_bucket(key);
    if (bucket == detail::slot_index::npos) return nullptr;
    entry& e = slot_ref(index_.slot_at(bucket));
    if (e.deadline <= now) {
        erase_bucket(bucket);
        return nullptr;
    }
    return &e;
}

const store::entry* store::peek(const ref_key& key, time_point now) const {
    const std::size_t bucket = find_bucket(key);
    if (bucket == detail::slot_index::npos) return nullptr;
    const entry& e = slot_ref(index_.slot_at(bucket));
    return e.deadline > now ? &e : nullptr;
}

bool store::erase(const ref_key& key) {
    const std::size_t bucket = find_bucket(key);
    if (bucket == detail::slot_index::npos) return false;
    erase_bucket(bucket);
    return true;
}

std::size_t store::sweep(time_point now, std::size_t budget) {
    const std::int64_t now_ms = now.time_since_epoch().count();
    std::size_t done = 0;
    while (done < budget && !heap_.empty() && heap_.front().deadline_ms <= now_ms) {
        const std::uint32_t slot = heap_.front().slot;
        std::pop_heap(heap_.begin(), heap_.end(), later{});
        heap_.pop_back();
        ++done;
        ++sweep_visits_;
        // The item may be stale (its entry verified, cancelled or replaced,
        // the slot perhaps reused). Whatever occupies the slot now is erased
        // only if it is itself due, which is always a correct reason.
        const entry& e = slot_ref(slot);
        if (e.live && e.deadline <= now) erase_bucket(find_bucket(e.key));
    }
    return done;
}

std::optional<store::time_point> store::next_deadline() const {
    if (heap_.empty()) return std::nullopt;
    return time_point(time_point::duration(heap_.front().deadline_ms));
}

store::stats store::statistics() const noexcept {
    return stats{live_, heap_.size(), chunks_.size() * chunk_size, index_.bucket_count(), sweep_visits_};
}

}  // namespace otppi::otp
