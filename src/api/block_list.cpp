#include "otppi/api/block_list.hpp"

#include "otppi/core/files.hpp"
#include "otppi/core/json.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>

namespace otppi::api {

std::string block_list::load() {
    numbers_.clear();
    std::error_code ec;
    if (!std::filesystem::exists(path_, ec)) return {};
    std::string err;
    auto text = core::read_file(path_, &err);
    if (!text) return err;
    auto parsed = core::parse_json_limited(*text);
    if (!parsed.ok()) return path_ + ": " + parsed.error->summary();
    auto& doc = parsed.value;
    if (!doc.is_object() || !doc.contains("blocked") || !doc["blocked"].is_array())
        return path_ + ": expected {\"blocked\": [numbers]}";
    for (const auto& n : doc["blocked"]) {
        if (!n.is_string()) return path_ + ": blocked entries must be strings";
        numbers_.insert(n.get<std::string>());
    }
    return {};
}

std::string block_list::serialize() const { return nlohmann::json{{"blocked", numbers_}}.dump(1) + "\n"; }

}  // namespace otppi::api
