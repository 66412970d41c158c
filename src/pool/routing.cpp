#include "otppi/pool/routing.hpp"

#include <algorithm>

namespace otppi::pool {

routing_table::routing_table(std::vector<route_modem> modems, std::size_t prefix_length) : prefix_length_(prefix_length) {
    for (const auto& m : modems) {
        if (!m.active || !m.send_sms_from_api) continue;
        all_.push_back(m.id);
        if (m.default_modem) defaults_.push_back(m.id);
        for (const auto& p : m.prefixes) by_prefix_[p].push_back(m.id);
    }
}

std::vector<std::string> routing_table::rotate(const std::string& key, const std::vector<std::string>& ids) {
    if (ids.empty()) return {};
    auto& c = cursor_[key];
    std::vector<std::string> out;
    out.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) out.push_back(ids[(c + i) % ids.size()]);
    c = (c + 1) % ids.size();
    return out;
}

std::vector<std::vector<std::string>> routing_table::tiers(const std::string& receiver) {
    std::vector<std::vector<std::string>> out;
    std::vector<std::string> seen;
    auto add = [&](std::vector<std::string> tier) {
        tier.erase(std::remove_if(tier.begin(), tier.end(), [&](const std::string& id) { return std::find(seen.begin(), seen.end(), id) != seen.end(); }),
                   tier.end());
        if (tier.empty()) return;
        seen.insert(seen.end(), tier.begin(), tier.end());
        out.push_back(std::move(tier));
    };
    if (receiver.size() >= prefix_length_) {
        auto it = by_prefix_.find(receiver.substr(0, prefix_length_));
        if (it != by_prefix_.end()) add(rotate("prefix:" + it->first, it->second));
    }
    add(rotate("default", defaults_));
    add(rotate("all", all_));
    return out;
}

}  // namespace otppi::pool
