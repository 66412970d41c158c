#include "otppi/otp/engine.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace otppi::otp {

namespace {

// Domain-separation labels: one key serves every purpose, and a MAC made for
// one purpose can never equal a MAC made for another.
constexpr std::string_view label_code = "otppi/otp/v1/code";
constexpr std::string_view label_reference = "otppi/otp/v1/reference";
constexpr std::string_view label_user_reference = "otppi/otp/v1/user-reference";
constexpr std::string_view label_receiver = "otppi/otp/v1/throttle/receiver";
constexpr std::string_view label_user = "otppi/otp/v1/throttle/api-user";

constexpr std::chrono::hours max_window{24 * 30};

const engine_config& checked(const engine_config& config) {
    if (auto error = validate(config)) throw std::invalid_argument("otp engine: " + *error);
    return config;
}

std::span<const std::uint8_t> checked_key(std::span<const std::uint8_t> key) {
    if (key.size() != engine_key_size) {
        throw std::invalid_argument("otp engine: the HMAC key must be exactly 64 bytes, got " + std::to_string(key.size()));
    }
    if (std::all_of(key.begin(), key.end(), [](std::uint8_t b) { return b == 0; })) {
        throw std::invalid_argument("otp engine: the HMAC key is all zero bytes");
    }
    return key;
}

bool too_long(std::string_view s) noexcept { return s.size() > max_field_size; }

bool any_too_long(const std::array<std::string_view, 4>& params) noexcept { return std::any_of(params.begin(), params.end(), too_long); }

std::chrono::seconds ceil_seconds(core::Clock::duration d) noexcept { return std::chrono::ceil<std::chrono::seconds>(d); }

}  // namespace

std::optional<std::string> validate(const engine_config& c) {
    using std::chrono::seconds;
    if (c.code_length < min_code_length || c.code_length > max_code_length) {
        return "code_length must be between 4 and 10";
    }
    if (c.max_expiration < seconds(1) || c.max_expiration > hard_max_expiration) {
        return "max_expiration must be between 1 and 600 seconds";
    }
    if (c.default_expiration < seconds(1) || c.default_expiration > c.max_expiration) {
        return "default_expiration must be between 1 second and max_expiration";
    }
    if (c.max_attempts < 1 || c.max_attempts > max_max_attempts) return "max_attempts must be between 1 and 100";
    // Each receiver keeps one 4-byte time per allowed issue: bound it so that a
    // million receivers stay affordable.
    if (c.receiver_max_issues > 1000) return "receiver_max_issues must be between 0 (off) and 1000";
    if (c.receiver_window < seconds(1) || c.receiver_window > max_window) {
        return "receiver_window must be between 1 second and 30 days";
    }
    if (c.user_max_issues > sliding_window_throttle::max_limit) {
        return "user_max_issues must be between 0 (off) and 65535";
    }
    if (c.user_window < seconds(1) || c.user_window > max_window) {
        return "user_window must be between 1 second and 30 days";
    }
    if (c.capacity < 1 || c.capacity > (std::size_t{1} << 31)) return "capacity must be between 1 and 2^31";
    return std::nullopt;
}

std::string_view to_string(otp_status status) noexcept {
    switch (status) {
        case otp_status::ok:
            return "ok";
        case otp_status::duplicated:
            return "duplicated";
        case otp_status::expired:
            return "expired";
        case otp_status::invalid:
            return "invalid";
        case otp_status::attempts_exhausted:
            return "attempts_exhausted";
        case otp_status::receiver_throttled:
            return "receiver_throttled";
        case otp_status::user_rate_limited:
            return "user_rate_limited";
        case otp_status::store_full:
            return "store_full";
        case otp_status::bad_request:
            return "bad_request";
        case otp_status::crypto_failure:
            return "crypto_failure";
    }
    return "unknown";
}

engine::engine(const engine_config& config, std::span<const std::uint8_t> key, const core::Clock& clock, detail::random_fill_fn random)
    : config_(checked(config)),
      clock_(clock),
      random_(random),
      mac_(checked_key(key)),
      store_(config.capacity),
      receiver_throttle_(config.receiver_max_issues, config.receiver_window, clock.now()),
      user_throttle_(config.user_max_issues, config.user_window, clock.now()) {
    if (random_ == nullptr) throw std::invalid_argument("otp engine: no random source");
}

bool engine::reference_key(std::string_view reference, std::string_view api_user, ref_key& out) {
    hmac_sha512::digest full;
    bool ok = false;
    if (config_.scope == reference_scope::user) {
        // Fields are length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        const std::string_view fields[] = {api_user, reference};
        ok = mac_.mac_fields(label_user_reference, fields, full);
    } else {
        const std::string_view fields[] = {reference};
        ok = mac_.mac_fields(label_reference, fields, full);
    }
    std::memcpy(out.data(), full.data(), out.size());
    return ok;
}

bool engine::throttle_key(std::string_view label, std::string_view id, std::uint64_t& out) {
    hmac_sha512::digest full;
    const std::string_view fields[] = {id};
    const bool ok = mac_.mac_fields(label, fields, full);
    std::memcpy(&out, full.data(), sizeof out);
    return ok;
}

bool engine::code_digest_of(std::string_view reference, std::string_view receiver, const std::array<std::string_view, 4>& params,
                            std::string_view code, code_digest& out) {
    const std::string_view fields[] = {reference, receiver, params[0], params[1], params[2], params[3], code};
    return mac_.mac_fields(label_code, fields, out);
}

issue_result engine::issue(const issue_request& request, std::string_view api_user) {
    issue_result result;
    if (request.reference.empty() || request.receiver.empty() || too_long(request.reference) || too_long(request.receiver) ||
        any_too_long(request.params) || too_long(api_user)) {
        result.status = otp_status::bad_request;
        return result;
    }

    const time_point now = clock_.now();
    const std::int64_t now_unix = clock_.unix_seconds();
    std::chrono::seconds ttl = config_.default_expiration;
    if (request.expiration) {
        if (*request.expiration <= now_unix) {
            result.status = otp_status::expired;
            return result;
        }
        // Compare before converting: a far-future int64 must not overflow.
        const std::int64_t asked = *request.expiration - now_unix;
        ttl = asked < config_.max_expiration.count() ? std::chrono::seconds(asked) : config_.max_expiration;
    }
    ttl = std::min(ttl, config_.max_expiration);

    ref_key key;
    if (!reference_key(request.reference, api_user, key)) {
        result.status = otp_status::crypto_failure;
        return result;
    }
    // Before the throttles: a client retrying a live reference should learn
    // that, and must not burn its budget doing so.
    if (store_.peek(key, now) != nullptr) {
        result.status = otp_status::duplicated;
        return result;
    }

    std::uint64_t user_key = 0;
    if (user_throttle_.enabled()) {
        if (!throttle_key(label_user, api_user, user_key)) {
            result.status = otp_status::crypto_failure;
            return result;
        }
        if (!user_throttle_.allowed(user_key, now)) {
            result.status = otp_status::user_rate_limited;
            result.retry_at = user_throttle_.retry_at(user_key, now);
            return result;
        }
    }
    std::uint64_t receiver_key = 0;
    if (receiver_throttle_.enabled()) {
        if (!throttle_key(label_receiver, request.receiver, receiver_key)) {
            result.status = otp_status::crypto_failure;
            return result;
        }
        if (!receiver_throttle_.allowed(receiver_key, now)) {
            result.status = otp_status::receiver_throttled;
            result.retry_at = receiver_throttle_.retry_at(receiver_key, now);
            return result;
        }
    }

    auto code = detail::random_digits(config_.code_length, random_);
    if (!code) {
        result.status = otp_status::crypto_failure;
        return result;
    }
    code_digest digest;
    if (!code_digest_of(request.reference, request.receiver, request.params, code->view(), digest)) {
        result.status = otp_status::crypto_failure;
        return result;
    }

    const time_point deadline = now + ttl;
    switch (store_.insert(key, digest, deadline, static_cast<std::uint8_t>(config_.max_attempts), now)) {
        case store::insert_result::inserted:
            break;
        case store::insert_result::duplicated:
            result.status = otp_status::duplicated;
            return result;
        case store::insert_result::full:
            result.status = otp_status::store_full;
            return result;
    }
    if (user_throttle_.enabled()) user_throttle_.record(user_key, now);
    if (receiver_throttle_.enabled()) receiver_throttle_.record(receiver_key, now);

    result.status = otp_status::ok;
    result.code = std::move(*code);
    result.ttl = ttl;
    result.expires_at_unix = now_unix + ttl.count();
    result.deadline = deadline;
    return result;
}

verify_result engine::verify(const verify_request& request) {
    verify_result result;
    if (request.reference.empty() || too_long(request.reference) || too_long(request.receiver) || any_too_long(request.params) ||
        too_long(request.code) || too_long(request.api_user)) {
        result.status = otp_status::bad_request;
        return result;
    }
    const time_point now = clock_.now();
    ref_key key;
    if (!reference_key(request.reference, request.api_user, key)) {
        result.status = otp_status::crypto_failure;
        return result;
    }
    store::entry* e = store_.find(key, now);
    if (e == nullptr) {
        result.status = otp_status::expired;
        return result;
    }
    code_digest digest;
    if (!code_digest_of(request.reference, request.receiver, request.params, request.code, digest)) {
        // Not the client's fault: no attempt is charged.
        result.status = otp_status::crypto_failure;
        result.attempts_left = e->attempts_left;
        return result;
    }
    const bool match = constant_time_equal(digest, e->digest);
    OPENSSL_cleanse(digest.data(), digest.size());
    if (match) {
        store_.erase(key);  // single use
        result.status = otp_status::ok;
        return result;
    }
    // A wrong code, or the right code for another receiver or other params:
    // both are a guess, both cost an attempt.
    if (--e->attempts_left == 0) {
        store_.erase(key);
        result.status = otp_status::attempts_exhausted;
        return result;
    }
    result.status = otp_status::invalid;
    result.attempts_left = e->attempts_left;
    return result;
}

status_result engine::status(std::string_view reference, std::string_view api_user) {
    status_result result;
    if (reference.empty() || too_long(reference) || too_long(api_user)) return result;
    ref_key key;
    if (!reference_key(reference, api_user, key)) {
        result.status = otp_status::crypto_failure;
        return result;
    }
    const time_point now = clock_.now();
    const store::entry* e = store_.peek(key, now);
    if (e == nullptr) return result;
    result.status = otp_status::ok;
    result.remaining = ceil_seconds(e->deadline - now);
    result.attempts_left = e->attempts_left;
    return result;
}

bool engine::cancel(std::string_view reference, std::string_view api_user) {
    if (reference.empty() || too_long(reference) || too_long(api_user)) return false;
    ref_key key;
    if (!reference_key(reference, api_user, key)) return false;
    // A dead entry still in the table counts as nothing to cancel.
    if (store_.find(key, clock_.now()) == nullptr) return false;
    return store_.erase(key);
}

std::size_t engine::sweep(std::size_t budget) {
    const time_point now = clock_.now();
    return store_.sweep(now, budget) + receiver_throttle_.sweep(now, budget) + user_throttle_.sweep(now, budget);
}

std::optional<engine::time_point> engine::next_deadline() const {
    std::optional<time_point> next;
    const std::optional<time_point> candidates[] = {store_.next_deadline(), receiver_throttle_.next_deadline(),
                                                    user_throttle_.next_deadline()};
    for (const auto& candidate : candidates) {
        if (candidate && (!next || *candidate < *next)) next = candidate;
    }
    return next;
}

}  // namespace otppi::otp
