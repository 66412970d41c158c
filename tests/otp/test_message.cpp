#include "otppi/otp/message.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace otppi::otp {
namespace {

TEST(OtpCheckTemplate, OneSubstitutionIsAccepted) {
    EXPECT_FALSE(check_template("Your OTP is %s").has_value());
    EXPECT_FALSE(check_template("%s").has_value());
    EXPECT_FALSE(check_template("%s is your code. Valid 3 minutes.").has_value());
    EXPECT_FALSE(check_template("Kode OTP Anda %s, berlaku 3 menit").has_value());
    EXPECT_FALSE(check_template("Diskon 100%% untuk kode %s").has_value());  // literal percent
    EXPECT_FALSE(check_template("код %s ✓").has_value());                    // UTF-8 is just bytes
}

void expect_rejected(std::string_view tmpl, std::string_view mentions, std::size_t offset) {
    auto error = check_template(tmpl);
    ASSERT_TRUE(error.has_value()) << tmpl;
    EXPECT_NE(error->message.find(mentions), std::string::npos) << tmpl << " -> " << error->message;
    EXPECT_EQ(error->offset, offset) << tmpl;
}

TEST(OtpCheckTemplate, RejectedWithAClearReason) {
    expect_rejected("%s %s", "second '%s'", 3);
    expect_rejected("no placeholder", "no '%s'", 14);
    expect_rejected("", "no '%s'", 0);
    expect_rejected("%n%s", "'%n'", 0);
    expect_rejected("100% %s", "lone '%'", 3);
    expect_rejected("%d", "'%d'", 0);
    expect_rejected("code %x %s", "'%x'", 5);
    expect_rejected("%1$s", "'%1'", 0);
    expect_rejected("%S", "'%S'", 0);
    expect_rejected("%-5s", "'%-'", 0);
    expect_rejected("%s 50%", "lone '%'", 5);
    expect_rejected(std::string_view("%\0%s", 4), "non-printable", 0);
}

TEST(OtpCheckTemplate, PercentPercentSIsLiteralTextNotAPlaceholder) {
    // "%%s" reads as "%%" then "s" (Java and printf agree), so it is the
    // text "%s" and the template has no placeholder.
    expect_rejected("Your OTP is %%s", "no '%s'", 15);
    EXPECT_FALSE(check_template("Type %%s literally, your code is %s").has_value());
    auto filled = fill_template("Type %%s literally, your code is %s", "123456");
    ASSERT_TRUE(filled.has_value());
    EXPECT_EQ(*filled, "Type %s literally, your code is 123456");
    // "%%%s": a literal percent, then the placeholder.
    filled = fill_template("%%%s", "42");
    ASSERT_TRUE(filled.has_value());
    EXPECT_EQ(*filled, "%42");
}

TEST(OtpFillTemplate, PlainSubstitution) {
    auto filled = fill_template("Your OTP is %s", "048213");
    ASSERT_TRUE(filled.has_value());
    EXPECT_EQ(*filled, "Your OTP is 048213");
    filled = fill_template("%s", "9999");
    EXPECT_EQ(*filled, "9999");
    filled = fill_template("Diskon 100%% kode %s.", "1234");
    EXPECT_EQ(*filled, "Diskon 100% kode 1234.");
}

TEST(OtpFillTemplate, CodeIsNeverInterpreted) {
    // Whatever the substituted text holds, it is copied, not formatted.
    auto filled = fill_template("[%s]", "%n%s%%");
    ASSERT_TRUE(filled.has_value());
    EXPECT_EQ(*filled, "[%n%s%%]");
}

TEST(OtpFillTemplate, InvalidTemplateGivesNothing) {
    EXPECT_FALSE(fill_template("%s %s", "1").has_value());
    EXPECT_FALSE(fill_template("%n", "1").has_value());
}

TEST(OtpSelectTemplate, ExactThenShorterThenFallback) {
    const std::map<std::string, std::string> by_lang{
        {"en", "Your code is %s"},
        {"id", "Kode Anda %s"},
        {"pt-BR", "Seu código é %s"},
    };
    EXPECT_EQ(*select_template(by_lang, "id"), "Kode Anda %s");
    EXPECT_EQ(*select_template(by_lang, "en-US"), "Your code is %s");
    EXPECT_EQ(*select_template(by_lang, "EN_gb"), "Your code is %s");
    EXPECT_EQ(*select_template(by_lang, "pt-br"), "Seu código é %s");
    EXPECT_EQ(*select_template(by_lang, "id-ID-x-jakarta"), "Kode Anda %s");
    EXPECT_EQ(*select_template(by_lang, "fr"), "Your code is %s");  // fallback "en"
    EXPECT_EQ(*select_template(by_lang, ""), "Your code is %s");
    EXPECT_EQ(select_template(by_lang, "fr", ""), nullptr);
    EXPECT_EQ(select_template(by_lang, "fr", "de"), nullptr);
    EXPECT_EQ(*select_template(by_lang, "pt"), "Your code is %s");  // "pt" does not match "pt-BR"
}

TEST(OtpSelectTemplate, WorksWithOtherContainers) {
    const std::unordered_map<std::string, std::string> u{{"id", "A %s"}};
    EXPECT_EQ(*select_template(u, "id-ID"), "A %s");
    const std::vector<std::pair<std::string, std::string>> v{{"en", "B %s"}};
    EXPECT_EQ(*select_template(v, "en-AU"), "B %s");
}

TEST(OtpSpokenDigits, ReadTwiceWithPauses) {
    EXPECT_EQ(spoken_digits("4821", "en"), "Your verification code is: 4, 8, 2, 1. I repeat: 4, 8, 2, 1. Goodbye.");
    EXPECT_EQ(spoken_digits("093", "id-ID"), "Kode verifikasi Anda adalah: 0, 9, 3. Saya ulangi: 0, 9, 3. Terima kasih.");
    EXPECT_EQ(spoken_digits("7", "xx"), "Your verification code is: 7. I repeat: 7. Goodbye.");
}

TEST(OtpSpokenDigits, OnlyDigits) {
    EXPECT_TRUE(spoken_digits("", "en").empty());
    EXPECT_TRUE(spoken_digits("12a4", "en").empty());
    EXPECT_TRUE(spoken_digits("12 4", "en").empty());
}

}  // namespace
}  // namespace otppi::otp
