#include "otppi/api/authenticator.hpp"
#include "otppi/auth/password.hpp"
#include "otppi/core/files.hpp"
#include "support/manual_loop.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

using namespace otppi;
using api::auth_result;

namespace {

std::string basic(const std::string& user, const std::string& password) { return "Basic " + auth::base64_encode(user + ":" + password); }

class Authenticator : public ::testing::Test {
protected:
    Authenticator() : users(dir.path()), loop(clock) {
        users.put(auth::user_kind::api, "app", {auth::hash_password("s3cret-pass", {10, 8, 1}), 0});
        users.put(auth::user_kind::admin, "admin", {auth::hash_password("admin-pass", {10, 8, 1}), 0});
    }

    std::pair<auth_result, std::string> check(const std::string& header, const std::string& remote = "10.0.0.1") {
        std::optional<std::pair<auth_result, std::string>> out;
        authn.check(header, remote, [&](auth_result r, std::string u) { out.emplace(r, u); });
        loop.drain();
        EXPECT_TRUE(out);
        return out.value_or(std::pair{auth_result::busy, std::string()});
    }

    test::temp_dir dir;
    auth::user_store users;
    core::ManualClock clock;
    test::manual_loop loop;
    int hashes = 0;
    api::authenticator authn{users, clock,
                             [this](std::function<void()> fn) {
                                 ++hashes;
                                 loop.executor()(std::move(fn));
                             },
                             loop.executor(), 5};
};

}  // namespace

TEST_F(Authenticator, AcceptsGoodCredentials) {
    auto [r, user] = check(basic("app", "s3cret-pass"));
    EXPECT_EQ(r, auth_result::ok);
    EXPECT_EQ(user, "app");
}

TEST_F(Authenticator, RejectsWrongPasswordUnknownUserAndEmptyPassword) {
    EXPECT_EQ(check(basic("app", "wrong")).first, auth_result::unauthorized);
    EXPECT_EQ(check(basic("nobody", "s3cret-pass")).first, auth_result::unauthorized);
    // OTP-Pi let an unknown user in with an empty password.
    EXPECT_EQ(check(basic("nobody", "")).first, auth_result::unauthorized);
    EXPECT_EQ(check(basic("app", "")).first, auth_result::unauthorized);
    EXPECT_EQ(check("").first, auth_result::unauthorized);
}

TEST_F(Authenticator, AdminsAreNotApiUsers) { EXPECT_EQ(check(basic("admin", "admin-pass")).first, auth_result::unauthorized); }

TEST_F(Authenticator, UnknownUserCostsASlowHashToo) {
    hashes = 0;
    check(basic("nobody", "whatever"));
    EXPECT_EQ(hashes, 1);
}

TEST_F(Authenticator, MalformedHeaders) {
    for (const char* h : {"Bearer abc", "Basic", "Basic !!!!", "Basic Zm9v", "Basic Zm9vYmFy=", "basic"})
        EXPECT_EQ(check(h, std::string("m-") + h).first, auth_result::malformed) << h;
}

TEST_F(Authenticator, SchemeIsCaseInsensitive) {
    auto h = basic("app", "s3cret-pass");
    h.replace(0, 5, "bAsIc");
    EXPECT_EQ(check(h).first, auth_result::ok);
}

TEST_F(Authenticator, CachesVerifiedCredentialsWithoutRehashing) {
    ASSERT_EQ(check(basic("app", "s3cret-pass")).first, auth_result::ok);
    hashes = 0;
    for (int i = 0; i < 10; ++i) ASSERT_EQ(check(basic("app", "s3cret-pass")).first, auth_result::ok);
    EXPECT_EQ(hashes, 0);
    // A wrong password is never accepted from the cache.
    EXPECT_EQ(check(basic("app", "s3cret-pasS")).first, auth_result::unauthorized);
    // The cache entry ages out when unused for 5 minutes...
    clock.advance(std::chrono::minutes(6));
    hashes = 0;
    EXPECT_EQ(check(basic("app", "s3cret-pass")).first, auth_result::ok);
    EXPECT_EQ(hashes, 1);
}

TEST_F(Authenticator, CacheSlidesWhileUsedButNotForever) {
    ASSERT_EQ(check(basic("app", "s3cret-pass")).first, auth_result::ok);
    hashes = 0;
    for (int i = 0; i < 14; ++i) {  // 56 minutes of steady traffic, a request every 4
        clock.advance(std::chrono::minutes(4));
        ASSERT_EQ(check(basic("app", "s3cret-pass")).first, auth_result::ok);
    }
    EXPECT_EQ(hashes, 0);
    clock.advance(std::chrono::minutes(5));  // an hour after the hash was checked
    EXPECT_EQ(check(basic("app", "s3cret-pass")).first, auth_result::ok);
    EXPECT_EQ(hashes, 1);
}

TEST_F(Authenticator, ACacheHitAnswersAtOnce) {
    ASSERT_EQ(check(basic("app", "s3cret-pass")).first, auth_result::ok);
    bool answered = false;
    authn.check(basic("app", "s3cret-pass"), "10.0.0.1", [&](auth_result r, std::string) { answered = r == auth_result::ok; });
    EXPECT_TRUE(answered);
}

TEST_F(Authenticator, ConcurrentChecksOfTheSameCredentialsShareOneHash) {
    hashes = 0;
    int ok = 0;
    for (int i = 0; i < 20; ++i)
        authn.check(basic("app", "s3cret-pass"), "10.0.0.1", [&](auth_result r, std::string) { ok += r == auth_result::ok; });
    loop.drain();
    EXPECT_EQ(ok, 20);
    EXPECT_EQ(hashes, 1);
    // A different password is not lumped in with them.
    int bad = 0;
    clock.advance(std::chrono::hours(2));
    authn.check(basic("app", "s3cret-pass"), "10.0.0.2", [&](auth_result r, std::string) { ok += r == auth_result::ok; });
    authn.check(basic("app", "other-pass"), "10.0.0.2", [&](auth_result r, std::string) { bad += r == auth_result::unauthorized; });
    loop.drain();
    EXPECT_EQ(ok, 21);
    EXPECT_EQ(bad, 1);
}

TEST_F(Authenticator, PasswordChangeInvalidatesCache) {
    ASSERT_EQ(check(basic("app", "s3cret-pass")).first, auth_result::ok);
    users.put(auth::user_kind::api, "app", {auth::hash_password("new-password", {10, 8, 1}), 0});
    EXPECT_EQ(check(basic("app", "s3cret-pass")).first, auth_result::unauthorized);
    EXPECT_EQ(check(basic("app", "new-password")).first, auth_result::ok);
    users.remove(auth::user_kind::api, "app");
    authn.users_changed();
    EXPECT_EQ(check(basic("app", "new-password")).first, auth_result::unauthorized);
}

TEST_F(Authenticator, ThrottlesFailuresPerAddress) {
    for (int i = 0; i < 5; ++i) EXPECT_EQ(check(basic("app", "guess" + std::to_string(i)), "192.0.2.7").first, auth_result::unauthorized);
    hashes = 0;
    // Even the right password is refused while the address is throttled, and no hash is spent.
    EXPECT_EQ(check(basic("app", "s3cret-pass"), "192.0.2.7").first, auth_result::throttled);
    EXPECT_EQ(hashes, 0);
    // Other addresses are unaffected.
    EXPECT_EQ(check(basic("app", "s3cret-pass"), "192.0.2.8").first, auth_result::ok);
    clock.advance(std::chrono::seconds(61));
    EXPECT_EQ(check(basic("app", "s3cret-pass"), "192.0.2.7").first, auth_result::ok);
}

TEST_F(Authenticator, CheckCachedAnswersOnlyFromTheCache) {
    std::string user;
    EXPECT_FALSE(authn.check_cached(basic("app", "s3cret-pass"), "10.0.0.1", user)) << "not verified yet";
    ASSERT_EQ(check(basic("app", "s3cret-pass")).first, auth_result::ok);
    hashes = 0;
    ASSERT_TRUE(authn.check_cached(basic("app", "s3cret-pass"), "10.0.0.1", user));
    EXPECT_EQ(user, "app");
    const std::string misses[] = {basic("app", "s3cret-pasS"), basic("app", ""), basic("nobody", "s3cret-pass"), "", "Basic !!!!"};
    for (const std::string& h : misses) {
        user.clear();
        EXPECT_FALSE(authn.check_cached(h, "10.0.0.1", user)) << h;
        EXPECT_EQ(user, "");
    }
    EXPECT_EQ(hashes, 0);
    // Misses count no failure: the address is not throttled by them.
    for (int i = 0; i < 10; ++i) authn.check_cached(basic("app", "guess"), "10.0.0.1", user);
    EXPECT_EQ(check(basic("app", "s3cret-pass")).first, auth_result::ok);
    // A throttled address gets nothing from the cache either.
    for (int i = 0; i < 5; ++i) check(basic("app", "guess" + std::to_string(i)), "192.0.2.7");
    EXPECT_FALSE(authn.check_cached(basic("app", "s3cret-pass"), "192.0.2.7", user));
    // Nor after the entry aged out.
    clock.advance(std::chrono::minutes(6));
    EXPECT_FALSE(authn.check_cached(basic("app", "s3cret-pass"), "10.0.0.1", user));
}

TEST_F(Authenticator, PasswordChangedWhileItsHashRanDoesNotLetTheOldPasswordIn) {
    std::vector<std::function<void()>> held;  // the slow hash, run when the test says
    api::authenticator a{users, clock, [&](std::function<void()> fn) { held.push_back(std::move(fn)); }, loop.executor(), 5};
    std::optional<auth_result> got;
    a.check(basic("app", "s3cret-pass"), "10.0.0.1", [&](auth_result r, std::string) { got = r; });
    users.put(auth::user_kind::api, "app", {auth::hash_password("new-password", {10, 8, 1}), 0});
    a.users_changed();
    for (auto& fn : held) fn();
    loop.drain();
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, auth_result::unauthorized);
    std::string user;
    EXPECT_FALSE(a.check_cached(basic("app", "s3cret-pass"), "10.0.0.1", user)) << "the old password was cached";
}

TEST_F(Authenticator, UsersChangedDropsOnlyTheChangedUsersCacheEntries) {
    users.put(auth::user_kind::api, "other", {auth::hash_password("other-pass", {10, 8, 1}), 0});
    ASSERT_EQ(check(basic("app", "s3cret-pass")).first, auth_result::ok);
    ASSERT_EQ(check(basic("other", "other-pass")).first, auth_result::ok);
    ASSERT_EQ(authn.cache_size(), 2u);
    users.put(auth::user_kind::api, "app", {auth::hash_password("new-password", {10, 8, 1}), 0});
    authn.users_changed();
    EXPECT_EQ(authn.cache_size(), 1u);
    hashes = 0;
    EXPECT_EQ(check(basic("other", "other-pass")).first, auth_result::ok);
    EXPECT_EQ(hashes, 0) << "an unrelated user's entry was dropped";
    users.remove(auth::user_kind::api, "other");
    authn.users_changed();
    EXPECT_EQ(authn.cache_size(), 0u);
}

TEST_F(Authenticator, UnreadableUsersFileDoesNotCountUnknownNamesAgainstTheClient) {
    // The file on disk is broken: the store keeps its users, and a name it
    // does not know may be in the broken file. Those failures are ours.
    ASSERT_EQ(core::atomic_write_file(users.path(), "{\"api_users\": {\"new\": ", 0600), "");
    ASSERT_NE(users.load(), "");
    for (int i = 0; i < 10; ++i) EXPECT_EQ(check(basic("new", "new-password"), "192.0.2.9").first, auth_result::unauthorized) << i;
    EXPECT_EQ(check(basic("app", "s3cret-pass"), "192.0.2.9").first, auth_result::ok) << "throttled by failures that were not the client's";
    // A wrong password of a known user still counts.
    for (int i = 0; i < 5; ++i) check(basic("app", "guess" + std::to_string(i)), "192.0.2.10");
    EXPECT_EQ(check(basic("app", "s3cret-pass"), "192.0.2.10").first, auth_result::throttled);
}
