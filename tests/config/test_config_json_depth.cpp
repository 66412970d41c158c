// Issue #17 in the config loader: the nesting limit on the file, and
// otp.reference_scope.
#include "otppi/config/config.hpp"
#include "otppi/core/files.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace otppi::config;
using ::testing::Contains;
using ::testing::HasSubstr;

// Issue #17: every reader of outside JSON refuses nesting past 32 levels,
// the config file included (a 4 MiB file holds 2 million levels).
TEST(Config, DeeplyNestedConfigIsRefusedNotACrash) {
    otppi::test::temp_dir dir;
    const std::string path = dir / "deep.json";
    std::string deep = R"({"device_name": )" + std::string(70'000, '[') + std::string(70'000, ']') + "}";
    ASSERT_EQ(otppi::core::atomic_write_file(path, deep, 0600), "");
    auto r = load_config_file(path);
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_THAT(r.errors[0], HasSubstr("(document): invalid JSON: JSON nested deeper than 32 levels (at byte 47)"));
    // 32 levels parse, and then the schema speaks.
    r = parse_config(R"({"device_name": )" + std::string(31, '[') + std::string(31, ']') + "}");
    EXPECT_THAT(r.error_text(), HasSubstr("device_name: expected string"));
}

TEST(Config, ReferenceScopeIsUserByDefaultOrGlobal) {
    auto r = parse_config("{}");
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_EQ(r.cfg->otp.reference_scope, "user");
    auto doc = nlohmann::json::parse(R"({"otp": {"length": 6}})");
    doc["otp"]["reference_scope"] = "global";
    r = parse_config(doc.dump());
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_EQ(r.cfg->otp.reference_scope, "global");
    EXPECT_EQ(parse_config(to_json_text(*r.cfg)).cfg->otp.reference_scope, "global");
    doc["otp"]["reference_scope"] = "team";
    EXPECT_THAT(parse_config(doc.dump()).errors, Contains(HasSubstr("otp.reference_scope: expected one of")));
}
