#include "schema.hpp"

#include "otppi/config/config.hpp"

#include "otppi/core/log.hpp"

#include <algorithm>

namespace otppi::config::detail {

using nlohmann::json;

namespace {

node_ptr make(node n) { return std::make_shared<const node>(std::move(n)); }

node_ptr integer(std::int64_t min, std::int64_t max, std::int64_t def) {
    node n;
    n.k = node::kind::integer;
    n.min = min;
    n.max = max;
    n.default_value = def;
    return make(std::move(n));
}

node_ptr integer_of(std::vector<std::int64_t> allowed, std::int64_t def) {
    node n;
    n.k = node::kind::integer;
    n.min = *std::min_element(allowed.begin(), allowed.end());
    n.max = *std::max_element(allowed.begin(), allowed.end());
    for (auto v : allowed) n.one_of.push_back(std::to_string(v));
    n.default_value = def;
    return make(std::move(n));
}

node_ptr boolean(bool def) {
    node n;
    n.k = node::kind::boolean;
    n.default_value = def;
    return make(std::move(n));
}

node_ptr string(std::size_t min_len, std::size_t max_len, json def, check_fn check = {}) {
    node n;
    n.k = node::kind::string;
    n.min = static_cast<std::int64_t>(min_len);
    n.max = static_cast<std::int64_t>(max_len);
    n.default_value = std::move(def);
    n.check = std::move(check);
    return make(std::move(n));
}

node_ptr string_of(std::vector<std::string> allowed, std::string def) {
    node n;
    n.k = node::kind::string;
    n.min = 0;
    n.max = 64;
    n.one_of = std::move(allowed);
    n.default_value = std::move(def);
    return make(std::move(n));
}

node_ptr object(std::vector<field> fields) {
    node n;
    n.k = node::kind::object;
    n.fields = std::move(fields);
    n.default_value = json::object();
    return make(std::move(n));
}

node_ptr array(node_ptr item, std::size_t max_items, json def = json::array()) {
    node n;
    n.k = node::kind::array;
    n.item = std::move(item);
    n.min = 0;
    n.max = static_cast<std::int64_t>(max_items);
    n.default_value = std::move(def);
    return make(std::move(n));
}

node_ptr map_of(node_ptr value, std::size_t max_items) {
    node n;
    n.k = node::kind::map;
    n.item = std::move(value);
    n.max = static_cast<std::int64_t>(max_items);
    n.default_value = json::object();
    return make(std::move(n));
}

std::string check_digits(const json& v) {
    const auto& s = v.get_ref<const std::string&>();
    if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return "expected digits only";
    return {};
}

std::string check_absolute_path(const json& v) {
    const auto& s = v.get_ref<const std::string&>();
    if (!s.empty() && s.front() != '/') return "expected an absolute path";
    return {};
}

std::string check_url_path(const json& v) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty() || s.front() != '/') return "expected a URL path starting with '/'";
    if (s.find_first_of("?# \t\r\n") != std::string::npos) return "URL path must not contain '?', '#' or spaces";
    return {};
}

// A host name or an IP literal, as a Host header would carry it (no port).
std::string check_server_name(const json& v) {
    const auto& s = v.get_ref<const std::string&>();
    for (char ch : s)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '-' && ch != '_' && ch != ':')
            return "expected a host name or an IP address (letters, digits, '.', '-', ':')";
    return {};
}

std::string check_identifier(const json& v) {
    const auto& s = v.get_ref<const std::string&>();
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
            return "expected letters, digits, '-', '_' or '.'";
    return {};
}

std::string check_template(const json& v) {
    // The same rule the OTP engine applies to data.message: one %s, no other conversion.
    const auto& s = v.get_ref<const std::string&>();
    int placeholders = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') continue;
        if (i + 1 < s.size() && s[i + 1] == 's') {
            ++placeholders;
            ++i;
        } else if (i + 1 < s.size() && s[i + 1] == '%') {
            ++i;
        } else {
            return "only %s (once) and %% may follow '%'";
        }
    }
    if (placeholders != 1) return "expected exactly one %s";
    return {};
}

std::string check_log_level(const json& v) {
    return core::is_valid_log_level(v.get_ref<const std::string&>()) ? std::string{}
                                                                      : "expected one of trace, debug, info, warn, error, critical, off";
}

node_ptr listener_schema(std::int64_t port, bool enabled) {
    return object({{"enabled", boolean(enabled)}, {"bind", string(1, 255, "0.0.0.0")}, {"port", integer(1, 65535, port)}});
}

node_ptr build_root() {
    auto https = object({{"enabled", boolean(false)},
                         {"bind", string(1, 255, "0.0.0.0")},
                         {"port", integer(1, 65535, 8443)},
                         {"cert_file", string(0, 4096, "/etc/otppi/tls/cert.pem", check_absolute_path)},
                         {"key_file", string(0, 4096, "/etc/otppi/tls/key.pem", check_absolute_path)}});
    auto paths = object({{"otp", string(1, 255, "/api/otp", check_url_path)},
                         {"sms", string(1, 255, "/api/sms", check_url_path)},
                         {"message", string(1, 255, "/api/message", check_url_path)},
                         {"email", string(1, 255, "/api/email", check_url_path)},
                         {"block", string(1, 255, "/api/block", check_url_path)},
                         {"unblock", string(1, 255, "/api/unblock", check_url_path)},
                         {"modem", string(1, 255, "/api/modem", check_url_path)},
                         {"ussd", string(1, 255, "/api/ussd", check_url_path)}});
    auto api = object({{"http", listener_schema(8080, true)},
                       {"https", https},
                       {"paths", paths},
                       {"max_body_bytes", integer(1024, 1024 * 1024, 65536)},
                       {"max_connections", integer(1, 100000, 1024)},
                       {"max_connections_per_client", integer(0, 100000, 64)},
                       {"header_timeout_s", integer(1, 300, 10)},
                       {"idle_timeout_s", integer(1, 3600, 60)},
                       {"reply_wait_s", integer(1, 300, 30)},
                       {"user_rate_limit_per_minute", integer(0, 65535, 600)},
                       {"auth_failures_per_minute", integer(1, 10000, 20)},
                       // Upper bound = api::block_list::hard_max_entries, which sizes the loader's limits.
                       {"block_list_max_entries", integer(1, 1'000'000, 100'000)},
                       {"block_rate_limit_per_minute", integer(0, 65535, 120)}});
    auto admin = object({{"enabled", boolean(true)},
                         {"web_root", string(1, 4096, OTPPI_DEFAULT_WEB_ROOT, check_absolute_path)},
                         {"bind", string(1, 255, "0.0.0.0")},
                         {"port", integer(1, 65535, 8888)},
                         {"https", boolean(false)},
                         {"cert_file", string(0, 4096, "/etc/otppi/tls/cert.pem", check_absolute_path)},
                         {"key_file", string(0, 4096, "/etc/otppi/tls/key.pem", check_absolute_path)},
                         {"session_idle_s", integer(60, 86400, 1800)},
                         {"session_absolute_s", integer(300, 7 * 86400, 43200)},
                         {"max_connections_per_client", integer(0, 256, 32)}});
    auto general = object({{"inspect_modem_interval_s", integer(0, 3600, 10)},
                           {"shutdown_grace_s", integer(1, 300, 10)},
                           {"log_level", string(1, 16, "info", check_log_level)}});
    auto sms = object({{"country_code", string(1, 3, "62", check_digits)},
                       {"recipient_prefix_length", integer(1, 10, 5)},
                       {"log_enabled", boolean(true)},
                       {"log_retention_days", integer(1, 3650, 90)},
                       {"queue_limit", integer(1, 100000, 1000)},
                       {"max_queue_wait_s", integer(0, 3600, 10)}});
    auto otp = object({{"length", integer(4, 10, 6)},
                       {"expiration_s", integer(30, 600, 180)},
                       {"max_attempts", integer(1, 100, 5)},
                       {"resend_limit", integer(1, 1000, 5)},
                       {"resend_window_s", integer(1, 86400, 600)},
                       {"capacity", integer(1000, 10'000'000, 2'000'000)},
                       {"reference_scope", string_of({"user", "global"}, "user")},
                       {"templates", map_of(string(2, 640, nullptr, check_template), 64)}});
    auto modem = object({{"id", string(1, 64, nullptr, check_identifier)},
                         {"name", string(0, 128, "")},
                         {"port", string(1, 4096, nullptr, check_absolute_path)},
                         {"baud_rate", integer_of({1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600}, 115200)},
                         {"parity", string_of({"none", "even", "odd"}, "none")},
                         {"data_bits", integer_of({7, 8}, 8)},
                         {"stop_bits", integer_of({1, 2}, 1)},
                         {"recipient_prefix", array(string(1, 16, nullptr, [](const json& v) {
                                                        auto s = v.get<std::string>();
                                                        if (!s.empty() && s.front() == '+') s.erase(0, 1);
                                                        return check_digits(json(s));
                                                    }),
                                                    1000)},
                         {"default_modem", boolean(false)},
                         {"active", boolean(true)},
                         {"send_sms_from_api", boolean(true)},
                         {"sim_pin", string(0, 8, "", [](const json& v) {
                                              const auto& pin = v.get_ref<const std::string&>();
                                              if (pin.empty()) return std::string{};
                                              if (pin.size() < 4) return std::string("expected 4 to 8 digits, or empty for no PIN");
                                              return check_digits(v);
                                          })},
                         {"max_sms_per_minute", integer(0, 1000, 0)},
                         {"max_sms_per_day", integer(0, 1000000, 0)},
                         {"vendor", string_of({"auto", "generic", "simcom", "huawei", "quectel"}, "auto")},
                         {"sms_mode", string_of({"pdu", "text", "auto"}, "pdu")}});
    return object({{"device_name", string(1, 64, "OTP-Pi")},
                   {"state_dir", string(1, 4096, "/var/lib/otppi", check_absolute_path)},
                   {"server_names", array(string(1, 253, nullptr, check_server_name), 64)},
                   {"api", api},
                   {"admin", admin},
                   {"general", general},
                   {"sms", sms},
                   {"otp", otp},
                   {"modems", array(modem, 64)}});
}

std::string type_name(const json& v) {
    if (v.is_boolean()) return "boolean";
    if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
    if (v.is_number()) return "number";
    return v.type_name();
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

}  // namespace

const node& root_schema() {
    static const node_ptr root = build_root();
    return *root;
}

void validate(json& doc, const node& schema, const std::string& path, std::vector<std::string>& errors) {
    const std::string where = path.empty() ? std::string("(document)") : path;
    switch (schema.k) {
    case node::kind::object: {
        if (!doc.is_object()) {
            errors.push_back(where + ": expected object, got " + type_name(doc));
            return;
        }
        for (auto it = doc.begin(); it != doc.end(); ++it) {
            bool known = std::any_of(schema.fields.begin(), schema.fields.end(), [&](const field& f) { return f.name == it.key(); });
            if (!known) errors.push_back((path.empty() ? "" : path + ".") + it.key() + ": unknown key");
        }
        for (const auto& f : schema.fields) {
            const std::string child = path.empty() ? f.name : path + "." + f.name;
            if (!doc.contains(f.name)) {
                if (f.type->default_value.is_null()) {
                    errors.push_back(child + ": missing (required)");
                    continue;
                }
                doc[f.name] = f.type->default_value;
            }
            validate(doc[f.name], *f.type, child, errors);
        }
        return;
    }
    case node::kind::map: {
        if (!doc.is_object()) {
            errors.push_back(where + ": expected object, got " + type_name(doc));
            return;
        }
        if (static_cast<std::int64_t>(doc.size()) > schema.max)
            errors.push_back(where + ": at most " + std::to_string(schema.max) + " entries");
        for (auto it = doc.begin(); it != doc.end(); ++it) validate(it.value(), *schema.item, path + "." + it.key(), errors);
        return;
    }
    case node::kind::array: {
        if (!doc.is_array()) {
            errors.push_back(where + ": expected array, got " + type_name(doc));
            return;
        }
        if (static_cast<std::int64_t>(doc.size()) > schema.max)
            errors.push_back(where + ": at most " + std::to_string(schema.max) + " items");
        for (std::size_t i = 0; i < doc.size(); ++i) validate(doc[i], *schema.item, path + "[" + std::to_string(i) + "]", errors);
        return;
    }
    case node::kind::integer: {
        const std::string expected = schema.one_of.empty()
                                         ? "expected integer " + std::to_string(schema.min) + ".." + std::to_string(schema.max)
                                         : "expected one of " + join(schema.one_of);
        if (!(doc.is_number_integer() || doc.is_number_unsigned())) {
            errors.push_back(where + ": " + expected + ", got " + type_name(doc));
            return;
        }
        // Unsigned values above int64 range compare as out of range, not wrapped.
        if (doc.is_number_unsigned() && doc.get<std::uint64_t>() > static_cast<std::uint64_t>(schema.max)) {
            errors.push_back(where + ": " + expected);
            return;
        }
        const auto v = doc.get<std::int64_t>();
        bool ok = v >= schema.min && v <= schema.max;
        if (ok && !schema.one_of.empty())
            ok = std::find(schema.one_of.begin(), schema.one_of.end(), std::to_string(v)) != schema.one_of.end();
        if (!ok) errors.push_back(where + ": " + expected);
        return;
    }
    case node::kind::boolean:
        if (!doc.is_boolean()) errors.push_back(where + ": expected true or false, got " + type_name(doc));
        return;
    case node::kind::string: {
        if (!doc.is_string()) {
            errors.push_back(where + ": expected string, got " + type_name(doc));
            return;
        }
        const auto& s = doc.get_ref<const std::string&>();
        if (!schema.one_of.empty()) {
            if (std::find(schema.one_of.begin(), schema.one_of.end(), s) == schema.one_of.end())
                errors.push_back(where + ": expected one of " + join(schema.one_of));
            return;
        }
        if (static_cast<std::int64_t>(s.size()) < schema.min || static_cast<std::int64_t>(s.size()) > schema.max) {
            errors.push_back(where + ": expected " + std::to_string(schema.min) + ".." + std::to_string(schema.max) + " characters");
            return;
        }
        if (schema.check) {
            if (auto msg = schema.check(doc); !msg.empty()) errors.push_back(where + ": " + msg);
        }
        return;
    }
    }
}

}  // namespace otppi::config::detail
