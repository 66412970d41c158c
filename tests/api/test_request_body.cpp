// The one-pass reader of API request bodies: it must accept what
// nlohmann::json::parse() accepts and see the same values a JSON tree would.
#include "otppi/api/request_body.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <random>

using namespace otppi::api;
using kind = field_value::kind;
using nlohmann::json;

TEST(RequestBody, ReadsCommandAndFields) {
    auto b = parse_request_body(
        R"({"command":"verify-otp","data":{"receiver":"081234567890","reference":"bench-0000000001","otp":"123456","param1":7,"extra":[1,2]}})");
    ASSERT_EQ(b.result, request_body::verdict::ok);
    EXPECT_EQ(b.command.type, kind::string);
    EXPECT_EQ(b.command.text, "verify-otp");
    EXPECT_EQ(b.data.type, kind::object);
    EXPECT_EQ(b[field::receiver].text, "081234567890");
    EXPECT_EQ(b[field::reference].text, "bench-0000000001");
    EXPECT_EQ(b[field::otp].text, "123456");
    EXPECT_EQ(b[field::param1].type, kind::unsigned_integer);
    EXPECT_EQ(b[field::param1].text, "7");
    EXPECT_FALSE(b[field::param2].present());
    EXPECT_FALSE(b.date_time.has_value());
}

TEST(RequestBody, RejectsWhatTheJsonParserRejects) {
    for (const char* text : {"", " ", "{", "{\"command\":}", "{} x", "{}{}", "/*c*/{}", "{\"a\":1,}", "[1,]", "{'a':1}", "1e400",
                             "{\"command\":\"\xff\"}", "{\"command\":\"\\ud800\"}", "nul"}) {
        EXPECT_TRUE(json::parse(text, nullptr, false).is_discarded()) << text;
        EXPECT_EQ(parse_request_body(text).result, request_body::verdict::not_json) << text;
    }
}

TEST(RequestBody, OnlyAnObjectIsARequest) {
    for (const char* text : {"[]", "null", "1", "\"s\"", "true", "[{\"command\":\"echo\"}]", " \n{\"command\":\"echo\"} "}) {
        const bool object = json::parse(text).is_object();
        EXPECT_EQ(parse_request_body(text).result, object ? request_body::verdict::ok : request_body::verdict::not_object) << text;
    }
}

TEST(RequestBody, LastOfARepeatedKeyCounts) {
    auto b = parse_request_body(
        R"({"command":"echo","data":{"receiver":"1","receiver":{"x":1},"otp":"9"},"command":"verify-otp","data":{"receiver":"2","reference":5}})");
    ASSERT_EQ(b.result, request_body::verdict::ok);
    EXPECT_EQ(b.command.text, "verify-otp");
    EXPECT_EQ(b[field::receiver].type, kind::string);
    EXPECT_EQ(b[field::receiver].text, "2");
    EXPECT_FALSE(b[field::otp].present()) << "the first data object was replaced as a whole";
    EXPECT_EQ(b[field::reference].text, "5");

    auto c = parse_request_body(R"({"data":{"receiver":"1","receiver":["x"]},"data":{"otp":"1","otp":null}})");
    EXPECT_FALSE(c[field::receiver].present());
    EXPECT_EQ(c[field::otp].type, kind::null);
    EXPECT_TRUE(c[field::otp].missing());
}

TEST(RequestBody, KeysAreComparedDecoded) {
    auto b = parse_request_body(R"({"comm\u0061nd":"x","data":{"rec\u0065iver":"081"}})");
    EXPECT_EQ(b.command.text, "x");
    EXPECT_EQ(b[field::receiver].text, "081");
}

TEST(RequestBody, NestedKeysAreNotFields) {
    auto b = parse_request_body(
        R"({"x":{"command":"a","data":{"receiver":"1"}},"data":{"y":{"receiver":"2","date_time":1},"z":[{"otp":"3"}]}})");
    ASSERT_EQ(b.result, request_body::verdict::ok);
    EXPECT_FALSE(b.command.present());
    EXPECT_EQ(b.data.type, kind::object);
    EXPECT_FALSE(b[field::receiver].present());
    EXPECT_FALSE(b[field::otp].present());
    EXPECT_FALSE(b.date_time.has_value());
}

TEST(RequestBody, TypesAndNumbers) {
    auto b = parse_request_body(
        R"({"command":1,"data":{"receiver":-12,"reference":18446744073709551615,"otp":1.5,"param1":true,"param2":[],"param3":{},"param4":null,"expiration":9223372036854775808}})");
    EXPECT_EQ(b.command.type, kind::unsigned_integer);
    EXPECT_STREQ(b.command.type_name(), "number");
    EXPECT_EQ(b[field::receiver].type, kind::integer);
    EXPECT_EQ(b[field::receiver].integer, -12);
    EXPECT_EQ(b[field::receiver].text, "-12");
    EXPECT_EQ(b[field::reference].unsigned_integer, 18446744073709551615ULL);
    EXPECT_EQ(b[field::reference].text, "18446744073709551615");
    EXPECT_STREQ(b[field::otp].type_name(), "number");
    EXPECT_FALSE(b[field::otp].is_integer());
    EXPECT_STREQ(b[field::param1].type_name(), "boolean");
    EXPECT_STREQ(b[field::param2].type_name(), "array");
    EXPECT_STREQ(b[field::param3].type_name(), "object");
    EXPECT_STREQ(b[field::param4].type_name(), "null");
    EXPECT_EQ(b[field::expiration].to_json(), json(9223372036854775808ULL));
    EXPECT_EQ(b[field::receiver].to_json(), json(-12));
}

TEST(RequestBody, DataOfAnotherType) {
    EXPECT_STREQ(parse_request_body(R"({"command":"x","data":"s"})").data.type_name(), "string");
    EXPECT_STREQ(parse_request_body(R"({"command":"x","data":[{"receiver":"1"}]})").data.type_name(), "array");
    auto b = parse_request_body(R"({"command":"x","data":[{"receiver":"1"}]})");
    EXPECT_FALSE(b[field::receiver].present());
    EXPECT_EQ(parse_request_body(R"({"command":"x","data":null})").data.type, kind::null);
    EXPECT_FALSE(parse_request_body(R"({"command":"x"})").data.present());
}

TEST(RequestBody, DateTimeIsKeptWhole) {
    const char* text =
        R"({"data":{"date_time":{"b":[1,{"c":null,"c":"2"},[[]],-3.5],"a":"x","a":true},"receiver":"1"},"command":"request-otp"})";
    auto b = parse_request_body(text);
    ASSERT_TRUE(b.date_time.has_value());
    EXPECT_EQ(*b.date_time, json::parse(text)["data"]["date_time"]);
    EXPECT_EQ(b[field::receiver].text, "1") << "fields after the captured value are read again";

    auto n = parse_request_body(R"({"data":{"date_time":null}})");
    ASSERT_TRUE(n.date_time.has_value());
    EXPECT_TRUE(n.date_time->is_null());
    EXPECT_EQ(*parse_request_body(R"({"data":{"date_time":1,"date_time":"later"}})").date_time, json("later"));
}

// Issue #17: 20,000 levels used to be "fine" here, and then killed the
// daemon in the reply writer. Now the body is refused at level 33 wherever the
// nesting is, with the offset of that bracket, and nothing of it is kept.
TEST(RequestBody, DeepNestingIsRefusedWithItsOffset) {
    const std::string deep = std::string(20000, '[') + std::string(20000, ']');
    for (const char* field : {"other", "date_time", "otp"}) {
        const std::string head = R"({"command":"x","data":{")" + std::string(field) + "\":";
        auto b = parse_request_body(head + deep + R"(,"otp":"1"}})");
        EXPECT_EQ(b.result, request_body::verdict::too_deep) << field;
        EXPECT_EQ(b.error_offset, head.size() + 30) << field;  // root and data are levels 1 and 2
        EXPECT_FALSE(b.command.present());
        EXPECT_FALSE(b.date_time.has_value());
    }
    const std::string objects = [] {
        std::string s;
        for (int i = 0; i < 100; ++i) s += "{\"k\":";
        return s + "0" + std::string(100, '}');
    }();
    auto b = parse_request_body(objects);
    EXPECT_EQ(b.result, request_body::verdict::too_deep);
    EXPECT_EQ(b.error_offset, 32u * 5);
    // A syntax error before the limit is still a syntax error.
    EXPECT_EQ(parse_request_body("{\"a\":x" + deep).result, request_body::verdict::not_json);
}

TEST(RequestBody, ThirtyTwoLevelsAreAccepted) {
    auto b = parse_request_body(R"({"data":{"date_time":)" + std::string(30, '[') + std::string(30, ']') + "}}");
    ASSERT_EQ(b.result, request_body::verdict::ok);
    ASSERT_TRUE(b.date_time.has_value());
    EXPECT_EQ(*b.date_time, json::parse(std::string(30, '[') + std::string(30, ']')));
    EXPECT_EQ(detail::read_full(std::string(32, '[') + std::string(32, ']')).result, request_body::verdict::not_object);
    EXPECT_EQ(detail::read_full(std::string(33, '[') + std::string(33, ']')).result, request_body::verdict::too_deep);
}

// The fast reader must take the usual request (or the speed-up is lost) ...
TEST(RequestBody, FastReaderTakesUsualRequests) {
    const std::vector<std::string> usual = {
        R"({"command":"verify-otp","data":{"receiver":"081234567890","reference":"bench-0000000001","otp":"123456"}})",
        R"({ "command" : "request-otp", "data" : { "date_time" : 1629685778, "receiver" : "+628126666666", "message" : "Your OTP is %s",
             "param1" : -1, "x" : [ true, false, null, {}, [] ] } })",
        "{}",
        "[]",
        "0",
        "-0",
        "\"s\"",
        "null"};
    for (const auto& text : usual) {
        auto fast = detail::read_fast(text);
        ASSERT_TRUE(fast.has_value()) << text;
        EXPECT_EQ(*fast, detail::read_full(text)) << text;
    }
}

// ... and hand everything outside its subset to nlohmann's parser.
TEST(RequestBody, FastReaderDeclinesWhatItDoesNotKnow) {
    const std::string deep = std::string(33, '[') + std::string(33, ']');
    const std::vector<std::string> unknown = {"{\"a\":\"\\n\"}",
                                              "{\"a\":\"\xc3\xa9\"}",
                                              "{\"a\":1.5}",
                                              "{\"a\":1e3}",
                                              "{\"a\":1234567890123456789}",
                                              "\xEF\xBB\xBF{}",
                                              "{\"a\":01}",
                                              "{\"a\":-}",
                                              "{\"a\":+1}",
                                              "{\"a\":tru}",
                                              "{\"a\":truex}",
                                              "{\"a\":1,}",
                                              "[1,]",
                                              "{\"a\" 1}",
                                              "{1:2}",
                                              "{} {}",
                                              "",
                                              "  ",
                                              "{\"a\":\"\x7f\"}",
                                              "{\"a\":\"\x01\"}",
                                              std::string("{\"a\":\"\0\"}", 8),
                                              deep};
    for (const auto& text : unknown) {
        EXPECT_FALSE(detail::read_fast(text).has_value()) << text;
        EXPECT_EQ(parse_request_body(text), detail::read_full(text)) << text;
    }
    EXPECT_TRUE(detail::read_fast(std::string(32, '[') + std::string(32, ']')).has_value());
}

// Random damage to real requests: wherever the fast reader answers, it
// answers what nlohmann's parser does; it never accepts what that rejects.
TEST(RequestBody, FastReaderAgreesWithNlohmannOnMutations) {
    const std::vector<std::string> seeds = {
        R"({"command":"verify-otp","data":{"receiver":"081234567890","reference":"bench-0000000001","otp":"123456"}})",
        R"({"command":"request-otp","data":{"date_time":{"a":[1,-2,{"b":null}],"a":true},"receiver":"0812","param1":123,"param1":"x"}})",
        R"({"data":{"receiver":"1","receiver":["x"]},"data":{"otp":"1","otp":null,"expiration":-17},"command":"send-sms"})",
        R"([{"command":"x"}, 0, -0, 12, "s", true, false, null])",
    };
    const std::string alphabet = "{}[]\":,-0123456789.eE+ \n\\tfalsenul\x7f\xc3\xa9\x01";
    std::mt19937 rng(12345);
    int fast_answers = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string text = seeds[rng() % seeds.size()];
        for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
            const std::size_t at = text.empty() ? 0 : rng() % text.size();
            switch (rng() % 4) {
                case 0:
                    text.insert(at, 1, alphabet[rng() % alphabet.size()]);
                    break;
                case 1:
                    if (!text.empty()) text.erase(at, 1);
                    break;
                case 2:
                    if (!text.empty()) text[at] = alphabet[rng() % alphabet.size()];
                    break;
                default:
                    text.resize(at);
                    break;
            }
        }
        const request_body full = detail::read_full(text);
        if (auto fast = detail::read_fast(text)) {
            ++fast_answers;
            ASSERT_EQ(*fast, full) << text;
        } else {
            ASSERT_EQ(parse_request_body(text), full) << text;
        }
    }
    EXPECT_GT(fast_answers, 1000) << "the mutations should leave many documents valid";
}
