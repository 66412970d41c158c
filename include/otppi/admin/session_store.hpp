// Admin UI sessions: random ids, a CSRF token per session, idle and absolute
// timeouts, rotation at login.
//
// Contract
// - Ids and tokens are 256 bits from OpenSSL's CSPRNG, base64url without
//   padding (43 characters). Only a SHA-256 of the id is kept as the table
//   key, so a memory dump or a timing side channel of the lookup does not
//   give a usable cookie.
// - A session starts anonymous (it carries the CSRF token that setup and
//   login need) and becomes logged in through login(), which always issues a
//   new id and token and forgets the old id: a session id planted before
//   login is worthless after it.
// - find() refuses and forgets a session idle for longer than `idle` or, once
//   logged in, older than `absolute` since login. Each hit refreshes the idle
//   timer.
// - At most `capacity` sessions; a new one evicts the least recently used
//   anonymous session first, then the least recently used of all.
// Thread-safety: none; used on the io_context thread.
#pragma once

#include "otppi/core/clock.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>

namespace otppi::admin {

struct admin_session {
    std::string csrf_token;
    std::string user;  // empty: anonymous
    core::Clock::time_point created{};
    core::Clock::time_point last_seen{};
    core::Clock::time_point login_at{};
    // The user's password hash when this session logged in: a session is
    // only as good as the credentials it was opened with, so any change of
    // the record (new password from the UI, the CLI or a reload; user gone)
    // ends it. The stored hash is salted anew on every change, so even the
    // same password typed again yields a different stamp.
    std::string credential;
    bool logged_in() const { return !user.empty(); }
};

class session_store {
public:
    session_store(const core::Clock& clock, std::chrono::seconds idle, std::chrono::seconds absolute, std::size_t capacity = 4096);

    void set_timeouts(std::chrono::seconds idle, std::chrono::seconds absolute);

    // A new anonymous session; `id_out` receives its id (for the cookie).
    admin_session& create(std::string& id_out);
    // The live session with this id, refreshed; nullptr if unknown or expired.
    admin_session* find(const std::string& id);
    // Whether the session is live, without refreshing it (the monitor
    // WebSocket checks this: an open dashboard does not keep a session alive).
    bool alive(const std::string& id) const;
    // Ends `old_id` (if any) and returns a new logged-in session for `user`,
    // stamped with `credential` (the password hash it was checked against).
    admin_session& login(const std::string& old_id, const std::string& user, std::string& id_out, std::string credential = {});
    void remove(const std::string& id);
    // Ends every session of `user` except `keep_id` (password changed, user removed).
    void remove_user(const std::string& user, const std::string& keep_id = {});
    // Ends every session for which `stale` is true; returns how many.
    std::size_t remove_if(const std::function<bool(const admin_session&)>& stale);
    std::size_t size() const { return sessions_.size(); }

    static std::string random_token();

private:
    static std::string key_of(const std::string& id);
    bool expired(const admin_session& s, core::Clock::time_point now) const;
    void make_room();

    const core::Clock& clock_;
    std::chrono::seconds idle_;
    std::chrono::seconds absolute_;
    std::size_t capacity_;
    std::unordered_map<std::string, admin_session> sessions_;
};

}  // namespace otppi::admin
