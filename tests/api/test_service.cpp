// The API service with a scripted gateway: every command, every error path.
// The modem side has its own tests against the simulator; here the gateway
// only records what it was asked to send and answers as each test says.
#include "otppi/api/service.hpp"
#include "otppi/auth/password.hpp"
#include "otppi/core/files.hpp"
#include "support/manual_loop.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <regex>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

using namespace otppi;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

struct scripted_gateway : api::sms_gateway {
    struct sent {
        std::string receiver;
        std::string text;
        std::int64_t expires_unix;
        bool voice;
        std::function<void(api::send_result)> done;
    };
    std::vector<sent> sends;
    bool auto_answer = true;
    api::send_status answer = api::send_status::sent;
    std::function<void(std::function<void()>)> post;

    void send(api::outgoing_sms msg, std::function<void(api::send_result)> done) override {
        sends.push_back({msg.receiver, std::string(msg.text.view()), msg.expires_unix, msg.voice, done});
        if (auto_answer) complete(sends.size() - 1, answer);
    }
    void complete(std::size_t i, api::send_status st) {
        api::send_result r;
        r.status = st;
        r.modem_id = "m1";
        r.message_reference = static_cast<int>(i) + 1;
        r.parts = 1;
        if (st != api::send_status::sent) r.error = "modem said no";
        post([done = sends[i].done, r] { done(r); });
    }
    void ussd(const std::string& modem_id, const std::string&, std::function<void(api::ussd_result)> done) override {
        api::ussd_result r;
        r.unknown_modem = modem_id != "m1";
        r.ok = !r.unknown_modem;
        r.text = "Sisa pulsa Anda adalah Rp 12345";
        r.raw = r.text;
        post([done, r] { done(r); });
    }
    json modem_list() const override { return {{"m1", {{"id", "m1"}, {"name", "SIM800L"}, {"imei", "359848091599999"}}}}; }
};

class Service : public ::testing::Test {
protected:
    Service() : users(dir.path()), loop(clock) {
        users.put(auth::user_kind::api, "app", {auth::hash_password("s3cret-pass", {10, 8, 1}), 0});
        cfg.state_dir = dir.path();
        cfg.api.paths = {"/api/otp", "/api/sms", "/api/message", "/api/email", "/api/block", "/api/unblock", "/api/modem", "/api/ussd"};
        gateway.post = loop.executor();
        previous_logger = spdlog::default_logger();
        log_sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text);
        auto logger = std::make_shared<spdlog::logger>("test", log_sink);
        logger->set_level(spdlog::level::trace);
        spdlog::set_default_logger(logger);
        make_service();
    }
    ~Service() override { spdlog::set_default_logger(previous_logger); }

    void make_service() {
        std::array<std::uint8_t, 64> key{};
        key.fill(7);
        api::service_deps deps{clock, loop.executor(), loop.executor(), loop.executor(), loop.scheduler(), users, gateway};
        svc = std::make_unique<api::service>(cfg, std::move(deps), key);
        ASSERT_EQ(svc->load_state(), "");
    }

    struct result {
        int status = 0;
        json body;
        std::vector<std::pair<std::string, std::string>> headers;
        std::string raw;
    };

    // Starts a request; the answer lands in the returned slot once the loop runs.
    std::shared_ptr<std::optional<result>> start(const std::string& body, const std::string& path = "/api/otp", const std::string& method = "POST",
                                                 std::optional<std::string> auth = std::nullopt) {
        http::request req;
        req.method = method;
        req.target = path;
        req.body = body;
        req.remote_address = "127.0.0.1";
        req.authorization = auth.value_or("Basic " + otppi::auth::base64_encode("app:s3cret-pass"));
        auto slot = std::make_shared<std::optional<result>>();
        svc->handle(std::move(req), [this, slot](http::response res) {
            result r;
            r.status = res.status;
            r.raw = res.body;
            all_bodies += res.body;
            r.body = json::parse(res.body, nullptr, false);
            r.headers = res.headers;
            *slot = r;
        });
        return slot;
    }

    result call(const json& body, const std::string& path = "/api/otp") { return call_raw(body.dump(), path); }
    result call_raw(const std::string& body, const std::string& path = "/api/otp", const std::string& method = "POST",
                    std::optional<std::string> auth = std::nullopt) {
        auto slot = start(body, path, method, auth);
        loop.drain();
        EXPECT_TRUE(slot->has_value()) << "no answer for " << body;
        return slot->value_or(result{});
    }

    json otp_request(const std::string& reference = "12345678901234567890", const std::string& receiver = "08126666666") {
        return {{"command", "request-otp"},
                {"data",
                 {{"date_time", 1629685778},
                  {"receiver", receiver},
                  {"message", "Your OTP is %s"},
                  {"reference", reference},
                  {"param1", "100000"},
                  {"param2", "1234567890"},
                  {"param3", "987654"},
                  {"param4", "674527846556468254"}}}};
    }
    json verify_request(const std::string& code, const std::string& reference = "12345678901234567890", const std::string& receiver = "08126666666") {
        auto j = otp_request(reference, receiver);
        j["command"] = "verify-otp";
        j["data"].erase("message");
        j["data"]["otp"] = code;
        return j;
    }
    std::string last_code() {
        std::smatch m;
        static const std::regex digits("([0-9]{6})");
        EXPECT_FALSE(gateway.sends.empty());
        if (gateway.sends.empty()) return {};
        std::string text = gateway.sends.back().text;
        EXPECT_TRUE(std::regex_search(text, m, digits)) << "no code in the SMS";
        return m[1];
    }

    test::temp_dir dir;
    auth::user_store users;
    core::ManualClock clock;
    test::manual_loop loop;
    scripted_gateway gateway;
    config::config cfg;
    std::unique_ptr<api::service> svc;
    std::ostringstream log_text;
    std::shared_ptr<spdlog::sinks::ostream_sink_mt> log_sink;
    std::shared_ptr<spdlog::logger> previous_logger;
    std::string all_bodies;
};

std::string code_of(const json& body) { return body.value("response_code", "?"); }

}  // namespace

TEST_F(Service, RequestAndVerifyOtpLikeOtpPi) {
    auto r = call(otp_request());
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(code_of(r.body), "0000") << r.raw;
    EXPECT_EQ(r.body["command"], "request-otp");
    EXPECT_EQ(r.body["data"]["receiver"], "08126666666");
    EXPECT_EQ(r.body["data"]["reference"], "12345678901234567890");
    EXPECT_EQ(r.body["data"]["date_time"], 1629685778);
    ASSERT_EQ(gateway.sends.size(), 1u);
    EXPECT_EQ(gateway.sends[0].receiver, "628126666666");
    EXPECT_THAT(gateway.sends[0].text, ::testing::MatchesRegex("Your OTP is [0-9]{6}"));
    const auto code = last_code();

    auto v = call(verify_request(code));
    EXPECT_EQ(code_of(v.body), "0000") << v.raw;
    EXPECT_EQ(v.body["command"], "verify-otp");
    // Single use.
    EXPECT_EQ(code_of(call(verify_request(code)).body), "1203");
}

TEST_F(Service, ReceiverIsNormalisedBeforeHashing) {
    call(otp_request());
    EXPECT_EQ(code_of(call(verify_request(last_code(), "12345678901234567890", "+628126666666")).body), "0000");
}

TEST_F(Service, TheOtpNeverAppearsInRepliesOrLogs) {
    call(otp_request());
    const auto code = last_code();
    call(verify_request("000000"));
    call(verify_request(code));
    EXPECT_THAT(all_bodies, ::testing::Not(HasSubstr(code)));
    log_sink->flush();
    EXPECT_THAT(log_text.str(), ::testing::Not(HasSubstr(code)));
    EXPECT_THAT(log_text.str(), ::testing::Not(HasSubstr("Your OTP")));
    EXPECT_THAT(log_text.str(), ::testing::Not(HasSubstr("628126666666")));  // receivers are masked
}

TEST_F(Service, WrongCodeThenAttemptsExhausted) {
    call(otp_request());
    const auto code = last_code();
    const std::string wrong = code == "000000" ? "111111" : "000000";
    for (int i = 4; i >= 1; --i) {
        auto r = call(verify_request(wrong));
        EXPECT_EQ(code_of(r.body), "1202");
        EXPECT_EQ(r.body["data"]["attempts_left"], i);
    }
    EXPECT_EQ(code_of(call(verify_request(wrong)).body), "1204");
    // Dead for good, even with the right code.
    EXPECT_EQ(code_of(call(verify_request(code)).body), "1203");
}

TEST_F(Service, ParamsMustMatch) {
    call(otp_request());
    auto v = verify_request(last_code());
    v["data"]["param3"] = "987655";
    EXPECT_EQ(code_of(call(v).body), "1202");
}

TEST_F(Service, LiveReferenceIsDuplicated) {
    EXPECT_EQ(code_of(call(otp_request()).body), "0000");
    EXPECT_EQ(code_of(call(otp_request()).body), "1201");
    EXPECT_EQ(gateway.sends.size(), 1u);
}

TEST_F(Service, ExpiresAfterDefaultTtl) {
    call(otp_request());
    const auto code = last_code();
    loop.advance(std::chrono::seconds(180));
    EXPECT_EQ(code_of(call(verify_request(code)).body), "1203");
}

TEST_F(Service, ClientExpirationIsHonouredAndCapped) {
    auto req = otp_request();
    req["data"]["expiration"] = clock.unix_seconds() + 30;
    auto r = call(req);
    EXPECT_EQ(code_of(r.body), "0000");
    EXPECT_EQ(r.body["data"]["expires_at"], clock.unix_seconds() + 30);
    auto capped = otp_request("ref-2");
    capped["data"]["expiration"] = clock.unix_seconds() + 86400;
    r = call(capped);
    EXPECT_EQ(r.body["data"]["expires_at"], clock.unix_seconds() + 600);
}

TEST_F(Service, PastExpirationIsDroppedNotSent) {
    auto req = otp_request();
    req["data"]["expiration"] = 1629685838;  // the seed's example, long past
    auto r = call(req);
    EXPECT_EQ(code_of(r.body), "1303");
    EXPECT_TRUE(gateway.sends.empty());
}

TEST_F(Service, MillisecondExpirationIsCalledOut) {
    auto req = otp_request();
    req["data"]["expiration"] = clock.unix_seconds() * 1000;
    auto r = call(req);
    EXPECT_EQ(code_of(r.body), "1301");
    EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("milliseconds"));
}

TEST_F(Service, MessageTemplatesAreCheckedNeverFormatted) {
    for (const char* bad : {"%n%s", "Your OTP is %s %s", "no placeholder", "%d", "100% sure: %s"}) {
        auto req = otp_request(std::string("ref-") + bad);
        req["data"]["message"] = bad;
        auto r = call(req);
        EXPECT_EQ(code_of(r.body), "1301") << bad;
        EXPECT_EQ(r.status, 400);
        EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("data.message")) << bad;
    }
    EXPECT_TRUE(gateway.sends.empty());
    auto ok = otp_request("pct");
    ok["data"]["message"] = "100%% sure: %s";
    EXPECT_EQ(code_of(call(ok).body), "0000");
    EXPECT_THAT(gateway.sends.back().text, ::testing::MatchesRegex("100% sure: [0-9]{6}"));
}

TEST_F(Service, LanguageTemplatesFromConfig) {
    cfg.otp.templates = {{"en", "Code: %s"}, {"id", "Kode OTP Anda %s"}};
    make_service();
    auto req = otp_request();
    req["data"].erase("message");
    req["data"]["language"] = "id-ID";
    EXPECT_EQ(code_of(call(req).body), "0000");
    EXPECT_THAT(gateway.sends.back().text, ::testing::MatchesRegex("Kode OTP Anda [0-9]{6}"));
    req = otp_request("ref-fr");
    req["data"].erase("message");
    req["data"]["language"] = "fr";
    call(req);
    EXPECT_THAT(gateway.sends.back().text, ::testing::MatchesRegex("Code: [0-9]{6}"));
}

TEST_F(Service, VoiceChannelReadsDigitsTwice) {
    auto req = otp_request();
    req["data"]["channel"] = "voice";
    EXPECT_EQ(code_of(call(req).body), "0000");
    ASSERT_TRUE(gateway.sends.back().voice);
    EXPECT_THAT(gateway.sends.back().text, HasSubstr("I repeat"));
}

TEST_F(Service, FailedSendFreesTheReference) {
    gateway.answer = api::send_status::failed;
    auto r = call(otp_request());
    EXPECT_EQ(code_of(r.body), "1101");
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.body["data"].contains("expires_at"));  // no OTP lives on
    gateway.answer = api::send_status::sent;
    EXPECT_EQ(code_of(call(otp_request()).body), "0000");
}

TEST_F(Service, BoundedWaitAnswersPendingThenKeepsTheOtp) {
    gateway.auto_answer = false;
    auto slot = start(otp_request().dump());
    loop.drain();
    EXPECT_FALSE(slot->has_value());
    loop.advance(std::chrono::seconds(cfg.api.reply_wait_s));
    ASSERT_TRUE(slot->has_value());
    EXPECT_EQ(code_of((*slot)->body), "1308");
    EXPECT_EQ((*slot)->status, 202);
    // The client still learns which request this was and until when the OTP lives.
    EXPECT_EQ((*slot)->body["data"]["reference"], "12345678901234567890");
    EXPECT_EQ((*slot)->body["data"]["receiver"], "08126666666");
    EXPECT_TRUE((*slot)->body["data"].contains("expires_at"));
    const auto code = last_code();
    gateway.complete(0, api::send_status::sent);
    loop.drain();
    EXPECT_EQ(code_of(call(verify_request(code)).body), "0000");
}

TEST_F(Service, ReceiverResendThrottle) {
    for (int i = 0; i < 5; ++i) EXPECT_EQ(code_of(call(otp_request("r" + std::to_string(i))).body), "0000");
    auto r = call(otp_request("r5"));
    EXPECT_EQ(code_of(r.body), "1205");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(code_of(call(otp_request("r6", "08127777777")).body), "0000");
    loop.advance(std::chrono::minutes(10));
    EXPECT_EQ(code_of(call(otp_request("r7")).body), "0000");
}

TEST_F(Service, PerUserRateLimit) {
    cfg.api.user_rate_limit_per_minute = 3;
    make_service();
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(code_of(call(json{{"command", "send-sms"}, {"data", {{"receiver", "0812" + std::to_string(1000000 + i)}, {"message", "hi"}}}}).body), "0000");
    auto r = call(json{{"command", "send-sms"}, {"data", {{"receiver", "08129999999"}, {"message", "hi"}}}});
    EXPECT_EQ(code_of(r.body), "1206");
    EXPECT_EQ(r.status, 429);
}

TEST_F(Service, CheckOtpDoesNotConsume) {
    call(otp_request());
    auto chk = json{{"command", "check-otp"}, {"data", {{"reference", "12345678901234567890"}}}};
    auto r = call(chk);
    EXPECT_EQ(code_of(r.body), "0000");
    EXPECT_EQ(r.body["data"]["live"], true);
    EXPECT_EQ(r.body["data"]["attempts_left"], 5);
    EXPECT_EQ(code_of(call(verify_request(last_code())).body), "0000");
    r = call(chk);
    EXPECT_EQ(code_of(r.body), "1203");
    EXPECT_EQ(r.body["data"]["live"], false);
}

TEST_F(Service, SendSmsAnswersWithModemAndReference) {
    auto r = call(json{{"command", "send-sms"},
                       {"data", {{"date_time", 1629685778}, {"id", 123456}, {"receiver", "08126666666"}, {"message", "Your OTP is 1234"}}}},
                  "/api/sms");
    EXPECT_EQ(code_of(r.body), "0000") << r.raw;
    EXPECT_EQ(r.body["data"]["modem_id"], "m1");
    EXPECT_EQ(r.body["data"]["message_reference"], 1);
    EXPECT_EQ(r.body["data"]["id"], 123456);
    ASSERT_EQ(gateway.sends.size(), 1u);
    EXPECT_EQ(gateway.sends[0].text, "Your OTP is 1234");
}

TEST_F(Service, SendSmsSameIdSendsOnce) {
    json req{{"command", "send-sms"}, {"data", {{"id", "abc"}, {"receiver", "08126666666"}, {"message", "hello"}}}};
    EXPECT_EQ(code_of(call(req).body), "0000");
    auto again = call(req);
    EXPECT_EQ(code_of(again.body), "0000");
    EXPECT_EQ(again.body["data"]["duplicate"], true);
    EXPECT_EQ(gateway.sends.size(), 1u);
    // While the first is still in flight, the second waits for it.
    gateway.auto_answer = false;
    req["data"]["id"] = "def";
    auto a = start(req.dump());
    auto b = start(req.dump());
    loop.drain();
    EXPECT_EQ(gateway.sends.size(), 2u);
    gateway.complete(1, api::send_status::sent);
    loop.drain();
    ASSERT_TRUE(a->has_value() && b->has_value());
    EXPECT_EQ(code_of((*b)->body), "0000");
    EXPECT_EQ((*b)->body["data"]["duplicate"], true);
}

TEST_F(Service, SendSmsFailedIdMayBeRetried) {
    json req{{"command", "send-sms"}, {"data", {{"id", "x1"}, {"receiver", "08126666666"}, {"message", "hello"}}}};
    gateway.answer = api::send_status::failed;
    EXPECT_EQ(code_of(call(req).body), "1101");
    gateway.answer = api::send_status::sent;
    EXPECT_EQ(code_of(call(req).body), "0000");
    EXPECT_EQ(gateway.sends.size(), 2u);
}

TEST_F(Service, SendSmsExpiredIsDropped) {
    auto r = call(json{{"command", "send-sms"}, {"data", {{"expiration", clock.unix_seconds() - 1}, {"receiver", "08126666666"}, {"message", "late"}}}});
    EXPECT_EQ(code_of(r.body), "1303");
    EXPECT_TRUE(gateway.sends.empty());
}

TEST_F(Service, BlockListIsEnforcedAndPersisted) {
    auto r = call(json{{"command", "block-msisdn"}, {"data", {{"date_time", 1629685778}, {"receiver", "08126666666"}}}}, "/api/block");
    EXPECT_EQ(code_of(r.body), "0000") << r.raw;
    auto saved = core::read_file(dir / "blocklist.journal");
    ASSERT_TRUE(saved);
    EXPECT_THAT(*saved, HasSubstr("+628126666666"));

    EXPECT_EQ(code_of(call(otp_request()).body), "1207");
    EXPECT_EQ(code_of(call(json{{"command", "send-sms"}, {"data", {{"receiver", "+628126666666"}, {"message", "x"}}}}).body), "1207");
    EXPECT_EQ(code_of(call(json{{"command", "send-message"}, {"data", {{"receiver", "628126666666"}, {"message", "x"}}}}).body), "1207");
    EXPECT_TRUE(gateway.sends.empty());

    make_service();  // a restart reads the list back
    EXPECT_EQ(code_of(call(otp_request()).body), "1207");
    EXPECT_EQ(code_of(call(json{{"command", "unblock-msisdn"}, {"data", {{"receiver", "08126666666"}}}}, "/api/unblock").body), "0000");
    EXPECT_EQ(code_of(call(otp_request()).body), "0000");
}

TEST_F(Service, BlockCommandsAreRateLimitedPerUser) {
    cfg.api.block_rate_limit_per_minute = 3;
    make_service();
    auto block = [&](int i) {
        return call(json{{"command", "block-msisdn"}, {"data", {{"receiver", "0812666666" + std::to_string(i)}}}}, "/api/block");
    };
    for (int i = 0; i < 3; ++i) EXPECT_EQ(code_of(block(i).body), "0000");
    auto r = block(3);
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(code_of(r.body), "1206");
    EXPECT_THAT(r.raw, HasSubstr("api.block_rate_limit_per_minute"));
    EXPECT_FALSE(svc->blocks().contains("6281266666663"));
    // Sending is not throttled by it, and the window moves on.
    EXPECT_EQ(code_of(call(otp_request()).body), "0000");
    loop.advance(std::chrono::minutes(1));
    EXPECT_EQ(code_of(block(3).body), "0000");
}

TEST_F(Service, BlockMsisdnOnAFullListIsRefusedWithAClearError) {
    cfg.api.block_list_max_entries = 2;
    make_service();
    auto block = [&](const std::string& n) { return call(json{{"command", "block-msisdn"}, {"data", {{"receiver", n}}}}, "/api/block"); };
    EXPECT_EQ(code_of(block("08121111111").body), "0000");
    EXPECT_EQ(code_of(block("08122222222").body), "0000");
    auto r = block("08123333333");
    EXPECT_EQ(code_of(r.body), "1102");
    EXPECT_THAT(r.raw, HasSubstr("block list is full"));
    EXPECT_THAT(r.raw, HasSubstr("api.block_list_max_entries"));
    EXPECT_EQ(code_of(block("08121111111").body), "0000");  // already blocked is still an answer, not an error
    EXPECT_EQ(code_of(call(json{{"command", "unblock-msisdn"}, {"data", {{"receiver", "08121111111"}}}}, "/api/unblock").body), "0000");
    EXPECT_EQ(code_of(block("08123333333").body), "0000");
}

TEST_F(Service, MalformedRequests) {
    struct bad_case {
        const char* body;
        const char* code;
        const char* says;
    };
    const bad_case cases[] = {
        {"", "1301", "not valid JSON"},
        {"{", "1301", "not valid JSON"},
        {"[]", "1301", "JSON object"},
        {"\"request-otp\"", "1301", "JSON object"},
        {R"({"data":{}})", "1301", "command"},
        {R"({"command":5})", "1301", "command"},
        {R"({"command":"request-otp","data":[]})", "1301", "data: expected object"},
        {R"({"command":"request-otp","data":{}})", "1301", "data.receiver: missing"},
        {R"({"command":"request-otp","data":{"receiver":62812,"reference":"r"}})", "1301", "data.receiver"},
        {R"({"command":"request-otp","data":{"receiver":"0812abc","reference":"r"}})", "1301", "phone number"},
        {R"({"command":"request-otp","data":{"receiver":"08126666666","reference":""}})", "1301", "data.reference: must not be empty"},
        {R"({"command":"request-otp","data":{"receiver":"08126666666","reference":{"a":1}}})", "1301", "data.reference: expected string"},
        {R"({"command":"request-otp","data":{"receiver":"08126666666","reference":"r","expiration":"soon"}})", "1301", "data.expiration"},
        {R"({"command":"verify-otp","data":{"receiver":"08126666666","reference":"r","otp":123456}})", "1301", "leading zeros"},
        {R"({"command":"send-sms","data":{"receiver":"08126666666"}})", "1301", "data.message: missing"},
        {R"({"command":"request-ussd","data":{"modem_id":"m1","ussd_code":"*888#;AT+CFUN=0"}})", "1301", "data.ussd_code"},
        {R"({"command":"verify-otp","data":{"receiver":"081","reference":"r","otp":"123456"}})", "1301", "5-20 digits"},
        {R"({"command":"block-msisdn","data":{"msisdn":"abc"}})", "1301", "data.msisdn"},
        {R"({"command":"launch-rockets","data":{}})", "1302", "unknown command"},
    };
    for (const auto& c : cases) {
        auto r = call_raw(c.body);
        EXPECT_EQ(code_of(r.body), c.code) << c.body << " -> " << r.raw;
        EXPECT_THAT(r.body.value("message", ""), HasSubstr(c.says)) << c.body;
        EXPECT_EQ(r.status, 400) << c.body;
    }
    // The service still works afterwards.
    EXPECT_EQ(code_of(call(otp_request()).body), "0000");
}

TEST_F(Service, OversizedFieldsRejected) {
    auto req = otp_request(std::string(300, 'r'));
    EXPECT_EQ(code_of(call(req).body), "1301");
    auto sms = json{{"command", "send-sms"}, {"data", {{"receiver", "08126666666"}, {"message", std::string(5000, 'x')}}}};
    EXPECT_EQ(code_of(call(sms).body), "1301");
}

TEST_F(Service, AuthMethodAndPath) {
    auto r = call_raw(otp_request().dump(), "/api/otp", "POST", std::string{});
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(code_of(r.body), "1100");
    ASSERT_FALSE(r.headers.empty());
    EXPECT_EQ(r.headers[0].first, "WWW-Authenticate");
    r = call_raw(otp_request().dump(), "/api/otp", "POST", std::string("Basic %%%%"));
    EXPECT_EQ(r.status, 401);
    EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("malformed Authorization"));
    r = call_raw(otp_request().dump(), "/api/otp", "POST", "Basic " + otppi::auth::base64_encode("app:wrong"));
    EXPECT_EQ(r.status, 401);
    r = call_raw(otp_request().dump(), "/api/otp", "GET");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(code_of(r.body), "1306");
    r = call_raw(otp_request().dump(), "/api/nope");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(code_of(r.body), "1307");
    // PUT works like POST (OTP-Pi took both); any API path takes any command.
    r = call_raw(otp_request().dump(), "/api/sms", "PUT");
    EXPECT_EQ(code_of(r.body), "0000");
    EXPECT_TRUE(gateway.sends.size() == 1);
}

TEST_F(Service, EchoReturnsTheRequest) {
    json req{{"command", "echo"}, {"data", {{"hello", "world"}}}};
    auto r = call(req);
    EXPECT_EQ(r.body["data"]["hello"], "world");
    EXPECT_EQ(code_of(r.body), "0000");
    EXPECT_EQ(r.body["message"], "success");
}

TEST_F(Service, EmailIsNotConfigured) {
    for (const char* cmd : {"send-email", "send-mail"}) {
        auto r = call(json{{"command", cmd}, {"data", {{"receiver", "a@example.com"}, {"message", "x"}}}});
        EXPECT_EQ(code_of(r.body), "1305");
        EXPECT_THAT(r.body["message"].get<std::string>(), HasSubstr("email channel not configured"));
    }
    EXPECT_EQ(code_of(call(json{{"command", "send-message"}, {"data", {{"receiver", "a@example.com"}, {"message", "x"}}}}).body), "1305");
}

TEST_F(Service, ModemListAndUssd) {
    auto r = call(json{{"command", "get-modem-list"}, {"data", {{"date_time", 1629685778}}}}, "/api/modem");
    EXPECT_EQ(code_of(r.body), "0000");
    EXPECT_EQ(r.body["data"]["modem_list"]["m1"]["imei"], "359848091599999");
    r = call(json{{"command", "request-ussd"}, {"data", {{"modem_id", "m1"}, {"ussd_code", "*888#"}}}}, "/api/ussd");
    EXPECT_EQ(code_of(r.body), "0000");
    EXPECT_EQ(r.body["data"]["ussd_response"], "Sisa pulsa Anda adalah Rp 12345");
    EXPECT_EQ(r.body["data"]["ussd_content"], "Sisa pulsa Anda adalah Rp 12345");
    EXPECT_EQ(r.body["data"]["replyable"], false);
    r = call(json{{"command", "request-ussd"}, {"data", {{"modem_id", "nope"}, {"ussd_code", "*888#"}}}}, "/api/ussd");
    EXPECT_EQ(code_of(r.body), "1309");
}

// Regression: replies quote parts of the request (the path, the command);
// bytes that are not UTF-8, or a multi-byte character cut at the 64-byte
// command limit, made the JSON serializer throw out of the handler.
TEST_F(Service, RepliesQuotingInvalidUtf8DoNotThrow) {
    auto r = call_raw(otp_request().dump(), std::string("/api/\xff\xfe"));
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(code_of(r.body), "1307");
    const std::string cmd = std::string(63, 'a') + "\xc3\xa9";  // 'é' straddles byte 64
    r = call_raw(json{{"command", cmd}, {"data", json::object()}}.dump());
    EXPECT_EQ(code_of(r.body), "1302");
    EXPECT_FALSE(r.body.is_discarded());
    // Still serving.
    EXPECT_EQ(code_of(call(otp_request()).body), "0000");
}

namespace {

// `levels` nested arrays around 1, padded with spaces to `size` bytes when
// that is larger: the shape of issue #17's crash.
std::string nested_arrays(std::size_t levels, std::size_t size = 0) {
    std::string s(levels, '[');
    s += '1';
    s.append(levels, ']');
    if (s.size() < size) s.append(size - s.size(), ' ');
    return s;
}

// A request body whose data.<field> is `value`, padded to exactly `size` bytes.
std::string body_with(const std::string& command, const std::string& field, const std::string& value, std::size_t size = 0) {
    std::string head = R"({"command":")" + command + R"(","data":{"reference":"12345678901234567890",")" + field + "\":";
    std::string body = head + value + "}}";
    if (body.size() < size) body.insert(head.size() + value.size(), size - body.size(), ' ');
    return body;
}

}  // namespace

// Issue #17 item 1: 70,000 nested arrays in a 1 MiB body killed the daemon
// (the reply writer echoing date_time, and echo's DOM, recursed per level).
TEST_F(Service, DeeplyNestedJsonIsRefusedNotACrash) {
    constexpr std::size_t mib = 1024 * 1024;
    for (const char* command : {"check-otp", "verify-otp", "request-otp", "echo"}) {
        for (const char* field : {"date_time", "data", "reference", "anything"}) {
            const auto body = body_with(command, field, nested_arrays(70'000), mib);
            ASSERT_EQ(body.size(), mib);
            auto r = call_raw(body);
            EXPECT_EQ(r.status, 400) << command << " " << field;
            EXPECT_EQ(code_of(r.body), "1301") << command << " " << field << ": " << r.raw.substr(0, 200);
            EXPECT_EQ(r.body.value("command", ""), "") << "the command is not read from a refused body";
            // Level 33 is the 31st bracket of the value (root and data are levels 1 and 2).
            const auto at = body.find('[') + 30;
            EXPECT_EQ(r.body.value("message", ""), "body: JSON nested deeper than 32 levels (at byte " + std::to_string(at) + ")") << command;
        }
    }
    // The whole body nested, and objects rather than arrays.
    std::string objects;
    for (int i = 0; i < 70'000; ++i) objects += "{\"a\":";
    objects += "1" + std::string(70'000, '}');
    for (const auto& [body, at] : {std::pair{nested_arrays(70'000, mib), 32}, std::pair{objects, 32 * 5}}) {
        auto r = call_raw(body);
        EXPECT_EQ(code_of(r.body), "1301");
        EXPECT_THAT(r.body.value("message", ""), HasSubstr("nested deeper than 32 levels (at byte " + std::to_string(at) + ")"));
    }
    // Still serving.
    EXPECT_EQ(code_of(call(otp_request()).body), "0000");
}

TEST_F(Service, NestingUpToThirtyTwoLevelsIsStillAccepted) {
    // Root object and data are levels 1 and 2: 30 levels fit in date_time.
    auto r = call_raw(body_with("check-otp", "date_time", nested_arrays(30)));
    EXPECT_EQ(code_of(r.body), "1203") << r.raw;
    EXPECT_EQ(r.body["data"]["date_time"], json::parse(nested_arrays(30)));
    r = call_raw(body_with("check-otp", "date_time", nested_arrays(31)));
    EXPECT_EQ(code_of(r.body), "1301");
    EXPECT_THAT(r.body.value("message", ""), HasSubstr("nested deeper than 32 levels"));

    r = call_raw(body_with("echo", "data", nested_arrays(30)));
    EXPECT_EQ(code_of(r.body), "0000") << r.raw;
    EXPECT_EQ(r.body["data"]["data"], json::parse(nested_arrays(30)));
    EXPECT_EQ(code_of(call_raw(body_with("echo", "data", nested_arrays(31))).body), "1301");
}

// Issue #17 item 8: block-msisdn given `msisdn` answered data.msisdn, where
// docs/api.md promises data.receiver.
TEST_F(Service, BlockMsisdnGivenMsisdnAnswersReceiver) {
    for (const auto& [command, path, blocked] : {std::tuple{"block-msisdn", "/api/block", true}, std::tuple{"unblock-msisdn", "/api/unblock", false}}) {
        auto r = call(json{{"command", command}, {"data", {{"date_time", 1629685778}, {"msisdn", "08126666666"}}}}, path);
        EXPECT_EQ(code_of(r.body), "0000") << r.raw;
        EXPECT_EQ(r.body["data"]["receiver"], "08126666666") << r.raw;
        EXPECT_EQ(r.body["data"]["msisdn"], "08126666666") << "kept for clients that read back their own field";
        EXPECT_EQ(r.body["data"]["blocked"], blocked);
        EXPECT_EQ(r.body["data"]["date_time"], 1629685778);
    }
    // Sent as `receiver`: only `receiver` comes back, as before.
    auto r = call(json{{"command", "block-msisdn"}, {"data", {{"receiver", "08126666666"}}}}, "/api/block");
    EXPECT_EQ(r.body["data"]["receiver"], "08126666666");
    EXPECT_FALSE(r.body["data"].contains("msisdn")) << r.raw;
}

// Issue #17 item 8: an API user could check, verify or burn another API
// user's OTP by its reference. otp.reference_scope "user" (the default) stops that.
TEST_F(Service, AnotherApiUserCannotCheckVerifyOrBurnAnOtpByItsReference) {
    users.put(auth::user_kind::api, "other", {auth::hash_password("other-pass-1", {10, 8, 1}), 0});
    make_service();
    const auto other = "Basic " + otppi::auth::base64_encode("other:other-pass-1");
    ASSERT_EQ(code_of(call(otp_request()).body), "0000");
    const auto code = last_code();
    const auto check = json{{"command", "check-otp"}, {"data", {{"reference", "12345678901234567890"}}}}.dump();

    EXPECT_EQ(code_of(call_raw(check, "/api/otp", "POST", other).body), "1203");
    for (int i = 0; i < 10; ++i) EXPECT_EQ(code_of(call_raw(verify_request("000000").dump(), "/api/otp", "POST", other).body), "1203");
    EXPECT_EQ(code_of(call_raw(verify_request(code).dump(), "/api/otp", "POST", other).body), "1203");
    // The owner's OTP is untouched: live, all attempts left, and it verifies.
    auto mine = call_raw(check);
    EXPECT_EQ(code_of(mine.body), "0000");
    EXPECT_EQ(mine.body["data"]["attempts_left"], 5);
    EXPECT_EQ(code_of(call(verify_request(code)).body), "0000");
}

TEST_F(Service, GlobalReferenceScopeSharesReferencesAsOtpPiDid) {
    cfg.otp.reference_scope = "global";
    users.put(auth::user_kind::api, "other", {auth::hash_password("other-pass-1", {10, 8, 1}), 0});
    make_service();
    const auto other = "Basic " + otppi::auth::base64_encode("other:other-pass-1");
    ASSERT_EQ(code_of(call(otp_request()).body), "0000");
    const auto code = last_code();
    const auto check = json{{"command", "check-otp"}, {"data", {{"reference", "12345678901234567890"}}}}.dump();
    EXPECT_EQ(code_of(call_raw(check, "/api/otp", "POST", other).body), "0000");
    EXPECT_EQ(code_of(call_raw(verify_request(code).dump(), "/api/otp", "POST", other).body), "0000");
    // And a live reference is one for everybody.
    ASSERT_EQ(code_of(call(otp_request()).body), "0000");
    EXPECT_EQ(code_of(call_raw(otp_request().dump(), "/api/otp", "POST", other).body), "1201");
}
