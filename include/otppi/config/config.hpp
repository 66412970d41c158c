// The daemon's configuration: typed structs, and the loader that validates a
// JSON document against the schema table in src/config/schema.cpp.
//
// Contract: parse_config() never throws on bad input; every problem is
// reported as "<json.path>: <what is wrong>" (e.g. "modems[0].prot: unknown key",
// "api.http.port: expected integer 1..65535"). A config is only produced when
// there are no errors, so a reload can parse into a temporary and swap.
// Thread-safety: plain values; copy freely.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Set by CMake from the install prefix; this fallback matches scripts/install.sh.
#ifndef OTPPI_DEFAULT_WEB_ROOT
#define OTPPI_DEFAULT_WEB_ROOT "/usr/local/share/otppi/web"
#endif

namespace otppi::config {

struct listener {
    bool enabled = true;
    std::string bind = "0.0.0.0";
    std::uint16_t port = 0;
};

struct tls_listener : listener {
    std::string cert_file;
    std::string key_file;
};

struct api_paths {
    std::string otp, sms, message, email, block, unblock, modem, ussd;
};

struct api_config {
    listener http;
    tls_listener https;
    api_paths paths;
    std::size_t max_body_bytes = 65536;
    int max_connections = 1024;
    int max_connections_per_client = 64;  // 0 = no cap; per IPv4 address or IPv6 /64
    int header_timeout_s = 10;
    int idle_timeout_s = 60;
    int reply_wait_s = 30;
    int user_rate_limit_per_minute = 600;
    int auth_failures_per_minute = 20;
    std::size_t block_list_max_entries = 100'000;
    int block_rate_limit_per_minute = 120;  // block/unblock changes per API user (or administrator); 0 = no limit
};

struct admin_config {
    bool enabled = true;
    std::string web_root = OTPPI_DEFAULT_WEB_ROOT;  // the UI's files (web/ of the repository)
    std::string bind = "0.0.0.0";
    std::uint16_t port = 8888;
    bool https = false;
    std::string cert_file;
    std::string key_file;
    int session_idle_s = 1800;
    int session_absolute_s = 43200;
    int max_connections_per_client = 32;  // of the admin listener's 256
};

struct general_config {
    int inspect_modem_interval_s = 10;
    int shutdown_grace_s = 10;
    std::string log_level = "info";
};

struct sms_config {
    std::string country_code = "62";
    int recipient_prefix_length = 5;
    bool log_enabled = true;
    int log_retention_days = 90;
    int queue_limit = 1000;  // messages waiting for a modem, pool-wide
    int max_queue_wait_s = 10;  // longest wait for busy cheaper modems before a costlier tier
};

struct otp_config {
    int length = 6;
    int expiration_s = 180;
    int max_attempts = 5;
    int resend_limit = 5;
    int resend_window_s = 600;
    int capacity = 2'000'000;
    // "user": a reference names an OTP only for the API user that requested
    // it; "global": for every API user, as in OTP-Pi.
    std::string reference_scope = "user";
    // language tag -> message template with exactly one %s.
    std::map<std::string, std::string> templates;
};

struct modem_config {
    std::string id;
    std::string name;
    std::string port;
    int baud_rate = 115200;
    std::string parity = "none";
    int data_bits = 8;
    int stop_bits = 1;
    std::vector<std::string> recipient_prefix;  // international form, e.g. "62871"
    bool default_modem = false;
    bool active = true;
    bool send_sms_from_api = true;
    std::string sim_pin;  // secret: never logged
    int max_sms_per_minute = 0;  // 0 = no cap (operators cap SIMs; stay under it)
    int max_sms_per_day = 0;
    std::string vendor = "auto";
    // "pdu", "text" (3GPP TS 27.005 text mode), or "auto" (PDU, text when the modem refuses it).
    std::string sms_mode = "pdu";
};

struct config {
    std::string device_name = "OTP-Pi";
    std::string state_dir = "/var/lib/otppi";
    // Extra names (DNS names, addresses behind NAT) that Host and Origin may
    // carry on both ports, besides the device's own (http/host_check.hpp).
    std::vector<std::string> server_names;
    api_config api;
    admin_config admin;
    general_config general;
    sms_config sms;
    otp_config otp;
    std::vector<modem_config> modems;
};

struct load_result {
    std::optional<config> cfg;
    std::vector<std::string> errors;
    bool ok() const { return cfg.has_value(); }
    // All errors joined by newlines, for a fatal start-up message or a log line.
    std::string error_text() const;
};

load_result parse_config(std::string_view json_text);
load_result load_config_file(const std::string& path);

// The full document (defaults included) as it would be written back.
nlohmann::json to_json(const config& cfg);
std::string to_json_text(const config& cfg);
// Validates `cfg` through the same schema, then replaces `path` atomically (mode 0640).
// Returns an empty string on success, else what failed.
std::string save_config_file(const std::string& path, const config& cfg);

// A receiver or prefix in international form: '+' stripped, a leading '0'
// replaced by the country code. nullopt when anything but digits remains.
std::optional<std::string> normalize_msisdn(std::string_view raw, std::string_view country_code);

}  // namespace otppi::config
