#include "otppi/api/block_list.hpp"

#include "otppi/core/files.hpp"
#include "otppi/core/json.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace otppi::api {

namespace {

bool valid_number(std::string_view s) {
    if (s.empty() || s.size() > block_list::max_number_digits) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

std::string errno_text(const std::string& what, const std::string& path) { return what + " " + path + ": " + std::strerror(errno); }

}  // namespace

// The part of the list that queued file jobs share. Everything but the queue
// is touched only on the (single, ordered) file thread.
struct block_list::writer {
    struct op {
        bool snapshot = false;
        std::string line;                  // for a journal line
        std::vector<std::string> numbers;  // for a snapshot
        done_fn done;
    };

    std::string snapshot_path;
    std::string journal_path;
    executor_fn file_io;
    executor_fn post;
    std::mutex mu;
    std::deque<op> queue;  // guarded by mu
    bool scheduled = false;  // guarded by mu: a run() is queued on file_io
    int fd = -1;

    ~writer() {
        if (fd >= 0) ::close(fd);
    }

    void enqueue(const std::shared_ptr<writer>& self, op o) {
        bool start = false;
        {
            std::lock_guard lock(mu);
            queue.push_back(std::move(o));
            start = !scheduled;
            scheduled = true;
        }
        // One job drains everything queued meanwhile: the group commit.
        if (start) file_io([self] { self->run(); });
    }

    std::string open_journal() {
        if (fd >= 0) return {};
        fd = ::open(journal_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0) return errno_text("cannot open", journal_path);
        return {};
    }

    std::string append_and_sync(const std::string& data) {
        if (auto e = open_journal(); !e.empty()) return e;
        struct stat st{};
        const bool sized = ::fstat(fd, &st) == 0;
        std::size_t done = 0;
        while (done < data.size()) {
            ssize_t n = ::write(fd, data.data() + done, data.size() - done);
            if (n < 0) {
                if (errno == EINTR) continue;
                auto msg = errno_text("cannot append to", journal_path);
                // Cut a partial line off so the next append starts clean.
                if (sized && ::ftruncate(fd, st.st_size) != 0) {
                    ::close(fd);
                    fd = -1;
                }
                return msg;
            }
            done += static_cast<std::size_t>(n);
        }
        if (::fdatasync(fd) != 0) return errno_text("cannot sync", journal_path);
        return {};
    }

    std::string write_snapshot(const std::vector<std::string>& numbers) {
        auto text = serialize_snapshot(numbers);
        if (text.size() > max_snapshot_bytes) return snapshot_path + ": snapshot would exceed the loader's limit; not written";
        if (auto e = core::atomic_write_file(snapshot_path, text, 0640); !e.empty()) return e;
        // The snapshot holds every change journalled so far (appends queued
        // after this op have not been written yet), so the journal restarts empty.
        if (auto e = open_journal(); !e.empty()) return e;
        if (::ftruncate(fd, 0) != 0 || ::fdatasync(fd) != 0) return errno_text("cannot truncate", journal_path);
        return {};
    }

    void run() {
        std::deque<op> batch;
        {
            std::lock_guard lock(mu);
            batch.swap(queue);
            scheduled = false;
        }
        std::string pending;
        std::vector<done_fn> waiting;
        auto flush = [&] {
            if (waiting.empty()) return;
            auto err = append_and_sync(pending);
            pending.clear();
            for (auto& w : waiting) post([w = std::move(w), err] { w(err); });
            waiting.clear();
        };
        for (auto& o : batch) {
            if (!o.snapshot) {
                pending += o.line;
                waiting.push_back(std::move(o.done));
                continue;
            }
            flush();
            auto err = write_snapshot(o.numbers);
            post([done = std::move(o.done), err] { done(err); });
        }
        flush();
    }
};

block_list::block_list(std::string dir, executor_fn file_io, executor_fn post, std::size_t max_entries)
    : dir_(std::move(dir)), file_io_(std::move(file_io)), post_(std::move(post)), max_entries_(max_entries) {
    if (!dir_.empty()) {
        writer_ = std::make_shared<writer>();
        writer_->snapshot_path = snapshot_path();
        writer_->journal_path = journal_path();
        writer_->file_io = file_io_;
        writer_->post = post_;
    }
}

block_list::~block_list() = default;

std::string block_list::snapshot_path() const { return dir_ + "/blocklist.json"; }
std::string block_list::journal_path() const { return dir_ + "/blocklist.journal"; }

std::string block_list::serialize_snapshot(const std::vector<std::string>& numbers) {
    // Written by hand: one short line per entry, the same JSON as before the
    // journal existed, and a size the header's limits can bound exactly.
    std::string out;
    out.reserve(16 + numbers.size() * snapshot_entry_bytes);
    out += "{\"blocked\": [";
    for (std::size_t i = 0; i < numbers.size(); ++i) {
        out += "\n \"";
        out += numbers[i];
        out += i + 1 < numbers.size() ? "\"," : "\"";
    }
    out += "\n]}\n";
    return out;
}

namespace {

// Reads {"blocked": ["digits", ...]} straight into the set: no DOM of a
// million strings, and no recursion whatever the file holds.
struct snapshot_reader : nlohmann::json_sax<nlohmann::json> {
    static constexpr const char* shape = "expected {\"blocked\": [numbers]}";
    std::set<std::string>& out;
    std::string error;
    int depth = 0;
    bool in_blocked = false;  // inside the top-level "blocked" array
    bool seen_blocked = false;
    std::string last_key;
    std::size_t count = 0;

    explicit snapshot_reader(std::set<std::string>& o) : out(o) {}

    bool fail(std::string e) {
        if (error.empty()) error = std::move(e);
        return false;
    }
    bool scalar() { return in_blocked ? fail("blocked entries must be strings") : true; }
    bool null() override { return scalar(); }
    bool boolean(bool) override { return scalar(); }
    bool number_integer(number_integer_t) override { return scalar(); }
    bool number_unsigned(number_unsigned_t) override { return scalar(); }
    bool number_float(number_float_t, const string_t&) override { return scalar(); }
    bool binary(binary_t&) override { return scalar(); }
    bool string(string_t& v) override {
        if (!in_blocked) return true;
        if (++count > block_list::hard_max_entries) return fail("more than " + std::to_string(block_list::hard_max_entries) + " entries");
        std::string s = v;
        // A hand-edited "+62..." is the same number.
        if (!s.empty() && s.front() == '+') s.erase(0, 1);
        if (!valid_number(s)) return fail("'" + v.substr(0, 40) + "' is not 1 to " + std::to_string(block_list::max_number_digits) + " digits");
        out.insert(std::move(s));
        return true;
    }
    bool start_object(std::size_t) override {
        if (in_blocked) return fail("blocked entries must be strings");
        return ++depth <= 8 || fail("nested too deeply");
    }
    bool key(string_t& k) override {
        last_key = k;
        return true;
    }
    bool end_object() override {
        --depth;
        return true;
    }
    bool start_array(std::size_t) override {
        if (in_blocked) return fail("blocked entries must be strings");
        if (depth == 0) return fail(shape);
        if (depth == 1 && last_key == "blocked") {
            in_blocked = seen_blocked = true;
            return true;
        }
        return ++depth <= 8 || fail("nested too deeply");
    }
    bool end_array() override {
        if (in_blocked) {
            in_blocked = false;
            return true;
        }
        --depth;
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return fail(shape); }
};

}  // namespace

std::string block_list::parse_snapshot(std::string_view text, std::set<std::string>& out) {
    std::set<std::string> got;
    snapshot_reader reader(got);
    const bool ok = nlohmann::json::sax_parse(text, &reader, nlohmann::json::input_format_t::json, true);
    if (!reader.error.empty()) return reader.error;
    if (!ok || !reader.seen_blocked) return snapshot_reader::shape;
    out.merge(got);
    return {};
}

std::size_t block_list::replay_journal(std::string_view text, std::set<std::string>& out, std::size_t& bad) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto end = text.find('\n', pos);
        if (end == std::string_view::npos) break;  // torn last line: not part of the journal
        auto line = text.substr(pos, end - pos);
        pos = end + 1;
        if (line.empty()) continue;
        const auto number = line.substr(1);
        if ((line.front() != '+' && line.front() != '-') || !valid_number(number)) {
            ++bad;
            continue;
        }
        if (line.front() == '+')
            out.emplace(number);
        else
            out.erase(std::string(number));
    }
    return pos;
}

std::string block_list::load() {
    numbers_.clear();
    journal_lines_ = 0;
    snapshot_entries_ = 0;
    if (dir_.empty()) return {};
    std::error_code ec;
    const auto snap = snapshot_path();
    if (std::filesystem::exists(snap, ec)) {
        std::string err;
        auto text = core::read_file(snap, &err, max_snapshot_bytes);
        if (!text) return err;
        if (auto e = parse_snapshot(*text, numbers_); !e.empty()) return snap + ": " + e;
        snapshot_entries_ = numbers_.size();
    }
    const auto jpath = journal_path();
    if (std::filesystem::exists(jpath, ec)) {
        std::string err;
        auto text = core::read_file(jpath, &err, max_journal_bytes);
        if (!text) return err;
        std::size_t bad = 0;
        const auto whole = replay_journal(*text, numbers_, bad);
        // A line that is not ours is not a torn write: refuse, as for a bad snapshot.
        if (bad) return jpath + ": " + std::to_string(bad) + " line(s) are neither +digits nor -digits";
        if (whole < text->size()) {
            // Cut the torn tail so the next append starts on a line of its own.
            if (::truncate(jpath.c_str(), static_cast<off_t>(whole)) != 0) return errno_text("cannot cut the torn last line of", jpath);
        }
        for (std::size_t i = 0; i < whole; ++i) journal_lines_ += (*text)[i] == '\n' ? 1 : 0;
    }
    maybe_compact();
    return {};
}

block_list::change block_list::add(const std::string& msisdn, done_fn done) {
    if (!valid_number(msisdn)) return change::invalid;
    if (numbers_.count(msisdn)) return change::unchanged;
    if (numbers_.size() >= max_entries_) return change::full;
    if (journal_lines_ >= max_journal_lines) return change::full;
    numbers_.insert(msisdn);
    journal('+', msisdn, std::move(done));
    return change::applied;
}

block_list::change block_list::remove(const std::string& msisdn, done_fn done) {
    if (!valid_number(msisdn)) return change::invalid;
    if (!numbers_.count(msisdn)) return change::unchanged;
    // A stuck journal refuses removals too: an unblock that cannot be written
    // would be undone by the next start.
    if (journal_lines_ >= max_journal_lines) return change::full;
    numbers_.erase(msisdn);
    journal('-', msisdn, std::move(done));
    return change::applied;
}

void block_list::journal(char op, const std::string& msisdn, done_fn done) {
    if (!writer_) {
        post_ ? post_([done = std::move(done)] { done({}); }) : done({});
        return;
    }
    ++journal_lines_;
    writer::op o;
    o.line.reserve(msisdn.size() + 2);
    o.line += op;
    o.line += msisdn;
    o.line += '\n';
    o.done = std::move(done);
    writer_->enqueue(writer_, std::move(o));
    maybe_compact();
}

void block_list::maybe_compact() {
    if (!writer_ || compacting_) return;
    // Compacted once the journal is as long as the snapshot (and not tiny):
    // loading then reads at most about twice the list, and compaction's O(n)
    // copy is paid once per n changes.
    if (journal_lines_ < std::max(compact_min_lines, snapshot_entries_)) return;
    compacting_ = true;
    const std::size_t lines_covered = journal_lines_;
    writer::op o;
    o.snapshot = true;
    // The one O(n) step left on the owner thread: copying short strings, about
    // a millisecond per 100,000 entries, once per that many changes.
    o.numbers.assign(numbers_.begin(), numbers_.end());
    o.done = [this, alive = std::weak_ptr<int>(alive_), lines_covered, entries = o.numbers.size()](std::string err) {
        if (alive.expired()) return;
        compacting_ = false;
        if (!err.empty()) {
            // The journal stays complete; the next change tries again.
            spdlog::warn("block list: compaction failed: {}", err);
            return;
        }
        journal_lines_ = journal_lines_ > lines_covered ? journal_lines_ - lines_covered : 0;
        snapshot_entries_ = entries;
    };
    writer_->enqueue(writer_, std::move(o));
}

}  // namespace otppi::api
