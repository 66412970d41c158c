// Records of sent SMS parts and the delivery reports (+CDS / +CDSI) matched
// to them, persisted in state_dir.
//
// Contract
// - One record per accepted part: (modem id, TP-MR from +CMGS, the receiver
//   masked as in the SMS log ("62812****666", core::mask_msisdn), part i of n,
//   time). Never the full number, never the message text: the records are
//   kept for days on disk and the full number is not needed to match reports.
// - apply_report() matches a status report to a record of that modem with the
//   same TP-MR. TP-MR is one octet and wraps every 256 sends, so among the
//   records with that MR it prefers, newest first: one whose receiver matches
//   the report's recipient (compared on the digits the mask leaves at the
//   end, as the network may give the national form) and that has no final
//   state yet; then any
//   with a matching receiver; then the newest without a final state. The
//   record keeps the last report (state delivered | pending | failed, TP-ST
//   and time); "sent" means no report came yet.
// - Bounded: the newest `capacity` records are kept, and none older than
//   `retention_days` (sms.log_retention_days, the SMS log's retention; 0: no
//   age limit). Aged-out records leave the file at the next compaction, which
//   ageing forces at most once a day. A journal written before masking (full
//   numbers) is masked and rewritten on load.
// - Persistence is an append-only journal of JSON lines (one line per send
//   and per report, a few dozen bytes, no fsync), compacted into a snapshot
//   with core::atomic_write_file when it grows past 1.5 x capacity lines.
//   Appending keeps the per-message cost in microseconds where rewriting
//   10,000 records per send would not. A line torn by a power cut is skipped
//   on load; at worst the last few records are lost, never the file.
// - With an empty path the store lives in memory only.
//
// Thread-safety: none; one store per modem, on the io_context thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otppi/modem/pdu.hpp"

namespace otppi::modem {

// What the pool hears about a delivery report.
struct delivery_report {
    std::string modem_id;
    int message_reference = -1;
    std::string recipient;  // the matched record's (masked) receiver, else the report's digits
    std::string state;      // delivered | pending | failed
    int status = -1;        // TP-ST
    std::int64_t at_unix = 0;
    // --- members beyond the pool's interface
    bool matched = false;  // a sent record was found for it
    int part = 0;          // of the matched record
    int parts = 0;
};

std::string_view to_string(delivery_state s) noexcept;

struct sent_record {
    std::uint64_t seq = 0;  // assigned by the store, increasing
    std::string modem_id;
    int message_reference = -1;
    std::string recipient;  // normalised international digits
    int part = 1;
    int parts = 1;
    std::int64_t sent_unix = 0;
    std::string state = "sent";  // sent | delivered | pending | failed
    int status = -1;
    std::int64_t report_unix = 0;
};

struct report_store_options {
    std::string path;  // journal file; empty: memory only
    std::size_t capacity = 10000;
    int retention_days = 0;  // 0: bounded by capacity only
};

class report_store {
public:
    explicit report_store(report_store_options options);
    ~report_store();
    report_store(const report_store&) = delete;
    report_store& operator=(const report_store&) = delete;

    // Replays the journal. Empty string on success (a missing file is an
    // empty store); unreadable lines are skipped and counted in the message.
    // `now_unix` (0: not known) drops records past the retention.
    std::string load(std::int64_t now_unix = 0);

    // Returns the record's seq. A failed append is kept in last_error().
    std::uint64_t record_sent(sent_record r);
    // nullopt when no record of that modem has this TP-MR.
    std::optional<sent_record> apply_report(std::string_view modem_id, int message_reference, std::string_view recipient, int status,
                                            std::int64_t at_unix);

    std::optional<sent_record> find(std::string_view modem_id, int message_reference) const;  // newest
    std::vector<sent_record> recent(std::size_t n) const;                                     // newest first
    std::size_t size() const noexcept { return records_.size(); }
    const std::string& last_error() const noexcept { return last_error_; }
    std::size_t journal_lines() const noexcept { return journal_lines_; }

private:
    sent_record* by_seq(std::uint64_t seq);
    void append(const std::string& line);
    void maybe_compact();
    std::string compact();
    void close_journal();
    // Drops records older than the retention; true when any went.
    bool prune(std::int64_t now_unix);

    report_store_options options_;
    std::deque<sent_record> records_;  // by seq, oldest first
    std::uint64_t next_seq_ = 1;
    std::size_t journal_lines_ = 0;
    int fd_ = -1;
    bool need_newline_ = false;
    std::string last_error_;
    std::int64_t last_age_compaction_unix_ = 0;
};

namespace detail {
// Receivers as the network writes them (national "0812...", "+62812...") and
// as we store them ("62812...") are the same subscriber when their last
// `digits` digits agree.
bool same_subscriber(std::string_view a, std::string_view b, std::size_t digits = 9) noexcept;
// A stored, masked receiver ("62812****666") and a number from a report are
// the same subscriber as far as the mask tells: the visible trailing digits agree.
bool same_masked_subscriber(std::string_view masked, std::string_view number) noexcept;
}  // namespace detail

}  // namespace otppi::modem
