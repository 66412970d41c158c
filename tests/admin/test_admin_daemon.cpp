// The admin JSON API and monitor against the real daemon binary, with the
// modem simulator on a pty: sessions, CSRF, setup and login, modems, manual
// SMS, block list, users, settings surviving a restart, and the WebSocket.
#include "otppi/auth/password.hpp"
#include "otppi/sim/modem_simulator.hpp"
#include "support/process.hpp"
#include "support/raw_client.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_cert.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "test_paths.hpp"

using namespace otppi;
using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

const std::string binary = OTPPI_BINARY;

// A browser's view of the admin port: one cookie, one CSRF token.
struct browser {
    explicit browser(std::uint16_t p, std::string c = {}) : port(p), cookie(std::move(c)) {}
    std::uint16_t port = 0;
    std::string cookie;  // "otppi_session=..."
    std::string csrf;
    std::string origin;
    std::string host;  // the Host header; 127.0.0.1:port when empty

    test::http_reply call(const std::string& method, const std::string& path, const std::string& body = "", const std::string& extra = "") {
        test::raw_client c(port);
        std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + (host.empty() ? "127.0.0.1:" + std::to_string(port) : host) + "\r\n";
        if (!cookie.empty()) req += "Cookie: " + cookie + "\r\n";
        if (!csrf.empty() && method != "GET") req += "X-CSRF-Token: " + csrf + "\r\n";
        if (!origin.empty()) req += "Origin: " + origin + "\r\n";
        req += extra;
        if (!body.empty()) req += "Content-Type: application/json\r\n";
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        c.send(req);
        auto r = c.read_reply(30s);
        auto pos = r.head.find("Set-Cookie: otppi_session=");
        if (pos != std::string::npos) {
            auto start = pos + std::string("Set-Cookie: ").size();
            cookie = r.head.substr(start, r.head.find(';', start) - start);
            if (cookie == "otppi_session=") cookie.clear();
        }
        return r;
    }
    json get(const std::string& path, int expect = 200) {
        auto r = call("GET", path);
        EXPECT_EQ(r.status, expect) << path << ": " << r.body;
        return json::parse(r.body, nullptr, false);
    }
    json send(const std::string& method, const std::string& path, const json& body, int expect) {
        auto r = call(method, path, body.dump());
        EXPECT_EQ(r.status, expect) << method << " " << path << ": " << r.body;
        return json::parse(r.body, nullptr, false);
    }
    void open_session() {
        auto s = get("/admin/api/session");
        csrf = s.value("csrf_token", "");
        origin = "http://127.0.0.1:" + std::to_string(port);
    }
};

class AdminDaemon : public ::testing::Test {
protected:
    AdminDaemon() {
        sim::sim_options so;
        so.link = dir / "modem.tty";
        so.send_delay = 10ms;
        modem = std::make_unique<sim::modem_simulator>(so);
        api_port = test::free_port();
        admin_port = test::free_port();
        cfg = json::parse(R"({"device_name": "test-pi", "general": {"log_level": "debug"},
                              "modems": [{"id": "m1", "name": "SIM800L", "default_modem": true}]})");
        cfg["state_dir"] = dir / "state";
        cfg["api"]["http"] = {{"bind", "127.0.0.1"}, {"port", api_port}};
        // The server's side only: the real pages are tested in Chromium (tests/web).
        std::filesystem::create_directories(dir / "web/assets");
        std::ofstream(dir / "web/index.html") << "<!doctype html><title>otppi</title><script type=module src=/assets/app.js></script>";
        std::ofstream(dir / "web/assets/app.js") << "console.log('hi');";
        cfg["admin"] = {{"bind", "127.0.0.1"}, {"port", admin_port}, {"web_root", dir / "web"}};
        cfg["modems"][0]["port"] = so.link;
        std::ofstream(config_path) << cfg.dump(2);
    }
    void start() {
        notify.clear();
        daemon = std::make_unique<test::child>(std::vector<std::string>{binary, "--config", config_path}, dir.path(), "",
                                               std::map<std::string, std::string>{{"NOTIFY_SOCKET", notify.path()}});
        ASSERT_TRUE(notify.wait_for("READY=1", 20s)) << daemon->err();
    }
    void stop() {
        daemon->signal(SIGTERM);
        EXPECT_EQ(daemon->wait(15s), 0) << daemon->err();
    }
    // The first-run setup code, as the operator reads it on the device.
    std::string setup_code() const {
        auto code = test::slurp(dir / "state/setup-code");
        while (!code.empty() && code.back() == '\n') code.pop_back();
        return code;
    }
    browser logged_in_admin() {
        browser b{admin_port};
        b.open_session();
        auto created = b.send("POST", "/admin/api/setup", {{"username", "root"}, {"password", "correct horse battery"}, {"setup_code", setup_code()}}, 201);
        b.csrf = created.value("csrf_token", "");
        return b;
    }
    browser logged_in_as(const std::string& user, const std::string& password, int expect = 200) {
        browser b{admin_port};
        b.open_session();
        auto r = b.send("POST", "/admin/api/login", {{"username", user}, {"password", password}}, expect);
        b.csrf = r.value("csrf_token", "");
        return b;
    }
    // `otppi admin-user ...` / `otppi api-user ...`, as an operator on the box runs them.
    void cli(const std::vector<std::string>& args, const std::string& input = "") {
        std::vector<std::string> argv{binary};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), {"--config", config_path});
        auto r = test::run(argv, dir.path(), input);
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    // SIGHUP, and wait until the daemon says it is serving again.
    void reload() {
        notify.clear();
        daemon->signal(SIGHUP);
        ASSERT_TRUE(notify.wait_for("READY=1", 20s)) << daemon->err();
    }
    void wait_modem_ready(browser& b) {
        for (int i = 0; i < 200; ++i) {
            auto m = b.get("/admin/api/modems");
            if (m["modems"][0].value("state", "") == "ready") return;
            ::usleep(50'000);
        }
        FAIL() << "modem never became ready: " << daemon->err();
    }

    test::temp_dir dir;
    std::string config_path = dir / "otppi.json";
    test::notify_socket notify{dir / "notify.sock"};
    std::unique_ptr<sim::modem_simulator> modem;
    std::unique_ptr<test::child> daemon;
    json cfg;
    std::uint16_t api_port = 0, admin_port = 0;
};

}  // namespace

TEST_F(AdminDaemon, ServesThePagesWithAStrictContentSecurityPolicy) {
    start();
    browser b{admin_port};
    auto page = b.call("GET", "/");
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_TRUE(page.has_header("Content-Type: text/html"));
    EXPECT_THAT(page.head, HasSubstr("Content-Security-Policy: default-src 'self'"));
    EXPECT_THAT(page.head, HasSubstr("X-Frame-Options: DENY"));
    EXPECT_THAT(page.head, ::testing::Not(HasSubstr("Strict-Transport-Security"))) << "HSTS over plain HTTP means nothing";
    auto etag_pos = page.head.find("ETag: ");
    ASSERT_NE(etag_pos, std::string::npos);
    auto etag = page.head.substr(etag_pos + 6, page.head.find("\r\n", etag_pos) - etag_pos - 6);
    EXPECT_EQ(b.call("GET", "/", "", "If-None-Match: " + etag + "\r\n").status, 304);
    auto js = b.call("GET", "/assets/app.js");
    EXPECT_EQ(js.status, 200);
    EXPECT_TRUE(js.has_header("Content-Type: text/javascript"));
    EXPECT_EQ(b.call("GET", "/../../etc/passwd").status, 404);
    EXPECT_EQ(b.call("GET", "/assets/../../otppi.json").status, 404);
    EXPECT_EQ(b.call("GET", "/no-such-page.html").status, 404);
    EXPECT_EQ(b.call("POST", "/").status, 405);
    stop();
}

TEST_F(AdminDaemon, FirstRunSetupThenLoginWithRotatedSessionsAndCsrf) {
    start();
    browser b{admin_port};
    auto s = b.get("/admin/api/session");
    EXPECT_EQ(s["setup_required"], true);
    EXPECT_EQ(s["logged_in"], false);
    ASSERT_THAT(b.cookie, HasSubstr("otppi_session="));
    const std::string anonymous_cookie = b.cookie;
    // No token: refused. A foreign origin: refused even with the token.
    const json root = {{"username", "root"}, {"password", "correct horse battery"}, {"setup_code", setup_code()}};
    b.send("POST", "/admin/api/setup", root, 403);
    b.csrf = s["csrf_token"];
    b.origin = "http://evil.example";
    b.send("POST", "/admin/api/setup", root, 403);
    b.origin = "http://127.0.0.1:" + std::to_string(admin_port);
    auto weak = b.send("POST", "/admin/api/setup", {{"username", "root"}, {"password", "short"}, {"setup_code", setup_code()}}, 400);
    EXPECT_THAT(weak["error"].get<std::string>(), HasSubstr("at least 8"));
    auto created = b.send("POST", "/admin/api/setup", root, 201);
    EXPECT_NE(b.cookie, anonymous_cookie) << "the session id is rotated at login";
    b.csrf = created["csrf_token"];
    EXPECT_EQ(b.get("/admin/api/session")["logged_in"], true);
    // The cookie is HttpOnly and SameSite=Strict.
    auto raw = b.call("POST", "/admin/api/logout");
    EXPECT_THAT(raw.head, HasSubstr("HttpOnly; SameSite=Strict"));
    EXPECT_EQ(raw.status, 200);

    // The old anonymous id is worthless; setup is closed now.
    browser attacker{admin_port, anonymous_cookie};
    EXPECT_EQ(attacker.get("/admin/api/status", 401).value("error", ""), "Please log in.");
    browser second{admin_port};
    second.open_session();
    EXPECT_EQ(second.get("/admin/api/session")["setup_required"], false);
    second.send("POST", "/admin/api/setup", {{"username", "mallory"}, {"password", "correct horse battery"}, {"setup_code", "00000-00000"}}, 409);

    // Wrong passwords: one message for all, then throttled.
    auto wrong = second.send("POST", "/admin/api/login", {{"username", "root"}, {"password", "wrong password!"}}, 401);
    EXPECT_EQ(wrong["error"], "Wrong user name or password.");
    second.send("POST", "/admin/api/login", {{"username", "nobody"}, {"password", "wrong password!"}}, 401);
    auto login = second.send("POST", "/admin/api/login", {{"username", "root"}, {"password", "correct horse battery"}}, 200);
    second.csrf = login["csrf_token"];
    EXPECT_EQ(second.get("/admin/api/session")["user"], "root");
    // The previous token no longer works after a login.
    second.csrf = s["csrf_token"];
    second.send("POST", "/admin/api/logout", json::object(), 403);
    stop();
    EXPECT_THAT(daemon->err(), ::testing::Not(HasSubstr("correct horse")));
}

TEST_F(AdminDaemon, LoginAttemptsAreThrottledPerAddress) {
    start();
    auto admin = logged_in_admin();
    browser b{admin_port};
    b.open_session();
    int throttled = 0;
    std::string retry_after;
    for (int i = 0; i < 12; ++i) {
        auto r = b.call("POST", "/admin/api/login", json({{"username", "root"}, {"password", "guess number " + std::to_string(i)}}).dump());
        if (r.status == 429) {
            ++throttled;
            if (retry_after.empty() && r.head.find("Retry-After: ") != std::string::npos) retry_after = r.head.substr(r.head.find("Retry-After: ") + 13, 3);
        } else {
            EXPECT_EQ(r.status, 401);
        }
    }
    EXPECT_EQ(throttled, 2);
    EXPECT_FALSE(retry_after.empty());
    stop();
}

TEST_F(AdminDaemon, ModemsManualSmsBlockListAndInbox) {
    start();
    auto b = logged_in_admin();
    wait_modem_ready(b);
    auto modems = b.get("/admin/api/modems")["modems"];
    ASSERT_EQ(modems.size(), 1u);
    EXPECT_EQ(modems[0]["imei"], modem->imei());
    EXPECT_EQ(modems[0]["sim_pin_set"], false);
    EXPECT_FALSE(modems[0].contains("sim_pin"));

    auto sent = b.send("POST", "/admin/api/sms", {{"modem_id", "m1"}, {"receiver", "081234567890"}, {"message", "Halo dari admin"}}, 200);
    EXPECT_EQ(sent["modem_id"], "m1");
    ASSERT_TRUE(modem->wait_for_sent(1, 5s));
    EXPECT_EQ(modem->sent().back().destination, "6281234567890");
    EXPECT_EQ(modem->sent().back().text, "Halo dari admin");

    auto bad = b.send("POST", "/admin/api/sms", {{"receiver", "not a number"}, {"message", "x"}}, 400);
    EXPECT_THAT(bad["errors"][0].get<std::string>(), HasSubstr("receiver"));

    b.send("POST", "/admin/api/blocklist", {{"msisdn", "081234567890"}}, 201);
    EXPECT_EQ(b.get("/admin/api/blocklist")["numbers"], json::array({"6281234567890"}));
    auto blocked = b.send("POST", "/admin/api/sms", {{"receiver", "+6281234567890"}, {"message", "x"}}, 400);
    EXPECT_THAT(blocked["error"].get<std::string>(), HasSubstr("block list"));
    b.call("DELETE", "/admin/api/blocklist/6281234567890");
    EXPECT_EQ(b.get("/admin/api/blocklist")["numbers"], json::array());
    EXPECT_EQ(b.call("DELETE", "/admin/api/blocklist/6281234567890").status, 404);

    // An incoming SMS shows in the inbox; it can be marked read and deleted.
    modem->deliver_sms("+628111222333", "Balasan dari pelanggan");
    json messages;
    for (int i = 0; i < 100 && messages.empty(); ++i) {
        messages = b.get("/admin/api/inbox")["messages"];
        if (messages.empty()) ::usleep(50'000);
    }
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0]["text"], "Balasan dari pelanggan");
    const std::string id = messages[0]["id"];
    b.send("POST", "/admin/api/inbox/m1/" + id + "/read", {{"read", true}}, 200);
    EXPECT_EQ(b.get("/admin/api/inbox")["messages"][0]["read"], true);
    EXPECT_EQ(b.call("DELETE", "/admin/api/inbox/m1/" + id).status, 200);
    EXPECT_TRUE(b.get("/admin/api/inbox")["messages"].empty());

    auto status = b.get("/admin/api/status");
    EXPECT_EQ(status["modems_ready"], 1);
    EXPECT_EQ(status["sms_sent_today"], 1);
    EXPECT_GT(status["memory_rss_bytes"].get<std::int64_t>(), 0);

    auto log = b.get("/admin/api/sms-log?days=2");
    ASSERT_EQ(log["days"].size(), 2u);
    EXPECT_EQ(log["days"][1]["modems"]["m1"]["sent"], 1);
    EXPECT_EQ(log["days"][1]["modems"].size(), 1u) << "the CSV header line counted as a modem: " << log.dump();
    ASSERT_EQ(log["entries"].size(), 1u) << log.dump();
    EXPECT_EQ(log["entries"][0]["kind"], "manual");
    EXPECT_THAT(log["entries"][0]["receiver"].get<std::string>(), HasSubstr("*"));
    stop();
}

TEST_F(AdminDaemon, ModemEditsAndSettingsPersistAcrossARestart) {
    start();
    auto b = logged_in_admin();
    auto bad = b.send("PUT", "/admin/api/settings", {{"otp", {{"length", 99}}}, {"sms", {{"country_code", "abc"}}}}, 400);
    EXPECT_EQ(bad["errors"].size(), 2u) << bad.dump();
    auto ok = b.send("PUT", "/admin/api/settings", {{"otp", {{"length", 8}}}, {"api", {{"http", {{"port", api_port + 1}}}}}}, 200);
    EXPECT_EQ(ok["settings"]["otp"]["length"], 8);
    // The OTP engine keeps its length until a restart, and the answer says so.
    EXPECT_EQ(ok["restart_required"], json::array({"api.http", "otp"}));
    b.send("PUT", "/admin/api/settings", {{"api", {{"http", {{"port", api_port}}}}}}, 200);

    auto edited = b.send("PUT", "/admin/api/modems/m1", {{"name", "Telkomsel SIM"}, {"recipient_prefix", {"62812"}}}, 200);
    EXPECT_EQ(edited["modem"]["name"], "Telkomsel SIM");
    auto wrong = b.send("PUT", "/admin/api/modems/m1", {{"baud_rate", 12345}}, 400);
    EXPECT_THAT(wrong["errors"][0].get<std::string>(), HasSubstr("modems[0].baud_rate"));
    b.send("POST", "/admin/api/modems", {{"id", "m2"}, {"name", "spare"}, {"port", "/dev/otppi-test-none"}, {"active", false}}, 201);
    b.send("POST", "/admin/api/modems", {{"id", "m2"}, {"port", "/dev/otppi-test-none"}}, 409);
    EXPECT_EQ(b.get("/admin/api/modems")["modems"].size(), 2u);
    b.send("DELETE", "/admin/api/modems/m2", json::object(), 200);
    b.send("POST", "/admin/api/api-users", {{"name", "shop"}, {"password", "shop-password-1"}}, 201);
    wait_modem_ready(b);
    b.send("POST", "/admin/api/sms", {{"modem_id", "m1"}, {"receiver", "081234567890"}, {"message", "before the restart"}}, 200);
    stop();

    // What the admin saved is in the config file and back after a restart.
    auto file = json::parse(test::slurp(config_path));
    EXPECT_EQ(file["otp"]["length"], 8);
    EXPECT_EQ(file["modems"][0]["name"], "Telkomsel SIM");
    start();
    browser again{admin_port};
    again.open_session();
    again.send("POST", "/admin/api/login", {{"username", "root"}, {"password", "correct horse battery"}}, 200);
    again.csrf = again.get("/admin/api/session")["csrf_token"];
    auto settings = again.get("/admin/api/settings");
    EXPECT_EQ(settings["settings"]["otp"]["length"], 8);
    EXPECT_EQ(settings["restart_required"], json::array());
    EXPECT_EQ(again.get("/admin/api/modems")["modems"][0]["recipient_prefix"], json::array({"62812"}));
    EXPECT_EQ(again.get("/admin/api/api-users")["users"][0]["name"], "shop");
    // Today's counts are read back from the SMS log (its header line is no failed SMS).
    json status;
    for (int i = 0; i < 100; ++i) {
        status = again.get("/admin/api/status");
        if (status["sms_sent_today"] != 0) break;
        ::usleep(20'000);
    }
    EXPECT_EQ(status["sms_sent_today"], 1);
    EXPECT_EQ(status["sms_failed_today"], 0);
    // The API user made in the UI works on the REST API.
    test::raw_client api(api_port);
    api.send(test::post("/api/otp", R"({"command":"echo","data":{}})", "Authorization: Basic " + auth::base64_encode("shop:shop-password-1") + "\r\n"));
    EXPECT_EQ(api.read_reply(20s).status, 200);
    stop();
}

TEST_F(AdminDaemon, RestartFromTheUiKeepsTheProcessAndItsSettings) {
    start();
    auto b = logged_in_admin();
    b.send("PUT", "/admin/api/settings", {{"otp", {{"length", 7}}}}, 200);
    notify.clear();
    EXPECT_EQ(b.send("POST", "/admin/api/restart", json::object(), 200)["restarting"], true);
    ASSERT_TRUE(notify.wait_for("RELOADING=1", 15s)) << daemon->err();
    ASSERT_TRUE(notify.wait_for("READY=1", 20s)) << daemon->err();
    EXPECT_THAT(daemon->err(), HasSubstr("restarting"));
    // A new run: sessions are gone, the saved settings are in force.
    EXPECT_EQ(b.get("/admin/api/status", 401).value("error", ""), "Please log in.");
    browser again{admin_port};
    again.open_session();
    again.csrf = again.send("POST", "/admin/api/login", {{"username", "root"}, {"password", "correct horse battery"}}, 200).value("csrf_token", "");
    EXPECT_EQ(again.get("/admin/api/settings")["settings"]["otp"]["length"], 7);
    stop();
}

TEST_F(AdminDaemon, MonitorWebSocketNeedsASessionAndStreamsStatus) {
    start();
    auto b = logged_in_admin();
    const std::string handshake = "GET /admin/ws HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(admin_port) +
                                  "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://127.0.0.1:" + std::to_string(admin_port) + "\r\n";
    {
        test::raw_client anon(admin_port);
        anon.send(handshake + "\r\n");
        EXPECT_EQ(anon.read_reply(10s).status, 401);
    }
    {
        test::raw_client foreign(admin_port);
        std::string h = handshake;
        h.replace(h.find("Origin: http://127.0.0.1"), 24, "Origin: http://evil.test");
        foreign.send(h + "Cookie: " + b.cookie + "\r\n\r\n");
        EXPECT_EQ(foreign.read_reply(10s).status, 403);
    }
    test::raw_client ws(admin_port);
    ws.send(handshake + "Cookie: " + b.cookie + "\r\n\r\n");
    // 101 has no body; read_reply would wait for Content-Length, so read raw.
    ASSERT_FALSE(ws.closed_by_peer(1500ms));
    const auto& got = ws.buffered();
    ASSERT_THAT(got, HasSubstr("HTTP/1.1 101"));
    EXPECT_THAT(got, HasSubstr("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));  // RFC 6455's example accept key
    auto frame_start = got.find("\r\n\r\n") + 4;
    ASSERT_LT(frame_start + 4, got.size());
    EXPECT_EQ(static_cast<unsigned char>(got[frame_start]), 0x81) << "a final text frame";
    EXPECT_THAT(got.substr(frame_start), HasSubstr("\"type\":\"status\""));
    EXPECT_THAT(got.substr(frame_start), HasSubstr("\"type\":\"modems\""));
    stop();  // closes the monitor too: the daemon still exits 0 promptly
}

// ---------------------------------------------------------------- issue 17

TEST_F(AdminDaemon, AdministratorRemovedFromTheCliLosesHisOpenSession) {
    start();
    auto root = logged_in_admin();
    cli({"admin-user", "add", "dave"}, "dave-password-1\n");
    reload();
    auto dave = logged_in_as("dave", "dave-password-1");
    EXPECT_EQ(dave.get("/admin/api/status").value("modems_total", -1), 1);
    cli({"admin-user", "remove", "dave"});
    reload();
    EXPECT_EQ(dave.get("/admin/api/status", 401).value("error", ""), "Please log in.");
    // The open session cannot make a new administrator either.
    dave.send("POST", "/admin/api/admins", {{"name", "mallory"}, {"password", "mallory-password"}}, 401);
    EXPECT_EQ(root.get("/admin/api/admins")["admins"].size(), 1u) << "mallory was created";
    EXPECT_THAT(daemon->err(), HasSubstr("1 session(s) ended"));
    stop();
}

TEST_F(AdminDaemon, PasswordChangedFromTheCliEndsOlderSessionsAndTheNewOneLogsIn) {
    start();
    auto root = logged_in_admin();
    cli({"admin-user", "add", "alice"}, "alice-password-1\n");
    reload();
    auto alice_laptop = logged_in_as("alice", "alice-password-1");
    auto alice_phone = logged_in_as("alice", "alice-password-1");
    cli({"admin-user", "passwd", "alice"}, "alice-password-2\n");
    reload();
    alice_laptop.get("/admin/api/status", 401);
    alice_phone.get("/admin/api/status", 401);
    root.get("/admin/api/status", 200);  // another administrator is not touched
    logged_in_as("alice", "alice-password-1", 401);
    auto again = logged_in_as("alice", "alice-password-2");
    EXPECT_EQ(again.get("/admin/api/session")["user"], "alice");
    // Even the same password set again is a change of credentials.
    cli({"admin-user", "passwd", "alice"}, "alice-password-2\n");
    reload();
    again.get("/admin/api/status", 401);
    stop();
}

TEST_F(AdminDaemon, ApiUserPasswordChangedFromTheCliRefusesTheOldPasswordAtOnce) {
    start();
    cli({"api-user", "add", "shop"}, "shop-password-1\n");
    reload();
    auto call = [&](const std::string& password) {
        test::raw_client api(api_port);
        api.send(test::post("/api/otp", R"({"command":"echo","data":{}})", "Authorization: Basic " + auth::base64_encode("shop:" + password) + "\r\n"));
        return api.read_reply(20s).status;
    };
    ASSERT_EQ(call("shop-password-1"), 200);
    ASSERT_EQ(call("shop-password-1"), 200);  // now from the cache
    cli({"api-user", "passwd", "shop"}, "shop-password-2\n");
    reload();
    EXPECT_EQ(call("shop-password-1"), 401);
    EXPECT_EQ(call("shop-password-2"), 200);
    cli({"api-user", "remove", "shop"});
    reload();
    EXPECT_EQ(call("shop-password-2"), 401);
    stop();
}

TEST_F(AdminDaemon, CorruptUsersFileKeepsTheUsersAndTheLogSaysSoWithoutThrottlingClients) {
    start();
    auto root = logged_in_admin();
    root.send("POST", "/admin/api/api-users", {{"name", "shop"}, {"password", "shop-password-1"}}, 201);
    {
        std::ofstream(dir / "state/users.json", std::ios::trunc) << R"({"api_users": {"shop": {"hash": )";
    }
    reload();
    EXPECT_THAT(daemon->err(), HasSubstr("users file not loaded, still using the 1 API user(s) and 1 administrator(s)"));
    EXPECT_EQ(root.get("/admin/api/admins")["admins"].size(), 1u);
    logged_in_as("root", "correct horse battery");
    // Names the daemon cannot know while the file is broken: no failure is
    // held against the address, so the real login still goes through.
    browser b{admin_port};
    b.open_session();
    for (int i = 0; i < 12; ++i) b.send("POST", "/admin/api/login", {{"username", "newcomer"}, {"password", "newcomer-password"}}, 401);
    b.send("POST", "/admin/api/login", {{"username", "root"}, {"password", "correct horse battery"}}, 200);
    test::raw_client api(api_port);
    api.send(test::post("/api/otp", R"({"command":"echo","data":{}})", "Authorization: Basic " + auth::base64_encode("shop:shop-password-1") + "\r\n"));
    EXPECT_EQ(api.read_reply(20s).status, 200);
    stop();
}

TEST_F(AdminDaemon, FirstRunSetupNeedsTheOneTimeCodeFromTheStateDir) {
    start();
    const auto code = setup_code();
    ASSERT_EQ(code.size(), 11u) << "no setup code in state_dir/setup-code";
    struct stat st {};
    ASSERT_EQ(::stat((dir / "state/setup-code").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // Shown once in the log, at info level, so the operator can read it from the journal.
    const auto log = daemon->err();
    ASSERT_NE(log.find(code), std::string::npos);
    EXPECT_EQ(log.find(code), log.rfind(code));

    browser b{admin_port};
    b.open_session();
    const json account = {{"username", "root"}, {"password", "correct horse battery"}};
    auto missing = b.send("POST", "/admin/api/setup", account, 400);
    EXPECT_THAT(missing["error"].get<std::string>(), HasSubstr("setup_code"));
    json wrong = account;
    wrong["setup_code"] = code == "00000-00000" ? "11111-11111" : "00000-00000";
    auto refused = b.send("POST", "/admin/api/setup", wrong, 403);
    EXPECT_THAT(refused["error"].get<std::string>(), HasSubstr("setup-code"));
    // Typed the forgiving way: lower case, no dash.
    json right = account;
    std::string typed;
    for (char ch : code)
        if (ch != '-') typed += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    right["setup_code"] = typed;
    b.send("POST", "/admin/api/setup", right, 201);
    // Spent: the file goes and the code cannot make a second administrator.
    for (int i = 0; i < 100 && std::filesystem::exists(dir / "state/setup-code"); ++i) ::usleep(20'000);
    EXPECT_FALSE(std::filesystem::exists(dir / "state/setup-code"));
    browser other{admin_port};
    other.open_session();
    other.send("POST", "/admin/api/setup", right, 409);
    stop();
    // A claimed box makes no new code at the next start.
    start();
    EXPECT_FALSE(std::filesystem::exists(dir / "state/setup-code"));
    stop();
    EXPECT_THAT(daemon->err(), ::testing::Not(HasSubstr("correct horse")));
}

TEST_F(AdminDaemon, SetupCodeSurvivesARestartUntilUsedAndWrongCodesAreThrottled) {
    start();
    const auto code = setup_code();
    stop();
    start();
    EXPECT_EQ(setup_code(), code) << "a restart before the box is claimed keeps the code the operator noted";
    EXPECT_EQ(daemon->err().find(code), std::string::npos) << "shown in the log once, when it was made";
    browser b{admin_port};
    b.open_session();
    json guess = {{"username", "mallory"}, {"password", "correct horse battery"}};
    int refused = 0, throttled = 0;
    for (int i = 0; i < 12; ++i) {
        guess["setup_code"] = "0000" + std::to_string(i % 10) + "-00000";
        if (guess["setup_code"] == code) continue;
        auto r = b.call("POST", "/admin/api/setup", guess.dump());
        refused += r.status == 403;
        throttled += r.status == 429;
    }
    EXPECT_EQ(refused, 10);
    EXPECT_GE(throttled, 1);
    // Throttled means throttled: the right code waits too.
    guess["setup_code"] = code;
    EXPECT_EQ(b.call("POST", "/admin/api/setup", guess.dump()).status, 429);
    stop();
}

TEST_F(AdminDaemon, ForeignHostIsRefusedOnBothPortsAndConfiguredNamesAccepted) {
    cfg["server_names"] = {"gateway.test"};
    std::ofstream(config_path, std::ios::trunc) << cfg.dump(2);
    start();
    // A page of evil.example whose name now resolves to this box (DNS
    // rebinding): Host and Origin both carry its own name.
    browser rebound{admin_port};
    rebound.host = "evil.example:" + std::to_string(admin_port);
    auto page = rebound.call("GET", "/");
    EXPECT_EQ(page.status, 421) << page.body;
    EXPECT_THAT(page.body, HasSubstr("not a name of this device"));
    EXPECT_EQ(rebound.call("GET", "/admin/api/session").status, 421);
    test::raw_client api(api_port);
    api.send("POST /api/otp HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    auto refused = api.read_reply(10s);
    EXPECT_EQ(refused.status, 421);
    EXPECT_THAT(refused.body, HasSubstr("server_names"));
    // This device's names pass: loopback, localhost, the configured one.
    for (const std::string& host : std::vector<std::string>{"localhost:" + std::to_string(admin_port), "gateway.test:" + std::to_string(admin_port), "[::1]"}) {
        browser ok{admin_port};
        ok.host = host;
        EXPECT_EQ(ok.call("GET", "/").status, 200) << host;
    }
    test::raw_client api_ok(api_port);
    api_ok.send("POST /api/otp HTTP/1.1\r\nHost: gateway.test\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    EXPECT_EQ(api_ok.read_reply(10s).status, 401);  // past the Host check, at the credentials
    // Origin is checked against the device's names, not against Host.
    auto root = logged_in_admin();
    root.host = "gateway.test:" + std::to_string(admin_port);
    root.origin = "http://localhost:" + std::to_string(admin_port);
    root.send("PUT", "/admin/api/settings", {{"device_name", "renamed"}}, 200);
    root.origin = "http://gateway.test:" + std::to_string(admin_port + 1);  // another port is another site
    root.send("PUT", "/admin/api/settings", {{"device_name", "renamed"}}, 403);
    stop();
}

TEST_F(AdminDaemon, OnlyTheUiAssetsAreServedNotOtherFilesOfWebRoot) {
    std::ofstream(dir / "web/README.md") << "internal notes";
    std::filesystem::create_directories(dir / "web/backup");
    std::ofstream(dir / "web/backup/index.html") << "old";
    std::filesystem::create_directories(dir / "web/assets/pages");
    std::ofstream(dir / "web/assets/pages/home.js") << "export {};";
    start();
    browser b{admin_port};
    EXPECT_EQ(b.call("GET", "/README.md").status, 404);
    EXPECT_EQ(b.call("GET", "/backup/index.html").status, 404);
    EXPECT_EQ(b.call("GET", "/index.html").status, 200);
    EXPECT_EQ(b.call("GET", "/assets/pages/home.js").status, 200);
    stop();
}

namespace {
// GET / over TLS with OpenSSL as the client: the response head.
std::string tls_get_head(std::uint16_t port) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        SSL* ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        SSL_set_tlsext_host_name(ssl, "localhost");
        if (SSL_connect(ssl) == 1) {
            const std::string req = "GET / HTTP/1.1\r\nHost: localhost:" + std::to_string(port) + "\r\nConnection: close\r\n\r\n";
            SSL_write(ssl, req.data(), static_cast<int>(req.size()));
            char buf[4096];
            int n;
            while (out.find("\r\n\r\n") == std::string::npos && (n = SSL_read(ssl, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
        }
        SSL_free(ssl);
    }
    ::close(fd);
    SSL_CTX_free(ctx);
    return out.substr(0, out.find("\r\n\r\n"));
}
}  // namespace

TEST_F(AdminDaemon, HstsIsSentWhenTheAdminUiRunsOverTls) {
    ASSERT_TRUE(test::make_self_signed(dir / "cert.pem", dir / "key.pem"));
    cfg["admin"]["https"] = true;
    cfg["admin"]["cert_file"] = dir / "cert.pem";
    cfg["admin"]["key_file"] = dir / "key.pem";
    std::ofstream(config_path, std::ios::trunc) << cfg.dump(2);
    start();
    const auto head = tls_get_head(admin_port);
    ASSERT_THAT(head, HasSubstr("HTTP/1.1 200"));
    EXPECT_THAT(head, HasSubstr("Strict-Transport-Security: max-age=31536000"));
    stop();
}

TEST_F(AdminDaemon, OneSessionCannotTakeEveryMonitorSlot) {
    start();
    auto b = logged_in_admin();
    const std::string handshake = "GET /admin/ws HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(admin_port) +
                                  "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://127.0.0.1:" + std::to_string(admin_port) + "\r\n";
    std::vector<std::unique_ptr<test::raw_client>> open;
    for (int i = 0; i < 4; ++i) {
        open.push_back(std::make_unique<test::raw_client>(admin_port));
        open.back()->send(handshake + "Cookie: " + b.cookie + "\r\n\r\n");
        ASSERT_FALSE(open.back()->closed_by_peer(1500ms)) << i;
        ASSERT_THAT(open.back()->buffered(), HasSubstr("HTTP/1.1 101")) << i;
    }
    test::raw_client fifth(admin_port);
    fifth.send(handshake + "Cookie: " + b.cookie + "\r\n\r\n");
    auto r = fifth.read_reply(10s);
    EXPECT_EQ(r.status, 429);
    EXPECT_THAT(r.body, HasSubstr("Close one"));
    // Another administrator's session still gets a monitor.
    b.send("POST", "/admin/api/admins", {{"name", "second"}, {"password", "second-password"}}, 201);
    auto other = logged_in_as("second", "second-password");
    test::raw_client theirs(admin_port);
    theirs.send(handshake + "Cookie: " + other.cookie + "\r\n\r\n");
    ASSERT_FALSE(theirs.closed_by_peer(1500ms));
    EXPECT_THAT(theirs.buffered(), HasSubstr("HTTP/1.1 101"));
    stop();
}

// Issue #17 item 1: admin API bodies are read with the same depth limit as
// the REST API (the settings merge and its write-back recurse per level).
TEST_F(AdminDaemon, DeeplyNestedJsonBodyIsRefusedNotACrash) {
    start();
    auto b = logged_in_admin();
    const std::string deep = R"({"device_name":)" + std::string(30'000, '[') + std::string(30'000, ']') + "}";
    auto r = b.call("PUT", "/admin/api/settings", deep);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_THAT(json::parse(r.body, nullptr, false).value("error", ""),
                HasSubstr("nested too deeply: JSON nested deeper than 32 levels (at byte 46)"));
    // Still serving, and the settings are unchanged.
    EXPECT_EQ(b.get("/admin/api/settings")["settings"]["device_name"], "test-pi");
    EXPECT_TRUE(daemon->running());
    stop();
}
