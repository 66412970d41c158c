#include "otppi/pool/routing.hpp"

#include <gtest/gtest.h>

using otppi::pool::route_modem;
using otppi::pool::routing_table;
using tiers_t = std::vector<std::vector<std::string>>;

namespace {

// OTP-Pi's README, "Prefix-Based Routing": four SIMs of four operators;
// operator 4 is the cheapest for everyone else, so modem 4 is the default.
routing_table four_operators() {
    return routing_table({{"m1", true, true, false, {"62871", "62872"}},
                          {"m2", true, true, false, {"62835", "62856", "62837"}},
                          {"m3", true, true, false, {"62845"}},
                          {"m4", true, true, true, {"62848", "62849"}}},
                         5);
}

}  // namespace

TEST(Routing, SeedFourOperatorCostExample) {
    auto t = four_operators();
    EXPECT_EQ(t.tiers("6287112345678").front(), (std::vector<std::string>{"m1"}));
    EXPECT_EQ(t.tiers("6287212345678").front(), (std::vector<std::string>{"m1"}));
    EXPECT_EQ(t.tiers("6283512345678").front(), (std::vector<std::string>{"m2"}));
    EXPECT_EQ(t.tiers("6285612345678").front(), (std::vector<std::string>{"m2"}));
    EXPECT_EQ(t.tiers("6283712345678").front(), (std::vector<std::string>{"m2"}));
    EXPECT_EQ(t.tiers("6284512345678").front(), (std::vector<std::string>{"m3"}));
    EXPECT_EQ(t.tiers("6284812345678").front(), (std::vector<std::string>{"m4"}));
    // Every other number goes through the cheapest operator for others: modem 4.
    EXPECT_EQ(t.tiers("6281212345678").front(), (std::vector<std::string>{"m4"}));
    EXPECT_EQ(t.tiers("6289912345678").front(), (std::vector<std::string>{"m4"}));
}

TEST(Routing, FailoverOrderIsPrefixThenDefaultThenAnyApiModem) {
    auto t = four_operators();
    auto tiers = t.tiers("6287112345678");
    ASSERT_EQ(tiers.size(), 3u);
    EXPECT_EQ(tiers[0], (std::vector<std::string>{"m1"}));
    EXPECT_EQ(tiers[1], (std::vector<std::string>{"m4"}));
    // The rest, each once.
    EXPECT_EQ(tiers[2].size(), 2u);
}

TEST(Routing, RoundRobinAmongSimsOfTheSameOperator) {
    routing_table t({{"a", true, true, false, {"62871"}}, {"b", true, true, false, {"62871"}}, {"c", true, true, true, {}}}, 5);
    std::vector<std::string> firsts;
    for (int i = 0; i < 4; ++i) firsts.push_back(t.tiers("6287100000000")[0][0]);
    EXPECT_EQ(firsts, (std::vector<std::string>{"a", "b", "a", "b"}));
    // The whole tier is offered, rotated, so a busy first choice has a twin.
    EXPECT_EQ(t.tiers("6287100000000")[0], (std::vector<std::string>{"a", "b"}));
}

TEST(Routing, NoDefaultMeansEveryApiModemRoundRobin) {
    routing_table t({{"a", true, true, false, {"62871"}}, {"b", true, true, false, {}}, {"c", true, true, false, {}}}, 5);
    std::vector<std::string> firsts;
    for (int i = 0; i < 3; ++i) firsts.push_back(t.tiers("6281200000000")[0][0]);
    EXPECT_EQ(firsts, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(Routing, InactiveAndApiOffModemsNeverTakeApiTraffic) {
    routing_table t({{"off", false, true, true, {"62871"}}, {"manual", true, false, true, {"62871"}}, {"ok", true, true, false, {}}}, 5);
    auto tiers = t.tiers("6287100000000");
    ASSERT_EQ(tiers.size(), 1u);
    EXPECT_EQ(tiers[0], (std::vector<std::string>{"ok"}));
    EXPECT_EQ(t.api_modems(), (std::vector<std::string>{"ok"}));
}

TEST(Routing, NoModemAtAll) {
    routing_table t({{"off", false, true, true, {}}}, 5);
    EXPECT_TRUE(t.tiers("6281200000000").empty());
    routing_table empty;
    EXPECT_TRUE(empty.tiers("6281200000000").empty());
}

TEST(Routing, ShortReceiverDoesNotMatchPrefixes) {
    auto t = four_operators();
    EXPECT_EQ(t.tiers("6287").front(), (std::vector<std::string>{"m4"}));
}
