// The first-run setup code: short, unambiguous, forgiving to type, compared in constant time.
#include "otppi/admin/setup_code.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace otppi;

TEST(SetupCode, TenCharactersInTwoGroupsWithoutLookAlikes) {
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
        const auto code = admin::make_setup_code();
        ASSERT_EQ(code.size(), 11u) << code;
        EXPECT_EQ(code[5], '-');
        for (char ch : code) EXPECT_EQ(std::string("ILOU").find(ch), std::string::npos) << code;
        EXPECT_EQ(admin::canonical_setup_code(code).size(), 10u) << code;
        seen.insert(code);
    }
    EXPECT_EQ(seen.size(), 200u) << "codes repeat: not from the CSPRNG?";
}

TEST(SetupCode, TypingIsForgiving) {
    EXPECT_TRUE(admin::setup_code_matches("7kq2m x9drt", "7KQ2M-X9DRT"));
    EXPECT_TRUE(admin::setup_code_matches("7KQ2MX9DRT", "7KQ2M-X9DRT"));
    EXPECT_TRUE(admin::setup_code_matches("1O0AB-CDEFG", "10OAB-CDEFG"));  // O and 0, I/L and 1 are one symbol
    EXPECT_TRUE(admin::setup_code_matches("LI000-CDEFG", "11000-CDEFG"));
}

TEST(SetupCode, WrongShortLongOrEmptyCodesDoNotMatch) {
    EXPECT_FALSE(admin::setup_code_matches("7KQ2M-X9DRV", "7KQ2M-X9DRT"));
    EXPECT_FALSE(admin::setup_code_matches("7KQ2M-X9DR", "7KQ2M-X9DRT"));
    EXPECT_FALSE(admin::setup_code_matches("7KQ2M-X9DRTT", "7KQ2M-X9DRT"));
    EXPECT_FALSE(admin::setup_code_matches("", ""));
    EXPECT_FALSE(admin::setup_code_matches("7KQ2M-X9DRU", "7KQ2M-X9DRU"));  // U is not in the alphabet
    EXPECT_FALSE(admin::setup_code_matches(std::string(100, '7'), std::string(100, '7')));
}
