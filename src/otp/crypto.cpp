#include "otppi/otp/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

namespace otppi::otp {

// ---------------------------------------------------------------- random digits

namespace detail {

bool openssl_random_fill(std::uint8_t* out, std::size_t n) noexcept {
    // RAND_bytes takes an int; our requests are tiny, but never truncate.
    while (n > 0) {
        const std::size_t chunk = std::min<std::size_t>(n, 1 << 20);
        if (RAND_bytes(out, static_cast<int>(chunk)) != 1) return false;
        out += chunk;
        n -= chunk;
    }
    return true;
}

std::optional<secure_string> random_digits(std::size_t length, random_fill_fn fill) {
    if (length < min_code_length || length > max_code_length || fill == nullptr) return std::nullopt;
    secure_string code;
    code.reserve(length);
    // 250 is the largest multiple of 10 that fits a byte: bytes 250..255 are
    // thrown away so that byte % 10 is uniform (keeping them would make 0..5
    // more likely than 6..9 by 26:25, the classic modulo bias).
    constexpr std::uint8_t reject_from = 250;
    std::array<std::uint8_t, 16> pool{};
    while (code.size() < length) {
        if (!fill(pool.data(), pool.size())) {
            OPENSSL_cleanse(pool.data(), pool.size());
            return std::nullopt;
        }
        for (std::uint8_t b : pool) {
            if (b >= reject_from) continue;
            code.push_back(static_cast<char>('0' + b % 10));
            if (code.size() == length) break;
        }
    }
    OPENSSL_cleanse(pool.data(), pool.size());
    return code;
}

namespace {
void append_u32be(std::string& out, std::uint32_t v) {
    out.push_back(static_cast<char>((v >> 24) & 0xff));
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    out.push_back(static_cast<char>((v >> 8) & 0xff));
    out.push_back(static_cast<char>(v & 0xff));
}
}  // namespace

std::string encode_fields(std::string_view label, std::span<const std::string_view> fields) {
    std::size_t total = 4 + label.size();
    for (auto f : fields) total += 4 + f.size();
    std::string out;
    out.reserve(total);
    append_u32be(out, static_cast<std::uint32_t>(label.size()));
    out.append(label);
    for (auto f : fields) {
        append_u32be(out, static_cast<std::uint32_t>(f.size()));
        out.append(f);
    }
    return out;
}

}  // namespace detail

std::optional<secure_string> random_digits(std::size_t length) { return detail::random_digits(length, &detail::openssl_random_fill); }

bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// ---------------------------------------------------------------- keyed_hmac

namespace {
// Resets the context to "key set, no data" (OpenSSL >= 3.0.3 reuses the key
// when it is NULL), so that the ipad/opad precomputation is paid once per
// object, not once per MAC.
bool mac_restart(evp_mac_ctx_st* ctx) noexcept { return EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1; }

bool mac_update_field(evp_mac_ctx_st* ctx, std::string_view field) noexcept {
    if (field.size() > std::numeric_limits<std::uint32_t>::max()) return false;
    const auto n = static_cast<std::uint32_t>(field.size());
    const std::uint8_t len[4] = {static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8),
                                 static_cast<std::uint8_t>(n)};
    if (EVP_MAC_update(ctx, len, sizeof len) != 1) return false;
    return field.empty() || EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(field.data()), field.size()) == 1;
}

bool mac_finish(evp_mac_ctx_st* ctx, std::span<std::uint8_t> out) noexcept {
    std::size_t written = 0;
    if (EVP_MAC_final(ctx, out.data(), &written, out.size()) != 1 || written != out.size()) return false;
    return true;
}
}  // namespace

template <std::size_t DigestSize>
keyed_hmac<DigestSize>::keyed_hmac(std::span<const std::uint8_t> key) {
    if (key.empty()) throw std::invalid_argument("otp: HMAC key must not be empty");
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
    if (mac == nullptr) throw std::runtime_error("otp: OpenSSL has no HMAC");
    ctx_ = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context holds its own reference
    if (ctx_ == nullptr) throw std::runtime_error("otp: cannot allocate an HMAC context");
    char digest_name[8];  // OSSL_PARAM wants a mutable string
    std::strcpy(digest_name, DigestSize == 64 ? "SHA512" : "SHA256");
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_init(ctx_, key.data(), key.size(), params) != 1 || EVP_MAC_CTX_get_mac_size(ctx_) != digest_size) {
        EVP_MAC_CTX_free(ctx_);
        ctx_ = nullptr;
        throw std::runtime_error(std::string("otp: cannot initialise HMAC-") + digest_name);
    }
}

template <std::size_t DigestSize>
keyed_hmac<DigestSize>::~keyed_hmac() {
    // EVP_MAC_CTX_free cleanses the key schedule it holds.
    EVP_MAC_CTX_free(ctx_);
}

template <std::size_t DigestSize>
bool keyed_hmac<DigestSize>::mac(std::span<const std::uint8_t> data, digest& out) noexcept {
    const bool ok = mac_restart(ctx_) && (data.empty() || EVP_MAC_update(ctx_, data.data(), data.size()) == 1) && mac_finish(ctx_, out);
    if (!ok) out.fill(0);
    return ok;
}

template <std::size_t DigestSize>
bool keyed_hmac<DigestSize>::mac_fields(std::string_view label, std::span<const std::string_view> fields, digest& out) noexcept {
    bool ok = mac_restart(ctx_) && mac_update_field(ctx_, label);
    for (std::size_t i = 0; ok && i < fields.size(); ++i) ok = mac_update_field(ctx_, fields[i]);
    ok = ok && mac_finish(ctx_, out);
    if (!ok) out.fill(0);
    return ok;
}

template class keyed_hmac<64>;
template class keyed_hmac<32>;

}  // namespace otppi::otp
