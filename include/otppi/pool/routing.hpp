// Which modems may carry an API message, in which order (pure, no I/O).
//
// OTP-Pi's rule, made complete: the modems whose recipient_prefix matches
// the receiver's first `prefix_length` digits come first (round-robin among
// them); then the default modem(s); then every modem that takes API traffic.
// Each group is one tier. A message starts in the first tier that has a
// modem able to send now and only falls to a later tier when every modem of
// the earlier ones has failed it or is unavailable, so a busy cheap modem is
// waited for rather than bypassed by an expensive one.
// Inactive modems and those with send_sms_from_api off never appear.
// Thread-safety: none; owned by the pool on the io thread.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace otppi::pool {

struct route_modem {
    std::string id;
    bool active = true;
    bool send_sms_from_api = true;
    bool default_modem = false;
    std::vector<std::string> prefixes;  // international form
};

class routing_table {
public:
    routing_table() = default;
    routing_table(std::vector<route_modem> modems, std::size_t prefix_length);

    // The tiers for `receiver` (normalised digits), each rotated by its own
    // round-robin cursor, which this call advances. Modems appear once, in
    // their earliest tier. Empty when no modem takes API traffic.
    std::vector<std::vector<std::string>> tiers(const std::string& receiver);

    // Modem ids that take API traffic at all.
    const std::vector<std::string>& api_modems() const { return all_; }

private:
    std::vector<std::string> rotate(const std::string& key, const std::vector<std::string>& ids);

    std::size_t prefix_length_ = 5;
    std::map<std::string, std::vector<std::string>> by_prefix_;
    std::vector<std::string> defaults_;
    std::vector<std::string> all_;
    std::map<std::string, std::size_t> cursor_;
};

}  // namespace otppi::pool
