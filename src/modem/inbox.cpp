#include "otppi/modem/inbox.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <utility>

#include "otppi/core/files.hpp"
#include "otppi/core/json.hpp"

namespace otppi::modem {

using json = nlohmann::json;

namespace detail {

std::uint64_t fnv1a64(std::string_view data, std::uint64_t seed) noexcept {
    std::uint64_t h = seed;
    for (char c : data) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::string file_safe_id(std::string_view id) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    for (char ch : id) {
        auto c = static_cast<unsigned char>(ch);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(digits[c >> 4]);
            out.push_back(digits[c & 0xF]);
        }
    }
    if (out.empty()) out = "_";
    return out;
}

}  // namespace detail

namespace {

std::uint64_t fingerprint(const inbox_part& p) {
    std::string key = p.from;
    key.push_back('\0');
    key += std::to_string(p.sc_timestamp_unix);
    key.push_back('\0');
    if (p.concat) {
        key += std::to_string(p.concat->ref) + '/' + std::to_string(p.concat->total) + '/' + std::to_string(p.concat->seq) +
               (p.concat->ref16 ? "w" : "n");
    }
    key.push_back('\0');
    key += p.text;
    return detail::fnv1a64(key);
}

json to_json(const incoming_sms& m) {
    return json{{"id", m.id},     {"modem_id", m.modem_id},           {"from", m.from},
                {"text", m.text}, {"received_unix", m.received_unix}, {"parts", m.parts},
                {"read", m.read}, {"complete", m.complete},           {"sc_timestamp_unix", m.sc_timestamp_unix}};
}

incoming_sms message_from_json(const json& j) {
    incoming_sms m;
    m.id = j.at("id").get<std::string>();
    m.modem_id = j.value("modem_id", std::string{});
    m.from = j.value("from", std::string{});
    m.text = j.value("text", std::string{});
    m.received_unix = j.value("received_unix", std::int64_t{0});
    m.parts = j.value("parts", 1);
    m.read = j.value("read", false);
    m.complete = j.value("complete", true);
    m.sc_timestamp_unix = j.value("sc_timestamp_unix", std::int64_t{0});
    return m;
}

}  // namespace

inbox::inbox(inbox_options options) : options_(std::move(options)) {
    if (options_.capacity == 0) options_.capacity = 1;
    if (options_.max_pending_groups == 0) options_.max_pending_groups = 1;
}

std::string inbox::load() {
    messages_.clear();
    groups_.clear();
    fingerprints_.clear();
    next_seq_ = 1;
    if (options_.path.empty()) return {};
    std::error_code fec;
    if (!std::filesystem::exists(options_.path, fec)) return {};
    std::string err;
    auto text = core::read_file(options_.path, &err);
    if (!text) return err;
    auto set_aside = [this](const std::string& why) {
        // Keep the evidence; the next write would otherwise replace it.
        std::string aside = options_.path + ".corrupt";
        std::rename(options_.path.c_str(), aside.c_str());
        messages_.clear();
        groups_.clear();
        fingerprints_.clear();
        next_seq_ = 1;
        return options_.path + ": " + why + " (moved to " + aside + ")";
    };
    auto parsed = core::parse_json_limited(*text);
    if (!parsed.ok()) return set_aside(parsed.error->summary());
    json& doc = parsed.value;
    if (!doc.is_object()) return set_aside("not a JSON object");
    try {
        next_seq_ = doc.value("next_seq", std::uint64_t{1});
        for (const auto& j : doc.value("messages", json::array())) messages_.push_back(message_from_json(j));
        for (const auto& j : doc.value("pending", json::array())) {
            group_key k;
            k.from = j.at("from").get<std::string>();
            k.ref = j.at("ref").get<std::uint16_t>();
            k.total = j.at("total").get<std::uint8_t>();
            k.ref16 = j.value("ref16", false);
            group g;
            g.first_unix = j.value("first_unix", std::int64_t{0});
            g.sc_timestamp_unix = j.value("sc_timestamp_unix", std::int64_t{0});
            for (const auto& p : j.at("parts")) g.texts[p.at("seq").get<int>()] = p.at("text").get<std::string>();
            groups_[k] = std::move(g);
        }
        for (const auto& f : doc.value("fingerprints", json::array())) fingerprints_.push_back(f.get<std::uint64_t>());
    } catch (const json::exception& e) {
        return set_aside(std::string("unreadable: ") + e.what());
    }
    std::stable_sort(messages_.begin(), messages_.end(),
                     [](const incoming_sms& a, const incoming_sms& b) { return a.received_unix < b.received_unix; });
    while (messages_.size() > options_.capacity) messages_.pop_front();
    return {};
}

std::string inbox::persist() {
    if (options_.path.empty()) return {};
    json doc;
    doc["version"] = 1;
    doc["modem_id"] = options_.modem_id;
    doc["next_seq"] = next_seq_;
    json msgs = json::array();
    for (const auto& m : messages_) msgs.push_back(to_json(m));
    doc["messages"] = std::move(msgs);
    json pending = json::array();
    for (const auto& [k, g] : groups_) {
        json parts = json::array();
        for (const auto& [seq, text] : g.texts) parts.push_back(json{{"seq", seq}, {"text", text}});
        pending.push_back(json{{"from", k.from},
                               {"ref", k.ref},
                               {"total", k.total},
                               {"ref16", k.ref16},
                               {"first_unix", g.first_unix},
                               {"sc_timestamp_unix", g.sc_timestamp_unix},
                               {"parts", std::move(parts)}});
    }
    doc["pending"] = std::move(pending);
    doc["fingerprints"] = json(std::vector<std::uint64_t>(fingerprints_.begin(), fingerprints_.end()));
    // Decoded text is valid UTF-8, but a replacement beats an exception here.
    std::string data = doc.dump(1, ' ', false, json::error_handler_t::replace);
    std::filesystem::path dir = std::filesystem::path(options_.path).parent_path();
    if (!dir.empty()) {
        if (auto e = core::ensure_directory(dir.string(), 0700); !e.empty()) return last_error_ = e;
    }
    last_error_ = core::atomic_write_file(options_.path, data, 0600);
    return last_error_;
}

std::string inbox::new_id(std::int64_t now_unix) {
    return detail::file_safe_id(options_.modem_id) + "-" + std::to_string(now_unix) + "-" + std::to_string(next_seq_++);
}

void inbox::push_message(incoming_sms m) {
    messages_.push_back(std::move(m));
    while (messages_.size() > options_.capacity) messages_.pop_front();
}

incoming_sms inbox::assemble(const group_key& key, const group& g, bool complete) {
    incoming_sms m;
    m.modem_id = options_.modem_id;
    m.from = key.from;
    m.received_unix = g.first_unix;
    m.sc_timestamp_unix = g.sc_timestamp_unix;
    m.complete = complete;
    m.parts = static_cast<int>(g.texts.size());
    for (int seq = 1; seq <= key.total; ++seq) {
        auto it = g.texts.find(seq);
        if (it != g.texts.end())
            m.text += it->second;
        else
            m.text += "[...]";
    }
    m.id = new_id(g.first_unix);
    return m;
}

inbox::add_result inbox::add(inbox_part part) {
    add_result res;
    const std::uint64_t fp = fingerprint(part);
    if (std::find(fingerprints_.begin(), fingerprints_.end(), fp) != fingerprints_.end()) {
        res.duplicate = true;
        return res;
    }
    fingerprints_.push_back(fp);
    while (fingerprints_.size() > options_.fingerprints_kept) fingerprints_.pop_front();

    if (!part.concat || part.concat->total <= 1) {
        incoming_sms m;
        m.id = new_id(part.received_unix);
        m.modem_id = options_.modem_id;
        m.from = std::move(part.from);
        m.text = std::move(part.text);
        m.received_unix = part.received_unix;
        m.sc_timestamp_unix = part.sc_timestamp_unix;
        push_message(m);
        res.message = std::move(m);
    } else {
        group_key key{part.from, part.concat->ref, part.concat->total, part.concat->ref16};
        auto it = groups_.find(key);
        if (it == groups_.end()) {
            // Make room by storing the group that has waited longest.
            while (groups_.size() >= options_.max_pending_groups) {
                auto oldest = std::min_element(groups_.begin(), groups_.end(),
                                               [](const auto& a, const auto& b) { return a.second.first_unix < b.second.first_unix; });
                auto m = assemble(oldest->first, oldest->second, false);
                push_message(m);
                res.flushed.push_back(std::move(m));
                groups_.erase(oldest);
            }
            group g;
            g.first_unix = part.received_unix;
            g.sc_timestamp_unix = part.sc_timestamp_unix;
            it = groups_.emplace(key, std::move(g)).first;
        }
        it->second.texts[part.concat->seq] = std::move(part.text);
        if (it->second.sc_timestamp_unix == 0) it->second.sc_timestamp_unix = part.sc_timestamp_unix;
        if (it->second.texts.size() >= key.total) {
            auto m = assemble(it->first, it->second, true);
            groups_.erase(it);
            push_message(m);
            res.message = std::move(m);
        }
    }
    res.error = persist();
    return res;
}

std::vector<incoming_sms> inbox::expire(std::int64_t now_unix) {
    std::vector<incoming_sms> out;
    const auto timeout = options_.reassembly_timeout.count();
    for (auto it = groups_.begin(); it != groups_.end();) {
        if (it->second.first_unix + timeout <= now_unix) {
            auto m = assemble(it->first, it->second, false);
            push_message(m);
            out.push_back(std::move(m));
            it = groups_.erase(it);
        } else {
            ++it;
        }
    }
    if (!out.empty()) persist();
    return out;
}

std::optional<std::int64_t> inbox::next_expiry() const {
    std::optional<std::int64_t> best;
    for (const auto& [k, g] : groups_) {
        const std::int64_t at = g.first_unix + options_.reassembly_timeout.count();
        if (!best || at < *best) best = at;
    }
    return best;
}

std::vector<incoming_sms> inbox::list() const { return {messages_.rbegin(), messages_.rend()}; }

std::optional<incoming_sms> inbox::get(const std::string& id) const {
    for (const auto& m : messages_)
        if (m.id == id) return m;
    return std::nullopt;
}

bool inbox::remove(const std::string& id) {
    auto it = std::find_if(messages_.begin(), messages_.end(), [&](const incoming_sms& m) { return m.id == id; });
    if (it == messages_.end()) return false;
    messages_.erase(it);
    persist();
    return true;
}

bool inbox::mark_read(const std::string& id, bool read) {
    for (auto& m : messages_) {
        if (m.id != id) continue;
        if (m.read != read) {
            m.read = read;
            persist();
        }
        return true;
    }
    return false;
}

}  // namespace otppi::modem
