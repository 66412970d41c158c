// Response parsers, builders and CMS/CME classification.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "otppi/modem/at_commands.hpp"

namespace {

using namespace otppi::modem;
using namespace std::chrono_literals;
using lines = std::vector<std::string>;

at_result err(at_status s, int code) {
    at_result r;
    r.status = s;
    r.code = code;
    return r;
}

TEST(Cpin, States) {
    EXPECT_EQ(parse_cpin(lines{"+CPIN: READY"}), sim_state::ready);
    EXPECT_EQ(parse_cpin(lines{"+CPIN: SIM PIN"}), sim_state::sim_pin);
    EXPECT_EQ(parse_cpin(lines{"+CPIN: SIM PUK"}), sim_state::sim_puk);
    EXPECT_EQ(parse_cpin(lines{"+CPIN: PH-SIM PIN"}), sim_state::ph_sim_pin);
    EXPECT_EQ(parse_cpin(lines{"+CPIN: NOT READY"}), sim_state::not_ready);
    EXPECT_EQ(parse_cpin(lines{"+CPIN: NOT INSERTED"}), sim_state::not_inserted);
    EXPECT_EQ(parse_cpin(lines{"+CPIN: \"READY\""}), sim_state::ready);
    EXPECT_EQ(parse_cpin(lines{"+CPIN: WHATEVER"}), sim_state::unknown);
    EXPECT_FALSE(parse_cpin(lines{"READY"}));
    EXPECT_EQ(sim_state_from(err(at_status::cme_error, 10)), sim_state::not_inserted);
    EXPECT_EQ(sim_state_from(err(at_status::cme_error, 14)), sim_state::busy);
    EXPECT_EQ(sim_state_from(err(at_status::cms_error, 310)), sim_state::not_inserted);
    EXPECT_EQ(sim_state_from(err(at_status::cms_error, 316)), sim_state::sim_puk);
    EXPECT_EQ(sim_state_from(err(at_status::timeout, 0)), sim_state::unknown);
}

TEST(Csq, SignalAndDbm) {
    auto q = parse_csq(lines{"+CSQ: 18,0"});
    ASSERT_TRUE(q);
    EXPECT_EQ(q->rssi, 18);
    EXPECT_EQ(q->dbm, -77);
    EXPECT_EQ(parse_csq(lines{"+CSQ: 0,99"})->dbm, -113);
    EXPECT_EQ(parse_csq(lines{"+CSQ: 31,99"})->dbm, -51);
    EXPECT_FALSE(parse_csq(lines{"+CSQ: 99,99"})->dbm);
    EXPECT_FALSE(parse_csq(lines{"+CSQ: x,1"}));
    EXPECT_FALSE(parse_csq(lines{"+CSQ: 5"}));
    EXPECT_FALSE(parse_csq(lines{}));
}

TEST(Cops, Forms) {
    auto o = parse_cops(lines{"+COPS: 0,0,\"TELKOMSEL\",7"});
    ASSERT_TRUE(o);
    EXPECT_EQ(o->mode, 0);
    EXPECT_EQ(o->format, 0);
    EXPECT_EQ(o->name, "TELKOMSEL");
    EXPECT_EQ(o->act, 7);
    auto n = parse_cops(lines{"+COPS: 0"});
    ASSERT_TRUE(n);
    EXPECT_TRUE(n->name.empty());
    EXPECT_EQ(parse_cops(lines{"+COPS: 1,2,\"51010\""})->name, "51010");
    EXPECT_EQ(parse_cops(lines{"+COPS: 0,0,\"Smart, Inc\",2"})->name, "Smart, Inc");
    EXPECT_FALSE(parse_cops(lines{"+COPS: (2,\"XL\",\"XL\",\"51011\",2),,(0-4),(0-2)"}));
}

TEST(Creg, ReplyAndUnsolicited) {
    auto r = parse_creg("+CREG: 2,5,\"1A2B\",\"00C3\",7");
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->unsolicited);
    EXPECT_EQ(r->n, 2);
    EXPECT_EQ(r->status, reg_status::roaming);
    EXPECT_EQ(r->lac, "1A2B");
    EXPECT_EQ(r->cell_id, "00C3");
    EXPECT_EQ(r->act, 7);
    EXPECT_TRUE(r->registered());
    auto u = parse_creg("+CREG: 1,\"1A2B\",\"00C3\"");
    ASSERT_TRUE(u);
    EXPECT_TRUE(u->unsolicited);
    EXPECT_EQ(u->status, reg_status::home);
    EXPECT_EQ(u->lac, "1A2B");
    auto s = parse_creg("+CREG: 3");
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->unsolicited);
    EXPECT_EQ(s->status, reg_status::denied);
    EXPECT_FALSE(s->registered());
    EXPECT_EQ(parse_creg("+CEREG: 0,1")->status, reg_status::home);
    EXPECT_EQ(parse_creg("+CGREG: 0,2")->status, reg_status::searching);
    EXPECT_EQ(parse_creg("+CREG: 0,11")->status, reg_status::other);
    EXPECT_FALSE(parse_creg("+CSQ: 1,2"));
    EXPECT_FALSE(parse_creg("+CREG: x,1"));
}

TEST(Csca, NumberAndUcs2Number) {
    auto a = parse_csca(lines{"+CSCA: \"+6281100000\",145"});
    ASSERT_TRUE(a);
    EXPECT_EQ(a->number, "+6281100000");
    EXPECT_EQ(a->type, 145);
    EXPECT_EQ(parse_csca(lines{"+CSCA: \"002B0036003200380031\",145"})->number, "+6281");
    EXPECT_EQ(parse_csca(lines{"+CSCA: \"\",129"})->number, "");
}

TEST(Identity, Imei) {
    EXPECT_EQ(parse_imei(lines{"867856030123457"}), "867856030123457");
    EXPECT_EQ(parse_imei(lines{"+CGSN: \"490154203237518\""}), "490154203237518");
    EXPECT_EQ(parse_imei(lines{"+CGSN: 490154203237518"}), "490154203237518");
    EXPECT_EQ(parse_imei(lines{"IMEI: 490154203237518"}), "490154203237518");
    EXPECT_EQ(parse_imei(lines{"garbage", "490154203237518"}), "490154203237518");
    EXPECT_FALSE(parse_imei(lines{"12345"}));
    EXPECT_FALSE(parse_imei(lines{"49015420323751A"}));
}

TEST(Identity, Imsi) {
    EXPECT_EQ(parse_imsi(lines{"510101234567890"}), "510101234567890");
    EXPECT_FALSE(parse_imsi(lines{"5101012345678901234"}));
    EXPECT_FALSE(parse_imsi(lines{"ERRORISH"}));
}

TEST(Identity, IccidVariants) {
    EXPECT_EQ(parse_iccid(lines{"+CCID: 89621012345678901234"}), "89621012345678901234");
    EXPECT_EQ(parse_iccid(lines{"+CCID: \"89621012345678901234\""}), "89621012345678901234");
    EXPECT_EQ(parse_iccid(lines{"+ICCID: 8962101234567890123F"}), "8962101234567890123");
    EXPECT_EQ(parse_iccid(lines{"+QCCID: 89860318740200123456"}), "89860318740200123456");
    EXPECT_EQ(parse_iccid(lines{"8962101234567890123f"}), "8962101234567890123");
    // Huawei ^ICCID and +CRSM give EF_ICCID in its raw, nibble-swapped order.
    EXPECT_EQ(parse_iccid(lines{"^ICCID: 98261021436587092143"}), "89620112345678901234");
    EXPECT_EQ(parse_iccid(lines{"+CRSM: 144,0,\"98261021436587092143\""}), "89620112345678901234");
    EXPECT_EQ(parse_iccid(lines{"+CRSM: 144,0,\"986201214365870921F3\""}), "8926101234567890123");
    EXPECT_FALSE(parse_iccid(lines{"+CRSM: 106,130,\"\""}));
    EXPECT_FALSE(parse_iccid(lines{"+CCID: 1234"}));
    EXPECT_FALSE(parse_iccid(lines{"+CCID: 8962101234567890ABCD"}));
}

TEST(Identity, Text) {
    EXPECT_EQ(parse_identity_text(lines{"Revision:1418B05SIM800L24"}, "+CGMR:"), "1418B05SIM800L24");
    EXPECT_EQ(parse_identity_text(lines{"+CGMR: LE20B04SIM7600G22"}, "+CGMR:"), "LE20B04SIM7600G22");
    EXPECT_EQ(parse_identity_text(lines{"", "Quectel"}, "+CGMI:"), "Quectel");
    EXPECT_EQ(parse_identity_text(lines{"+CGMM: \"EC25\""}, "+CGMM:"), "EC25");
    EXPECT_FALSE(parse_identity_text(lines{}, "+CGMI:"));
}

TEST(Cnum, SeveralNumbers) {
    auto n = parse_cnum(lines{"+CNUM: \"Voice\",\"+628123456789\",145", "+CNUM: \"\",\"08123\",129,,4", "+CNUM: \"\",\"\",129"});
    ASSERT_EQ(n.size(), 2u);
    EXPECT_EQ(n[0].alpha, "Voice");
    EXPECT_EQ(n[0].number, "+628123456789");
    EXPECT_EQ(n[0].type, 145);
    EXPECT_EQ(n[1].number, "08123");
    EXPECT_TRUE(parse_cnum(lines{}).empty());
}

TEST(Sms, Cmgs) {
    EXPECT_EQ(parse_cmgs(lines{"+CMGS: 42"}), 42);
    EXPECT_EQ(parse_cmgs(lines{"+CMGS: 7,\"25/01/01,10:00:00+28\""}), 7);
    EXPECT_FALSE(parse_cmgs(lines{"+CMGS: 300"}));
    EXPECT_FALSE(parse_cmgs(lines{"OK"}));
}

TEST(Sms, CmtiAndCdsi) {
    auto i = parse_cmti("+CMTI: \"SM\",3");
    ASSERT_TRUE(i);
    EXPECT_EQ(i->storage, "SM");
    EXPECT_EQ(i->index, 3);
    EXPECT_EQ(parse_cmti("+CDSI: \"SR\",12")->index, 12);
    EXPECT_FALSE(parse_cmti("+CMTI: \"SM\""));
    EXPECT_FALSE(parse_cmti("+CMT: ,3"));
}

TEST(Sms, CmtAndCds) {
    auto cmt = parse_cmt(make_unsolicited("+CMT: ,24", "07912618485400F9040B912638950000F000004221510215400005E8329BFD06"));
    ASSERT_TRUE(cmt);
    EXPECT_EQ(cmt->length, 24);
    EXPECT_TRUE(cmt->alpha.empty());
    auto named = parse_cmt(make_unsolicited("+CMT: \"Mum\",24", "0011"));
    ASSERT_TRUE(named);
    EXPECT_EQ(named->alpha, "Mum");
    auto cds = parse_cds(make_unsolicited("+CDS: 25", "07912618485400F9062A0B912638950000F0422151021540004221510215420000"));
    ASSERT_TRUE(cds);
    EXPECT_EQ(cds->length, 25);
    EXPECT_FALSE(parse_cds(make_unsolicited("+CDS: 25")));  // text mode / PDU missing
    EXPECT_FALSE(parse_cmt(make_unsolicited("+CMT: ,24", "XYZ")));
}

TEST(Sms, CmgrPdu) {
    auto m = parse_cmgr(lines{"+CMGR: 0,,24", "07912618485400F9040B912638950000F000004221510215400005E8329BFD06"});
    ASSERT_TRUE(m);
    EXPECT_EQ(m->stat, 0);
    EXPECT_EQ(m->length, 24);
    EXPECT_FALSE(m->index);
    EXPECT_EQ(m->pdu.substr(0, 4), "0791");
    EXPECT_FALSE(parse_cmgr(lines{"+CMGR: 0,,24"}));
    EXPECT_FALSE(parse_cmgr(lines{"+CMGR: 0,,24", "not hex"}));
}

TEST(Sms, CmglListingOfSeveralPdus) {
    lines l{
        "+CMGL: 0,1,,24",
        "07912618485400F9040B912638950000F000004221510215400005E8329BFD06",
        "+CMGL: 1,0,\"Alice\",23",
        "07912618485400F9040B912638950000F000084221510215400004004800690069",
        "+CMGL: 2,1,,24",  // PDU line lost (overflowed): skipped, not mis-paired
        "+CMGL: 5,\"REC UNREAD\",,24",
        "07912618485400F9040B912638950000F000004221510215400005E8329BFD06",
        "+CMGL: 6,1,,24",  // header at the very end
    };
    auto v = parse_cmgl(l);
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].index, 0);
    EXPECT_EQ(v[0].stat, 1);
    EXPECT_EQ(v[1].index, 1);
    EXPECT_EQ(v[1].alpha, "Alice");
    EXPECT_EQ(v[1].length, 23);
    EXPECT_EQ(v[1].stat, 0);
    EXPECT_EQ(v[2].index, 5);
    EXPECT_EQ(v[2].stat, 0);
    EXPECT_TRUE(parse_cmgl(lines{}).empty());
}

TEST(Sms, CsmsCmmsClck) {
    auto s = parse_csms(lines{"+CSMS: 0,1,1,1"});
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->mt && s->mo && s->bm);
    EXPECT_FALSE(parse_csms(lines{"+CSMS: 0,1"}));
    EXPECT_EQ(parse_cmms(lines{"+CMMS: 2"}), 2);
    EXPECT_EQ(parse_clck(lines{"+CLCK: 1"}), true);
    EXPECT_EQ(parse_clck(lines{"+CLCK: 0"}), false);
    EXPECT_FALSE(parse_clck(lines{"+CLCK: 3"}));
}

TEST(Ussd, PlainText) {
    auto r = parse_cusd("+CUSD: 0,\"Sisa pulsa Rp 10.000\",15");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 0);
    EXPECT_EQ(r->text, "Sisa pulsa Rp 10.000");
    EXPECT_EQ(r->dcs, 15);
    auto t = decode_ussd_text(*r, false);
    EXPECT_EQ(t.form, ussd_text::form_t::plain);
    EXPECT_EQ(t.text, "Sisa pulsa Rp 10.000");
}

TEST(Ussd, EscapedQuotesCommasAndDcs) {
    auto a = parse_cusd("+CUSD: 1,\"Reply \\\"1\\\" for menu, \\\"2\\\" to exit\",15");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 1);
    EXPECT_EQ(a->text, "Reply \"1\" for menu, \"2\" to exit");
    EXPECT_EQ(a->dcs, 15);
    auto b = parse_cusd("+CUSD: 0,\"say \\22hi\\22\",15");
    EXPECT_EQ(b->text, "say \"hi\"");
    auto c = parse_cusd("+CUSD: 0,\"unescaped \"x\" inside\",68");
    EXPECT_EQ(c->text, "unescaped \"x\" inside");
    EXPECT_EQ(c->dcs, 68);
    auto d = parse_cusd("+CUSD: 0,\"multi\nline\nmenu\",15");
    EXPECT_EQ(d->text, "multi\nline\nmenu");
}

TEST(Ussd, StatusOnlyAndCutShort) {
    auto a = parse_cusd("+CUSD: 2");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 2);
    EXPECT_FALSE(a->text);
    EXPECT_FALSE(a->dcs);
    auto b = parse_cusd("+CUSD: 0,\"cut short");
    EXPECT_EQ(b->text, "cut short");
    EXPECT_FALSE(parse_cusd("+CUSD: x"));
    EXPECT_FALSE(parse_cusd("+CSQ: 1,1"));
}

TEST(Ussd, Ucs2HexPayloadWithDcs72) {
    auto r = parse_cusd(
        "+CUSD: "
        "0,"
        "\"0053006900730061002000700075006C00730061002000520070002000310030002E003000300030002E00200041006B00740069006600200073002F00640020"
        "00330031002D00310032002D0032003000320035\",72");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->dcs, 72);
    EXPECT_EQ(ussd_alphabet(72), cbs_alphabet::ucs2);
    auto t = decode_ussd_text(*r, false);
    EXPECT_EQ(t.form, ussd_text::form_t::ucs2);
    EXPECT_EQ(t.text, "Sisa pulsa Rp 10.000. Aktif s/d 31-12-2025");
    // Non-ASCII (euro sign) and a surrogate pair (U+1F600).
    auto e = decode_ussd_text(*parse_cusd("+CUSD: 0,\"0035002020ACD83DDE00\",72"), false);
    EXPECT_EQ(e.text, "5 \xE2\x82\xAC\xF0\x9F\x98\x80");
    // A lone surrogate does not break the rest.
    auto l = decode_ussd_text(*parse_cusd("+CUSD: 0,\"D83D0041\",72"), false);
    EXPECT_EQ(l.text,
              "\xEF\xBF\xBD"
              "A");
    // Not hex after all: left as it is.
    auto p = decode_ussd_text(*parse_cusd("+CUSD: 0,\"plain\",72"), false);
    EXPECT_EQ(p.form, ussd_text::form_t::plain);
}

TEST(Ussd, PackedGsm7HexIsLeftToThePduCodec) {
    auto r = parse_cusd("+CUSD: 0,\"D9775D0E1287D961F7B80C4ACF413199AB0603\",15");
    auto t = decode_ussd_text(*r, true);
    EXPECT_EQ(t.form, ussd_text::form_t::packed_gsm7_hex);
    EXPECT_EQ(t.text, "D9775D0E1287D961F7B80C4ACF413199AB0603");
    EXPECT_EQ(decode_ussd_text(*r, false).form, ussd_text::form_t::plain);
    EXPECT_EQ(decode_ussd_text(*parse_cusd("+CUSD: 0,\"48656C6C6F\",68"), false).form, ussd_text::form_t::eight_bit_hex);
}

TEST(Ussd, AlphabetTable) {
    EXPECT_EQ(ussd_alphabet(15), cbs_alphabet::gsm7);
    EXPECT_EQ(ussd_alphabet(0), cbs_alphabet::gsm7);
    EXPECT_EQ(ussd_alphabet(0x10), cbs_alphabet::gsm7);
    EXPECT_EQ(ussd_alphabet(0x11), cbs_alphabet::ucs2);
    EXPECT_EQ(ussd_alphabet(0x40), cbs_alphabet::gsm7);
    EXPECT_EQ(ussd_alphabet(0x44), cbs_alphabet::eight_bit);
    EXPECT_EQ(ussd_alphabet(0x48), cbs_alphabet::ucs2);
    EXPECT_EQ(ussd_alphabet(0x98), cbs_alphabet::ucs2);
    EXPECT_EQ(ussd_alphabet(0xF0), cbs_alphabet::gsm7);
    EXPECT_EQ(ussd_alphabet(0xF4), cbs_alphabet::eight_bit);
    EXPECT_EQ(ussd_alphabet(-1), cbs_alphabet::gsm7);
}

TEST(Classify, CmsErrors) {
    for (int c : {330, 331, 332, 500, 300, 301, 302, 303, 322, 340, 512, 41, 42, 38, 21, 0xC0, 0xFF})
        EXPECT_EQ(classify_cms_error(c), send_failure::retry_elsewhere) << c;
    for (int c : {304, 305, 321, 1, 27, 96, 0x80, 0x90, 0xB0, 0xC3, 0xC5}) EXPECT_EQ(classify_cms_error(c), send_failure::permanent) << c;
    for (int c : {310, 311, 312, 313, 314, 315, 316, 317, 318, 320, 8, 10, 50, 0xC1})
        EXPECT_EQ(classify_cms_error(c), send_failure::take_modem_out) << c;
}

TEST(Classify, CmeErrorsAndResults) {
    EXPECT_EQ(classify_cme_error(10), send_failure::take_modem_out);
    EXPECT_EQ(classify_cme_error(30), send_failure::retry_elsewhere);
    EXPECT_EQ(classify_cme_error(27), send_failure::permanent);
    at_result ok;
    EXPECT_FALSE(classify_send_failure(ok));
    EXPECT_EQ(classify_send_failure(err(at_status::cms_error, 331)), send_failure::retry_elsewhere);
    EXPECT_EQ(classify_send_failure(err(at_status::cms_error, 304)), send_failure::permanent);
    EXPECT_EQ(classify_send_failure(err(at_status::cms_error, 310)), send_failure::take_modem_out);
    EXPECT_EQ(classify_send_failure(err(at_status::timeout, 0)), send_failure::retry_elsewhere);
    at_result textual;
    textual.status = at_status::cms_error;
    EXPECT_EQ(classify_send_failure(textual), send_failure::retry_elsewhere);
    EXPECT_EQ(to_string(send_failure::take_modem_out), "take_modem_out");
}

TEST(Builders, MakeCommandInfersPrefix) {
    auto csq = make_command("AT+CSQ");
    EXPECT_EQ(csq.info_prefix, "+CSQ:");
    EXPECT_FALSE(csq.accept_bare);
    EXPECT_EQ(make_command("AT+COPS?").info_prefix, "+COPS:");
    EXPECT_EQ(make_command("AT+CMGL=4").info_prefix, "+CMGL:");
    EXPECT_TRUE(make_command("AT+CMGL=4").accept_bare);
    EXPECT_TRUE(make_command("AT+CGSN").accept_bare);
    EXPECT_TRUE(make_command("AT+CIMI").accept_bare);
    EXPECT_EQ(make_command("AT^ICCID?").info_prefix, "^ICCID:");
    EXPECT_TRUE(make_command("ATI").accept_bare);
    EXPECT_TRUE(make_command("ATD*99#").dial);
    EXPECT_FALSE(make_command("ATE0").dial);
    EXPECT_TRUE(make_command("ATE0").info_prefix.empty());
    EXPECT_EQ(make_command("AT", 1s).timeout, 1s);
}

TEST(Builders, SendPdu) {
    auto c = make_send_pdu("0011000B912638950000F00000A705E8329BFD06", 60s, 5s);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->text, "AT+CMGS=19");
    EXPECT_EQ(c->info_prefix, "+CMGS:");
    EXPECT_EQ(*c->data, "0011000B912638950000F00000A705E8329BFD06");
    EXPECT_EQ(c->data_timeout, 60s);
    EXPECT_EQ(c->timeout, 5s);
    // An explicit SMSC (7 octets + length octet) is not counted.
    EXPECT_EQ(make_send_pdu("07912618485400F911000B912638950000F00000A705E8329BFD06")->text, "AT+CMGS=19");
    EXPECT_FALSE(make_send_pdu(""));
    EXPECT_FALSE(make_send_pdu("0011000"));
    EXPECT_FALSE(make_send_pdu("00110\r"));
    EXPECT_FALSE(make_send_pdu("0A11"));  // SMSC longer than the PDU
    EXPECT_FALSE(make_send_pdu("00" + std::string(2 * 177, 'A')));
}

TEST(Builders, UssdPinClck) {
    EXPECT_EQ(make_ussd("*888#")->text, "AT+CUSD=1,\"*888#\",15");
    EXPECT_EQ(make_ussd("AA180C3602")->text, "AT+CUSD=1,\"AA180C3602\",15");
    EXPECT_FALSE(make_ussd("*888#\",0\r"));
    EXPECT_FALSE(make_ussd(""));
    EXPECT_EQ(make_ussd_cancel().text, "AT+CUSD=2");
    auto pin = make_enter_pin("1234");
    ASSERT_TRUE(pin);
    EXPECT_EQ(pin->text, "AT+CPIN=\"1234\"");
    EXPECT_TRUE(pin->sensitive);
    EXPECT_FALSE(make_enter_pin("123"));
    EXPECT_FALSE(make_enter_pin("123456789"));
    EXPECT_FALSE(make_enter_pin("12\"4"));
    EXPECT_EQ(make_clck_query().text, "AT+CLCK=\"SC\",2");
    EXPECT_EQ(make_clck_query().info_prefix, "+CLCK:");
    auto lock = make_clck_set(false, "0000");
    ASSERT_TRUE(lock);
    EXPECT_EQ(lock->text, "AT+CLCK=\"SC\",0,\"0000\"");
    EXPECT_TRUE(lock->sensitive);
    EXPECT_FALSE(make_clck_set(true, "abcd"));
    EXPECT_EQ(make_read_pdu(3)->text, "AT+CMGR=3");
    EXPECT_TRUE(make_read_pdu(3)->accept_bare);
    EXPECT_EQ(make_delete_sms(3)->text, "AT+CMGD=3");
    EXPECT_FALSE(make_delete_sms(-1));
    EXPECT_EQ(make_list_pdus().text, "AT+CMGL=4");
}

TEST(Detail, SplitFields) {
    auto f = detail::split_fields(" 1, \"a,b\" ,,\"q\\\"x\", 7 ");
    ASSERT_EQ(f.size(), 5u);
    EXPECT_EQ(f[0].value, "1");
    EXPECT_EQ(f[1].value, "a,b");
    EXPECT_TRUE(f[1].quoted);
    EXPECT_EQ(f[2].value, "");
    EXPECT_EQ(f[3].value, "q\"x");
    EXPECT_EQ(f[4].value, "7");
    EXPECT_TRUE(detail::split_fields("").empty());
    EXPECT_EQ(detail::split_fields("\"unterminated").size(), 1u);
}

TEST(Detail, Ucs2) {
    EXPECT_EQ(detail::ucs2_hex_to_utf8("00480069"), "Hi");
    EXPECT_FALSE(detail::ucs2_hex_to_utf8("004"));
    EXPECT_FALSE(detail::ucs2_hex_to_utf8("00XZ"));
    EXPECT_EQ(detail::ucs2_hex_to_utf8(""), "");
    EXPECT_EQ(detail::swap_nibbles("98F1"), "891F");
}

}  // namespace

namespace {
using namespace otppi::modem;

TEST(Calls, ClccListsCallsAndFindsOurOutgoingOne) {
    const std::vector<std::string> lines = {"+CLCC: 1,1,4,0,0,\"+6281111111\",145,\"\"", "+CLCC: 2,0,3,0,0,\"+6281234567890\",145,\"\""};
    auto calls = parse_clcc(lines);
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_FALSE(calls[0].outgoing);
    EXPECT_EQ(calls[0].stat, 4);
    EXPECT_TRUE(calls[1].outgoing);
    EXPECT_EQ(calls[1].id, 2);
    EXPECT_EQ(outgoing_call_state(lines), 3);
    // An incoming call alone is not ours; garbage and other lines are skipped.
    EXPECT_EQ(outgoing_call_state(std::vector<std::string>{"+CLCC: 1,1,4,0,0", "+CLCC: x", "OK"}), std::nullopt);
    EXPECT_TRUE(parse_clcc(std::vector<std::string>{}).empty());
}
}  // namespace
