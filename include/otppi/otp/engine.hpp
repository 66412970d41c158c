// The OTP engine: issue, verify, status and cancel of one-time passwords.
//
// Contract:
// - Codes are `code_length` CSPRNG digits (uniform, see crypto.hpp). The clear
//   code exists only in issue_result::code, a secure_string the caller keeps
//   just long enough to build the SMS. The store holds HMAC-SHA-512 under the
//   engine key of the length-prefixed (label, reference, receiver, param1..4,
//   code), so a verification succeeds only for the same reference, receiver,
//   params and code (OWASP ASVS V2.7: "only for the original request").
// - Lifetime: data.expiration (absolute unix seconds) if given, else
//   default_expiration; never more than max_expiration (<= 10 minutes, NIST
//   SP 800-63B / ASVS V2.7) whatever the client asks. An expiration not in the
//   future is refused with `expired`. The client's timestamp is compared with
//   Clock::unix_seconds(); the resulting TTL then runs on Clock::now(), so a
//   wall-clock step (NTP, RTC set from the admin UI) cannot stretch or cut
//   the life of codes already issued.
// - A live reference cannot be issued again (`duplicated`); once verified,
//   cancelled, exhausted or expired it can.
// - verify(): a match consumes the entry (single use). A mismatch costs one
//   attempt; the max_attempts-th wrong try destroys the entry and answers
//   `attempts_exhausted`, after which the reference is unknown.
// - Unknown and expired references both answer `expired` (OTP-Pi 1203). The
//   engine cannot tell them apart without keeping dead entries, and should
//   not: "never existed" vs "existed" would tell a guesser which references
//   are in use.
// - Throttles, checked before anything is stored and recorded only when the
//   OTP is stored: per API user (user_max_issues per user_window, 0 = off)
//   and per receiver (receiver_max_issues per receiver_window, 0 = off,
//   Twilio Verify's 5 per 10 minutes by default). cancel() does not refund
//   them: an SMS that failed was still attempted by that client.
// - Reference scope (engine_config::scope): with `user` (the default) a
//   reference names an OTP only for the API user that requested it: the store
//   key is the keyed hash of (API user, reference), so another user's
//   verify/status/cancel finds nothing (`expired`, as for an unknown
//   reference) and cannot burn its attempts, and two users may hold the same
//   reference at once. With `global` (OTP-Pi's behaviour) the key is the
//   reference alone and the API user is ignored there. Either way the store
//   holds no user name or reference in the clear. Changing the scope makes
//   the live OTPs unreachable, so it only applies at start-up.
// - No exceptions on the request path. The constructor throws
//   std::invalid_argument on a bad config or key (startup only).
// - Suggested mapping to OTP-Pi response codes: ok 0000, duplicated 1201,
//   invalid and attempts_exhausted 1202, expired 1203, the rest 1102.
//
// Thread-safety: NOT thread-safe. One engine is owned by the io_context
// thread; every call, including status(), must come from that thread.
#pragma once

#include "otppi/core/clock.hpp"
#include "otppi/otp/crypto.hpp"
#include "otppi/otp/store.hpp"
#include "otppi/otp/throttle.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace otppi::otp {

inline constexpr std::chrono::seconds hard_max_expiration{600};
inline constexpr std::size_t engine_key_size = 64;
// Longest reference, receiver, param or code accepted. The API layer bounds
// bodies anyway; this keeps the engine safe when used without it.
inline constexpr std::size_t max_field_size = 1024;
inline constexpr std::uint32_t max_max_attempts = 100;  // NIST: <= 100 failures

enum class reference_scope : std::uint8_t { user, global };

struct engine_config {
    std::size_t code_length = 6;                   // 4 .. 10
    std::chrono::seconds default_expiration{180};  // 1 s .. max_expiration
    std::chrono::seconds max_expiration{600};      // 1 s .. 600 s
    std::uint32_t max_attempts = 5;                // 1 .. 100
    std::uint32_t receiver_max_issues = 5;         // 0 = off, .. 1000
    std::chrono::seconds receiver_window{600};     // 1 s .. 30 days
    std::uint32_t user_max_issues = 60;            // 0 = off, .. 65535
    std::chrono::seconds user_window{60};          // 1 s .. 30 days
    std::size_t capacity = 2'000'000;              // live OTPs, 1 .. 2^31
    reference_scope scope = reference_scope::user;
};

// nullopt if valid, else a message naming the offending field.
std::optional<std::string> validate(const engine_config& config);

enum class otp_status : std::uint8_t {
    ok,
    duplicated,          // issue: the reference is live
    expired,             // issue: expiration not in the future; verify/status: unknown or expired
    invalid,             // verify: wrong code, or receiver/params differ from issue
    attempts_exhausted,  // verify: that was the last allowed wrong try; the OTP is gone
    receiver_throttled,  // issue: too many OTPs for this receiver in the window
    user_rate_limited,   // issue: too many OTPs for this API user in the window
    store_full,          // issue: capacity reached
    bad_request,         // a field empty where required, or longer than max_field_size
    crypto_failure,      // CSPRNG or HMAC failed; never answered with a weaker code
};

std::string_view to_string(otp_status status) noexcept;

struct issue_request {
    std::string_view reference;
    std::string_view receiver;  // already normalised (628..., no '+')
    std::array<std::string_view, 4> params{};
    std::optional<std::int64_t> expiration;  // unix seconds (data.expiration)
};

struct verify_request {
    std::string_view api_user;  // who asks; matters under reference_scope::user
    std::string_view reference;
    std::string_view receiver;
    std::array<std::string_view, 4> params{};
    std::string_view code;
};

struct issue_result {
    otp_status status = otp_status::bad_request;
    secure_string code;                  // set only when status == ok
    std::chrono::seconds ttl{0};         // granted lifetime
    std::int64_t expires_at_unix = 0;    // for the reply and the SMS text
    core::Clock::time_point deadline{};  // monotonic
    core::Clock::time_point retry_at{};  // throttled outcomes: when one more would pass
};

struct verify_result {
    otp_status status = otp_status::bad_request;
    std::uint32_t attempts_left = 0;  // after this try; meaningful for `invalid`
};

struct status_result {
    otp_status status = otp_status::expired;  // ok (live) or expired
    std::chrono::seconds remaining{0};        // rounded up: a live OTP never shows 0
    std::uint32_t attempts_left = 0;
};

class engine {
public:
    using time_point = core::Clock::time_point;

    // key: exactly engine_key_size bytes, not all zero; copied into OpenSSL.
    // `clock` must outlive the engine. `random` replaces RAND_bytes in tests.
    engine(const engine_config& config, std::span<const std::uint8_t> key, const core::Clock& clock,
           detail::random_fill_fn random = &detail::openssl_random_fill);
    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    issue_result issue(const issue_request& request, std::string_view api_user);
    verify_result verify(const verify_request& request);
    // Does not consume anything, attempts included (seed 003's validate_otp).
    status_result status(std::string_view reference, std::string_view api_user);
    // Frees a live reference whose SMS could not be sent. false if none.
    bool cancel(std::string_view reference, std::string_view api_user);

    // Drops expired OTPs and idle throttle keys; at most `budget` items per
    // structure. The owner arms one timer on next_deadline() and calls this.
    std::size_t sweep(std::size_t budget = static_cast<std::size_t>(-1));
    std::optional<time_point> next_deadline() const;

    std::size_t size() const noexcept { return store_.size(); }
    const engine_config& config() const noexcept { return config_; }
    const store& otp_store() const noexcept { return store_; }
    const sliding_window_throttle& receiver_throttle() const noexcept { return receiver_throttle_; }
    const sliding_window_throttle& user_throttle() const noexcept { return user_throttle_; }

private:
    bool reference_key(std::string_view reference, std::string_view api_user, ref_key& out);
    bool throttle_key(std::string_view label, std::string_view id, std::uint64_t& out);
    bool code_digest_of(std::string_view reference, std::string_view receiver, const std::array<std::string_view, 4>& params,
                        std::string_view code, code_digest& out);

    engine_config config_;
    const core::Clock& clock_;
    detail::random_fill_fn random_;
    hmac_sha512 mac_;
    store store_;
    sliding_window_throttle receiver_throttle_;
    sliding_window_throttle user_throttle_;
};

}  // namespace otppi::otp
