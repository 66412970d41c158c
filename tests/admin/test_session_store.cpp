#include "otppi/admin/session_store.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace otppi;
using namespace std::chrono_literals;

namespace {
struct Sessions : ::testing::Test {
    core::ManualClock clock;
    admin::session_store store{clock, 1800s, 43200s, 4};
};
}  // namespace

TEST_F(Sessions, TokensAre256BitBase64UrlAndDistinct) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        auto t = admin::session_store::random_token();
        ASSERT_EQ(t.size(), 43u);
        ASSERT_EQ(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
        seen.insert(t);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST_F(Sessions, AnonymousSessionCarriesCsrfTokenAndExpiresWhenIdle) {
    std::string id;
    auto& s = store.create(id);
    EXPECT_FALSE(s.logged_in());
    EXPECT_EQ(s.csrf_token.size(), 43u);
    clock.advance(1799s);
    ASSERT_NE(store.find(id), nullptr);  // refreshes the idle timer
    clock.advance(1799s);
    ASSERT_NE(store.find(id), nullptr);
    clock.advance(1800s);
    EXPECT_EQ(store.find(id), nullptr);
    EXPECT_EQ(store.size(), 0u);
}

TEST_F(Sessions, LoginRotatesIdAndTokenAndForgetsTheOldId) {
    std::string anon;
    const auto anon_token = store.create(anon).csrf_token;
    std::string id;
    auto& s = store.login(anon, "alice", id);
    EXPECT_NE(id, anon);
    EXPECT_NE(s.csrf_token, anon_token);
    EXPECT_EQ(store.find(anon), nullptr) << "a session id planted before login must be worthless";
    ASSERT_NE(store.find(id), nullptr);
    EXPECT_EQ(store.find(id)->user, "alice");
}

TEST_F(Sessions, AbsoluteTimeoutEndsEvenAnActiveSession) {
    std::string id;
    store.login("", "alice", id);
    for (int i = 0; i < 24; ++i) {
        clock.advance(1799s);
        ASSERT_NE(store.find(id), nullptr) << i;
    }
    clock.advance(1799s);  // 25 * 1799 s > 12 h since login
    EXPECT_EQ(store.find(id), nullptr);
}

TEST_F(Sessions, RemoveUserEndsItsOtherSessions) {
    std::string a1, a2, b;
    store.login("", "alice", a1);
    store.login("", "alice", a2);
    store.login("", "bob", b);
    store.remove_user("alice", a2);
    EXPECT_EQ(store.find(a1), nullptr);
    EXPECT_NE(store.find(a2), nullptr);
    EXPECT_NE(store.find(b), nullptr);
    store.remove(b);
    EXPECT_EQ(store.find(b), nullptr);
}

TEST_F(Sessions, AFloodOfAnonymousSessionsDoesNotEvictLoggedInOnes) {
    std::string alice;
    store.login("", "alice", alice);
    for (int i = 0; i < 100; ++i) {
        std::string id;
        store.create(id);
        clock.advance(1s);
    }
    EXPECT_LE(store.size(), 4u);
    EXPECT_NE(store.find(alice), nullptr);
}

TEST_F(Sessions, RejectsOversizedOrUnknownIds) {
    EXPECT_EQ(store.find(""), nullptr);
    EXPECT_EQ(store.find(std::string(500, 'a')), nullptr);
    EXPECT_EQ(store.find("not-a-session"), nullptr);
}

TEST_F(Sessions, SessionsKeepTheCredentialStampTheyLoggedInWithAndRemoveIfEndsStaleOnes) {
    std::string a1, a2, b, anon;
    store.login("", "alice", a1, "hash-1");
    store.login("", "alice", a2, "hash-2");
    store.login("", "bob", b, "hash-b");
    store.create(anon);
    EXPECT_EQ(store.find(a1)->credential, "hash-1");
    // alice's record now has hash-2: only her session opened with hash-1 goes.
    EXPECT_EQ(store.remove_if([](const admin::admin_session& s) { return s.user == "alice" && s.credential != "hash-2"; }), 1u);
    EXPECT_EQ(store.find(a1), nullptr);
    EXPECT_NE(store.find(a2), nullptr);
    EXPECT_NE(store.find(b), nullptr);
    EXPECT_NE(store.find(anon), nullptr);
}
