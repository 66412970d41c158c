// Bring-up plan, runner, and full transcript replays (engine + runner together).
//
// Transcript format (tests/modem/transcripts/*.txt):
//
//     # comment
//     $ bringup [pin=1234] [sms_mode=auto|text]
//                            start a bring-up run (the pin latch lives for the whole file)
//     $ reset                engine.reset() (the port was reopened)
//     $ cmd AT+CSQ           submit make_command("AT+CSQ")
//     $ sms <hex pdu>        submit make_send_pdu(<hex pdu>)
//     $ ussd <code>          submit make_ussd(<code>)
//     $ textsend <digits> <text>   submit make_send_text (international, UCS2 allowed)
//     $ textread <index> [ucs2]    submit make_read_text; later @ lines read its reply
//                            as printed in the GSM (default) or UCS2 set
//     > <bytes>              the host must write exactly these bytes next
//     < <bytes>              the modem sends these bytes
//     ! timeout              the armed timer expires
//     ! wait                 the bring-up's retry delay has passed
//     = <status> [<code>]    the next completion of a $ command
//     ~ <name>               the next unsolicited code (+CMTI, ^RSSI, RING, <needs_reopen>)
//     ? <field> <value>      a bring-up result field (vendor, imei, iccid, sim, ...)
//     ?! <bringup_error>     the bring-up failed with this error
//     ?ok                    the bring-up finished
//     @ <field> <value>      a field of the last '=' completion read as a text-mode
//                            +CMGR (from, text, scts, stat); <value> takes escapes
//
// Escapes in > and < lines: \r \n \t \\ \" \xHH (prompts are written
// "\r\n>\x20" so that no editor eats the space). Every file is replayed with
// each '<' line fed whole, byte by byte, and in random chunk sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>

#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/at_engine.hpp"
#include "otppi/modem/bringup.hpp"
#include "otppi/modem/text_mode.hpp"
#include "otppi/modem/vendors/huawei.hpp"
#include "otppi/modem/vendors/quectel.hpp"
#include "otppi/modem/vendors/simcom.hpp"
#include "test_paths.hpp"

#ifndef OTPPI_TEST_DATA_DIR
#define OTPPI_TEST_DATA_DIR "tests"
#endif

namespace {

using namespace otppi::modem;
using namespace std::chrono_literals;

template <class... Ts>
struct overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

// ------------------------------------------------------------ scripted runs

at_result ok(std::vector<std::string> lines = {}) {
    at_result r;
    r.lines = std::move(lines);
    return r;
}
at_result cme(int code) {
    at_result r;
    r.status = at_status::cme_error;
    r.code = code;
    return r;
}
at_result plain_error() {
    at_result r;
    r.status = at_status::error;
    return r;
}
at_result timed_out() {
    at_result r;
    r.status = at_status::timeout;
    return r;
}

// A well-behaved SIM800 with a ready SIM; tests override single commands.
at_result default_answer(const std::string& cmd) {
    static const std::map<std::string, std::vector<std::string>> answers{
        {"AT+CGMI", {"SIMCOM_Ltd"}},
        {"AT+CGMM", {"SIMCOM_SIM800L"}},
        {"AT+CGMR", {"Revision:1418B05SIM800L24"}},
        {"AT+CGSN", {"867856030123457"}},
        {"AT+CPIN?", {"+CPIN: READY"}},
        {"AT+CIMI", {"510101234567890"}},
        {"AT+CCID", {"89621012345678901234"}},
        {"AT+CSMS?", {"+CSMS: 0,1,1,1"}},
        {"AT+CMMS?", {"+CMMS: 0"}},
        {"AT+COPS?", {"+COPS: 0,0,\"TELKOMSEL\""}},
        {"AT+CREG?", {"+CREG: 0,1"}},
        {"AT+CSQ", {"+CSQ: 20,0"}},
        {"AT+CSCA?", {"+CSCA: \"+6281100000\",145"}},
        {"AT+CNUM", {"+CNUM: \"\",\"+628123456789\",145"}},
    };
    auto it = answers.find(cmd);
    return ok(it == answers.end() ? std::vector<std::string>{} : it->second);
}

struct scripted_run {
    std::vector<std::string> sent;
    unsigned waits = 0;
    bringup_action end;
};

scripted_run run_scripted(bringup& b, const std::function<std::optional<at_result>(const std::string&)>& modem) {
    scripted_run out;
    bringup_action a = b.start();
    for (int guard = 0; guard < 500; ++guard) {
        if (auto* s = std::get_if<bringup_actions::send>(&a)) {
            out.sent.push_back(s->command.text);
            auto r = modem(s->command.text);
            a = b.on_result(r ? *r : default_answer(s->command.text));
        } else if (std::get_if<bringup_actions::wait>(&a)) {
            ++out.waits;
            a = b.on_wait_done();
        } else {
            break;
        }
    }
    out.end = a;
    return out;
}

std::size_t count_pin_entries(const std::vector<std::string>& sent) {
    return static_cast<std::size_t>(
        std::count_if(sent.begin(), sent.end(), [](const std::string& s) { return s.rfind("AT+CPIN=", 0) == 0; }));
}

std::optional<bringup_error> failed_with(const bringup_action& a) {
    if (auto* f = std::get_if<bringup_actions::failed>(&a)) return f->error;
    return std::nullopt;
}

// ----------------------------------------------------------------- the plan

TEST(BringupPlan, EchoOffComesFirstAndNoProfileReset) {
    auto probe = probe_steps();
    ASSERT_GE(probe.size(), 2u);
    EXPECT_EQ(probe[0].command.text, "AT");  // sync only, tolerated
    EXPECT_TRUE(probe[0].optional);
    EXPECT_EQ(probe[1].command.text, "ATE0");
    EXPECT_FALSE(probe[1].optional);
    for (const vendor_profile* v :
         {&generic_vendor(), &simcom_vendor(), &simcom_lte_vendor(), &huawei_vendor(), &huawei_legacy_vendor(), &quectel_vendor()}) {
        std::vector<bringup_step> all = probe;
        auto init = init_steps(*v);
        all.insert(all.end(), init.begin(), init.end());
        for (const auto& s : all) {
            EXPECT_NE(s.command.text, "ATZ") << v->name;
            EXPECT_EQ(s.command.text.rfind("AT&F", 0), std::string::npos) << v->name;
        }
    }
}

TEST(BringupPlan, ExactlyOneSingleShotPinStep) {
    for (const vendor_profile* v : {&generic_vendor(), &simcom_vendor(), &huawei_vendor(), &quectel_vendor()}) {
        auto init = init_steps(*v);
        int pin_steps = 0;
        for (const auto& s : init) {
            bool sends_pin = s.build != nullptr || s.command.text.rfind("AT+CPIN=", 0) == 0;
            if (!sends_pin) continue;
            ++pin_steps;
            EXPECT_TRUE(s.single_shot);
            EXPECT_EQ(s.max_attempts, 1u);
            EXPECT_TRUE(s.command.sensitive);
            EXPECT_FALSE(s.optional);
            EXPECT_NE(s.when, nullptr);
        }
        EXPECT_EQ(pin_steps, 1) << v->name;
    }
}

TEST(BringupPlan, VendorDataShapesThePlan) {
    auto texts = [](const vendor_profile& v) {
        std::vector<std::string> t;
        for (const auto& s : init_steps(v)) t.push_back(s.command.text);
        return t;
    };
    auto h = texts(huawei_vendor());
    EXPECT_EQ(h.front(), "AT^CURC=0");
    EXPECT_NE(std::find(h.begin(), h.end(), "AT^ICCID?"), h.end());
    auto q = texts(quectel_vendor());
    EXPECT_NE(std::find(q.begin(), q.end(), "AT+QCCID"), q.end());
    auto g = texts(generic_vendor());
    EXPECT_NE(std::find(g.begin(), g.end(), "AT+CCID"), g.end());
    EXPECT_NE(std::find(g.begin(), g.end(), "AT+CMGF=0"), g.end());
    EXPECT_NE(std::find(g.begin(), g.end(), "AT+CNMI=2,1,0,1,0"), g.end());
    bringup_options no_cnum;
    no_cnum.query_own_number = false;
    for (const auto& s : init_steps(generic_vendor(), no_cnum)) EXPECT_NE(s.command.text, "AT+CNUM");
}

TEST(BringupPlan, IdentityStepsAcceptBareLines) {
    for (const auto& s : init_steps(quectel_vendor())) {
        if (s.command.text == "AT+CGSN" || s.command.text == "AT+CIMI" || s.command.text == "AT+QCCID") {
            EXPECT_TRUE(s.command.accept_bare) << s.command.text;
        }
        if (s.command.text == "AT+QCCID") {
            EXPECT_EQ(s.command.info_prefix, "+QCCID:");
        }
        if (s.command.text == "AT+CSQ") {
            EXPECT_EQ(s.command.info_prefix, "+CSQ:");
        }
    }
}

// ---------------------------------------------------------------- the runner

TEST(BringupRunner, HappyPathFillsIdentity) {
    pin_latch latch;
    bringup b(latch);
    auto run = run_scripted(b, [](const std::string&) { return std::nullopt; });
    ASSERT_TRUE(std::holds_alternative<bringup_actions::done>(run.end));
    const auto& id = b.identity();
    EXPECT_EQ(id.vendor, "simcom");
    EXPECT_EQ(id.manufacturer, "SIMCOM_Ltd");
    EXPECT_EQ(id.revision, "1418B05SIM800L24");
    EXPECT_EQ(id.imei, "867856030123457");
    EXPECT_EQ(id.imsi, "510101234567890");
    EXPECT_EQ(id.iccid, "89621012345678901234");
    EXPECT_EQ(id.sim, sim_state::ready);
    EXPECT_EQ(id.operator_name, "TELKOMSEL");
    ASSERT_TRUE(id.signal);
    EXPECT_EQ(id.signal->dbm, -73);
    EXPECT_EQ(id.smsc, "+6281100000");
    EXPECT_EQ(id.own_number, "+628123456789");
    ASSERT_TRUE(id.registration);
    EXPECT_TRUE(id.registration->registered());
    EXPECT_TRUE(id.sms_indications);
    EXPECT_TRUE(id.status_reports);
    ASSERT_TRUE(id.csms);
    EXPECT_TRUE(id.csms->mo);
    EXPECT_TRUE(id.cmms_supported);
    EXPECT_TRUE(b.skipped().empty());
    EXPECT_EQ(count_pin_entries(run.sent), 0u);
    // No ICCID fallback when the vendor command worked.
    EXPECT_EQ(std::find(run.sent.begin(), run.sent.end(), "AT+CRSM=176,12258,0,0,10"), run.sent.end());
    EXPECT_EQ(run.sent[0], "AT");
    EXPECT_EQ(run.sent[1], "ATE0");
}

TEST(BringupRunner, SimPinWithoutConfiguredPinFailsWithoutTouchingTheSim) {
    pin_latch latch;
    bringup b(latch);
    auto run = run_scripted(b, [](const std::string& c) -> std::optional<at_result> {
        if (c == "AT+CPIN?") return ok({"+CPIN: SIM PIN"});
        return std::nullopt;
    });
    EXPECT_EQ(failed_with(run.end), bringup_error::sim_pin_required);
    EXPECT_EQ(count_pin_entries(run.sent), 0u);
}

TEST(BringupRunner, CorrectPinIsEnteredOnceThenSimReadinessIsPolled) {
    pin_latch latch("1234");
    bringup b(latch);
    int polls = 0;
    bool pin_given = false;
    auto run = run_scripted(b, [&](const std::string& c) -> std::optional<at_result> {
        if (c == "AT+CPIN=\"1234\"") {
            pin_given = true;
            return ok();
        }
        if (c == "AT+CPIN?") {
            if (!pin_given) return ok({"+CPIN: SIM PIN"});
            if (++polls < 3) return cme(14);  // SIM busy while it loads
            return ok({"+CPIN: READY"});
        }
        return std::nullopt;
    });
    ASSERT_TRUE(std::holds_alternative<bringup_actions::done>(run.end));
    EXPECT_EQ(count_pin_entries(run.sent), 1u);
    EXPECT_EQ(run.waits, 2u);
    EXPECT_FALSE(latch.rejected());
    EXPECT_EQ(b.identity().sim, sim_state::ready);
}

TEST(BringupRunner, WrongPinIsReportedOnceAndNeverRetried) {
    pin_latch latch("1111");
    auto modem = [](const std::string& c) -> std::optional<at_result> {
        if (c == "AT+CPIN?") return ok({"+CPIN: SIM PIN"});
        if (c.rfind("AT+CPIN=", 0) == 0) return cme(16);  // incorrect password
        return std::nullopt;
    };
    bringup first(latch);
    auto run1 = run_scripted(first, modem);
    EXPECT_EQ(failed_with(run1.end), bringup_error::pin_rejected);
    EXPECT_EQ(count_pin_entries(run1.sent), 1u);
    EXPECT_EQ(run1.sent.back(), "AT+CPIN=\"1111\"");
    EXPECT_TRUE(latch.rejected());

    // After a reopen the modem layer runs bring-up again: no PIN goes out.
    bringup second(latch);
    auto run2 = run_scripted(second, modem);
    EXPECT_EQ(failed_with(run2.end), bringup_error::pin_locked_out);
    EXPECT_EQ(count_pin_entries(run2.sent), 0u);

    // Re-running the same runner object is no different.
    auto run3 = run_scripted(first, modem);
    EXPECT_EQ(failed_with(run3.end), bringup_error::pin_locked_out);
    EXPECT_EQ(count_pin_entries(run3.sent), 0u);

    // Only the operator configuring a PIN again opens one more attempt.
    latch.rearm("4321");
    bringup fourth(latch);
    bool given = false;
    auto run4 = run_scripted(fourth, [&given](const std::string& c) -> std::optional<at_result> {
        if (c == "AT+CPIN=\"4321\"") {
            given = true;
            return ok();
        }
        if (c == "AT+CPIN?") return ok({given ? "+CPIN: READY" : "+CPIN: SIM PIN"});
        return std::nullopt;
    });
    EXPECT_TRUE(std::holds_alternative<bringup_actions::done>(run4.end));
    EXPECT_EQ(count_pin_entries(run4.sent), 1u);
}

TEST(BringupRunner, PinAttemptWithUnknownOutcomeAlsoClosesTheLatch) {
    pin_latch latch("1234");
    bringup b(latch);
    auto run = run_scripted(b, [](const std::string& c) -> std::optional<at_result> {
        if (c == "AT+CPIN?") return ok({"+CPIN: SIM PIN"});
        if (c.rfind("AT+CPIN=", 0) == 0) return timed_out();
        return std::nullopt;
    });
    EXPECT_EQ(failed_with(run.end), bringup_error::pin_rejected);
    EXPECT_EQ(count_pin_entries(run.sent), 1u);
    EXPECT_TRUE(latch.rejected());
}

TEST(BringupRunner, PinStillAskedAfterAcceptedPinIsPolledNotReEntered) {
    pin_latch latch("1234");
    bringup_options opts;
    opts.sim_ready_polls = 4;
    bringup b(latch, opts);
    auto run = run_scripted(b, [](const std::string& c) -> std::optional<at_result> {
        if (c == "AT+CPIN?") return ok({"+CPIN: SIM PIN"});  // never changes
        if (c.rfind("AT+CPIN=", 0) == 0) return ok();
        return std::nullopt;
    });
    EXPECT_EQ(failed_with(run.end), bringup_error::sim_not_ready);
    EXPECT_EQ(count_pin_entries(run.sent), 1u);
}

TEST(BringupRunner, PukAndMalformedPinNeverReachTheSim) {
    {
        pin_latch latch("1234");
        bringup b(latch);
        auto run = run_scripted(b, [](const std::string& c) -> std::optional<at_result> {
            if (c == "AT+CPIN?") return ok({"+CPIN: SIM PUK"});
            return std::nullopt;
        });
        EXPECT_EQ(failed_with(run.end), bringup_error::sim_puk_required);
        EXPECT_EQ(count_pin_entries(run.sent), 0u);
    }
    {
        pin_latch latch("12a4\r");
        bringup b(latch);
        auto run = run_scripted(b, [](const std::string& c) -> std::optional<at_result> {
            if (c == "AT+CPIN?") return ok({"+CPIN: SIM PIN"});
            return std::nullopt;
        });
        EXPECT_EQ(failed_with(run.end), bringup_error::invalid_pin_config);
        EXPECT_EQ(count_pin_entries(run.sent), 0u);
        EXPECT_FALSE(latch.rejected());
    }
}

TEST(BringupRunner, MissingSimIsRetriedThenReported) {
    pin_latch latch;
    bringup_options opts;
    opts.sim_ready_polls = 3;
    bringup b(latch, opts);
    auto run = run_scripted(b, [](const std::string& c) -> std::optional<at_result> {
        if (c == "AT+CPIN?") return cme(10);
        return std::nullopt;
    });
    EXPECT_EQ(failed_with(run.end), bringup_error::sim_not_inserted);
    EXPECT_EQ(run.waits, 2u);
    EXPECT_EQ(std::count(run.sent.begin(), run.sent.end(), "AT+CPIN?"), 3);
}

TEST(BringupRunner, DeadPortFailsOnEchoOff) {
    pin_latch latch;
    bringup b(latch);
    auto run = run_scripted(b, [](const std::string&) { return std::optional<at_result>(timed_out()); });
    EXPECT_EQ(failed_with(run.end), bringup_error::no_response);
    const auto& f = std::get<bringup_actions::failed>(run.end);
    EXPECT_EQ(f.step, "echo_off");
    // Three sync attempts, then ATE0.
    EXPECT_EQ(run.sent, (std::vector<std::string>{"AT", "AT", "AT", "ATE0"}));
}

TEST(BringupRunner, OptionalFailuresAreSkippedAndFallbacksRun) {
    pin_latch latch;
    bringup b(latch);
    auto run = run_scripted(b, [](const std::string& c) -> std::optional<at_result> {
        if (c == "AT+CNUM" || c == "AT+CMMS?" || c == "AT+CCID") return plain_error();
        if (c == "AT+CNMI=2,1,0,1,0") {
            at_result r;
            r.status = at_status::cms_error;
            r.code = 303;
            return r;
        }
        if (c == "AT+CRSM=176,12258,0,0,10") return ok({"+CRSM: 144,0,\"98261021436587092143\""});
        return std::nullopt;
    });
    ASSERT_TRUE(std::holds_alternative<bringup_actions::done>(run.end));
    EXPECT_EQ(b.identity().iccid, "89620112345678901234");
    EXPECT_TRUE(b.identity().sms_indications);
    EXPECT_FALSE(b.identity().status_reports);
    EXPECT_FALSE(b.identity().cmms_supported);
    std::vector<std::string> expected{"iccid", "more_messages", "indications", "own_number"};
    EXPECT_EQ(b.skipped(), expected);
}

TEST(BringupRunner, RequiredPduModeRetriesThenFails) {
    pin_latch latch;
    bringup b(latch);
    auto run = run_scripted(b, [](const std::string& c) -> std::optional<at_result> {
        if (c == "AT+CMGF=0") {
            at_result r;
            r.status = at_status::cms_error;
            r.code = 302;
            return r;
        }
        return std::nullopt;
    });
    EXPECT_EQ(failed_with(run.end), bringup_error::command_failed);
    EXPECT_EQ(std::count(run.sent.begin(), run.sent.end(), "AT+CMGF=0"), 5);
}

TEST(BringupRunner, ForcedVendorWins) {
    pin_latch latch;
    bringup_options opts;
    opts.vendor = &quectel_vendor();
    bringup b(latch, opts);
    auto run = run_scripted(b, [](const std::string&) { return std::nullopt; });
    EXPECT_EQ(b.identity().vendor, "quectel");
    EXPECT_NE(std::find(run.sent.begin(), run.sent.end(), "AT+QCCID"), run.sent.end());
}

TEST(BringupRunner, SmsModeAutoFallsBackOnlyWhenPduModeIsRefused) {
    auto count = [](const std::vector<std::string>& v, std::string_view s) { return std::count(v.begin(), v.end(), s); };
    bringup_options opts;
    opts.sms_mode = sms_mode_setting::automatic;
    pin_latch latch;
    {
        // "+CMS ERROR: 303" (not supported) with AT+CMGF=? silent: text mode at once.
        bringup b(latch, opts);
        auto run = run_scripted(b, [](const std::string& c) -> std::optional<at_result> {
            if (c == "AT+CMGF=?") return plain_error();
            if (c == "AT+CMGF=0") {
                at_result r;
                r.status = at_status::cms_error;
                r.code = 303;
                return r;
            }
            return std::nullopt;
        });
        EXPECT_TRUE(std::holds_alternative<bringup_actions::done>(run.end));
        EXPECT_EQ(b.identity().sms_mode, sms_format::text);
        EXPECT_EQ(count(run.sent, "AT+CMGF=0"), 1);
        EXPECT_EQ(count(run.sent, "AT+CMGF=1"), 1);
        EXPECT_EQ(count(run.sent, "AT+CSDH=1"), 1);
    }
    {
        // PDU mode is listed: an ERROR is "not yet" (SMS still loading), retried.
        bringup b(latch, opts);
        int refusals = 2;
        auto run = run_scripted(b, [&](const std::string& c) -> std::optional<at_result> {
            if (c == "AT+CMGF=?") return ok({"+CMGF: (0,1)"});
            if (c == "AT+CMGF=0" && refusals-- > 0) return plain_error();
            return std::nullopt;
        });
        EXPECT_TRUE(std::holds_alternative<bringup_actions::done>(run.end));
        EXPECT_EQ(b.identity().sms_mode, sms_format::pdu);
        EXPECT_EQ(count(run.sent, "AT+CMGF=0"), 3);
        EXPECT_EQ(count(run.sent, "AT+CMGF=1"), 0);
        EXPECT_EQ(count(run.sent, "AT+CSCS=\"GSM\""), 0);
    }
    {
        // Listed but refused every time: text mode once the attempts run out.
        bringup b(latch, opts);
        auto run = run_scripted(b, [&](const std::string& c) -> std::optional<at_result> {
            if (c == "AT+CMGF=?") return ok({"+CMGF: (0-1)"});
            if (c == "AT+CMGF=0") return plain_error();
            return std::nullopt;
        });
        EXPECT_TRUE(std::holds_alternative<bringup_actions::done>(run.end));
        EXPECT_EQ(b.identity().sms_mode, sms_format::text);
        EXPECT_EQ(count(run.sent, "AT+CMGF=0"), 5);
    }
    {
        // "pdu" (the default) never tries text mode: a refusal ends bring-up.
        bringup b(latch);
        auto run = run_scripted(b, [](const std::string& c) -> std::optional<at_result> {
            if (c == "AT+CMGF=0") return plain_error();
            return std::nullopt;
        });
        EXPECT_EQ(failed_with(run.end), bringup_error::command_failed);
        EXPECT_EQ(count(run.sent, "AT+CMGF=1"), 0);
        EXPECT_EQ(count(run.sent, "AT+CMGF=?"), 0);
    }
    {
        // "text": no AT+CMGF=0 at all.
        bringup_options text_opts;
        text_opts.sms_mode = sms_mode_setting::text;
        bringup b(latch, text_opts);
        auto run = run_scripted(b, [](const std::string&) { return std::nullopt; });
        EXPECT_TRUE(std::holds_alternative<bringup_actions::done>(run.end));
        EXPECT_EQ(b.identity().sms_mode, sms_format::text);
        EXPECT_EQ(count(run.sent, "AT+CMGF=0"), 0);
        EXPECT_EQ(b.identity().ucs2_charset, false) << "AT+CSCS=? answered nothing";
    }
}

TEST(BringupRunner, OutOfSequenceCallsAreRefused) {
    pin_latch latch;
    bringup b(latch);
    EXPECT_TRUE(std::holds_alternative<bringup_actions::failed>(b.on_wait_done()));
    (void)b.start();
    EXPECT_TRUE(std::holds_alternative<bringup_actions::failed>(b.on_wait_done()));
}

// --------------------------------------------------------------- transcripts

std::string unescape_transcript(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 >= s.size()) {
            out.push_back(s[i]);
            continue;
        }
        char n = s[++i];
        switch (n) {
            case 'r':
                out.push_back('\r');
                break;
            case 'n':
                out.push_back('\n');
                break;
            case 't':
                out.push_back('\t');
                break;
            case '\\':
                out.push_back('\\');
                break;
            case '"':
                out.push_back('"');
                break;
            case 'x':
                if (i + 2 < s.size()) {
                    auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
                    out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
                    i += 2;
                }
                break;
            default:
                out.push_back('\\');
                out.push_back(n);
        }
    }
    return out;
}

enum class chunking { whole, bytewise, random };

class player {
public:
    player(chunking mode, unsigned seed) : mode_(mode), rng_(seed) {}

    void run_file(const std::string& name) {
        std::ifstream in(std::string(OTPPI_TEST_DATA_DIR) + "/modem/transcripts/" + name);
        ASSERT_TRUE(in) << "cannot open transcript " << name << " under " << OTPPI_TEST_DATA_DIR;
        std::string line;
        int no = 0;
        while (std::getline(in, line)) {
            ++no;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            SCOPED_TRACE(name + ":" + std::to_string(no) + ": " + line);
            step(line);
            if (::testing::Test::HasFatalFailure()) return;
        }
        EXPECT_TRUE(writes_.empty()) << "unexpected write: " << (writes_.empty() ? "" : writes_.front());
        EXPECT_TRUE(urcs_.empty()) << "unexpected URC: " << (urcs_.empty() ? "" : urcs_.front());
        EXPECT_TRUE(completions_.empty()) << "unchecked completion";
    }

    std::size_t pin_writes() const { return pin_writes_; }
    const pin_latch& latch() const { return latch_; }

private:
    void apply(std::vector<at_action> acts) {
        for (auto& a : acts) {
            std::visit(overloaded{
                           [&](actions::write& w) {
                               if (w.bytes.rfind("AT+CPIN=", 0) == 0) {
                                   ++pin_writes_;
                                   EXPECT_TRUE(w.sensitive);
                               }
                               writes_.push_back(w.bytes);
                           },
                           [&](actions::start_timer& t) { timer_ = t.generation; },
                           [&](actions::cancel_timer&) { timer_.reset(); },
                           [&](actions::complete& c) {
                               if (bringup_cmd_ && *bringup_cmd_ == c.id) {
                                   bringup_cmd_.reset();
                                   drive(run_->on_result(c.result));
                               } else {
                                   completions_.push_back(std::move(c.result));
                               }
                           },
                           [&](actions::urc& u) { urcs_.push_back(u.value.name); },
                           [&](actions::needs_reopen&) { urcs_.push_back("<needs_reopen>"); },
                           [&](actions::diagnostic&) {},
                       },
                       a);
        }
    }

    void drive(bringup_action a) {
        std::visit(overloaded{
                       [&](bringup_actions::send& s) {
                           auto r = engine_.submit(std::move(s.command));
                           ASSERT_TRUE(r.accepted());
                           bringup_cmd_ = r.id;
                           apply(std::move(r.actions));
                       },
                       [&](bringup_actions::wait&) { waiting_ = true; },
                       [&](auto& end) { end_ = end; },
                   },
                   a);
    }

    void submit(std::optional<at_command> c) {
        ASSERT_TRUE(c);
        auto r = engine_.submit(std::move(*c));
        ASSERT_TRUE(r.accepted());
        apply(std::move(r.actions));
    }

    void feed(const std::string& bytes) {
        std::size_t i = 0;
        while (i < bytes.size()) {
            std::size_t n = bytes.size() - i;
            if (mode_ == chunking::bytewise) n = 1;
            if (mode_ == chunking::random) n = std::min<std::size_t>(n, std::uniform_int_distribution<std::size_t>(1, 9)(rng_));
            apply(engine_.on_bytes(std::string_view(bytes).substr(i, n)));
            i += n;
        }
    }

    std::string field(const std::string& name) const {
        const auto& id = run_->identity();
        if (name == "vendor") return id.vendor;
        if (name == "manufacturer") return id.manufacturer;
        if (name == "model") return id.model;
        if (name == "revision") return id.revision;
        if (name == "imei") return id.imei;
        if (name == "imsi") return id.imsi;
        if (name == "iccid") return id.iccid;
        if (name == "sim") return std::string(to_string(id.sim));
        if (name == "operator") return id.operator_name;
        if (name == "rssi") return id.signal ? std::to_string(id.signal->rssi) : "-";
        if (name == "smsc") return id.smsc;
        if (name == "own_number") return id.own_number;
        if (name == "registered") return id.registration && id.registration->registered() ? "yes" : "no";
        if (name == "indications") return id.sms_indications ? "yes" : "no";
        if (name == "status_reports") return id.status_reports ? "yes" : "no";
        if (name == "sms_mode") return std::string(to_string(id.sms_mode));
        if (name == "ucs2") return id.ucs2_charset ? "yes" : "no";
        if (name == "text_headers") return id.text_headers ? "yes" : "no";
        ADD_FAILURE() << "unknown field " << name;
        return {};
    }

    void step(const std::string& line) {
        if (line.empty() || line[0] == '#') return;
        auto arg = [&](std::size_t from) { return from < line.size() ? line.substr(from) : std::string{}; };
        if (line.rfind("$ bringup", 0) == 0) {
            std::istringstream words(line.substr(9));
            bringup_options opts;
            for (std::string w; words >> w;) {
                if (w.rfind("pin=", 0) == 0) latch_.rearm(w.substr(4));
                if (w.rfind("sms_mode=", 0) == 0) opts.sms_mode = sms_mode_from_config(w.substr(9));
            }
            run_.emplace(latch_, opts);
            end_.reset();
            drive(run_->start());
        } else if (line == "$ reset") {
            bringup_cmd_.reset();
            timer_.reset();
            apply(engine_.reset());
        } else if (line.rfind("$ cmd ", 0) == 0) {
            submit(make_command(arg(6)));
        } else if (line.rfind("$ sms ", 0) == 0) {
            submit(make_send_pdu(arg(6)));
        } else if (line.rfind("$ ussd ", 0) == 0) {
            submit(make_ussd(arg(7)));
        } else if (line.rfind("$ textsend ", 0) == 0) {
            auto rest = arg(11);
            auto sp = rest.find(' ');
            ASSERT_NE(sp, std::string::npos);
            auto plan = plan_text_send(unescape_transcript(rest.substr(sp + 1)), true);
            ASSERT_TRUE(plan.ok()) << plan.error_text;
            submit(make_send_text(rest.substr(0, sp), true, plan));
        } else if (line.rfind("$ textread ", 0) == 0) {
            std::istringstream is(arg(11));
            int index = -1;
            std::string cs;
            is >> index >> cs;
            read_charset_ = cs == "ucs2" ? text_charset::ucs2 : text_charset::gsm;
            submit(make_read_text(index));
        } else if (line.rfind("@ ", 0) == 0) {
            ASSERT_TRUE(last_completion_) << "no completion to read";
            auto rest = arg(2);
            auto sp = rest.find(' ');
            ASSERT_NE(sp, std::string::npos);
            auto rec = parse_cmgr_text(last_completion_->lines);
            ASSERT_TRUE(rec) << "not a text-mode +CMGR reply";
            const std::string name = rest.substr(0, sp), want = unescape_transcript(rest.substr(sp + 1));
            if (name == "stat") {
                EXPECT_EQ(std::to_string(rec->stat), want);
                return;
            }
            if (name == "scts") {
                EXPECT_EQ(rec->scts, want);
                return;
            }
            auto d = decode_text_deliver(*rec, read_charset_);
            ASSERT_TRUE(d) << "not a received message";
            if (name == "from")
                EXPECT_EQ(d->originator.display(), want);
            else if (name == "text")
                EXPECT_EQ(d->ud.text, want);
            else
                ADD_FAILURE() << "unknown field " << name;
        } else if (line.rfind("> ", 0) == 0) {
            ASSERT_FALSE(writes_.empty()) << "the engine wrote nothing";
            EXPECT_EQ(writes_.front(), unescape_transcript(arg(2)));
            writes_.pop_front();
        } else if (line.rfind("< ", 0) == 0) {
            feed(unescape_transcript(arg(2)));
        } else if (line == "! timeout") {
            ASSERT_TRUE(timer_) << "no timer armed";
            auto g = *timer_;
            timer_.reset();
            apply(engine_.on_timeout(g));
        } else if (line == "! wait") {
            ASSERT_TRUE(waiting_) << "bring-up is not waiting";
            waiting_ = false;
            drive(run_->on_wait_done());
        } else if (line.rfind("= ", 0) == 0) {
            ASSERT_FALSE(completions_.empty()) << "no completion";
            std::istringstream is(arg(2));
            std::string status;
            int code = -1;
            is >> status >> code;
            EXPECT_EQ(to_string(completions_.front().status), status);
            if (code >= 0) {
                EXPECT_EQ(completions_.front().code, code);
            }
            last_completion_ = std::move(completions_.front());
            completions_.pop_front();
        } else if (line.rfind("~ ", 0) == 0) {
            ASSERT_FALSE(urcs_.empty()) << "no URC";
            EXPECT_EQ(urcs_.front(), arg(2));
            urcs_.pop_front();
        } else if (line == "?ok") {
            ASSERT_TRUE(end_);
            if (auto* f = std::get_if<bringup_actions::failed>(&*end_))
                FAIL() << "bring-up failed: " << to_string(f->error) << " at " << f->step << ": " << f->detail;
            EXPECT_TRUE(std::holds_alternative<bringup_actions::done>(*end_));
        } else if (line.rfind("?! ", 0) == 0) {
            ASSERT_TRUE(end_) << "bring-up still running";
            auto* f = std::get_if<bringup_actions::failed>(&*end_);
            ASSERT_NE(f, nullptr);
            EXPECT_EQ(to_string(f->error), arg(3));
        } else if (line.rfind("? ", 0) == 0) {
            auto rest = arg(2);
            auto sp = rest.find(' ');
            ASSERT_NE(sp, std::string::npos);
            EXPECT_EQ(field(rest.substr(0, sp)), rest.substr(sp + 1));
        } else {
            FAIL() << "bad transcript line";
        }
    }

    chunking mode_;
    std::mt19937 rng_;
    at_engine engine_;
    pin_latch latch_;
    std::optional<bringup> run_;
    std::optional<command_id> bringup_cmd_;
    std::optional<std::uint64_t> timer_;
    std::optional<bringup_action> end_;
    bool waiting_ = false;
    std::deque<std::string> writes_;
    std::deque<std::string> urcs_;
    std::deque<at_result> completions_;
    std::optional<at_result> last_completion_;
    text_charset read_charset_ = text_charset::gsm;
    std::size_t pin_writes_ = 0;
};

void replay_all_ways(const std::string& file) {
    for (auto mode : {chunking::whole, chunking::bytewise}) {
        SCOPED_TRACE(mode == chunking::whole ? "whole lines" : "byte by byte");
        player p(mode, 0);
        p.run_file(file);
    }
    for (unsigned seed = 1; seed <= 8; ++seed) {
        SCOPED_TRACE("random chunks, seed " + std::to_string(seed));
        player p(chunking::random, seed);
        p.run_file(file);
    }
}

TEST(Transcript, Sim800lBringupSendAndReceive) { replay_all_ways("sim800l_bringup.txt"); }
TEST(Transcript, HuaweiE173PinChatterAndUssd) { replay_all_ways("huawei_e173_bringup.txt"); }
TEST(Transcript, QuectelEc25PinFailedSendAndInbox) { replay_all_ways("quectel_ec25_bringup.txt"); }
TEST(Transcript, TextOnlyModemAutoFallbackSendReportAndRead) { replay_all_ways("text_mode_fallback.txt"); }

TEST(Transcript, WrongPinIsSentOnceAcrossReopen) {
    replay_all_ways("wrong_pin.txt");
    player p(chunking::whole, 0);
    p.run_file("wrong_pin.txt");
    EXPECT_EQ(p.pin_writes(), 1u);
    EXPECT_TRUE(p.latch().rejected());
}

}  // namespace
