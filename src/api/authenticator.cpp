#include "otppi/api/authenticator.hpp"

#include "otppi/auth/password.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdexcept>

namespace otppi::api {

namespace {
constexpr auto cache_ttl = std::chrono::minutes(5);
constexpr auto failure_window = std::chrono::minutes(1);
constexpr int max_pending_hashes = 32;      // bounds CPU spent on slow hashes at once
constexpr std::size_t max_tracked_addresses = 100'000;
}  // namespace

authenticator::authenticator(const auth::user_store& users, const core::Clock& clock, executor_fn offload, executor_fn post_back,
                             int failures_per_minute, auth::user_kind kind)
    : users_(users), clock_(clock), offload_(std::move(offload)), post_back_(std::move(post_back)),
      failures_per_minute_(failures_per_minute), kind_(kind) {
    if (RAND_bytes(cache_key_.data(), static_cast<int>(cache_key_.size())) != 1)
        throw std::runtime_error("CSPRNG unavailable");  // start-up only
    // Same cost as a real user's hash, so that a wrong user name takes as long
    // as a wrong password.
    dummy_hash_ = auth::hash_password("otppi-dummy-password");
}

bool authenticator::parse_basic(const std::string& header, std::string& user, std::string& password) {
    if (header.size() < 6) return false;
    for (std::size_t i = 0; i < 5; ++i)
        if (std::tolower(static_cast<unsigned char>(header[i])) != "basic"[i]) return false;
    if (header[5] != ' ') return false;
    std::string_view b64(header);
    b64.remove_prefix(6);
    while (!b64.empty() && b64.front() == ' ') b64.remove_prefix(1);
    while (!b64.empty() && b64.back() == ' ') b64.remove_suffix(1);
    std::string decoded;
    if (b64.empty() || b64.size() > 1024 || !auth::base64_decode(b64, decoded)) return false;
    auto colon = decoded.find(':');
    if (colon == std::string::npos) return false;
    user = decoded.substr(0, colon);
    password = decoded.substr(colon + 1);
    OPENSSL_cleanse(decoded.data(), decoded.size());
    return true;
}

authenticator::digest authenticator::mac_of(const std::string& user, const std::string& password) const {
    digest out{};
    unsigned int len = 0;
    // user NUL password: unambiguous because user names cannot hold NUL.
    std::string msg = user;
    msg.push_back('\0');
    msg += password;
    HMAC(EVP_sha256(), cache_key_.data(), static_cast<int>(cache_key_.size()), reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
         out.data(), &len);
    OPENSSL_cleanse(msg.data(), msg.size());
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

void authenticator::users_changed() { cache_.clear(); }

void authenticator::check(const std::string& authorization, const std::string& remote, std::function<void(auth_result, std::string)> done) {
    auto finish = [this, done](auth_result r, std::string user) mutable {
        post_back_([done = std::move(done), r, user = std::move(user)]() mutable { done(r, std::move(user)); });
    };
    if (throttled(remote)) return finish(auth_result::throttled, {});
    std::string user, password;
    if (authorization.empty()) return finish(auth_result::unauthorized, {});
    if (!parse_basic(authorization, user, password)) {
        record_failure(remote);
        return finish(auth_result::malformed, {});
    }
    const auth::user_record* rec = auth::user_store::valid_name(user) ? users_.find(kind_, user) : nullptr;
    if (rec && !password.empty()) {
        auto it = cache_.find(user);
        if (it != cache_.end() && it->second.hash == rec->password_hash && clock_.now() < it->second.expires) {
            const digest mac = mac_of(user, password);
            if (CRYPTO_memcmp(mac.data(), it->second.mac.data(), mac.size()) == 0) {
                OPENSSL_cleanse(password.data(), password.size());
                return finish(auth_result::ok, user);
            }
        }
    }
    if (pending_ >= max_pending_hashes) {
        OPENSSL_cleanse(password.data(), password.size());
        return finish(auth_result::busy, {});
    }
    ++pending_;
    const std::string stored = rec && !password.empty() ? rec->password_hash : dummy_hash_;
    const bool known = rec && !password.empty();
    offload_([this, user, password, stored, known, remote, done = std::move(done)]() mutable {
        const bool ok = auth::verify_password(password, stored) && known;
        const digest mac = ok ? mac_of(user, password) : digest{};
        OPENSSL_cleanse(password.data(), password.size());
        post_back_([this, ok, mac, user, stored, remote, done = std::move(done)]() mutable {
            --pending_;
            if (ok) {
                cache_[user] = cached{mac, stored, clock_.now() + cache_ttl};
                done(auth_result::ok, user);
            } else {
                record_failure(remote);
                done(auth_result::unauthorized, {});
            }
        });
    });
}

}  // namespace otppi::api
