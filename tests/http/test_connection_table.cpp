// The connection accounting behind the per-client cap and shedding at the
// server's cap (issue 17, item 4), without sockets.
#include "otppi/http/connection_table.hpp"

#include <gtest/gtest.h>
#include <list>

using otppi::http::client_key;
using otppi::http::connection_table;
using verdict = connection_table::verdict;

namespace {

struct fixture {
    connection_table table;
    std::list<connection_table::entry> entries;  // stable addresses
    connection_table::entry& open(const std::string& client, bool sheddable = true) {
        auto& e = entries.emplace_back();
        table.add(e, client, sheddable);
        return e;
    }
};

}  // namespace

TEST(ConnectionTable, ClientKeyTreatsMappedIpv4AsIpv4AndGroupsIpv6By64) {
    EXPECT_EQ(client_key("192.0.2.7"), "192.0.2.7");
    EXPECT_EQ(client_key("::ffff:192.0.2.7"), "192.0.2.7");
    EXPECT_EQ(client_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
    EXPECT_EQ(client_key("2001:db8:1:2::1"), client_key("2001:db8:1:2:ffff::9"));
    EXPECT_NE(client_key("2001:db8:1:2::1"), client_key("2001:db8:1:3::1"));
    EXPECT_EQ(client_key("fe80::1%1"), "fe80::/64");
    EXPECT_EQ(client_key("unknown"), "unknown");
}

TEST(ConnectionTable, ClientAtItsCapIsRefusedWhateverRoomTheServerHas) {
    fixture f;
    for (int i = 0; i < 3; ++i) f.open("10.0.0.1");
    EXPECT_EQ(f.table.admit("10.0.0.1", 100, 3).what, verdict::client_full);
    EXPECT_EQ(f.table.admit("10.0.0.2", 100, 3).what, verdict::accept);
    EXPECT_EQ(f.table.admit("10.0.0.1", 100, 0).what, verdict::accept) << "0 = no per-client cap";
    EXPECT_EQ(f.table.count("10.0.0.1"), 3u);
    EXPECT_EQ(f.table.clients(), 1u);
}

TEST(ConnectionTable, AtTheCapTheIdlestConnectionOfTheBiggestClientIsShed) {
    fixture f;
    auto& a1 = f.open("a");
    f.open("a");
    f.open("a");
    f.open("b");
    f.open("b");
    ASSERT_EQ(f.table.size(), 5u);
    const auto d = f.table.admit("c", 5, 0);
    EXPECT_EQ(d.what, verdict::accept_after_shedding);
    EXPECT_EQ(d.shed, &a1) << "the oldest idle connection of the client with the most";
    EXPECT_EQ(d.shed->client(), "a");
    // A connection that went busy and idle again is the newest idle one.
    f.table.set_sheddable(a1, false);
    f.table.set_sheddable(a1, true);
    EXPECT_NE(f.table.admit("c", 5, 0).shed, &a1);
}

TEST(ConnectionTable, BusyConnectionsAreNeverShed) {
    fixture f;
    for (int i = 0; i < 4; ++i) f.open("a", false);  // requests in progress, WebSockets
    f.open("b");
    EXPECT_EQ(f.table.admit("c", 5, 0).what, verdict::server_full) << "b has one, c none: no reason to take b's";
    // One of a's goes idle: it can be shed.
    connection_table::entry& idle = f.open("a");
    EXPECT_EQ(f.table.admit("c", 6, 0).shed, &idle);
}

TEST(ConnectionTable, EqualSharesDoNotShedEachOther) {
    fixture f;
    for (int i = 0; i < 3; ++i) f.open("a");
    for (int i = 0; i < 3; ++i) f.open("b");
    EXPECT_EQ(f.table.admit("a", 6, 0).what, verdict::server_full);
    EXPECT_EQ(f.table.admit("b", 6, 0).what, verdict::server_full);
    // A client never sheds its own connections for a new one of its own.
    fixture g;
    for (int i = 0; i < 6; ++i) g.open("a");
    EXPECT_EQ(g.table.admit("a", 6, 0).what, verdict::server_full);
    EXPECT_EQ(g.table.admit("b", 6, 0).what, verdict::accept_after_shedding);
}

TEST(ConnectionTable, ClientOverALoweredCapIsShedFirst) {
    fixture f;
    for (int i = 0; i < 6; ++i) f.open("a");
    for (int i = 0; i < 4; ++i) f.open("b");
    // The cap per client went down to 4 on a reload: a is over it.
    const auto d = f.table.admit("c", 10, 4);
    EXPECT_EQ(d.what, verdict::accept_after_shedding);
    EXPECT_EQ(d.shed->client(), "a");
    // The server's cap lowered below what is open: no trading one for one.
    EXPECT_EQ(f.table.admit("c", 8, 4).what, verdict::server_full);
}

TEST(ConnectionTable, RemoveForgetsTheConnectionAndItsClient) {
    fixture f;
    auto& e = f.open("a");
    auto& other = f.open("a");
    f.table.remove(e);
    EXPECT_FALSE(e.tracked());
    f.table.remove(e);  // again: nothing happens
    EXPECT_EQ(f.table.count("a"), 1u);
    EXPECT_EQ(f.table.size(), 1u);
    EXPECT_EQ(f.table.admit("b", 1, 0).what, verdict::server_full) << "a has one, b none";
    f.table.remove(other);
    EXPECT_EQ(f.table.clients(), 0u);
    EXPECT_EQ(f.table.admit("a", 1, 1).what, verdict::accept);
}
