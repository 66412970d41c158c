// The admin JSON API and monitor against the real daemon binary, with the
// modem simulator on a pty: sessions, CSRF, setup and login, modems, manual
// SMS, block list, users, settings surviving a restart, and the WebSocket.
#include "otppi/auth/password.hpp"
#include "otppi/sim/modem_simulator.hpp"
#include "support/process.hpp"
#include "support/raw_client.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
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

    test::http_reply call(const std::string& method, const std::string& path, const std::string& body = "", const std::string& extra = "") {
        test::raw_client c(port);
        std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
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
    browser logged_in_admin() {
        browser b{admin_port};
        b.open_session();
        auto created = b.send("POST", "/admin/api/setup", {{"username", "root"}, {"password", "correct horse battery"}}, 201);
        b.csrf = created.value("csrf_token", "");
        return b;
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
    b.send("POST", "/admin/api/setup", {{"username", "root"}, {"password", "correct horse battery"}}, 403);
    b.csrf = s["csrf_token"];
    b.origin = "http://evil.example";
    b.send("POST", "/admin/api/setup", {{"username", "root"}, {"password", "correct horse battery"}}, 403);
    b.origin = "http://127.0.0.1:" + std::to_string(admin_port);
    auto weak = b.send("POST", "/admin/api/setup", {{"username", "root"}, {"password", "short"}}, 400);
    EXPECT_THAT(weak["error"].get<std::string>(), HasSubstr("at least 8"));
    auto created = b.send("POST", "/admin/api/setup", {{"username", "root"}, {"password", "correct horse battery"}}, 201);
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
    second.send("POST", "/admin/api/setup", {{"username", "mallory"}, {"password", "correct horse battery"}}, 409);

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
