// Sent-part records and the delivery reports matched to them.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "otppi/core/files.hpp"
#include "otppi/modem/reports.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace otppi::modem;

sent_record sent(std::string modem, int mr, std::string to, std::int64_t at = 1000, int part = 1, int parts = 1) {
    sent_record r;
    r.modem_id = std::move(modem);
    r.message_reference = mr;
    r.recipient = std::move(to);
    r.sent_unix = at;
    r.part = part;
    r.parts = parts;
    return r;
}

TEST(DeliveryReports, ReportMatchesTheSendByModemAndReference) {
    report_store s({"", 100});
    s.record_sent(sent("m1", 7, "628111111111"));
    s.record_sent(sent("m2", 7, "628222222222"));
    auto r = s.apply_report("m2", 7, "628222222222", 0x00, 2000);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->recipient, "62822****222");
    EXPECT_EQ(r->state, "delivered");
    EXPECT_EQ(r->report_unix, 2000);
    EXPECT_EQ(s.find("m1", 7)->state, "sent");
    EXPECT_FALSE(s.apply_report("m3", 7, "", 0, 1));
}

TEST(DeliveryReports, StatesFollowTpSt) {
    report_store s({"", 100});
    s.record_sent(sent("m1", 1, "628111111111"));
    EXPECT_EQ(s.apply_report("m1", 1, "", 0x20, 1)->state, "pending");  // SC still trying
    EXPECT_EQ(s.apply_report("m1", 1, "", 0x41, 2)->state, "failed");   // incompatible destination
    EXPECT_EQ(s.find("m1", 1)->status, 0x41);
}

TEST(DeliveryReports, WrappedReferencePrefersTheReceiverAndOpenRecords) {
    report_store s({"", 1000});
    // MR 5 used twice (TP-MR wraps at 256): the report names its recipient.
    s.record_sent(sent("m1", 5, "628111111111", 10));
    s.record_sent(sent("m1", 5, "628222222222", 20));
    auto r = s.apply_report("m1", 5, "08111111111", 0, 30);  // national form of the first receiver
    ASSERT_TRUE(r);
    EXPECT_EQ(r->recipient, "62811****111");
    // Without a recipient: the newest record that has no final state yet.
    s.record_sent(sent("m1", 9, "628333333333", 40));
    s.record_sent(sent("m1", 9, "628444444444", 50));
    s.apply_report("m1", 9, "", 0, 60);
    auto second = s.apply_report("m1", 9, "", 0, 61);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->recipient, "62833****333") << "the newest one already had its final report";
}

TEST(DeliveryReports, JournalSurvivesRestartAndNeverHoldsText) {
    otppi::test::temp_dir dir;
    const std::string path = dir / "m1/reports.jsonl";
    {
        report_store s({path, 100});
        ASSERT_EQ(s.load(), "");
        s.record_sent(sent("m1", 3, "628111111111", 10, 1, 2));
        s.record_sent(sent("m1", 4, "628111111111", 11, 2, 2));
        s.apply_report("m1", 4, "628111111111", 0, 20);
        EXPECT_EQ(s.last_error(), "");
    }
    report_store s({path, 100});
    ASSERT_EQ(s.load(), "");
    ASSERT_EQ(s.size(), 2u);
    auto r = s.find("m1", 4);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->state, "delivered");
    EXPECT_EQ(r->part, 2);
    EXPECT_EQ(r->parts, 2);
    EXPECT_EQ(s.find("m1", 3)->state, "sent");
    auto text = otppi::core::read_file(path);
    ASSERT_TRUE(text);
    EXPECT_EQ(text->find("text"), std::string::npos);
}

TEST(DeliveryReports, BoundedAndCompacted) {
    otppi::test::temp_dir dir;
    const std::string path = dir / "reports.jsonl";
    {
        report_store s({path, 50});
        for (int i = 0; i < 500; ++i) s.record_sent(sent("m1", i % 256, "628111111111", i));
        EXPECT_EQ(s.size(), 50u);
        EXPECT_LE(s.journal_lines(), 50u + 25u + 16u + 1u);
    }
    report_store s({path, 50});
    ASSERT_EQ(s.load(), "");
    EXPECT_EQ(s.size(), 50u);
    EXPECT_EQ(s.recent(1)[0].sent_unix, 499);
}

TEST(DeliveryReports, TornLastLineIsSkipped) {
    otppi::test::temp_dir dir;
    const std::string path = dir / "reports.jsonl";
    {
        report_store s({path, 100});
        s.record_sent(sent("m1", 1, "628111111111"));
    }
    { std::ofstream(path, std::ios::app) << "{\"k\":\"s\",\"q\":2,\"m\":\"m1\",\"r"; }
    report_store s({path, 100});
    auto e = s.load();
    EXPECT_NE(e.find("skipped 1"), std::string::npos) << e;
    EXPECT_EQ(s.size(), 1u);
    // And appending still works after the torn line.
    s.record_sent(sent("m1", 2, "628111111111"));
    report_store again({path, 100});
    again.load();
    EXPECT_EQ(again.size(), 2u);
}

TEST(DeliveryReports, RecordsKeepOnlyTheMaskedReceiverInMemoryAndOnDisk) {
    // Issue #17: delivery-report records kept the receiver's full number.
    otppi::test::temp_dir dir;
    const std::string path = dir / "reports.jsonl";
    report_store s({path, 100});
    ASSERT_EQ(s.load(), "");
    s.record_sent(sent("m1", 3, "628126666666"));
    EXPECT_EQ(s.find("m1", 3)->recipient, "62812****666");
    auto r = s.apply_report("m1", 3, "08126666666", 0, 20);  // the network's national form still matches
    ASSERT_TRUE(r);
    EXPECT_EQ(r->state, "delivered");
    auto text = otppi::core::read_file(path);
    ASSERT_TRUE(text);
    EXPECT_EQ(text->find("628126666666"), std::string::npos) << *text;
    EXPECT_NE(text->find("62812****666"), std::string::npos) << *text;
}

TEST(DeliveryReports, MaskedReceiverStillPicksTheRightRecordOfAWrappedReference) {
    report_store s({"", 1000});
    s.record_sent(sent("m1", 5, "628111111111", 10));
    s.record_sent(sent("m1", 5, "628222222222", 20));
    EXPECT_EQ(s.apply_report("m1", 5, "+628111111111", 0, 30)->recipient, "62811****111");
    EXPECT_EQ(s.find("m1", 5)->state, "sent");  // the newer one, to 628222222222, is still open
}

TEST(DeliveryReports, JournalWithFullNumbersIsMaskedOnLoad) {
    otppi::test::temp_dir dir;
    const std::string path = dir / "reports.jsonl";
    {
        std::ofstream out(path);
        out << R"({"k":"s","q":1,"m":"m1","r":7,"to":"628126666666","p":1,"n":1,"t":100,"st":"sent","s":-1,"rt":0})" << "\n";
    }
    report_store s({path, 100});
    ASSERT_EQ(s.load(200), "");
    EXPECT_EQ(s.find("m1", 7)->recipient, "62812****666");
    auto text = otppi::core::read_file(path);
    ASSERT_TRUE(text);
    EXPECT_EQ(text->find("628126666666"), std::string::npos) << *text;
}

TEST(DeliveryReports, RecordsAgeOutWithTheSmsLogRetention) {
    otppi::test::temp_dir dir;
    const std::string path = dir / "reports.jsonl";
    const std::int64_t day = 86400;
    {
        report_store s({path, 100, 2});
        ASSERT_EQ(s.load(10 * day), "");
        s.record_sent(sent("m1", 1, "628111111111", 10 * day));
        s.record_sent(sent("m1", 2, "628222222222", 11 * day));
        EXPECT_EQ(s.size(), 2u);
        s.record_sent(sent("m1", 3, "628333333333", 13 * day));  // the first is now older than 2 days
        EXPECT_EQ(s.size(), 2u);
        EXPECT_FALSE(s.find("m1", 1));
        auto text = otppi::core::read_file(path);
        ASSERT_TRUE(text);
        EXPECT_EQ(text->find("62811****111"), std::string::npos) << "aged-out records leave the file too";
    }
    report_store s({path, 100, 2});
    ASSERT_EQ(s.load(16 * day), "");  // a restart long after: all past the retention
    EXPECT_EQ(s.size(), 0u);
    EXPECT_EQ(otppi::core::read_file(path).value_or("?"), "");
}

TEST(DeliveryReports, SameMaskedSubscriber) {
    EXPECT_TRUE(detail::same_masked_subscriber("62812****666", "08126666666"));
    EXPECT_TRUE(detail::same_masked_subscriber("62812****666", "+62812 3456 666"));
    EXPECT_FALSE(detail::same_masked_subscriber("62812****666", "628126666667"));
    EXPECT_TRUE(detail::same_masked_subscriber("******", "123456"));
}

TEST(DeliveryReports, SameSubscriber) {
    EXPECT_TRUE(detail::same_subscriber("628126666666", "+628126666666"));
    EXPECT_TRUE(detail::same_subscriber("628126666666", "08126666666"));
    EXPECT_FALSE(detail::same_subscriber("628126666666", "628126666667"));
    EXPECT_TRUE(detail::same_subscriber("1234", "1234"));
    EXPECT_FALSE(detail::same_subscriber("", "1234"));
}

}  // namespace
