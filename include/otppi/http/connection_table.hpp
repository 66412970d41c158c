// Which connections are open, grouped by client, and which one to shed when
// the server is full: the accounting behind http::limits::max_connections and
// max_connections_per_client. Sans-io: no sockets, no clock (the order in
// which connections became idle is a counter), so it is tested on its own.
//
// A client is an IPv4 address or an IPv6 /64 (one host commonly has a whole
// /64, so counting single IPv6 addresses would be no cap at all); an
// IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack listener sees
// IPv4 peers) is the IPv4 address.
//
// Policy (admit()):
//  - A client at its own cap is refused, whatever room the server has.
//  - Below the server's cap, everyone else is let in.
//  - At the server's cap, one connection that is *sheddable* (no request
//    header complete yet: idle on keep-alive, freshly accepted, in the TLS
//    handshake or mid-header) is closed to make room, taken from the client
//    with the most connections, the one idle longest. Only when that client
//    holds at least two more connections than the newcomer's (so the shares
//    even out and two clients never take turns shedding each other). A
//    client over its cap (after the cap was lowered) qualifies first, as it
//    has the most. With nothing to shed the newcomer is refused.
//  Requests being handled, bodies being read, answers being written and
//  WebSockets are never shed: nothing accepted is lost.
// Cost: O(1) per connection event; admit() at the server's cap looks at each
// client once (O(clients)).
// Thread-safety: none; one owner thread (the server's io_context).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace otppi::http {

// The client a peer address counts for: "192.0.2.7" for IPv4 and
// IPv4-mapped IPv6, "2001:db8:1:2::/64" for other IPv6 addresses, the text
// itself when it is not an address.
std::string client_key(std::string_view address);

class connection_table {
    struct group;

public:
    // One per connection, embedded in it: the table links it, never owns it.
    class entry {
    public:
        entry() = default;
        entry(const entry&) = delete;
        entry& operator=(const entry&) = delete;
        bool tracked() const { return group_ != nullptr; }
        bool sheddable() const { return sheddable_; }
        const std::string& client() const;  // "" when not tracked

    private:
        friend class connection_table;
        group* group_ = nullptr;
        entry* prev_ = nullptr;  // the group's sheddable list, oldest first
        entry* next_ = nullptr;
        std::uint64_t since_ = 0;  // when it became sheddable (a counter)
        bool sheddable_ = false;
    };

    enum class verdict {
        accept,
        accept_after_shedding,  // close `shed` first
        client_full,            // the client is at max_per_client
        server_full,            // at max_total and nothing may be shed
    };
    struct decision {
        verdict what = verdict::accept;
        entry* shed = nullptr;
    };

    connection_table() = default;
    connection_table(const connection_table&) = delete;
    connection_table& operator=(const connection_table&) = delete;

    // What to do with a new connection from `client` (a client_key()).
    // max_per_client 0 = no per-client cap. Changes nothing.
    decision admit(const std::string& client, std::size_t max_total, std::size_t max_per_client) const;

    void add(entry& e, const std::string& client, bool sheddable);
    void remove(entry& e);  // no-op when not tracked
    void set_sheddable(entry& e, bool sheddable);

    std::size_t size() const { return all_.size(); }
    std::size_t clients() const { return groups_.size(); }
    std::size_t count(const std::string& client) const;
    std::vector<entry*> snapshot() const { return {all_.begin(), all_.end()}; }

private:
    struct group {
        std::string key;
        std::size_t count = 0;
        entry* oldest = nullptr;  // sheddable connections, in the order they became so
        entry* newest = nullptr;
    };
    void unlink(entry& e);

    std::unordered_map<std::string, group> groups_;  // node-based: group* stays valid
    std::unordered_set<entry*> all_;
    std::uint64_t clock_ = 0;
};

}  // namespace otppi::http
