// The real otppi binary: CLI, start-up, sd_notify, the API over loopback,
// reload and shutdown. Nothing is mocked here.
#include "otppi/auth/password.hpp"
#include "otppi/config/config.hpp"
#include "support/process.hpp"
#include "support/raw_client.hpp"
#include "support/temp_dir.hpp"
#include "test_paths.hpp"

#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace otppi;
using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

const std::string binary = OTPPI_BINARY;

std::string basic(const std::string& user_pass) { return "Authorization: Basic " + auth::base64_encode(user_pass) + "\r\n"; }

class Daemon : public ::testing::Test {
protected:
    Daemon() {
        port = test::free_port();
        cfg = json::parse(R"({"device_name": "test", "api": {"http": {"bind": "127.0.0.1"}}, "general": {"log_level": "debug"},
                              "modems": [{"id": "m1", "name": "SIM800L", "port": "/dev/otppi-test-no-such-tty"}]})");
        cfg["state_dir"] = dir / "state";
        cfg["api"]["http"]["port"] = port;
        cfg["admin"] = {{"bind", "127.0.0.1"}, {"port", test::free_port()}, {"web_root", std::string(OTPPI_SOURCE_DIR) + "/web"}};
        write_config();
    }
    void write_config() {
        std::ofstream(config_path) << cfg.dump(2);
    }
    void add_user(const std::string& name, const std::string& password) {
        auto r = test::run({binary, "api-user", "add", name, "--config", config_path}, dir.path(), password + "\n");
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    std::unique_ptr<test::child> start() {
        auto c = std::make_unique<test::child>(std::vector<std::string>{binary, "--config", config_path}, dir.path(), "",
                                               std::map<std::string, std::string>{{"NOTIFY_SOCKET", notify.path()}});
        EXPECT_TRUE(notify.wait_for("READY=1", 20s)) << c->err();
        return c;
    }
    test::http_reply api(const std::string& body, const std::string& auth = "app:s3cret-password") {
        test::raw_client c(port);
        c.send(test::post("/api/otp", body, auth.empty() ? "" : basic(auth)));
        return c.read_reply(20s);
    }

    test::temp_dir dir;
    std::string config_path = dir / "otppi.json";
    test::notify_socket notify{dir / "notify.sock"};
    json cfg;
    std::uint16_t port = 0;
};

}  // namespace

TEST(Cli, HelpListsEveryCommand) {
    test::temp_dir dir;
    auto r = test::run({binary, "--help"}, dir.path());
    EXPECT_EQ(r.exit_code, 0);
    for (const char* s : {"--config", "config-check", "api-user", "admin-user", "--version", "--log-level"}) EXPECT_THAT(r.out, HasSubstr(s));
    r = test::run({binary, "--version"}, dir.path());
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_THAT(r.out, HasSubstr("otppi "));
}

TEST(Cli, ConfigCheckNamesBadKeysByPath) {
    test::temp_dir dir;
    std::ofstream(dir / "bad.json") << R"({"api": {"http": {"port": 99999}}, "modems": [{"id": "m1", "prot": "/dev/ttyUSB0", "port": "/dev/ttyUSB0"}]})";
    auto r = test::run({binary, "config-check", "--config", dir / "bad.json"}, dir.path());
    EXPECT_NE(r.exit_code, 0);
    EXPECT_THAT(r.err, HasSubstr("modems[0].prot: unknown key"));
    EXPECT_THAT(r.err, HasSubstr("api.http.port: expected integer 1..65535"));

    // The shipped example, with the directories a start needs made here
    // (config-check also checks those; this machine has no /var/lib/otppi).
    auto example = json::parse(test::slurp(std::string(OTPPI_SOURCE_DIR) + "/config/otppi.json"));
    example["state_dir"] = dir / "state";
    example["admin"]["web_root"] = std::string(OTPPI_SOURCE_DIR) + "/web";
    std::ofstream(dir / "example.json") << example.dump();
    r = test::run({binary, "config-check", "--config", dir / "example.json"}, dir.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("OK"));
    r = test::run({binary, "config-check", "--config", dir / "missing.json"}, dir.path());
    EXPECT_NE(r.exit_code, 0);
    EXPECT_THAT(r.err, HasSubstr("missing.json"));
}

TEST(Cli, UnknownSubcommandOrFlagFails) {
    test::temp_dir dir;
    EXPECT_NE(test::run({binary, "frobnicate"}, dir.path()).exit_code, 0);
    EXPECT_NE(test::run({binary, "--nope"}, dir.path()).exit_code, 0);
    EXPECT_NE(test::run({binary, "api-user", "explode", "x"}, dir.path()).exit_code, 0);
}

TEST_F(Daemon, UserManagementFromTheCli) {
    add_user("app", "s3cret-password");
    auto r = test::run({binary, "api-user", "add", "app", "--config", config_path}, dir.path(), "another-password\n");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_THAT(r.err, HasSubstr("already exists"));
    r = test::run({binary, "api-user", "add", "shorty", "--config", config_path}, dir.path(), "short\n");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_THAT(r.err, HasSubstr("too short"));
    r = test::run({binary, "api-user", "add", "bad:name", "--config", config_path}, dir.path(), "long-enough-pass\n");
    EXPECT_NE(r.exit_code, 0);
    r = test::run({binary, "admin-user", "add", "root", "--config", config_path}, dir.path(), "admin-password\n");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = test::run({binary, "api-user", "list", "--config", config_path}, dir.path());
    EXPECT_EQ(r.out, "app\n");
    r = test::run({binary, "admin-user", "list", "--config", config_path}, dir.path());
    EXPECT_EQ(r.out, "root\n");
    // Only hashes on disk, mode 0600.
    auto users = test::slurp(dir / "state/users.json");
    EXPECT_THAT(users, HasSubstr("$scrypt$"));
    EXPECT_THAT(users, ::testing::Not(HasSubstr("s3cret-password")));
    EXPECT_EQ(std::filesystem::status(dir / "state/users.json").permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    r = test::run({binary, "api-user", "remove", "app", "--config", config_path}, dir.path());
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(test::run({binary, "api-user", "list", "--config", config_path}, dir.path()).out, "");
}

TEST_F(Daemon, StartsServesAndStopsCleanlyOnSigterm) {
    add_user("app", "s3cret-password");
    auto d = start();
    EXPECT_THAT(notify.received(), HasSubstr("STATUS="));

    // The seed's request-otp: answered, with a clear code, since no modem is attached.
    auto r = api(R"({"command":"request-otp","data":{"date_time":1629685778,"receiver":"08126666666","message":"Your OTP is %s",
                     "reference":"12345678901234567890","param1":"100000","param2":"1234567890","param3":"987654","param4":"674527846556468254"}})");
    ASSERT_EQ(r.status, 200) << d->err();
    auto body = json::parse(r.body);
    EXPECT_EQ(body["response_code"], "1101");
    EXPECT_EQ(body["data"]["reference"], "12345678901234567890");

    EXPECT_EQ(api("{}", "").status, 401);
    EXPECT_EQ(api("{}", "app:wrong-password").status, 401);
    EXPECT_EQ(api("not json").status, 400);
    EXPECT_EQ(api(R"({"command":"echo","data":{"x":1}})").status, 200);
    // Still serving after all that.
    EXPECT_EQ(json::parse(api(R"({"command":"get-modem-list","data":{}})").body)["data"]["modem_list"]["m1"]["name"], "SIM800L");

    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(15s), 0) << d->err();
    EXPECT_TRUE(notify.wait_for("STOPPING=1", 1s));
    EXPECT_THAT(d->err(), HasSubstr("stopped cleanly"));
    // Nothing secret reached the log.
    EXPECT_THAT(d->err(), ::testing::Not(HasSubstr("s3cret-password")));
    EXPECT_THAT(d->err(), ::testing::Not(HasSubstr("628126666666")));
}

TEST_F(Daemon, SigintStopsToo) {
    auto d = start();
    d->signal(SIGINT);
    EXPECT_EQ(d->wait(15s), 0);
}

TEST_F(Daemon, ReloadKeepsRunningOnBadConfigAndAppliesGoodOne) {
    add_user("app", "s3cret-password");
    auto d = start();
    std::ofstream(config_path) << R"({"api": {"htp": 1}})";
    d->signal(SIGHUP);
    for (int i = 0; i < 200 && d->err().find("keeping the running config") == std::string::npos; ++i) ::usleep(10'000);
    EXPECT_THAT(d->err(), HasSubstr("api.htp: unknown key"));
    EXPECT_TRUE(d->running());
    EXPECT_EQ(api(R"({"command":"echo","data":{}})").status, 200);

    cfg["api"]["paths"]["otp"] = "/v2/otp";
    write_config();
    d->signal(SIGHUP);
    for (int i = 0; i < 200 && d->err().find("configuration applied") == std::string::npos; ++i) ::usleep(10'000);
    EXPECT_EQ(api(R"({"command":"echo","data":{}})").status, 404);  // /api/otp moved
    test::raw_client c(port);
    c.send(test::post("/v2/otp", R"({"command":"echo","data":{}})", basic("app:s3cret-password")));
    EXPECT_EQ(c.read_reply(10s).status, 200);
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(15s), 0);
}

TEST_F(Daemon, PicksUpUsersAddedWhileRunning) {
    auto d = start();
    EXPECT_EQ(api(R"({"command":"echo","data":{}})").status, 401);
    add_user("app", "s3cret-password");
    int status = 0;
    for (int i = 0; i < 100 && status != 200; ++i) {
        status = api(R"({"command":"echo","data":{}})").status;
        if (status != 200) ::usleep(100'000);
    }
    EXPECT_EQ(status, 200);
}

TEST_F(Daemon, BlockListSurvivesRestart) {
    add_user("app", "s3cret-password");
    {
        auto d = start();
        EXPECT_EQ(json::parse(api(R"({"command":"block-msisdn","data":{"receiver":"08126666666"}})").body)["response_code"], "0000");
        d->signal(SIGTERM);
        ASSERT_EQ(d->wait(15s), 0);
    }
    test::notify_socket again(dir / "notify2.sock");
    test::child d({binary, "--config", config_path}, dir.path(), "", {{"NOTIFY_SOCKET", again.path()}});
    ASSERT_TRUE(again.wait_for("READY=1", 20s));
    auto r = json::parse(api(R"({"command":"request-otp","data":{"receiver":"+628126666666","reference":"r1"}})").body);
    EXPECT_EQ(r["response_code"], "1207");
}

TEST_F(Daemon, RefusesToStartOnBadConfigOrBusyPort) {
    std::ofstream(config_path) << R"({"modems": [{"id": "m1", "prot": "/dev/x", "port": "/dev/x"}]})";
    auto r = test::run({binary, "--config", config_path}, dir.path());
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("modems[0].prot: unknown key"));

    write_config();
    auto first = start();
    test::notify_socket second_notify(dir / "notify3.sock");
    test::child second({binary, "--config", config_path}, dir.path(), "", {{"NOTIFY_SOCKET", second_notify.path()}});
    EXPECT_EQ(second.wait(20s), 1);
    EXPECT_THAT(second.err(), HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(port)));
    EXPECT_THAT(second_notify.received(), ::testing::Not(HasSubstr("READY=1")));
}

TEST_F(Daemon, SecretsInStateDirArePrivate) {
    auto d = start();
    namespace fs = std::filesystem;
    ASSERT_TRUE(fs::exists(dir / "state/otp.key"));
    EXPECT_EQ(fs::file_size(dir / "state/otp.key"), 64u);
    EXPECT_EQ(fs::status(dir / "state/otp.key").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
}

// The whole product: the real daemon, a simulated modem on a pty, an OTP
// requested over HTTP, read from what the "phone" received, verified once.
#include "otppi/sim/modem_simulator.hpp"

#include <regex>

TEST_F(Daemon, OtpRoundTripThroughASimulatedModem) {
    sim::sim_options so;
    so.link = dir / "modem.tty";
    so.send_delay = std::chrono::milliseconds(20);
    sim::modem_simulator modem(so);
    cfg["modems"][0]["port"] = so.link;
    write_config();
    add_user("app", "s3cret-password");
    auto d = start();
    // Wait for the modem to come up.
    bool ready = false;
    for (int i = 0; i < 100 && !ready; ++i) {
        auto list = json::parse(api(R"({"command":"get-modem-list","data":{}})").body);
        ready = list["data"]["modem_list"]["m1"]["connected"] == true;
        if (!ready) ::usleep(50'000);
    }
    ASSERT_TRUE(ready) << d->err();

    auto r = json::parse(api(R"({"command":"request-otp","data":{"receiver":"08126666666","reference":"tx-42","message":"Kode OTP %s"}})").body);
    ASSERT_EQ(r["response_code"], "0000") << r.dump();
    EXPECT_EQ(r["data"]["modem_id"], "m1");
    ASSERT_TRUE(modem.wait_for_sent(1, std::chrono::seconds(5)));
    const auto sms = modem.sent().back();
    EXPECT_EQ(sms.destination, "628126666666");
    std::smatch m;
    ASSERT_TRUE(std::regex_match(sms.text, m, std::regex("Kode OTP ([0-9]{6})"))) << "SMS text has the code";
    const std::string code = m[1];

    auto verify = [&](const std::string& otp) {
        return json::parse(api(R"({"command":"verify-otp","data":{"receiver":"+628126666666","reference":"tx-42","otp":")" + otp + "\"}}").body);
    };
    EXPECT_EQ(verify(code == "000000" ? "111111" : "000000")["response_code"], "1202");
    EXPECT_EQ(verify(code)["response_code"], "0000");
    EXPECT_EQ(verify(code)["response_code"], "1203");  // single use

    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(std::chrono::seconds(15)), 0);
    // The code reached the phone and nowhere else: not the log, not the state dir.
    EXPECT_THAT(d->err(), ::testing::Not(HasSubstr(code)));
    for (const auto& f : std::filesystem::recursive_directory_iterator(dir / "state")) {
        if (f.is_regular_file()) {
            EXPECT_THAT(test::slurp(f.path().string()), ::testing::Not(HasSubstr("Kode OTP"))) << f.path();
        }
    }
}

// Issue #17 item 1: with api.max_body_bytes at its maximum (1 MiB), 70,000
// nested arrays in check-otp's date_time or echo's data killed the process.
TEST_F(Daemon, DeeplyNestedJsonIsRefusedNotACrash) {
    cfg["api"]["max_body_bytes"] = 1024 * 1024;
    write_config();
    add_user("app", "s3cret-password");
    auto d = start();
    const auto padded = [](std::string head, const std::string& tail) {
        head += std::string(70'000, '[') + "1" + std::string(70'000, ']');
        head.append(1024 * 1024 - head.size() - tail.size(), ' ');
        return head + tail;
    };
    const std::string bodies[] = {padded(R"({"command":"check-otp","data":{"reference":"r-1","date_time":)", "}}"),
                                  padded(R"({"command":"echo","data":)", "}")};
    for (const auto& body : bodies) {
        ASSERT_EQ(body.size(), 1024u * 1024);
        auto r = api(body);
        ASSERT_EQ(r.status, 400) << d->err();
        auto reply = json::parse(r.body);
        EXPECT_EQ(reply["response_code"], "1301");
        EXPECT_THAT(reply["message"].get<std::string>(), HasSubstr("JSON nested deeper than 32 levels (at byte "));
        EXPECT_TRUE(d->running());
    }
    // Still serving, on a new connection.
    EXPECT_EQ(json::parse(api(R"({"command":"check-otp","data":{"reference":"r-1","date_time":[[1]]}})").body)["data"]["date_time"],
              json::parse("[[1]]"));
    d->signal(SIGTERM);
    EXPECT_EQ(d->wait(15s), 0) << d->err();
}
