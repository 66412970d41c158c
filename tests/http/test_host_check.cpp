// The Host and Origin rule of both ports (DNS rebinding), as pure functions.
#include "otppi/http/host_check.hpp"

#include <gtest/gtest.h>

using namespace otppi;

namespace {
const std::set<std::string> names = http::static_names({"gateway.example.com", "10.1.2.3", "FE80::0001"}, "192.168.1.5", "otppi");
}

TEST(HostCheck, NormalisesNamesPortsAndIpLiterals) {
    std::string host, port;
    ASSERT_TRUE(http::normalize_host("OTPPI.Local.:8888", host, port));
    EXPECT_EQ(host, "otppi.local");
    EXPECT_EQ(port, "8888");
    ASSERT_TRUE(http::normalize_host("[0:0:0:0:0:0:0:1]:80", host, port));
    EXPECT_EQ(host, "::1");
    ASSERT_TRUE(http::normalize_host("127.0.0.1", host, port));
    EXPECT_EQ(port, "");
    for (const char* bad : {"", ":80", "[::1", "[::1]x", "::1", "a b", "host:99999", "host:", "[127.0.0.1]", "ex\xC3\xA4mple.com", "a/b", "user@host", ".", "..", ".a", "a..b", "a..:80"})
        EXPECT_FALSE(http::normalize_host(bad, host, port)) << bad;
}

TEST(HostCheck, DnsRebindingNameIsRefusedAndOwnNamesAccepted) {
    for (const char* ok : {"localhost", "localhost:8888", "127.0.0.1:8080", "127.8.9.1", "[::1]:8888", "192.168.1.5:8888", "otppi",
                           "OTPPI.local", "gateway.example.com.", "10.1.2.3:443", "[fe80::1]"})
        EXPECT_TRUE(http::host_allowed(ok, names)) << ok;
    for (const char* bad : {"evil.example", "evil.example:8888", "192.168.1.6", "otppi.evil.example", "localhost.evil.example", "127.0.0.1.nip.io",
                            "0.0.0.0", "[::]", "example.com", "2130706433"})
        EXPECT_FALSE(http::host_allowed(bad, names)) << bad;
}

TEST(HostCheck, MissingHostIsAllowedBecauseNoBrowserOmitsIt) { EXPECT_TRUE(http::host_allowed("", names)); }

TEST(HostCheck, WildcardBindIsNoName) {
    auto wild = http::static_names({}, "0.0.0.0", "");
    EXPECT_FALSE(wild.count("0.0.0.0"));
    EXPECT_TRUE(wild.count("localhost"));
}

TEST(HostCheck, OriginIsComparedWithTheAllowedNamesNotWithHost) {
    // A rebinding page sends Host and Origin with its own name: equal, and still refused.
    EXPECT_FALSE(http::origin_allowed("http://evil.example:8888", false, "evil.example:8888", names));
    EXPECT_TRUE(http::origin_allowed("http://192.168.1.5:8888", false, "192.168.1.5:8888", names));
    // Another of our names on the same port is our page too.
    EXPECT_TRUE(http::origin_allowed("http://otppi.local:8888", false, "192.168.1.5:8888", names));
    EXPECT_TRUE(http::origin_allowed("HTTPS://gateway.example.com", true, "gateway.example.com:443", names));
    // Scheme and port must be those of this request.
    EXPECT_FALSE(http::origin_allowed("https://192.168.1.5:8888", false, "192.168.1.5:8888", names));
    EXPECT_FALSE(http::origin_allowed("http://192.168.1.5:9999", false, "192.168.1.5:8888", names));
    EXPECT_FALSE(http::origin_allowed("http://192.168.1.5", false, "192.168.1.5:8888", names));
    EXPECT_TRUE(http::origin_allowed("http://192.168.1.5", false, "192.168.1.5:80", names));
    for (const char* bad : {"null", "http://", "http://192.168.1.5:8888/path", "file://", "http://user@192.168.1.5:8888", "ws://192.168.1.5:8888"})
        EXPECT_FALSE(http::origin_allowed(bad, false, "192.168.1.5:8888", names)) << bad;
}

TEST(HostCheck, InterfaceAddressesIncludeLoopback) {
    // Every Linux box has lo; its address must come out in canonical form.
    EXPECT_TRUE(http::interface_addresses().count("127.0.0.1"));
}

TEST(HostCheck, RefusalMessageIsPrintableAndBounded) {
    auto msg = http::host_check::refusal(std::string("evil\x01\xff", 6) + std::string(500, 'a'));
    EXPECT_NE(msg.find("evil??"), std::string::npos);
    EXPECT_LT(msg.size(), 300u);
    EXPECT_NE(msg.find("server_names"), std::string::npos);
}
