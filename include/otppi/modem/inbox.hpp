// The store of incoming SMS of one modem: a JSON file in state_dir that
// survives restarts, with the reassembly of concatenated messages.
//
// Contract
// - add() takes one received part (decoded from a +CMGR/+CMGL/+CMT PDU).
//   A single-part message is stored at once; parts of a concatenated message
//   wait, keyed by (originator, reference, total, 8/16-bit reference), until
//   all arrived, and are then stored as one message in sequence order.
//   Waiting parts are persisted too: the modem deletes each part from the SIM
//   once add() said it is on disk, so a restart between parts loses nothing.
// - A group that stays incomplete for `reassembly_timeout` is stored by
//   expire() as it is, marked complete=false, with "[...]" where parts are
//   missing. The owner arms a timer from next_expiry(); nothing here polls.
// - The same part added twice (a crash between "stored" and "deleted from the
//   SIM" makes the modem read it again) is recognised by a fingerprint of its
//   originator, timestamp, concatenation fields and text, and ignored.
// - Every change is written with core::atomic_write_file (mode 0600: message
//   text is personal data). A failed write is reported in the result and the
//   change is kept in memory: the caller must then leave the message on the
//   SIM. With an empty path the inbox lives in memory only.
// - Bounded: at most `capacity` messages (the oldest go first) and
//   `max_pending_groups` incomplete groups (the oldest is stored incomplete).
// - Writes happen on the caller's thread: they are rare (one per incoming
//   part) and small. Files that cannot be parsed are moved aside
//   ("<path>.corrupt") by load() rather than overwritten.
//
// Thread-safety: none; one inbox per modem, used on the io_context thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "otppi/modem/pdu.hpp"

namespace otppi::modem {

struct incoming_sms {
    std::string id;
    std::string modem_id;
    std::string from;  // "+<digits>" for international originators, else as sent (alphanumeric names too)
    std::string text;  // UTF-8 (upper-case hex for 8-bit data)
    std::int64_t received_unix = 0;
    int parts = 1;  // parts received
    // --- members beyond the pool's interface
    bool read = false;
    bool complete = true;                // false: stored by the reassembly timeout with parts missing
    std::int64_t sc_timestamp_unix = 0;  // service-centre time stamp, 0 when absent
};

struct inbox_part {
    std::string from;
    std::string text;
    std::int64_t received_unix = 0;
    std::int64_t sc_timestamp_unix = 0;
    std::optional<concat_info> concat;
};

struct inbox_options {
    std::string path;  // JSON file; empty: memory only
    std::string modem_id;
    std::size_t capacity = 1000;
    std::chrono::seconds reassembly_timeout{std::chrono::minutes(30)};
    std::size_t max_pending_groups = 64;
    std::size_t fingerprints_kept = 512;
};

class inbox {
public:
    explicit inbox(inbox_options options);

    // Reads the file. Empty string on success (a missing file is an empty
    // inbox), else what went wrong; the inbox is then empty.
    std::string load();

    struct add_result {
        std::optional<incoming_sms> message;  // the message completed by this part
        bool duplicate = false;               // seen before: nothing changed
        // Older incomplete groups stored to make room (max_pending_groups).
        std::vector<incoming_sms> flushed;
        std::string error;  // persisting failed: keep the part on the SIM
        bool stored() const noexcept { return error.empty(); }
    };
    add_result add(inbox_part part);

    // Stores the groups whose first part is older than the timeout.
    std::vector<incoming_sms> expire(std::int64_t now_unix);
    // When the oldest waiting group times out (unix seconds), if any waits.
    std::optional<std::int64_t> next_expiry() const;

    // Newest first.
    std::vector<incoming_sms> list() const;
    std::optional<incoming_sms> get(const std::string& id) const;
    bool remove(const std::string& id);
    bool mark_read(const std::string& id, bool read = true);

    std::size_t size() const noexcept { return messages_.size(); }
    std::size_t pending_groups() const noexcept { return groups_.size(); }
    // The error of the last failed write, empty when the file is current.
    const std::string& last_error() const noexcept { return last_error_; }

private:
    struct group_key {
        std::string from;
        std::uint16_t ref = 0;
        std::uint8_t total = 0;
        bool ref16 = false;
        friend bool operator<(const group_key& a, const group_key& b) {
            return std::tie(a.from, a.ref, a.total, a.ref16) < std::tie(b.from, b.ref, b.total, b.ref16);
        }
    };
    struct group {
        std::map<int, std::string> texts;  // by seq
        std::int64_t first_unix = 0;
        std::int64_t sc_timestamp_unix = 0;
    };

    incoming_sms assemble(const group_key& key, const group& g, bool complete);
    void push_message(incoming_sms m);
    std::string new_id(std::int64_t now_unix);
    std::string persist();

    inbox_options options_;
    std::deque<incoming_sms> messages_;  // oldest first
    std::map<group_key, group> groups_;
    std::deque<std::uint64_t> fingerprints_;
    std::uint64_t next_seq_ = 1;
    std::string last_error_;
};

namespace detail {
// Stable 64-bit FNV-1a, for fingerprints that are persisted.
std::uint64_t fnv1a64(std::string_view data, std::uint64_t seed = 0xcbf29ce484222325ULL) noexcept;
// A modem id as a file-name component: [A-Za-z0-9_-] kept, others %XX.
std::string file_safe_id(std::string_view id);
}  // namespace detail

}  // namespace otppi::modem
