// The incoming SMS store: persistence, reassembly, duplicates, bounds.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <filesystem>
#include <fstream>

#include "otppi/core/files.hpp"
#include "otppi/modem/inbox.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace otppi::modem;

inbox_part part(std::string from, std::string text, std::int64_t at, std::optional<concat_info> c = std::nullopt) {
    inbox_part p;
    p.from = std::move(from);
    p.text = std::move(text);
    p.received_unix = at;
    p.sc_timestamp_unix = at - 2;
    p.concat = c;
    return p;
}

concat_info ci(std::uint16_t ref, std::uint8_t total, std::uint8_t seq) { return concat_info{ref, total, seq, false}; }

TEST(Inbox, SingleMessageIsStoredAndSurvivesReload) {
    otppi::test::temp_dir dir;
    const std::string path = dir / "m/inbox.json";
    {
        inbox box({path, "m1"});
        ASSERT_EQ(box.load(), "");
        auto r = box.add(part("+6281234567", "hello", 1000));
        ASSERT_TRUE(r.stored()) << r.error;
        ASSERT_TRUE(r.message);
        EXPECT_EQ(r.message->text, "hello");
        EXPECT_EQ(r.message->from, "+6281234567");
        EXPECT_EQ(r.message->modem_id, "m1");
        EXPECT_EQ(r.message->parts, 1);
        EXPECT_TRUE(r.message->complete);
        EXPECT_FALSE(r.message->id.empty());
    }
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "message text is personal data";

    inbox again({path, "m1"});
    ASSERT_EQ(again.load(), "");
    auto all = again.list();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].text, "hello");
    EXPECT_EQ(all[0].sc_timestamp_unix, 998);
}

TEST(Inbox, ConcatenatedPartsInAnyOrderBecomeOneMessage) {
    inbox box({"", "m1"});
    EXPECT_FALSE(box.add(part("+62811", "world", 10, ci(7, 3, 3))).message);
    EXPECT_FALSE(box.add(part("+62811", "hello ", 11, ci(7, 3, 1))).message);
    EXPECT_EQ(box.pending_groups(), 1u);
    // Same reference from another sender is another message.
    EXPECT_FALSE(box.add(part("+62822", "other", 11, ci(7, 3, 1))).message);
    auto r = box.add(part("+62811", "big ", 12, ci(7, 3, 2)));
    ASSERT_TRUE(r.message);
    EXPECT_EQ(r.message->text, "hello big world");
    EXPECT_EQ(r.message->parts, 3);
    EXPECT_EQ(r.message->received_unix, 10);
    EXPECT_EQ(box.pending_groups(), 1u);
    EXPECT_EQ(box.size(), 1u);
}

TEST(Inbox, WaitingPartsSurviveARestart) {
    otppi::test::temp_dir dir;
    const std::string path = dir / "inbox.json";
    {
        inbox box({path, "m1"});
        ASSERT_EQ(box.load(), "");
        EXPECT_FALSE(box.add(part("+62811", "first ", 10, ci(300, 2, 1))).message);
    }
    inbox box({path, "m1"});
    ASSERT_EQ(box.load(), "");
    EXPECT_EQ(box.pending_groups(), 1u);
    auto r = box.add(part("+62811", "second", 20, ci(300, 2, 2)));
    ASSERT_TRUE(r.message);
    EXPECT_EQ(r.message->text, "first second");
}

TEST(Inbox, IncompleteGroupsAreStoredAfterTheTimeout) {
    inbox_options o{"", "m1"};
    o.reassembly_timeout = std::chrono::seconds(60);
    inbox box(o);
    box.add(part("+62811", "one ", 100, ci(1, 3, 1)));
    box.add(part("+62811", "three", 130, ci(1, 3, 3)));
    ASSERT_TRUE(box.next_expiry());
    EXPECT_EQ(*box.next_expiry(), 160);
    EXPECT_TRUE(box.expire(159).empty());
    auto out = box.expire(160);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0].complete);
    EXPECT_EQ(out[0].text, "one [...]three");
    EXPECT_EQ(out[0].parts, 2);
    EXPECT_FALSE(box.next_expiry());
    EXPECT_EQ(box.size(), 1u);
}

TEST(Inbox, TheSamePartReadTwiceIsIgnored) {
    inbox box({"", "m1"});
    auto p = part("+62811", "code 1234", 100);
    ASSERT_TRUE(box.add(p).message);
    auto again = box.add(p);
    EXPECT_TRUE(again.duplicate);
    EXPECT_FALSE(again.message);
    EXPECT_TRUE(again.stored()) << "a duplicate may be deleted from the SIM";
    EXPECT_EQ(box.size(), 1u);
    // A new message with the same text at another time is not a duplicate.
    EXPECT_TRUE(box.add(part("+62811", "code 1234", 200)).message);
}

TEST(Inbox, DeleteAndMarkReadPersist) {
    otppi::test::temp_dir dir;
    const std::string path = dir / "inbox.json";
    std::string keep, drop;
    {
        inbox box({path, "m1"});
        keep = box.add(part("+62811", "a", 1)).message->id;
        drop = box.add(part("+62811", "b", 2)).message->id;
        EXPECT_TRUE(box.mark_read(keep));
        EXPECT_TRUE(box.remove(drop));
        EXPECT_FALSE(box.remove(drop));
        EXPECT_FALSE(box.mark_read("nope"));
    }
    inbox box({path, "m1"});
    ASSERT_EQ(box.load(), "");
    ASSERT_EQ(box.size(), 1u);
    EXPECT_EQ(box.list()[0].id, keep);
    EXPECT_TRUE(box.list()[0].read);
    EXPECT_FALSE(box.get(drop));
}

TEST(Inbox, IdsStayUniqueAcrossRestarts) {
    otppi::test::temp_dir dir;
    const std::string path = dir / "inbox.json";
    std::string first;
    {
        inbox box({path, "m1"});
        first = box.add(part("+62811", "a", 5)).message->id;
    }
    inbox box({path, "m1"});
    ASSERT_EQ(box.load(), "");
    EXPECT_NE(box.add(part("+62811", "b", 5)).message->id, first);
}

TEST(Inbox, BoundedMessagesAndGroups) {
    inbox_options o{"", "m1"};
    o.capacity = 3;
    o.max_pending_groups = 2;
    inbox box(o);
    for (int i = 0; i < 5; ++i) box.add(part("+62811", "m" + std::to_string(i), i));
    ASSERT_EQ(box.size(), 3u);
    EXPECT_EQ(box.list().front().text, "m4");
    EXPECT_EQ(box.list().back().text, "m2");

    box.add(part("+62811", "x", 10, ci(1, 2, 1)));
    box.add(part("+62811", "y", 11, ci(2, 2, 1)));
    auto r = box.add(part("+62811", "z", 12, ci(3, 2, 1)));
    ASSERT_EQ(r.flushed.size(), 1u) << "the oldest group makes room";
    EXPECT_EQ(r.flushed[0].text, "x[...]");
    EXPECT_EQ(box.pending_groups(), 2u);
}

TEST(Inbox, CorruptFileIsMovedAsideNotOverwritten) {
    otppi::test::temp_dir dir;
    const std::string path = dir / "inbox.json";
    { std::ofstream(path) << "{ not json"; }
    inbox box({path, "m1"});
    auto e = box.load();
    EXPECT_NE(e.find("corrupt"), std::string::npos) << e;
    EXPECT_TRUE(std::filesystem::exists(path + ".corrupt"));
    EXPECT_TRUE(box.add(part("+62811", "a", 1)).stored());
}

TEST(Inbox, FailedWriteIsReportedSoTheSimKeepsTheMessage) {
    otppi::test::temp_dir dir;
    // A directory where the file should be: every atomic rename fails.
    const std::string path = dir / "inbox.json";
    std::filesystem::create_directories(path + "/blocker");
    inbox box({path, "m1"});
    auto r = box.add(part("+62811", "a", 1));
    EXPECT_FALSE(r.stored());
    EXPECT_FALSE(box.last_error().empty());
}

TEST(Inbox, FileSafeIds) {
    EXPECT_EQ(detail::file_safe_id("modem-1_A"), "modem-1_A");
    EXPECT_EQ(detail::file_safe_id("../x y"), "%2E%2E%2Fx%20y");
    EXPECT_EQ(detail::file_safe_id(""), "_");
}

}  // namespace
