// HTTP Basic authentication of API users.
//
// The stored hashes are slow (scrypt) on purpose, so:
//  - verification runs on a worker (`offload`) and the result is posted back
//    (`post_back`); the event loop never hashes;
//  - a successful (user, password) pair is remembered as an HMAC-SHA-256 under
//    a per-process random key (never the password itself), so a client on
//    keep-alive does not pay the slow hash per request. The entry lives 5
//    minutes past its last use, at most an hour after the hash was checked;
//    a cache hit answers at once, inside check();
//  - concurrent checks of the same (user, password) share one slow hash, so
//    an expired entry under load costs one hash, not one per connection;
//  - failures are counted per client address; past `failures_per_minute` the
//    address gets `throttled` without any hashing, for the rest of the window;
//  - an unknown user costs the same slow hash as a known one (no user probing).
// Thread-safety: all calls on the owner's (io_context) thread.
#pragma once

#include "otppi/auth/user_store.hpp"
#include "otppi/core/clock.hpp"
#include "otppi/otp/crypto.hpp"

#include <array>
#include <functional>
#include <string>
#include <unordered_map>

namespace otppi::api {

enum class auth_result { ok, unauthorized, malformed, throttled, busy };

class authenticator {
public:
    using task = std::function<void()>;
    using executor_fn = std::function<void(task)>;

    authenticator(const auth::user_store& users, const core::Clock& clock, executor_fn offload, executor_fn post_back,
                  int failures_per_minute, auth::user_kind kind = auth::user_kind::api);

    // `done(result, user)`: at once on a cache hit, else later via post_back.
    void check(const std::string& authorization, const std::string& remote, std::function<void(auth_result, std::string)> done);

    // The cache alone: true, with `user` set, when these credentials are
    // cached and the address is not throttled. No hashing, no failure counted,
    // nothing kept but the entry's refreshed expiry; on false, check() decides.
    // For callers that can skip setting up a callback in the common case.
    bool check_cached(const std::string& authorization, const std::string& remote, std::string& user);

    // Forget cached credentials (users file changed or reloaded).
    void users_changed();
    void set_failures_per_minute(int n) { failures_per_minute_ = n; }

    std::size_t cache_size() const { return cache_.size(); }

    // "Basic dXNlcjpwYXNz" -> (user, password); false when malformed.
    static bool parse_basic(const std::string& header, std::string& user, std::string& password);

private:
    using digest = otp::hmac_sha256::digest;
    using callback = std::function<void(auth_result, std::string)>;
    struct cached {
        digest mac;
        std::string hash;  // the stored hash it was verified against
        core::Clock::time_point expires;
        core::Clock::time_point hard_expiry;
    };
    struct failures {
        int count = 0;
        core::Clock::time_point window_start;
    };

    digest mac_of(std::string_view user, std::string_view password);
    bool throttled(const std::string& remote);
    void record_failure(const std::string& remote);

    const auth::user_store& users_;
    const core::Clock& clock_;
    executor_fn offload_;
    executor_fn post_back_;
    int failures_per_minute_;
    auth::user_kind kind_;
    std::unique_ptr<otp::hmac_sha256> cache_mac_;  // keyed once; used on the owner thread only
    std::unordered_map<std::string, cached> cache_;
    std::unordered_map<std::string, failures> failures_;
    // (user, mac) -> callers waiting for the same slow hash.
    std::unordered_map<std::string, std::vector<callback>> in_flight_;
    int pending_ = 0;
    std::string scratch_;  // decoded credentials, wiped after each use
};

}  // namespace otppi::api
