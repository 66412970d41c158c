// The (ok, error) machines step by step: SIM lock (sim/sim_lock_fsm.hpp) and
// the MediaTek IMEI change (vendors/mediatek_imei.hpp).
#include <gtest/gtest.h>

#include "otppi/modem/sim/sim_lock_fsm.hpp"
#include "otppi/modem/vendors/extensions.hpp"
#include "otppi/modem/vendors/mediatek_imei.hpp"

namespace {

using namespace otppi;
using namespace otppi::modem;
namespace ev = driver::op_events;
namespace act = driver::op_actions;

struct bench {
    core::ManualClock clock;
    modem_options opts;
    modem_identity identity;
    driver::text_link link;
    driver::op_env env() { return driver::op_env{opts, identity, mediatek_vendor(), link, "m1", clock.now(), 0}; }
};

const at_command& submitted(const driver::op_step& s) { return std::get<act::submit>(s.actions.at(0)).command; }
bool is_done(const driver::op_step& s) { return !s.actions.empty() && std::holds_alternative<act::done>(s.actions.back()); }

TEST(SimLockFsm, WrongPinSaysTheSimCountedTheAttempt) {
    bench b;
    auto e = b.env();
    sim::sim_lock_fsm fsm(true, "1234");
    auto s = fsm.resume(e, ev::start{});
    EXPECT_EQ(submitted(s).text, "AT+CLCK=\"SC\",1,\"1234\"");
    EXPECT_TRUE(submitted(s).sensitive);
    at_result wrong;
    wrong.status = at_status::cme_error;
    wrong.code = 16;
    EXPECT_TRUE(is_done(fsm.resume(e, ev::result{&wrong})));
    EXPECT_FALSE(fsm.answer().ok);
    EXPECT_EQ(fsm.answer().error, "incorrect PIN (the SIM counted this attempt)");
}

TEST(SimLockFsm, InvalidPinIsRefusedBeforeAnythingIsSent) {
    bench b;
    auto e = b.env();
    sim::sim_lock_fsm fsm(false, "12");
    auto s = fsm.resume(e, ev::start{});
    ASSERT_EQ(s.actions.size(), 1u);
    EXPECT_TRUE(is_done(s));
    EXPECT_EQ(fsm.answer().error, "the PIN must be 4 to 8 digits");
}

TEST(MediatekImeiFsm, WritesThenReadsBackTheNewImei) {
    bench b;
    b.identity.imei = "867856030123457";
    auto e = b.env();
    vendors::mediatek_imei_fsm fsm("490154203237518");
    auto s = fsm.resume(e, ev::start{});
    EXPECT_EQ(submitted(s).text, "AT+EGMR=1,7,\"490154203237518\"");
    at_result ok;
    s = fsm.resume(e, ev::result{&ok});
    EXPECT_EQ(submitted(s).text, "AT+CGSN");
    at_result read;
    read.lines = {"490154203237518"};
    EXPECT_TRUE(is_done(fsm.resume(e, ev::result{&read})));
    EXPECT_TRUE(fsm.answer().ok);
    EXPECT_EQ(fsm.answer().imei, "490154203237518");
}

TEST(MediatekImeiFsm, ReadBackFailureDoesNotFailTheWrite) {
    bench b;
    auto e = b.env();
    vendors::mediatek_imei_fsm fsm("490154203237518");
    fsm.resume(e, ev::start{});
    at_result ok;
    fsm.resume(e, ev::result{&ok});
    EXPECT_TRUE(is_done(fsm.resume(e, ev::refused{})));
    EXPECT_TRUE(fsm.answer().ok);
    EXPECT_FALSE(fsm.answer().imei);
}

TEST(MediatekImeiFsm, BadLuhnIsRefusedBeforeAnythingIsSent) {
    bench b;
    auto e = b.env();
    vendors::mediatek_imei_fsm fsm("490154203237519");
    auto s = fsm.resume(e, ev::start{});
    EXPECT_TRUE(is_done(s));
    EXPECT_EQ(fsm.answer().error, "invalid IMEI: 15 digits with a valid Luhn check digit");
}

TEST(MediatekImeiFsm, ProfilesRegisterTheImeiExtension) {
    ASSERT_NE(mediatek_vendor().imei_change, nullptr);
    EXPECT_EQ(mediatek_vendor().imei_change->how, "AT+EGMR");
    EXPECT_EQ(generic_vendor().imei_change, nullptr);
}

}  // namespace
