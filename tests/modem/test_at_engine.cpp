// at_engine step by step: events in, actions out, no sockets, no real time.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/at_engine.hpp"

namespace {

using namespace otppi::modem;
using namespace std::chrono_literals;

at_engine_config quiet() {
    at_engine_config c;
    c.escape_on_open = false;  // most tests start with a known-good port
    return c;
}

template <class T>
std::vector<T> only(const std::vector<at_action>& acts) {
    std::vector<T> out;
    for (const auto& a : acts)
        if (auto* p = std::get_if<T>(&a)) out.push_back(*p);
    return out;
}

std::string written(const std::vector<at_action>& acts) {
    std::string s;
    for (const auto& w : only<actions::write>(acts)) s += w.bytes;
    return s;
}

std::vector<actions::complete> completions(const std::vector<at_action>& acts) { return only<actions::complete>(acts); }

std::vector<std::string> urc_names(const std::vector<at_action>& acts) {
    std::vector<std::string> n;
    for (const auto& u : only<actions::urc>(acts)) n.push_back(u.value.name);
    return n;
}

bool has_start_timer(const std::vector<at_action>& acts) { return !only<actions::start_timer>(acts).empty(); }

std::vector<at_action> feed_bytewise(at_engine& e, std::string_view s) {
    std::vector<at_action> all;
    for (char c : s) {
        auto a = e.on_bytes(std::string_view(&c, 1));
        all.insert(all.end(), a.begin(), a.end());
    }
    return all;
}

TEST(AtEngine, SimpleQuery) {
    at_engine e(quiet());
    auto s = e.submit(make_command("AT+CSQ", 3s));
    ASSERT_TRUE(s.accepted());
    ASSERT_EQ(s.actions.size(), 2u);
    EXPECT_EQ(std::get<actions::write>(s.actions[0]).bytes, "AT+CSQ\r");
    EXPECT_EQ(std::get<actions::start_timer>(s.actions[1]).after, 3s);

    auto a = e.on_bytes("\r\n+CSQ: 20,0\r\n\r\nOK\r\n");
    ASSERT_EQ(a.size(), 2u);
    EXPECT_TRUE(std::holds_alternative<actions::cancel_timer>(a[0]));  // I/O before notifications
    auto& c = std::get<actions::complete>(a[1]);
    EXPECT_EQ(c.id, *s.id);
    EXPECT_TRUE(c.result.ok());
    EXPECT_EQ(c.result.lines, std::vector<std::string>{"+CSQ: 20,0"});
    EXPECT_TRUE(e.idle());
}

TEST(AtEngine, ByteByByteGivesTheSameResult) {
    at_engine e(quiet());
    (void)e.submit(make_command("AT+COPS?"));
    auto a = feed_bytewise(e, "\r\n+COPS: 0,0,\"TELKOMSEL\",2\r\n\r\nOK\r\n");
    auto c = completions(a);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].result.lines, std::vector<std::string>{"+COPS: 0,0,\"TELKOMSEL\",2"});
}

TEST(AtEngine, UrcInTheMiddleOfACsqReplyIsSplitOut) {
    at_engine e(quiet());
    (void)e.submit(make_command("AT+CSQ"));
    auto a = e.on_bytes("\r\n+CSQ: 14,99\r\n\r\n+CMTI: \"SM\",7\r\n\r\n^RSSI:14\r\n\r\nRING\r\n\r\nOK\r\n");
    EXPECT_EQ(urc_names(a), (std::vector<std::string>{"+CMTI", "^RSSI", "RING"}));
    auto c = completions(a);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].result.lines, std::vector<std::string>{"+CSQ: 14,99"});
    auto u = only<actions::urc>(a);
    EXPECT_EQ(u[0].value.kind, urc_kind::sms_stored);
    EXPECT_EQ(u[1].value.kind, urc_kind::signal);
    EXPECT_EQ(u[2].value.kind, urc_kind::ring);
}

TEST(AtEngine, UrcsNeverExtendTheDeadline) {
    at_engine e(quiet());
    auto s = e.submit(make_command("AT+CSQ", 2s));
    auto gen = std::get<actions::start_timer>(s.actions[1]).generation;
    for (int i = 0; i < 50; ++i) {
        auto a = e.on_bytes("\r\n^RSSI:14\r\n\r\n^BOOT:18209573,0,0,0,75\r\n");
        EXPECT_FALSE(has_start_timer(a)) << "a URC re-armed the reply deadline";
        EXPECT_TRUE(completions(a).empty());
    }
    auto t = e.on_timeout(gen);
    auto c = completions(t);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].result.status, at_status::timeout);
}

TEST(AtEngine, EchoedCommandIsDropped) {
    at_engine e(quiet());
    (void)e.submit(make_command("AT+CGSN"));
    auto a = feed_bytewise(e, "AT+CGSN\r\r\n867856030123457\r\n\r\nOK\r\n");
    auto c = completions(a);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].result.lines, std::vector<std::string>{"867856030123457"});
    EXPECT_TRUE(urc_names(a).empty());
}

TEST(AtEngine, EchoOnBringupFirstCommands) {
    // Before ATE0 every command comes back; the echo of "ATE0" itself too.
    at_engine e(quiet());
    (void)e.submit(make_command("AT"));
    auto a1 = e.on_bytes("AT\r\r\nOK\r\n");
    ASSERT_EQ(completions(a1).size(), 1u);
    EXPECT_TRUE(completions(a1)[0].result.lines.empty());
    (void)e.submit(make_command("ATE0"));
    auto a2 = e.on_bytes("ATE0\r\r\nOK\r\n");
    ASSERT_EQ(completions(a2).size(), 1u);
    EXPECT_TRUE(completions(a2)[0].result.ok());
    EXPECT_TRUE(urc_names(a2).empty());
    (void)e.submit(make_command("AT+CGMI"));
    auto a3 = e.on_bytes("\r\nSIMCOM_Ltd\r\n\r\nOK\r\n");
    EXPECT_EQ(completions(a3)[0].result.lines, std::vector<std::string>{"SIMCOM_Ltd"});
}

TEST(AtEngine, CommandsRunOneAtATime) {
    at_engine e(quiet());
    auto s1 = e.submit(make_command("AT+CSQ"));
    auto s2 = e.submit(make_command("AT+CREG?"));
    EXPECT_EQ(written(s1.actions), "AT+CSQ\r");
    EXPECT_TRUE(s2.actions.empty());
    EXPECT_EQ(e.queued(), 1u);
    auto a = e.on_bytes("\r\n+CSQ: 10,0\r\n\r\nOK\r\n");
    EXPECT_EQ(written(a), "AT+CREG?\r");
    ASSERT_EQ(completions(a).size(), 1u);
    EXPECT_EQ(completions(a)[0].id, *s1.id);
    // The write of the next command comes before the completion.
    EXPECT_TRUE(std::holds_alternative<actions::write>(a.front()));
    EXPECT_TRUE(std::holds_alternative<actions::complete>(a.back()));
    auto b = e.on_bytes("\r\n+CREG: 0,1\r\n\r\nOK\r\n");
    EXPECT_EQ(completions(b)[0].id, *s2.id);
    EXPECT_EQ(completions(b)[0].result.lines, std::vector<std::string>{"+CREG: 0,1"});
}

TEST(AtEngine, NextCommandWaitsForTheEndOfTheChunk) {
    // A duplicated OK in the same chunk was sent before the modem could know
    // the next command: it must not complete it.
    at_engine e(quiet());
    (void)e.submit(make_command("AT"));
    (void)e.submit(make_command("AT+CSQ"));
    auto a = e.on_bytes("\r\nOK\r\n\r\nOK\r\n");
    EXPECT_EQ(completions(a).size(), 1u);
    EXPECT_EQ(only<actions::diagnostic>(a).size(), 1u);
    EXPECT_EQ(only<actions::diagnostic>(a)[0].kind, diagnostic_kind::stray_final);
    EXPECT_EQ(written(a), "AT+CSQ\r");
    EXPECT_TRUE(e.in_flight().has_value());
}

TEST(AtEngine, FullQueueIsReportedNotGrown) {
    at_engine_config c = quiet();
    c.max_queue = 2;
    at_engine e(c);
    EXPECT_TRUE(e.submit(make_command("AT")).accepted());  // in flight
    EXPECT_TRUE(e.submit(make_command("AT")).accepted());
    EXPECT_TRUE(e.submit(make_command("AT")).accepted());
    auto r = e.submit(make_command("AT"));
    EXPECT_FALSE(r.accepted());
    EXPECT_TRUE(r.actions.empty());
    EXPECT_EQ(e.queued(), 2u);
}

TEST(AtEngine, SmsSendTwoPhases) {
    at_engine e(quiet());
    auto cmd = make_send_pdu("0011000B912638950000F00000A705E8329BFD06", 60s);
    ASSERT_TRUE(cmd);
    auto s = e.submit(*cmd);
    EXPECT_EQ(written(s.actions), "AT+CMGS=19\r");
    auto p = e.on_bytes("\r\n> ");
    EXPECT_EQ(written(p), std::string("0011000B912638950000F00000A705E8329BFD06") + '\x1A');
    auto timers = only<actions::start_timer>(p);
    ASSERT_EQ(timers.size(), 1u);
    EXPECT_EQ(timers[0].after, 60s);  // the long send deadline starts now
    auto a = e.on_bytes("\r\n+CMGS: 42\r\n\r\nOK\r\n");
    auto c = completions(a);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_TRUE(c[0].result.ok());
    EXPECT_EQ(parse_cmgs(c[0].result.lines), 42);
    EXPECT_EQ(written(a), "");  // no ESC after a good send
}

TEST(AtEngine, PromptWithoutTrailingNewlineAndEchoedPdu) {
    at_engine e(quiet());
    auto cmd = make_send_pdu("0011000B912638950000F00000A705E8329BFD06");
    (void)e.submit(*cmd);
    // Echo on: the command line, then "> " with no CR LF, then the PDU echo.
    auto p = feed_bytewise(e, "AT+CMGS=19\r> ");
    EXPECT_EQ(only<actions::write>(p).size(), 1u);
    auto a = feed_bytewise(e, std::string("0011000B912638950000F00000A705E8329BFD06\x1A\r\n+CMGS: 7\r\n\r\nOK\r\n"));
    auto c = completions(a);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].result.lines, std::vector<std::string>{"+CMGS: 7"});
}

TEST(AtEngine, CmsErrorAfterPromptWritesEscBeforeNextCommand) {
    at_engine e(quiet());
    (void)e.submit(*make_send_pdu("0011000B912638950000F00000A705E8329BFD06"));
    (void)e.on_bytes("\r\n> ");
    auto a = e.on_bytes("\r\n+CMS ERROR: 331\r\n");
    auto c = completions(a);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].result.status, at_status::cms_error);
    EXPECT_EQ(c[0].result.code, 331);
    EXPECT_EQ(written(a), "\x1B");
    auto settle = only<actions::start_timer>(a);
    ASSERT_EQ(settle.size(), 1u);
    EXPECT_EQ(settle[0].after, at_engine_config{}.escape_settle);

    auto s = e.submit(make_command("AT+CSQ"));
    EXPECT_TRUE(s.actions.empty()) << "next command must wait until the ESC settled";
    // A late OK for the cancelled entry is swallowed, not given to AT+CSQ.
    auto late = e.on_bytes("\r\nOK\r\n");
    EXPECT_TRUE(completions(late).empty());
    auto t = e.on_timeout(settle[0].generation);
    EXPECT_EQ(written(t), "AT+CSQ\r");
}

TEST(AtEngine, PromptTimeoutWritesEsc) {
    at_engine e(quiet());
    auto s = e.submit(*make_send_pdu("0011000B912638950000F00000A705E8329BFD06"));
    auto t = e.on_timeout();
    ASSERT_EQ(completions(t).size(), 1u);
    EXPECT_EQ(completions(t)[0].result.status, at_status::timeout);
    EXPECT_EQ(written(t), "\x1B");
    EXPECT_EQ(e.consecutive_timeouts(), 1u);
    EXPECT_FALSE(completions(t)[0].result.data_sent);  // the PDU never left: safe to send elsewhere
}

TEST(AtEngine, SendResultTimeoutWritesEsc) {
    at_engine e(quiet());
    (void)e.submit(*make_send_pdu("0011000B912638950000F00000A705E8329BFD06"));
    (void)e.on_bytes("\r\n> ");
    auto t = e.on_timeout();
    EXPECT_EQ(completions(t)[0].result.status, at_status::timeout);
    EXPECT_EQ(written(t), "\x1B");
    EXPECT_TRUE(completions(t)[0].result.data_sent);  // the modem may have sent it
}

TEST(AtEngine, ErrorInsteadOfPromptWritesEsc) {
    at_engine e(quiet());
    (void)e.submit(*make_send_pdu("0011000B912638950000F00000A705E8329BFD06"));
    auto a = e.on_bytes("\r\n+CMS ERROR: 304\r\n");
    EXPECT_EQ(completions(a)[0].result.code, 304);
    EXPECT_EQ(written(a), "\x1B");
}

TEST(AtEngine, OkBeforePromptIsAFailure) {
    at_engine e(quiet());
    (void)e.submit(*make_send_pdu("0011000B912638950000F00000A705E8329BFD06"));
    auto a = e.on_bytes("\r\nOK\r\n");
    EXPECT_EQ(completions(a)[0].result.status, at_status::error);
    EXPECT_EQ(only<actions::diagnostic>(a)[0].kind, diagnostic_kind::final_before_prompt);
    EXPECT_EQ(written(a), "\x1B");
}

TEST(AtEngine, ThreeTimeoutsAskForReopen) {
    at_engine e(quiet());
    std::vector<at_action> all;
    for (int i = 0; i < 3; ++i) {
        (void)e.submit(make_command("AT"));
        auto t = e.on_timeout();
        EXPECT_EQ(completions(t).size(), 1u);
        all.insert(all.end(), t.begin(), t.end());
        if (i < 2) {
            EXPECT_TRUE(only<actions::needs_reopen>(t).empty());
        }
    }
    auto r = only<actions::needs_reopen>(all);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].consecutive_timeouts, 3u);
    // needs_reopen comes after the completion of the third command.
    EXPECT_TRUE(std::holds_alternative<actions::needs_reopen>(all.back()));

    auto after = e.reset();
    EXPECT_EQ(e.consecutive_timeouts(), 0u);
    EXPECT_TRUE(completions(after).empty());
}

TEST(AtEngine, AnAnswerClearsTheTimeoutCountButUrcsDoNot) {
    at_engine e(quiet());
    for (int i = 0; i < 2; ++i) {
        (void)e.submit(make_command("AT"));
        (void)e.on_timeout();
    }
    (void)e.submit(make_command("AT"));
    (void)e.on_bytes("\r\n^RSSI:10\r\n");  // chatter proves nothing
    auto t = e.on_timeout();
    EXPECT_EQ(only<actions::needs_reopen>(t).size(), 1u);

    (void)e.submit(make_command("AT"));
    (void)e.on_bytes("\r\nERROR\r\n");  // any final result does
    EXPECT_EQ(e.consecutive_timeouts(), 0u);
}

TEST(AtEngine, StaleTimerGenerationIsIgnored) {
    at_engine e(quiet());
    auto s1 = e.submit(make_command("AT"));
    auto g1 = std::get<actions::start_timer>(s1.actions[1]).generation;
    (void)e.on_bytes("\r\nOK\r\n");
    auto s2 = e.submit(make_command("AT+CSQ"));
    // The first command's expiry was already queued when the second armed.
    EXPECT_TRUE(e.on_timeout(g1).empty());
    EXPECT_TRUE(e.in_flight().has_value());
    auto g2 = std::get<actions::start_timer>(s2.actions[1]).generation;
    EXPECT_EQ(completions(e.on_timeout(g2)).size(), 1u);
}

TEST(AtEngine, ResetAbortsEverythingAndEscapesFirst) {
    at_engine e;  // escape_on_open = true
    auto s1 = e.submit(make_command("AT"));
    EXPECT_EQ(written(s1.actions), "\x1B");  // ESC before the very first command
    auto t = e.on_timeout();
    EXPECT_EQ(written(t), "AT\r");
    auto s2 = e.submit(make_command("AT+CSQ"));
    (void)e.on_bytes("\r\n+CS");  // half a line, then the port goes away
    auto r = e.reset();
    ASSERT_EQ(r.size(), 3u);
    EXPECT_TRUE(std::holds_alternative<actions::cancel_timer>(r[0]));
    auto c = completions(r);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0].id, *s1.id);
    EXPECT_EQ(c[1].id, *s2.id);
    EXPECT_EQ(c[0].result.status, at_status::aborted);
    EXPECT_EQ(c[1].result.status, at_status::aborted);
    EXPECT_TRUE(e.idle());
    auto s3 = e.submit(make_command("AT"));
    EXPECT_EQ(written(s3.actions), "\x1B");
    EXPECT_EQ(written(e.on_timeout()), "AT\r");
    // The half line from before the reopen was forgotten.
    auto a = e.on_bytes("\r\nOK\r\n");
    EXPECT_TRUE(urc_names(a).empty());
    ASSERT_EQ(completions(a).size(), 1u);
    EXPECT_TRUE(completions(a)[0].result.lines.empty());
}

TEST(AtEngine, StrayFinalWhenIdleIsADiagnostic) {
    at_engine e(quiet());
    auto a = e.on_bytes("\r\nOK\r\n");
    EXPECT_TRUE(completions(a).empty());
    ASSERT_EQ(only<actions::diagnostic>(a).size(), 1u);
    EXPECT_EQ(only<actions::diagnostic>(a)[0].kind, diagnostic_kind::stray_final);
}

TEST(AtEngine, OverlongLineIsDroppedWithADiagnostic) {
    at_engine_config c = quiet();
    c.max_line = 256;
    at_engine e(c);
    (void)e.submit(make_command("AT+CGMR"));
    std::string junk(10000, 'A');
    auto a = e.on_bytes("\r\n" + junk + "\r\nREV1\r\n\r\nOK\r\n");
    auto d = only<actions::diagnostic>(a);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].kind, diagnostic_kind::line_overflow);
    auto done = completions(a);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_TRUE(done[0].result.ok());
    EXPECT_TRUE(done[0].result.truncated);
    EXPECT_EQ(done[0].result.lines, std::vector<std::string>{"REV1"});
}

TEST(AtEngine, InfoLinesAreBounded) {
    at_engine_config c = quiet();
    c.max_info_lines = 4;
    at_engine e(c);
    (void)e.submit(make_list_pdus());
    std::string reply;
    for (int i = 0; i < 5; ++i) reply += "\r\n+CMGL: " + std::to_string(i) + ",1,,5\r\n0011AABBCC\r\n";
    auto a = e.on_bytes(reply + "\r\nOK\r\n");
    auto done = completions(a);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].result.lines.size(), 4u);
    EXPECT_TRUE(done[0].result.truncated);
    EXPECT_EQ(only<actions::diagnostic>(a).size(), 1u);
}

TEST(AtEngine, UnexpectedPromptIsCancelled) {
    at_engine e(quiet());
    auto a = e.on_bytes("\r\n> ");
    EXPECT_EQ(written(a), "\x1B");
    EXPECT_EQ(only<actions::diagnostic>(a)[0].kind, diagnostic_kind::unexpected_prompt);
}

TEST(AtEngine, CusdIsAlwaysUnsolicited) {
    at_engine e(quiet());
    auto s = e.submit(*make_ussd("*888#"));
    EXPECT_EQ(written(s.actions), "AT+CUSD=1,\"*888#\",15\r");
    // Some firmwares answer before OK.
    auto a = e.on_bytes("\r\n+CUSD: 0,\"Saldo Rp 1000\",15\r\n\r\nOK\r\n");
    ASSERT_EQ(completions(a).size(), 1u);
    EXPECT_TRUE(completions(a)[0].result.lines.empty());
    EXPECT_EQ(urc_names(a), std::vector<std::string>{"+CUSD"});
}

TEST(AtEngine, DialTreatsCallProgressAsFinal) {
    at_engine e(quiet());
    (void)e.submit(make_command("ATD+628123456789;", 30s));
    auto a = e.on_bytes("\r\nBUSY\r\n");
    ASSERT_EQ(completions(a).size(), 1u);
    EXPECT_EQ(completions(a)[0].result.status, at_status::busy);
    // Outside a dial the same words are call events.
    (void)e.submit(make_command("AT+CSQ"));
    auto b = e.on_bytes("\r\nNO CARRIER\r\n\r\n+CSQ: 5,0\r\n\r\nOK\r\n");
    EXPECT_EQ(urc_names(b), std::vector<std::string>{"NO CARRIER"});
    EXPECT_TRUE(completions(b)[0].result.ok());
}

TEST(AtEngine, UnsolicitedCregInsideCregReadIsSeparated) {
    at_engine e(quiet());
    (void)e.submit(make_command("AT+CREG?"));
    auto a = e.on_bytes("\r\n+CREG: 1,\"1A2B\",\"00C3\"\r\n\r\n+CREG: 2,1,\"1A2B\",\"00C3\"\r\n\r\nOK\r\n");
    EXPECT_EQ(urc_names(a), std::vector<std::string>{"+CREG"});
    EXPECT_EQ(completions(a)[0].result.lines, std::vector<std::string>{"+CREG: 2,1,\"1A2B\",\"00C3\""});
}

TEST(AtEngine, TwoLineUrcsCarryTheirPdu) {
    at_engine e(quiet());
    (void)e.submit(make_command("AT+CGSN"));
    auto a = feed_bytewise(e,
                           "\r\n+CMT: ,24\r\n07912618485400F9040B912638950000F000004221510215400005E8329BFD06\r\n"
                           "\r\n867856030123457\r\n\r\nOK\r\n");
    auto u = only<actions::urc>(a);
    ASSERT_EQ(u.size(), 1u);
    EXPECT_EQ(u[0].value.kind, urc_kind::sms_deliver);
    EXPECT_EQ(u[0].value.pdu, "07912618485400F9040B912638950000F000004221510215400005E8329BFD06");
    EXPECT_EQ(completions(a)[0].result.lines, std::vector<std::string>{"867856030123457"});
}

TEST(AtEngine, CancelDropsOnlyQueuedCommands) {
    at_engine e(quiet());
    auto s1 = e.submit(make_command("AT"));
    auto s2 = e.submit(make_command("AT+CSQ"));
    EXPECT_TRUE(e.cancel(*s1.id).empty());  // in flight: the modem is working on it
    auto c = e.cancel(*s2.id);
    ASSERT_EQ(completions(c).size(), 1u);
    EXPECT_EQ(completions(c)[0].result.status, at_status::aborted);
    EXPECT_EQ(e.queued(), 0u);
    EXPECT_TRUE(e.cancel(12345).empty());
}

TEST(AtEngine, SensitiveCommandsAreMarkedForTheChannel) {
    at_engine e(quiet());
    auto s = e.submit(*make_enter_pin("1234"));
    auto w = only<actions::write>(s.actions);
    ASSERT_EQ(w.size(), 1u);
    EXPECT_TRUE(w[0].sensitive);
    EXPECT_EQ(w[0].bytes, "AT+CPIN=\"1234\"\r");
}

TEST(AtEngine, VerboseErrorsKeepTheirText) {
    at_engine e(quiet());
    (void)e.submit(make_command("AT+CPIN?"));
    auto a = e.on_bytes("\r\n+CME ERROR: SIM not inserted\r\n");
    auto done = completions(a);
    ASSERT_EQ(done.size(), 1u);
    const auto& r = done[0].result;
    EXPECT_EQ(r.status, at_status::cme_error);
    EXPECT_EQ(r.code, 10);
    EXPECT_EQ(r.error_text, "SIM not inserted");
    EXPECT_EQ(sim_state_from(r), sim_state::not_inserted);
}

TEST(AtEngine, SpanOverloadWorks) {
    at_engine e(quiet());
    (void)e.submit(make_command("AT"));
    const std::byte bytes[] = {std::byte{'\r'}, std::byte{'\n'}, std::byte{'O'}, std::byte{'K'}, std::byte{'\r'}, std::byte{'\n'}};
    EXPECT_EQ(completions(e.on_bytes(std::span<const std::byte>(bytes))).size(), 1u);
}

}  // namespace
