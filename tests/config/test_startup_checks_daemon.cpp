// The start-up checks where an operator meets them: the admin settings API,
// the admin restart, SIGHUP and `otppi config-check`, against the real daemon
// (issue #17 item 7: settings that the next restart could not survive).
#include "support/process.hpp"
#include "support/raw_client.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include "test_paths.hpp"

using namespace otppi;
using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

const std::string binary = OTPPI_BINARY;

struct admin_client {
    std::uint16_t port = 0;
    std::string cookie;
    std::string csrf;

    test::http_reply call(const std::string& method, const std::string& path, const std::string& body = "") {
        test::raw_client c(port);
        std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
        if (!cookie.empty()) req += "Cookie: " + cookie + "\r\n";
        if (!csrf.empty() && method != "GET") req += "X-CSRF-Token: " + csrf + "\r\n";
        req += "Origin: http://127.0.0.1:" + std::to_string(port) + "\r\n";
        if (!body.empty()) req += "Content-Type: application/json\r\n";
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        c.send(req);
        auto r = c.read_reply(30s);
        auto pos = r.head.find("Set-Cookie: otppi_session=");
        if (pos != std::string::npos) {
            auto start = pos + std::string("Set-Cookie: ").size();
            cookie = r.head.substr(start, r.head.find(';', start) - start);
        }
        return r;
    }
    json send(const std::string& method, const std::string& path, const json& body, int expect) {
        auto r = call(method, path, body.dump());
        EXPECT_EQ(r.status, expect) << method << " " << path << ": " << r.body;
        return json::parse(r.body, nullptr, false);
    }
};

class StartupChecksDaemon : public ::testing::Test {
protected:
    StartupChecksDaemon() {
        std::filesystem::create_directories(dir / "web");
        std::ofstream(dir / "web/index.html") << "<!doctype html><title>otppi</title>";
        cfg = json::parse(R"({"device_name": "test-pi", "modems": []})");
        cfg["state_dir"] = dir / "state";
        cfg["api"]["http"] = {{"bind", "127.0.0.1"}, {"port", test::free_port()}};
        admin_port = test::free_port();
        cfg["admin"] = {{"bind", "127.0.0.1"}, {"port", admin_port}, {"web_root", dir / "web"}};
        write_config(cfg);
    }
    void write_config(const json& c) { std::ofstream(config_path) << c.dump(2); }
    void start() {
        // An administrator from the command line, so the test does not depend
        // on how first-run setup works.
        auto r = test::run({binary, "admin-user", "add", "root", "--config", config_path}, dir.path(), "correct horse battery\n");
        ASSERT_EQ(r.exit_code, 0) << r.err;
        daemon = std::make_unique<test::child>(std::vector<std::string>{binary, "--config", config_path}, dir.path(), "",
                                               std::map<std::string, std::string>{{"NOTIFY_SOCKET", notify.path()}});
        ASSERT_TRUE(notify.wait_for("READY=1", 20s)) << daemon->err();
    }
    admin_client login() {
        admin_client b;
        b.port = admin_port;
        auto s = json::parse(b.call("GET", "/admin/api/session").body, nullptr, false);
        b.csrf = s.value("csrf_token", "");
        auto in = b.send("POST", "/admin/api/login", {{"username", "root"}, {"password", "correct horse battery"}}, 200);
        b.csrf = in.value("csrf_token", "");
        return b;
    }
    std::string saved_config() { return test::slurp(config_path); }
    ~StartupChecksDaemon() override {
        if (daemon && daemon->running()) {
            daemon->signal(SIGTERM);
            daemon->wait(15s);
        }
    }

    test::temp_dir dir;
    std::string config_path = dir / "otppi.json";
    test::notify_socket notify{dir / "notify.sock"};
    std::unique_ptr<test::child> daemon;
    json cfg;
    std::uint16_t admin_port = 0;
};

}  // namespace

TEST_F(StartupChecksDaemon, SettingsWithStateDirInEtcAreRefusedNotSaved) {
    start();
    auto b = login();
    const auto before = saved_config();
    auto r = b.send("PUT", "/admin/api/settings", {{"state_dir", "/etc"}}, 422);
    EXPECT_THAT(r.value("error", ""), HasSubstr("could not start"));
    ASSERT_TRUE(r["errors"].is_array()) << r.dump();
    EXPECT_THAT(r["errors"].dump(), HasSubstr("state_dir: /etc is a system directory"));
    EXPECT_EQ(saved_config(), before);
    // An unrelated edit still goes through.
    b.send("PUT", "/admin/api/settings", {{"otp", {{"length", 8}}}}, 200);
}

TEST_F(StartupChecksDaemon, SettingsWithWebRootAtSlashAndAMissingCertificateNameEveryProblem) {
    start();
    auto b = login();
    const auto before = saved_config();
    auto r = b.send("PUT", "/admin/api/settings",
                    {{"admin", {{"web_root", "/"}}},
                     {"api", {{"https", {{"enabled", true}, {"port", test::free_port()}, {"cert_file", dir / "missing.pem"}, {"key_file", dir / "missing.key"}}}}}},
                    422);
    const auto errors = r["errors"].dump();
    EXPECT_THAT(errors, HasSubstr("admin.web_root: / is a system directory"));
    EXPECT_THAT(errors, HasSubstr("api.https.cert_file: cannot load the certificate"));
    EXPECT_EQ(saved_config(), before);
}

TEST_F(StartupChecksDaemon, SettingsWithABindAddressOfAnotherMachineAreRefused) {
    start();
    auto b = login();
    auto r = b.send("PUT", "/admin/api/settings", {{"admin", {{"bind", "192.0.2.1"}}}}, 422);
    EXPECT_THAT(r["errors"].dump(), HasSubstr("admin.bind: 192.0.2.1 is not an address of this machine"));
}

TEST_F(StartupChecksDaemon, RestartIsRefusedWhileTheSavedConfigCouldNotStart) {
    start();
    auto b = login();
    // The UI's files vanished after start (a half-done upgrade): a restart now
    // would come back without its UI, so it is refused and says why.
    std::filesystem::remove(dir / "web/index.html");
    auto r = b.send("POST", "/admin/api/restart", json::object(), 409);
    EXPECT_THAT(r["errors"].dump(), HasSubstr("admin.web_root"));
    EXPECT_TRUE(daemon->running());
    EXPECT_THAT(daemon->err(), Not(HasSubstr("restarting")));
    b.call("GET", "/admin/api/status");
    EXPECT_EQ(b.call("GET", "/admin/api/status").status, 200);
}

TEST_F(StartupChecksDaemon, ReloadIntoAConfigThatCouldNotStartIsRefused) {
    start();
    auto bad = cfg;
    bad["state_dir"] = "/usr";
    write_config(bad);
    notify.clear();
    daemon->signal(SIGHUP);
    ASSERT_TRUE(notify.wait_for("reload rejected", 10s)) << notify.received();
    EXPECT_THAT(daemon->err(), HasSubstr("state_dir: /usr is a system directory"));
    EXPECT_TRUE(daemon->running());
}

TEST(ConfigCheckCli, NamesWhatWouldStopTheDaemonFromStarting) {
    test::temp_dir dir;
    json c = json::parse(R"({"modems": []})");
    c["state_dir"] = "/etc";
    c["admin"] = {{"web_root", dir / "nowhere"}};
    c["api"] = {{"https", {{"enabled", true}, {"cert_file", dir / "cert.pem"}, {"key_file", dir / "key.pem"}}}};
    std::ofstream(dir / "bad.json") << c.dump();
    auto r = test::run({binary, "config-check", "--config", dir / "bad.json"}, dir.path());
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("would not start"));
    EXPECT_THAT(r.err, HasSubstr("state_dir: /etc is a system directory"));
    EXPECT_THAT(r.err, HasSubstr("admin.web_root: " + (dir / "nowhere") + " is not a directory"));
    EXPECT_THAT(r.err, HasSubstr("api.https.cert_file: cannot load the certificate " + (dir / "cert.pem")));

    // Without the UI's files the daemon still starts (and serves the API):
    // a warning, not a refusal, since systemd runs config-check before each start.
    c["state_dir"] = dir / "state";
    c["api"]["https"]["enabled"] = false;
    std::ofstream(dir / "no-ui.json") << c.dump();
    r = test::run({binary, "config-check", "--config", dir / "no-ui.json"}, dir.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("warning: the admin UI would not show: admin.web_root"));

    std::filesystem::create_directories(dir / "web");
    std::ofstream(dir / "web/index.html") << "<!doctype html>";
    c["admin"]["web_root"] = dir / "web";
    std::ofstream(dir / "good.json") << c.dump();
    r = test::run({binary, "config-check", "--config", dir / "good.json"}, dir.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("OK"));
}

// The admin UI's block list page goes through the same bound and rate limit
// as block-msisdn (issue #17 item 6), with HTTP answers of its own.
using AdminBlockList = StartupChecksDaemon;

TEST_F(AdminBlockList, FullListIsA409AndTooManyChangesA429) {
    cfg["api"]["block_list_max_entries"] = 2;
    cfg["api"]["block_rate_limit_per_minute"] = 4;
    write_config(cfg);
    start();
    auto b = login();
    b.send("POST", "/admin/api/blocklist", {{"msisdn", "081211111111"}}, 201);
    b.send("POST", "/admin/api/blocklist", {{"msisdn", "081222222222"}}, 201);
    auto full = b.send("POST", "/admin/api/blocklist", {{"msisdn", "081233333333"}}, 409);
    EXPECT_THAT(full.value("error", ""), HasSubstr("api.block_list_max_entries"));
    b.call("DELETE", "/admin/api/blocklist/6281211111111");
    auto limited = b.send("POST", "/admin/api/blocklist", {{"msisdn", "081233333333"}}, 429);
    EXPECT_THAT(limited.value("error", ""), HasSubstr("api.block_rate_limit_per_minute"));
    // What was answered is on disk: a restart reads it back.
    daemon->signal(SIGTERM);
    EXPECT_EQ(daemon->wait(15s), 0) << daemon->err();
    EXPECT_EQ(test::slurp(dir / "state/blocklist.journal"), "+6281211111111\n+6281222222222\n-6281211111111\n");
}
