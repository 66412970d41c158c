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
    EXPECT_EQ(r->recipient, "628222222222");
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
    EXPECT_EQ(r->recipient, "628111111111");
    // Without a recipient: the newest record that has no final state yet.
    s.record_sent(sent("m1", 9, "628333333333", 40));
    s.record_sent(sent("m1", 9, "628444444444", 50));
    s.apply_report("m1", 9, "", 0, 60);
    auto second = s.apply_report("m1", 9, "", 0, 61);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->recipient, "628333333333") << "the newest one already had its final report";
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

TEST(DeliveryReports, SameSubscriber) {
    EXPECT_TRUE(detail::same_subscriber("628126666666", "+628126666666"));
    EXPECT_TRUE(detail::same_subscriber("628126666666", "08126666666"));
    EXPECT_FALSE(detail::same_subscriber("628126666666", "628126666667"));
    EXPECT_TRUE(detail::same_subscriber("1234", "1234"));
    EXPECT_FALSE(detail::same_subscriber("", "1234"));
}

}  // namespace
