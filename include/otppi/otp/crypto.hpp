// Cryptographic primitives of the OTP engine: CSPRNG decimal codes, keyed
// HMAC-SHA-512 over an unambiguous field encoding, constant-time comparison
// and a string that wipes itself.
//
// Contract:
// - random_digits() draws from OpenSSL RAND_bytes with rejection sampling, so
//   every code of the requested length is equally likely. If the CSPRNG fails
//   it returns nothing: there is no weaker fallback.
// - keyed_hmac::mac_fields() authenticates a domain-separation label and a
//   list of fields, each written as a big-endian u32 length followed by its
//   bytes, so ("a:b","c") and ("a","b:c") never share a MAC (OTP-Pi joined
//   fields with ':' and they did).
// - No function here throws on the request path; the keyed_hmac constructor
//   throws at startup if the key is unusable or OpenSSL cannot set up HMAC.
//
// Thread-safety: random_digits() and constant_time_equal() are thread-safe.
// A keyed_hmac object keeps one OpenSSL context that it resets per MAC, so
// one object must be used by one thread at a time (the engine's io_context
// thread). secure_string is a value type with no sharing.
#pragma once

#include "otppi/core/secure_string.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

// Forward declaration so users of this header do not pull in OpenSSL headers.
struct evp_mac_ctx_st;

namespace otppi::otp {

// The OTP layer keeps its clear codes in core's wiping string.
using core::secure_string;

inline constexpr std::size_t min_code_length = 4;
inline constexpr std::size_t max_code_length = 10;

// `length` uniformly random decimal digits ('0'..'9', leading zeros kept).
// nullopt if length is outside [min_code_length, max_code_length] or the
// CSPRNG failed.
std::optional<secure_string> random_digits(std::size_t length);

// Timing independent of where a and b differ (CRYPTO_memcmp). Sizes are not
// secret: different sizes compare unequal at once.
bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept;

// HMAC with a key fixed at construction, over SHA-512 (DigestSize 64: the
// OTP engine) or SHA-256 (32: keys that only this process checks, such as the
// auth cache's, where SHA-256 is cheaper with the CPU's SHA instructions).
template <std::size_t DigestSize>
class keyed_hmac {
public:
    static_assert(DigestSize == 64 || DigestSize == 32, "SHA-512 or SHA-256");
    static constexpr std::size_t digest_size = DigestSize;
    using digest = std::array<std::uint8_t, digest_size>;

    // Throws std::invalid_argument on an empty key, std::runtime_error if
    // OpenSSL cannot provide the HMAC. The key bytes are copied into the
    // OpenSSL context; the caller wipes its own copy.
    explicit keyed_hmac(std::span<const std::uint8_t> key);
    ~keyed_hmac();
    keyed_hmac(const keyed_hmac&) = delete;
    keyed_hmac& operator=(const keyed_hmac&) = delete;

    // MAC over raw bytes. false (and `out` zeroed) if OpenSSL fails.
    bool mac(std::span<const std::uint8_t> data, digest& out) noexcept;

    // MAC over the encoding of detail::encode_fields(label, fields), fed to
    // OpenSSL piecewise so that no temporary copy of a secret field exists.
    bool mac_fields(std::string_view label, std::span<const std::string_view> fields, digest& out) noexcept;

private:
    evp_mac_ctx_st* ctx_ = nullptr;
};

extern template class keyed_hmac<64>;
extern template class keyed_hmac<32>;
using hmac_sha512 = keyed_hmac<64>;
using hmac_sha256 = keyed_hmac<32>;

namespace detail {

// The byte source behind random_digits(); replaceable in tests to prove the
// rejection sampling and the failure path. Returns false on failure.
using random_fill_fn = bool (*)(std::uint8_t* out, std::size_t n);
bool openssl_random_fill(std::uint8_t* out, std::size_t n) noexcept;
std::optional<secure_string> random_digits(std::size_t length, random_fill_fn fill);

// label and every field as u32 big-endian length + bytes. Fields longer than
// 4 GiB cannot be encoded: the callers bound field sizes far below that.
std::string encode_fields(std::string_view label, std::span<const std::string_view> fields);

}  // namespace detail
}  // namespace otppi::otp
