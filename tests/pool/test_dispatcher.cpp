// The dispatcher's policy step by step, with modems whose answers the test
// decides. The same policy runs against simulated modems in test_pool.cpp.
#include "otppi/config/config.hpp"
#include "otppi/pool/dispatcher.hpp"
#include "otppi/pool/routing.hpp"
#include "support/manual_loop.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <optional>

using namespace otppi;
using pool::member_result;
using kind = member_result::kind;

namespace {

struct fake_member : pool::member {
    explicit fake_member(std::string name) : name_(std::move(name)) {}
    const std::string& id() const override { return name_; }
    bool usable() const override { return usable_; }
    bool coming_up() const override { return coming_up_; }
    bool idle() const override { return !pending_; }
    void send(const api::outgoing_sms& msg, std::function<void(member_result)> done) override {
        receivers.push_back(msg.receiver);
        pending_ = std::move(done);
    }
    // Completes the send in flight.
    void answer(member_result r) {
        auto done = std::move(pending_);
        pending_ = nullptr;
        done(r);
    }
    void ok(int mr = 7) {
        member_result r;
        r.ok = true;
        r.message_reference = mr;
        r.parts = 1;
        r.parts_accepted = 1;
        answer(r);
    }
    void fail(kind k, int accepted = 0) {
        member_result r;
        r.failure = k;
        r.parts = 2;
        r.parts_accepted = accepted;
        r.error = "+CMS ERROR";
        answer(r);
    }
    bool busy() const { return static_cast<bool>(pending_); }

    std::string name_;
    bool usable_ = true;
    bool coming_up_ = false;
    std::function<void(member_result)> pending_;
    std::vector<std::string> receivers;
};

class Dispatcher : public ::testing::Test {
protected:
    Dispatcher() : loop(clock), d(clock, loop.executor(), loop.scheduler(), 3) {
        for (auto* m : {&cheap1, &cheap2, &fallback, &other}) d.add_member(m);
    }

    std::shared_ptr<std::optional<api::send_result>> submit(pool::dispatcher::tiers_t tiers, std::int64_t expires = 0,
                                                            const std::string& receiver = "6287112345678") {
        api::outgoing_sms msg;
        msg.receiver = receiver;
        msg.text = core::secure_string("hello");
        msg.expires_unix = expires;
        auto out = std::make_shared<std::optional<api::send_result>>();
        d.submit(std::move(msg), std::move(tiers), [out](api::send_result r) { *out = r; });
        return out;
    }
    pool::dispatcher::tiers_t standard() { return {{"cheap1", "cheap2"}, {"fallback"}, {"other"}}; }

    core::ManualClock clock;
    test::manual_loop loop;
    fake_member cheap1{"cheap1"}, cheap2{"cheap2"}, fallback{"fallback"}, other{"other"};
    pool::dispatcher d;
};

}  // namespace

TEST_F(Dispatcher, FirstIdleModemOfTheFirstTierSends) {
    auto r = submit(standard());
    EXPECT_TRUE(cheap1.busy());
    EXPECT_FALSE(r->has_value());  // never answered from inside submit
    cheap1.ok(42);
    loop.drain();
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->status, api::send_status::sent);
    EXPECT_EQ((*r)->modem_id, "cheap1");
    EXPECT_EQ((*r)->message_reference, 42);
}

TEST_F(Dispatcher, NeverWaitsBehindABusyModemWhileATierTwinIsIdle) {
    submit(standard());
    submit(standard());
    EXPECT_TRUE(cheap1.busy());
    EXPECT_TRUE(cheap2.busy());
    EXPECT_FALSE(fallback.busy());
}

TEST_F(Dispatcher, WaitsForItsOwnTierRatherThanACostlierOne) {
    submit(standard());
    submit(standard());
    auto third = submit(standard());
    EXPECT_FALSE(fallback.busy());
    EXPECT_EQ(d.queued(), 1u);
    EXPECT_EQ(d.queued_for("cheap1"), 1u);
    cheap2.ok();
    EXPECT_TRUE(cheap2.busy());  // the waiting message moved straight on
    EXPECT_EQ(d.queued(), 0u);
}

TEST_F(Dispatcher, RetryableFailureMovesOnThroughTheTiers) {
    cheap2.usable_ = false;
    auto r = submit(standard());
    cheap1.fail(kind::retry_elsewhere);
    EXPECT_TRUE(fallback.busy());
    fallback.fail(kind::take_out);
    EXPECT_TRUE(other.busy());
    other.ok();
    loop.drain();
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->status, api::send_status::sent);
    EXPECT_EQ((*r)->modem_id, "other");
    EXPECT_EQ(d.stats().retried, 2u);
    EXPECT_EQ(d.retried_from().at("cheap1"), 1u);
}

TEST_F(Dispatcher, AMessageAModemMayHaveSentIsNeverResent) {
    auto r = submit(standard());
    cheap1.fail(kind::maybe_sent);
    loop.drain();
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->status, api::send_status::failed);
    EXPECT_NE((*r)->error.find("not resent"), std::string::npos);
    EXPECT_FALSE(cheap2.busy());
    EXPECT_FALSE(fallback.busy());

    auto partial = submit(standard());
    cheap1.fail(kind::retry_elsewhere, /*accepted=*/1);
    loop.drain();
    ASSERT_TRUE(partial->has_value());
    EXPECT_EQ((*partial)->status, api::send_status::failed);
    EXPECT_NE((*partial)->error.find("1 of 2 parts"), std::string::npos);
    EXPECT_EQ(cheap1.receivers.size() + cheap2.receivers.size() + fallback.receivers.size() + other.receivers.size(), 2u);
}

TEST_F(Dispatcher, PermanentFailureIsFinal) {
    auto r = submit(standard());
    cheap1.fail(kind::permanent);
    loop.drain();
    EXPECT_EQ((*r)->status, api::send_status::failed);
    EXPECT_FALSE(cheap2.busy());
}

TEST_F(Dispatcher, EveryModemFailingEndsInFailed) {
    auto r = submit({{"cheap1"}, {"fallback"}});
    cheap1.fail(kind::retry_elsewhere);
    fallback.fail(kind::retry_elsewhere);
    loop.drain();
    EXPECT_EQ((*r)->status, api::send_status::failed);
}

TEST_F(Dispatcher, NoUsableModemAnswersAtOnce) {
    for (auto* m : {&cheap1, &cheap2, &fallback, &other}) m->usable_ = false;
    auto r = submit(standard());
    loop.drain();
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->status, api::send_status::no_modem);
    auto none = submit({});
    loop.drain();
    EXPECT_EQ((*none)->status, api::send_status::no_modem);
}

TEST_F(Dispatcher, AModemComingUpIsWaitedFor) {
    for (auto* m : {&cheap1, &cheap2, &fallback, &other}) m->usable_ = false;
    cheap1.coming_up_ = true;
    auto r = submit(standard());
    loop.drain();
    EXPECT_FALSE(r->has_value());
    cheap1.coming_up_ = false;
    cheap1.usable_ = true;
    d.pump();
    EXPECT_TRUE(cheap1.busy());
}

TEST_F(Dispatcher, ExpiredWhileQueuedIsDroppedNeverSentLate) {
    submit(standard());
    submit(standard());
    auto late = submit(standard(), clock.unix_seconds() + 5);
    loop.advance(std::chrono::seconds(6));
    ASSERT_TRUE(late->has_value());
    EXPECT_EQ((*late)->status, api::send_status::expired);
    cheap1.ok();
    cheap2.ok();
    EXPECT_FALSE(cheap1.busy());
    EXPECT_EQ(cheap1.receivers.size() + cheap2.receivers.size(), 2u);
    EXPECT_EQ(d.stats().expired, 1u);
}

TEST_F(Dispatcher, AlreadyExpiredIsNotQueued) {
    auto r = submit(standard(), clock.unix_seconds() - 1);
    loop.drain();
    EXPECT_EQ((*r)->status, api::send_status::expired);
    EXPECT_FALSE(cheap1.busy());
}

TEST_F(Dispatcher, BoundedQueueSaysWhenFull) {
    for (auto* m : {&cheap1, &cheap2}) d.remove_member(m->id());
    cheap1.usable_ = false;
    cheap1.coming_up_ = true;
    d.add_member(&cheap1);
    for (int i = 0; i < 3; ++i) submit({{"cheap1"}});
    auto r = submit({{"cheap1"}});
    loop.drain();
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->status, api::send_status::queue_full);
    EXPECT_EQ(d.queued(), 3u);
    d.fail_queued("shutting down");
    EXPECT_EQ(d.queued(), 0u);
}

// ---- bounded wait (sms.max_queue_wait_s): cheapest tier first, but not at any price in time

TEST_F(Dispatcher, ABusyCheapTierPastTheWaitBoundOverflowsToTheNextTier) {
    d.set_max_queue_wait(std::chrono::seconds(10));
    submit(standard());
    submit(standard());
    auto third = submit(standard());
    // Both cheap modems hang on their sends: the third message waits for them
    // while its estimate fits the bound...
    loop.advance(std::chrono::seconds(6));
    EXPECT_FALSE(fallback.busy());
    EXPECT_EQ(d.queued(), 1u);
    // ...and is handed to the next tier by a timer, with no other event, once it no longer does.
    loop.advance(std::chrono::seconds(4));
    EXPECT_TRUE(fallback.busy());
    EXPECT_EQ(d.queued(), 0u);
    EXPECT_EQ(d.stats().overflowed, 1u);
    fallback.ok();
    loop.drain();
    ASSERT_TRUE(third->has_value());
    EXPECT_EQ((*third)->modem_id, "fallback");
}

TEST_F(Dispatcher, AModemAnsweringInNoMeasurableTimeStillGetsAFiniteEstimate) {
    // Both cheap modems measured at 0 ms (a simulator without delay): the
    // estimate must stay a number, or the waiting message would never overflow.
    submit(standard());
    submit(standard());
    cheap1.ok();
    cheap2.ok();
    d.set_max_queue_wait(std::chrono::seconds(10));
    submit(standard());
    submit(standard());
    auto third = submit(standard());
    EXPECT_FALSE(fallback.busy());
    loop.advance(std::chrono::seconds(10));
    EXPECT_TRUE(fallback.busy());
    loop.drain();
    EXPECT_FALSE(third->has_value());
}

TEST_F(Dispatcher, AZeroWaitBoundOverflowsAtOnce) {
    d.set_max_queue_wait(std::chrono::seconds(0));
    submit(standard());
    submit(standard());
    submit(standard());
    EXPECT_TRUE(fallback.busy());
    submit(standard());
    EXPECT_TRUE(other.busy());
}

TEST_F(Dispatcher, AMessageExpiringWhileItWaitsWithinTheBoundIsStillDropped) {
    d.set_max_queue_wait(std::chrono::seconds(60));
    submit(standard());
    submit(standard());
    auto late = submit(standard(), clock.unix_seconds() + 3);
    loop.advance(std::chrono::seconds(4));
    ASSERT_TRUE(late->has_value());
    EXPECT_EQ((*late)->status, api::send_status::expired);
    EXPECT_FALSE(fallback.busy());
}

namespace {

// A modem that answers every send after a fixed time, on the test's clock.
struct timed_member : pool::member {
    timed_member(std::string name, test::manual_loop& loop, std::chrono::milliseconds took)
        : name_(std::move(name)), loop_(loop), took_(took) {}
    const std::string& id() const override { return name_; }
    bool usable() const override { return true; }
    bool coming_up() const override { return false; }
    bool idle() const override { return !busy_; }
    void send(const api::outgoing_sms& msg, std::function<void(member_result)> done) override {
        busy_ = true;
        receivers.push_back(msg.receiver);
        cancel_ = loop_.scheduler()(took_, [this, done = std::move(done)] {
            busy_ = false;
            member_result r;
            r.ok = true;
            r.parts = r.parts_accepted = 1;
            done(r);
        });
    }
    std::string name_;
    test::manual_loop& loop_;
    std::chrono::milliseconds took_;
    bool busy_ = false;
    std::function<void()> cancel_;
    std::vector<std::string> receivers;
};

// Four modems of 250 ms each, "def" the default modem, routed by the real routing table.
class DispatcherBurst : public ::testing::Test {
protected:
    DispatcherBurst()
        : loop(clock), d(clock, loop.executor(), loop.scheduler(), 1000),
          routes({{"def", true, true, true, {}}, {"a", true, true, false, {}}, {"b", true, true, false, {}}, {"c", true, true, false, {}}}, 5) {
        for (auto* m : {&def, &a, &b, &c}) d.add_member(m);
        d.set_max_queue_wait(std::chrono::seconds(10));
    }

    std::shared_ptr<std::optional<api::send_result>> send(int i) {
        api::outgoing_sms msg;
        msg.receiver = "628123" + std::to_string(100000 + i);
        msg.text = core::secure_string("Your OTP is 123456");
        auto tiers = routes.tiers(msg.receiver);
        auto out = std::make_shared<std::optional<api::send_result>>();
        d.submit(std::move(msg), std::move(tiers), [out](api::send_result r) { *out = r; });
        return out;
    }
    // Advances in small steps until every answer is in; the elapsed time, or nullopt past `limit`.
    std::optional<std::chrono::milliseconds> run(const std::vector<std::shared_ptr<std::optional<api::send_result>>>& results,
                                                 std::chrono::milliseconds limit) {
        const auto start = clock.now();
        for (;;) {
            loop.drain();
            if (std::all_of(results.begin(), results.end(), [](const auto& r) { return r->has_value(); }))
                return std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - start);
            if (clock.now() - start > limit) return std::nullopt;
            loop.advance(std::chrono::milliseconds(10));
        }
    }

    core::ManualClock clock;
    test::manual_loop loop;
    pool::dispatcher d;
    pool::routing_table routes;
    timed_member def{"def", loop, std::chrono::milliseconds(250)}, a{"a", loop, std::chrono::milliseconds(250)},
        b{"b", loop, std::chrono::milliseconds(250)}, c{"c", loop, std::chrono::milliseconds(250)};
};

}  // namespace

TEST_F(DispatcherBurst, TwoHundredUnroutedOtpsOnOneDefaultModemFinishWithinTheWaitBound) {
    // Before this bound, all 200 waited for the default modem: 200 x 250 ms = 50 s.
    std::vector<std::shared_ptr<std::optional<api::send_result>>> results;
    for (int i = 0; i < 200; ++i) results.push_back(send(i));
    auto took = run(results, std::chrono::seconds(60));
    ASSERT_TRUE(took.has_value());
    // Four modems need 12.5 s for 200 sends; the bound allows 10 s + a few.
    EXPECT_LE(*took, std::chrono::seconds(13));
    for (const auto& r : results) EXPECT_EQ((*r)->status, api::send_status::sent);
    // The cheap modem went first and carried its share: about what it sends in 10 s, and more.
    ASSERT_FALSE(def.receivers.empty());
    EXPECT_EQ(def.receivers.front(), "628123100000");
    EXPECT_GE(def.receivers.size(), 40u);
    for (auto* m : {&a, &b, &c}) EXPECT_GT(m->receivers.size(), 0u) << m->id();
    EXPECT_EQ(def.receivers.size() + a.receivers.size() + b.receivers.size() + c.receivers.size(), 200u);
    EXPECT_GT(d.stats().overflowed, 0u);
    EXPECT_EQ(d.send_time("def"), std::chrono::milliseconds(250));
}

TEST_F(DispatcherBurst, ABurstTheDefaultModemClearsWithinTheBoundStaysOnIt) {
    // Once the default modem's pace is known, 30 messages (7.5 s) fit the 10 s bound: no costlier SIM is used.
    auto first = send(0);
    ASSERT_TRUE(run({first}, std::chrono::seconds(5)).has_value());
    std::vector<std::shared_ptr<std::optional<api::send_result>>> results;
    for (int i = 1; i <= 30; ++i) results.push_back(send(i));
    auto took = run(results, std::chrono::seconds(60));
    ASSERT_TRUE(took.has_value());
    EXPECT_EQ(def.receivers.size(), 31u);
    EXPECT_EQ(a.receivers.size() + b.receivers.size() + c.receivers.size(), 0u);
    EXPECT_EQ(d.stats().overflowed, 0u);
}

TEST(DispatcherConfig, MaxQueueWaitDefaultsToTenSecondsAndIsBounded) {
    auto r = config::parse_config("{}");
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_EQ(r.cfg->sms.max_queue_wait_s, 10);
    EXPECT_TRUE(config::parse_config(R"({"sms": {"max_queue_wait_s": 0}})").ok());
    auto bad = config::parse_config(R"({"sms": {"max_queue_wait_s": 3601}})");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error_text().find("sms.max_queue_wait_s"), std::string::npos) << bad.error_text();
}
