#include "otppi/modem/gsm7.hpp"

#include <array>

namespace otppi::modem {

namespace detail {

inline constexpr char32_t replacement_char = 0xFFFD;

// TS 23.038 §6.2.1. Index = septet value. 0x1B is the escape to the extension table and has no
// character of its own; 0 marks it here (no real entry maps to U+0000).
// clang-format off
inline constexpr std::array<char32_t, 128> gsm7_default = {
    /* 00 */ U'@',      U'\u00A3', U'$',      U'\u00A5', U'\u00E8', U'\u00E9', U'\u00F9', U'\u00EC',
    /* 08 */ U'\u00F2', U'\u00C7', U'\n',     U'\u00D8', U'\u00F8', U'\r',     U'\u00C5', U'\u00E5',
    /* 10 */ U'\u0394', U'_',      U'\u03A6', U'\u0393', U'\u039B', U'\u03A9', U'\u03A0', U'\u03A8',
    /* 18 */ U'\u03A3', U'\u0398', U'\u039E', 0,         U'\u00C6', U'\u00E6', U'\u00DF', U'\u00C9',
    /* 20 */ U' ',      U'!',      U'"',      U'#',      U'\u00A4', U'%',      U'&',      U'\'',
    /* 28 */ U'(',      U')',      U'*',      U'+',      U',',      U'-',      U'.',      U'/',
    /* 30 */ U'0',      U'1',      U'2',      U'3',      U'4',      U'5',      U'6',      U'7',
    /* 38 */ U'8',      U'9',      U':',      U';',      U'<',      U'=',      U'>',      U'?',
    /* 40 */ U'\u00A1', U'A',      U'B',      U'C',      U'D',      U'E',      U'F',      U'G',
    /* 48 */ U'H',      U'I',      U'J',      U'K',      U'L',      U'M',      U'N',      U'O',
    /* 50 */ U'P',      U'Q',      U'R',      U'S',      U'T',      U'U',      U'V',      U'W',
    /* 58 */ U'X',      U'Y',      U'Z',      U'\u00C4', U'\u00D6', U'\u00D1', U'\u00DC', U'\u00A7',
    /* 60 */ U'\u00BF', U'a',      U'b',      U'c',      U'd',      U'e',      U'f',      U'g',
    /* 68 */ U'h',      U'i',      U'j',      U'k',      U'l',      U'm',      U'n',      U'o',
    /* 70 */ U'p',      U'q',      U'r',      U's',      U't',      U'u',      U'v',      U'w',
    /* 78 */ U'x',      U'y',      U'z',      U'\u00E4', U'\u00F6', U'\u00F1', U'\u00FC', U'\u00E0',
};
// clang-format on

struct ext_entry {
    std::uint8_t septet;
    char32_t cp;
};

// TS 23.038 §6.2.1.1, the entries of the default extension table that carry a character.
// 0x0A (form feed) is the page break; 0x0D (CR2) and 0x1B (further escape) carry none.
inline constexpr std::array<ext_entry, 10> gsm7_extension = {{
    {0x0A, U'\f'},
    {0x14, U'^'},
    {0x28, U'{'},
    {0x29, U'}'},
    {0x2F, U'\\'},
    {0x3C, U'['},
    {0x3D, U'~'},
    {0x3E, U']'},
    {0x40, U'|'},
    {0x65, U'\u20AC'},
}};

// Reverse lookup for the Latin-1 range, where almost all traffic falls; -1 = not in the default
// table. Built at compile time so plan_sms stays linear in the text length.
constexpr std::array<std::int16_t, 256> make_latin1_reverse() {
    std::array<std::int16_t, 256> r{};
    for (auto& v : r) v = -1;
    for (std::size_t i = 0; i < gsm7_default.size(); ++i) {
        const char32_t cp = gsm7_default[i];
        if (i != gsm7_escape && cp < 256) r[cp] = static_cast<std::int16_t>(i);
    }
    return r;
}
inline constexpr auto latin1_reverse = make_latin1_reverse();

int default_septet(char32_t cp) noexcept {
    if (cp < 256) return latin1_reverse[cp];
    for (std::size_t i = 0; i < gsm7_default.size(); ++i) {
        if (gsm7_default[i] == cp && i != gsm7_escape) return static_cast<int>(i);
    }
    return -1;
}

int extension_septet(char32_t cp) noexcept {
    for (const auto& e : gsm7_extension) {
        if (e.cp == cp) return e.septet;
    }
    return -1;
}

std::optional<char32_t> extension_char(std::uint8_t septet) noexcept {
    for (const auto& e : gsm7_extension) {
        if (e.septet == septet) return e.cp;
    }
    return std::nullopt;
}

void append_utf16(std::u16string& out, char32_t cp) {
    if (cp > 0xFFFF) {
        cp -= 0x10000;
        out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
        out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
        out.push_back(static_cast<char16_t>(cp));
    }
}

}  // namespace detail

// ---- hex -------------------------------------------------------------------------------------

std::string to_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const std::uint8_t b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0x0F]);
    }
    return out;
}

namespace {
int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}
}  // namespace

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    std::vector<std::uint8_t> out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = hex_value(hex[i]);
        const int lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
    return out;
}

// ---- Unicode ---------------------------------------------------------------------------------

std::optional<std::u32string> utf8_to_code_points(std::string_view utf8) {
    std::u32string out;
    out.reserve(utf8.size());
    std::size_t i = 0;
    while (i < utf8.size()) {
        const auto b0 = static_cast<std::uint8_t>(utf8[i]);
        std::size_t extra = 0;
        char32_t cp = 0;
        char32_t min = 0;
        if (b0 < 0x80) {
            cp = b0;
        } else if ((b0 & 0xE0) == 0xC0) {
            extra = 1, cp = b0 & 0x1F, min = 0x80;
        } else if ((b0 & 0xF0) == 0xE0) {
            extra = 2, cp = b0 & 0x0F, min = 0x800;
        } else if ((b0 & 0xF8) == 0xF0) {
            extra = 3, cp = b0 & 0x07, min = 0x10000;
        } else {
            return std::nullopt;
        }
        if (extra > utf8.size() - i - 1) return std::nullopt;
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto b = static_cast<std::uint8_t>(utf8[i + k]);
            if ((b & 0xC0) != 0x80) return std::nullopt;
            cp = (cp << 6) | (b & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
        out.push_back(cp);
        i += extra + 1;
    }
    return out;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = detail::replacement_char;
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

std::optional<std::u16string> utf8_to_utf16(std::string_view utf8) {
    const auto cps = utf8_to_code_points(utf8);
    if (!cps) return std::nullopt;
    std::u16string out;
    out.reserve(cps->size());
    for (const char32_t cp : *cps) detail::append_utf16(out, cp);
    return out;
}

std::string utf16_to_utf8(std::u16string_view units) {
    std::string out;
    out.reserve(units.size());
    for (std::size_t i = 0; i < units.size(); ++i) {
        const char32_t u = units[i];
        if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units.size() && units[i + 1] >= 0xDC00 && units[i + 1] <= 0xDFFF) {
            append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (units[i + 1] - 0xDC00));
            ++i;
        } else {
            // Lone surrogates fall through to append_utf8, which substitutes U+FFFD.
            append_utf8(out, u);
        }
    }
    return out;
}

std::vector<std::uint8_t> utf16_to_ucs2_bytes(std::u16string_view units) {
    std::vector<std::uint8_t> out;
    out.reserve(units.size() * 2);
    for (const char16_t u : units) {
        out.push_back(static_cast<std::uint8_t>(u >> 8));
        out.push_back(static_cast<std::uint8_t>(u & 0xFF));
    }
    return out;
}

std::string ucs2_bytes_to_utf8(std::span<const std::uint8_t> bytes) {
    std::u16string units;
    units.reserve(bytes.size() / 2);
    for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
        units.push_back(static_cast<char16_t>(bytes[i] << 8 | bytes[i + 1]));
    }
    std::string out = utf16_to_utf8(units);
    if (bytes.size() % 2 != 0) append_utf8(out, detail::replacement_char);
    return out;
}

// ---- GSM 7-bit -------------------------------------------------------------------------------

std::size_t gsm7_cost(char32_t cp) noexcept {
    if (detail::default_septet(cp) >= 0) return 1;
    if (detail::extension_septet(cp) >= 0) return 2;
    return 0;
}

bool append_gsm7(std::vector<std::uint8_t>& septets, char32_t cp) {
    if (const int s = detail::default_septet(cp); s >= 0) {
        septets.push_back(static_cast<std::uint8_t>(s));
        return true;
    }
    if (const int s = detail::extension_septet(cp); s >= 0) {
        septets.push_back(gsm7_escape);
        septets.push_back(static_cast<std::uint8_t>(s));
        return true;
    }
    return false;
}

std::optional<std::vector<std::uint8_t>> utf8_to_gsm7(std::string_view utf8) {
    const auto cps = utf8_to_code_points(utf8);
    if (!cps) return std::nullopt;
    std::vector<std::uint8_t> out;
    out.reserve(cps->size());
    for (const char32_t cp : *cps) {
        if (!append_gsm7(out, cp)) return std::nullopt;
    }
    return out;
}

std::string gsm7_to_utf8(std::span<const std::uint8_t> septets) {
    std::string out;
    out.reserve(septets.size());
    for (std::size_t i = 0; i < septets.size(); ++i) {
        const std::uint8_t s = septets[i] & 0x7F;
        if (s != gsm7_escape) {
            append_utf8(out, detail::gsm7_default[s]);
            continue;
        }
        if (i + 1 >= septets.size()) {
            out.push_back(' ');
            break;
        }
        const std::uint8_t next = septets[++i] & 0x7F;
        if (const auto ext = detail::extension_char(next)) {
            append_utf8(out, *ext);
        } else if (next == gsm7_escape) {
            out.push_back(' ');
        } else {
            append_utf8(out, detail::gsm7_default[next]);
        }
    }
    return out;
}

// ---- septet packing --------------------------------------------------------------------------

std::vector<std::uint8_t> pack_septets(std::span<const std::uint8_t> septets, std::size_t fill_bits) {
    std::vector<std::uint8_t> out(packed_octets(septets.size(), fill_bits), 0);
    for (std::size_t i = 0; i < septets.size(); ++i) {
        const unsigned v = septets[i] & 0x7Fu;
        const std::size_t bit = fill_bits + i * 7;
        const std::size_t byte = bit / 8;
        const unsigned shift = bit % 8;
        out[byte] = static_cast<std::uint8_t>(out[byte] | (v << shift));
        if (shift > 1) out[byte + 1] = static_cast<std::uint8_t>(out[byte + 1] | (v >> (8 - shift)));
    }
    return out;
}

std::optional<std::vector<std::uint8_t>> unpack_septets(std::span<const std::uint8_t> octets, std::size_t count, std::size_t fill_bits) {
    // Checked without multiplying the untrusted count first, so huge values cannot wrap.
    const std::size_t avail_bits = octets.size() * 8;
    if (fill_bits > avail_bits || count > (avail_bits - fill_bits) / 7) return std::nullopt;
    std::vector<std::uint8_t> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t bit = fill_bits + i * 7;
        const std::size_t byte = bit / 8;
        const unsigned shift = bit % 8;
        unsigned v = octets[byte] >> shift;
        if (shift > 1) v |= static_cast<unsigned>(octets[byte + 1]) << (8 - shift);
        out.push_back(static_cast<std::uint8_t>(v & 0x7F));
    }
    return out;
}

std::vector<std::uint8_t> pack_septets_cr_padded(std::span<const std::uint8_t> septets) {
    std::vector<std::uint8_t> s(septets.begin(), septets.end());
    const bool seven_spare_bits = s.size() % 8 == 7;
    // A wanted final CR on an octet boundary would be taken for padding; the spec doubles it,
    // and CR CR displays the same as CR.
    const bool final_cr_on_boundary = !s.empty() && s.size() % 8 == 0 && (s.back() & 0x7F) == gsm7_cr;
    if (seven_spare_bits || final_cr_on_boundary) s.push_back(gsm7_cr);
    return pack_septets(s);
}

std::vector<std::uint8_t> unpack_septets_cr_padded(std::span<const std::uint8_t> octets) {
    const std::size_t count = octets.size() * 8 / 7;
    auto s = unpack_septets(octets, count).value_or(std::vector<std::uint8_t>{});
    if (octets.size() % 7 == 0 && !s.empty() && s.back() == gsm7_cr) s.pop_back();
    return s;
}

}  // namespace otppi::modem
