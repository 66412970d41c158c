// The modem simulator: the sans-io device (SimDevice, fake time, no pty), the
// project's own bring-up runner and AT engine driven against it (SimBringup),
// the pty simulator talked to with plain POSIX termios (SimModem), and the
// otppi-modem-sim program (SimProgram).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <filesystem>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/at_engine.hpp"
#include "otppi/modem/bringup.hpp"
#include "otppi/modem/pdu.hpp"
#include "otppi/modem/vendors/simcom.hpp"
#include "otppi/sim/modem_simulator.hpp"
#include "otppi/sim/sim_state.hpp"
#include "support/temp_dir.hpp"
#include "test_paths.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using otppi::sim::fault;
using otppi::sim::modem_device;
using otppi::sim::sim_clock;
using otppi::sim::sim_options;
namespace m = otppi::modem;

// The OTP we send around: 6 digits to a Telkomsel-style number.
constexpr const char* otp_text = "Your code is 482913";
constexpr const char* dest = "628126666666";

m::encoded_pdu submit_pdu(const std::string& text, bool report = false, std::uint16_t ref = 0) {
    m::submit_options o;
    o.destination = dest;
    o.request_status_report = report;
    o.concat_ref = ref;
    auto r = m::encode_submit(text, o);
    EXPECT_TRUE(r.ok()) << r.error;
    return r.pdus.at(0);
}

std::vector<m::encoded_pdu> submit_pdus(const std::string& text, bool report = false, std::uint16_t ref = 7) {
    m::submit_options o;
    o.destination = dest;
    o.request_status_report = report;
    o.concat_ref = ref;
    auto r = m::encode_submit(text, o);
    EXPECT_TRUE(r.ok()) << r.error;
    return r.pdus;
}

// ===================================================================== SimDevice (sans-io)

// A device with a fake clock: tests advance time explicitly.
struct fake_device {
    explicit fake_device(sim_options o = fast()) : dev(std::move(o), now) {}
    static sim_options fast() {
        sim_options o;
        o.send_delay = 1000ms;
        o.report_delay = 500ms;
        o.ussd_delay = 300ms;
        o.tts_delay = 200ms;
        return o;
    }
    std::string in(std::string_view bytes) {
        dev.on_input(bytes, now);
        return dev.take_output();
    }
    std::string cmd(const std::string& c) { return in(c + "\r"); }
    std::string advance(std::chrono::milliseconds d) {
        now += d;
        dev.on_time(now);
        return dev.take_output();
    }
    sim_clock::time_point now = sim_clock::time_point{} + 1h;
    modem_device dev;
};

TEST(SimDevice, EchoIsOnAtPowerUpAndAte0TurnsItOff) {
    fake_device d;
    EXPECT_EQ(d.cmd("AT"), "AT\r\r\nOK\r\n");
    EXPECT_EQ(d.cmd("ATE0"), "ATE0\r\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT"), "\r\nOK\r\n");
    EXPECT_EQ(d.cmd("ATE1"), "\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT"), "AT\r\r\nOK\r\n");
    // Byte by byte gives the same dialogue.
    d.cmd("ATE0");
    std::string out;
    for (char c : std::string("AT+CSQ\r")) out += d.in(std::string_view(&c, 1));
    EXPECT_EQ(out, "\r\n+CSQ: 20,0\r\n\r\nOK\r\n");
}

TEST(SimDevice, IdentityAnswersLikeASim800) {
    fake_device d;
    d.cmd("ATE0");
    EXPECT_EQ(d.cmd("AT+CGMI"), "\r\nSIMCOM_Ltd\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CGMM"), "\r\nSIMCOM_SIM800L\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CGMR"), "\r\nRevision:1418B04SIM800L24\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CGSN"), "\r\n359848091599999\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+GSN"), "\r\n359848091599999\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CIMI"), "\r\n510101234567890\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CCID"), "\r\n89621010691340116477\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("ATI"), "\r\nSIM800L R14.18\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("at+cgmi"), "\r\nSIMCOM_Ltd\r\n\r\nOK\r\n");  // case-insensitive names
    // Other vendors' ICCID commands are unknown to a SIM800.
    EXPECT_EQ(d.cmd("AT+ICCID"), "\r\nERROR\r\n");
    EXPECT_EQ(d.cmd("AT+QCCID"), "\r\nERROR\r\n");
    EXPECT_EQ(d.cmd("AT^ICCID"), "\r\nERROR\r\n");
    EXPECT_EQ(d.cmd("AT+NOSUCH"), "\r\nERROR\r\n");
    // EF_ICCID read: nibble-swapped, and the project's parser puts it back in order.
    auto crsm = d.cmd("AT+CRSM=176,12258,0,0,10");
    EXPECT_EQ(crsm, "\r\n+CRSM: 144,0,\"98260101963104114677\"\r\n\r\nOK\r\n");
    std::vector<std::string> lines{"+CRSM: 144,0,\"98260101963104114677\""};
    EXPECT_EQ(m::parse_iccid(lines), "89621010691340116477");
    EXPECT_EQ(d.cmd("AT+COPS?"), "\r\n+COPS: 0,0,\"TELKOMSEL\"\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CREG?"), "\r\n+CREG: 0,1\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CSCA?"), "\r\n+CSCA: \"+6281100000\",145\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CSMS?"), "\r\n+CSMS: 0,1,1,1\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CNUM"), "\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CSCLK=0"), "\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CPMS?"), "\r\n+CPMS: \"SM\",0,30,\"SM\",0,30,\"SM\",0,30\r\n\r\nOK\r\n");
}

TEST(SimDevice, ErrorsFollowCmee) {
    fake_device d;
    d.cmd("ATE0");
    EXPECT_EQ(d.cmd("AT+CPIN=\"1234\""), "\r\nERROR\r\n");  // SIM already ready: CME 3, shown as ERROR
    d.cmd("AT+CMEE=1");
    EXPECT_EQ(d.cmd("AT+CPIN=\"1234\""), "\r\n+CME ERROR: 3\r\n");
    d.cmd("AT+CMEE=2");
    EXPECT_EQ(d.cmd("AT+CPIN=\"1234\""), "\r\n+CME ERROR: operation not allowed\r\n");
    EXPECT_EQ(d.cmd("AT+CMGR=99"), "\r\n+CMS ERROR: invalid memory index\r\n");
    d.cmd("AT+CMEE=0");
    // +CMS ERROR is the result of SMS commands whatever CMEE says.
    EXPECT_EQ(d.cmd("AT+CMGR=99"), "\r\n+CMS ERROR: 321\r\n");
}

TEST(SimDevice, SendsAPduAfterTheSendDelay) {
    fake_device d;
    d.cmd("ATE0");
    auto pdu = submit_pdu(otp_text);
    EXPECT_EQ(d.cmd("AT+CMGS=" + std::to_string(pdu.tpdu_length)), "\r\n> ");
    EXPECT_EQ(d.in(pdu.hex + "\x1A"), "");
    ASSERT_TRUE(d.dev.next_deadline());
    EXPECT_EQ(*d.dev.next_deadline(), d.now + 1000ms);
    EXPECT_EQ(d.advance(999ms), "");
    EXPECT_EQ(d.advance(1ms), "\r\n+CMGS: 0\r\n\r\nOK\r\n");
    ASSERT_EQ(d.dev.sent_count(), 1u);
    const auto& s = d.dev.sent().front();
    EXPECT_EQ(s.destination, dest);
    EXPECT_EQ(s.text, otp_text);
    EXPECT_EQ(s.parts, 1);
    EXPECT_EQ(s.message_references, std::vector<int>{0});
    EXPECT_FALSE(s.status_report_requested);
    EXPECT_EQ(s.validity, 167);
    EXPECT_EQ(s.raw_pdus_joined_by_comma, pdu.hex);
    // TP-MR counts up.
    d.cmd("AT+CMGS=" + std::to_string(pdu.tpdu_length));
    d.in(pdu.hex + "\x1A");
    EXPECT_EQ(d.advance(1s), "\r\n+CMGS: 1\r\n\r\nOK\r\n");
    // Commands that arrive during a send wait for it, as on the real module.
    d.cmd("AT+CMGS=" + std::to_string(pdu.tpdu_length));
    EXPECT_EQ(d.in(pdu.hex + "\x1A" + "AT+CSQ\r"), "");
    EXPECT_EQ(d.advance(1s), "\r\n+CMGS: 2\r\n\r\nOK\r\n\r\n+CSQ: 20,0\r\n\r\nOK\r\n");
}

TEST(SimDevice, EchoesThePduWhileEchoIsOn) {
    fake_device d;
    auto pdu = submit_pdu(otp_text);
    const std::string c = "AT+CMGS=" + std::to_string(pdu.tpdu_length);
    EXPECT_EQ(d.cmd(c), c + "\r\r\n> ");
    EXPECT_EQ(d.in(pdu.hex + "\x1A"), pdu.hex);
    EXPECT_EQ(d.advance(1s), "\r\n+CMGS: 0\r\n\r\nOK\r\n");
}

TEST(SimDevice, ConcatenatedPartsBecomeOneMessage) {
    fake_device d;
    d.cmd("ATE0");
    const std::string text = std::string(200, 'a') + " 482913";
    auto pdus = submit_pdus(text, false, 42);
    ASSERT_EQ(pdus.size(), 2u);
    for (const auto& p : pdus) {
        EXPECT_EQ(d.cmd("AT+CMGS=" + std::to_string(p.tpdu_length)), "\r\n> ");
        d.in(p.hex + "\x1A");
        EXPECT_NE(d.advance(1s).find("+CMGS:"), std::string::npos);
    }
    ASSERT_EQ(d.dev.sent_count(), 1u);
    const auto& s = d.dev.sent().front();
    EXPECT_EQ(s.text, text);
    EXPECT_EQ(s.parts, 2);
    EXPECT_EQ(s.message_references, (std::vector<int>{0, 1}));
    EXPECT_EQ(s.raw_pdus_joined_by_comma, pdus[0].hex + "," + pdus[1].hex);
}

TEST(SimDevice, StatusReportFollowsWhenAskedForAndEnabled) {
    fake_device d;
    d.cmd("ATE0");
    auto pdu = submit_pdu(otp_text, true);
    // Power-up CNMI has <ds> 0: no report.
    d.cmd("AT+CMGS=" + std::to_string(pdu.tpdu_length));
    d.in(pdu.hex + "\x1A");
    d.advance(1s);
    EXPECT_EQ(d.advance(1s), "");
    EXPECT_TRUE(d.dev.sent().back().status_report_requested);

    EXPECT_EQ(d.cmd("AT+CNMI=2,1,0,1,0"), "\r\nOK\r\n");
    d.cmd("AT+CMGS=" + std::to_string(pdu.tpdu_length));
    d.in(pdu.hex + "\x1A");
    EXPECT_EQ(d.advance(1s), "\r\n+CMGS: 1\r\n\r\nOK\r\n");
    EXPECT_EQ(d.advance(499ms), "");
    auto out = d.advance(1ms);
    ASSERT_EQ(out.rfind("\r\n+CDS: ", 0), 0u) << out;
    auto header_end = out.find("\r\n", 2);
    auto len = std::stoi(out.substr(8, header_end - 8));
    auto hex = out.substr(header_end + 2, out.size() - header_end - 4);
    auto decoded = m::decode_pdu(hex, true);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->tpdu_length, len);
    ASSERT_EQ(decoded->type(), m::pdu_type::status_report);
    const auto& rep = std::get<m::sms_status_report>(decoded->message);
    EXPECT_EQ(rep.message_ref, 1);
    EXPECT_EQ(rep.recipient.number, dest);
    EXPECT_EQ(rep.state(), m::delivery_state::delivered);
}

TEST(SimDevice, RejectsWrongLengthsAndPdusThatAreNotSubmits) {
    fake_device d;
    d.cmd("ATE0");
    auto pdu = submit_pdu(otp_text);
    d.cmd("AT+CMGS=" + std::to_string(pdu.tpdu_length + 1));
    EXPECT_EQ(d.in(pdu.hex + "\x1A"), "\r\n+CMS ERROR: 304\r\n");
    d.cmd("AT+CMGS=" + std::to_string(pdu.tpdu_length));
    EXPECT_EQ(d.in("00ZZ" + pdu.hex + "\x1A"), "\r\n+CMS ERROR: 304\r\n");
    // A DELIVER is what the network sends, not what a handset submits.
    m::deliver_options o;
    o.originator = "6281234";
    auto deliver = m::encode_deliver("hi", o).pdus.at(0);
    d.cmd("AT+CMGS=" + std::to_string(deliver.tpdu_length));
    EXPECT_EQ(d.in(deliver.hex + "\x1A"), "\r\n+CMS ERROR: 304\r\n");
    EXPECT_EQ(d.cmd("AT+CMGS=0"), "\r\n+CMS ERROR: 304\r\n");
    EXPECT_EQ(d.dev.sent_count(), 0u);
    EXPECT_EQ(d.cmd("AT"), "\r\nOK\r\n");
}

TEST(SimDevice, EscCancelsAMessageAndIsIgnoredOutsideOne) {
    fake_device d;
    d.cmd("ATE0");
    auto pdu = submit_pdu(otp_text);
    d.cmd("AT+CMGS=" + std::to_string(pdu.tpdu_length));
    EXPECT_EQ(d.in(pdu.hex.substr(0, 10) + "\x1B"), "\r\nOK\r\n");
    EXPECT_FALSE(d.dev.next_deadline());
    // The driver's "ESC just in case" when it opens the port: no answer at all.
    EXPECT_EQ(d.in("\x1B"), "");
    EXPECT_EQ(d.cmd("AT"), "\r\nOK\r\n");
    EXPECT_EQ(d.dev.sent_count(), 0u);
}

TEST(SimDevice, UrcsWaitWhileThePromptIsOpen) {
    fake_device d;
    d.cmd("ATE0");
    auto pdu = submit_pdu(otp_text);
    d.cmd("AT+CMGS=" + std::to_string(pdu.tpdu_length));
    d.dev.deliver_sms("6281234", "hello", d.now);
    EXPECT_EQ(d.dev.take_output(), "");
    EXPECT_EQ(d.in(pdu.hex + "\x1A"), "\r\n+CMTI: \"SM\",1\r\n");
    EXPECT_EQ(d.advance(1s), "\r\n+CMGS: 0\r\n\r\nOK\r\n");
}

TEST(SimDevice, CmsErrorFaultFailsTheNextSendsThenRecovers) {
    fake_device d;
    d.cmd("ATE0");
    auto pdu = submit_pdu(otp_text);
    d.dev.set_fault(fault::cms_error, 331, 1, d.now);
    d.cmd("AT+CMGS=" + std::to_string(pdu.tpdu_length));
    d.in(pdu.hex + "\x1A");
    EXPECT_EQ(d.advance(1s), "\r\n+CMS ERROR: 331\r\n");
    EXPECT_EQ(d.dev.current_fault(), fault::none);
    d.cmd("AT+CMGS=" + std::to_string(pdu.tpdu_length));
    d.in(pdu.hex + "\x1A");
    EXPECT_EQ(d.advance(1s), "\r\n+CMGS: 1\r\n\r\nOK\r\n");  // the failed attempt spent MR 0
    EXPECT_EQ(d.dev.sent_count(), 1u);
}

TEST(SimDevice, SilentFaultsSwallowCommandsAndSends) {
    fake_device d;
    d.cmd("ATE1");
    d.dev.set_fault(fault::silent, 0, 2, d.now);
    EXPECT_EQ(d.cmd("AT"), "");  // not even the echo
    EXPECT_EQ(d.cmd("AT+CSQ"), "");
    EXPECT_EQ(d.cmd("AT"), "AT\r\r\nOK\r\n");  // two commands swallowed, then back
    d.cmd("ATE0");

    auto pdu = submit_pdu(otp_text);
    d.dev.set_fault(fault::silent_after_prompt, 0, -1, d.now);
    EXPECT_EQ(d.cmd("AT+CMGS=" + std::to_string(pdu.tpdu_length)), "\r\n> ");
    EXPECT_EQ(d.in(pdu.hex + "\x1A"), "");
    EXPECT_EQ(d.advance(10s), "");
    // The driver gives up, writes ESC (ignored) and goes on.
    EXPECT_EQ(d.in("\x1B"), "");
    EXPECT_EQ(d.cmd("AT"), "\r\nOK\r\n");
    d.dev.clear_fault(d.now);
    EXPECT_EQ(d.dev.sent_count(), 0u);

    d.dev.set_fault(fault::error, 0, 1, d.now);
    EXPECT_EQ(d.cmd("AT"), "\r\nERROR\r\n");
    EXPECT_EQ(d.cmd("AT"), "\r\nOK\r\n");
    EXPECT_EQ(d.dev.commands().size(), 9u);  // everything received is logged, swallowed or not
}

TEST(SimDevice, SimRemovedFault) {
    fake_device d;
    d.cmd("ATE0");
    d.cmd("AT+CMEE=1");
    d.dev.set_fault(fault::sim_removed, 0, -1, d.now);
    EXPECT_EQ(d.dev.take_output(), "");  // no hot-swap detection by default (AT+CSDT=0)
    EXPECT_EQ(d.cmd("AT+CPIN?"), "\r\n+CME ERROR: 10\r\n");
    EXPECT_EQ(d.cmd("AT+CIMI"), "\r\n+CME ERROR: 10\r\n");
    EXPECT_EQ(d.cmd("AT+CMGS=20"), "\r\n+CMS ERROR: 310\r\n");
    EXPECT_EQ(d.cmd("AT+COPS?"), "\r\n+COPS: 0\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CREG?"), "\r\n+CREG: 0,0\r\n\r\nOK\r\n");
    // The project's parser reads CME 10 as "no SIM".
    EXPECT_EQ(m::sim_state_from(m::at_result{m::at_status::cme_error, 10, {}, {}, false}), m::sim_state::not_inserted);
    d.dev.clear_fault(d.now);
    EXPECT_EQ(d.dev.take_output(), "");
    EXPECT_EQ(d.cmd("AT+CPIN?"), "\r\n+CPIN: READY\r\n\r\nOK\r\n");
}

TEST(SimDevice, PinFlowAndPukAfterThreeWrongPins) {
    sim_options o = fake_device::fast();
    o.pin = "4321";
    fake_device d(o);
    d.cmd("ATE0");
    d.cmd("AT+CMEE=1");
    EXPECT_EQ(d.cmd("AT+CPIN?"), "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CIMI"), "\r\n+CME ERROR: 11\r\n");
    EXPECT_EQ(d.cmd("AT+CMGL=4"), "\r\n+CMS ERROR: 311\r\n");
    EXPECT_EQ(d.cmd("AT+CCID"), "\r\n89621010691340116477\r\n\r\nOK\r\n");  // readable while locked
    EXPECT_EQ(d.cmd("AT+CPIN=\"1111\""), "\r\n+CME ERROR: 16\r\n");
    EXPECT_EQ(d.cmd("AT+CPIN=\"4321\""), "\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CPIN?"), "\r\n+CPIN: READY\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CIMI"), "\r\n510101234567890\r\n\r\nOK\r\n");
    // Power cycle: locked again; three wrong PINs block it.
    d.dev.power_cycle(d.now);
    d.cmd("ATE0");
    d.cmd("AT+CMEE=1");
    EXPECT_EQ(d.cmd("AT+CPIN?"), "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n");
    for (int i = 0; i < 3; ++i) EXPECT_EQ(d.cmd("AT+CPIN=1111"), "\r\n+CME ERROR: 16\r\n");
    EXPECT_EQ(d.cmd("AT+CPIN?"), "\r\n+CPIN: SIM PUK\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CPIN=\"4321\""), "\r\n+CME ERROR: 3\r\n");  // the PUK wants a new PIN too
    EXPECT_EQ(d.cmd("AT+CPIN=\"12345678\",\"0000\""), "\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CPIN?"), "\r\n+CPIN: READY\r\n\r\nOK\r\n");
    // No PIN ever reaches the command log.
    for (const auto& c : d.dev.commands()) {
        EXPECT_EQ(c.find("4321"), std::string::npos) << c;
        EXPECT_EQ(c.find("1111"), std::string::npos) << c;
        EXPECT_EQ(c.find("12345678"), std::string::npos) << c;
    }
    EXPECT_EQ(d.dev.commands()[6], "AT+CPIN=\"****\"");
}

TEST(SimDevice, ClckQueriesAndTogglesThePinLock) {
    fake_device d;
    d.cmd("ATE0");
    d.cmd("AT+CMEE=1");
    EXPECT_EQ(d.cmd("AT+CLCK=\"SC\",2"), "\r\n+CLCK: 0\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CLCK=\"SC\",1,\"9999\""), "\r\n+CME ERROR: 16\r\n");
    EXPECT_EQ(d.cmd("AT+CLCK=\"SC\",1,\"1234\""), "\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CLCK=\"SC\",2"), "\r\n+CLCK: 1\r\n\r\nOK\r\n");
    std::vector<std::string> lines{"+CLCK: 1"};
    EXPECT_EQ(m::parse_clck(lines), true);
    d.dev.power_cycle(d.now);
    d.cmd("ATE0");
    EXPECT_EQ(d.cmd("AT+CPIN?"), "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n");
    d.cmd("AT+CPIN=\"1234\"");
    EXPECT_EQ(d.cmd("AT+CLCK=\"SC\",0,\"1234\""), "\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CLCK=\"SC\",2"), "\r\n+CLCK: 0\r\n\r\nOK\r\n");
    EXPECT_EQ(d.dev.commands().back(), "AT+CLCK=\"SC\",2");
    EXPECT_EQ(d.dev.commands()[d.dev.commands().size() - 2], "AT+CLCK=\"SC\",0,\"****\"");
}

TEST(SimDevice, IncomingSmsIsStoredAnnouncedListedReadAndDeleted) {
    fake_device d;
    d.cmd("ATE0");
    d.dev.deliver_sms("+6281298765432", "Halo, apa kabar?", d.now);
    EXPECT_EQ(d.dev.take_output(), "\r\n+CMTI: \"SM\",1\r\n");
    const std::string long_text(170, 'x');
    d.dev.deliver_sms("6281298765432", long_text, d.now);
    EXPECT_EQ(d.dev.take_output(), "\r\n+CMTI: \"SM\",2\r\n\r\n+CMTI: \"SM\",3\r\n");
    auto out = d.cmd("AT+CMGL=4");
    ASSERT_EQ(out.substr(out.size() - 6), "\r\nOK\r\n");
    // What the project's AT layer makes of it.
    std::vector<std::string> lines;
    std::size_t pos = 2;
    while (true) {
        auto e = out.find("\r\n", pos);
        if (e == std::string::npos || e == out.size() - 6) break;
        lines.push_back(out.substr(pos, e - pos));
        pos = e + 2;
    }
    auto listed = m::parse_cmgl(lines);
    ASSERT_EQ(listed.size(), 3u) << out;
    EXPECT_EQ(listed[0].index, 1);
    EXPECT_EQ(listed[0].stat, 0);
    auto first = m::decode_pdu(listed[0].pdu, true);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->tpdu_length, listed[0].length);
    const auto& deliver = std::get<m::sms_deliver>(first->message);
    EXPECT_EQ(deliver.originator.number, "6281298765432");
    EXPECT_EQ(deliver.ud.text, "Halo, apa kabar?");
    auto second = m::decode_pdu(listed[1].pdu, true);
    ASSERT_TRUE(second && second->ud() && second->ud()->concat);
    EXPECT_EQ(second->ud()->concat->total, 2);
    // Listing marked them read.
    EXPECT_EQ(d.cmd("AT+CMGR=1").substr(0, 12), "\r\n+CMGR: 1,,");
    EXPECT_EQ(d.cmd("AT+CMGR=9"), "\r\nOK\r\n");  // empty slot
    EXPECT_EQ(d.cmd("AT+CMGD=1"), "\r\nOK\r\n");
    EXPECT_EQ(d.dev.stored_count(), 2u);
    EXPECT_EQ(d.cmd("AT+CMGD=1,4"), "\r\nOK\r\n");
    EXPECT_EQ(d.dev.stored_count(), 0u);
    EXPECT_EQ(d.cmd("AT+CMGL=4"), "\r\nOK\r\n");
    // Text mode listing.
    d.dev.deliver_sms("6281298765432", "teks", d.now);
    d.dev.take_output();
    d.cmd("AT+CMGF=1");
    auto text = d.cmd("AT+CMGL=\"ALL\"");
    EXPECT_NE(text.find("+CMGL: 1,\"REC UNREAD\",\"+6281298765432\""), std::string::npos) << text;
    EXPECT_NE(text.find("\r\nteks\r\n"), std::string::npos) << text;
}

TEST(SimDevice, CnmiModeTwoRoutesSmsDirectly) {
    fake_device d;
    d.cmd("ATE0");
    d.cmd("AT+CNMI=2,2,0,0,0");
    d.dev.deliver_sms("6281234", "direct", d.now);
    auto out = d.dev.take_output();
    ASSERT_EQ(out.rfind("\r\n+CMT: \"\",", 0), 0u) << out;
    EXPECT_EQ(d.dev.stored_count(), 0u);
}

TEST(SimDevice, TextModeSend) {
    fake_device d;
    d.cmd("ATE0");
    d.cmd("AT+CMGF=1");
    EXPECT_EQ(d.cmd("AT+CMGS=\"+628126666666\""), "\r\n> ");
    EXPECT_EQ(d.in(std::string(otp_text) + "\x1A"), "");
    EXPECT_EQ(d.advance(1s), "\r\n+CMGS: 0\r\n\r\nOK\r\n");
    ASSERT_EQ(d.dev.sent_count(), 1u);
    EXPECT_EQ(d.dev.sent().front().destination, dest);
    EXPECT_EQ(d.dev.sent().front().text, otp_text);
}

TEST(SimDevice, TextOnlyModemRefusesPduMode) {
    auto o = fake_device::fast();
    o.text_only = true;
    fake_device d(o);
    d.cmd("ATE0");
    EXPECT_EQ(d.cmd("AT+CMGF?"), "\r\n+CMGF: 1\r\n\r\nOK\r\n") << "text mode at power-up";
    EXPECT_EQ(d.cmd("AT+CMGF=?"), "\r\n+CMGF: (1)\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CMGF=0"), "\r\nERROR\r\n");
    EXPECT_EQ(d.cmd("AT+CMGF=1"), "\r\nOK\r\n");
    fake_device normal;
    normal.cmd("ATE0");
    EXPECT_EQ(normal.cmd("AT+CMGF=?"), "\r\n+CMGF: (0,1)\r\n\r\nOK\r\n");
}

TEST(SimDevice, TextModeGsmSetUcs2DcsAndCharsetsOnOffer) {
    fake_device d;
    d.cmd("ATE0");
    d.cmd("AT+CMGF=1");
    // GSM set: one GSM code per byte ("\x05" is é, "\x02" is $); a typed CR is a line break.
    d.cmd("AT+CSCS=\"GSM\"");
    EXPECT_EQ(d.cmd("AT+CMGS=\"+628126666666\",145"), "\r\n> ");
    EXPECT_EQ(d.in("Caf\x05 5\x02\r"), "\r\n> ");
    d.in("ok\x1A");
    d.advance(1s);
    ASSERT_EQ(d.dev.sent_count(), 1u);
    EXPECT_EQ(d.dev.sent().back().text, "Caf\xC3\xA9 5$\nok");
    // UCS2 <dcs>: the body is hex octets; the number is in the UCS2 set.
    EXPECT_EQ(d.cmd("AT+CSMP=49,167,0,8"), "\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CSMP?"), "\r\n+CSMP: 49,167,0,8\r\n\r\nOK\r\n");
    d.cmd("AT+CSCS=\"UCS2\"");
    EXPECT_EQ(d.cmd("AT+CMGS=\"002B003600320038\",145"), "\r\n> ");
    d.in("27130021\x1A");
    d.advance(1s);
    ASSERT_EQ(d.dev.sent_count(), 2u);
    EXPECT_EQ(d.dev.sent().back().text, "\xE2\x9C\x93!");
    EXPECT_EQ(d.dev.sent().back().destination, "628");
    EXPECT_TRUE(d.dev.sent().back().status_report_requested);
    // 71 UTF-16 units do not fit one UCS2 part.
    d.cmd("AT+CMGS=\"002B003600320038\",145");
    std::string hex;
    for (int i = 0; i < 71; ++i) hex += "0041";
    auto out = d.in(hex + "\x1A");
    EXPECT_NE(out.find("+CMS ERROR: 305"), std::string::npos) << out;

    auto o = fake_device::fast();
    o.ucs2_charset = false;
    fake_device no_ucs2(o);
    no_ucs2.cmd("ATE0");
    EXPECT_EQ(no_ucs2.cmd("AT+CSCS=\"UCS2\""), "\r\nERROR\r\n");
    EXPECT_EQ(no_ucs2.cmd("AT+CSCS=?").find("UCS2"), std::string::npos);
}

TEST(SimDevice, TextModeReadsFollowCsdhAndTheCharacterSet) {
    fake_device d;
    d.cmd("ATE0");
    d.dev.deliver_sms("+6281298765432", "OK", d.now);
    d.dev.deliver_sms("+6281298765432", "\xE2\x9C\x93", d.now);
    d.dev.take_output();
    d.cmd("AT+CMGF=1");
    d.cmd("AT+CSDH=1");
    EXPECT_EQ(d.cmd("AT+CSDH?"), "\r\n+CSDH: 1\r\n\r\nOK\r\n");
    d.cmd("AT+CSCS=\"UCS2\"");
    auto gsm = d.cmd("AT+CMGR=1");
    // <tooa> 145, <fo> 4, <pid> 0, <dcs> 0, then the body "OK" in UCS2 hex.
    EXPECT_NE(gsm.find("\"002B0036003200380031003200390038003700360035003400330032\",\"\",\""), std::string::npos) << gsm;
    EXPECT_NE(gsm.find(",145,4,0,0,"), std::string::npos) << gsm;
    EXPECT_NE(gsm.find("\r\n004F004B\r\n"), std::string::npos) << gsm;
    auto ucs2 = d.cmd("AT+CMGR=2");
    EXPECT_NE(ucs2.find(",145,4,0,8,"), std::string::npos) << ucs2;
    EXPECT_NE(ucs2.find("\r\n2713\r\n"), std::string::npos) << ucs2;
    // +CMGL keeps the four fields of the basic header.
    d.cmd("AT+CSCS=\"GSM\"");
    auto list = d.cmd("AT+CMGL=\"ALL\"");
    EXPECT_NE(list.find("+CMGL: 1,\"REC READ\",\"+6281298765432\",\"\",\""), std::string::npos) << list;
    EXPECT_EQ(list.find(",145,4,"), std::string::npos) << list;
}

TEST(SimDevice, TextModeStatusReportIsOneLine) {
    fake_device d;
    d.cmd("ATE0");
    d.cmd("AT+CNMI=2,1,0,1,0");
    d.cmd("AT+CMGF=1");
    d.cmd("AT+CSMP=49,167,0,0");
    d.cmd("AT+CMGS=\"+628126666666\",145");
    d.in(std::string(otp_text) + "\x1A");
    EXPECT_EQ(d.advance(1s), "\r\n+CMGS: 0\r\n\r\nOK\r\n");
    auto report = d.advance(500ms);
    EXPECT_EQ(report.rfind("\r\n+CDS: 6,0,\"+628126666666\",145,\"", 0), 0u) << report;
    EXPECT_EQ(report.substr(report.size() - 4), ",0\r\n") << report;
}

TEST(SimDevice, UssdPlainUcs2MenuAndCancel) {
    fake_device d;
    d.cmd("ATE0");
    d.dev.set_ussd_reply("*888#", "Sisa pulsa Rp 10.000", false, false);
    d.dev.set_ussd_reply("*123#", "Pilih: 1 Paket", false, true);
    d.dev.set_ussd_reply("*100#", "Saldo Anda ✓", true, false);
    EXPECT_EQ(d.cmd("AT+CUSD=1,\"*888#\",15"), "\r\nOK\r\n");
    EXPECT_EQ(d.advance(299ms), "");
    auto plain = d.advance(1ms);
    EXPECT_EQ(plain, "\r\n+CUSD: 0,\"Sisa pulsa Rp 10.000\",15\r\n");
    auto parsed = m::parse_cusd(plain.substr(2, plain.size() - 4));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->status, 0);
    EXPECT_EQ(m::decode_ussd_text(*parsed, false).text, "Sisa pulsa Rp 10.000");

    d.cmd("AT+CUSD=1,\"*100#\",15");
    auto ucs2 = d.advance(300ms);
    parsed = m::parse_cusd(ucs2.substr(2, ucs2.size() - 4));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->dcs, 72);
    EXPECT_EQ(m::decode_ussd_text(*parsed, false).text, "Saldo Anda ✓");

    d.cmd("AT+CUSD=1,\"*123#\",15");
    EXPECT_EQ(d.advance(300ms), "\r\n+CUSD: 1,\"Pilih: 1 Paket\",15\r\n");

    d.cmd("AT+CUSD=1,\"*888#\",15");
    EXPECT_EQ(d.cmd("AT+CUSD=2"), "\r\nOK\r\n");
    EXPECT_EQ(d.advance(1s), "");  // cancelled before the answer came

    d.cmd("AT+CUSD=1,\"*999#\",15");
    EXPECT_EQ(d.advance(300ms), "\r\n+CUSD: 4\r\n");
}

TEST(SimDevice, VoiceCallWithTtsKeepsTheTextOutOfTheLog) {
    fake_device d;
    d.cmd("ATE0");
    EXPECT_EQ(d.cmd("ATD+628126666666;"), "\r\nOK\r\n");
    auto tts = m::make_tts("Kode Anda 4 8 2 9 1 3");
    ASSERT_TRUE(tts);
    EXPECT_EQ(d.cmd(tts->text), "\r\nOK\r\n");
    EXPECT_EQ(d.advance(200ms), "\r\n+CTTS: 0\r\n");
    EXPECT_EQ(d.cmd("ATH"), "\r\nOK\r\n");
    ASSERT_EQ(d.dev.calls().size(), 1u);
    EXPECT_EQ(d.dev.calls()[0].number, "+628126666666");
    EXPECT_EQ(d.dev.calls()[0].spoken, std::vector<std::string>{"Kode Anda 4 8 2 9 1 3"});
    EXPECT_FALSE(d.dev.calls()[0].active);
    for (const auto& c : d.dev.commands()) EXPECT_EQ(c.find("4 8 2"), std::string::npos) << c;
    EXPECT_EQ(d.dev.commands()[2], "AT+CTTS=<redacted>");
    // Firmware without TTS.
    sim_options o = fake_device::fast();
    o.supports_tts = false;
    fake_device plain(o);
    plain.cmd("ATE0");
    EXPECT_EQ(plain.cmd(tts->text), "\r\nERROR\r\n");
}

TEST(SimDevice, ClccFollowsTheCallUntilItIsAnsweredAndEnded) {
    sim_options o = fake_device::fast();
    o.call_answer_delay = 1000ms;
    fake_device d(o);
    d.cmd("ATE0");
    EXPECT_EQ(d.cmd("AT+CLCC"), "\r\nOK\r\n");
    d.cmd("ATD628126666666;");
    EXPECT_EQ(d.cmd("AT+CLCC"), "\r\n+CLCC: 1,0,2,0,0,\"628126666666\",129,\"\"\r\n\r\nOK\r\n");
    d.advance(500ms);
    EXPECT_EQ(d.cmd("AT+CLCC"), "\r\n+CLCC: 1,0,3,0,0,\"628126666666\",129,\"\"\r\n\r\nOK\r\n");
    d.advance(500ms);
    EXPECT_EQ(d.cmd("AT+CLCC"), "\r\n+CLCC: 1,0,0,0,0,\"628126666666\",129,\"\"\r\n\r\nOK\r\n");
    EXPECT_TRUE(d.dev.calls().back().answered);
    d.dev.end_call(d.now);
    EXPECT_EQ(d.dev.take_output(), "\r\nNO CARRIER\r\n");
    EXPECT_EQ(d.cmd("AT+CLCC"), "\r\nOK\r\n");
    EXPECT_FALSE(d.dev.calls().back().active);
    // A callee who never picks up.
    o.answer_calls = false;
    fake_device never(o);
    never.cmd("ATE0");
    never.cmd("ATD+628126666666;");
    never.advance(10s);
    EXPECT_EQ(never.cmd("AT+CLCC"), "\r\n+CLCC: 1,0,3,0,0,\"+628126666666\",145,\"\"\r\n\r\nOK\r\n");
}

TEST(SimDevice, OtherVendorsAnswerTheirOwnIccidCommand) {
    struct flavour {
        const char* manufacturer;
        const char* model;
        const char* command;
        const char* reply;
    };
    const flavour flavours[] = {
        {"SIMCOM_Ltd", "SIMCOM_SIM800L", "AT+CCID", "89621010691340116477"},
        {"SIMCOM INCORPORATED", "SIMCOM_SIM7600E-H", "AT+CICCID", "+ICCID: 89621010691340116477"},
        {"Quectel", "EC25", "AT+QCCID", "+QCCID: 89621010691340116477"},
        {"huawei", "E3372", "AT^ICCID?", "^ICCID: 98260101963104114677"},
        {"ACME Wireless", "X100", "AT+CCID", "+CCID: 89621010691340116477"},
    };
    for (const auto& f : flavours) {
        sim_options o = fake_device::fast();
        o.manufacturer = f.manufacturer;
        o.model = f.model;
        fake_device d(o);
        d.cmd("ATE0");
        EXPECT_EQ(d.cmd(f.command), std::string("\r\n") + f.reply + "\r\n\r\nOK\r\n") << f.model;
        std::vector<std::string> lines{f.reply};
        EXPECT_EQ(m::parse_iccid(lines), "89621010691340116477") << f.model;
    }
}

TEST(SimDevice, EgmrChangesTheImei) {
    fake_device d;
    d.cmd("ATE0");
    auto cmd = m::make_imei_change("490154203237518");
    ASSERT_TRUE(cmd);
    EXPECT_EQ(d.cmd(cmd->text), "\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+CGSN"), "\r\n490154203237518\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+EGMR=0,7"), "\r\n+EGMR: \"490154203237518\"\r\n\r\nOK\r\n");
    EXPECT_EQ(d.cmd("AT+EGMR=1,7,\"12\""), "\r\nERROR\r\n");
    d.dev.power_cycle(d.now);  // written to NV memory: survives
    d.cmd("ATE0");
    EXPECT_EQ(d.cmd("AT+CGSN"), "\r\n490154203237518\r\n\r\nOK\r\n");
    sim_options o = fake_device::fast();
    o.supports_imei_change = false;
    fake_device lte(o);
    lte.cmd("ATE0");
    EXPECT_EQ(lte.cmd(cmd->text), "\r\nERROR\r\n");
}

TEST(SimDevice, NotRegisteredSendsFailWithNoNetwork) {
    fake_device d;
    d.cmd("ATE0");
    d.dev.set_registration(2);
    EXPECT_EQ(d.cmd("AT+CREG?"), "\r\n+CREG: 0,2\r\n\r\nOK\r\n");
    auto pdu = submit_pdu(otp_text);
    d.cmd("AT+CMGS=" + std::to_string(pdu.tpdu_length));
    d.in(pdu.hex + "\x1A");
    EXPECT_EQ(d.advance(1s), "\r\n+CMS ERROR: 331\r\n");
}

TEST(SimDevice, NoSmscAnywhereMeansCms330) {
    sim_options o = fake_device::fast();
    o.smsc.clear();
    fake_device d(o);
    d.cmd("ATE0");
    auto pdu = submit_pdu(otp_text);
    d.cmd("AT+CMGS=" + std::to_string(pdu.tpdu_length));
    EXPECT_EQ(d.in(pdu.hex + "\x1A"), "\r\n+CMS ERROR: 330\r\n");
    EXPECT_EQ(d.cmd("AT+CSCA=\"+6281100000\",145"), "\r\nOK\r\n");
    d.cmd("AT+CMGS=" + std::to_string(pdu.tpdu_length));
    d.in(pdu.hex + "\x1A");
    EXPECT_EQ(d.advance(1s), "\r\n+CMGS: 0\r\n\r\nOK\r\n");
}

TEST(SimDevice, BootUrcsWhenAskedFor) {
    sim_options o = fake_device::fast();
    o.boot_urcs = true;
    o.pin = "1234";
    fake_device d(o);
    EXPECT_EQ(d.advance(20ms), "\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: SIM PIN\r\n");
    EXPECT_EQ(d.advance(100ms), "\r\nCall Ready\r\n\r\nSMS Ready\r\n");
    EXPECT_FALSE(d.dev.next_deadline());
}

TEST(SimDevice, OverlongLinesAreRefusedAndBoundedInMemory) {
    fake_device d;
    d.cmd("ATE0");
    EXPECT_EQ(d.cmd("AT+" + std::string(5000, 'X')), "\r\nERROR\r\n");
    EXPECT_EQ(d.cmd("AT"), "\r\nOK\r\n");
    // Garbage that is no AT command is ignored, like a real module does.
    EXPECT_EQ(d.in(std::string("\x00\xff hello\r", 9)), "");
}

TEST(SimDevice, MasksSecretsAndNumbers) {
    using otppi::sim::detail::mask_command;
    using otppi::sim::detail::mask_number;
    EXPECT_EQ(mask_command("AT+CPIN=\"1234\""), "AT+CPIN=\"****\"");
    EXPECT_EQ(mask_command("at+cpin=1234"), "at+cpin=****");
    EXPECT_EQ(mask_command("AT+CPIN=\"12345678\",\"0000\""), "AT+CPIN=\"****\",\"****\"");
    EXPECT_EQ(mask_command("AT+CPIN?"), "AT+CPIN?");
    EXPECT_EQ(mask_command("AT+CLCK=\"SC\",1,\"1234\""), "AT+CLCK=\"SC\",1,\"****\"");
    EXPECT_EQ(mask_command("AT+CLCK=\"SC\",2"), "AT+CLCK=\"SC\",2");
    EXPECT_EQ(mask_command("AT+CPWD=\"SC\",\"1234\",\"5678\""), "AT+CPWD=\"SC\",\"****\",\"****\"");
    EXPECT_EQ(mask_command("AT+CTTS=2,\"482913\""), "AT+CTTS=<redacted>");
    EXPECT_EQ(mask_command("AT+CTTS=?"), "AT+CTTS=?");
    EXPECT_EQ(mask_command("AT+CSQ"), "AT+CSQ");
    EXPECT_EQ(mask_number("628126666666"), "62812****666");
    EXPECT_EQ(mask_number("6281266666667"), "62812*****667");
    EXPECT_EQ(mask_number("12345"), "***45");
}

// ===================================================================== SimBringup

template <class... Ts>
struct overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

// The project's bring-up runner and AT engine against the device, all sans-io:
// proves the simulator answers every command of the plan the way the driver parses.
struct bringup_result {
    std::optional<m::bringup_error> error;
    m::modem_identity identity;
    std::vector<std::string> skipped;
};

bringup_result run_bringup(fake_device& d, m::pin_latch& latch) {
    m::at_engine_config cfg;
    cfg.escape_on_open = true;
    m::at_engine engine(cfg);
    m::bringup_options bo;
    bo.sim_poll_delay = 10ms;
    m::bringup runner(latch, bo);
    bringup_result res;
    std::optional<m::at_result> completed;
    std::optional<std::uint64_t> timer;

    auto run_actions = [&](std::vector<m::at_action> acts) {
        // Device output can complete commands and start new ones: loop until quiet.
        while (!acts.empty()) {
            std::vector<m::at_action> next;
            for (auto& a : acts) {
                std::visit(
                    overloaded{[&](m::actions::write& w) {
                                   d.dev.on_input(w.bytes, d.now);
                                   auto out = d.dev.take_output();
                                   if (!out.empty()) {
                                       auto more = engine.on_bytes(out);
                                       next.insert(next.end(), more.begin(), more.end());
                                   }
                               },
                               [&](m::actions::start_timer& t) { timer = t.generation; }, [&](m::actions::cancel_timer&) { timer.reset(); },
                               [&](m::actions::complete& c) { completed = std::move(c.result); }, [](auto&) {}},
                    a);
            }
            acts = std::move(next);
        }
    };

    m::bringup_action action = runner.start();
    for (int guard = 0; guard < 200; ++guard) {
        if (std::holds_alternative<m::bringup_actions::done>(action)) break;
        if (auto* f = std::get_if<m::bringup_actions::failed>(&action)) {
            res.error = f->error;
            break;
        }
        if (std::holds_alternative<m::bringup_actions::wait>(action)) {
            action = runner.on_wait_done();
            continue;
        }
        auto& send = std::get<m::bringup_actions::send>(action);
        completed.reset();
        auto sub = engine.submit(send.command);
        EXPECT_TRUE(sub.accepted());
        run_actions(std::move(sub.actions));
        // The ESC settle (escape_on_open) and real timeouts: let the armed timer expire.
        while (!completed && timer) {
            auto gen = *timer;
            timer.reset();
            run_actions(engine.on_timeout(gen));
        }
        if (!completed) {
            ADD_FAILURE() << "no completion for " << send.command.text;
            break;
        }
        action = runner.on_result(*completed);
    }
    res.identity = runner.identity();
    res.skipped = runner.skipped();
    return res;
}

TEST(SimBringup, TheProjectsBringupSucceedsWithEveryStep) {
    fake_device d;
    m::pin_latch latch;
    auto r = run_bringup(d, latch);
    ASSERT_FALSE(r.error) << m::to_string(*r.error);
    EXPECT_TRUE(r.skipped.empty()) << ::testing::PrintToString(r.skipped);
    const auto& id = r.identity;
    EXPECT_EQ(id.vendor, "simcom");
    EXPECT_EQ(id.manufacturer, "SIMCOM_Ltd");
    EXPECT_EQ(id.model, "SIMCOM_SIM800L");
    EXPECT_EQ(id.revision, "1418B04SIM800L24");
    EXPECT_EQ(id.imei, "359848091599999");
    EXPECT_EQ(id.imsi, "510101234567890");
    EXPECT_EQ(id.iccid, "89621010691340116477");
    EXPECT_EQ(id.sim, m::sim_state::ready);
    EXPECT_EQ(id.operator_name, "TELKOMSEL");
    ASSERT_TRUE(id.registration);
    EXPECT_TRUE(id.registration->registered());
    ASSERT_TRUE(id.signal);
    EXPECT_EQ(id.signal->rssi, 20);
    EXPECT_EQ(id.smsc, "+6281100000");
    EXPECT_TRUE(id.sms_indications);
    EXPECT_TRUE(id.status_reports);
    EXPECT_TRUE(id.cmms_supported);
    ASSERT_TRUE(id.csms);
    EXPECT_TRUE(id.csms->mo);
    EXPECT_FALSE(d.dev.echo());
    // The device now has what the driver asked for: +CDS reports are on.
    d.dev.deliver_sms("6281234", "x", d.now);
    EXPECT_EQ(d.dev.take_output(), "\r\n+CMTI: \"SM\",1\r\n");
}

TEST(SimBringup, EveryVendorFlavourBringsUpWithoutSkippedSteps) {
    const std::pair<const char*, const char*> flavours[] = {
        {"SIMCOM INCORPORATED", "SIMCOM_SIM7600E-H"}, {"Quectel", "EC25"}, {"huawei", "E3372"}, {"ACME Wireless", "X100"}};
    for (const auto& [mf, md] : flavours) {
        sim_options o = fake_device::fast();
        o.manufacturer = mf;
        o.model = md;
        fake_device d(o);
        m::pin_latch latch;
        auto r = run_bringup(d, latch);
        ASSERT_FALSE(r.error) << md << ": " << m::to_string(*r.error);
        EXPECT_EQ(r.identity.iccid, "89621010691340116477") << md;
        // Only the EF_ICCID fallback may be left out (it runs when the vendor command fails).
        EXPECT_TRUE(r.skipped.empty()) << md << ": " << ::testing::PrintToString(r.skipped);
    }
}

TEST(SimBringup, PinIsEnteredOnceAndAWrongOneIsReported) {
    sim_options o = fake_device::fast();
    o.pin = "2468";
    {
        fake_device d(o);
        m::pin_latch latch(std::string("2468"));
        auto r = run_bringup(d, latch);
        ASSERT_FALSE(r.error) << m::to_string(*r.error);
        EXPECT_EQ(r.identity.sim, m::sim_state::ready);
        EXPECT_EQ(r.identity.imsi, "510101234567890");
        int pins = 0;
        for (const auto& c : d.dev.commands()) pins += c.rfind("AT+CPIN=", 0) == 0;
        EXPECT_EQ(pins, 1);
    }
    {
        fake_device d(o);
        m::pin_latch latch(std::string("1111"));
        auto r = run_bringup(d, latch);
        ASSERT_TRUE(r.error);
        EXPECT_EQ(*r.error, m::bringup_error::pin_rejected);
    }
}

// ===================================================================== SimModem (pty)

// The driver's side, with nothing but POSIX calls.
class port_client {
public:
    explicit port_client(const std::string& path) {
        fd_ = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd_ < 0) return;
        termios t{};
        ::tcgetattr(fd_, &t);
        ::cfmakeraw(&t);
        ::cfsetispeed(&t, B115200);
        ::cfsetospeed(&t, B115200);
        ::tcsetattr(fd_, TCSANOW, &t);
    }
    ~port_client() { close(); }
    port_client(const port_client&) = delete;
    port_client& operator=(const port_client&) = delete;

    bool is_open() const { return fd_ >= 0; }
    int fd() const { return fd_; }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    bool write(const std::string& bytes) {
        std::size_t done = 0;
        while (done < bytes.size()) {
            auto n = ::write(fd_, bytes.data() + done, bytes.size() - done);
            if (n <= 0) return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    }

    // Reads until `token` is in the buffer; returns the buffer up to and including it
    // (and keeps the rest), or everything read so far on timeout.
    std::string read_until(const std::string& token, std::chrono::milliseconds timeout = 3s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::size_t pos;
        while ((pos = buf_.find(token)) == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
            if (left <= 0 || !fill(static_cast<int>(left))) return std::exchange(buf_, {});
        }
        auto out = buf_.substr(0, pos + token.size());
        buf_.erase(0, pos + token.size());
        return out;
    }

    // One command and its reply up to the final result.
    std::string command(const std::string& cmd, std::chrono::milliseconds timeout = 3s) {
        write(cmd + "\r");
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (true) {
            for (const char* fin : {"\r\nOK\r\n", "ERROR\r\n", "ERROR: ", "\r\n> "}) {
                auto p = buf_.find(fin);
                if (p == std::string::npos) continue;
                auto end = p + std::string(fin).size();
                if (std::string(fin) == "ERROR: ") end = buf_.find("\r\n", p);
                if (end == std::string::npos) continue;
                if (std::string(fin) == "ERROR: ") end += 2;
                auto out = buf_.substr(0, end);
                buf_.erase(0, end);
                return out;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
            if (left <= 0 || !fill(static_cast<int>(left))) return std::exchange(buf_, {});
        }
    }

    // Nothing arrives within `quiet`.
    bool silent_for(std::chrono::milliseconds quiet) {
        if (!buf_.empty()) return false;
        return !fill(static_cast<int>(quiet.count()));
    }

    // `n` CR LF terminated pieces ("\r\n" + "+CMTI: ...\r\n" is 2).
    std::string read_lines(int n, std::chrono::milliseconds timeout = 2s) {
        std::string out;
        for (int i = 0; i < n; ++i) out += read_until("\r\n", timeout);
        return out;
    }

    // What a read on a hung-up port gives: -errno, 0 for EOF, or the byte count.
    int read_result(std::chrono::milliseconds timeout) {
        pollfd p{fd_, POLLIN, 0};
        int rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
        if (rc <= 0) return -ETIMEDOUT;
        last_revents_ = p.revents;
        char c[64];
        auto n = ::read(fd_, c, sizeof c);
        return n < 0 ? -errno : static_cast<int>(n);
    }
    short last_revents() const { return last_revents_; }

private:
    bool fill(int timeout_ms) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) return false;
        char c[4096];
        auto n = ::read(fd_, c, sizeof c);
        if (n <= 0) return false;
        buf_.append(c, static_cast<std::size_t>(n));
        return true;
    }
    int fd_ = -1;
    std::string buf_;
    short last_revents_ = 0;
};

sim_options fast_sim() {
    sim_options o;
    o.send_delay = 20ms;
    o.report_delay = 10ms;
    o.ussd_delay = 10ms;
    o.tts_delay = 10ms;
    return o;
}

TEST(SimModem, EchoThenAte0OverThePty) {
    otppi::sim::modem_simulator sim(fast_sim());
    EXPECT_EQ(sim.port().rfind("/dev/pts/", 0), 0u) << sim.port();
    port_client port(sim.port());
    ASSERT_TRUE(port.is_open());
    // The driver's opening ESC: ignored.
    port.write("\x1B");
    EXPECT_EQ(port.command("AT"), "AT\r\r\nOK\r\n");
    EXPECT_EQ(port.command("ATE0"), "ATE0\r\r\nOK\r\n");
    EXPECT_EQ(port.command("AT+CGSN"), "\r\n359848091599999\r\n\r\nOK\r\n");
    EXPECT_EQ(port.command("AT+CCID"), "\r\n89621010691340116477\r\n\r\nOK\r\n");
    EXPECT_EQ(port.command("AT+COPS?"), "\r\n+COPS: 0,0,\"TELKOMSEL\"\r\n\r\nOK\r\n");
    EXPECT_EQ(sim.commands(), (std::vector<std::string>{"AT", "ATE0", "AT+CGSN", "AT+CCID", "AT+COPS?"}));
}

TEST(SimModem, SendsAPduAndReportsWhatWasSent) {
    otppi::sim::modem_simulator sim(fast_sim());
    port_client port(sim.port());
    ASSERT_TRUE(port.is_open());
    port.command("ATE0");
    port.command("AT+CNMI=2,1,0,1,0");
    auto pdu = submit_pdu(otp_text, true);
    EXPECT_EQ(port.command("AT+CMGS=" + std::to_string(pdu.tpdu_length)), "\r\n> ");
    port.write(pdu.hex + "\x1A");
    EXPECT_EQ(port.read_until("OK\r\n"), "\r\n+CMGS: 0\r\n\r\nOK\r\n");
    ASSERT_TRUE(sim.wait_for_sent(1, 2s));
    auto sent = sim.sent();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].destination, dest);
    EXPECT_EQ(sent[0].text, otp_text);
    EXPECT_EQ(sent[0].message_references, std::vector<int>{0});
    EXPECT_TRUE(sent[0].status_report_requested);
    auto cds = port.read_lines(3);
    EXPECT_EQ(cds.rfind("\r\n+CDS: ", 0), 0u) << cds;
    // Nothing of the text in the command log.
    for (const auto& c : sim.commands()) EXPECT_EQ(c.find("482913"), std::string::npos);
}

TEST(SimModem, WrongLengthAndEscOverThePty) {
    otppi::sim::modem_simulator sim(fast_sim());
    port_client port(sim.port());
    port.command("ATE0");
    auto pdu = submit_pdu(otp_text);
    port.command("AT+CMGS=" + std::to_string(pdu.tpdu_length - 1));
    port.write(pdu.hex + "\x1A");
    EXPECT_EQ(port.read_lines(2), "\r\n+CMS ERROR: 304\r\n");
    EXPECT_EQ(port.command("AT+CMGS=" + std::to_string(pdu.tpdu_length)), "\r\n> ");
    port.write(pdu.hex.substr(0, 8) + "\x1B");
    EXPECT_EQ(port.read_until("OK\r\n"), "\r\nOK\r\n");
    EXPECT_EQ(port.command("AT"), "\r\nOK\r\n");
    EXPECT_EQ(sim.sent_count(), 0u);
}

TEST(SimModem, CmsErrorOnceThenTheNextSendWorks) {
    otppi::sim::modem_simulator sim(fast_sim());
    port_client port(sim.port());
    port.command("ATE0");
    sim.set_fault(fault::cms_error, 331, 1);
    auto pdu = submit_pdu(otp_text);
    port.command("AT+CMGS=" + std::to_string(pdu.tpdu_length));
    port.write(pdu.hex + "\x1A");
    EXPECT_EQ(port.read_lines(2), "\r\n+CMS ERROR: 331\r\n");
    port.command("AT+CMGS=" + std::to_string(pdu.tpdu_length));
    port.write(pdu.hex + "\x1A");
    EXPECT_NE(port.read_until("OK\r\n").find("+CMGS: "), std::string::npos);
    EXPECT_TRUE(sim.wait_for_sent(1, 2s));
}

TEST(SimModem, SilentUntilCleared) {
    otppi::sim::modem_simulator sim(fast_sim());
    port_client port(sim.port());
    port.command("ATE0");
    sim.set_fault(fault::silent);
    port.write("AT\r");
    EXPECT_TRUE(port.silent_for(150ms));
    sim.clear_fault();
    EXPECT_EQ(port.command("AT"), "\r\nOK\r\n");
}

TEST(SimModem, DriverMayCloseAndReopenThePort) {
    otppi::sim::modem_simulator sim(fast_sim());
    {
        port_client port(sim.port());
        EXPECT_EQ(port.command("ATE0"), "ATE0\r\r\nOK\r\n");
    }
    port_client again(sim.port());
    ASSERT_TRUE(again.is_open());
    EXPECT_EQ(again.command("AT"), "\r\nOK\r\n");
}

TEST(SimModem, UnplugHangsUpTheDriverAndReplugComesBackElsewhere) {
    otppi::test::temp_dir dir;
    sim_options o = fast_sim();
    o.link = dir / "modem0";
    otppi::sim::modem_simulator sim(o);
    EXPECT_EQ(sim.port(), o.link);
    const std::string first = sim.pts_path();
    EXPECT_EQ(std::filesystem::read_symlink(o.link).string(), first);

    port_client port(sim.port());
    ASSERT_TRUE(port.is_open());
    EXPECT_EQ(port.command("ATE0"), "ATE0\r\r\nOK\r\n");

    sim.unplug();
    EXPECT_FALSE(sim.plugged());
    // The open fd: poll reports a hang-up and read fails (EIO) or sees end of file.
    const int r = port.read_result(2s);
    EXPECT_TRUE(r == -EIO || r == 0) << r;
    EXPECT_TRUE(port.last_revents() & (POLLHUP | POLLERR)) << port.last_revents();
    EXPECT_FALSE(port.write("AT\r"));
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(o.link)));
    EXPECT_FALSE(port_client(first).is_open());

    sim.replug();
    EXPECT_TRUE(sim.plugged());
    const std::string second = sim.pts_path();
    EXPECT_NE(second, first);
    EXPECT_EQ(std::filesystem::read_symlink(o.link).string(), second);
    port_client fresh(sim.port());
    ASSERT_TRUE(fresh.is_open());
    // Powered up again: echo is back on.
    EXPECT_EQ(fresh.command("AT"), "AT\r\r\nOK\r\n");
    port.close();
}

TEST(SimModem, IncomingSmsOverThePty) {
    otppi::sim::modem_simulator sim(fast_sim());
    port_client port(sim.port());
    port.command("ATE0");
    sim.deliver_sms("+6281298765432", "Balas 1 untuk ya");
    EXPECT_EQ(port.read_lines(2), "\r\n+CMTI: \"SM\",1\r\n");
    auto list = port.command("AT+CMGL=4");
    auto header = list.find("+CMGL: 1,0,,");
    ASSERT_NE(header, std::string::npos) << list;
    auto pdu_start = list.find("\r\n", header) + 2;
    auto pdu = list.substr(pdu_start, list.find("\r\n", pdu_start) - pdu_start);
    auto decoded = m::decode_pdu(pdu, true);
    ASSERT_TRUE(decoded);
    ASSERT_EQ(decoded->type(), m::pdu_type::deliver);
    EXPECT_EQ(std::get<m::sms_deliver>(decoded->message).ud.text, "Balas 1 untuk ya");
    EXPECT_EQ(sim.stored_sms_count(), 1u);
    EXPECT_EQ(port.command("AT+CMGD=1"), "\r\nOK\r\n");
    EXPECT_EQ(sim.stored_sms_count(), 0u);
}

TEST(SimModem, UssdPlainAndUcs2OverThePty) {
    otppi::sim::modem_simulator sim(fast_sim());
    sim.set_ussd_reply("*888#", "Pulsa Rp 5.000");
    sim.set_ussd_reply("*363#", "Kuota 1 GB ✓", true);
    port_client port(sim.port());
    port.command("ATE0");
    EXPECT_EQ(port.command("AT+CUSD=1,\"*888#\",15"), "\r\nOK\r\n");
    EXPECT_EQ(port.read_until("15\r\n"), "\r\n+CUSD: 0,\"Pulsa Rp 5.000\",15\r\n");
    EXPECT_EQ(port.command("AT+CUSD=1,\"*363#\",15"), "\r\nOK\r\n");
    auto line = port.read_until(",72\r\n");
    auto parsed = m::parse_cusd(line.substr(2, line.size() - 4));
    ASSERT_TRUE(parsed) << line;
    EXPECT_EQ(m::decode_ussd_text(*parsed, false).text, "Kuota 1 GB ✓");
}

TEST(SimModem, PinFlowOverThePty) {
    sim_options o = fast_sim();
    o.pin = "1357";
    otppi::sim::modem_simulator sim(o);
    port_client port(sim.port());
    port.command("ATE0");
    port.command("AT+CMEE=1");
    EXPECT_EQ(port.command("AT+CPIN?"), "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n");
    EXPECT_EQ(port.command("AT+CPIN=\"0000\""), "\r\n+CME ERROR: 16\r\n");
    EXPECT_EQ(port.command("AT+CPIN=\"1357\""), "\r\nOK\r\n");
    EXPECT_EQ(port.command("AT+CPIN?"), "\r\n+CPIN: READY\r\n\r\nOK\r\n");
    EXPECT_EQ(port.command("AT+CLCK=\"SC\",2"), "\r\n+CLCK: 1\r\n\r\nOK\r\n");
    auto cmds = sim.commands();
    EXPECT_EQ(cmds[3], "AT+CPIN=\"****\"");
    EXPECT_EQ(cmds[4], "AT+CPIN=\"****\"");
}

TEST(SimModem, EgmrChangesCgsnOverThePty) {
    otppi::sim::modem_simulator sim(fast_sim());
    port_client port(sim.port());
    port.command("ATE0");
    EXPECT_EQ(port.command("AT+EGMR=1,7,\"490154203237518\""), "\r\nOK\r\n");
    EXPECT_EQ(port.command("AT+CGSN"), "\r\n490154203237518\r\n\r\nOK\r\n");
    EXPECT_EQ(sim.imei(), "490154203237518");
}

TEST(SimModem, SentHandlerAndWaitFromAnotherThread) {
    otppi::sim::modem_simulator sim(fast_sim());
    std::atomic<int> handled{0};
    sim.on_sent([&](const otppi::sim::sent_sms& s) {
        if (s.text == otp_text) ++handled;
    });
    std::thread driver([&] {
        port_client port(sim.port());
        port.command("ATE0");
        auto pdu = submit_pdu(otp_text);
        for (int i = 0; i < 3; ++i) {
            port.command("AT+CMGS=" + std::to_string(pdu.tpdu_length));
            port.write(pdu.hex + "\x1A");
            port.read_until("OK\r\n");
        }
    });
    EXPECT_TRUE(sim.wait_for_sent(3, 5s));
    driver.join();
    EXPECT_EQ(sim.sent_count(), 3u);
    EXPECT_EQ(sim.sent()[2].message_references, std::vector<int>{2});
    EXPECT_FALSE(sim.wait_for_sent(4, 30ms));
    EXPECT_EQ(handled.load(), 3);
}

TEST(SimModem, OutputIsKeptWhileNobodyHasThePortOpen) {
    otppi::sim::modem_simulator sim(fast_sim());
    sim.deliver_sms("6281234", "while closed");
    port_client port(sim.port());
    EXPECT_EQ(port.read_until("\"SM\",1\r\n"), "\r\n+CMTI: \"SM\",1\r\n");
}

TEST(SimModem, IdleSimulatorUsesNoCpu) {
    otppi::sim::modem_simulator sim(fast_sim());
    port_client port(sim.port());
    port.command("ATE0");
    timespec before{}, after{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &before);
    EXPECT_TRUE(port.silent_for(300ms));  // this thread sleeps in poll(); so should the simulator's
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &after);
    const double used_ms = (after.tv_sec - before.tv_sec) * 1e3 + (after.tv_nsec - before.tv_nsec) / 1e6;
    EXPECT_LT(used_ms, 30.0);
}

// ===================================================================== SimProgram

#ifdef OTPPI_SIM_BINARY
TEST(SimProgram, PrintsThePortServesAndStopsOnSigterm) {
    const std::string binary = OTPPI_SIM_BINARY;
    if (binary.empty() || !std::filesystem::exists(binary)) GTEST_SKIP() << "otppi-modem-sim not built";
    otppi::test::temp_dir dir;
    const std::string link = dir / "ttyOTP0";
    const std::string err_path = dir / "err.log";
    int out_pipe[2];
    ASSERT_EQ(::pipe2(out_pipe, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<std::string> args{binary, "--link", link, "--send-delay-ms", "5"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    ASSERT_EQ(posix_spawn(&pid, binary.c_str(), &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    ::close(out_pipe[1]);

    std::string line;
    pollfd p{out_pipe[0], POLLIN, 0};
    while (line.find('\n') == std::string::npos && ::poll(&p, 1, 5000) > 0) {
        char buf[256];
        auto n = ::read(out_pipe[0], buf, sizeof buf);
        if (n <= 0) break;
        line.append(buf, static_cast<std::size_t>(n));
    }
    ::close(out_pipe[0]);
    EXPECT_EQ(line, link + "\n");
    {
        port_client port(link);
        ASSERT_TRUE(port.is_open());
        EXPECT_EQ(port.command("ATE0"), "ATE0\r\r\nOK\r\n");
        auto pdu = submit_pdu(otp_text);
        port.command("AT+CMGS=" + std::to_string(pdu.tpdu_length));
        port.write(pdu.hex + "\x1A");
        EXPECT_NE(port.read_until("OK\r\n").find("+CMGS: 0"), std::string::npos);
    }
    ::kill(pid, SIGTERM);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    std::string err;
    if (FILE* f = std::fopen(err_path.c_str(), "rb")) {
        char buf[1024];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) err.append(buf, n);
        std::fclose(f);
    }
    EXPECT_NE(err.find("sim: SMS to 62812****666 (1 parts)"), std::string::npos) << err;
    EXPECT_EQ(err.find("482913"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(link)));
}

// Issue 11: run.sh started the simulator with --quiet, so the demo's OTP was
// never seen and verify-otp could not be tried. --show-sms plays the phone.
TEST(SimProgram, ShowSmsPrintsNumberAndTextOfEachSmsOnOneLine) {
    const std::string binary = OTPPI_SIM_BINARY;
    if (binary.empty() || !std::filesystem::exists(binary)) GTEST_SKIP() << "otppi-modem-sim not built";
    otppi::test::temp_dir dir;
    const std::string link = dir / "ttyOTP1";
    const std::string err_path = dir / "err.log";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<std::string> args{binary, "--link", link, "--send-delay-ms", "5", "--show-sms"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    ASSERT_EQ(posix_spawn(&pid, binary.c_str(), &fa, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 500 && !std::filesystem::exists(link); ++i) std::this_thread::sleep_for(10ms);
    {
        port_client port(link);
        ASSERT_TRUE(port.is_open());
        port.command("ATE0");
        auto pdu = submit_pdu("Your code is 482913\nDo not share it");
        port.command("AT+CMGS=" + std::to_string(pdu.tpdu_length));
        port.write(pdu.hex + "\x1A");
        EXPECT_NE(port.read_until("OK\r\n").find("+CMGS: 0"), std::string::npos);
    }
    ::kill(pid, SIGTERM);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    std::string err;
    if (FILE* f = std::fopen(err_path.c_str(), "rb")) {
        char buf[1024];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) err.append(buf, n);
        std::fclose(f);
    }
    EXPECT_EQ(err, "sim: SMS to 628126666666: Your code is 482913\\nDo not share it\n");
}
#endif

}  // namespace
