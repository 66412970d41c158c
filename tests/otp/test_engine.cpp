#include "otppi/otp/engine.hpp"

#include "otppi/core/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

namespace otppi::otp {
namespace {

using namespace std::chrono_literals;

std::vector<std::uint8_t> test_key() {
    std::vector<std::uint8_t> key(64);
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(0x5a ^ (i * 13));
    return key;
}

issue_request make_issue(std::string_view reference, std::string_view receiver = "628126666666") {
    issue_request r;
    r.reference = reference;
    r.receiver = receiver;
    r.params = {"p1", "p2", "p3", "p4"};
    return r;
}

verify_request make_verify(std::string_view reference, std::string_view code, std::string_view receiver = "628126666666") {
    verify_request r;
    r.api_user = "alice";  // the user issue_ok() issues as
    r.reference = reference;
    r.receiver = receiver;
    r.params = {"p1", "p2", "p3", "p4"};
    r.code = code;
    return r;
}

// A code guaranteed to differ from `code` (same length, all digits).
std::string wrong(const secure_string& code) {
    std::string w(code.view());
    w[0] = w[0] == '9' ? '0' : static_cast<char>(w[0] + 1);
    return w;
}

class OtpEngineTest : public ::testing::Test {
protected:
    engine_config config_for_test() {
        engine_config c;
        c.user_max_issues = 0;  // most tests issue many OTPs as one user
        return c;
    }
    void rebuild(const engine_config& c) { eng_ = std::make_unique<engine>(c, key_, clock_); }
    void SetUp() override { rebuild(config_for_test()); }

    std::string issue_ok(std::string_view reference, std::string_view receiver = "628126666666") {
        auto r = eng_->issue(make_issue(reference, receiver), "alice");
        EXPECT_EQ(r.status, otp_status::ok) << to_string(r.status);
        return std::string(r.code.view());
    }

    core::ManualClock clock_;
    std::vector<std::uint8_t> key_ = test_key();
    std::unique_ptr<engine> eng_;
};

TEST_F(OtpEngineTest, IssueThenVerifyOnce) {
    auto r = eng_->issue(make_issue("ref-1"), "alice");
    ASSERT_EQ(r.status, otp_status::ok);
    ASSERT_EQ(r.code.size(), 6u);
    EXPECT_EQ(r.ttl, 180s);
    EXPECT_EQ(r.expires_at_unix, clock_.unix_seconds() + 180);
    EXPECT_EQ(r.deadline, clock_.now() + 180s);
    EXPECT_EQ(eng_->size(), 1u);

    EXPECT_EQ(eng_->verify(make_verify("ref-1", r.code.view())).status, otp_status::ok);
    EXPECT_EQ(eng_->size(), 0u);
    // Single use: the same right code again is refused.
    EXPECT_EQ(eng_->verify(make_verify("ref-1", r.code.view())).status, otp_status::expired);
}

TEST_F(OtpEngineTest, StoresOnlyTheKeyedMacOfTheUnambiguousEncoding) {
    auto r = eng_->issue(make_issue("ref-1"), "alice");
    ASSERT_EQ(r.status, otp_status::ok);
    // Recompute what the engine must have stored, from the documented format.
    hmac_sha512 mac(key_);
    hmac_sha512::digest ref_mac, expected;
    // Under the default reference_scope::user, the key binds the API user too.
    const std::string_view ref_fields[] = {"alice", "ref-1"};
    ASSERT_TRUE(mac.mac_fields("otppi/otp/v1/user-reference", ref_fields, ref_mac));
    ref_key key;
    std::memcpy(key.data(), ref_mac.data(), key.size());
    const std::string_view code_fields[] = {"ref-1", "628126666666", "p1", "p2", "p3", "p4", r.code.view()};
    ASSERT_TRUE(mac.mac_fields("otppi/otp/v1/code", code_fields, expected));

    const store::entry* e = eng_->otp_store().peek(key, clock_.now());
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->digest, expected);
    // And the code's digits appear nowhere in the entry.
    const auto* bytes = reinterpret_cast<const char*>(e);
    EXPECT_EQ(std::string_view(bytes, sizeof *e).find(r.code.view()), std::string_view::npos);
}

TEST_F(OtpEngineTest, ExpiresExactlyAtTheDeadline) {
    const std::string code = issue_ok("ref-1");
    clock_.advance(180s - 1ms);
    auto st = eng_->status("ref-1", "alice");
    EXPECT_EQ(st.status, otp_status::ok);
    EXPECT_EQ(st.remaining, 1s);  // rounded up, never 0 while live
    clock_.advance(1ms);
    EXPECT_EQ(eng_->status("ref-1", "alice").status, otp_status::expired);
    EXPECT_EQ(eng_->verify(make_verify("ref-1", code)).status, otp_status::expired);
}

TEST_F(OtpEngineTest, ClientExpirationIsHonouredButCappedAtTenMinutes) {
    auto req = make_issue("short");
    req.expiration = clock_.unix_seconds() + 60;
    auto r = eng_->issue(req, "alice");
    ASSERT_EQ(r.status, otp_status::ok);
    EXPECT_EQ(r.ttl, 60s);

    req = make_issue("long");
    req.expiration = clock_.unix_seconds() + 3600;
    r = eng_->issue(req, "alice");
    ASSERT_EQ(r.status, otp_status::ok);
    EXPECT_EQ(r.ttl, 600s);
    EXPECT_EQ(r.expires_at_unix, clock_.unix_seconds() + 600);

    req = make_issue("absurd");
    req.expiration = INT64_MAX;  // must not overflow
    EXPECT_EQ(eng_->issue(req, "alice").ttl, 600s);

    const std::string code(r.code.view());
    clock_.advance(600s - 1ms);
    EXPECT_EQ(eng_->status("long", "alice").status, otp_status::ok);
    clock_.advance(1ms);
    EXPECT_EQ(eng_->verify(make_verify("long", code)).status, otp_status::expired);
}

TEST_F(OtpEngineTest, PastOrPresentExpirationRejected) {
    for (std::int64_t delta : {-3600, -1, 0}) {
        auto req = make_issue("ref-1");
        req.expiration = clock_.unix_seconds() + delta;
        auto r = eng_->issue(req, "alice");
        EXPECT_EQ(r.status, otp_status::expired) << delta;
        EXPECT_TRUE(r.code.empty());
    }
    EXPECT_EQ(eng_->size(), 0u);
    EXPECT_EQ(eng_->receiver_throttle().size(), 0u);  // no budget spent
}

TEST_F(OtpEngineTest, LiveReferenceIsDuplicatedAndKeepsItsCode) {
    engine_config c = config_for_test();
    c.scope = reference_scope::global;
    rebuild(c);
    const std::string code = issue_ok("ref-1");
    auto again = eng_->issue(make_issue("ref-1", "628111111111"), "bob");  // global: one reference for everyone
    EXPECT_EQ(again.status, otp_status::duplicated);
    EXPECT_TRUE(again.code.empty());
    EXPECT_EQ(eng_->verify(make_verify("ref-1", code)).status, otp_status::ok);
}

TEST_F(OtpEngineTest, ReferenceReusableAfterConsumptionAndAfterExpiry) {
    std::string code = issue_ok("ref-1");
    ASSERT_EQ(eng_->verify(make_verify("ref-1", code)).status, otp_status::ok);
    code = issue_ok("ref-1");  // after consumption

    clock_.advance(180s);  // expired, not swept
    const std::string code2 = issue_ok("ref-1");
    EXPECT_EQ(eng_->size(), 1u);
    EXPECT_EQ(eng_->verify(make_verify("ref-1", code2)).status, otp_status::ok);

    issue_ok("ref-1");
    clock_.advance(180s);
    eng_->sweep();  // expired and swept
    EXPECT_EQ(eng_->size(), 0u);
    issue_ok("ref-1");
}

TEST_F(OtpEngineTest, FiveWrongTriesKillTheCode) {
    const std::string code = issue_ok("ref-1");
    const std::string bad = wrong(secure_string(code));
    for (std::uint32_t left = 4; left >= 1; --left) {
        auto v = eng_->verify(make_verify("ref-1", bad));
        ASSERT_EQ(v.status, otp_status::invalid);
        EXPECT_EQ(v.attempts_left, left);
        EXPECT_EQ(eng_->status("ref-1", "alice").attempts_left, left);
    }
    EXPECT_EQ(eng_->verify(make_verify("ref-1", bad)).status, otp_status::attempts_exhausted);
    EXPECT_EQ(eng_->size(), 0u);
    // The right code after that is too late.
    EXPECT_EQ(eng_->verify(make_verify("ref-1", code)).status, otp_status::expired);
}

TEST_F(OtpEngineTest, MalformedCodesCountAsWrongTries) {
    const std::string code = issue_ok("ref-1");
    EXPECT_EQ(eng_->verify(make_verify("ref-1", "")).status, otp_status::invalid);
    EXPECT_EQ(eng_->verify(make_verify("ref-1", code + "0")).status, otp_status::invalid);
    EXPECT_EQ(eng_->verify(make_verify("ref-1", "abcdef")).status, otp_status::invalid);
    EXPECT_EQ(eng_->status("ref-1", "alice").attempts_left, 2u);
    EXPECT_EQ(eng_->verify(make_verify("ref-1", code)).status, otp_status::ok);
}

TEST_F(OtpEngineTest, OtherReceiverOrParamsAreInvalidAndCostAnAttempt) {
    const std::string code = issue_ok("ref-1");
    EXPECT_EQ(eng_->verify(make_verify("ref-1", code, "628999999999")).status, otp_status::invalid);
    for (std::size_t i = 0; i < 4; ++i) {
        auto v = make_verify("ref-1", code);
        v.params[i] = "other";
        auto result = eng_->verify(v);
        if (i < 3) {
            EXPECT_EQ(result.status, otp_status::invalid) << i;
        } else {
            EXPECT_EQ(result.status, otp_status::attempts_exhausted);
        }
    }
    EXPECT_EQ(eng_->verify(make_verify("ref-1", code)).status, otp_status::expired);
}

TEST_F(OtpEngineTest, ParamsAreNotInterchangeable) {
    // ("a:b","c") at issue vs ("a","b:c") at verify: OTP-Pi's ':' join made
    // these the same hash input.
    auto req = make_issue("ref-1");
    req.params = {"a:b", "c", "", ""};
    auto r = eng_->issue(req, "alice");
    ASSERT_EQ(r.status, otp_status::ok);
    auto v = make_verify("ref-1", r.code.view());
    v.params = {"a", "b:c", "", ""};
    EXPECT_EQ(eng_->verify(v).status, otp_status::invalid);
    v.params = {"a:b", "c", "", ""};
    EXPECT_EQ(eng_->verify(v).status, otp_status::ok);
}

TEST_F(OtpEngineTest, StatusDoesNotConsume) {
    const std::string code = issue_ok("ref-1");
    for (int i = 0; i < 20; ++i) {
        auto st = eng_->status("ref-1", "alice");
        EXPECT_EQ(st.status, otp_status::ok);
        EXPECT_EQ(st.attempts_left, 5u);
        EXPECT_EQ(st.remaining, 180s);
    }
    clock_.advance(100s + 500ms);
    EXPECT_EQ(eng_->status("ref-1", "alice").remaining, 80s);  // 79.5 s rounded up
    EXPECT_EQ(eng_->status("unknown", "alice").status, otp_status::expired);
    EXPECT_EQ(eng_->verify(make_verify("ref-1", code)).status, otp_status::ok);
}

TEST_F(OtpEngineTest, CancelFreesTheReference) {
    const std::string code = issue_ok("ref-1");
    EXPECT_TRUE(eng_->cancel("ref-1", "alice"));
    EXPECT_FALSE(eng_->cancel("ref-1", "alice"));
    EXPECT_FALSE(eng_->cancel("never-issued", "alice"));
    EXPECT_EQ(eng_->verify(make_verify("ref-1", code)).status, otp_status::expired);
    issue_ok("ref-1");
}

TEST_F(OtpEngineTest, UnknownReferenceIsExpired) {
    EXPECT_EQ(eng_->verify(make_verify("never-issued", "123456")).status, otp_status::expired);
}

TEST_F(OtpEngineTest, ReceiverThrottleFivePerTenMinutes) {
    for (int i = 0; i < 5; ++i) {
        issue_ok("ref-" + std::to_string(i));
        clock_.advance(1min);
    }
    // t = 5 min: a sixth OTP for the same receiver is refused...
    auto r = eng_->issue(make_issue("ref-5"), "alice");
    EXPECT_EQ(r.status, otp_status::receiver_throttled);
    EXPECT_TRUE(r.code.empty());
    EXPECT_EQ(r.retry_at, core::Clock::time_point{} + 10min);
    // ...another receiver is not affected...
    issue_ok("ref-other", "628222222222");
    // ...and the window slides: at t = 10 min the first issue leaves it.
    clock_.advance(5min - 1s);
    EXPECT_EQ(eng_->issue(make_issue("ref-5"), "alice").status, otp_status::receiver_throttled);
    clock_.advance(1s);
    issue_ok("ref-5");
    EXPECT_EQ(eng_->issue(make_issue("ref-6"), "alice").status, otp_status::receiver_throttled);
}

TEST_F(OtpEngineTest, RefusedIssuesDoNotSpendTheReceiverBudget) {
    const std::string code = issue_ok("ref-0");
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(eng_->issue(make_issue("ref-0"), "alice").status, otp_status::duplicated);
        auto past = make_issue("ref-x");
        past.expiration = clock_.unix_seconds() - 1;
        EXPECT_EQ(eng_->issue(past, "alice").status, otp_status::expired);
    }
    for (int i = 1; i < 5; ++i) issue_ok("ref-" + std::to_string(i));
}

TEST_F(OtpEngineTest, PerUserRateLimit) {
    engine_config c = config_for_test();
    c.user_max_issues = 3;
    c.user_window = 60s;
    c.receiver_max_issues = 0;  // off
    rebuild(c);
    for (int i = 0; i < 3; ++i) issue_ok("ref-" + std::to_string(i));
    auto r = eng_->issue(make_issue("ref-3"), "alice");
    EXPECT_EQ(r.status, otp_status::user_rate_limited);
    EXPECT_EQ(r.retry_at, core::Clock::time_point{} + 60s);
    EXPECT_EQ(eng_->issue(make_issue("ref-3"), "bob").status, otp_status::ok);
    clock_.advance(60s);
    issue_ok("ref-4");
    // Receiver throttle off: 5+ OTPs for one receiver went through.
    EXPECT_EQ(eng_->size(), 5u);
}

TEST_F(OtpEngineTest, StoreFullThenFreedBySweep) {
    engine_config c = config_for_test();
    c.capacity = 2;
    c.receiver_max_issues = 0;
    rebuild(c);
    issue_ok("a");
    issue_ok("b");
    EXPECT_EQ(eng_->issue(make_issue("c"), "alice").status, otp_status::store_full);
    ASSERT_TRUE(eng_->next_deadline().has_value());
    EXPECT_EQ(*eng_->next_deadline(), clock_.now() + 180s);
    clock_.advance(180s);
    EXPECT_GE(eng_->sweep(), 2u);
    EXPECT_EQ(eng_->size(), 0u);
    issue_ok("c");
}

TEST_F(OtpEngineTest, SweepAlsoForgetsIdleReceivers) {
    issue_ok("ref-1");
    EXPECT_EQ(eng_->receiver_throttle().size(), 1u);
    clock_.advance(180s);
    eng_->sweep();
    EXPECT_EQ(eng_->size(), 0u);
    EXPECT_EQ(eng_->receiver_throttle().size(), 1u);  // its window is 10 min
    ASSERT_TRUE(eng_->next_deadline().has_value());
    EXPECT_EQ(*eng_->next_deadline(), core::Clock::time_point{} + 10min);
    clock_.advance(420s);
    eng_->sweep();
    EXPECT_EQ(eng_->receiver_throttle().size(), 0u);
    EXPECT_FALSE(eng_->next_deadline().has_value());
}

TEST_F(OtpEngineTest, CodeLengthsFourAndTen) {
    for (std::size_t len : {4u, 10u}) {
        engine_config c = config_for_test();
        c.code_length = len;
        rebuild(c);
        auto r = eng_->issue(make_issue("ref"), "alice");
        ASSERT_EQ(r.status, otp_status::ok);
        ASSERT_EQ(r.code.size(), len);
        for (char ch : r.code.view()) EXPECT_TRUE(ch >= '0' && ch <= '9');
        EXPECT_EQ(eng_->verify(make_verify("ref", r.code.view())).status, otp_status::ok);
    }
}

bool broken_rng(std::uint8_t*, std::size_t) { return false; }

TEST_F(OtpEngineTest, RandomFailureIsAnErrorNotAWeakCode) {
    eng_ = std::make_unique<engine>(config_for_test(), key_, clock_, &broken_rng);
    auto r = eng_->issue(make_issue("ref-1"), "alice");
    EXPECT_EQ(r.status, otp_status::crypto_failure);
    EXPECT_TRUE(r.code.empty());
    EXPECT_EQ(eng_->size(), 0u);
    EXPECT_EQ(eng_->receiver_throttle().size(), 0u);
}

TEST_F(OtpEngineTest, BadRequests) {
    EXPECT_EQ(eng_->issue(make_issue(""), "alice").status, otp_status::bad_request);
    EXPECT_EQ(eng_->issue(make_issue("ref", ""), "alice").status, otp_status::bad_request);
    const std::string huge(max_field_size + 1, 'x');
    auto req = make_issue("ref");
    req.params[2] = huge;
    EXPECT_EQ(eng_->issue(req, "alice").status, otp_status::bad_request);
    EXPECT_EQ(eng_->issue(make_issue(huge), "alice").status, otp_status::bad_request);
    EXPECT_EQ(eng_->verify(make_verify("", "123456")).status, otp_status::bad_request);
    const std::string code = issue_ok("ref");
    EXPECT_EQ(eng_->verify(make_verify("ref", huge)).status, otp_status::bad_request);
    EXPECT_EQ(eng_->status("ref", "alice").attempts_left, 5u);  // not charged
    EXPECT_EQ(eng_->size(), 1u);
}

TEST(OtpEngineConfig, DefaultsAreValidAndMatchTheBrief) {
    engine_config c;
    EXPECT_FALSE(validate(c).has_value());
    EXPECT_EQ(c.code_length, 6u);
    EXPECT_EQ(c.default_expiration, 180s);
    EXPECT_EQ(c.max_expiration, 600s);
    EXPECT_EQ(c.max_attempts, 5u);
    EXPECT_EQ(c.receiver_max_issues, 5u);
    EXPECT_EQ(c.receiver_window, 600s);
}

TEST(OtpEngineConfig, BadValuesNamed) {
    auto check = [](auto mutate, std::string_view field) {
        engine_config c;
        mutate(c);
        auto error = validate(c);
        ASSERT_TRUE(error.has_value()) << field;
        EXPECT_NE(error->find(field), std::string::npos) << *error;
        core::ManualClock clock;
        EXPECT_THROW(engine(c, test_key(), clock), std::invalid_argument);
    };
    check([](engine_config& c) { c.code_length = 3; }, "code_length");
    check([](engine_config& c) { c.code_length = 11; }, "code_length");
    check([](engine_config& c) { c.max_expiration = 601s; }, "max_expiration");
    check([](engine_config& c) { c.default_expiration = 0s; }, "default_expiration");
    check(
        [](engine_config& c) {
            c.default_expiration = 400s;
            c.max_expiration = 300s;
        },
        "default_expiration");
    check([](engine_config& c) { c.max_attempts = 0; }, "max_attempts");
    check([](engine_config& c) { c.max_attempts = 101; }, "max_attempts");
    check([](engine_config& c) { c.receiver_max_issues = 1001; }, "receiver_max_issues");
    check([](engine_config& c) { c.user_window = 0s; }, "user_window");
    check([](engine_config& c) { c.capacity = 0; }, "capacity");
}

TEST(OtpEngineConfig, KeyMustBe64NonZeroBytes) {
    core::ManualClock clock;
    std::vector<std::uint8_t> short_key(32, 1), zero_key(64, 0);
    EXPECT_THROW(engine(engine_config{}, short_key, clock), std::invalid_argument);
    EXPECT_THROW(engine(engine_config{}, zero_key, clock), std::invalid_argument);
}

TEST(OtpEngineStatus, ToStringCoversAll) {
    EXPECT_EQ(to_string(otp_status::ok), "ok");
    EXPECT_EQ(to_string(otp_status::duplicated), "duplicated");
    EXPECT_EQ(to_string(otp_status::expired), "expired");
    EXPECT_EQ(to_string(otp_status::invalid), "invalid");
    EXPECT_EQ(to_string(otp_status::attempts_exhausted), "attempts_exhausted");
    EXPECT_EQ(to_string(otp_status::receiver_throttled), "receiver_throttled");
    EXPECT_EQ(to_string(otp_status::user_rate_limited), "user_rate_limited");
    EXPECT_EQ(to_string(otp_status::store_full), "store_full");
    EXPECT_EQ(to_string(otp_status::bad_request), "bad_request");
    EXPECT_EQ(to_string(otp_status::crypto_failure), "crypto_failure");
}

// Issue #17: an API user could check, verify or burn another API user's OTP
// by its reference. Under reference_scope::user (the default) the reference
// names an OTP only for the user that requested it.
TEST_F(OtpEngineTest, AnotherUserCannotVerifyCheckOrBurnAnOtpByItsReference) {
    ASSERT_EQ(config_for_test().scope, reference_scope::user);  // the default
    const std::string code = issue_ok("ref-1");                 // alice's
    auto as_bob = make_verify("ref-1", code);
    as_bob.api_user = "bob";
    // Check: unknown to bob, and nothing consumed.
    EXPECT_EQ(eng_->status("ref-1", "bob").status, otp_status::expired);
    // Burn: bob's wrong guesses do not touch alice's attempts.
    const std::string wrong_code = wrong(secure_string(code));  // named: the request only views it
    auto wrong_as_bob = make_verify("ref-1", wrong_code);
    wrong_as_bob.api_user = "bob";
    for (int i = 0; i < 10; ++i) EXPECT_EQ(eng_->verify(wrong_as_bob).status, otp_status::expired);
    EXPECT_EQ(eng_->status("ref-1", "alice").attempts_left, 5u);
    // Verify: even the right code is not bob's to use, and does not consume it.
    EXPECT_EQ(eng_->verify(as_bob).status, otp_status::expired);
    EXPECT_FALSE(eng_->cancel("ref-1", "bob"));
    // Bob may hold the same reference at the same time.
    auto bobs = eng_->issue(make_issue("ref-1"), "bob");
    ASSERT_EQ(bobs.status, otp_status::ok);
    EXPECT_EQ(eng_->size(), 2u);
    EXPECT_EQ(eng_->verify(make_verify("ref-1", code)).status, otp_status::ok);  // alice, her code
    as_bob.code = bobs.code.view();
    EXPECT_EQ(eng_->verify(as_bob).status, otp_status::ok);
}

TEST_F(OtpEngineTest, GlobalReferenceScopeLetsAnyUserVerifyCheckAndBurnAsOtpPiDid) {
    engine_config c = config_for_test();
    c.scope = reference_scope::global;
    rebuild(c);
    const std::string code = issue_ok("ref-1");  // alice's
    EXPECT_EQ(eng_->status("ref-1", "bob").status, otp_status::ok);
    const std::string wrong_code = wrong(secure_string(code));  // named: the request only views it
    auto wrong_as_bob = make_verify("ref-1", wrong_code);
    wrong_as_bob.api_user = "bob";
    EXPECT_EQ(eng_->verify(wrong_as_bob).status, otp_status::invalid);
    EXPECT_EQ(eng_->status("ref-1", "alice").attempts_left, 4u);
    auto as_bob = make_verify("ref-1", code);
    as_bob.api_user = "bob";
    EXPECT_EQ(eng_->verify(as_bob).status, otp_status::ok);
    issue_ok("ref-2");
    EXPECT_TRUE(eng_->cancel("ref-2", "bob"));
}

// The user and the reference are two length-prefixed fields of the key:
// user "ab" with reference "c" is not user "a" with reference "bc".
TEST_F(OtpEngineTest, UserScopedKeysDoNotCollideAcrossTheUserReferenceBoundary) {
    auto r = eng_->issue(make_issue("c"), "ab");
    ASSERT_EQ(r.status, otp_status::ok);
    EXPECT_EQ(eng_->status("bc", "a").status, otp_status::expired);
    EXPECT_EQ(eng_->status("c", "ab").status, otp_status::ok);
}

}  // namespace
}  // namespace otppi::otp
