#include "otppi/auth/password.hpp"

#include <array>
#include <charconv>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <vector>

namespace otppi::auth {

namespace {
constexpr std::size_t salt_bytes = 16;
constexpr std::size_t key_bytes = 32;
constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool derive(std::string_view password, std::string_view salt, const scrypt_params& p, unsigned char* out) {
    if (p.log2_n < 1 || p.log2_n > 20 || p.r < 1 || p.r > 32 || p.p < 1 || p.p > 16) return false;
    const std::uint64_t n = std::uint64_t{1} << p.log2_n;
    const std::uint64_t maxmem = 128ULL * n * static_cast<std::uint64_t>(p.r) * static_cast<std::uint64_t>(p.p) + (16ULL << 20);
    return EVP_PBE_scrypt(password.data(), password.size(), reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), n,
                          static_cast<std::uint64_t>(p.r), static_cast<std::uint64_t>(p.p), maxmem, out, key_bytes) == 1;
}

bool parse_int(std::string_view s, int& out) {
    auto res = std::from_chars(s.data(), s.data() + s.size(), out);
    return res.ec == std::errc{} && res.ptr == s.data() + s.size();
}
}  // namespace

std::string base64_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    if (i < in.size()) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += i + 1 < in.size() ? alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

bool base64_decode(std::string_view in, std::string& out) {
    out.clear();
    if (in.size() % 4 != 0) return false;
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    for (std::size_t i = 0; i < in.size(); i += 4) {
        const bool last = i + 4 == in.size();
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = in[i + static_cast<std::size_t>(k)];
            if (c == '=' && last && k >= 2) {
                v[k] = 0;
                ++pad;
                continue;
            }
            if (pad) return false;  // data after padding
            v[k] = value(c);
            if (v[k] < 0) return false;
        }
        const unsigned n = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) | (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
        out += static_cast<char>((n >> 16) & 0xFF);
        if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
        if (pad < 1) out += static_cast<char>(n & 0xFF);
    }
    return true;
}

std::string hash_password(std::string_view password, scrypt_params params) {
    std::array<unsigned char, salt_bytes> salt{};
    if (RAND_bytes(salt.data(), salt.size()) != 1) return {};
    std::array<unsigned char, key_bytes> key{};
    const std::string_view salt_view(reinterpret_cast<const char*>(salt.data()), salt.size());
    if (!derive(password, salt_view, params, key.data())) return {};
    std::string out = "$scrypt$ln=" + std::to_string(params.log2_n) + ",r=" + std::to_string(params.r) + ",p=" + std::to_string(params.p) + "$" +
                      base64_encode(salt_view) + "$" + base64_encode(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
    OPENSSL_cleanse(key.data(), key.size());
    return out;
}

bool verify_password(std::string_view password, std::string_view stored) {
    // "$scrypt$ln=15,r=8,p=1$salt$hash"
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (start <= stored.size()) {
        auto pos = stored.find('$', start);
        if (pos == std::string_view::npos) pos = stored.size();
        parts.push_back(stored.substr(start, pos - start));
        start = pos + 1;
    }
    if (parts.size() != 5 || !parts[0].empty() || parts[1] != "scrypt") return false;
    scrypt_params p;
    std::string_view params = parts[2];
    if (params.substr(0, 3) != "ln=") return false;
    auto c1 = params.find(",r=");
    auto c2 = params.find(",p=");
    if (c1 == std::string_view::npos || c2 == std::string_view::npos || c2 < c1) return false;
    if (!parse_int(params.substr(3, c1 - 3), p.log2_n) || !parse_int(params.substr(c1 + 3, c2 - c1 - 3), p.r) ||
        !parse_int(params.substr(c2 + 3), p.p))
        return false;
    std::string salt, expected;
    if (!base64_decode(parts[3], salt) || !base64_decode(parts[4], expected) || expected.size() != key_bytes) return false;
    std::array<unsigned char, key_bytes> key{};
    if (!derive(password, salt, p, key.data())) return false;
    const bool ok = CRYPTO_memcmp(key.data(), expected.data(), key_bytes) == 0;
    OPENSSL_cleanse(key.data(), key.size());
    return ok;
}

}  // namespace otppi::auth
