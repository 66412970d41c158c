#include "otppi/http/connection_table.hpp"

#include <boost/asio/ip/address.hpp>

namespace otppi::http {

std::string client_key(std::string_view address) {
    boost::system::error_code ec;
    const auto addr = boost::asio::ip::make_address(std::string(address), ec);
    if (ec) return std::string(address);
    if (addr.is_v4()) return addr.to_v4().to_string();
    const auto v6 = addr.to_v6();
    if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
    auto bytes = v6.to_bytes();
    for (std::size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;  // the interface identifier; the scope goes too
    return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

const std::string& connection_table::entry::client() const {
    static const std::string none;
    return group_ ? group_->key : none;
}

connection_table::decision connection_table::admit(const std::string& client, std::size_t max_total, std::size_t max_per_client) const {
    const std::size_t mine = count(client);
    if (max_per_client != 0 && mine >= max_per_client) return {verdict::client_full, nullptr};
    if (all_.size() < max_total) return {verdict::accept, nullptr};
    // Over the cap (it was lowered): let connections end on their own
    // rather than trade one for one.
    if (all_.size() > max_total) return {verdict::server_full, nullptr};
    const group* best = nullptr;
    for (const auto& [key, g] : groups_) {
        if (!g.oldest || g.count < mine + 2) continue;
        if (!best || g.count > best->count || (g.count == best->count && g.oldest->since_ < best->oldest->since_)) best = &g;
    }
    if (!best) return {verdict::server_full, nullptr};
    return {verdict::accept_after_shedding, best->oldest};
}

void connection_table::add(entry& e, const std::string& client, bool sheddable) {
    if (e.group_) return;
    auto [it, fresh] = groups_.try_emplace(client);
    if (fresh) it->second.key = client;
    e.group_ = &it->second;
    ++e.group_->count;
    all_.insert(&e);
    if (sheddable) set_sheddable(e, true);
}

void connection_table::remove(entry& e) {
    if (!e.group_) return;
    unlink(e);
    group* g = e.group_;
    e.group_ = nullptr;
    all_.erase(&e);
    if (--g->count == 0) {
        const std::string key = g->key;  // not a reference into the node being erased
        groups_.erase(key);
    }
}

void connection_table::set_sheddable(entry& e, bool sheddable) {
    if (!e.group_ || e.sheddable_ == sheddable) return;
    if (!sheddable) return unlink(e);
    group& g = *e.group_;
    e.sheddable_ = true;
    e.since_ = ++clock_;
    e.prev_ = g.newest;
    e.next_ = nullptr;
    if (g.newest)
        g.newest->next_ = &e;
    else
        g.oldest = &e;
    g.newest = &e;
}

void connection_table::unlink(entry& e) {
    if (!e.sheddable_) return;
    group& g = *e.group_;
    (e.prev_ ? e.prev_->next_ : g.oldest) = e.next_;
    (e.next_ ? e.next_->prev_ : g.newest) = e.prev_;
    e.prev_ = e.next_ = nullptr;
    e.sheddable_ = false;
}

std::size_t connection_table::count(const std::string& client) const {
    auto it = groups_.find(client);
    return it == groups_.end() ? 0 : it->second.count;
}

}  // namespace otppi::http
