#include "otppi/otp/throttle.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <map>
#include <random>

namespace otppi::otp {
namespace {

using namespace std::chrono_literals;
using time_point = sliding_window_throttle::time_point;
const time_point t0{};

TEST(OtpThrottle, FivePerTenMinutesSlides) {
    sliding_window_throttle th(5, 10min, t0);
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(th.try_acquire(42, t0 + i * 1min)) << i;
    }
    EXPECT_EQ(th.count(42, t0 + 4min), 5u);
    EXPECT_FALSE(th.try_acquire(42, t0 + 5min));
    EXPECT_FALSE(th.allowed(42, t0 + 10min - 100ms));
    // The first event (t0) leaves the window exactly at t0 + 10 min.
    EXPECT_EQ(th.count(42, t0 + 10min), 4u);
    EXPECT_TRUE(th.try_acquire(42, t0 + 10min));
    // Full again until the second event (t0 + 1 min) leaves.
    EXPECT_FALSE(th.allowed(42, t0 + 11min - 100ms));
    EXPECT_TRUE(th.allowed(42, t0 + 11min));
}

TEST(OtpThrottle, DeniedTriesDoNotCount) {
    sliding_window_throttle th(2, 1min, t0);
    EXPECT_TRUE(th.try_acquire(1, t0));
    EXPECT_TRUE(th.try_acquire(1, t0 + 1s));
    for (int i = 0; i < 100; ++i) EXPECT_FALSE(th.try_acquire(1, t0 + 2s + i * 100ms));
    EXPECT_TRUE(th.try_acquire(1, t0 + 1min));
}

TEST(OtpThrottle, RetryAtIsWhenTheOldestLeaves) {
    sliding_window_throttle th(2, 1min, t0);
    th.record(7, t0 + 5s);
    th.record(7, t0 + 20s);
    EXPECT_EQ(th.retry_at(7, t0 + 30s), t0 + 65s);
    EXPECT_EQ(th.retry_at(8, t0 + 30s), t0 + 30s);  // other key: now
}

TEST(OtpThrottle, KeysAreIndependent) {
    sliding_window_throttle th(1, 1min, t0);
    EXPECT_TRUE(th.try_acquire(1, t0));
    EXPECT_FALSE(th.try_acquire(1, t0));
    EXPECT_TRUE(th.try_acquire(2, t0));
    EXPECT_TRUE(th.try_acquire(0, t0));  // 0 is an ordinary key
    EXPECT_EQ(th.size(), 3u);
}

TEST(OtpThrottle, ZeroLimitIsOff) {
    sliding_window_throttle th(0, 1min, t0);
    EXPECT_FALSE(th.enabled());
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(th.try_acquire(1, t0));
    EXPECT_EQ(th.size(), 0u);
    EXPECT_FALSE(th.next_deadline().has_value());
}

TEST(OtpThrottle, RecordingPastTheLimitForgetsTheOldest) {
    sliding_window_throttle th(2, 1min, t0);
    th.record(1, t0);
    th.record(1, t0 + 10s);
    th.record(1, t0 + 20s);  // the t0 event is forgotten
    EXPECT_EQ(th.count(1, t0 + 20s), 2u);
    EXPECT_TRUE(th.allowed(1, t0 + 70s));  // t0+10s left at t0+70s
}

TEST(OtpThrottle, SweepDropsOnlyIdleKeys) {
    sliding_window_throttle th(5, 1min, t0);
    th.record(1, t0);
    th.record(2, t0);
    th.record(2, t0 + 30s);  // key 2 is active until t0 + 90 s
    EXPECT_EQ(th.next_deadline(), t0 + 1min);
    EXPECT_EQ(th.sweep(t0 + 59s), 0u);
    EXPECT_EQ(th.size(), 2u);
    EXPECT_EQ(th.sweep(t0 + 1min), 2u);  // both t0 items popped...
    EXPECT_EQ(th.size(), 1u);            // ...but key 2 stays
    EXPECT_EQ(th.count(2, t0 + 1min), 1u);
    EXPECT_EQ(th.next_deadline(), t0 + 90s);
    EXPECT_EQ(th.sweep(t0 + 90s), 1u);
    EXPECT_EQ(th.size(), 0u);
    EXPECT_FALSE(th.next_deadline().has_value());
    // A swept key starts from scratch.
    EXPECT_EQ(th.count(2, t0 + 90s), 0u);
}

TEST(OtpThrottle, ReusedSlotIsNotSweptByAnOldItem) {
    sliding_window_throttle th(5, 1min, t0);
    th.record(1, t0);
    th.record(1, t0 + 10s);                // FIFO: (t0+60s, slot 0), (t0+70s, slot 0)
    EXPECT_EQ(th.sweep(t0 + 70s, 1), 1u);  // first item: key 1 is idle, slot 0 freed
    EXPECT_EQ(th.size(), 0u);
    th.record(2, t0 + 70s);             // key 2 takes slot 0
    EXPECT_EQ(th.sweep(t0 + 70s), 1u);  // key 1's second item now names key 2's slot
    EXPECT_EQ(th.size(), 1u);           // and must leave it alone
    EXPECT_EQ(th.count(2, t0 + 70s), 1u);
}

TEST(OtpThrottle, WindowNeverShorterThanConfigured) {
    // 150 ms rounds up to two 100 ms ticks.
    sliding_window_throttle th(1, 150ms, t0);
    th.record(1, t0);
    EXPECT_FALSE(th.allowed(1, t0 + 150ms));
    EXPECT_TRUE(th.allowed(1, t0 + 200ms));
}

TEST(OtpThrottle, BadParametersRefused) {
    EXPECT_THROW(sliding_window_throttle(70'000, 1min, t0), std::invalid_argument);
    EXPECT_THROW(sliding_window_throttle(5, 0ms, t0), std::invalid_argument);
    EXPECT_THROW(sliding_window_throttle(5, std::chrono::hours(24 * 31), t0), std::invalid_argument);
}

TEST(OtpThrottle, LargeLimitUsesSmallChunks) {
    sliding_window_throttle th(60'000, 1min, t0);
    for (int i = 0; i < 60'000; ++i) ASSERT_TRUE(th.try_acquire(5, t0 + std::chrono::milliseconds(i)));
    EXPECT_FALSE(th.allowed(5, t0 + 59s));
    EXPECT_LT(th.memory_bytes(), 2u * 1024 * 1024);
}

TEST(OtpThrottle, RandomisedAgainstExactModel) {
    // Event times at 100 ms multiples so the model is exact.
    sliding_window_throttle th(4, 3s, t0);
    std::map<std::uint64_t, std::deque<time_point>> model;
    std::mt19937_64 rng(777);
    time_point now = t0;
    int denied = 0;
    for (int step = 0; step < 50'000; ++step) {
        now += std::chrono::milliseconds(100 * (rng() % 3));
        const std::uint64_t key = rng() % 5;
        auto& events = model[key];
        while (!events.empty() && now - events.front() >= 3s) events.pop_front();
        const bool expect = events.size() < 4;
        ASSERT_EQ(th.count(key, now), events.size()) << step;
        ASSERT_EQ(th.try_acquire(key, now), expect) << step;
        if (expect) {
            events.push_back(now);
        } else {
            ++denied;
        }
        if (rng() % 16 == 0) th.sweep(now);
    }
    EXPECT_GT(denied, 1000);
    th.sweep(now + 3s);
    EXPECT_EQ(th.size(), 0u);
}

}  // namespace
}  // namespace otppi::otp
