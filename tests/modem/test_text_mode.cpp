// SMS text mode (27.005 AT+CMGF=1): planning and framing a send, parsing what
// +CMGR / +CMGL / +CDS print, and the engine and parser pieces text mode
// needs. Modem output follows dialogues published in vendor AT manuals and
// user transcripts (each test says which); numbers are kept as published.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "otppi/modem/at_engine.hpp"
#include "otppi/modem/at_parser.hpp"
#include "otppi/modem/text_mode.hpp"

namespace {

using namespace otppi::modem;
using namespace std::chrono_literals;

using lines = std::vector<std::string>;

// ------------------------------------------------------------------ bring-up

TEST(TextModeParse, CmgfTestCommandListsTheModes) {
    EXPECT_EQ(parse_cmgf_modes(lines{"+CMGF: (0,1)"}), (std::vector<int>{0, 1}));
    EXPECT_EQ(parse_cmgf_modes(lines{"+CMGF: (0-1)"}), (std::vector<int>{0, 1}));
    EXPECT_EQ(parse_cmgf_modes(lines{"+CMGF: (1)"}), (std::vector<int>{1}));
    EXPECT_EQ(parse_cmgf_modes(lines{"+CMGF: 1"}), (std::vector<int>{1}));
    EXPECT_FALSE(parse_cmgf_modes(lines{"+CMGF: (x)"}));
    EXPECT_FALSE(parse_cmgf_modes(lines{"OK"}));
}

TEST(TextModeParse, CscsTestCommandListsTheCharacterSets) {
    // SIM800 series AT manual, AT+CSCS=?
    auto sets = parse_cscs_list(lines{"+CSCS: (\"IRA\",\"GSM\",\"UCS2\",\"HEX\",\"PCCP\",\"PCDN\",\"8859-1\")"});
    EXPECT_EQ(sets.size(), 7u);
    EXPECT_NE(std::find(sets.begin(), sets.end(), "UCS2"), sets.end());
    EXPECT_EQ(parse_cscs_list(lines{"+CSCS: (\"gsm\",\"ira\")"}), (std::vector<std::string>{"GSM", "IRA"}));
    EXPECT_TRUE(parse_cscs_list(lines{}).empty());
}

TEST(TextModeParse, ModeSettingFromConfig) {
    EXPECT_EQ(sms_mode_from_config("pdu"), sms_mode_setting::pdu);
    EXPECT_EQ(sms_mode_from_config("text"), sms_mode_setting::text);
    EXPECT_EQ(sms_mode_from_config("auto"), sms_mode_setting::automatic);
    EXPECT_EQ(sms_mode_from_config(""), sms_mode_setting::pdu);
    EXPECT_EQ(to_string(sms_format::text), "text");
}

// ------------------------------------------------------------------- sending

TEST(TextModeSend, AsciiOtpGoesInTheGsmSetByteForByte) {
    auto p = plan_text_send("Your code is 482913", true);
    ASSERT_TRUE(p.ok()) << p.error_text;
    EXPECT_EQ(p.charset, text_charset::gsm);
    EXPECT_EQ(p.body, "Your code is 482913");
    EXPECT_EQ(p.units, 19u);
}

TEST(TextModeSend, GsmCodesLineBreaksAndWhatCannotBeTyped) {
    // é is GSM 0x05, $ is 0x02, _ is 0x11; a line break ("\n", "\r\n" or "\r") is one CR.
    auto p = plan_text_send("\xC3\xA9$_\r\nx\ny", false);
    ASSERT_TRUE(p.ok()) << p.error_text;
    EXPECT_EQ(p.body, std::string("\x05\x02\x11\rx\ry"));
    // '@' would be a NUL, 'ò' a backspace, 'Ξ' a Ctrl-Z, '€' needs ESC: UCS2.
    for (const char* t : {"a@b", "\xC3\xB2", "\xCE\x9E", "\xE2\x82\xAC", "[x]", "\xE2\x9C\x93"}) {
        auto u = plan_text_send(t, true);
        ASSERT_TRUE(u.ok()) << t;
        EXPECT_EQ(u.charset, text_charset::ucs2) << t;
        auto none = plan_text_send(t, false);
        EXPECT_EQ(none.error, text_plan_error::needs_ucs2) << t;
        EXPECT_NE(none.error_text.find("UCS2"), std::string::npos);
    }
    auto u = plan_text_send("a@b", true);
    EXPECT_EQ(u.body, "006100400062");
    EXPECT_EQ(u.units, 3u);
}

TEST(TextModeSend, OnePartOnly) {
    EXPECT_TRUE(plan_text_send(std::string(160, 'a'), false).ok());
    auto p = plan_text_send(std::string(161, 'a'), false);
    EXPECT_EQ(p.error, text_plan_error::too_long);
    EXPECT_EQ(p.pdu_parts, 2u);
    EXPECT_NE(p.error_text.find("single-part"), std::string::npos);
    std::string u70, u71;
    for (int i = 0; i < 70; ++i) u70 += "\xE2\x9C\x93";
    u71 = u70 + "\xE2\x9C\x93";
    EXPECT_TRUE(plan_text_send(u70, true).ok());
    EXPECT_EQ(plan_text_send(u71, true).error, text_plan_error::too_long);
    // A character outside the BMP costs two UTF-16 units.
    std::string emoji;
    for (int i = 0; i < 35; ++i) emoji += "\xF0\x9F\x98\x80";
    EXPECT_TRUE(plan_text_send(emoji, true).ok());
    EXPECT_EQ(plan_text_send(emoji + "a", true).error, text_plan_error::too_long);
    EXPECT_EQ(plan_text_send("\xFF", true).error, text_plan_error::invalid_utf8);
}

TEST(TextModeSend, CommandsAreFramedAsTheManualsShow) {
    // Motorola G24 manual, +CDSI example: AT+CSMP=49 asks for a status report.
    EXPECT_EQ(make_csmp(true, 167, text_charset::gsm).text, "AT+CSMP=49,167,0,0");
    EXPECT_EQ(make_csmp(false, 11, text_charset::ucs2).text, "AT+CSMP=17,11,0,8");
    EXPECT_EQ(make_cscs(text_charset::ucs2).text, "AT+CSCS=\"UCS2\"");

    auto plan = plan_text_send("Hello", true);
    auto c = make_send_text("628126666666", true, plan);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->text, "AT+CMGS=\"+628126666666\",145");
    EXPECT_EQ(c->info_prefix, "+CMGS:");
    EXPECT_EQ(c->data, "Hello");
    EXPECT_TRUE(c->sensitive);
    EXPECT_FALSE(c->data_line_prompts);
    auto national = make_send_text("052468000", false, plan);
    ASSERT_TRUE(national);
    EXPECT_EQ(national->text, "AT+CMGS=\"052468000\",129");

    auto ucs2 = plan_text_send("\xE2\x9C\x93", true);
    auto u = make_send_text("628126666666", true, ucs2);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->text, "AT+CMGS=\"002B003600320038003100320036003600360036003600360036\",145");
    EXPECT_EQ(u->data, "2713");

    auto two_lines = plan_text_send("a\nb", false);
    auto t = make_send_text("628126666666", true, two_lines);
    ASSERT_TRUE(t);
    EXPECT_TRUE(t->data_line_prompts);

    EXPECT_FALSE(make_send_text("62812x", true, plan));
    EXPECT_FALSE(make_send_text("", true, plan));
    EXPECT_FALSE(make_send_text("628126666666", true, plan_text_send(std::string(200, 'a'), true)));
}

// ----------------------------------------------------------------- receiving

TEST(TextModeRead, CmgrOfAUserTranscript) {
    // A SIM800 user's transcript (AT+CSDH=0): AT+CMGR=2 in text mode.
    lines l{"+CMGR: \"REC UNREAD\",\"+46739544972\",\"\",\"17/10/18,11:11:55+08\"", "Hej"};
    auto r = parse_cmgr_text(l);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->stat, 0);
    EXPECT_FALSE(r->status_report);
    EXPECT_EQ(r->address, "+46739544972");
    EXPECT_EQ(r->scts, "17/10/18,11:11:55+08");
    EXPECT_FALSE(r->dcs);
    EXPECT_EQ(r->data, "Hej");
    auto d = decode_text_deliver(*r, text_charset::gsm);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->originator.display(), "+46739544972");
    EXPECT_TRUE(d->originator.international());
    EXPECT_EQ(d->ud.text, "Hej");
    ASSERT_TRUE(d->scts);
    EXPECT_EQ(d->scts->tz_quarters, 8);
    EXPECT_EQ(d->scts->year, 17);
    EXPECT_EQ(d->scts->second, 55);
}

TEST(TextModeRead, CmgrWithTextModeParameters) {
    // Wavecom manual, AT+CSDH=1: <tooa>,<fo>,<pid>,<dcs>,<sca>,<tosca>,<length> follow <scts>.
    lines l{"+CMGR: \"REC READ\",\"+8613501154105\",,\"01/09/12,18:04:09+32\",145,4,0,0,\"+8613800100500\",145,3", "AAA"};
    auto r = parse_cmgr_text(l);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->stat, 1);
    EXPECT_EQ(r->address_type, 145);
    EXPECT_EQ(r->fo, 4);
    EXPECT_EQ(r->pid, 0);
    EXPECT_EQ(r->dcs, 0);
    auto d = decode_text_deliver(*r, text_charset::gsm);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->ud.text, "AAA");
    EXPECT_EQ(d->originator.number, "8613501154105");
}

TEST(TextModeRead, BodiesInTheGsmSetAreGsmCodes) {
    // Under AT+CSCS="GSM" an 'é' arrives as 0x05 and '$' as 0x02.
    lines l{"+CMGR: \"REC UNREAD\",\"+6281298765432\",\"\",\"24/01/02,03:04:05+28\"", "Caf\x05 5\x02", "line two"};
    auto r = parse_cmgr_text(l);
    ASSERT_TRUE(r);
    auto d = decode_text_deliver(*r, text_charset::gsm);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->ud.text, "Caf\xC3\xA9 5$\nline two");
}

TEST(TextModeRead, BodiesInTheUcs2SetAndHexUserData) {
    // AT+CSCS="UCS2": the number and a GSM-coded body in UTF-16 hex.
    lines gsm{"+CMGR: \"REC UNREAD\",\"002B0036003200380031\",\"\",\"24/01/02,03:04:05+28\",145,4,0,0,\"002B0036\",145,2", "004F004B"};
    auto r = parse_cmgr_text(gsm);
    ASSERT_TRUE(r);
    auto d = decode_text_deliver(*r, text_charset::ucs2);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->ud.text, "OK");
    EXPECT_EQ(d->originator.display(), "+6281");

    // <dcs> 8: hex of UCS-2 octets whatever the TE set.
    lines ucs2{"+CMGR: \"REC UNREAD\",\"+6281\",,\"24/01/02,03:04:05+28\",145,4,0,8,\"+6281\",145,4", "27130021"};
    r = parse_cmgr_text(ucs2);
    ASSERT_TRUE(r);
    d = decode_text_deliver(*r, text_charset::gsm);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->ud.text, "\xE2\x9C\x93!");

    // <fo> 0x44 (TP-UDHI): hex of the user data with its concatenation header;
    // GSM 7-bit "Hi" after a 6-octet UDH (one fill bit).
    lines concat{"+CMGR: \"REC UNREAD\",\"+6281\",,\"24/01/02,03:04:05+28\",145,68,0,0,\"+6281\",145,2", "0500030702019069"};
    r = parse_cmgr_text(concat);
    ASSERT_TRUE(r);
    d = decode_text_deliver(*r, text_charset::gsm);
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->ud.concat);
    EXPECT_EQ(d->ud.concat->ref, 7);
    EXPECT_EQ(d->ud.concat->total, 2);
    EXPECT_EQ(d->ud.concat->seq, 1);
    EXPECT_EQ(d->ud.text, "Hi");
}

TEST(TextModeRead, StatusReportForms) {
    // Telit/Motorola manuals: +CDS: <fo>,<mr>,[<ra>],[<tora>],<scts>,<dt>,<st>
    auto r = parse_cds_text("+CDS: 6,188,\"052468000\",129,\"08/06/30,10:15:20+08\",\"08/06/30,10:15:25+08\",0");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->status_report);
    EXPECT_EQ(r->mr, 188);
    EXPECT_EQ(r->st, 0);
    auto s = decode_text_report(*r, text_charset::gsm);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->message_ref, 188);
    EXPECT_EQ(s->recipient.number, "052468000");
    EXPECT_EQ(s->state(), delivery_state::delivered);
    ASSERT_TRUE(s->discharge_time);
    EXPECT_EQ(s->discharge_time->second, 25);
    // Empty optional fields, and a failed delivery (TP-ST 0x41 = 65).
    auto f = parse_cds_text("+CDS: 6,7,,,\"08/06/30,10:15:20+08\",\"08/06/30,10:15:25+08\",65");
    ASSERT_TRUE(f);
    EXPECT_EQ(decode_text_report(*f, text_charset::gsm)->state(), delivery_state::failed);
    EXPECT_FALSE(parse_cds_text("+CDS: 25"));
    EXPECT_FALSE(parse_cds_text("+CDS: 6,999,,,\"a\",\"b\",0"));

    // Stored status report read with AT+CMGR (Telit manual form).
    lines l{"+CMGR: \"REC UNREAD\",6,46,\"+31628870634\",145,\"20/11/23,12:34:56+04\",\"20/11/23,12:34:58+04\",0"};
    auto c = parse_cmgr_text(l);
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->status_report);
    EXPECT_EQ(c->mr, 46);
    EXPECT_FALSE(decode_text_deliver(*c, text_charset::gsm));
}

TEST(TextModeRead, CmglListsRecordsWithTheirBodies) {
    lines l{"+CMGL: 1,\"REC UNREAD\",\"+6281298765432\",\"\",\"24/01/02,03:04:05+28\"",
            "first",
            "second line",
            "+CMGL: 3,\"STO SENT\",\"+628126666666\",\"\",",
            "outgoing",
            "+CMGL: 4,\"REC READ\",6,46,\"+31628870634\",145,\"20/11/23,12:34:56+04\",\"20/11/23,12:34:58+04\",0"};
    auto v = parse_cmgl_text(l);
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].index, 1);
    EXPECT_EQ(v[0].data, "first\nsecond line");
    EXPECT_EQ(v[1].index, 3);
    EXPECT_EQ(v[1].stat, 3);
    EXPECT_FALSE(decode_text_deliver(v[1], text_charset::gsm)) << "stored outgoing messages are not inbox material";
    EXPECT_EQ(v[2].index, 4);
    EXPECT_TRUE(v[2].status_report);
}

TEST(TextModeRead, TimestampsAndGarbage) {
    auto t = parse_text_timestamp("21/03/05,23:59:59-12");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->tz_quarters, -12);
    auto no_zone = parse_text_timestamp("17/10/18,11:11:55");
    ASSERT_TRUE(no_zone);
    EXPECT_EQ(no_zone->tz_quarters, 0);
    EXPECT_FALSE(parse_text_timestamp("17/13/18,11:11:55+08"));
    EXPECT_FALSE(parse_text_timestamp("17-10-18 11:11:55"));
    EXPECT_FALSE(parse_text_timestamp(""));
    EXPECT_FALSE(parse_cmgr_text(lines{"+CMGR: "}));
    EXPECT_FALSE(parse_cmgr_text(lines{"+CMGR: \"WHATEVER\",\"+1\""}));
    EXPECT_FALSE(parse_cmgr_text(lines{}));
    EXPECT_TRUE(parse_cmgl_text(lines{"+CMGL: x", "junk"}).empty());
}

TEST(TextModeRead, UserDataOctetsPaddingIsNotAnAt) {
    // "1234567" packs into 7 octets with 7 spare bits: not an eighth '@'.
    auto seven = decode_user_data_octets(std::vector<std::uint8_t>{0x31, 0xD9, 0x8C, 0x56, 0xB3, 0xDD, 0x00}, 0x00, false);
    ASSERT_TRUE(seven);
    EXPECT_EQ(seven->text, "1234567");
    EXPECT_FALSE(decode_user_data_octets(std::vector<std::uint8_t>(141, 0x41), 0x04, false));
}

// ------------------------------------------------- engine and parser pieces

TEST(TextModeEngine, PromptsAfterEachLineOfTheBodyAreExpected) {
    at_engine_config cfg;
    cfg.escape_on_open = false;
    at_engine e(cfg);
    auto plan = plan_text_send("line one\nline two", false);
    auto cmd = make_send_text("628126666666", true, plan, 5s, 2s);
    ASSERT_TRUE(cmd);
    auto s = e.submit(std::move(*cmd));
    ASSERT_TRUE(s.accepted());
    auto a = e.on_bytes("\r\n> ");
    bool wrote_body = false;
    for (auto& act : a)
        if (auto* w = std::get_if<actions::write>(&act)) wrote_body = w->bytes == std::string("line one\rline two\x1A");
    EXPECT_TRUE(wrote_body);
    // The modem answers the CR with another prompt: not an ESC.
    for (auto& act : e.on_bytes("\r\n> "))
        if (auto* w = std::get_if<actions::write>(&act)) ADD_FAILURE() << "wrote " << w->bytes.size() << " bytes";
    bool ok = false;
    for (auto& act : e.on_bytes("\r\n+CMGS: 12\r\n\r\nOK\r\n"))
        if (auto* c = std::get_if<actions::complete>(&act)) ok = c->result.ok() && parse_cmgs(c->result.lines) == 12;
    EXPECT_TRUE(ok);
}

TEST(TextModeEngine, TextModeCdsIsOneLine) {
    at_parser p;
    std::vector<frame> out;
    p.feed("\r\n+CDS: 6,46,\"+31628870634\",145,\"20/11/23,12:34:56+04\",\"20/11/23,12:34:58+04\",0\r\n", out);
    ASSERT_EQ(out.size(), 1u) << "not held back waiting for a PDU line";
    EXPECT_TRUE(out[0].pdu.empty());
    // The PDU form still pairs with its PDU line.
    out.clear();
    p.feed("\r\n+CDS: 25\r\n", out);
    EXPECT_TRUE(out.empty());
    p.feed("060C91534810325476171160316255001711603152120000\r\n", out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0].pdu.empty());
}

}  // namespace
