#include "otppi/config/config.hpp"
#include "otppi/core/files.hpp"
#include "support/temp_dir.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include "test_paths.hpp"

using namespace otppi::config;
using ::testing::Contains;
using ::testing::HasSubstr;

namespace {

// The schema the issue calls a contract, verbatim.
const char* contract_example = R"({
  "device_name": "OTP-Pi",
  "state_dir": "/var/lib/otppi",
  "api": {
    "http":  {"enabled": true,  "bind": "0.0.0.0", "port": 8080},
    "https": {"enabled": false, "bind": "0.0.0.0", "port": 8443,
              "cert_file": "/etc/otppi/tls/cert.pem", "key_file": "/etc/otppi/tls/key.pem"}
  },
  "admin": {"bind": "0.0.0.0", "port": 8888},
  "general": {"inspect_modem_interval_s": 10},
  "sms": {"country_code": "62", "recipient_prefix_length": 5},
  "otp": {"length": 6, "expiration_s": 180, "max_attempts": 5},
  "modems": [
    {"id": "m1", "name": "SIM800L", "port": "/dev/ttyUSB0", "baud_rate": 115200,
     "recipient_prefix": ["62871", "62872"], "default_modem": false,
     "active": true, "send_sms_from_api": true, "sim_pin": ""}
  ]
})";

std::vector<std::string> errors_of(const nlohmann::json& doc) { return parse_config(doc.dump()).errors; }

nlohmann::json contract() { return nlohmann::json::parse(contract_example); }

}  // namespace

TEST(Config, ContractExampleLoads) {
    auto r = parse_config(contract_example);
    ASSERT_TRUE(r.ok()) << r.error_text();
    const auto& c = *r.cfg;
    EXPECT_EQ(c.device_name, "OTP-Pi");
    EXPECT_EQ(c.api.http.port, 8080);
    EXPECT_FALSE(c.api.https.enabled);
    EXPECT_EQ(c.admin.port, 8888);
    EXPECT_EQ(c.sms.country_code, "62");
    EXPECT_EQ(c.otp.max_attempts, 5);
    ASSERT_EQ(c.modems.size(), 1u);
    EXPECT_EQ(c.modems[0].port, "/dev/ttyUSB0");
    EXPECT_EQ(c.modems[0].recipient_prefix, (std::vector<std::string>{"62871", "62872"}));
}

TEST(Config, ShippedDefaultConfigIsValid) {
    auto r = load_config_file(std::string(OTPPI_SOURCE_DIR) + "/config/otppi.json");
    EXPECT_TRUE(r.ok()) << r.error_text();
}

TEST(Config, EmptyObjectGetsAllDefaults) {
    auto r = parse_config("{}");
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_EQ(r.cfg->api.http.port, 8080);
    EXPECT_EQ(r.cfg->api.https.port, 8443);
    EXPECT_EQ(r.cfg->otp.length, 6);
    EXPECT_EQ(r.cfg->otp.expiration_s, 180);
    EXPECT_EQ(r.cfg->state_dir, "/var/lib/otppi");
    EXPECT_TRUE(r.cfg->modems.empty());
}

TEST(Config, UnknownKeyNamedByPath) {
    auto doc = contract();
    doc["modems"][0]["prot"] = "/dev/ttyUSB1";
    EXPECT_THAT(errors_of(doc), Contains("modems[0].prot: unknown key"));
    doc = contract();
    doc["api"]["htp"] = nlohmann::json::object();
    EXPECT_THAT(errors_of(doc), Contains("api.htp: unknown key"));
}

TEST(Config, PortRangeAndTypeNamedByPath) {
    auto doc = contract();
    doc["api"]["http"]["port"] = 70000;
    EXPECT_THAT(errors_of(doc), Contains("api.http.port: expected integer 1..65535"));
    doc["api"]["http"]["port"] = "8080";
    EXPECT_THAT(errors_of(doc), Contains("api.http.port: expected integer 1..65535, got string"));
    doc["api"]["http"]["port"] = 0;
    EXPECT_THAT(errors_of(doc), Contains("api.http.port: expected integer 1..65535"));
    doc["api"]["http"]["port"] = 80.5;
    EXPECT_THAT(errors_of(doc), Contains("api.http.port: expected integer 1..65535, got number"));
    doc["api"]["http"]["port"] = 18446744073709551615ULL;
    EXPECT_THAT(errors_of(doc), Contains("api.http.port: expected integer 1..65535"));
}

TEST(Config, EveryErrorIsReportedNotJustTheFirst) {
    auto doc = contract();
    doc["otp"]["length"] = 3;
    doc["otp"]["expiration_s"] = 3600;
    doc["api"]["https"]["enabled"] = "yes";
    auto errs = errors_of(doc);
    EXPECT_THAT(errs, Contains("otp.length: expected integer 4..10"));
    EXPECT_THAT(errs, Contains("otp.expiration_s: expected integer 30..600"));
    EXPECT_THAT(errs, Contains("api.https.enabled: expected true or false, got string"));
}

TEST(Config, ModemFieldsValidated) {
    auto doc = contract();
    doc["modems"][0].erase("id");
    doc["modems"][0]["baud_rate"] = 12345;
    doc["modems"][0]["parity"] = "mark";
    doc["modems"][0]["sim_pin"] = "12a4";
    doc["modems"][0]["port"] = "ttyUSB0";
    auto errs = errors_of(doc);
    EXPECT_THAT(errs, Contains("modems[0].id: missing (required)"));
    EXPECT_THAT(errs, Contains(HasSubstr("modems[0].baud_rate: expected one of 1200, 2400")));
    EXPECT_THAT(errs, Contains("modems[0].parity: expected one of none, even, odd"));
    EXPECT_THAT(errs, Contains("modems[0].sim_pin: expected digits only"));
    doc["modems"][0]["sim_pin"] = "123";
    EXPECT_THAT(errors_of(doc), Contains("modems[0].sim_pin: expected 4 to 8 digits, or empty for no PIN"));
    EXPECT_THAT(errs, Contains("modems[0].port: expected an absolute path"));
}

TEST(Config, SmsModeDefaultsToPduAndTakesTextOrAuto) {
    auto doc = contract();
    auto r = parse_config(doc.dump());
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_EQ(r.cfg->modems[0].sms_mode, "pdu");
    doc["modems"][0]["sms_mode"] = "auto";
    r = parse_config(doc.dump());
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_EQ(r.cfg->modems[0].sms_mode, "auto");
    // Saved and read back unchanged.
    auto again = parse_config(otppi::config::to_json_text(*r.cfg));
    ASSERT_TRUE(again.ok()) << again.error_text();
    EXPECT_EQ(again.cfg->modems[0].sms_mode, "auto");
    doc["modems"][0]["sms_mode"] = "TEXT";
    EXPECT_THAT(errors_of(doc), Contains("modems[0].sms_mode: expected one of pdu, text, auto"));
}

TEST(Config, DuplicateModemIdsRejected) {
    auto doc = contract();
    auto second = doc["modems"][0];
    second["recipient_prefix"] = nlohmann::json::array();
    doc["modems"].push_back(second);
    EXPECT_THAT(errors_of(doc), Contains("modems[1].id: duplicate modem id 'm1'"));
}

TEST(Config, PrefixesStoredInInternationalForm) {
    // OTP-Pi: "when a user in Indonesia sets the prefix 0871, it stores 62871".
    auto doc = contract();
    doc["modems"][0]["recipient_prefix"] = {"0871", "+62872"};
    auto r = parse_config(doc.dump());
    ASSERT_TRUE(r.ok()) << r.error_text();
    EXPECT_EQ(r.cfg->modems[0].recipient_prefix, (std::vector<std::string>{"62871", "62872"}));
}

TEST(Config, PrefixLengthMustMatchSetting) {
    auto doc = contract();
    doc["modems"][0]["recipient_prefix"] = {"6287"};
    EXPECT_THAT(errors_of(doc), Contains(HasSubstr("modems[0].recipient_prefix[0]: '6287' has 4 digits")));
}

TEST(Config, InvalidJsonSaysWhere) {
    auto r = parse_config("{\"api\": {\"http\": }");
    ASSERT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_THAT(r.errors[0], HasSubstr("invalid JSON"));
    EXPECT_THAT(r.errors[0], HasSubstr("line 1"));
}

TEST(Config, TopLevelMustBeObject) {
    EXPECT_THAT(parse_config("[1,2]").errors, Contains("(document): expected object, got array"));
}

TEST(Config, TemplatesChecked) {
    auto doc = contract();
    doc["otp"]["templates"] = {{"en", "Your code is %s"}, {"id", "Kode %s %s"}, {"fr", "code %d"}};
    auto errs = errors_of(doc);
    EXPECT_THAT(errs, Contains("otp.templates.id: expected exactly one %s"));
    EXPECT_THAT(errs, Contains("otp.templates.fr: only %s (once) and %% may follow '%'"));
}

TEST(Config, SaveIsAtomicAndRoundTrips) {
    otppi::test::temp_dir dir;
    auto r = parse_config(contract_example);
    ASSERT_TRUE(r.ok());
    auto cfg = *r.cfg;
    cfg.otp.templates["en"] = "Code: %s";
    cfg.modems[0].recipient_prefix.push_back("62873");
    const auto path = dir / "otppi.json";
    ASSERT_EQ(save_config_file(path, cfg), "");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);
    auto back = load_config_file(path);
    ASSERT_TRUE(back.ok()) << back.error_text();
    EXPECT_EQ(to_json(*back.cfg), to_json(cfg));
    // No temporary files left behind.
    int files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
        (void)e;
        ++files;
    }
    EXPECT_EQ(files, 1);
}

TEST(Config, SaveRefusesInvalidConfig) {
    otppi::test::temp_dir dir;
    config cfg;
    cfg.otp.length = 99;
    EXPECT_THAT(save_config_file(dir / "x.json", cfg), HasSubstr("otp.length"));
    EXPECT_FALSE(std::filesystem::exists(dir / "x.json"));
}

TEST(Config, MissingFileReported) {
    auto r = load_config_file("/nonexistent/otppi.json");
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.error_text(), HasSubstr("/nonexistent/otppi.json"));
}

TEST(NormalizeMsisdn, OtpPiRules) {
    EXPECT_EQ(normalize_msisdn("08126666666", "62"), "628126666666");
    EXPECT_EQ(normalize_msisdn("+628126666666", "62"), "628126666666");
    EXPECT_EQ(normalize_msisdn("628126666666", "62"), "628126666666");
    EXPECT_EQ(normalize_msisdn("0812-666", "62"), std::nullopt);
    EXPECT_EQ(normalize_msisdn("", "62"), std::nullopt);
    EXPECT_EQ(normalize_msisdn("+", "62"), std::nullopt);
    EXPECT_EQ(normalize_msisdn("++62", "62"), std::nullopt);
}

// Regression (fuzz_config): a number too large for a double threw
// nlohmann's out_of_range, which escaped the loader and ended the process.
TEST(Config, NumberOverflowIsAnErrorNotACrash) {
    for (const char* doc : {"47E5547777776", R"({"api": {"http": {"port": 1E400}}})"}) {
        auto r = parse_config(doc);
        ASSERT_FALSE(r.ok()) << doc;
        EXPECT_THAT(r.error_text(), HasSubstr("number overflow")) << doc;
    }
}
