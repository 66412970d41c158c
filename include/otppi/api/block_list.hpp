// Receivers that must never get anything from us. Numbers are stored
// normalised (international digits), so "08126666666" and "+628126666666" are
// the same entry.
//
// Persistence (in the directory given to the constructor, state_dir):
// - blocklist.json    snapshot, {"blocked": [numbers]}, replaced atomically;
// - blocklist.journal one line per change since the snapshot: "+<digits>" or
//                     "-<digits>", appended and fdatasync'ed.
// Loading reads the snapshot, then replays the journal; a last line without
// its newline (torn by a power cut) is dropped and cut off the file. Each change
// costs one short append, not a rewrite of the whole list: at 100,000 entries a
// rewrite was tens of milliseconds of the event loop per change.
//
// Writes run on the caller's ordered file executor; `done` is posted back on the
// owner thread once the line is durable (fdatasync). Changes queued while a
// write is in flight are written and synced together (group commit), so a burst
// costs one sync, and nobody is answered before their change is on disk.
// When the journal holds as many lines as the snapshot has entries (and at least
// compact_min_lines), the snapshot is rewritten from a copy of the list on the
// file thread and the journal truncated, in order with the appends.
//
// Limits: at most max_entries numbers (refused with change::full beyond it); the
// loader's size limits are derived from hard_max_entries, and the writer never
// produces a snapshot or journal larger than those, so what is written can always
// be read back.
//
// Thread-safety: the object lives on the owner (io_context) thread; only the
// writer state it shares with queued file jobs is locked.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace otppi::api {

class block_list {
public:
    using executor_fn = std::function<void(std::function<void()>)>;
    // Empty error: the change is durable.
    using done_fn = std::function<void(std::string error)>;

    // The schema's upper bound for api.block_list_max_entries.
    static constexpr std::size_t hard_max_entries = 1'000'000;
    static constexpr std::size_t max_number_digits = 20;
    // A snapshot entry is at most `  "<20 digits>",\n`; a journal line `+<20 digits>\n`.
    static constexpr std::size_t snapshot_entry_bytes = max_number_digits + 5;
    static constexpr std::size_t journal_line_bytes = max_number_digits + 2;
    static constexpr std::size_t max_snapshot_bytes = hard_max_entries * snapshot_entry_bytes + 64;
    // Compaction keeps the journal near the snapshot's size; a journal this
    // long means compaction keeps failing, and further changes are refused
    // rather than written past what the loader accepts.
    static constexpr std::size_t max_journal_lines = 4 * hard_max_entries;
    static constexpr std::size_t max_journal_bytes = max_journal_lines * journal_line_bytes;
    static constexpr std::size_t compact_min_lines = 4096;

    // invalid: not 1..max_number_digits digits (callers normalise first).
    enum class change { applied, unchanged, full, invalid };

    // `dir` empty: memory only (done is still posted). Executors may be empty
    // in that case.
    block_list(std::string dir, executor_fn file_io, executor_fn post, std::size_t max_entries = 100'000);
    ~block_list();
    block_list(const block_list&) = delete;
    block_list& operator=(const block_list&) = delete;

    // Start-up only, on the owner thread before any change: snapshot + journal.
    // A missing file is an empty list. Empty string on success.
    std::string load();

    bool contains(const std::string& msisdn) const { return numbers_.count(msisdn) > 0; }
    // `done` runs (posted) only for change::applied.
    change add(const std::string& msisdn, done_fn done);
    change remove(const std::string& msisdn, done_fn done);
    const std::set<std::string>& numbers() const { return numbers_; }
    std::size_t size() const { return numbers_.size(); }
    std::size_t max_entries() const { return max_entries_; }
    void set_max_entries(std::size_t n) { max_entries_ = n; }

    std::string snapshot_path() const;
    std::string journal_path() const;
    std::size_t journal_lines() const { return journal_lines_; }
    bool compacting() const { return compacting_; }

    // Pure helpers, also used by the tests at the size boundary.
    static std::string serialize_snapshot(const std::vector<std::string>& numbers);
    // Parses a snapshot document into `out`. Empty string on success.
    static std::string parse_snapshot(std::string_view text, std::set<std::string>& out);
    // Applies journal text to `out`; stops at the first line without its
    // newline and returns the length of the whole lines (the valid prefix).
    // `bad` counts lines that are neither "+digits" nor "-digits".
    static std::size_t replay_journal(std::string_view text, std::set<std::string>& out, std::size_t& bad);

private:
    struct writer;
    void journal(char op, const std::string& msisdn, done_fn done);
    void maybe_compact();

    std::string dir_;
    executor_fn file_io_;
    executor_fn post_;
    std::size_t max_entries_;
    std::set<std::string> numbers_;
    std::shared_ptr<writer> writer_;
    std::size_t journal_lines_ = 0;
    std::size_t snapshot_entries_ = 0;  // entries in the snapshot file on disk
    bool compacting_ = false;
    // Completions posted back after this object is gone check this first.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace otppi::api
