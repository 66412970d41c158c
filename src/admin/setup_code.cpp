#include "otppi/admin/setup_code.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace otppi::admin {

namespace {
constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // 32 symbols: 5 bits each, no modulo bias
constexpr std::size_t code_chars = 10;
constexpr std::size_t max_typed = 64;
}  // namespace

std::string make_setup_code() {
    std::array<unsigned char, code_chars> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) throw std::runtime_error("CSPRNG failed while making the setup code");
    std::string out;
    for (std::size_t i = 0; i < code_chars; ++i) {
        if (i == code_chars / 2) out += '-';
        out += alphabet[bytes[i] & 31];
    }
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return out;
}

std::string canonical_setup_code(std::string_view typed) {
    if (typed.size() > max_typed) return {};
    std::string out;
    for (char ch : typed) {
        if (ch == '-' || ch == ' ') continue;
        if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
        if (ch == 'O') ch = '0';
        if (ch == 'I' || ch == 'L') ch = '1';
        bool known = false;
        for (const char* a = alphabet; *a; ++a) known = known || *a == ch;
        if (!known) return {};
        out += ch;
    }
    return out.size() == code_chars ? out : std::string();
}

bool setup_code_matches(std::string_view typed, std::string_view expected) {
    const auto a = canonical_setup_code(typed);
    const auto b = canonical_setup_code(expected);
    // Both have code_chars characters when valid; the compare itself does
    // not stop at the first difference.
    return !a.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace otppi::admin
