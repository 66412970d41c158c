// The send machine step by step (messaging/send_fsm.hpp): events in, actions
// out, with ManualClock and recorded transcripts through a real at_engine;
// no pty, no real time.
#include <gtest/gtest.h>

#include "modem/op_harness.hpp"
#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/messaging/send_fsm.hpp"

namespace {

using namespace otppi;
using namespace otppi::modem;
using namespace std::chrono_literals;
namespace ev = driver::op_events;
namespace act = driver::op_actions;
using test::op_harness;

constexpr const char* pdu1 = "0011000B912638950000F00000A705E8329BFD06";
constexpr const char* pdu2 = "0011000B912638950000F00000A705E8329BFD07";

messaging::prepared_send pdu_send(std::vector<std::string> pdus) {
    messaging::prepared_send p;
    p.destination = "628398590000";
    p.pdus = std::move(pdus);
    p.text = core::secure_string("hello");
    return p;
}

messaging::prepared_send text_send(std::string text) {
    messaging::prepared_send p;
    p.destination = "628398590000";
    p.pdus = {pdu1};
    p.text = core::secure_string(text);
    return p;
}

const at_command* submitted(const driver::op_step& s) {
    for (const auto& a : s.actions)
        if (auto* p = std::get_if<act::submit>(&a)) return &p->command;
    return nullptr;
}

bool is_done(const driver::op_step& s) {
    return !s.actions.empty() && std::holds_alternative<act::done>(s.actions.back());
}

at_result ok_with(std::vector<std::string> lines = {}) {
    at_result r;
    r.lines = std::move(lines);
    return r;
}

at_result error_of(at_status st, int code) {
    at_result r;
    r.status = st;
    r.code = code;
    return r;
}

// A bare machine with its environment, for tests that feed events by hand.
struct bench {
    core::ManualClock clock;
    modem_options opts;
    modem_identity identity;
    driver::text_link link;
    driver::op_env env() { return driver::op_env{opts, identity, generic_vendor(), link, "m1", clock.now(), clock.unix_seconds()}; }
};

TEST(SendFsm, MultipartPduGoesOutInOrderWithCmmsAndRecordsEachPart) {
    for (bool bytewise : {false, true}) {
        messaging::send_fsm fsm(pdu_send({pdu1, pdu2}));
        op_harness h(fsm, bytewise);
        h.identity.cmms_supported = true;
        h.run_file("op_send_multipart.txt");
        EXPECT_TRUE(fsm.result().ok);
        EXPECT_EQ(fsm.result().parts, 2);
        EXPECT_EQ(fsm.result().parts_accepted, 2);
        EXPECT_EQ(fsm.result().message_reference, 43);
        ASSERT_EQ(h.recorded().size(), 2u);
        EXPECT_EQ(h.recorded()[0].recipient, "628398590000");
        EXPECT_EQ(h.recorded()[0].part, 1);
        EXPECT_EQ(h.recorded()[1].part, 2);
        EXPECT_EQ(h.recorded()[1].parts, 2);
        EXPECT_EQ(h.recorded()[1].modem_id, "m1");
        // The +CMTI was not the machine's: it goes to the driver's handlers.
        EXPECT_EQ(h.unhandled_urcs(), std::vector<std::string>{"+CMTI"});
    }
}

TEST(SendFsm, TimeoutAfterThePduIsMaybeSentSoNeverResentElsewhere) {
    messaging::send_fsm fsm(pdu_send({pdu1, pdu2}));
    op_harness h(fsm);
    h.identity.cmms_supported = false;  // no AT+CMMS in this transcript
    h.run_file("op_send_part_timeout.txt");
    const auto& r = fsm.result();
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(r.maybe_sent);
    EXPECT_EQ(r.parts_accepted, 1);
    EXPECT_EQ(r.kind, send_error_kind::retry_elsewhere);
    EXPECT_NE(r.error.find("part 2/2"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("may have sent it"), std::string::npos) << r.error;
}

TEST(SendFsm, CmsErrorPartWayReportsAcceptedPartsAndItsClass) {
    bench b;
    messaging::send_fsm fsm(pdu_send({pdu1, pdu2}));
    auto e = b.env();
    auto s = fsm.resume(e, ev::start{});
    ASSERT_NE(submitted(s), nullptr);
    EXPECT_EQ(submitted(s)->text, "AT+CMGS=19");
    auto ok = ok_with({"+CMGS: 5"});
    s = fsm.resume(e, ev::result{&ok});
    ASSERT_EQ(s.actions.size(), 2u);
    EXPECT_TRUE(std::holds_alternative<act::record_sent>(s.actions[0]));
    ASSERT_NE(submitted(s), nullptr);
    auto unassigned = error_of(at_status::cms_error, 1);  // unassigned number: no modem does better
    s = fsm.resume(e, ev::result{&unassigned});
    EXPECT_TRUE(is_done(s));
    EXPECT_EQ(fsm.result().kind, send_error_kind::permanent);
    EXPECT_EQ(fsm.result().parts_accepted, 1);
    EXPECT_FALSE(fsm.result().maybe_sent);
    EXPECT_EQ(fsm.result().error, "part 2/2: +CMS ERROR 1");
}

TEST(SendFsm, SimErrorWhileSendingTakesTheModemOut) {
    bench b;
    messaging::send_fsm fsm(pdu_send({pdu1}));
    auto e = b.env();
    fsm.resume(e, ev::start{});
    auto sim_failure = error_of(at_status::cms_error, 313);
    EXPECT_TRUE(is_done(fsm.resume(e, ev::result{&sim_failure})));
    EXPECT_EQ(fsm.result().kind, send_error_kind::take_modem_out);
}

TEST(SendFsm, AbortWhileAPartIsInFlightIsMaybeSent) {
    bench b;
    messaging::send_fsm fsm(pdu_send({pdu1}));
    auto e = b.env();
    fsm.resume(e, ev::start{});
    EXPECT_TRUE(is_done(fsm.resume(e, ev::abort{"modem m1 lost its port (read error)", send_error_kind::retry_elsewhere})));
    EXPECT_TRUE(fsm.result().maybe_sent);
    EXPECT_EQ(fsm.result().error, "modem m1 lost its port (read error) while sending part 1 (the modem may have sent it)");
}

TEST(SendFsm, AbortBeforeStartIsAPlainRefusal) {
    bench b;
    messaging::send_fsm fsm(pdu_send({pdu1}));
    auto e = b.env();
    EXPECT_TRUE(is_done(fsm.resume(e, ev::abort{"modem busy", send_error_kind::retry_elsewhere})));
    EXPECT_FALSE(fsm.begun());
    EXPECT_FALSE(fsm.result().maybe_sent);
    EXPECT_EQ(fsm.result().error, "modem busy");
}

TEST(SendFsm, QueueRefusalIsRetryElsewhere) {
    bench b;
    messaging::send_fsm fsm(pdu_send({pdu1}));
    auto e = b.env();
    fsm.resume(e, ev::start{});
    EXPECT_TRUE(is_done(fsm.resume(e, ev::refused{})));
    EXPECT_EQ(fsm.result().kind, send_error_kind::retry_elsewhere);
    EXPECT_FALSE(fsm.result().maybe_sent);
}

TEST(SendFsm, TextModeUcs2SwitchesTheCharsetAndBack) {
    bench b;
    b.identity.sms_mode = sms_format::text;
    b.identity.ucs2_charset = true;
    b.link.charset = text_charset::gsm;
    messaging::send_fsm fsm(text_send("Привет"));
    auto e = b.env();
    auto s = fsm.resume(e, ev::start{});
    ASSERT_NE(submitted(s), nullptr);
    EXPECT_EQ(submitted(s)->text, "AT+CSCS=\"UCS2\"");
    auto ok = ok_with();
    s = fsm.resume(e, ev::result{&ok});
    EXPECT_EQ(b.link.charset, text_charset::ucs2);
    ASSERT_NE(submitted(s), nullptr);
    EXPECT_EQ(submitted(s)->text.rfind("AT+CSMP=", 0), 0u);
    s = fsm.resume(e, ev::result{&ok});
    EXPECT_EQ(b.link.csmp.rfind("AT+CSMP=", 0), 0u);
    ASSERT_NE(submitted(s), nullptr);
    EXPECT_EQ(submitted(s)->text.rfind("AT+CMGS=\"", 0), 0u);
    ASSERT_TRUE(submitted(s)->data);
    EXPECT_EQ(*submitted(s)->data, "041F04400438043204350442");
    auto accepted = ok_with({"+CMGS: 9"});
    s = fsm.resume(e, ev::result{&accepted});
    // Recorded, then the GSM set goes back before the answer.
    ASSERT_EQ(s.actions.size(), 2u);
    EXPECT_TRUE(std::holds_alternative<act::record_sent>(s.actions[0]));
    EXPECT_EQ(submitted(s)->text, "AT+CSCS=\"GSM\"");
    EXPECT_TRUE(is_done(fsm.resume(e, ev::result{&ok})));
    EXPECT_EQ(b.link.charset, text_charset::gsm);
    EXPECT_TRUE(fsm.result().ok);
    EXPECT_EQ(fsm.result().message_reference, 9);
}

TEST(SendFsm, TextModeSkipsSettingsTheModemAlreadyHas) {
    bench b;
    b.identity.sms_mode = sms_format::text;
    b.link.charset = text_charset::gsm;
    b.link.csmp = make_csmp(true, 167, text_charset::gsm).text;
    messaging::send_fsm fsm(text_send("code 123456"));
    auto e = b.env();
    auto s = fsm.resume(e, ev::start{});
    ASSERT_NE(submitted(s), nullptr);
    EXPECT_EQ(submitted(s)->text.rfind("AT+CMGS=\"", 0), 0u);
}

TEST(SendFsm, TextTooLongForTextModeIsRetryElsewhereBeforeAnythingIsSent) {
    bench b;
    b.identity.sms_mode = sms_format::text;
    messaging::send_fsm fsm(text_send(std::string(200, 'a')));
    auto e = b.env();
    auto s = fsm.resume(e, ev::start{});
    EXPECT_EQ(submitted(s), nullptr);
    EXPECT_TRUE(is_done(s));
    EXPECT_EQ(fsm.result().kind, send_error_kind::retry_elsewhere);
    EXPECT_EQ(fsm.result().error.find(std::string(20, 'a')), std::string::npos);
}

TEST(SendFsm, TextModeRefusedCharsetSetsGsmBackAndRetriesElsewhere) {
    bench b;
    b.identity.sms_mode = sms_format::text;
    b.identity.ucs2_charset = true;
    b.link.charset = text_charset::gsm;
    messaging::send_fsm fsm(text_send("Привет"));
    auto e = b.env();
    fsm.resume(e, ev::start{});
    auto refused = error_of(at_status::cme_error, 4);
    auto s = fsm.resume(e, ev::result{&refused});
    // The set is unknown now: set back to GSM before answering.
    ASSERT_NE(submitted(s), nullptr);
    EXPECT_EQ(submitted(s)->text, "AT+CSCS=\"GSM\"");
    auto ok = ok_with();
    EXPECT_TRUE(is_done(fsm.resume(e, ev::result{&ok})));
    EXPECT_EQ(fsm.result().kind, send_error_kind::retry_elsewhere);
    EXPECT_EQ(fsm.result().error.rfind("text mode: the modem refused AT+CSCS=\"UCS2\"", 0), 0u) << fsm.result().error;
}

}  // namespace
