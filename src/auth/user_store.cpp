#include "otppi/auth/user_store.hpp"

#include "otppi/core/files.hpp"
#include "otppi/core/json.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

namespace otppi::auth {

using nlohmann::json;

user_store::user_store(std::string state_dir) : state_dir_(std::move(state_dir)), path_(state_dir_ + "/users.json") {}

std::map<std::string, user_record>& user_store::table(user_kind kind) { return kind == user_kind::api ? api_ : admin_; }
const std::map<std::string, user_record>& user_store::table(user_kind kind) const { return kind == user_kind::api ? api_ : admin_; }

bool user_store::valid_name(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-' && c != '@') return false;
    return true;
}

std::string user_store::load() {
    load_error_ = load_file();
    return load_error_;
}

std::string user_store::load_file() {
    // Parse into temporaries and swap only when the whole file is good: a
    // half-written or hand-broken file must not leave the daemon with no
    // users (which locked everyone out while the log said it kept them).
    std::map<std::string, user_record> api, admin;
    std::error_code ec;
    if (std::filesystem::exists(path_, ec)) {
        std::string err;
        auto text = core::read_file(path_, &err);
        if (!text) return err;
        auto parsed = core::parse_json_limited(*text);
        if (!parsed.ok()) return path_ + ": " + parsed.error->summary();
        json& doc = parsed.value;
        if (!doc.is_object()) return path_ + ": not a JSON object";
        for (auto [key, kind] : {std::pair{"api_users", user_kind::api}, std::pair{"admin_users", user_kind::admin}}) {
            if (!doc.contains(key)) continue;
            const auto& section = doc[key];
            if (!section.is_object()) return path_ + ": " + key + " must be an object";
            auto& into = kind == user_kind::api ? api : admin;
            for (auto it = section.begin(); it != section.end(); ++it) {
                const auto& v = it.value();
                if (!valid_name(it.key()) || !v.is_object() || !v.contains("hash") || !v["hash"].is_string() ||
                    (v.contains("created") && !v["created"].is_number_integer()))
                    return path_ + ": " + key + "." + it.key().substr(0, 64) + ": malformed entry";
                into[it.key()] = {v["hash"].get<std::string>(), v.value("created", std::int64_t{0})};
            }
        }
    } else if (ec) {
        return path_ + ": " + ec.message();
    }
    api_.swap(api);
    admin_.swap(admin);
    return {};
}

std::string user_store::save() const {
    if (auto err = core::ensure_directory(state_dir_, 0750); !err.empty()) return err;
    json doc = {{"api_users", json::object()}, {"admin_users", json::object()}};
    for (const auto& [name, rec] : api_) doc["api_users"][name] = {{"hash", rec.password_hash}, {"created", rec.created_unix}};
    for (const auto& [name, rec] : admin_) doc["admin_users"][name] = {{"hash", rec.password_hash}, {"created", rec.created_unix}};
    return core::atomic_write_file(path_, doc.dump(2) + "\n", 0600);
}

const user_record* user_store::find(user_kind kind, const std::string& name) const {
    const auto& t = table(kind);
    auto it = t.find(name);
    return it == t.end() ? nullptr : &it->second;
}

std::vector<std::string> user_store::names(user_kind kind) const {
    std::vector<std::string> out;
    for (const auto& [name, rec] : table(kind)) out.push_back(name);
    return out;
}

bool user_store::empty(user_kind kind) const { return table(kind).empty(); }

void user_store::put(user_kind kind, const std::string& name, user_record record) { table(kind)[name] = std::move(record); }

bool user_store::remove(user_kind kind, const std::string& name) { return table(kind).erase(name) > 0; }

}  // namespace otppi::auth
