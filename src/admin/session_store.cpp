#include "otppi/admin/session_store.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace otppi::admin {

session_store::session_store(const core::Clock& clock, std::chrono::seconds idle, std::chrono::seconds absolute, std::size_t capacity)
    : clock_(clock), idle_(idle), absolute_(absolute), capacity_(std::max<std::size_t>(capacity, 1)) {}

void session_store::set_timeouts(std::chrono::seconds idle, std::chrono::seconds absolute) {
    idle_ = idle;
    absolute_ = absolute;
}

std::string session_store::random_token() {
    std::array<unsigned char, 32> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) throw std::runtime_error("CSPRNG failed");
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve(43);
    // base64url without padding: 32 bytes -> 43 characters.
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(alphabet[(acc >> bits) & 63]);
        }
    }
    if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 63]);
    return out;
}

std::string session_store::key_of(const std::string& id) {
    std::array<unsigned char, 32> digest{};
    unsigned int len = 0;
    EVP_Digest(id.data(), id.size(), digest.data(), &len, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<const char*>(digest.data()), len);
}

bool session_store::expired(const admin_session& s, core::Clock::time_point now) const {
    if (now - s.last_seen >= idle_) return true;
    return s.logged_in() && now - s.login_at >= absolute_;
}

void session_store::make_room() {
    const auto now = clock_.now();
    for (auto it = sessions_.begin(); it != sessions_.end();) it = expired(it->second, now) ? sessions_.erase(it) : std::next(it);
    if (sessions_.size() < capacity_) return;
    // Full of live sessions (a flood of anonymous ones, most likely): drop
    // the least recently used anonymous one, or failing that any.
    auto victim = sessions_.end();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
        if (victim == sessions_.end()) {
            victim = it;
            continue;
        }
        const bool a = it->second.logged_in(), b = victim->second.logged_in();
        if ((a == b && it->second.last_seen < victim->second.last_seen) || (!a && b)) victim = it;
    }
    if (victim != sessions_.end()) sessions_.erase(victim);
}

admin_session& session_store::create(std::string& id_out) {
    if (sessions_.size() >= capacity_) make_room();
    id_out = random_token();
    const auto now = clock_.now();
    auto& s = sessions_[key_of(id_out)];
    s.csrf_token = random_token();
    s.created = s.last_seen = now;
    return s;
}

admin_session* session_store::find(const std::string& id) {
    if (id.empty() || id.size() > 128) return nullptr;
    auto it = sessions_.find(key_of(id));
    if (it == sessions_.end()) return nullptr;
    const auto now = clock_.now();
    if (expired(it->second, now)) {
        sessions_.erase(it);
        return nullptr;
    }
    it->second.last_seen = now;
    return &it->second;
}

bool session_store::alive(const std::string& id) const {
    if (id.empty() || id.size() > 128) return false;
    auto it = sessions_.find(key_of(id));
    return it != sessions_.end() && it->second.logged_in() && !expired(it->second, clock_.now());
}

admin_session& session_store::login(const std::string& old_id, const std::string& user, std::string& id_out, std::string credential) {
    if (!old_id.empty()) remove(old_id);
    auto& s = create(id_out);
    s.user = user;
    s.credential = std::move(credential);
    s.login_at = s.last_seen;
    return s;
}

void session_store::remove(const std::string& id) { sessions_.erase(key_of(id)); }

void session_store::remove_user(const std::string& user, const std::string& keep_id) {
    const std::string keep = keep_id.empty() ? std::string() : key_of(keep_id);
    for (auto it = sessions_.begin(); it != sessions_.end();)
        it = (it->second.user == user && it->first != keep) ? sessions_.erase(it) : std::next(it);
}

std::size_t session_store::remove_if(const std::function<bool(const admin_session&)>& stale) {
    std::size_t n = 0;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
        if (stale(it->second)) {
            it = sessions_.erase(it);
            ++n;
        } else {
            ++it;
        }
    }
    return n;
}

}  // namespace otppi::admin
