#include "otppi/modem/pdu.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

using namespace otppi::modem;

namespace {

// Published examples.
// dreamfabric / GSM 03.40 tutorials: SMSC +27381000015, originator 27838890001 (type C8),
// 1999-03-29 15:16:59 +02:00, "hellohello".
constexpr std::string_view classic_deliver = "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37";
// Same tutorials: SUBMIT to +46708251358, TP-VP AA (4 days), "hellohello".
constexpr std::string_view classic_submit = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37";
// A +CDS status report as printed by a modem without SMSC part (amro.blogspot.com, 2007):
// MR 00, recipient +20121875612, SCTS and discharge time 2007-09-12 15:10:12 / 15:10:17 +02:00,
// TP-ST 00.
constexpr std::string_view published_report = "06000B910221815716F2709021510121807090215101718000";
// A SUBMIT with SMSC +447802002606, DA +447700900123, DCS 11 (class 1), VP 00, 33 septets.
constexpr std::string_view published_submit_class1 =
    "079144872000626011000C914477000910320011002154747A0E4ACF416190BD2CCF83E6E9369C5D06B5CBF379F85"
    "C06E95A29";

// "Привет" in UTF-8.
constexpr std::string_view privet = "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82";
constexpr std::string_view zhe = "\xD0\x96";           // Ж, one UTF-16 unit
constexpr std::string_view grin = "\xF0\x9F\x98\x80";  // 😀, a surrogate pair
constexpr std::string_view euro = "\xE2\x82\xAC";      // €, ESC + 0x65

std::string repeat(std::string_view s, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += s;
    return out;
}

submit_options to(std::string dest) {
    submit_options o;
    o.destination = std::move(dest);
    return o;
}

decoded_pdu must_decode(std::string_view hex, bool smsc = true) {
    auto r = decode_pdu_verbose(hex, smsc);
    EXPECT_TRUE(r.pdu) << hex << ": " << r.error;
    return r.pdu ? std::move(*r.pdu) : decoded_pdu{};
}

sms_timestamp ts(int y, int mo, int d, int h, int mi, int s, int q) { return sms_timestamp{y, mo, d, h, mi, s, q}; }

}  // namespace

// ---- planning --------------------------------------------------------------------------------

TEST(PlanSms, ChoosesGsm7WhenEverythingFits) {
    const auto p = plan_sms("Your code is 123456. Don't share it {ever}!");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->enc, encoding::gsm7);
    EXPECT_EQ(p->parts_utf8.size(), 1u);
}

TEST(PlanSms, ExtensionCharactersCountTwo) {
    const auto p = plan_sms(std::string("{}") + std::string(euro));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->enc, encoding::gsm7);
    EXPECT_EQ(p->units, 6u);
}

TEST(PlanSms, ChoosesUcs2ForOtherCharacters) {
    const auto p = plan_sms(std::string("Kode ") + std::string(privet));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->enc, encoding::ucs2);
    EXPECT_EQ(p->units, 11u);
    // ç is not in the default alphabet (only Ç is), so it forces UCS-2.
    EXPECT_EQ(plan_sms("gar\xC3\xA7on")->enc, encoding::ucs2);
    EXPECT_EQ(plan_sms("GAR\xC3\x87ON")->enc, encoding::gsm7);
}

TEST(PlanSms, EmptyTextIsOneEmptyPart) {
    const auto p = plan_sms("");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->parts_utf8, std::vector<std::string>{""});
    EXPECT_EQ(p->units, 0u);
}

TEST(PlanSms, InvalidUtf8IsRejected) {
    EXPECT_FALSE(plan_sms("abc\xC3"));
    EXPECT_FALSE(plan_sms("\xED\xA0\x80"));
}

TEST(PlanSms, Gsm7_160IsOnePart_161IsTwo) {
    const auto one = plan_sms(std::string(160, 'a'));
    ASSERT_TRUE(one);
    EXPECT_EQ(one->parts_utf8.size(), 1u);
    const auto two = plan_sms(std::string(161, 'a'));
    ASSERT_TRUE(two);
    EXPECT_EQ(two->part_units, (std::vector<std::size_t>{153, 8}));
    EXPECT_EQ(two->parts_utf8[0], std::string(153, 'a'));
    EXPECT_EQ(two->parts_utf8[1], std::string(8, 'a'));
}

TEST(PlanSms, ExtensionCharPushesOverSingleLimit) {
    EXPECT_EQ(plan_sms(std::string(158, 'a') + "{")->parts_utf8.size(), 1u);  // 160 septets
    EXPECT_EQ(plan_sms(std::string(159, 'a') + "{")->parts_utf8.size(), 2u);  // 161 septets
}

TEST(PlanSms, EscapePairNeverSplitAt153) {
    // 152 + 2 would be 154 > 153: the € moves whole to part 2.
    const auto text = std::string(152, 'a') + std::string(euro) + std::string(10, 'b');
    const auto p = plan_sms(text);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->units, 164u);
    EXPECT_EQ(p->part_units, (std::vector<std::size_t>{152, 12}));
    EXPECT_EQ(p->parts_utf8[0], std::string(152, 'a'));
    EXPECT_EQ(p->parts_utf8[1], std::string(euro) + std::string(10, 'b'));
}

TEST(PlanSms, EscapePairExactlyFillingPartStays) {
    const auto text = std::string(151, 'a') + "[" + std::string(10, 'b');
    const auto p = plan_sms(text);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->part_units, (std::vector<std::size_t>{153, 10}));
}

TEST(PlanSms, Ucs2_70IsOnePart_71IsTwo) {
    const auto one = plan_sms(repeat(zhe, 70));
    ASSERT_TRUE(one);
    EXPECT_EQ(one->enc, encoding::ucs2);
    EXPECT_EQ(one->parts_utf8.size(), 1u);
    const auto two = plan_sms(repeat(zhe, 71));
    ASSERT_TRUE(two);
    EXPECT_EQ(two->part_units, (std::vector<std::size_t>{67, 4}));
}

TEST(PlanSms, SurrogatePairNeverSplitAt67) {
    const auto text = repeat(zhe, 66) + std::string(grin) + repeat(zhe, 10);
    const auto p = plan_sms(text);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->units, 78u);
    EXPECT_EQ(p->part_units, (std::vector<std::size_t>{66, 12}));
    EXPECT_EQ(p->parts_utf8[1], std::string(grin) + repeat(zhe, 10));
}

TEST(PlanSms, SixteenBitReferenceCostsOneUnit) {
    EXPECT_EQ(sms_part_capacity(encoding::gsm7, false), 160u);
    EXPECT_EQ(sms_part_capacity(encoding::gsm7, true), 153u);
    EXPECT_EQ(sms_part_capacity(encoding::gsm7, true, true), 152u);
    EXPECT_EQ(sms_part_capacity(encoding::ucs2, false), 70u);
    EXPECT_EQ(sms_part_capacity(encoding::ucs2, true), 67u);
    EXPECT_EQ(sms_part_capacity(encoding::ucs2, true, true), 66u);
    EXPECT_EQ(plan_sms(std::string(161, 'a'), true)->part_units, (std::vector<std::size_t>{152, 9}));
}

TEST(PlanSms, PartsJoinBackToText) {
    std::string text;
    for (int i = 0; i < 40; ++i) text += std::string(privet) + std::string(grin) + " ";
    const auto p = plan_sms(text);
    ASSERT_TRUE(p);
    std::string joined;
    for (std::size_t i = 0; i < p->parts_utf8.size(); ++i) {
        joined += p->parts_utf8[i];
        EXPECT_LE(p->part_units[i], 67u);
    }
    EXPECT_EQ(joined, text);
}

// ---- SMS-SUBMIT encoding ---------------------------------------------------------------------

TEST(EncodeSubmit, MatchesPublishedHellohello) {
    auto o = to("46708251358");
    o.validity_relative = 0xAA;
    const auto r = encode_submit("hellohello", o);
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_EQ(r.pdus.size(), 1u);
    EXPECT_EQ(r.pdus[0].hex, classic_submit);
    EXPECT_EQ(r.pdus[0].tpdu_length, 23);
}

TEST(EncodeSubmit, Ucs2SinglePartByHand) {
    // 00 SMSC | 11 SUBMIT+VPF rel | 00 MR | 0C 91 261862666666 | 00 PID | 08 DCS | A7 VP
    // | 0C UDL | UTF-16BE of Привет.
    const auto r = encode_submit(privet, to("628126666666"));
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_EQ(r.pdus.size(), 1u);
    EXPECT_EQ(r.pdus[0].hex, "0011000C912618626666660008A70C041F04400438043204350442");
    EXPECT_EQ(r.pdus[0].tpdu_length, 26);
}

TEST(EncodeSubmit, LeadingPlusIsTolerated) {
    EXPECT_EQ(encode_submit("hi", to("+628126666666")).pdus.at(0).hex, encode_submit("hi", to("628126666666")).pdus.at(0).hex);
}

TEST(EncodeSubmit, FlagsAndOptions) {
    auto o = to("628126666666");
    o.request_status_report = true;
    // 0x31 = SUBMIT | VPF relative | SRR.
    EXPECT_EQ(encode_submit("hi", o).pdus.at(0).hex.substr(0, 4), "0031");

    o.request_status_report = false;
    o.validity_relative.reset();
    // No TP-VP: first octet 01, and the octet after DCS is the UDL (02).
    EXPECT_EQ(encode_submit("hi", o).pdus.at(0).hex,
              "0001000C912618626666660000"
              "02E834");

    o.flash = true;
    EXPECT_EQ(encode_submit("hi", o).pdus.at(0).hex,
              "0001000C912618626666660010"
              "02E834");

    o.destination_international = false;
    o.destination = "1234";
    o.flash = false;
    EXPECT_EQ(encode_submit("hi", o).pdus.at(0).hex,
              "00010004812143"
              "0000"
              "02E834");
}

TEST(EncodeSubmit, TpduLengthExcludesSmscOctet) {
    const auto r = encode_submit("hi", to("628126666666"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(static_cast<int>(r.pdus[0].hex.size() / 2) - 1, r.pdus[0].tpdu_length);
}

TEST(EncodeSubmit, TwoPartGsm7WithFillBitByHand) {
    auto o = to("628126666666");
    o.concat_ref = 0x42;
    const auto r = encode_submit(std::string(153, 'a') + "12345678", o);
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_EQ(r.pdus.size(), 2u);
    // Part 1: 0x51 = SUBMIT | VPF relative | UDHI; UDL A0 = 7 header septets + 153;
    // UDH 05 00 03 42 02 01; 'a' after one fill bit starts C2 E1 70 ...
    EXPECT_EQ(r.pdus[0].hex.substr(0, 48),
              "0051000C91261862666666"
              "0000A7A0"
              "050003420201"
              "C2E170");
    EXPECT_EQ(r.pdus[0].tpdu_length, 154);  // 14 header octets + 140 octets of user data
    // Part 2: UDL 0F = 7 + 8; "12345678" after one fill bit = 62 B2 19 AD 66 BB E1 00.
    EXPECT_EQ(r.pdus[1].hex,
              "0051000C91261862666666"
              "0000A70F"
              "050003420202"
              "62B219AD66BBE100");
    EXPECT_EQ(r.pdus[1].tpdu_length, 28);
}

TEST(EncodeSubmit, SixteenBitReferenceHeader) {
    auto o = to("628126666666");
    o.concat_ref = 0xBEEF;
    o.use_16bit_ref = true;
    const auto r = encode_submit(std::string(161, 'a'), o);
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_EQ(r.pdus.size(), 2u);
    // 7-octet UDH is exactly 8 septets: no fill bits, 152 text septets, UDL A0; "aa" packs
    // to E1 70 with no shift.
    EXPECT_EQ(r.pdus[0].hex.substr(22, 26),
              "0000A7A0"
              "060804BEEF0201"
              "E170");
    EXPECT_EQ(r.pdus[1].hex.substr(22, 8), "0000A711");  // 8 + 9 septets
    const auto d = must_decode(r.pdus[1].hex);
    ASSERT_TRUE(d.ud() && d.ud()->concat);
    EXPECT_EQ(*d.ud()->concat, (concat_info{0xBEEF, 2, 2, true}));
    EXPECT_EQ(d.ud()->text, std::string(9, 'a'));
}

TEST(EncodeSubmit, Ucs2MultipartHeader) {
    auto o = to("628126666666");
    o.concat_ref = 7;
    const auto r = encode_submit(repeat(zhe, 71), o);
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_EQ(r.pdus.size(), 2u);
    // UDL 8C = 6 + 67 * 2 = 140 octets.
    EXPECT_EQ(r.pdus[0].hex.substr(22, 28),
              "0008A78C"
              "050003070201"
              "04160416");
    EXPECT_EQ(r.pdus[0].tpdu_length, 154);
    EXPECT_EQ(r.pdus[1].hex.substr(22, 20),
              "0008A70E"
              "050003070202");
}

TEST(EncodeSubmit, RoundTripThroughDecoder) {
    const std::vector<std::string> texts = {
        "Your OTP is 042917",
        std::string(400, 'x') + std::string(euro) + "]",
        repeat(std::string(privet) + std::string(grin), 30),
        std::string(152, 'a') + std::string(euro) + std::string(10, 'b'),
        repeat(zhe, 66) + std::string(grin) + repeat(zhe, 10),
    };
    for (const auto& text : texts) {
        for (const bool ref16 : {false, true}) {
            auto o = to("628126666666");
            o.concat_ref = 0x1234;
            o.use_16bit_ref = ref16;
            o.request_status_report = true;
            const auto r = encode_submit(text, o);
            ASSERT_TRUE(r.ok()) << r.error;
            std::string joined;
            for (std::size_t i = 0; i < r.pdus.size(); ++i) {
                const auto d = must_decode(r.pdus[i].hex);
                ASSERT_EQ(d.type(), pdu_type::submit);
                EXPECT_EQ(d.tpdu_length, r.pdus[i].tpdu_length);
                EXPECT_EQ(d.trailing_octets, 0u);
                const auto& s = std::get<sms_submit>(d.message);
                EXPECT_EQ(s.destination.display(), "+628126666666");
                EXPECT_TRUE(s.status_report_requested);
                EXPECT_EQ(s.validity_relative, std::uint8_t{167});
                if (r.pdus.size() > 1) {
                    ASSERT_TRUE(s.ud.concat);
                    EXPECT_EQ(s.ud.concat->seq, i + 1);
                    EXPECT_EQ(s.ud.concat->total, r.pdus.size());
                    EXPECT_EQ(s.ud.concat->ref, ref16 ? 0x1234 : 0x34);
                    EXPECT_EQ(s.ud.concat->ref16, ref16);
                } else {
                    EXPECT_FALSE(s.ud.concat);
                }
                joined += s.ud.text;
            }
            EXPECT_EQ(joined, text);
        }
    }
}

TEST(EncodeSubmit, RejectsBadInput) {
    EXPECT_FALSE(encode_submit("hi", to("")).ok());
    EXPECT_FALSE(encode_submit("hi", to("+")).ok());
    EXPECT_FALSE(encode_submit("hi", to("62-812")).ok());
    EXPECT_FALSE(encode_submit("hi", to(std::string(21, '1'))).ok());
    EXPECT_TRUE(encode_submit("hi", to(std::string(20, '1'))).ok());
    const auto bad = encode_submit("abc\xFF", to("628126666666"));
    EXPECT_FALSE(bad.ok());
    EXPECT_TRUE(bad.pdus.empty());
    // 256 parts of 153 septets.
    EXPECT_FALSE(encode_submit(std::string(std::size_t{153} * 256, 'a'), to("628126666666")).ok());
    EXPECT_TRUE(encode_submit(std::string(std::size_t{153} * 255, 'a'), to("628126666666")).ok());
}

// ---- decoding --------------------------------------------------------------------------------

TEST(DecodePdu, PublishedDeliver) {
    const auto d = must_decode(classic_deliver);
    ASSERT_TRUE(d.smsc);
    EXPECT_EQ(d.smsc->display(), "+27381000015");
    EXPECT_EQ(d.type(), pdu_type::deliver);
    EXPECT_EQ(d.tpdu_length, 28);
    EXPECT_EQ(d.first_octet, 0x04);
    const auto& m = std::get<sms_deliver>(d.message);
    EXPECT_EQ(m.originator.number, "27838890001");
    EXPECT_EQ(m.originator.type, 0xC8);
    EXPECT_FALSE(m.originator.international());
    EXPECT_FALSE(m.more_messages);
    EXPECT_EQ(m.scts, ts(99, 3, 29, 15, 16, 59, 8));
    EXPECT_EQ(m.ud.coding, data_coding::gsm7);
    EXPECT_EQ(m.ud.text, "hellohello");
    EXPECT_FALSE(m.ud.concat);
    EXPECT_FALSE(m.ud.binary);
}

TEST(DecodePdu, PublishedSubmit) {
    const auto d = must_decode(classic_submit);
    EXPECT_FALSE(d.smsc);
    EXPECT_EQ(d.type(), pdu_type::submit);
    EXPECT_EQ(d.tpdu_length, 23);
    const auto& m = std::get<sms_submit>(d.message);
    EXPECT_EQ(m.message_ref, 0);
    EXPECT_EQ(m.destination.display(), "+46708251358");
    EXPECT_EQ(m.vpf, validity_format::relative);
    EXPECT_EQ(m.validity_relative, std::uint8_t{0xAA});
    EXPECT_EQ(validity_duration(*m.validity_relative), std::chrono::days{4});
    EXPECT_FALSE(m.status_report_requested);
    EXPECT_EQ(m.ud.text, "hellohello");
}

TEST(DecodePdu, PublishedSubmitWithMessageClass) {
    const auto d = must_decode(published_submit_class1);
    ASSERT_TRUE(d.smsc);
    EXPECT_EQ(d.smsc->number, "447802002606");
    const auto& m = std::get<sms_submit>(d.message);
    EXPECT_EQ(m.destination.number, "447700900123");
    EXPECT_EQ(m.ud.dcs, 0x11);
    EXPECT_EQ(m.ud.message_class, 1);
    EXPECT_EQ(m.validity_relative, std::uint8_t{0});
    EXPECT_EQ(m.ud.text, "This is a very simple message :-)");
}

TEST(DecodePdu, PublishedStatusReportWithoutSmsc) {
    const auto d = must_decode(published_report, false);
    EXPECT_EQ(d.type(), pdu_type::status_report);
    EXPECT_EQ(d.tpdu_length, 25);
    const auto& r = std::get<sms_status_report>(d.message);
    EXPECT_EQ(r.message_ref, 0);
    EXPECT_EQ(r.recipient.display(), "+20121875612");
    EXPECT_EQ(r.scts, ts(7, 9, 12, 15, 10, 12, 8));
    EXPECT_EQ(r.discharge_time, ts(7, 9, 12, 15, 10, 17, 8));
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.state(), delivery_state::delivered);
    EXPECT_FALSE(r.command_result);
    EXPECT_FALSE(r.ud);
    EXPECT_EQ(d.ud(), nullptr);
    // The same report with an empty SMSC part, as most modems print it.
    EXPECT_EQ(std::get<sms_status_report>(must_decode("00" + std::string(published_report)).message).recipient.number, "20121875612");
}

TEST(DecodePdu, PublishedFillBitExampleInsideDeliver) {
    // DELIVER header by hand around the published UDL/UD "190A2208...": UDHI set (0x44), a
    // reply-address element (IEI 22) in an 11-octet UDH, 3 fill bits, then "Please reply".
    const auto d = must_decode(std::string("00"
                                           "44"
                                           "0B912143658709F1"
                                           "0000"
                                           "99309251619580") +
                               "190A22080B912143658709F180B2CBE17919242FC3D979");
    const auto& m = std::get<sms_deliver>(d.message);
    EXPECT_EQ(m.ud.text, "Please reply");
    EXPECT_EQ(to_hex(m.ud.header), "22080B912143658709F1");
    EXPECT_FALSE(m.ud.concat);
}

TEST(DecodePdu, AlphanumericOriginator) {
    // "Google" packed by hand: C7 F7 FB CC 2E 03; 6 septets = 42 bits -> 11 semi-octets (0B).
    const std::string tail =
        "0000"
        "42103231000000"
        "02E834";
    const auto d = must_decode(
        "00"
        "04"
        "0BD0C7F7FBCC2E03" +
        tail);
    const auto& m = std::get<sms_deliver>(d.message);
    EXPECT_TRUE(m.originator.alphanumeric());
    EXPECT_EQ(m.originator.number, "Google");
    EXPECT_EQ(m.originator.display(), "Google");
    EXPECT_EQ(m.ud.text, "hi");
    EXPECT_EQ(m.scts, ts(24, 1, 23, 13, 0, 0, 0));
    // Senders that count whole octets (0C) decode the same.
    EXPECT_EQ(std::get<sms_deliver>(must_decode("00"
                                                "04"
                                                "0CD0C7F7FBCC2E03" +
                                                tail)
                                        .message)
                  .originator.number,
              "Google");
}

TEST(DecodePdu, AlphanumericPaddingIsNotAnAt) {
    // 7 characters are 49 bits: correct length is 13 semi-octets; a sender that writes 14
    // leaves 7 zero bits which must not show as '@'.
    deliver_options o;
    o.originator = "OTPGATE";
    const auto r = encode_deliver("x", o);
    ASSERT_TRUE(r.ok()) << r.error;
    std::string hex = r.pdus[0].hex;
    EXPECT_EQ(hex.substr(4, 4), "0DD0");
    EXPECT_EQ(std::get<sms_deliver>(must_decode(hex).message).originator.number, "OTPGATE");
    hex.replace(4, 2, "0E");
    EXPECT_EQ(std::get<sms_deliver>(must_decode(hex).message).originator.number, "OTPGATE");
}

TEST(DecodePdu, EightBitDataIsHex) {
    const auto d = must_decode(
        "00"
        "04"
        "0B919171563412F0"
        "00"
        "04"
        "42103231000000"
        "03"
        "0102FF");
    const auto& m = std::get<sms_deliver>(d.message);
    EXPECT_EQ(m.ud.coding, data_coding::data8);
    EXPECT_TRUE(m.ud.binary);
    EXPECT_EQ(m.ud.text, "0102FF");
    EXPECT_EQ(m.originator.number, "19176543210");
}

TEST(DecodePdu, DataCodingGroups) {
    const auto dcs_of = [](std::string_view dcs, std::string_view udl_ud) {
        return std::get<sms_deliver>(must_decode("00"
                                                 "04"
                                                 "0B919171563412F0"
                                                 "00" +
                                                 std::string(dcs) + "42103231000000" + std::string(udl_ud))
                                         .message)
            .ud;
    };
    EXPECT_EQ(dcs_of("F0", "02E834").message_class, 0);  // flash, GSM 7-bit
    EXPECT_EQ(dcs_of("F0", "02E834").text, "hi");
    EXPECT_TRUE(dcs_of("F6", "020102").binary);   // 8-bit, class 2
    EXPECT_EQ(dcs_of("18", "020041").text, "A");  // UCS2 class 0
    EXPECT_EQ(dcs_of("18", "020041").message_class, 0);
    EXPECT_EQ(dcs_of("E0", "020041").text, "A");     // MWI group, UCS2
    EXPECT_EQ(dcs_of("C0", "02E834").text, "hi");    // MWI group, GSM 7-bit
    EXPECT_EQ(dcs_of("0C", "02E834").text, "hi");    // reserved alphabet -> default
    EXPECT_EQ(dcs_of("80", "02E834").text, "hi");    // reserved group -> default
    const auto compressed = dcs_of("20", "02ABCD");  // compressed: octets, left as hex
    EXPECT_TRUE(compressed.compressed);
    EXPECT_TRUE(compressed.binary);
    EXPECT_EQ(compressed.text, "ABCD");
}

TEST(DecodePdu, Ucs2Deliver) {
    const auto d = must_decode(
        "00"
        "04"
        "0B919171563412F0"
        "00"
        "08"
        "42103231000000"
        "0C"
        "041F04400438043204350442");
    EXPECT_EQ(std::get<sms_deliver>(d.message).ud.text, privet);
}

TEST(DecodePdu, ConcatInfoValidation) {
    const auto with_udh = [](std::string_view udh) {
        // UCS2 so UDL counts octets and the header needs no fill bits.
        const std::string ud = std::string(udh) + "0041";
        char udl[3];
        std::snprintf(udl, sizeof udl, "%02X", static_cast<unsigned>(ud.size() / 2));
        return std::get<sms_deliver>(must_decode(std::string("00"
                                                             "44"
                                                             "0B919171563412F0"
                                                             "0008"
                                                             "42103231000000") +
                                                 udl + ud)
                                         .message)
            .ud;
    };
    EXPECT_EQ(with_udh("050003AA0302").concat, (concat_info{0xAA, 3, 2, false}));
    EXPECT_EQ(with_udh("060804ABCD0303").concat, (concat_info{0xABCD, 3, 3, true}));
    EXPECT_FALSE(with_udh("050003AA0300").concat);  // seq 0
    EXPECT_FALSE(with_udh("050003AA0304").concat);  // seq > total
    EXPECT_FALSE(with_udh("050003AA0000").concat);  // total 0
    EXPECT_FALSE(with_udh("0400020000").concat);    // wrong IE length
    // An unrelated element first (port addressing, IEI 05), then the concatenation.
    const auto mixed = with_udh("0B05040B8423F00003AA0201");
    EXPECT_EQ(mixed.concat, (concat_info{0xAA, 2, 1, false}));
    EXPECT_EQ(mixed.text, "A");
    // A broken element length stops element parsing but keeps the text.
    const auto broken = with_udh("0300FF01");
    EXPECT_FALSE(broken.concat);
    EXPECT_EQ(broken.text, "A");
}

TEST(DecodePdu, StatusReportWithOptionalUserData) {
    // TP-PI 06: DCS and UDL present; DCS 00; "hi".
    const auto d = must_decode("00" + std::string(published_report) +
                               "06"
                               "00"
                               "02E834");
    const auto& r = std::get<sms_status_report>(d.message);
    ASSERT_TRUE(r.ud);
    EXPECT_EQ(r.ud->text, "hi");
    ASSERT_NE(d.ud(), nullptr);
    EXPECT_EQ(d.trailing_octets, 0u);
    // A broken tail keeps the report itself.
    const auto broken = must_decode("00" + std::string(published_report) +
                                    "04"
                                    "05");
    EXPECT_EQ(std::get<sms_status_report>(broken.message).status, 0);
    EXPECT_FALSE(std::get<sms_status_report>(broken.message).ud);
}

TEST(DecodePdu, BadTimestampKeepsMessage) {
    const auto d = must_decode(
        "00"
        "04"
        "0B919171563412F0"
        "0000"
        "FF103231000000"
        "02E834");
    const auto& m = std::get<sms_deliver>(d.message);
    EXPECT_FALSE(m.scts);
    EXPECT_EQ(m.ud.text, "hi");
}

TEST(DecodePdu, TrailingOctetsAreReported) {
    const auto d = must_decode(std::string(classic_submit) + "0000");
    EXPECT_EQ(d.trailing_octets, 2u);
    EXPECT_EQ(std::get<sms_submit>(d.message).ud.text, "hellohello");
}

TEST(DecodePdu, SubmitValidityFormats) {
    // VPF absolute (0x19): seven-octet time stamp.
    const auto abs = must_decode(
        "0019000B916407281553F80000"
        "42103231000000"
        "02E834");
    EXPECT_EQ(std::get<sms_submit>(abs.message).vpf, validity_format::absolute);
    EXPECT_EQ(std::get<sms_submit>(abs.message).validity_absolute, ts(24, 1, 23, 13, 0, 0, 0));
    // VPF enhanced (0x09): seven octets skipped.
    const auto enh = must_decode(
        "0009000B916407281553F80000"
        "01000000000000"
        "02E834");
    EXPECT_EQ(std::get<sms_submit>(enh.message).vpf, validity_format::enhanced);
    EXPECT_EQ(std::get<sms_submit>(enh.message).ud.text, "hi");
}

TEST(DecodePdu, RejectsStructuralGarbage) {
    EXPECT_FALSE(decode_pdu(""));
    EXPECT_FALSE(decode_pdu("zz"));
    EXPECT_FALSE(decode_pdu("0"));
    EXPECT_FALSE(decode_pdu("00"));                         // no TPDU
    EXPECT_FALSE(decode_pdu("0003"));                       // reserved MTI
    EXPECT_FALSE(decode_pdu("0C" + std::string(24, '1')));  // SMSC length 12
    EXPECT_FALSE(
        decode_pdu("00"
                   "04"
                   "15"
                   "91" +
                   std::string(22, '1')));            // address 21 digits
    EXPECT_FALSE(decode_pdu(std::string(802, '0')));  // too long
    // UDHI set with a UDH longer than the user data.
    EXPECT_FALSE(
        decode_pdu("00"
                   "44"
                   "0B919171563412F0"
                   "0008"
                   "42103231000000"
                   "02"
                   "0500"));
    // GSM 7-bit UDL shorter than its own header.
    EXPECT_FALSE(
        decode_pdu("00"
                   "44"
                   "0B919171563412F0"
                   "0000"
                   "42103231000000"
                   "02"
                   "050003AA0201"));
    const auto r = decode_pdu_verbose("0003");
    EXPECT_FALSE(r.pdu);
    EXPECT_FALSE(r.error.empty());
}

TEST(DecodePdu, EveryPrefixOfValidPdusFailsCleanly) {
    auto multipart = encode_submit(repeat(std::string(privet), 20), to("628126666666"));
    deliver_options dopt;
    dopt.originator = "MyBank";
    dopt.smsc = "27381000015";
    auto alnum = encode_deliver(std::string(170, 'z'), dopt);
    const std::vector<std::string> valid = {
        std::string(classic_deliver),
        std::string(classic_submit),
        "00" + std::string(published_report),
        std::string(published_submit_class1),
        multipart.pdus.at(0).hex,
        alnum.pdus.at(0).hex,
        alnum.pdus.at(1).hex,
    };
    for (const auto& pdu : valid) {
        ASSERT_TRUE(decode_pdu(pdu)) << pdu;
        for (std::size_t n = 0; n < pdu.size(); ++n) {
            EXPECT_FALSE(decode_pdu(pdu.substr(0, n))) << pdu.substr(0, n);
        }
    }
}

TEST(DecodePdu, RandomAndMutatedInputNeverCrash) {
    // A cheap stand-in for the fuzzer: ASan/UBSan make any out-of-bounds read fail the test.
    std::mt19937 rng(12345);
    const std::vector<std::string> seeds = {std::string(classic_deliver), std::string(classic_submit), "00" + std::string(published_report),
                                            std::string(published_submit_class1)};
    std::size_t decoded = 0;
    for (int i = 0; i < 20000; ++i) {
        std::vector<std::uint8_t> b;
        if (i % 2 == 0) {
            b.resize(rng() % 64);
            for (auto& x : b) x = static_cast<std::uint8_t>(rng());
        } else {
            b = from_hex(seeds[rng() % seeds.size()]).value();
            const int flips = 1 + static_cast<int>(rng() % 4);
            for (int f = 0; f < flips; ++f) {
                b[rng() % b.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
            }
        }
        const auto hex = to_hex(b);
        for (const bool smsc : {true, false}) {
            if (const auto d = decode_pdu(hex, smsc)) {
                ++decoded;
                EXPECT_LE(static_cast<std::size_t>(d->tpdu_length), b.size());
                if (const auto* ud = d->ud()) {
                    EXPECT_TRUE(utf8_to_code_points(ud->text));
                }
            }
        }
    }
    EXPECT_GT(decoded, 0u);
}

// ---- status, validity, time ------------------------------------------------------------------

TEST(Status, ClassificationFollowsTs23040) {
    EXPECT_EQ(classify_status(0x00), delivery_state::delivered);  // received by SME
    EXPECT_EQ(classify_status(0x01), delivery_state::delivered);  // forwarded, unconfirmed
    EXPECT_EQ(classify_status(0x02), delivery_state::delivered);  // replaced
    EXPECT_EQ(classify_status(0x1F), delivery_state::delivered);  // SC-specific completion
    EXPECT_EQ(classify_status(0x20), delivery_state::pending);    // congestion, still trying
    EXPECT_EQ(classify_status(0x25), delivery_state::pending);
    EXPECT_EQ(classify_status(0x30), delivery_state::pending);  // SC-specific, still trying
    EXPECT_EQ(classify_status(0x40), delivery_state::failed);   // remote procedure error
    EXPECT_EQ(classify_status(0x46), delivery_state::failed);   // validity period expired
    EXPECT_EQ(classify_status(0x62), delivery_state::failed);   // no response, gave up
    // Reserved values are read as "service rejected".
    EXPECT_EQ(classify_status(0x03), delivery_state::failed);
    EXPECT_EQ(classify_status(0x26), delivery_state::failed);
    EXPECT_EQ(classify_status(0x80), delivery_state::failed);
    EXPECT_EQ(classify_status(0xFF), delivery_state::failed);
}

TEST(Validity, RelativeTable) {
    using namespace std::chrono;
    EXPECT_EQ(validity_duration(0), minutes{5});
    EXPECT_EQ(validity_duration(143), hours{12});
    EXPECT_EQ(validity_duration(144), hours{12} + minutes{30});
    EXPECT_EQ(validity_duration(167), hours{24});
    EXPECT_EQ(validity_duration(168), days{2});
    EXPECT_EQ(validity_duration(196), days{30});
    EXPECT_EQ(validity_duration(197), weeks{5});
    EXPECT_EQ(validity_duration(255), weeks{63});
    EXPECT_EQ(validity_for(seconds{0}), 0);
    EXPECT_EQ(validity_for(minutes{10}), 1);
    EXPECT_EQ(validity_for(minutes{11}), 2);
    EXPECT_EQ(validity_for(hours{24}), 167);
    EXPECT_EQ(validity_for(weeks{100}), 255);
}

TEST(Timestamp, ToUnixSeconds) {
    // 2007-09-12 15:10:12 +02:00 = 13:10:12 UTC = 1189602612.
    EXPECT_EQ(to_unix_seconds(ts(7, 9, 12, 15, 10, 12, 8)), 1189602612);
    EXPECT_EQ(to_unix_seconds(ts(7, 9, 12, 8, 10, 12, -20)), 1189602612);  // -05:00
    EXPECT_EQ(to_unix_seconds(ts(0, 1, 1, 0, 0, 0, 0)), 946684800);
    EXPECT_FALSE(to_unix_seconds(ts(23, 2, 29, 0, 0, 0, 0)));  // not a leap year
    EXPECT_FALSE(to_unix_seconds(ts(24, 13, 1, 0, 0, 0, 0)));
}

// ---- simulator encoders ----------------------------------------------------------------------

TEST(EncodeDeliver, ReproducesPublishedDeliver) {
    deliver_options o;
    o.originator = "27838890001";
    o.originator_type = 0xC8;
    o.smsc = "27381000015";
    o.timestamp = ts(99, 3, 29, 15, 16, 59, 8);
    const auto r = encode_deliver("hellohello", o);
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_EQ(r.pdus.size(), 1u);
    EXPECT_EQ(r.pdus[0].hex, classic_deliver);
    EXPECT_EQ(r.pdus[0].tpdu_length, 28);
}

TEST(EncodeDeliver, AlphanumericGoogleByHand) {
    deliver_options o;
    o.originator = "Google";
    o.timestamp = ts(24, 1, 23, 13, 0, 0, 0);
    const auto r = encode_deliver("hi", o);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.pdus.at(0).hex,
              "00"
              "04"
              "0BD0C7F7FBCC2E03"
              "0000"
              "42103231000000"
              "02E834");
}

TEST(EncodeDeliver, NegativeTimeZone) {
    deliver_options o;
    o.originator = "+15551234567";
    o.timestamp = ts(24, 12, 31, 23, 59, 58, -20);  // -05:00: 20 quarters -> 0x02 | sign 0x08 = 0A
    const auto r = encode_deliver("x", o);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_NE(r.pdus[0].hex.find("4221133295850A"), std::string::npos);
    const auto d = must_decode(r.pdus[0].hex);
    const auto& m = std::get<sms_deliver>(d.message);
    EXPECT_EQ(m.scts, o.timestamp);
    EXPECT_EQ(m.originator.display(), "+15551234567");
}

TEST(EncodeDeliver, MultipartRoundTrip) {
    deliver_options o;
    o.originator = "628126666666";
    o.concat_ref = 0x99;
    const std::string text = repeat("Kode OTP Anda: 123456 {jangan dibagikan} ", 10);
    const auto r = encode_deliver(text, o);
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_EQ(r.pdus.size(), 3u);
    std::string joined;
    for (std::size_t i = 0; i < r.pdus.size(); ++i) {
        const auto d = must_decode(r.pdus[i].hex);
        EXPECT_EQ(d.tpdu_length, r.pdus[i].tpdu_length);
        const auto& m = std::get<sms_deliver>(d.message);
        ASSERT_TRUE(m.ud.concat);
        EXPECT_EQ(*m.ud.concat, (concat_info{0x99, 3, static_cast<std::uint8_t>(i + 1), false}));
        joined += m.ud.text;
    }
    EXPECT_EQ(joined, text);
}

TEST(EncodeDeliver, RejectsBadInput) {
    deliver_options o;
    o.originator = "ThisNameIsTooLong";
    EXPECT_FALSE(encode_deliver("x", o).ok());
    o.originator = "";
    EXPECT_FALSE(encode_deliver("x", o).ok());
    o.originator = "\xD0\x96";  // not GSM 7-bit
    EXPECT_FALSE(encode_deliver("x", o).ok());
    o.originator = "123";
    o.smsc = "12ab";
    EXPECT_FALSE(encode_deliver("x", o).ok());
    o.smsc = "";
    o.timestamp.month = 13;
    EXPECT_FALSE(encode_deliver("x", o).ok());
}

TEST(EncodeStatusReport, ReproducesPublishedReport) {
    const auto r = encode_status_report(0x00, "+20121875612", 0x00, ts(7, 9, 12, 15, 10, 12, 8), ts(7, 9, 12, 15, 10, 17, 8));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->hex, "00" + std::string(published_report));
    EXPECT_EQ(r->tpdu_length, 25);
}

TEST(EncodeStatusReport, RoundTripWithSmsc) {
    const auto r = encode_status_report(0x2A, "628126666666", 0x46, {}, {}, "6281100000");
    ASSERT_TRUE(r);
    const auto d = must_decode(r->hex);
    ASSERT_TRUE(d.smsc);
    EXPECT_EQ(d.smsc->number, "6281100000");
    const auto& s = std::get<sms_status_report>(d.message);
    EXPECT_EQ(s.message_ref, 0x2A);
    EXPECT_EQ(s.recipient.number, "628126666666");
    EXPECT_EQ(s.state(), delivery_state::failed);
    EXPECT_FALSE(encode_status_report(1, "abc", 0));
}

// ---- USSD ------------------------------------------------------------------------------------

TEST(Ussd, PlainTextPassesThrough) {
    EXPECT_EQ(decode_ussd_text("Sisa pulsa Anda Rp 10.000", 15), "Sisa pulsa Anda Rp 10.000");
    EXPECT_EQ(decode_ussd_text("Balance: 5", 0), "Balance: 5");
    EXPECT_EQ(decode_ussd_text("", 15), "");
    EXPECT_FALSE(decode_ussd_text("bad\xC3", 15));
}

TEST(Ussd, PackedHexGsm7) {
    // "*100#" packs to AA180C3602, the string modems send for AT+CUSD=1,"AA180C3602",15.
    EXPECT_EQ(encode_ussd_gsm7_packed("*100#"), "AA180C3602");
    EXPECT_EQ(decode_ussd_text("AA180C3602", 15, true), "*100#");
    EXPECT_EQ(decode_ussd_text("aa180c3602", 15, true), "*100#");
    // 7 characters: the CR pad is dropped.
    EXPECT_EQ(decode_ussd_text("31D98C56B3DD1A", 15, true), "1234567");
    EXPECT_EQ(decode_ussd_text("31D98C56B3DD70", 15, true), "12345678");
    EXPECT_FALSE(decode_ussd_text("not hex", 15, true));
}

TEST(Ussd, Ucs2Hex) {
    EXPECT_EQ(decode_ussd_text("00480065006C006C006F", 72), "Hello");
    // "Баланс" = U+0411 U+0430 U+043B U+0430 U+043D U+0441.
    EXPECT_EQ(decode_ussd_text("04110430043B0430043D0441", 0x48), "\xD0\x91\xD0\xB0\xD0\xBB\xD0\xB0\xD0\xBD\xD1\x81");
    EXPECT_EQ(decode_ussd_text("0041", 0x08 | 0x40), "A");
    // Not hex: the modem already converted it.
    EXPECT_EQ(decode_ussd_text("Hello", 72), "Hello");
}

TEST(Ussd, LanguagePrefixes) {
    EXPECT_EQ(decode_ussd_text("en\rHello", 0x10), "Hello");
    EXPECT_EQ(decode_ussd_text("Hello", 0x10), "Hello");
    // 0x11: "ru" as two packed septets (F2 3A) then UCS-2.
    EXPECT_EQ(decode_ussd_text("F23A0041", 0x11), "A");
    // Plain UCS-2 under 0x11, as some networks send it.
    EXPECT_EQ(decode_ussd_text("04110430", 0x11), "\xD0\x91\xD0\xB0");
}

TEST(Ussd, EightBitAndUnsupported) {
    EXPECT_EQ(decode_ussd_text("48656C6C6F", 0x44), "Hello");
    EXPECT_EQ(decode_ussd_text("E9", 0x44), "\xC3\xA9");  // Latin-1 fallback
    EXPECT_EQ(decode_ussd_text("48", 0xF4), "H");
    EXPECT_FALSE(decode_ussd_text("48", 0x60));  // compressed
    EXPECT_FALSE(decode_ussd_text("48", -1));
    EXPECT_FALSE(decode_ussd_text("48", 256));
}

TEST(Ussd, EncodeRoundTrips) {
    const auto plain = encode_ussd("Saldo: 100 {ok}");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->dcs, 15);
    EXPECT_EQ(decode_ussd_text(plain->payload, plain->dcs), "Saldo: 100 {ok}");

    const auto packed = encode_ussd("1234567", true);
    ASSERT_TRUE(packed);
    EXPECT_EQ(packed->payload, "31D98C56B3DD1A");
    EXPECT_EQ(decode_ussd_text(packed->payload, packed->dcs, true), "1234567");

    const auto ucs2 = encode_ussd(privet);
    ASSERT_TRUE(ucs2);
    EXPECT_EQ(ucs2->dcs, 0x48);
    EXPECT_EQ(ucs2->payload, "041F04400438043204350442");
    EXPECT_EQ(decode_ussd_text(ucs2->payload, ucs2->dcs), privet);

    EXPECT_EQ(encode_ussd_ucs2(grin), "D83DDE00");
    EXPECT_FALSE(encode_ussd("\xFF"));
    EXPECT_FALSE(encode_ussd_gsm7_packed(privet));
}
