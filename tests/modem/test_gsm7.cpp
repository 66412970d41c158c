#include "otppi/modem/gsm7.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace otppi::modem;

namespace {

std::vector<std::uint8_t> bytes(std::string_view hex) { return from_hex(hex).value(); }

std::vector<std::uint8_t> ascii_septets(std::string_view s) { return std::vector<std::uint8_t>(s.begin(), s.end()); }

}  // namespace

// ---- hex -------------------------------------------------------------------------------------

TEST(Hex, ToHexIsUpperCase) {
    const std::vector<std::uint8_t> b{0x00, 0x0F, 0xAB, 0xFF};
    EXPECT_EQ(to_hex(b), "000FABFF");
    EXPECT_EQ(to_hex({}), "");
}

TEST(Hex, FromHexAcceptsBothCases) {
    EXPECT_EQ(from_hex("00abFF"), (std::vector<std::uint8_t>{0x00, 0xAB, 0xFF}));
    EXPECT_EQ(from_hex(""), std::vector<std::uint8_t>{});
}

TEST(Hex, FromHexRejectsGarbage) {
    EXPECT_FALSE(from_hex("0"));
    EXPECT_FALSE(from_hex("0G"));
    EXPECT_FALSE(from_hex("00 11"));
    EXPECT_FALSE(from_hex("00\r"));
    EXPECT_FALSE(from_hex("-1"));
}

// ---- Unicode ---------------------------------------------------------------------------------

TEST(Utf8, DecodesAllLengths) {
    const auto cps = utf8_to_code_points("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");  // a é € 😀
    ASSERT_TRUE(cps);
    EXPECT_EQ(*cps, (std::u32string{U'a', 0xE9, 0x20AC, 0x1F600}));
}

TEST(Utf8, RejectsMalformed) {
    EXPECT_FALSE(utf8_to_code_points("\xC3"));              // truncated
    EXPECT_FALSE(utf8_to_code_points("\xE2\x82"));          // truncated
    EXPECT_FALSE(utf8_to_code_points("\xC0\xAF"));          // overlong '/'
    EXPECT_FALSE(utf8_to_code_points("\xE0\x80\xAF"));      // overlong
    EXPECT_FALSE(utf8_to_code_points("\xED\xA0\x80"));      // surrogate D800
    EXPECT_FALSE(utf8_to_code_points("\xF4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(utf8_to_code_points("\x80"));              // stray continuation
    EXPECT_FALSE(utf8_to_code_points("\xFF"));
    EXPECT_FALSE(utf8_to_code_points("a\xC3(b"));  // bad continuation
}

TEST(Utf8, AppendReplacesInvalidCodePoints) {
    std::string s;
    append_utf8(s, 0xD800);
    append_utf8(s, 0x110000);
    EXPECT_EQ(s, "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Utf16, SurrogatePairsRoundTrip) {
    const auto u = utf8_to_utf16("x\xF0\x9F\x98\x80");
    ASSERT_TRUE(u);
    EXPECT_EQ(*u, (std::u16string{u'x', 0xD83D, 0xDE00}));
    EXPECT_EQ(utf16_to_utf8(*u), "x\xF0\x9F\x98\x80");
}

TEST(Utf16, LoneSurrogatesBecomeReplacementChar) {
    EXPECT_EQ(utf16_to_utf8(std::u16string{0xD83D, u'a'}),
              "\xEF\xBF\xBD"
              "a");
    EXPECT_EQ(utf16_to_utf8(std::u16string{0xDE00}), "\xEF\xBF\xBD");
    EXPECT_EQ(utf16_to_utf8(std::u16string{0xD83D}), "\xEF\xBF\xBD");
}

TEST(Ucs2, BigEndianBytes) {
    // "Привет": U+041F U+0440 U+0438 U+0432 U+0435 U+0442.
    const auto u = utf8_to_utf16("\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
    ASSERT_TRUE(u);
    EXPECT_EQ(to_hex(utf16_to_ucs2_bytes(*u)), "041F04400438043204350442");
    EXPECT_EQ(ucs2_bytes_to_utf8(bytes("041F04400438043204350442")), "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
}

TEST(Ucs2, OddTrailingByteBecomesReplacementChar) { EXPECT_EQ(ucs2_bytes_to_utf8(bytes("004100")), "A\xEF\xBF\xBD"); }

// ---- GSM 7-bit alphabet ----------------------------------------------------------------------

TEST(Gsm7, CostOfCharacters) {
    EXPECT_EQ(gsm7_cost(U'a'), 1u);
    EXPECT_EQ(gsm7_cost(U'@'), 1u);
    EXPECT_EQ(gsm7_cost(0x00C7), 1u);  // Ç is in the default table
    EXPECT_EQ(gsm7_cost(0x0394), 1u);  // Δ
    EXPECT_EQ(gsm7_cost(0x20AC), 2u);  // €
    for (const char32_t c : {U'^', U'{', U'}', U'\\', U'[', U'~', U']', U'|', U'\f'}) {
        EXPECT_EQ(gsm7_cost(c), 2u) << static_cast<unsigned>(c);
    }
    EXPECT_EQ(gsm7_cost(0x00E7), 0u);   // ç is not (only the capital)
    EXPECT_EQ(gsm7_cost(0x0416), 0u);   // Ж
    EXPECT_EQ(gsm7_cost(0x1F600), 0u);  // emoji
    EXPECT_EQ(gsm7_cost(U'`'), 0u);
    EXPECT_EQ(gsm7_cost(0x1B), 0u);  // ESC has no character of its own
}

TEST(Gsm7, SpecTableSpotChecks) {
    // Values from the TS 23.038 §6.2.1 table.
    EXPECT_EQ(utf8_to_gsm7("@\xC2\xA3$\xC2\xA5"), (std::vector<std::uint8_t>{0x00, 0x01, 0x02, 0x03}));
    EXPECT_EQ(utf8_to_gsm7("_\xC2\xA4\xC2\xA1\xC2\xA7\xC2\xBF\xC3\xA0"), (std::vector<std::uint8_t>{0x11, 0x24, 0x40, 0x5F, 0x60, 0x7F}));
    EXPECT_EQ(utf8_to_gsm7("\xE2\x82\xAC{"), (std::vector<std::uint8_t>{0x1B, 0x65, 0x1B, 0x28}));
}

TEST(Gsm7, WholeDefaultTableRoundTrips) {
    for (unsigned s = 0; s < 128; ++s) {
        if (s == gsm7_escape) continue;
        const std::vector<std::uint8_t> one{static_cast<std::uint8_t>(s)};
        const std::string utf8 = gsm7_to_utf8(one);
        EXPECT_EQ(utf8_to_gsm7(utf8), one) << "septet " << s;
    }
}

TEST(Gsm7, ExtensionTableRoundTrips) {
    const std::string text = "\f^{}\\[~]|\xE2\x82\xAC";
    const auto s = utf8_to_gsm7(text);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->size(), 20u);
    EXPECT_EQ(gsm7_to_utf8(*s), text);
}

TEST(Gsm7, UnknownEscapeShowsDefaultCharacter) {
    EXPECT_EQ(gsm7_to_utf8(std::vector<std::uint8_t>{0x1B, 0x41}), "A");
    EXPECT_EQ(gsm7_to_utf8(std::vector<std::uint8_t>{0x1B, 0x1B, 0x41}), " A");
    EXPECT_EQ(gsm7_to_utf8(std::vector<std::uint8_t>{0x41, 0x1B}), "A ");
}

TEST(Gsm7, HighBitIgnored) { EXPECT_EQ(gsm7_to_utf8(std::vector<std::uint8_t>{0xC1}), "A"); }

TEST(Gsm7, RejectsWhatItCannotCarry) {
    EXPECT_FALSE(utf8_to_gsm7("\xD0\x96"));  // Ж
    EXPECT_FALSE(utf8_to_gsm7("ok\xC3"));    // invalid UTF-8
}

// ---- packing ---------------------------------------------------------------------------------

TEST(Septets, HellohelloPublishedExample) {
    // The classic example of GSM 03.38 packing (e.g. the dreamfabric SMS PDU page).
    EXPECT_EQ(to_hex(pack_septets(ascii_septets("hellohello"))), "E8329BFD4697D9EC37");
    const auto s = unpack_septets(bytes("E8329BFD4697D9EC37"), 10);
    ASSERT_TRUE(s);
    EXPECT_EQ(gsm7_to_utf8(*s), "hellohello");
}

TEST(Septets, FillBitsAfterUdhPublishedExample) {
    // From a published reply-address UDH example (alt.cellular.gsm): an 11-octet UDH takes
    // 88 bits, padded with 3 fill bits to 13 septets; "Please reply" follows as
    // 80B2CBE17919242FC3D979.
    EXPECT_EQ(to_hex(pack_septets(ascii_septets("Please reply"), 3)), "80B2CBE17919242FC3D979");
    const auto s = unpack_septets(bytes("80B2CBE17919242FC3D979"), 12, 3);
    ASSERT_TRUE(s);
    EXPECT_EQ(gsm7_to_utf8(*s), "Please reply");
}

TEST(Septets, OneFillBitAfterConcatUdh) {
    // 6-octet UDH -> 1 fill bit. 'a' (0x61) shifted left by one is 0xC2; the second septet then
    // fills bits 8..14 exactly, so the next octet is 0x61 itself.
    const auto p = pack_septets(ascii_septets("aa"), 1);
    EXPECT_EQ(to_hex(p), "C261");
    EXPECT_EQ(packed_octets(2, 1), 2u);
}

TEST(Septets, EightSeptetsFillSevenOctets) {
    // Worked by hand: '1'..'8' (0x31..0x38) pack to 31 D9 8C 56 B3 DD 70.
    EXPECT_EQ(to_hex(pack_septets(ascii_septets("12345678"))), "31D98C56B3DD70");
    EXPECT_EQ(packed_octets(8), 7u);
    EXPECT_EQ(packed_octets(160), 140u);
    EXPECT_EQ(packed_octets(153, 1), 134u);
}

TEST(Septets, UnpackRefusesTooFewOctets) {
    const auto b = bytes("E8329BFD4697D9EC37");
    EXPECT_TRUE(unpack_septets(b, 10));
    EXPECT_FALSE(unpack_septets(b, 11));
    EXPECT_FALSE(unpack_septets(b, 10, 7));
    EXPECT_FALSE(unpack_septets(b, static_cast<std::size_t>(-1)));
    EXPECT_FALSE(unpack_septets({}, 1));
    EXPECT_FALSE(unpack_septets(b, 0, 1000));
    EXPECT_TRUE(unpack_septets({}, 0));
}

TEST(Septets, CrPaddingWhenSevenBitsSpare) {
    // 7 septets leave 7 spare bits: CR (0x0D) fills them instead of zeros (TS 23.038
    // §6.1.2.3.1), so the last octet is 0x0D << 1 = 0x1A rather than 0x00.
    EXPECT_EQ(to_hex(pack_septets_cr_padded(ascii_septets("1234567"))), "31D98C56B3DD1A");
    EXPECT_EQ(unpack_septets_cr_padded(bytes("31D98C56B3DD1A")), ascii_septets("1234567"));
    // Eight septets end on the octet boundary: nothing to pad, nothing to strip.
    EXPECT_EQ(to_hex(pack_septets_cr_padded(ascii_septets("12345678"))), "31D98C56B3DD70");
    EXPECT_EQ(unpack_septets_cr_padded(bytes("31D98C56B3DD70")), ascii_septets("12345678"));
}

TEST(Septets, WantedFinalCrOnBoundaryIsDoubled) {
    const auto text = ascii_septets("1234567\r");
    const auto packed = pack_septets_cr_padded(text);
    EXPECT_EQ(packed.size(), 8u);
    EXPECT_EQ(unpack_septets_cr_padded(packed), ascii_septets("1234567\r\r"));
}

TEST(Septets, RoundTripAllFills) {
    std::vector<std::uint8_t> s;
    for (unsigned i = 0; i < 160; ++i) s.push_back(static_cast<std::uint8_t>((i * 37) & 0x7F));
    for (std::size_t fill = 0; fill < 7; ++fill) {
        for (std::size_t n = 0; n <= s.size(); n += 13) {
            const std::span<const std::uint8_t> in(s.data(), n);
            const auto packed = pack_septets(in, fill);
            ASSERT_EQ(packed.size(), packed_octets(n, fill));
            const auto back = unpack_septets(packed, n, fill);
            ASSERT_TRUE(back);
            EXPECT_EQ(*back, std::vector<std::uint8_t>(in.begin(), in.end())) << fill << " " << n;
        }
    }
}
