// Vendor profiles, the chooser, and vendor-specific command builders.
#include <gtest/gtest.h>

#include "otppi/modem/vendors/generic.hpp"
#include "otppi/modem/vendors/huawei.hpp"
#include "otppi/modem/vendors/quectel.hpp"
#include "otppi/modem/vendors/simcom.hpp"

namespace {

using namespace otppi::modem;
using namespace std::chrono_literals;

TEST(VendorFor, PicksByManufacturerAndModel) {
    EXPECT_EQ(vendor_for("SIMCOM_Ltd", "SIMCOM_SIM800L").name, "simcom");
    EXPECT_EQ(vendor_for("SIMCOM INCORPORATED", "SIM900").name, "simcom");
    EXPECT_EQ(vendor_for("", "SIM800C").name, "simcom");
    EXPECT_EQ(vendor_for("SIMCOM INCORPORATED", "SIMCOM_SIM7600G-H").name, "simcom_lte");
    EXPECT_EQ(vendor_for("SIMCOM INCORPORATED", "A7670E-LASE").name, "simcom_lte");
    EXPECT_EQ(vendor_for("huawei", "E173").name, "huawei_legacy");
    EXPECT_EQ(vendor_for("huawei", "E1550").name, "huawei_legacy");
    EXPECT_EQ(vendor_for("HUAWEI", "E3372").name, "huawei");
    EXPECT_EQ(vendor_for("Huawei Technologies Co., Ltd.", "ME909s-120").name, "huawei");
    EXPECT_EQ(vendor_for("Quectel", "EC25").name, "quectel");
    EXPECT_EQ(vendor_for("", "EG25").name, "quectel");
    EXPECT_EQ(vendor_for("MediaTek Inc.", "MT6261").name, "mediatek");
    EXPECT_EQ(vendor_for("ACME Wireless", "X100").name, "generic");
    EXPECT_EQ(vendor_for("", "").name, "generic");
    EXPECT_EQ(vendor_for("  quectel  ", " ec21 ").name, "quectel");
}

TEST(VendorProfiles, QuirksAsData) {
    const auto& g = generic_vendor();
    EXPECT_EQ(g.iccid_command, "AT+CCID");
    EXPECT_FALSE(g.imei_change != nullptr);
    EXPECT_FALSE(g.voice != nullptr);
    EXPECT_TRUE(g.extra_init.empty());
    EXPECT_EQ(g.cnmi, "AT+CNMI=2,1,0,1,0");

    const auto& s = simcom_vendor();
    EXPECT_TRUE(s.imei_change != nullptr);
    EXPECT_TRUE(s.voice != nullptr);
    EXPECT_EQ(s.send_timeout, 60s);
    ASSERT_EQ(s.extra_init.size(), 1u);
    EXPECT_EQ(s.extra_init[0].command, "AT+CSCLK=0");
    EXPECT_FALSE(simcom_lte_vendor().imei_change != nullptr);
    EXPECT_TRUE(simcom_lte_vendor().voice != nullptr);

    const auto& h = huawei_vendor();
    EXPECT_EQ(h.iccid_command, "AT^ICCID?");
    EXPECT_EQ(h.iccid_prefix, "^ICCID:");
    ASSERT_EQ(h.extra_init.size(), 1u);
    EXPECT_EQ(h.extra_init[0].command, "AT^CURC=0");
    EXPECT_FALSE(h.ussd_packed_hex);
    EXPECT_TRUE(huawei_legacy_vendor().ussd_packed_hex);

    const auto& q = quectel_vendor();
    EXPECT_EQ(q.iccid_command, "AT+QCCID");
    EXPECT_EQ(q.iccid_prefix, "+QCCID:");
    EXPECT_EQ(q.send_timeout, 120s);

    EXPECT_TRUE(mediatek_vendor().imei_change != nullptr);
    // Every profile's send deadline is within what vendors document.
    for (const vendor_profile* v : {&g, &s, &simcom_lte_vendor(), &h, &huawei_legacy_vendor(), &q, &mediatek_vendor()}) {
        EXPECT_GE(v->send_timeout, 60s) << v->name;
        EXPECT_LE(v->send_timeout, 120s) << v->name;
    }
}

TEST(Simcom, ImeiChange) {
    EXPECT_TRUE(is_valid_imei("490154203237518"));
    EXPECT_FALSE(is_valid_imei("490154203237519"));  // check digit
    EXPECT_FALSE(is_valid_imei("49015420323751"));
    EXPECT_FALSE(is_valid_imei("49015420323751A"));
    auto c = make_imei_change("490154203237518");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->text, "AT+EGMR=1,7,\"490154203237518\"");
    EXPECT_FALSE(make_imei_change("490154203237518\",\"x"));
    EXPECT_FALSE(make_imei_change("123"));
}

TEST(Simcom, TextToSpeech) {
    auto a = make_tts("Your code is 1 2 3 4 5 6");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->text, "AT+CTTS=2,\"Your code is 1 2 3 4 5 6\"");
    EXPECT_TRUE(a->info_prefix.empty());
    auto u = make_tts("Kode \xE2\x82\xAC");  // euro sign: UCS-2 mode
    ASSERT_TRUE(u);
    EXPECT_EQ(u->text, "AT+CTTS=1,\"004B006F00640065002020AC\"");
    EXPECT_FALSE(make_tts("say \"hi\""));
    EXPECT_FALSE(make_tts("line\r\nAT+CFUN=0"));
    EXPECT_FALSE(make_tts(""));
    EXPECT_FALSE(make_tts(std::string(501, 'a')));
    EXPECT_FALSE(make_tts("bad \xC3"));  // truncated UTF-8
    EXPECT_EQ(make_tts_stop().text, "AT+CTTS=0");
}

TEST(Huawei, LegacyModelsAndChatter) {
    EXPECT_TRUE(huawei_is_legacy_model("E173"));
    EXPECT_TRUE(huawei_is_legacy_model("E1750"));
    EXPECT_TRUE(huawei_is_legacy_model("E220"));
    EXPECT_FALSE(huawei_is_legacy_model("E3372"));
    EXPECT_FALSE(huawei_is_legacy_model("ME909"));
    EXPECT_FALSE(huawei_is_legacy_model("E1"));
    EXPECT_TRUE(huawei_is_chatter(make_unsolicited("^RSSI:14")));
    EXPECT_TRUE(huawei_is_chatter(make_unsolicited("^BOOT:18209573,0,0,0,75")));
    EXPECT_TRUE(huawei_is_chatter(make_unsolicited("^DSFLOWRPT:0000,0,0,0,0,0,0")));
    EXPECT_FALSE(huawei_is_chatter(make_unsolicited("+CMTI: \"SM\",1")));
    EXPECT_FALSE(huawei_is_chatter(make_unsolicited("^SIMST: 255")));
}

TEST(Quectel, SmsReady) {
    EXPECT_TRUE(quectel_is_sms_ready(make_unsolicited("+QIND: SMS DONE")));
    EXPECT_TRUE(quectel_is_sms_ready(make_unsolicited("+QIND: \"SMS DONE\"")));
    EXPECT_FALSE(quectel_is_sms_ready(make_unsolicited("+QIND: PB DONE")));
    EXPECT_FALSE(quectel_is_sms_ready(make_unsolicited("SMS Ready")));
}

}  // namespace
