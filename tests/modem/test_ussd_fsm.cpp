// The USSD machine step by step (ussd/ussd_fsm.hpp), with ManualClock and
// recorded transcripts through a real at_engine; no pty, no real time.
#include <gtest/gtest.h>

#include "modem/op_harness.hpp"
#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/ussd/ussd_fsm.hpp"
#include "otppi/modem/vendors/huawei.hpp"

namespace {

using namespace otppi;
using namespace otppi::modem;
namespace ev = driver::op_events;
namespace act = driver::op_actions;
using test::op_harness;

TEST(UssdFsm, AnswerArrivesAsCusdUnderOneDeadline) {
    for (bool bytewise : {false, true}) {
        ussd::ussd_fsm fsm("*123#");
        op_harness h(fsm, bytewise);
        h.run_file("op_ussd_balance.txt");
        const auto& r = fsm.result();
        EXPECT_TRUE(r.ok) << r.error;
        EXPECT_EQ(r.text, "Sisa pulsa Rp 5000. 1:Paket 2:Info");
        EXPECT_EQ(r.status, 1);
        EXPECT_TRUE(r.replyable);
        EXPECT_EQ(fsm.session_open(), true);
        EXPECT_EQ(h.unhandled_urcs(), std::vector<std::string>{"+CMTI"});
    }
}

TEST(UssdFsm, DeadlineCancelsTheSessionWithoutWaitingForIt) {
    ussd::ussd_fsm fsm("*888#");
    op_harness h(fsm);
    h.run_file("op_ussd_timeout.txt");
    EXPECT_FALSE(fsm.result().ok);
    EXPECT_EQ(fsm.result().error, "no USSD answer within 30000 ms");
    EXPECT_EQ(fsm.session_open(), false);
}

TEST(UssdFsm, RefusedRequestLeavesTheSessionAsItWas) {
    core::ManualClock clock;
    modem_options opts;
    modem_identity id;
    driver::text_link link;
    driver::op_env e{opts, id, generic_vendor(), link, "m1", clock.now(), 0};
    ussd::ussd_fsm fsm("*100#");
    auto s = fsm.resume(e, ev::start{});
    ASSERT_EQ(s.actions.size(), 2u);
    EXPECT_EQ(std::get<act::arm_timer>(s.actions[0]).after, opts.ussd_timeout);
    EXPECT_EQ(std::get<act::submit>(s.actions[1]).command.timeout, opts.command_timeout);
    at_result refused;
    refused.status = at_status::cme_error;
    refused.code = 100;
    s = fsm.resume(e, ev::result{&refused});
    EXPECT_TRUE(std::holds_alternative<act::done>(s.actions.back()));
    EXPECT_EQ(fsm.result().error, "USSD request refused: +CME ERROR 100");
    EXPECT_FALSE(fsm.session_open().has_value());
}

TEST(UssdFsm, InvalidCodeIsRefusedBeforeAnythingIsSent) {
    core::ManualClock clock;
    modem_options opts;
    modem_identity id;
    driver::text_link link;
    driver::op_env e{opts, id, generic_vendor(), link, "m1", clock.now(), 0};
    ussd::ussd_fsm fsm("*123#\r\nAT+CFUN=0");
    auto s = fsm.resume(e, ev::start{});
    ASSERT_EQ(s.actions.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<act::done>(s.actions[0]));
    EXPECT_EQ(fsm.result().error, "invalid USSD string (digits, *, # and + only)");
}

TEST(UssdFsm, NetworkStatusesBecomeErrors) {
    ussd_response p;
    p.status = 4;
    EXPECT_EQ(ussd::ussd_answer(p, false).error, "USSD operation not supported");
    p.status = 5;
    EXPECT_EQ(ussd::ussd_answer(p, false).error, "USSD network timeout");
    p.status = 2;
    EXPECT_FALSE(ussd::ussd_answer(p, false).ok);
    p.text = "Bye";
    EXPECT_TRUE(ussd::ussd_answer(p, false).ok) << "some networks close the session with their last text";
}

TEST(UssdFsm, HuaweiLegacyPackedHexIsDecodedWithTheVendorQuirk) {
    core::ManualClock clock;
    modem_options opts;
    modem_identity id;
    driver::text_link link;
    driver::op_env e{opts, id, huawei_legacy_vendor(), link, "m1", clock.now(), 0};
    ussd::ussd_fsm fsm("*123#");
    fsm.resume(e, ev::start{});
    unsolicited u;
    u.kind = urc_kind::ussd;
    u.name = "+CUSD";
    u.line = "+CUSD: 0,\"C8329BFD06\",15";  // "Hello" packed in GSM 7-bit
    auto s = fsm.resume(e, ev::urc{&u});
    EXPECT_TRUE(s.handled);
    EXPECT_EQ(fsm.result().text, "Hello");
}

}  // namespace
