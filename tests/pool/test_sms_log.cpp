#include "otppi/core/files.hpp"
#include "otppi/pool/sms_log.hpp"
#include "support/temp_dir.hpp"

#include <filesystem>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace otppi;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(SmsLog, DailyCsvWithMaskedReceiverAndNoText) {
    test::temp_dir dir;
    pool::sms_log log(dir / "sms-log", 90, true, [](std::function<void()> fn) { fn(); });
    pool::sms_log_entry e;
    e.at_unix = 1'795'300'000;  // 2026-11-21
    e.modem_id = "m1";
    e.receiver = "628126666666";
    e.kind = "otp";
    e.parts = 1;
    e.status = "sent";
    e.message_reference = 12;
    log.record(e);
    e.status = "failed";
    e.error = "+CMS ERROR: 331 \"no network\"\n";
    log.record(e);
    auto text = core::read_file(dir / "sms-log/2026-11-21.csv");
    ASSERT_TRUE(text);
    EXPECT_THAT(*text, HasSubstr("time,modem,receiver,kind,parts,status,message_reference,error\n"));
    EXPECT_THAT(*text, HasSubstr("2026-11-21T"));
    EXPECT_THAT(*text, HasSubstr("\"62812****666\""));
    EXPECT_THAT(*text, Not(HasSubstr("628126666666")));
    EXPECT_THAT(*text, HasSubstr("\"+CMS ERROR: 331 \"\"no network\"\"\""));  // quotes doubled, newline dropped
    EXPECT_EQ(std::count(text->begin(), text->end(), '\n'), 3);
}

TEST(SmsLog, DisabledWritesNothing) {
    test::temp_dir dir;
    pool::sms_log log(dir / "sms-log", 90, false, [](std::function<void()> fn) { fn(); });
    log.record({1'795'300'000, "m1", "628126666666", "sms", 1, "sent", 1, ""});
    EXPECT_FALSE(std::filesystem::exists(dir / "sms-log"));
}

TEST(SmsLog, RetentionDeletesOnlyOldDayFiles) {
    test::temp_dir dir;
    const auto logdir = dir / "sms-log";
    std::filesystem::create_directories(logdir);
    for (const char* name : {"2026-08-01.csv", "2026-08-23.csv", "2026-08-24.csv", "2026-11-21.csv", "notes.txt"})
        ASSERT_EQ(core::atomic_write_file(logdir + "/" + name, "x\n", 0640), "");
    pool::sms_log log(logdir, 90, true, [](std::function<void()> fn) { fn(); });
    // 2026-11-21 minus 90 days is 2026-08-23: that day and later are kept.
    EXPECT_EQ(log.prune(1'795'300'000), 1);
    EXPECT_FALSE(std::filesystem::exists(logdir + "/2026-08-01.csv"));
    EXPECT_TRUE(std::filesystem::exists(logdir + "/2026-08-23.csv"));
    EXPECT_TRUE(std::filesystem::exists(logdir + "/notes.txt"));
}
