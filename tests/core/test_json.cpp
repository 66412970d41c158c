// The depth-limited JSON reader every reader of outside bytes goes through.
#include "otppi/core/json.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace otppi;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

std::string arrays(std::size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

}  // namespace

TEST(CoreJson, ParsesWhatNlohmannParses) {
    for (const char* text : {"{}", "[]", "null", "1", "-0", "1.5e3", "\"s\"", R"({"a":[1,{"b":null}],"c":"\u00e9"})", " \n[true,false]\t"}) {
        auto r = core::parse_json_limited(text);
        ASSERT_TRUE(r.ok()) << text << ": " << r.error->message;
        EXPECT_EQ(r.value, json::parse(text)) << text;
    }
}

// Issue #17: 70,000 nested arrays in a 1 MiB body crashed the daemon.
TEST(CoreJson, DeeplyNestedJsonIsRefusedNotACrash) {
    std::string deep = arrays(70'000);
    deep.append(1024 * 1024 - deep.size(), ' ');
    auto r = core::parse_json_limited(deep);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->what, core::json_error::kind::too_deep);
    EXPECT_EQ(r.error->offset, 32u);
    EXPECT_EQ(r.error->message, "JSON nested deeper than 32 levels (at byte 32)");
    EXPECT_EQ(r.error->summary(), r.error->message);
    EXPECT_TRUE(r.value.is_discarded());

    std::string objects;
    for (int i = 0; i < 70'000; ++i) objects += "{\"k\":";
    objects += "1" + std::string(70'000, '}');
    r = core::parse_json_limited(objects);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->offset, 32u * 5);
}

TEST(CoreJson, ThirtyTwoLevelsAreAcceptedAndThirtyThreeAreNot) {
    auto r = core::parse_json_limited(arrays(32));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value.dump(), arrays(32));
    EXPECT_FALSE(core::parse_json_limited(arrays(33)).ok());
    // Another limit, for a reader that wants less.
    EXPECT_TRUE(core::parse_json_limited(arrays(4), 4).ok());
    auto four = core::parse_json_limited(R"({"a":{"b":[{"c":[]}]}})", 4);
    ASSERT_FALSE(four.ok());
    EXPECT_EQ(four.error->offset, 16u);  // the bracket of "c"'s array
    EXPECT_EQ(four.error->message, "JSON nested deeper than 4 levels (at byte 16)");
}

TEST(CoreJson, BracketsInStringsDoNotCount) {
    const std::string text = R"({"a":"[[[[{{{{\"[[[[","b":)" + arrays(40) + "}";
    auto r = core::parse_json_limited(text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->offset, text.find("\"b\":") + 4 + 31);
    EXPECT_EQ(core::too_deep_offset(R"(["[[[[", "\\", [[]]])", 2), 16u);
    EXPECT_EQ(core::too_deep_offset(arrays(32)), std::nullopt);
}

TEST(CoreJson, SyntaxErrorsKeepNlohmannsMessageButTheSummaryQuotesNothing) {
    auto r = core::parse_json_limited("{\n  \"password\": \"hunter2\" x}");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->what, core::json_error::kind::syntax);
    EXPECT_THAT(r.error->message, HasSubstr("line 2"));
    EXPECT_EQ(r.error->summary(), "invalid JSON at byte " + std::to_string(r.error->offset));
    EXPECT_THAT(r.error->summary(), ::testing::Not(HasSubstr("hunter2")));
    // A syntax error before the depth limit is reported as such.
    r = core::parse_json_limited("[x" + arrays(100));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->what, core::json_error::kind::syntax);
    EXPECT_EQ(r.error->offset, 1u);
}

TEST(CoreJson, NeverThrowsOnBadInput) {
    for (const char* text : {"", " ", "{", "[1,]", "47E5547777776", R"({"a": 1E400})", "\xff", "{\"a\":\"\\ud800\"}", "1 2", "/*c*/1"}) {
        auto r = core::parse_json_limited(text);
        EXPECT_FALSE(r.ok()) << text;
        EXPECT_TRUE(r.value.is_discarded()) << text;
    }
}

// nlohmann's destructor must not recurse on depth: values the daemon builds
// itself are not bounded by the parser (static_assert in json.hpp on >= 3.10).
TEST(CoreJson, DestroyingADeepValueDoesNotRecurse) {
    json deep = json::array();
    for (int i = 0; i < 200'000; ++i) {
        json outer = json::array();
        outer.push_back(std::move(deep));
        deep = std::move(outer);
    }
    deep = nullptr;
    SUCCEED();
}
