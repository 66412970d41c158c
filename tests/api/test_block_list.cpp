// The block list: journal, replay, compaction, bounds (issue #17 item 6).
#include "otppi/api/block_list.hpp"

#include "otppi/core/files.hpp"
#include "support/manual_loop.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace otppi {
namespace {

using api::block_list;

std::string number(std::size_t i) { return "62812" + std::to_string(10'000'000 + i); }

struct BlockList : ::testing::Test {
    core::ManualClock clock;
    test::manual_loop loop{clock};
    test::temp_dir dir;

    std::unique_ptr<block_list> open(std::size_t max_entries = 100'000) {
        auto list = std::make_unique<block_list>(dir.path(), loop.executor(), loop.executor(), max_entries);
        auto err = list->load();
        EXPECT_EQ(err, "");
        return list;
    }

    // Applies a change and runs the file job; returns the error given to done.
    std::string change(block_list& list, const std::string& n, bool add) {
        std::string got = "<not called>";
        auto r = add ? list.add(n, [&](std::string e) { got = std::move(e); }) : list.remove(n, [&](std::string e) { got = std::move(e); });
        EXPECT_EQ(r, block_list::change::applied);
        loop.drain();
        return got;
    }

    std::string read(const std::string& name) { return core::read_file(dir / name).value_or("<missing>"); }
};

TEST_F(BlockList, BlockAppendsOneJournalLineInsteadOfRewritingTheList) {
    auto list = open();
    EXPECT_EQ(change(*list, "628126666666", true), "");
    EXPECT_EQ(change(*list, "628127777777", true), "");
    EXPECT_EQ(change(*list, "628126666666", false), "");
    EXPECT_EQ(read("blocklist.journal"), "+628126666666\n+628127777777\n-628126666666\n");
    EXPECT_FALSE(std::filesystem::exists(dir / "blocklist.json"));

    auto again = open();
    EXPECT_EQ(again->numbers(), (std::set<std::string>{"628127777777"}));
}

TEST_F(BlockList, DoneIsCalledOnlyAfterTheFileJobRan) {
    auto list = open();
    bool answered = false;
    ASSERT_EQ(list->add("628126666666", [&](std::string) { answered = true; }), block_list::change::applied);
    EXPECT_FALSE(answered);  // nothing answered before the append is synced
    EXPECT_EQ(read("blocklist.journal"), "<missing>");
    loop.drain();
    EXPECT_TRUE(answered);
}

TEST_F(BlockList, ChangesQueuedTogetherAreWrittenInOneGroupCommit) {
    auto list = open();
    int answered = 0;
    for (int i = 0; i < 50; ++i) ASSERT_EQ(list->add(number(i), [&](std::string e) { answered += e.empty(); }), block_list::change::applied);
    loop.drain();
    EXPECT_EQ(answered, 50);
    EXPECT_EQ(open()->size(), 50u);
}

TEST_F(BlockList, TornLastJournalLineIsDroppedAndCutOff) {
    {
        std::ofstream out(dir / "blocklist.journal", std::ios::binary);
        out << "+628126666666\n+62812777";  // power cut in the middle of the second append
    }
    auto list = open();
    EXPECT_EQ(list->numbers(), (std::set<std::string>{"628126666666"}));
    EXPECT_EQ(read("blocklist.journal"), "+628126666666\n");
    EXPECT_EQ(change(*list, "628128888888", true), "");
    EXPECT_EQ(open()->numbers(), (std::set<std::string>{"628126666666", "628128888888"}));
}

TEST_F(BlockList, ForeignJournalLineRefusesToLoadWithItsFileNamed) {
    {
        std::ofstream out(dir / "blocklist.journal", std::ios::binary);
        out << "+628126666666\nhello\n";
    }
    block_list list(dir.path(), loop.executor(), loop.executor());
    auto err = list.load();
    EXPECT_NE(err.find("blocklist.journal"), std::string::npos) << err;
}

TEST_F(BlockList, OldSnapshotOnlyFileStillLoads) {
    ASSERT_EQ(core::atomic_write_file(dir / "blocklist.json", "{\"blocked\": [\n \"628126666666\",\n \"+628127777777\"\n]}\n", 0640), "");
    EXPECT_EQ(open()->numbers(), (std::set<std::string>{"628126666666", "628127777777"}));
}

TEST_F(BlockList, JournalIsCompactedIntoTheSnapshotInTheBackground) {
    auto list = open();
    const std::size_t n = block_list::compact_min_lines + 10;
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(list->add(number(i), [](std::string) {}), block_list::change::applied);
    for (std::size_t i = 0; i < 10; ++i) ASSERT_EQ(list->remove(number(i), [](std::string) {}), block_list::change::applied);
    EXPECT_TRUE(list->compacting());
    loop.drain();
    EXPECT_FALSE(list->compacting());
    EXPECT_EQ(list->journal_lines(), 20u);  // the changes queued after the snapshot
    // The snapshot holds what was listed when compaction started; the journal the rest.
    EXPECT_TRUE(std::filesystem::exists(dir / "blocklist.json"));
    auto again = open();
    EXPECT_EQ(again->numbers(), list->numbers());
    EXPECT_EQ(again->size(), n - 10);
}

TEST_F(BlockList, ChangesAfterCompactionStartedSurviveIt) {
    auto list = open();
    for (std::size_t i = 0; i < block_list::compact_min_lines + 1; ++i) list->add(number(i), [](std::string) {});
    ASSERT_TRUE(list->compacting());
    // Queued behind the snapshot, these must land in the fresh journal.
    list->remove(number(0), [](std::string) {});
    list->add("628129999999", [](std::string) {});
    loop.drain();
    auto again = open();
    EXPECT_FALSE(again->contains(number(0)));
    EXPECT_TRUE(again->contains("628129999999"));
    EXPECT_EQ(again->size(), block_list::compact_min_lines + 1);
}

TEST_F(BlockList, FullListRefusesNewNumbersButAcceptsRemovals) {
    auto list = open(3);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(change(*list, number(i), true), "");
    EXPECT_EQ(list->add(number(3), [](std::string) { FAIL() << "a refused change must not be answered twice"; }), block_list::change::full);
    EXPECT_FALSE(list->contains(number(3)));
    EXPECT_EQ(change(*list, number(0), false), "");
    EXPECT_EQ(change(*list, number(3), true), "");
}

TEST_F(BlockList, LoweredLimitKeepsWhatIsListed) {
    {
        auto list = open();
        for (int i = 0; i < 5; ++i) change(*list, number(i), true);
    }
    auto list = open(2);
    EXPECT_EQ(list->size(), 5u);  // still enforced: a lower limit never unblocks anyone
    EXPECT_EQ(list->add(number(9), [](std::string) {}), block_list::change::full);
}

TEST_F(BlockList, SnapshotAtTheHardLimitIsReadBack) {
    // Before: at 16 MiB the daemon wrote a file it then refused to start with.
    // The largest list the writer can produce (every entry at the longest
    // number) must fit the loader's limit.
    std::vector<std::string> numbers;
    numbers.reserve(block_list::hard_max_entries);
    for (std::size_t i = 0; i < block_list::hard_max_entries; ++i) {
        auto s = std::to_string(10'000'000'000'000'000'000ULL + i);
        ASSERT_EQ(s.size(), block_list::max_number_digits);
        numbers.push_back(std::move(s));
    }
    const auto text = block_list::serialize_snapshot(numbers);
    EXPECT_LE(text.size(), block_list::max_snapshot_bytes);
    EXPECT_GT(text.size(), std::size_t{16} * 1024 * 1024);
    ASSERT_EQ(core::atomic_write_file(dir / "blocklist.json", text, 0640), "");
    block_list list(dir.path(), loop.executor(), loop.executor(), block_list::hard_max_entries);
    EXPECT_EQ(list.load(), "");
    EXPECT_EQ(list.size(), block_list::hard_max_entries);
    EXPECT_EQ(list.add("628126666666", [](std::string) {}), block_list::change::full);
}

TEST_F(BlockList, SnapshotOverTheLoaderLimitIsRefusedWithAClearError) {
    std::string big(block_list::max_snapshot_bytes + 1, ' ');
    ASSERT_EQ(core::atomic_write_file(dir / "blocklist.json", big, 0640), "");
    block_list list(dir.path(), loop.executor(), loop.executor());
    auto err = list.load();
    EXPECT_NE(err.find("larger than"), std::string::npos) << err;
}

TEST_F(BlockList, JournalLineLimitsMatchTheLoader) {
    // The longest journal line the writer makes and the loader's byte limit agree.
    EXPECT_EQ(block_list::max_journal_bytes, block_list::max_journal_lines * (std::string("+") + std::string(20, '9') + "\n").size());
    EXPECT_EQ(block_list::snapshot_entry_bytes, (std::string("\n \"") + std::string(20, '9') + "\",").size());
}

TEST_F(BlockList, NumbersThatAreNotDigitsAreRefused) {
    auto list = open();
    EXPECT_EQ(list->add("", [](std::string) {}), block_list::change::invalid);
    EXPECT_EQ(list->add("62812abc", [](std::string) {}), block_list::change::invalid);
    EXPECT_EQ(list->add(std::string(21, '1'), [](std::string) {}), block_list::change::invalid);
}

TEST_F(BlockList, UnwritableJournalIsReportedAndTheNextChangeRetries) {
    auto list = open();
    std::filesystem::create_directory(dir / "blocklist.journal");  // cannot be opened for append
    std::string err = "<not called>";
    list->add("628126666666", [&](std::string e) { err = std::move(e); });
    loop.drain();
    EXPECT_NE(err.find("blocklist.journal"), std::string::npos) << err;
    std::filesystem::remove(dir / "blocklist.journal");
    EXPECT_EQ(change(*list, "628127777777", true), "");
}

}  // namespace
}  // namespace otppi
