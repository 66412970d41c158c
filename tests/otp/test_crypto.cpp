#include "otppi/otp/crypto.hpp"

#include <gtest/gtest.h>

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace otppi::otp {
namespace {

std::string hex(std::span<const std::uint8_t> bytes) {
    std::string out;
    char buf[3];
    for (auto b : bytes) {
        std::snprintf(buf, sizeof buf, "%02x", b);
        out += buf;
    }
    return out;
}

std::span<const std::uint8_t> as_bytes(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

std::vector<std::uint8_t> test_key() {
    std::vector<std::uint8_t> key(64);
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 7 + 1);
    return key;
}

// ---------------------------------------------------------------- secure_string

TEST(OtpSecureString, AppendGrowAndView) {
    secure_string s;
    EXPECT_TRUE(s.empty());
    EXPECT_STREQ(s.c_str(), "");
    s.append("12");
    s.push_back('3');
    s.append(std::string(100, 'x'));
    EXPECT_EQ(s.size(), 103u);
    EXPECT_EQ(s.view().substr(0, 4), "123x");
    EXPECT_EQ(s.c_str()[103], '\0');
}

TEST(OtpSecureString, MoveLeavesSourceEmptyAndCloneIsExplicit) {
    secure_string a("482193");
    secure_string b = std::move(a);
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
    EXPECT_EQ(b, "482193");
    secure_string c = b.clone();
    EXPECT_EQ(c, "482193");
    c = std::move(b);
    EXPECT_EQ(c, "482193");
    c.clear();
    EXPECT_TRUE(c.empty());
    EXPECT_STREQ(c.c_str(), "");
}

// ---------------------------------------------------------------- random digits

TEST(OtpRandomDigits, LengthsFourAndTenAreDigits) {
    for (std::size_t len : {4u, 6u, 10u}) {
        auto code = random_digits(len);
        ASSERT_TRUE(code.has_value());
        ASSERT_EQ(code->size(), len);
        for (char c : code->view()) EXPECT_TRUE(c >= '0' && c <= '9');
    }
}

TEST(OtpRandomDigits, LengthOutsideFourToTenRefused) {
    EXPECT_FALSE(random_digits(3).has_value());
    EXPECT_FALSE(random_digits(11).has_value());
    EXPECT_FALSE(random_digits(0).has_value());
}

// A scripted byte source: replays `script` then repeats its last byte.
std::vector<std::uint8_t> script;
std::size_t script_pos = 0;
bool scripted_fill(std::uint8_t* out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = script_pos < script.size() ? script[script_pos++] : script.back();
    }
    return true;
}

TEST(OtpRandomDigits, BytesFrom250UpAreRejectedNotFolded) {
    // 250..255 would be 0..5 under a plain modulo; they must be skipped.
    script = {250, 251, 252, 253, 254, 255, 7, 255, 19, 249, 0, 123};
    script_pos = 0;
    auto code = detail::random_digits(5, &scripted_fill);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, "79903");
}

TEST(OtpRandomDigits, RejectionLoopsUntilEnoughDigits) {
    // A whole 16-byte batch of rejects, then acceptable bytes.
    script.assign(16, 255);
    script.insert(script.end(), {1, 2, 3, 4});
    script_pos = 0;
    auto code = detail::random_digits(4, &scripted_fill);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, "1234");
}

bool failing_fill(std::uint8_t*, std::size_t) { return false; }

TEST(OtpRandomDigits, SourceFailureGivesNothingNotAWeakCode) { EXPECT_FALSE(detail::random_digits(6, &failing_fill).has_value()); }

// Pearson chi-square statistic of counts against a uniform expectation.
double chi_square(const std::vector<std::uint64_t>& counts, double expected) {
    double chi = 0;
    for (auto c : counts) chi += (static_cast<double>(c) - expected) * (static_cast<double>(c) - expected) / expected;
    return chi;
}

TEST(OtpRandomDigits, DigitsAreUniformChiSquare) {
    // 100k six-digit codes. With 9 degrees of freedom the statistic averages
    // 9; P(chi2 > 60) is about 1e-9, so this does not flake, yet modulo bias
    // (26:25 odds for 0..5) gives ~220 at this sample size (see next test).
    constexpr std::size_t draws = 100'000, len = 6;
    std::vector<std::uint64_t> all(10), first(10);
    std::vector<std::vector<std::uint64_t>> per_position(len, std::vector<std::uint64_t>(10));
    for (std::size_t i = 0; i < draws; ++i) {
        auto code = random_digits(len);
        ASSERT_TRUE(code.has_value());
        for (std::size_t p = 0; p < len; ++p) {
            const int d = code->view()[p] - '0';
            ++all[d];
            ++per_position[p][d];
        }
        ++first[code->view()[0] - '0'];
    }
    EXPECT_LT(chi_square(all, draws * len / 10.0), 60.0);
    for (std::size_t p = 0; p < len; ++p) EXPECT_LT(chi_square(per_position[p], draws / 10.0), 60.0) << p;
    // Leading zeros are kept: about 10% of codes start with '0'.
    EXPECT_GT(first[0], 9'000u);
    EXPECT_LT(first[0], 11'000u);
}

TEST(OtpRandomDigits, TheUniformityTestWouldCatchModuloBias) {
    constexpr std::size_t n = 600'000;
    std::vector<std::uint8_t> bytes(n);
    ASSERT_EQ(RAND_bytes(bytes.data(), static_cast<int>(n)), 1);
    std::vector<std::uint64_t> counts(10);
    for (auto b : bytes) ++counts[b % 10];  // the biased way
    EXPECT_GT(chi_square(counts, n / 10.0), 60.0);
}

TEST(OtpRandomDigits, WholeFourDigitCodesAreUniform) {
    // 10^4 buckets, 10 expected each: df 9999, sd ~141; 11'500 is > 10 sd.
    constexpr std::size_t draws = 100'000;
    std::vector<std::uint64_t> counts(10'000);
    for (std::size_t i = 0; i < draws; ++i) {
        auto code = random_digits(4);
        ASSERT_TRUE(code.has_value());
        ++counts[std::stoul(std::string(code->view()))];
    }
    EXPECT_LT(chi_square(counts, draws / 10'000.0), 11'500.0);
}

// ---------------------------------------------------------------- compare

TEST(OtpConstantTimeEqual, Basics) {
    const std::array<std::uint8_t, 4> a{1, 2, 3, 4}, b{1, 2, 3, 4}, c{1, 2, 3, 5};
    const std::array<std::uint8_t, 3> d{1, 2, 3};
    EXPECT_TRUE(constant_time_equal(a, b));
    EXPECT_FALSE(constant_time_equal(a, c));
    EXPECT_FALSE(constant_time_equal(a, d));
    EXPECT_TRUE(constant_time_equal(std::span<const std::uint8_t>{}, std::span<const std::uint8_t>{}));
}

// ---------------------------------------------------------------- HMAC

TEST(OtpHmacSha512, Rfc4231Vectors) {
    {
        hmac_sha512 mac(as_bytes("Jefe"));
        hmac_sha512::digest out;
        ASSERT_TRUE(mac.mac(as_bytes("what do ya want for nothing?"), out));
        EXPECT_EQ(hex(out),
                  "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
        // The context is reset, not consumed: a second MAC is the same.
        hmac_sha512::digest again;
        ASSERT_TRUE(mac.mac(as_bytes("what do ya want for nothing?"), again));
        EXPECT_EQ(out, again);
    }
    {
        const std::vector<std::uint8_t> key(20, 0x0b);
        hmac_sha512 mac(key);
        hmac_sha512::digest out;
        ASSERT_TRUE(mac.mac(as_bytes("Hi There"), out));
        EXPECT_EQ(hex(out),
                  "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
                  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
    }
}

TEST(OtpHmacSha512, EmptyKeyRefused) { EXPECT_THROW(hmac_sha512(std::span<const std::uint8_t>{}), std::invalid_argument); }

TEST(OtpHmacSha256, Rfc4231Vectors) {
    {
        hmac_sha256 mac(as_bytes("Jefe"));
        hmac_sha256::digest out;
        ASSERT_TRUE(mac.mac(as_bytes("what do ya want for nothing?"), out));
        EXPECT_EQ(hex(out), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        hmac_sha256::digest again;
        ASSERT_TRUE(mac.mac(as_bytes("what do ya want for nothing?"), again));
        EXPECT_EQ(out, again);
    }
    {
        const std::vector<std::uint8_t> key(20, 0x0b);
        hmac_sha256 mac(key);
        hmac_sha256::digest out;
        ASSERT_TRUE(mac.mac(as_bytes("Hi There"), out));
        EXPECT_EQ(hex(out), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
        // mac_fields is the MAC of the length-prefixed encoding, as with SHA-512.
        const std::string_view fields[] = {"user", "pass:word"};
        hmac_sha256::digest streamed, whole;
        ASSERT_TRUE(mac.mac_fields("label", fields, streamed));
        ASSERT_TRUE(mac.mac(as_bytes(detail::encode_fields("label", fields)), whole));
        EXPECT_EQ(streamed, whole);
    }
    EXPECT_THROW(hmac_sha256(std::span<const std::uint8_t>{}), std::invalid_argument);
}

TEST(OtpFieldEncoding, IsLengthPrefixedBigEndian) {
    const std::string_view fields[] = {"ab", "", "c"};
    const std::string enc = detail::encode_fields("L", fields);
    const std::string expected("\0\0\0\1L\0\0\0\2ab\0\0\0\0\0\0\0\1c", 20);
    EXPECT_EQ(enc, expected);
}

TEST(OtpFieldEncoding, StreamedMacEqualsMacOfEncoding) {
    const auto key = test_key();
    hmac_sha512 mac(key);
    const std::string_view fields[] = {"ref-1", "628126666666", "p1", "", "p3", "p4", "123456"};
    hmac_sha512::digest streamed, whole;
    ASSERT_TRUE(mac.mac_fields("label", fields, streamed));
    ASSERT_TRUE(mac.mac(as_bytes(detail::encode_fields("label", fields)), whole));
    EXPECT_EQ(streamed, whole);
}

TEST(OtpFieldEncoding, ColonJoinAmbiguityIsGone) {
    // OTP-Pi hashed "a:b:c"-style joins: these two inputs collided.
    const std::string_view x[] = {"a:b", "c"};
    const std::string_view y[] = {"a", "b:c"};
    EXPECT_EQ(std::string(x[0]) + ":" + std::string(x[1]), std::string(y[0]) + ":" + std::string(y[1]));
    EXPECT_NE(detail::encode_fields("l", x), detail::encode_fields("l", y));

    const auto key = test_key();
    hmac_sha512 mac(key);
    hmac_sha512::digest dx, dy;
    ASSERT_TRUE(mac.mac_fields("l", x, dx));
    ASSERT_TRUE(mac.mac_fields("l", y, dy));
    EXPECT_NE(dx, dy);

    // Moving bytes across a boundary, or into an empty field, also changes it.
    const std::string_view u[] = {"ab", ""};
    const std::string_view v[] = {"a", "b"};
    hmac_sha512::digest du, dv;
    ASSERT_TRUE(mac.mac_fields("l", u, du));
    ASSERT_TRUE(mac.mac_fields("l", v, dv));
    EXPECT_NE(du, dv);
}

TEST(OtpFieldEncoding, LabelSeparatesDomains) {
    const auto key = test_key();
    hmac_sha512 mac(key);
    const std::string_view f[] = {"same"};
    const std::string_view g[] = {"l2", "same"};
    hmac_sha512::digest a, b, c;
    ASSERT_TRUE(mac.mac_fields("l1", f, a));
    ASSERT_TRUE(mac.mac_fields("l2", f, b));
    ASSERT_TRUE(mac.mac_fields("l1", g, c));
    EXPECT_NE(a, b);
    EXPECT_NE(a, c);
}

}  // namespace
}  // namespace otppi::otp
