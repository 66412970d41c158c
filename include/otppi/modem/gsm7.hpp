// Text codecs under the SMS PDU codec: the GSM 7-bit default alphabet and its extension table
// (3GPP TS 23.038 §6.2.1, §6.2.1.1), septet packing (§6.1.2.1), UTF-8 <-> UTF-16/UCS-2 and hex.
//
// Contract: pure functions, no I/O, no global state, no exceptions on untrusted input (only
// std::bad_alloc can escape). Decoders never read past their input: malformed structure gives
// std::nullopt, malformed *text* inside a well-formed structure gives U+FFFD where stated, so a
// message with one bad character is still readable. Encoders taking UTF-8 reject invalid UTF-8.
// Thread-safety: stateless, callable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace otppi::modem {

// ---- hex -------------------------------------------------------------------------------------

// Upper-case, no separators: the form AT+CMGS and +CMGL use.
std::string to_hex(std::span<const std::uint8_t> bytes);
// Accepts upper and lower case; rejects odd length, whitespace and any non-hex character.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex);

// ---- Unicode ---------------------------------------------------------------------------------

// Strict UTF-8 (RFC 3629): rejects overlong forms, surrogates, code points above U+10FFFF and
// truncated sequences.
std::optional<std::u32string> utf8_to_code_points(std::string_view utf8);
// Appends one code point; surrogates and values above U+10FFFF become U+FFFD.
void append_utf8(std::string& out, char32_t cp);
std::optional<std::u16string> utf8_to_utf16(std::string_view utf8);
// Unpaired surrogates become U+FFFD.
std::string utf16_to_utf8(std::u16string_view units);
// Big-endian UTF-16 octets as carried in SMS "UCS2" user data.
std::vector<std::uint8_t> utf16_to_ucs2_bytes(std::u16string_view units);
// Big-endian; a dangling odd octet becomes U+FFFD.
std::string ucs2_bytes_to_utf8(std::span<const std::uint8_t> bytes);
// Number of UTF-16 code units the code point needs (1 or 2).
constexpr std::size_t utf16_length(char32_t cp) noexcept { return cp > 0xFFFF ? 2 : 1; }

// ---- GSM 7-bit default alphabet --------------------------------------------------------------

inline constexpr std::uint8_t gsm7_escape = 0x1B;
inline constexpr std::uint8_t gsm7_cr = 0x0D;

// Septets the code point costs: 1 (default table), 2 (ESC + extension table) or 0 (not
// representable, the text must go as UCS-2).
std::size_t gsm7_cost(char32_t cp) noexcept;
// Appends the septet(s) for cp; false (and nothing appended) when not representable.
bool append_gsm7(std::vector<std::uint8_t>& septets, char32_t cp);
// UTF-8 -> septet values (one per byte, ESC pairs expanded). nullopt on invalid UTF-8 or any
// character outside the default alphabet and extension table.
std::optional<std::vector<std::uint8_t>> utf8_to_gsm7(std::string_view utf8);
// Septet values -> UTF-8. Bit 7 of each input byte is ignored. ESC followed by a code the
// extension table does not define shows the default-table character (TS 23.038 §6.2.1.1); a lone
// trailing ESC, or ESC ESC (reserved for a further table), shows a space.
std::string gsm7_to_utf8(std::span<const std::uint8_t> septets);

// ---- septet packing --------------------------------------------------------------------------

// Octets needed for `septets` septets starting `fill_bits` bits into the first octet.
constexpr std::size_t packed_octets(std::size_t septets, std::size_t fill_bits = 0) noexcept { return (fill_bits + septets * 7 + 7) / 8; }
// Packs septets LSB first. `fill_bits` zero bits come first: SMS user data after a UDH starts
// on a septet boundary (TS 23.040 §9.2.3.24), so the first septet is shifted by the fill.
std::vector<std::uint8_t> pack_septets(std::span<const std::uint8_t> septets, std::size_t fill_bits = 0);
// Reads `count` septets starting `fill_bits` bits in. nullopt when the octets are too few.
std::optional<std::vector<std::uint8_t>> unpack_septets(std::span<const std::uint8_t> octets, std::size_t count, std::size_t fill_bits = 0);
// Packing where no length field says how many septets there are (USSD, cell broadcast): when 7
// spare bits would remain they carry CR instead of zeros, so the receiver does not read a
// trailing '@' (TS 23.038 §6.1.2.3.1).
std::vector<std::uint8_t> pack_septets_cr_padded(std::span<const std::uint8_t> septets);
// Inverse of pack_septets_cr_padded: all whole septets, minus a padding CR.
std::vector<std::uint8_t> unpack_septets_cr_padded(std::span<const std::uint8_t> octets);

}  // namespace otppi::modem
