// In-memory TTL store of live OTPs, sized for millions of entries.
//
// Contract:
// - Entries are keyed by a 16-byte *keyed hash of the reference* (computed by
//   the engine with its HMAC key), not by the reference itself. Why: every
//   entry is then fixed-size (no std::string, no allocation per OTP); the
//   bucket of an entry is taken straight from those bytes, and since clients
//   cannot compute the keyed hash they cannot pick references that pile into
//   one bucket (hash flooding); and the store holds no client identifiers in
//   the clear. With 128 bits, two live references sharing a key is out of
//   reach (~2^-89 at 2^20 entries); even then the code MAC, which binds the
//   full reference, would make the verification fail, not succeed.
// - An entry is dead from its deadline on (now >= deadline). Dead entries are
//   invisible to find() and insert() at once, whether or not sweep() ran.
// - Expiry costs nothing per idle entry: a min-heap of (deadline, slot) is
//   popped only when its top is due. Heap items are not removed when an entry
//   dies early (verified, cancelled, replaced); sweep() skips them when they
//   surface, and the heap is rebuilt when such stale items dominate it.
//   next_deadline() may therefore be early (a stale item), never late: the
//   owner arms ONE timer on it and calls sweep() when it fires.
// - Capacity bounds live entries; insert() reports `full` rather than grow.
// - Memory: 96 bytes per slot in chunks of 4096 slots (chunks are kept after
//   a peak, for reuse), 4-byte buckets at load <= 1/2, 16-byte heap items.
//
// Thread-safety: none. The store is owned by the engine on the io_context
// thread.
#pragma once

#include "otppi/core/clock.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace otppi::otp {
namespace detail {

// Open-addressing index from a 64-bit hash to a slot number, for tables whose
// records live in a slab and are addressed by uint32 slot. Linear probing at
// load <= 1/2 with backward-shift deletion, so there are no tombstones and
// lookups stay short no matter how many erasures happened. 4 bytes per
// bucket. The owner supplies, per call, how to compare or re-hash a slot's
// key (the index stores no keys).
class slot_index {
public:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    explicit slot_index(std::size_t initial_buckets = 1024) { reset(initial_buckets); }

    // Bucket whose slot satisfies match(slot), or npos.
    template <class Match>
    std::size_t find(std::uint64_t hash, Match&& match) const {
        for (std::size_t i = mix(hash) & mask_; buckets_[i] != 0; i = (i + 1) & mask_) {
            if (match(buckets_[i] - 1)) return i;
        }
        return npos;
    }

    std::uint32_t slot_at(std::size_t bucket) const noexcept { return buckets_[bucket] - 1; }

    // hash_of(slot) re-derives the hash of a stored slot (needed to grow).
    template <class HashOf>
    void insert(std::uint32_t slot, std::uint64_t hash, HashOf&& hash_of) {
        if ((size_ + 1) * 2 > buckets_.size()) {
            std::vector<std::uint32_t> old;
            old.swap(buckets_);
            reset_buckets(old.size() * 2);
            for (std::uint32_t b : old) {
                if (b != 0) place(b - 1, hash_of(b - 1));
            }
        }
        place(slot, hash);
        ++size_;
    }

    template <class HashOf>
    void erase(std::size_t bucket, HashOf&& hash_of) {
        // Backward shift: pull later members of the probe run into the hole
        // unless their home bucket lies cyclically in (hole, here].
        std::size_t hole = bucket;
        for (std::size_t j = (hole + 1) & mask_; buckets_[j] != 0; j = (j + 1) & mask_) {
            const std::size_t home = mix(hash_of(buckets_[j] - 1)) & mask_;
            const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
            if (stays) continue;
            buckets_[hole] = buckets_[j];
            hole = j;
        }
        buckets_[hole] = 0;
        --size_;
    }

    void reset(std::size_t initial_buckets) {
        std::size_t n = 16;
        while (n < initial_buckets) n *= 2;
        reset_buckets(n);
        size_ = 0;
    }

    std::size_t size() const noexcept { return size_; }
    std::size_t bucket_count() const noexcept { return buckets_.size(); }

private:
    // Keys are keyed hashes already; the mixer only protects against callers
    // (and tests) whose low bits are not uniform.
    static std::uint64_t mix(std::uint64_t x) noexcept {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdULL;
        x ^= x >> 33;
        return x;
    }
    void reset_buckets(std::size_t n) {
        buckets_.assign(n, 0);
        mask_ = n - 1;
    }
    void place(std::uint32_t slot, std::uint64_t hash) noexcept {
        std::size_t i = mix(hash) & mask_;
        while (buckets_[i] != 0) i = (i + 1) & mask_;
        buckets_[i] = slot + 1;
    }

    std::vector<std::uint32_t> buckets_;  // slot + 1; 0 = empty
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
};

}  // namespace detail

using ref_key = std::array<std::uint8_t, 16>;
using code_digest = std::array<std::uint8_t, 64>;

class store {
public:
    using time_point = core::Clock::time_point;

    struct entry {
        ref_key key{};
        code_digest digest{};  // HMAC-SHA-512 of (reference, receiver, params, code)
        time_point deadline{};
        std::uint8_t attempts_left = 0;  // wrong codes still allowed
        bool live = false;               // slot in use (may still be past its deadline)
    };

    enum class insert_result { inserted, duplicated, full };

    struct stats {
        std::size_t live = 0;        // entries in the table (some may be due for sweep)
        std::size_t heap_items = 0;  // including stale ones
        std::size_t slots = 0;       // allocated slots (high-water mark, chunk-rounded)
        std::size_t buckets = 0;
        std::uint64_t sweep_visits = 0;  // heap items popped by sweeps, ever
    };

    // capacity: most live entries, 1 .. 2^31. Throws std::invalid_argument
    // otherwise (startup only).
    explicit store(std::size_t capacity);
    store(const store&) = delete;
    store& operator=(const store&) = delete;

    // `duplicated` if a live entry with this key exists (a dead one is
    // replaced). `full` if the store holds `capacity` live entries even after
    // dropping the dead ones.
    insert_result insert(const ref_key& key, const code_digest& digest, time_point deadline, std::uint8_t attempts, time_point now);

    // The live entry, or nullptr. A dead entry found here is erased. The
    // pointer stays valid until the next non-const call.
    entry* find(const ref_key& key, time_point now);
    const entry* peek(const ref_key& key, time_point now) const;

    // Removes the entry, live or dead. false if absent.
    bool erase(const ref_key& key);

    // Erases entries whose deadline is <= now, at most `budget` heap items per
    // call so that a mass expiry cannot stall the event loop (call again while
    // the return value equals the budget). Returns heap items processed.
    std::size_t sweep(time_point now, std::size_t budget = static_cast<std::size_t>(-1));

    // Earliest deadline in the heap, or nullopt if it is empty.
    std::optional<time_point> next_deadline() const;

    std::size_t size() const noexcept { return live_; }
    std::size_t capacity() const noexcept { return capacity_; }
    stats statistics() const noexcept;

private:
    static constexpr std::uint32_t chunk_bits = 12;
    static constexpr std::uint32_t chunk_size = 1u << chunk_bits;

    struct heap_item {
        std::int64_t deadline_ms;
        std::uint32_t slot;
    };

    entry& slot_ref(std::uint32_t slot) noexcept { return chunks_[slot >> chunk_bits][slot & (chunk_size - 1)]; }
    const entry& slot_ref(std::uint32_t slot) const noexcept { return chunks_[slot >> chunk_bits][slot & (chunk_size - 1)]; }
    static std::uint64_t hash_of(const ref_key& key) noexcept;
    // Bucket holding `key`, or slot_index::npos.
    std::size_t find_bucket(const ref_key& key) const;
    void erase_bucket(std::size_t bucket);
    std::uint32_t allocate_slot();
    void push_heap(time_point deadline, std::uint32_t slot);
    void rebuild_heap();

    std::size_t capacity_;
    std::size_t live_ = 0;
    std::vector<std::unique_ptr<entry[]>> chunks_;
    std::uint32_t slots_used_ = 0;  // slots ever handed out; the free list covers holes
    std::vector<std::uint32_t> free_slots_;
    detail::slot_index index_;
    std::vector<heap_item> heap_;  // min-heap on deadline
    std::uint64_t sweep_visits_ = 0;
};

}  // namespace otppi::otp
