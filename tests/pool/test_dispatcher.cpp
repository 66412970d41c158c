// The dispatcher's policy step by step, with modems whose answers the test
// decides. The same policy runs against simulated modems in test_pool.cpp.
#include "otppi/pool/dispatcher.hpp"
#include "support/manual_loop.hpp"

#include <gtest/gtest.h>

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
