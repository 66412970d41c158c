// Receivers that must never get anything from us, persisted as
// <state_dir>/blocklist.json. Numbers are stored normalised (international
// digits), so "08126666666" and "+628126666666" are the same entry.
// Thread-safety: none; owned by the io_context thread. Saving is split into
// serialize() (on the owner thread) and a file write the caller may offload.
#pragma once

#include <set>
#include <string>

namespace otppi::api {

class block_list {
public:
    explicit block_list(std::string path) : path_(std::move(path)) {}

    // A missing file is an empty list. Empty string on success.
    std::string load();
    std::string serialize() const;
    const std::string& path() const { return path_; }

    bool contains(const std::string& msisdn) const { return numbers_.count(msisdn) > 0; }
    bool add(const std::string& msisdn) { return numbers_.insert(msisdn).second; }
    bool remove(const std::string& msisdn) { return numbers_.erase(msisdn) > 0; }
    const std::set<std::string>& numbers() const { return numbers_; }

private:
    std::string path_;
    std::set<std::string> numbers_;
};

}  // namespace otppi::api
