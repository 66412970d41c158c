// API users and administrators, persisted as <state_dir>/users.json (mode 0600)
// holding only salted slow hashes. Used by the CLI (add/remove/list) and by the
// daemon (authentication). Thread-safety: none; the daemon owns one instance on
// its io_context thread and reloads it on SIGHUP and when the file changes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace otppi::auth {

enum class user_kind { api, admin };

struct user_record {
    std::string password_hash;
    std::int64_t created_unix = 0;
};

class user_store {
public:
    explicit user_store(std::string state_dir);

    // Loads the file; a missing file is an empty store. Empty string on
    // success. On failure the users loaded before are kept unchanged.
    std::string load();
    // Why the last load() failed (the store then holds the users of the last
    // good load); empty when it succeeded.
    const std::string& load_error() const { return load_error_; }
    // Atomic write with mode 0600. Empty string on success.
    std::string save() const;

    const user_record* find(user_kind kind, const std::string& name) const;
    std::vector<std::string> names(user_kind kind) const;
    bool empty(user_kind kind) const;
    void put(user_kind kind, const std::string& name, user_record record);
    bool remove(user_kind kind, const std::string& name);

    const std::string& path() const { return path_; }

    // 1..64 of [A-Za-z0-9._@-]; no ':' (it separates name and password in HTTP Basic).
    static bool valid_name(const std::string& name);

private:
    std::string load_file();
    std::map<std::string, user_record>& table(user_kind kind);
    const std::map<std::string, user_record>& table(user_kind kind) const;

    std::string state_dir_;
    std::string path_;
    std::map<std::string, user_record> api_;
    std::map<std::string, user_record> admin_;
    std::string load_error_;
};

}  // namespace otppi::auth
