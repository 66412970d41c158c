#include "otppi/config/config.hpp"

#include "otppi/core/files.hpp"
#include "otppi/core/json.hpp"
#include "schema.hpp"

#include <nlohmann/json.hpp>
#include <set>

namespace otppi::config {

using nlohmann::json;

std::string load_result::error_text() const {
    std::string out;
    for (const auto& e : errors) out += (out.empty() ? "" : "\n") + e;
    return out;
}

std::optional<std::string> normalize_msisdn(std::string_view raw, std::string_view country_code) {
    std::string s(raw);
    if (!s.empty() && s.front() == '+') s.erase(0, 1);
    if (s.empty()) return std::nullopt;
    for (char c : s)
        if (c < '0' || c > '9') return std::nullopt;
    if (s.front() == '0') s = std::string(country_code) + s.substr(1);
    return s;
}

namespace {

listener read_listener(const json& j) {
    listener l;
    l.enabled = j.at("enabled").get<bool>();
    l.bind = j.at("bind").get<std::string>();
    l.port = j.at("port").get<std::uint16_t>();
    return l;
}

config extract(const json& doc) {
    config c;
    c.device_name = doc["device_name"];
    c.state_dir = doc["state_dir"];
    c.server_names = doc["server_names"].get<std::vector<std::string>>();
    const auto& api = doc["api"];
    c.api.http = read_listener(api["http"]);
    static_cast<listener&>(c.api.https) = read_listener(api["https"]);
    c.api.https.cert_file = api["https"]["cert_file"];
    c.api.https.key_file = api["https"]["key_file"];
    const auto& p = api["paths"];
    c.api.paths = {p["otp"], p["sms"], p["message"], p["email"], p["block"], p["unblock"], p["modem"], p["ussd"]};
    c.api.max_body_bytes = api["max_body_bytes"];
    c.api.max_connections = api["max_connections"];
    c.api.max_connections_per_client = api["max_connections_per_client"];
    c.api.header_timeout_s = api["header_timeout_s"];
    c.api.idle_timeout_s = api["idle_timeout_s"];
    c.api.reply_wait_s = api["reply_wait_s"];
    c.api.user_rate_limit_per_minute = api["user_rate_limit_per_minute"];
    c.api.auth_failures_per_minute = api["auth_failures_per_minute"];
    c.api.block_list_max_entries = api["block_list_max_entries"];
    c.api.block_rate_limit_per_minute = api["block_rate_limit_per_minute"];
    const auto& admin = doc["admin"];
    c.admin.enabled = admin["enabled"];
    c.admin.web_root = admin["web_root"];
    c.admin.bind = admin["bind"];
    c.admin.port = admin["port"];
    c.admin.https = admin["https"];
    c.admin.cert_file = admin["cert_file"];
    c.admin.key_file = admin["key_file"];
    c.admin.session_idle_s = admin["session_idle_s"];
    c.admin.session_absolute_s = admin["session_absolute_s"];
    c.admin.max_connections_per_client = admin["max_connections_per_client"];
    const auto& general = doc["general"];
    c.general.inspect_modem_interval_s = general["inspect_modem_interval_s"];
    c.general.shutdown_grace_s = general["shutdown_grace_s"];
    c.general.log_level = general["log_level"];
    const auto& sms = doc["sms"];
    c.sms.country_code = sms["country_code"];
    c.sms.recipient_prefix_length = sms["recipient_prefix_length"];
    c.sms.log_enabled = sms["log_enabled"];
    c.sms.log_retention_days = sms["log_retention_days"];
    c.sms.queue_limit = sms["queue_limit"];
    c.sms.max_queue_wait_s = sms["max_queue_wait_s"];
    const auto& otp = doc["otp"];
    c.otp.length = otp["length"];
    c.otp.expiration_s = otp["expiration_s"];
    c.otp.max_attempts = otp["max_attempts"];
    c.otp.resend_limit = otp["resend_limit"];
    c.otp.resend_window_s = otp["resend_window_s"];
    c.otp.capacity = otp["capacity"];
    c.otp.reference_scope = otp["reference_scope"];
    c.otp.templates = otp["templates"].get<std::map<std::string, std::string>>();
    for (const auto& m : doc["modems"]) {
        modem_config mc;
        mc.id = m["id"];
        mc.name = m["name"];
        mc.port = m["port"];
        mc.baud_rate = m["baud_rate"];
        mc.parity = m["parity"];
        mc.data_bits = m["data_bits"];
        mc.stop_bits = m["stop_bits"];
        mc.recipient_prefix = m["recipient_prefix"].get<std::vector<std::string>>();
        mc.default_modem = m["default_modem"];
        mc.active = m["active"];
        mc.send_sms_from_api = m["send_sms_from_api"];
        mc.sim_pin = m["sim_pin"];
        mc.max_sms_per_minute = m["max_sms_per_minute"];
        mc.max_sms_per_day = m["max_sms_per_day"];
        mc.vendor = m["vendor"];
        mc.sms_mode = m["sms_mode"];
        c.modems.push_back(std::move(mc));
    }
    return c;
}

// Rules that span several entries, checked once every entry is well typed.
void cross_check(json& doc, std::vector<std::string>& errors) {
    const std::string cc = doc["sms"]["country_code"];
    const std::size_t prefix_len = doc["sms"]["recipient_prefix_length"];
    std::set<std::string> ids;
    auto& modems = doc["modems"];
    for (std::size_t i = 0; i < modems.size(); ++i) {
        const std::string path = "modems[" + std::to_string(i) + "]";
        auto& m = modems[i];
        if (!ids.insert(m["id"].get<std::string>()).second) errors.push_back(path + ".id: duplicate modem id '" + m["id"].get<std::string>() + "'");
        auto& prefixes = m["recipient_prefix"];
        std::set<std::string> seen;
        for (std::size_t k = 0; k < prefixes.size(); ++k) {
            const std::string ppath = path + ".recipient_prefix[" + std::to_string(k) + "]";
            auto norm = normalize_msisdn(prefixes[k].get<std::string>(), cc);
            if (!norm) {
                errors.push_back(ppath + ": expected digits");
                continue;
            }
            // Prefixes are stored in international form ("0871" -> "62871") so that
            // routing compares like with like.
            if (norm->size() != prefix_len) {
                errors.push_back(ppath + ": '" + *norm + "' has " + std::to_string(norm->size()) + " digits in international form, sms.recipient_prefix_length is " + std::to_string(prefix_len));
                continue;
            }
            if (!seen.insert(*norm).second) errors.push_back(ppath + ": duplicate prefix '" + *norm + "'");
            prefixes[k] = *norm;
        }
    }
    const auto& https = doc["api"]["https"];
    if (https["enabled"].get<bool>() && (https["cert_file"].get<std::string>().empty() || https["key_file"].get<std::string>().empty()))
        errors.push_back("api.https: cert_file and key_file are required when enabled");
    const auto& admin = doc["admin"];
    if (admin["https"].get<bool>() && (admin["cert_file"].get<std::string>().empty() || admin["key_file"].get<std::string>().empty()))
        errors.push_back("admin: cert_file and key_file are required when https is on");
    const auto& http = doc["api"]["http"];
    if (http["enabled"].get<bool>() && https["enabled"].get<bool>() && http["port"] == https["port"] && http["bind"] == https["bind"])
        errors.push_back("api.https.port: same address as api.http.port");
}

}  // namespace

load_result parse_config(std::string_view json_text) {
    load_result r;
    // Depth-limited like every reader of outside bytes; nlohmann's message
    // (line and column) is kept for syntax errors, and a number too large for
    // a double (found by fuzzing: "47E5547777776") is one of them.
    auto parsed = core::parse_json_limited(json_text);
    if (!parsed.ok()) {
        r.errors.push_back("(document): invalid JSON: " + parsed.error->message);
        return r;
    }
    json& doc = parsed.value;
    detail::validate(doc, detail::root_schema(), "", r.errors);
    if (!r.errors.empty()) return r;
    cross_check(doc, r.errors);
    if (!r.errors.empty()) return r;
    r.cfg = extract(doc);
    return r;
}

load_result load_config_file(const std::string& path) {
    std::string err;
    auto text = core::read_file(path, &err, 4 * 1024 * 1024);
    if (!text) {
        load_result r;
        r.errors.push_back(err);
        return r;
    }
    return parse_config(*text);
}

json to_json(const config& c) {
    json j;
    j["device_name"] = c.device_name;
    j["state_dir"] = c.state_dir;
    j["server_names"] = c.server_names;
    auto& api = j["api"];
    api["http"] = {{"enabled", c.api.http.enabled}, {"bind", c.api.http.bind}, {"port", c.api.http.port}};
    api["https"] = {{"enabled", c.api.https.enabled}, {"bind", c.api.https.bind}, {"port", c.api.https.port},
                    {"cert_file", c.api.https.cert_file}, {"key_file", c.api.https.key_file}};
    const auto& p = c.api.paths;
    api["paths"] = {{"otp", p.otp}, {"sms", p.sms}, {"message", p.message}, {"email", p.email},
                    {"block", p.block}, {"unblock", p.unblock}, {"modem", p.modem}, {"ussd", p.ussd}};
    api["max_body_bytes"] = c.api.max_body_bytes;
    api["max_connections"] = c.api.max_connections;
    api["max_connections_per_client"] = c.api.max_connections_per_client;
    api["header_timeout_s"] = c.api.header_timeout_s;
    api["idle_timeout_s"] = c.api.idle_timeout_s;
    api["reply_wait_s"] = c.api.reply_wait_s;
    api["user_rate_limit_per_minute"] = c.api.user_rate_limit_per_minute;
    api["auth_failures_per_minute"] = c.api.auth_failures_per_minute;
    api["block_list_max_entries"] = c.api.block_list_max_entries;
    api["block_rate_limit_per_minute"] = c.api.block_rate_limit_per_minute;
    j["admin"] = {{"enabled", c.admin.enabled}, {"web_root", c.admin.web_root}, {"bind", c.admin.bind}, {"port", c.admin.port}, {"https", c.admin.https},
                  {"cert_file", c.admin.cert_file}, {"key_file", c.admin.key_file},
                  {"session_idle_s", c.admin.session_idle_s}, {"session_absolute_s", c.admin.session_absolute_s},
                  {"max_connections_per_client", c.admin.max_connections_per_client}};
    j["general"] = {{"inspect_modem_interval_s", c.general.inspect_modem_interval_s},
                    {"shutdown_grace_s", c.general.shutdown_grace_s}, {"log_level", c.general.log_level}};
    j["sms"] = {{"country_code", c.sms.country_code}, {"recipient_prefix_length", c.sms.recipient_prefix_length},
                {"log_enabled", c.sms.log_enabled}, {"log_retention_days", c.sms.log_retention_days},
                {"queue_limit", c.sms.queue_limit}, {"max_queue_wait_s", c.sms.max_queue_wait_s}};
    j["otp"] = {{"length", c.otp.length}, {"expiration_s", c.otp.expiration_s}, {"max_attempts", c.otp.max_attempts},
                {"resend_limit", c.otp.resend_limit}, {"resend_window_s", c.otp.resend_window_s},
                {"capacity", c.otp.capacity}, {"reference_scope", c.otp.reference_scope}, {"templates", c.otp.templates}};
    j["modems"] = json::array();
    for (const auto& m : c.modems) {
        j["modems"].push_back({{"id", m.id}, {"name", m.name}, {"port", m.port}, {"baud_rate", m.baud_rate},
                               {"parity", m.parity}, {"data_bits", m.data_bits}, {"stop_bits", m.stop_bits},
                               {"recipient_prefix", m.recipient_prefix}, {"default_modem", m.default_modem},
                               {"active", m.active}, {"send_sms_from_api", m.send_sms_from_api},
                               {"sim_pin", m.sim_pin}, {"max_sms_per_minute", m.max_sms_per_minute},
                               {"max_sms_per_day", m.max_sms_per_day}, {"vendor", m.vendor},
                               {"sms_mode", m.sms_mode}});
    }
    return j;
}

std::string to_json_text(const config& cfg) {
    return to_json(cfg).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string save_config_file(const std::string& path, const config& cfg) {
    const std::string text = to_json_text(cfg);
    // Never write what we could not load back.
    auto check = parse_config(text);
    if (!check.ok()) return "refusing to save an invalid config: " + check.error_text();
    return core::atomic_write_file(path, text, 0640);
}

}  // namespace otppi::config
