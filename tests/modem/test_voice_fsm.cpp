// The SIMCom voice OTP machine step by step (vendors/simcom_voice.hpp), with
// ManualClock and recorded transcripts through a real at_engine.
#include <gtest/gtest.h>

#include "modem/op_harness.hpp"
#include "otppi/modem/vendors/extensions.hpp"
#include "otppi/modem/vendors/simcom.hpp"
#include "otppi/modem/vendors/simcom_voice.hpp"

namespace {

using namespace otppi;
using namespace otppi::modem;
using namespace std::chrono_literals;
namespace ev = driver::op_events;
namespace act = driver::op_actions;
using test::op_harness;
using vendors::simcom_voice_fsm;

simcom_voice_fsm make() { return simcom_voice_fsm("+6281234567890", core::secure_string("Your code is 1 2 3 4 5 6")); }

TEST(SimcomVoiceFsm, ReadsOutOnceClccSaysActiveThenHangsUp) {
    for (bool bytewise : {false, true}) {
        auto fsm = make();
        op_harness h(fsm, bytewise);
        h.vendor = &simcom_vendor();
        h.run_file("op_voice_simcom.txt");
        EXPECT_TRUE(fsm.answer().ok) << fsm.answer().error;
        EXPECT_EQ(fsm.current_phase(), simcom_voice_fsm::phase::finished);
    }
}

TEST(SimcomVoiceFsm, LateClccAnswerIsNotTakenForTheReadoutsAnswer) {
    auto fsm = make();
    op_harness h(fsm);
    h.run_file("op_voice_colp_during_clcc.txt");
    EXPECT_FALSE(fsm.answer().ok);
    EXPECT_EQ(fsm.answer().error, "the callee hung up during the readout");
}

TEST(SimcomVoiceFsm, ModemThatCannotListCallsSpeaksAfterTheFixedDelay) {
    auto fsm = make();
    op_harness h(fsm);
    h.opts.voice_answer_timeout = 8000ms;
    for (const char* line : {"$ start", "> ATD+6281234567890;\\r", "< \\r\\nOK\\r\\n", "! timer", "> AT+CLCC\\r",
                             // AT+CLCC refused: from now on only the fixed delay counts
                             "< \\r\\nERROR\\r\\n", "?armed 5000", "! timer",
                             // connect_delay (6 s) has passed: speak
                             "> AT+CTTS=2,\"Your code is 1 2 3 4 5 6\"\\r", "?running"})
        h.step(line);
    EXPECT_FALSE(h.done());
}

TEST(SimcomVoiceFsm, UnansweredCallEndsWithNoAnswerAfterTheAnswerTimeout) {
    auto fsm = make();
    op_harness h(fsm);
    h.opts.voice_answer_timeout = 2500ms;
    for (const char* line : {"$ start", "> ATD+6281234567890;\\r", "< \\r\\nOK\\r\\n", "! timer", "> AT+CLCC\\r",
                             "< \\r\\n+CLCC: 1,0,3,0,0,\"+6281234567890\",145,\"\"\\r\\n\\r\\nOK\\r\\n", "! timer", "> AT+CLCC\\r",
                             "< \\r\\n+CLCC: 1,0,3,0,0,\"+6281234567890\",145,\"\"\\r\\n\\r\\nOK\\r\\n", "! timer", "> ATH\\r",
                             "< \\r\\nOK\\r\\n", "?done"})
        h.step(line);
    EXPECT_FALSE(fsm.answer().ok);
    EXPECT_EQ(fsm.answer().error, "no answer");
}

TEST(SimcomVoiceFsm, BusyCalleeIsHungUpWithTheReason) {
    auto fsm = make();
    op_harness h(fsm);
    for (const char* line : {"$ start", "> ATD+6281234567890;\\r", "< \\r\\nOK\\r\\n", "< \\r\\nBUSY\\r\\n", "> ATH\\r", "< \\r\\nOK\\r\\n", "?done"})
        h.step(line);
    EXPECT_EQ(fsm.answer().error, "call not answered (BUSY)");
}

TEST(SimcomVoiceFsm, DialRefusedByTheQueueIsNotHungUp) {
    core::ManualClock clock;
    modem_options opts;
    modem_identity id;
    driver::text_link link;
    driver::op_env e{opts, id, simcom_vendor(), link, "m1", clock.now(), 0};
    auto fsm = make();
    auto s = fsm.resume(e, ev::start{});
    ASSERT_EQ(s.actions.size(), 1u);
    const auto& atd = std::get<act::submit>(s.actions[0]).command;
    EXPECT_TRUE(atd.sensitive) << "the dialled number is personal data";
    s = fsm.resume(e, ev::refused{});
    ASSERT_EQ(s.actions.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<act::done>(s.actions[0]));
    EXPECT_EQ(fsm.answer().error, "modem command queue refused the call");
}

TEST(SimcomVoiceFsm, ReadoutIsSensitiveAndUnspeakableTextIsHungUp) {
    core::ManualClock clock;
    modem_options opts;
    modem_identity id;
    driver::text_link link;
    driver::op_env e{opts, id, simcom_vendor(), link, "m1", clock.now(), 0};
    simcom_voice_fsm fsm("+6281234567890", core::secure_string("say \"this\""));
    fsm.resume(e, ev::start{});
    at_result ok;
    fsm.resume(e, ev::result{&ok});
    unsolicited colp;
    colp.name = "+COLP";
    colp.line = "+COLP: \"+6281234567890\",145";
    auto s = fsm.resume(e, ev::urc{&colp});
    ASSERT_EQ(s.actions.size(), 1u);
    EXPECT_EQ(std::get<act::submit>(s.actions[0]).command.text, "ATH");
    s = fsm.resume(e, ev::result{&ok});
    EXPECT_EQ(fsm.answer().error, "the text cannot be spoken (quotes, control characters or over 500 bytes)");
}

TEST(SimcomVoiceFsm, SimcomProfilesRegisterTheVoiceExtension) {
    ASSERT_NE(simcom_vendor().voice, nullptr);
    EXPECT_EQ(simcom_vendor().voice->how, "AT+CTTS");
    EXPECT_EQ(generic_vendor().voice, nullptr);
    auto m = simcom_vendor().voice->make("+6281234567890", core::secure_string("1 2 3"));
    ASSERT_NE(m, nullptr);
}

}  // namespace
