#include "otppi/api/authenticator.hpp"

#include "otppi/auth/password.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdexcept>

namespace otppi::api {

namespace {
constexpr auto cache_ttl = std::chrono::minutes(5);       // since last use
constexpr auto cache_max_age = std::chrono::hours(1);     // since the hash was checked
constexpr auto failure_window = std::chrono::minutes(1);
constexpr int max_pending_hashes = 32;      // bounds CPU spent on slow hashes at once
constexpr std::size_t max_tracked_addresses = 100'000;
constexpr std::size_t max_basic_b64 = 1024;  // base64 of user:password
}  // namespace

authenticator::authenticator(const auth::user_store& users, const core::Clock& clock, executor_fn offload, executor_fn post_back,
                             int failures_per_minute, auth::user_kind kind)
    : users_(users), clock_(clock), offload_(std::move(offload)), post_back_(std::move(post_back)),
      failures_per_minute_(failures_per_minute), kind_(kind) {
    std::array<std::uint8_t, 32> key{};
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) throw std::runtime_error("CSPRNG unavailable");  // start-up only
    cache_mac_ = std::make_unique<otp::hmac_sha256>(key);
    OPENSSL_cleanse(key.data(), key.size());
    // Room for any accepted header, so that decoding never reallocates (and
    // leaves no copy of a password behind in freed memory).
    scratch_.reserve(max_basic_b64 / 4 * 3);
}

namespace {
// "Basic dXNlcjpwYXNz": decodes into `decoded` and points user and password
// into it.
bool split_basic(std::string_view header, std::string& decoded, std::string_view& user, std::string_view& password) {
    decoded.clear();
    if (header.size() < 6) return false;
    for (std::size_t i = 0; i < 5; ++i)
        if (std::tolower(static_cast<unsigned char>(header[i])) != "basic"[i]) return false;
    if (header[5] != ' ') return false;
    std::string_view b64 = header;
    b64.remove_prefix(6);
    while (!b64.empty() && b64.front() == ' ') b64.remove_prefix(1);
    while (!b64.empty() && b64.back() == ' ') b64.remove_suffix(1);
    if (b64.empty() || b64.size() > max_basic_b64 || !auth::base64_decode(b64, decoded)) return false;
    const std::string_view both = decoded;
    const auto colon = both.find(':');
    if (colon == std::string_view::npos) return false;
    user = both.substr(0, colon);
    password = both.substr(colon + 1);
    return true;
}
}  // namespace

bool authenticator::parse_basic(const std::string& header, std::string& user, std::string& password) {
    std::string decoded;
    std::string_view u, p;
    const bool ok = split_basic(header, decoded, u, p);
    if (ok) {
        user = u;
        password = p;
    }
    OPENSSL_cleanse(decoded.data(), decoded.size());
    return ok;
}

authenticator::digest authenticator::mac_of(std::string_view user, std::string_view password) {
    digest out{};
    const std::string_view fields[] = {user, password};
    // A keyed context made once: the one-shot HMAC() call was a fifth of a
    // cached request's cost. SHA-256 rather than SHA-512: the key never leaves
    // this process and the MAC is only compared with its own earlier output,
    // and with the CPU's SHA instructions it takes about 0.4 us instead of 0.95.
    if (!cache_mac_->mac_fields("otppi/auth-cache/v1", fields, out)) out.fill(0);
    return out;
}

bool authenticator::throttled(const std::string& remote) {
    auto it = failures_.find(remote);
    if (it == failures_.end()) return false;
    if (clock_.now() - it->second.window_start >= failure_window) {
        failures_.erase(it);
        return false;
    }
    return it->second.count >= failures_per_minute_;
}

void authenticator::record_failure(const std::string& remote) {
    const auto now = clock_.now();
    if (failures_.size() >= max_tracked_addresses) {
        // Bounded memory under a spray of addresses: drop finished windows first.
        for (auto it = failures_.begin(); it != failures_.end();)
            it = now - it->second.window_start >= failure_window ? failures_.erase(it) : std::next(it);
        if (failures_.size() >= max_tracked_addresses) failures_.clear();
    }
    auto& f = failures_[remote];
    if (f.count == 0 || now - f.window_start >= failure_window) {
        f.count = 0;
        f.window_start = now;
    }
    ++f.count;
}

void authenticator::users_changed() {
    // Only the entries whose user vanished or got a new hash: dropping every
    // entry would make all keep-alive clients pay a slow hash at once (and
    // hit the pending-hash cap) because one unrelated user changed.
    for (auto it = cache_.begin(); it != cache_.end();) {
        const auto* rec = users_.find(kind_, it->first);
        it = (!rec || rec->password_hash != it->second.hash) ? cache_.erase(it) : std::next(it);
    }
}

bool authenticator::check_cached(const std::string& authorization, const std::string& remote, std::string& user_out) {
    if (authorization.empty() || throttled(remote)) return false;
    std::string_view user, password;
    bool hit = false;
    if (split_basic(authorization, scratch_, user, password) && !password.empty()) {
        const std::string name(user);
        const auth::user_record* rec = auth::user_store::valid_name(name) ? users_.find(kind_, name) : nullptr;
        auto it = rec ? cache_.find(name) : cache_.end();
        const auto now = clock_.now();
        if (it != cache_.end() && it->second.hash == rec->password_hash && now < it->second.expires) {
            const digest mac = mac_of(user, password);
            if (CRYPTO_memcmp(mac.data(), it->second.mac.data(), mac.size()) == 0) {
                it->second.expires = std::min(now + cache_ttl, it->second.hard_expiry);
                user_out = name;
                hit = true;
            }
        }
    }
    OPENSSL_cleanse(scratch_.data(), scratch_.size());
    return hit;
}

void authenticator::check(const std::string& authorization, const std::string& remote, callback done) {
    if (std::string user; check_cached(authorization, remote, user)) return done(auth_result::ok, std::move(user));  // no hash, no post
    auto later = [this](callback cb, auth_result r, std::string user) {
        post_back_([cb = std::move(cb), r, user = std::move(user)]() mutable { cb(r, std::move(user)); });
    };
    if (throttled(remote)) return later(std::move(done), auth_result::throttled, {});
    std::string user, password;
    if (authorization.empty()) return later(std::move(done), auth_result::unauthorized, {});
    if (!parse_basic(authorization, user, password)) {
        record_failure(remote);
        return later(std::move(done), auth_result::malformed, {});
    }
    const auth::user_record* rec = auth::user_store::valid_name(user) ? users_.find(kind_, user) : nullptr;
    const bool known = rec && !password.empty();
    const digest mac = mac_of(user, password);
    // Same credentials already being checked: wait for that answer.
    std::string key = user;
    key.push_back('\0');
    key.append(reinterpret_cast<const char*>(mac.data()), mac.size());
    if (auto it = in_flight_.find(key); it != in_flight_.end()) {
        OPENSSL_cleanse(password.data(), password.size());
        it->second.push_back(std::move(done));
        return;
    }
    if (pending_ >= max_pending_hashes) {
        OPENSSL_cleanse(password.data(), password.size());
        return later(std::move(done), auth_result::busy, {});
    }
    ++pending_;
    in_flight_[key].push_back(std::move(done));
    const std::string stored = known ? rec->password_hash : std::string();
    offload_([this, user, password, stored, known, remote, mac, key]() mutable {
        // An unknown user costs a real hash too, so that a wrong name takes as
        // long as a wrong password. Made on first use, off the event loop.
        static const std::string dummy_hash = auth::hash_password("otppi-dummy-password");
        const bool matched = auth::verify_password(password, stored.empty() ? dummy_hash : stored) && known;
        OPENSSL_cleanse(password.data(), password.size());
        post_back_([this, ok_then = matched, mac, user, stored, remote, key, known] {
            --pending_;
            auto waiting = std::move(in_flight_[key]);
            in_flight_.erase(key);
            // The record may have changed while the hash ran (password changed,
            // user removed): a match against the old hash lets no one in.
            const auth::user_record* now_rec = users_.find(kind_, user);
            const bool ok = ok_then && now_rec && now_rec->password_hash == stored;
            if (ok) {
                const auto now = clock_.now();
                cache_[user] = cached{mac, stored, now + cache_ttl, now + cache_max_age};
            } else if (ok_then || (!known && !users_.load_error().empty())) {
                // Not the client's fault: the record changed under the check,
                // or the users file cannot be read and this name may be in it.
            } else {
                record_failure(remote);
            }
            for (auto& cb : waiting) cb(ok ? auth_result::ok : auth_result::unauthorized, ok ? user : std::string());
        });
    });
}

}  // namespace otppi::api
