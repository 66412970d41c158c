#include "otppi/modem/reports.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <utility>

#include "otppi/core/files.hpp"
#include "otppi/core/log.hpp"
#include "otppi/core/json.hpp"

namespace otppi::modem {

using json = nlohmann::json;

std::string_view to_string(delivery_state s) noexcept {
    switch (s) {
        case delivery_state::delivered:
            return "delivered";
        case delivery_state::pending:
            return "pending";
        case delivery_state::failed:
            return "failed";
    }
    return "?";
}

namespace detail {
bool same_subscriber(std::string_view a, std::string_view b, std::size_t digits) noexcept {
    auto only_digits = [](std::string_view s) {
        std::string d;
        for (char c : s)
            if (c >= '0' && c <= '9') d.push_back(c);
        return d;
    };
    std::string x = only_digits(a), y = only_digits(b);
    if (x.empty() || y.empty()) return false;
    if (x.size() < digits || y.size() < digits) return x == y;
    return x.compare(x.size() - digits, digits, y, y.size() - digits, digits) == 0;
}

bool same_masked_subscriber(std::string_view masked, std::string_view number) noexcept {
    // The digits after the last '*' are the ones the mask shows at the end.
    const auto star = masked.find_last_of('*');
    const std::string_view tail = star == std::string_view::npos ? masked : masked.substr(star + 1);
    if (tail.empty()) return true;  // a short number masked whole: nothing to compare
    std::string digits;
    for (char c : number)
        if (c >= '0' && c <= '9') digits.push_back(c);
    if (star == std::string_view::npos) return same_subscriber(masked, digits);
    return digits.size() >= tail.size() && digits.compare(digits.size() - tail.size(), tail.size(), tail) == 0;
}
}  // namespace detail

namespace {

bool is_final(const sent_record& r) { return r.state == "delivered" || r.state == "failed"; }

bool is_masked(std::string_view receiver) { return receiver.find('*') != std::string_view::npos || receiver.size() <= 6; }

json record_line(const sent_record& r) {
    return json{{"k", "s"},          {"q", r.seq},    {"m", r.modem_id},    {"r", r.message_reference},
                {"to", r.recipient}, {"p", r.part},   {"n", r.parts},       {"t", r.sent_unix},
                {"st", r.state},     {"s", r.status}, {"rt", r.report_unix}};
}

}  // namespace

report_store::report_store(report_store_options options) : options_(std::move(options)) {
    if (options_.capacity == 0) options_.capacity = 1;
}

report_store::~report_store() { close_journal(); }

void report_store::close_journal() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

sent_record* report_store::by_seq(std::uint64_t seq) {
    auto it = std::lower_bound(records_.begin(), records_.end(), seq, [](const sent_record& r, std::uint64_t s) { return r.seq < s; });
    if (it == records_.end() || it->seq != seq) return nullptr;
    return &*it;
}

bool report_store::prune(std::int64_t now_unix) {
    if (options_.retention_days <= 0 || now_unix <= 0) return false;
    const std::int64_t oldest_kept = now_unix - static_cast<std::int64_t>(options_.retention_days) * 86400;
    bool any = false;
    while (!records_.empty() && records_.front().sent_unix < oldest_kept) {
        records_.pop_front();
        any = true;
    }
    return any;
}

std::string report_store::load(std::int64_t now_unix) {
    records_.clear();
    next_seq_ = 1;
    journal_lines_ = 0;
    need_newline_ = false;
    close_journal();
    if (options_.path.empty()) return {};
    std::error_code fec;
    if (!std::filesystem::exists(options_.path, fec)) return {};
    std::string err;
    auto text = core::read_file(options_.path, &err, std::size_t{64} * 1024 * 1024);
    if (!text) return err;
    // A line torn by a power cut has no newline: the next append starts a new line.
    need_newline_ = !text->empty() && text->back() != '\n';
    std::size_t bad = 0;
    bool unmasked = false;
    std::size_t pos = 0;
    while (pos < text->size()) {
        std::size_t end = text->find('\n', pos);
        if (end == std::string::npos) end = text->size();
        std::string_view line(text->data() + pos, end - pos);
        pos = end + 1;
        if (line.empty()) continue;
        ++journal_lines_;
        json j = core::parse_json_limited(line).value;  // discarded on any error, too deep included
        if (j.is_discarded() || !j.is_object()) {
            ++bad;
            continue;
        }
        try {
            const std::string kind = j.at("k").get<std::string>();
            const auto seq = j.at("q").get<std::uint64_t>();
            if (kind == "s") {
                sent_record r;
                r.seq = seq;
                r.modem_id = j.at("m").get<std::string>();
                r.message_reference = j.at("r").get<int>();
                r.recipient = j.value("to", std::string{});
                if (!is_masked(r.recipient)) {
                    // Written before receivers were masked: mask now, rewrite below.
                    r.recipient = core::mask_msisdn(r.recipient);
                    unmasked = true;
                }
                r.part = j.value("p", 1);
                r.parts = j.value("n", 1);
                r.sent_unix = j.value("t", std::int64_t{0});
                r.state = j.value("st", std::string("sent"));
                r.status = j.value("s", -1);
                r.report_unix = j.value("rt", std::int64_t{0});
                if (!records_.empty() && records_.back().seq >= seq) {
                    ++bad;  // out of order: not written by us
                    continue;
                }
                records_.push_back(std::move(r));
                next_seq_ = seq + 1;
                while (records_.size() > options_.capacity) records_.pop_front();
            } else if (kind == "d") {
                if (auto* r = by_seq(seq)) {
                    r->state = j.value("st", std::string("pending"));
                    r->status = j.value("s", -1);
                    r->report_unix = j.value("rt", std::int64_t{0});
                }
            } else {
                ++bad;
            }
        } catch (const json::exception&) {
            ++bad;
        }
    }
    const bool aged = prune(now_unix);
    if (unmasked || aged) {
        // Full numbers or records past the retention must leave the disk now,
        // not at the next size-triggered compaction.
        if (auto e = compact(); !e.empty()) last_error_ = e;
        last_age_compaction_unix_ = now_unix;
    } else {
        maybe_compact();
    }
    if (bad) return options_.path + ": skipped " + std::to_string(bad) + " unreadable line(s)";
    return {};
}

void report_store::append(const std::string& line) {
    if (options_.path.empty()) return;
    if (fd_ < 0) {
        std::filesystem::path dir = std::filesystem::path(options_.path).parent_path();
        if (!dir.empty()) {
            if (auto e = core::ensure_directory(dir.string(), 0700); !e.empty()) {
                last_error_ = e;
                return;
            }
        }
        fd_ = ::open(options_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd_ < 0) {
            last_error_ = "cannot open " + options_.path + ": " + std::strerror(errno);
            return;
        }
    }
    std::string data;
    data.reserve(line.size() + 2);
    if (need_newline_) data.push_back('\n');
    data += line;
    data.push_back('\n');
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            last_error_ = "cannot append to " + options_.path + ": " + std::strerror(errno);
            close_journal();
            return;
        }
        done += static_cast<std::size_t>(n);
    }
    ++journal_lines_;
    need_newline_ = false;
    last_error_.clear();
    maybe_compact();
}

void report_store::maybe_compact() {
    if (options_.path.empty()) return;
    const std::size_t limit = options_.capacity + options_.capacity / 2 + 16;
    if (journal_lines_ > limit) {
        if (auto e = compact(); !e.empty()) last_error_ = e;
    }
}

std::string report_store::compact() {
    std::string data;
    data.reserve(records_.size() * 120);
    for (const auto& r : records_) {
        data += record_line(r).dump(-1, ' ', false, json::error_handler_t::replace);
        data.push_back('\n');
    }
    close_journal();
    std::filesystem::path dir = std::filesystem::path(options_.path).parent_path();
    if (!dir.empty()) {
        if (auto e = core::ensure_directory(dir.string(), 0700); !e.empty()) return e;
    }
    if (auto e = core::atomic_write_file(options_.path, data, 0600); !e.empty()) return e;
    journal_lines_ = records_.size();
    need_newline_ = false;
    return {};
}

std::uint64_t report_store::record_sent(sent_record r) {
    r.seq = next_seq_++;
    if (r.state.empty()) r.state = "sent";
    r.recipient = core::mask_msisdn(r.recipient);
    records_.push_back(r);
    while (records_.size() > options_.capacity) records_.pop_front();
    append(record_line(r).dump(-1, ' ', false, json::error_handler_t::replace));
    // Ageing rewrites the file at most once a day, however many records expire.
    if (prune(r.sent_unix) && r.sent_unix - last_age_compaction_unix_ >= 86400 && !options_.path.empty()) {
        if (auto e = compact(); !e.empty()) last_error_ = e;
        last_age_compaction_unix_ = r.sent_unix;
    }
    return r.seq;
}

std::optional<sent_record> report_store::apply_report(std::string_view modem_id, int message_reference, std::string_view recipient,
                                                      int status, std::int64_t at_unix) {
    sent_record* best = nullptr;
    int best_rank = 0;
    for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
        if (it->message_reference != message_reference || it->modem_id != modem_id) continue;
        const bool same = recipient.empty() || detail::same_masked_subscriber(it->recipient, recipient);
        const bool open = !is_final(*it);
        const int rank = same && open ? 4 : same ? 3 : open ? 2 : 1;
        if (rank > best_rank) {
            best = &*it;
            best_rank = rank;
            if (rank == 4) break;
        }
    }
    if (!best) return std::nullopt;
    best->state = std::string(to_string(classify_status(static_cast<std::uint8_t>(status & 0xFF))));
    best->status = status;
    best->report_unix = at_unix;
    append(json{{"k", "d"}, {"q", best->seq}, {"st", best->state}, {"s", status}, {"rt", at_unix}}.dump());
    return *best;
}

std::optional<sent_record> report_store::find(std::string_view modem_id, int message_reference) const {
    for (auto it = records_.rbegin(); it != records_.rend(); ++it)
        if (it->message_reference == message_reference && it->modem_id == modem_id) return *it;
    return std::nullopt;
}

std::vector<sent_record> report_store::recent(std::size_t n) const {
    std::vector<sent_record> out;
    for (auto it = records_.rbegin(); it != records_.rend() && out.size() < n; ++it) out.push_back(*it);
    return out;
}

}  // namespace otppi::modem
