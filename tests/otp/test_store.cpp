#include "otppi/otp/store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <random>

namespace otppi::otp {
namespace {

using namespace std::chrono_literals;
using time_point = store::time_point;

// Distinct keys; the low 8 bytes drive the bucket, so vary them.
ref_key key_of(std::uint64_t n) {
    ref_key k{};
    std::memcpy(k.data(), &n, sizeof n);
    k[15] = 0xA5;
    return k;
}

code_digest digest_of(std::uint8_t b) {
    code_digest d;
    d.fill(b);
    return d;
}

const time_point t0{};

TEST(OtpStore, InsertFindErase) {
    store s(10);
    EXPECT_EQ(s.insert(key_of(1), digest_of(1), t0 + 60s, 5, t0), store::insert_result::inserted);
    EXPECT_EQ(s.size(), 1u);
    store::entry* e = s.find(key_of(1), t0);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->digest, digest_of(1));
    EXPECT_EQ(e->attempts_left, 5);
    EXPECT_EQ(s.find(key_of(2), t0), nullptr);
    EXPECT_TRUE(s.erase(key_of(1)));
    EXPECT_FALSE(s.erase(key_of(1)));
    EXPECT_EQ(s.find(key_of(1), t0), nullptr);
    EXPECT_EQ(s.size(), 0u);
}

TEST(OtpStore, LiveKeyIsDuplicated) {
    store s(10);
    ASSERT_EQ(s.insert(key_of(1), digest_of(1), t0 + 60s, 5, t0), store::insert_result::inserted);
    EXPECT_EQ(s.insert(key_of(1), digest_of(2), t0 + 60s, 5, t0 + 59s), store::insert_result::duplicated);
    EXPECT_EQ(s.find(key_of(1), t0 + 59s)->digest, digest_of(1));
}

TEST(OtpStore, DeadExactlyAtDeadline) {
    store s(10);
    ASSERT_EQ(s.insert(key_of(1), digest_of(1), t0 + 60s, 5, t0), store::insert_result::inserted);
    EXPECT_NE(s.peek(key_of(1), t0 + 60s - 1ms), nullptr);
    EXPECT_EQ(s.peek(key_of(1), t0 + 60s), nullptr);
    EXPECT_NE(s.find(key_of(1), t0 + 60s - 1ms), nullptr);
    EXPECT_EQ(s.find(key_of(1), t0 + 60s), nullptr);
    EXPECT_EQ(s.size(), 0u);  // find() erased the dead entry
}

TEST(OtpStore, DeadKeyReusableBeforeSweep) {
    store s(10);
    ASSERT_EQ(s.insert(key_of(1), digest_of(1), t0 + 60s, 5, t0), store::insert_result::inserted);
    EXPECT_EQ(s.insert(key_of(1), digest_of(2), t0 + 120s, 3, t0 + 60s), store::insert_result::inserted);
    EXPECT_EQ(s.size(), 1u);
    const store::entry* e = s.peek(key_of(1), t0 + 61s);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->digest, digest_of(2));
    EXPECT_EQ(e->attempts_left, 3);
    // The stale heap item (deadline 60 s) must not kill the new entry.
    s.sweep(t0 + 100s);
    EXPECT_NE(s.peek(key_of(1), t0 + 100s), nullptr);
    s.sweep(t0 + 120s);
    EXPECT_EQ(s.size(), 0u);
}

TEST(OtpStore, FullThenFreedBySweep) {
    store s(3);
    for (std::uint64_t i = 0; i < 3; ++i) {
        ASSERT_EQ(s.insert(key_of(i), digest_of(1), t0 + 10s, 5, t0), store::insert_result::inserted);
    }
    EXPECT_EQ(s.insert(key_of(9), digest_of(1), t0 + 10s, 5, t0 + 1s), store::insert_result::full);
    EXPECT_EQ(s.next_deadline(), t0 + 10s);
    EXPECT_EQ(s.sweep(t0 + 10s), 3u);
    EXPECT_EQ(s.size(), 0u);
    EXPECT_EQ(s.insert(key_of(9), digest_of(1), t0 + 20s, 5, t0 + 10s), store::insert_result::inserted);
}

TEST(OtpStore, FullStoreDropsDeadEntriesOnInsert) {
    // No timer fired yet, but the entries are past their deadline: they must
    // not refuse a new OTP.
    store s(2);
    ASSERT_EQ(s.insert(key_of(1), digest_of(1), t0 + 10s, 5, t0), store::insert_result::inserted);
    ASSERT_EQ(s.insert(key_of(2), digest_of(1), t0 + 30s, 5, t0), store::insert_result::inserted);
    EXPECT_EQ(s.insert(key_of(3), digest_of(1), t0 + 40s, 5, t0 + 5s), store::insert_result::full);
    EXPECT_EQ(s.insert(key_of(3), digest_of(1), t0 + 40s, 5, t0 + 10s), store::insert_result::inserted);
    EXPECT_EQ(s.size(), 2u);
}

TEST(OtpStore, SweepTouchesOnlyDueItems) {
    store s(10'000);
    for (std::uint64_t i = 0; i < 5'000; ++i) {
        ASSERT_EQ(s.insert(key_of(i), digest_of(1), t0 + 600s, 5, t0), store::insert_result::inserted);
    }
    for (std::uint64_t i = 5'000; i < 5'010; ++i) {
        ASSERT_EQ(s.insert(key_of(i), digest_of(1), t0 + 30s, 5, t0), store::insert_result::inserted);
    }
    const auto before = s.statistics().sweep_visits;
    EXPECT_EQ(s.sweep(t0 + 29s), 0u);
    EXPECT_EQ(s.statistics().sweep_visits, before);
    EXPECT_EQ(s.sweep(t0 + 30s), 10u);
    EXPECT_EQ(s.statistics().sweep_visits, before + 10);
    EXPECT_EQ(s.size(), 5'000u);
    EXPECT_EQ(s.next_deadline(), t0 + 600s);
}

TEST(OtpStore, SweepBudgetBoundsWork) {
    store s(100);
    for (std::uint64_t i = 0; i < 50; ++i) {
        ASSERT_EQ(s.insert(key_of(i), digest_of(1), t0 + 1s, 5, t0), store::insert_result::inserted);
    }
    EXPECT_EQ(s.sweep(t0 + 1s, 20), 20u);
    EXPECT_EQ(s.size(), 30u);
    EXPECT_EQ(s.sweep(t0 + 1s, 20), 20u);
    EXPECT_EQ(s.sweep(t0 + 1s, 20), 10u);
    EXPECT_EQ(s.size(), 0u);
    EXPECT_FALSE(s.next_deadline().has_value());
}

TEST(OtpStore, NextDeadlineFollowsEarliest) {
    store s(10);
    EXPECT_FALSE(s.next_deadline().has_value());
    s.insert(key_of(1), digest_of(1), t0 + 50s, 5, t0);
    s.insert(key_of(2), digest_of(1), t0 + 20s, 5, t0);
    s.insert(key_of(3), digest_of(1), t0 + 90s, 5, t0);
    EXPECT_EQ(s.next_deadline(), t0 + 20s);
    s.sweep(t0 + 20s);
    EXPECT_EQ(s.next_deadline(), t0 + 50s);
}

TEST(OtpStore, StaleHeapItemsDoNotAccumulate) {
    // Issue-then-verify churn leaves heap items behind; the rebuild keeps the
    // heap proportional to the live entries.
    store s(100);
    for (std::uint64_t i = 0; i < 100'000; ++i) {
        ASSERT_EQ(s.insert(key_of(i), digest_of(1), t0 + 600s, 5, t0), store::insert_result::inserted);
        ASSERT_TRUE(s.erase(key_of(i)));
    }
    EXPECT_EQ(s.size(), 0u);
    EXPECT_LE(s.statistics().heap_items, 2'000u);
    EXPECT_LE(s.statistics().slots, 4096u);  // freed slots are reused
}

TEST(OtpStore, RandomisedAgainstReferenceModel) {
    // Inserts, finds, erases and sweeps at random, hitting duplicates, the
    // capacity and backward-shift deletion, and checks every answer against
    // a std::map.
    store s(100);
    std::map<std::uint64_t, time_point> model;
    std::mt19937_64 rng(12345);
    time_point now = t0;
    std::map<store::insert_result, int> outcomes;
    for (int step = 0; step < 60'000; ++step) {
        now += std::chrono::milliseconds(rng() % 50);
        const std::uint64_t k = rng() % 600;
        switch (rng() % 4) {
            case 0:
            case 1: {
                const time_point deadline = now + std::chrono::milliseconds(1 + rng() % 20'000);
                const auto r = s.insert(key_of(k), digest_of(static_cast<std::uint8_t>(k)), deadline, 5, now);
                ++outcomes[r];
                auto it = model.find(k);
                const bool live = it != model.end() && it->second > now;
                if (live) {
                    ASSERT_EQ(r, store::insert_result::duplicated);
                } else if (r == store::insert_result::inserted) {
                    model[k] = deadline;
                } else {
                    ASSERT_EQ(r, store::insert_result::full);
                    const auto live_count = std::count_if(model.begin(), model.end(), [&](const auto& kv) { return kv.second > now; });
                    ASSERT_EQ(static_cast<std::size_t>(live_count), s.capacity());
                }
                break;
            }
            case 2: {
                auto it = model.find(k);
                const bool live = it != model.end() && it->second > now;
                const store::entry* e = s.find(key_of(k), now);
                ASSERT_EQ(e != nullptr, live) << step;
                if (e) {
                    EXPECT_EQ(e->deadline, it->second);
                }
                break;
            }
            case 3:
                if (rng() % 2) {
                    s.erase(key_of(k));
                    model.erase(k);
                } else {
                    s.sweep(now);
                }
                break;
        }
    }
    // Everything the model still considers live is found, nothing else.
    for (const auto& [k, deadline] : model) {
        EXPECT_EQ(s.peek(key_of(k), now) != nullptr, deadline > now);
    }
    s.sweep(now + 1h);
    EXPECT_EQ(s.size(), 0u);
    // The walk really went through every branch.
    EXPECT_GT(outcomes[store::insert_result::inserted], 1000);
    EXPECT_GT(outcomes[store::insert_result::duplicated], 100);
    EXPECT_GT(outcomes[store::insert_result::full], 100);
}

TEST(OtpStore, CapacityMustBePositive) { EXPECT_THROW(store(0), std::invalid_argument); }

}  // namespace
}  // namespace otppi::otp
