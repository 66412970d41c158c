// at_parser framing and classify_line, including chunking invariance over the
// recorded transcripts and over random input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "otppi/modem/at_parser.hpp"
#include "test_paths.hpp"

#ifndef OTPPI_TEST_DATA_DIR
#define OTPPI_TEST_DATA_DIR "tests"
#endif

namespace {

using namespace otppi::modem;
using kind = frame::kind_t;

std::vector<frame> parse(std::string_view bytes, std::size_t max_line = at_parser::default_max_line) {
    at_parser p(max_line);
    std::vector<frame> out;
    p.feed(bytes, out);
    return out;
}

std::vector<frame> parse_bytewise(std::string_view bytes, std::size_t max_line = at_parser::default_max_line) {
    at_parser p(max_line);
    std::vector<frame> out;
    for (char c : bytes) p.feed(std::string_view(&c, 1), out);
    return out;
}

std::vector<frame> parse_random(std::string_view bytes, unsigned seed, std::size_t max_line = at_parser::default_max_line) {
    at_parser p(max_line);
    std::vector<frame> out;
    std::mt19937 rng(seed);
    std::size_t i = 0;
    while (i < bytes.size()) {
        std::size_t n = std::min<std::size_t>(bytes.size() - i, std::uniform_int_distribution<std::size_t>(1, 17)(rng));
        p.feed(bytes.substr(i, n), out);
        i += n;
    }
    return out;
}

bool same(const std::vector<frame>& a, const std::vector<frame>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].kind != b[i].kind || a[i].text != b[i].text || a[i].pdu != b[i].pdu) return false;
    return true;
}

std::vector<std::string> texts(const std::vector<frame>& f) {
    std::vector<std::string> t;
    for (const auto& x : f) t.push_back(x.kind == kind::prompt ? "<prompt>" : x.kind == kind::overflow ? "<overflow>" : x.text);
    return t;
}

TEST(AtParser, LineEndingsOfAllKinds) {
    auto f = parse("\r\nOK\r\nA\rB\nC\n\rD\r\n\r\n\r\n  E  \r\n");
    EXPECT_EQ(texts(f), (std::vector<std::string>{"OK", "A", "B", "C", "D", "E"}));
}

TEST(AtParser, IncompleteLineIsHeld) {
    at_parser p;
    std::vector<frame> out;
    p.feed("\r\n+CSQ: 1", out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(p.buffered(), 7u);
    p.feed("5,0\r\n", out);
    EXPECT_EQ(texts(out), std::vector<std::string>{"+CSQ: 15,0"});
    EXPECT_EQ(p.buffered(), 0u);
}

TEST(AtParser, PromptWithAndWithoutNewline) {
    EXPECT_EQ(texts(parse("\r\n> ")), std::vector<std::string>{"<prompt>"});
    EXPECT_EQ(texts(parse("> ")), std::vector<std::string>{"<prompt>"});
    EXPECT_EQ(texts(parse_bytewise("AT+CMGS=19\r\r\n> ")), (std::vector<std::string>{"AT+CMGS=19", "<prompt>"}));
    // '>' inside a line is text.
    EXPECT_EQ(texts(parse("a> b\r\n")), std::vector<std::string>{"a> b"});
    // A prompt followed by echoed PDU on the "same line".
    EXPECT_EQ(texts(parse("\r\n> 0011AB\x1A\r\n")), (std::vector<std::string>{"<prompt>", "0011AB"}));
}

TEST(AtParser, ControlCharactersAreDropped) {
    EXPECT_EQ(texts(parse(std::string("\0\0\r\nO\0K\x1B\r\n", 10))), std::vector<std::string>{"OK"});
    EXPECT_EQ(texts(parse("\x1B"
                          "AT\r")),
              std::vector<std::string>{"AT"});
}

TEST(AtParser, OverlongLineIsDiscardedWithBoundedMemory) {
    at_parser p(64);
    std::vector<frame> out;
    p.feed("\r\n", out);
    for (int i = 0; i < 10000; ++i) {
        p.feed("0123456789", out);
        ASSERT_LE(p.buffered(), 64u);
    }
    p.feed("\r\nOK\r\n", out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].kind, kind::overflow);
    EXPECT_EQ(out[0].text.substr(0, 10), "0123456789");
    EXPECT_EQ(out[1].text, "OK");
}

TEST(AtParser, LineOfExactlyMaxLengthIsKept) {
    std::string line(64, 'x');
    auto f = parse(line + "\r\n", 64);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].text, line);
    auto g = parse(line + "y\r\n", 64);
    ASSERT_EQ(g.size(), 1u);
    EXPECT_EQ(g[0].kind, kind::overflow);
}

TEST(AtParser, TwoLineUrcsArePaired) {
    auto f = parse("\r\n+CMT: ,24\r\n0791AABB\r\n\r\n+CDS: 25\r\n0791CCDD\r\n");
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].text, "+CMT: ,24");
    EXPECT_EQ(f[0].pdu, "0791AABB");
    EXPECT_EQ(f[1].text, "+CDS: 25");
    EXPECT_EQ(f[1].pdu, "0791CCDD");
    // +CMTI is not +CMT.
    EXPECT_EQ(texts(parse("+CMTI: \"SM\",1\r\nOK\r\n")), (std::vector<std::string>{"+CMTI: \"SM\",1", "OK"}));
}

TEST(AtParser, HeaderWithoutHexLineComesOutAlone) {
    // Text-mode style +CDS (one line) followed by something else.
    auto f = parse("\r\n+CDS: 6,42,\"+628\",145,\"25/01/01\",\"25/01/01\",0\r\n\r\nOK\r\n");
    ASSERT_EQ(f.size(), 2u);
    EXPECT_TRUE(f[0].pdu.empty());
    EXPECT_EQ(f[1].text, "OK");
    // A prompt also releases a pending header.
    auto g = parse("+CMT: ,5\r\n> ");
    EXPECT_EQ(texts(g), (std::vector<std::string>{"+CMT: ,5", "<prompt>"}));
}

TEST(AtParser, MultiLineUssdTextIsJoined) {
    auto f = parse_bytewise("\r\n+CUSD: 1,\"Menu\r\n1> Balance\r\n> Data\r\n\",15\r\n\r\nOK\r\n");
    ASSERT_EQ(f.size(), 2u) << testing::PrintToString(texts(f));
    EXPECT_EQ(f[0].text, "+CUSD: 1,\"Menu\n1> Balance\n> Data\n\",15");
    EXPECT_EQ(f[1].text, "OK");
}

TEST(AtParser, UnterminatedUssdTextEndsAtAFinalResult) {
    auto f = parse("\r\n+CUSD: 0,\"cut short\r\nOK\r\n");
    EXPECT_EQ(texts(f), (std::vector<std::string>{"+CUSD: 0,\"cut short", "OK"}));
}

TEST(AtParser, UssdWithUnescapedQuoteClosesOnDcs) {
    auto f = parse("+CUSD: 0,\"5\" screen\",15\r\nOK\r\n");
    EXPECT_EQ(texts(f), (std::vector<std::string>{"+CUSD: 0,\"5\" screen\",15", "OK"}));
    auto g = parse("+CUSD: 0,\"say \\\"hi\\\"\",15\r\nOK\r\n");
    EXPECT_EQ(texts(g), (std::vector<std::string>{"+CUSD: 0,\"say \\\"hi\\\"\",15", "OK"}));
}

TEST(AtParser, OverlongUssdTextIsBounded) {
    at_parser p(128);
    std::vector<frame> out;
    p.feed("+CUSD: 1,\"", out);
    for (int i = 0; i < 1000; ++i) {
        p.feed("line\r\n", out);
        ASSERT_LE(p.buffered(), 130u);
    }
    p.feed("\r\nOK\r\n", out);
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(out[0].kind, kind::overflow);
    EXPECT_EQ(out.back().text, "OK");
}

TEST(AtParser, ResetForgetsEverything) {
    at_parser p;
    std::vector<frame> out;
    p.feed("+CMT: ,3\r\n+CS", out);
    p.reset();
    EXPECT_EQ(p.buffered(), 0u);
    p.feed("OK\r\n", out);
    EXPECT_EQ(texts(out), std::vector<std::string>{"OK"});
}

// --------------------------------------------------------- classification

TEST(ParseFinalResult, Codes) {
    EXPECT_EQ(parse_final_result("OK", false)->status, at_status::ok);
    EXPECT_EQ(parse_final_result("ERROR", false)->status, at_status::error);
    EXPECT_EQ(parse_final_result("COMMAND NOT SUPPORT", false)->status, at_status::error);
    auto cme = parse_final_result("+CME ERROR: 16", false);
    EXPECT_EQ(cme->status, at_status::cme_error);
    EXPECT_EQ(cme->code, 16);
    auto cms = parse_final_result("+CMS ERROR: 331", false);
    EXPECT_EQ(cms->status, at_status::cms_error);
    EXPECT_EQ(cms->code, 331);
    auto verbose = parse_final_result("+CMS ERROR: SMSC address unknown", false);
    EXPECT_EQ(verbose->code, 330);
    EXPECT_EQ(verbose->text, "SMSC address unknown");
    auto odd = parse_final_result("+CME ERROR: flux capacitor", false);
    EXPECT_FALSE(odd->code);
    EXPECT_EQ(odd->text, "flux capacitor");
    EXPECT_FALSE(parse_final_result("OKAY", false));
    EXPECT_FALSE(parse_final_result("NO CARRIER", false));
    EXPECT_EQ(parse_final_result("NO CARRIER", true)->status, at_status::no_carrier);
    EXPECT_EQ(parse_final_result("NO DIALTONE", true)->status, at_status::no_dialtone);
    EXPECT_EQ(parse_final_result("NO ANSWER", true)->status, at_status::no_answer);
    EXPECT_EQ(parse_final_result("CONNECT 115200", true)->status, at_status::connect);
}

TEST(ClassifyLine, PrefixBareAndUrcs) {
    line_context csq{true, false, "+CSQ:", false};
    EXPECT_EQ(classify_line("+CSQ: 20,0", csq), line_class::info);
    EXPECT_EQ(classify_line("+CMTI: \"SM\",1", csq), line_class::urc);
    EXPECT_EQ(classify_line("RING", csq), line_class::urc);
    EXPECT_EQ(classify_line("^RSSI:14", csq), line_class::urc);
    EXPECT_EQ(classify_line("garbage", csq), line_class::urc);  // not the command's
    EXPECT_EQ(classify_line("OK", csq), line_class::final_result);

    line_context cgsn{true, false, "+CGSN:", true};
    EXPECT_EQ(classify_line("867856030123457", cgsn), line_class::info);
    EXPECT_EQ(classify_line("+CGSN: 867856030123457", cgsn), line_class::info);
    EXPECT_EQ(classify_line("SMS Ready", cgsn), line_class::urc);
    EXPECT_EQ(classify_line("+CPIN: READY", cgsn), line_class::urc);

    line_context cpin{true, false, "+CPIN:", false};
    EXPECT_EQ(classify_line("+CPIN: NOT READY", cpin), line_class::info);
    line_context idle{};
    EXPECT_EQ(classify_line("+CPIN: NOT READY", idle), line_class::urc);
    EXPECT_EQ(classify_line("867856030123457", idle), line_class::urc);

    line_context vendor_cmd{true, false, "^ICCID:", true};
    EXPECT_EQ(classify_line("^ICCID: 89860318740200123456", vendor_cmd), line_class::info);
    EXPECT_EQ(classify_line("^BOOT:1,0,0,0,75", vendor_cmd), line_class::urc);
}

TEST(ClassifyLine, CusdIsNeverAReply) {
    line_context cusd{true, false, "+CUSD:", true};
    EXPECT_EQ(classify_line("+CUSD: 0,\"x\",15", cusd), line_class::urc);
}

TEST(ClassifyLine, RegistrationForms) {
    line_context creg{true, false, "+CREG:", false};
    EXPECT_EQ(classify_line("+CREG: 0,1", creg), line_class::info);
    EXPECT_EQ(classify_line("+CREG: 2,1,\"1A2B\",\"00C3\",7", creg), line_class::info);
    EXPECT_EQ(classify_line("+CREG: 1", creg), line_class::urc);
    EXPECT_EQ(classify_line("+CREG: 5,\"1A2B\",\"00C3\"", creg), line_class::urc);
    line_context cereg{true, false, "+CEREG:", false};
    EXPECT_EQ(classify_line("+CEREG: 1,\"2513\",\"0B4D6B0E\",7", cereg), line_class::urc);
    EXPECT_EQ(classify_line("+CEREG: 2,1,\"2513\",\"0B4D6B0E\",7", cereg), line_class::info);
}

TEST(KnownUrc, Table) {
    EXPECT_EQ(known_urc("+CMTI: \"SM\",3"), urc_kind::sms_stored);
    EXPECT_EQ(known_urc("+CMT: ,24"), urc_kind::sms_deliver);
    EXPECT_EQ(known_urc("+CDS: 25"), urc_kind::status_report);
    EXPECT_EQ(known_urc("+CDSI: \"SR\",2"), urc_kind::status_report_stored);
    EXPECT_EQ(known_urc("+CUSD: 0"), urc_kind::ussd);
    EXPECT_EQ(known_urc("RING"), urc_kind::ring);
    EXPECT_EQ(known_urc("+CRING: VOICE"), urc_kind::ring);
    EXPECT_EQ(known_urc("NO CARRIER"), urc_kind::call_ended);
    EXPECT_EQ(known_urc("+CLIP: \"+628123\",145,\"\",0,\"\",0"), urc_kind::caller_id);
    EXPECT_EQ(known_urc("^RSSI:14"), urc_kind::signal);
    EXPECT_EQ(known_urc("^BOOT:18209573,0,0,0,75"), urc_kind::vendor);
    EXPECT_EQ(known_urc("^MODE:5,4"), urc_kind::vendor);
    EXPECT_EQ(known_urc("^SIMST: 1"), urc_kind::sim_status);
    EXPECT_EQ(known_urc("+CREG: 1"), urc_kind::registration);
    EXPECT_EQ(known_urc("RDY"), urc_kind::modem_ready);
    EXPECT_EQ(known_urc("Call Ready"), urc_kind::modem_ready);
    EXPECT_EQ(known_urc("SMS Ready"), urc_kind::modem_ready);
    EXPECT_EQ(known_urc("+CPIN: NOT READY"), urc_kind::sim_status);
    EXPECT_EQ(known_urc("+QIND: SMS DONE"), urc_kind::vendor);
    EXPECT_EQ(known_urc("UNDER-VOLTAGE WARNNING"), urc_kind::power);
    EXPECT_EQ(known_urc("*PSUTTZ: 2025,1,1,1,1,1,\"+28\",0"), urc_kind::network_time);
    EXPECT_EQ(known_urc("+CTTS: 0"), urc_kind::tts);
    EXPECT_FALSE(known_urc("+CSQ: 1,1"));
    EXPECT_FALSE(known_urc("867856030123457"));
    EXPECT_FALSE(known_urc(""));

    auto u = make_unsolicited("  +CMTI: \"SM\",3 ");
    EXPECT_EQ(u.name, "+CMTI");
    EXPECT_EQ(u.line, "+CMTI: \"SM\",3");
    EXPECT_EQ(make_unsolicited("Call Ready").name, "Call Ready");
    EXPECT_EQ(make_unsolicited("whatever").kind, urc_kind::unknown);
}

// ------------------------------------------------ chunking does not matter

std::string unescape_transcript(std::string_view s) {
    std::string out;
    auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 >= s.size()) {
            out.push_back(s[i]);
            continue;
        }
        char n = s[++i];
        if (n == 'r')
            out.push_back('\r');
        else if (n == 'n')
            out.push_back('\n');
        else if (n == 't')
            out.push_back('\t');
        else if (n == 'x' && i + 2 < s.size()) {
            out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
            i += 2;
        } else
            out.push_back(n);
    }
    return out;
}

TEST(AtParser, TranscriptBytesFrameTheSameInAnyChunking) {
    namespace fs = std::filesystem;
    fs::path dir = fs::path(OTPPI_TEST_DATA_DIR) / "modem" / "transcripts";
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    int files = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".txt") continue;
        ++files;
        std::ifstream in(entry.path());
        std::string line, modem;
        while (std::getline(in, line))
            if (line.rfind("< ", 0) == 0) modem += unescape_transcript(line.substr(2));
        SCOPED_TRACE(entry.path().filename().string());
        auto whole = parse(modem);
        EXPECT_FALSE(whole.empty());
        for (const auto& f : whole) EXPECT_NE(f.kind, kind::overflow);
        EXPECT_TRUE(same(whole, parse_bytewise(modem)));
        for (unsigned seed = 1; seed <= 20; ++seed) EXPECT_TRUE(same(whole, parse_random(modem, seed)));
    }
    EXPECT_GE(files, 3);
}

TEST(AtParser, RandomInputIsChunkInvariantAndBounded) {
    // Tokens that exercise every path: CUSD continuation, prompts, two-line
    // headers, control bytes, very long runs.
    const std::vector<std::string> tokens{"\r",
                                          "\n",
                                          "\r\n",
                                          "> ",
                                          ">",
                                          " ",
                                          "\"",
                                          "\\",
                                          ",15",
                                          "+CUSD: 1,\"",
                                          "+CMT: ,5",
                                          "+CDS: 3",
                                          "0791AB",
                                          "OK",
                                          "ERROR",
                                          "+CME ERROR: 3",
                                          std::string(1, '\0'),
                                          "\x1B",
                                          "\x1A",
                                          "RING",
                                          "xxxxxxxxxxxxxxxxxxxx"};
    std::mt19937 rng(4242);
    for (int round = 0; round < 200; ++round) {
        std::string input;
        int n = std::uniform_int_distribution<int>(1, 400)(rng);
        for (int i = 0; i < n; ++i) input += tokens[std::uniform_int_distribution<std::size_t>(0, tokens.size() - 1)(rng)];
        auto whole = parse(input, 48);
        ASSERT_TRUE(same(whole, parse_bytewise(input, 48))) << round;
        ASSERT_TRUE(same(whole, parse_random(input, static_cast<unsigned>(round), 48))) << round;
        at_parser p(48);
        std::vector<frame> out;
        for (char c : input) {
            p.feed(std::string_view(&c, 1), out);
            ASSERT_LE(p.buffered(), 2u * 48u + 2u);
        }
        for (const auto& f : out) {
            if (f.kind == kind::line) {
                ASSERT_LE(f.text.size(), 48u + 1u);
            }
        }
    }
}

}  // namespace
