// The admin JSON API's calls (docs/admin-api.md), one function per resource.
// Sessions, setup and users are in accounts.cpp.
#include "service_impl.hpp"

#include "otppi/api/service.hpp"
#include "otppi/core/files.hpp"
#include "otppi/core/log.hpp"
#include "otppi/modem/modem.hpp"
#include "otppi/pool/pool.hpp"
#include "otppi/pool/sms_log.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>

namespace otppi::admin {

namespace {

constexpr std::size_t max_message_bytes = 2000;  // as the REST API: ~13 GSM parts

bool all_digits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

int modem_error_status(const std::string& error) {
    return error.find("timed out") != std::string::npos || error.find("timeout") != std::string::npos || error.find("did not answer") != std::string::npos
               ? 504
               : 502;
}

// One line of the SMS log: time,"modem","receiver","kind",parts,"status",mr,"error".
std::vector<std::string> csv_fields(std::string_view line) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        char ch = line[i];
        if (quoted) {
            if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                cur += '"';
                ++i;
            } else if (ch == '"') {
                quoted = false;
            } else {
                cur += ch;
            }
        } else if (ch == '"') {
            quoted = true;
        } else if (ch == ',') {
            out.push_back(std::move(cur));
            cur.clear();
        } else {
            cur += ch;
        }
    }
    out.push_back(std::move(cur));
    return out;
}

std::int64_t parse_iso(const std::string& s) {
    std::tm tm{};
    if (!strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return 0;
    return static_cast<std::int64_t>(timegm(&tm));
}


// What differs between the saved and the running configuration and only
// takes effect after a restart (listeners, TLS files, state_dir, the OTP
// engine's parameters).
json restart_required(const config::config& saved, const config::config& running, const config::otp_config& engine) {
    json out = json::array();
    auto listener_changed = [](const config::listener& a, const config::listener& b) { return a.enabled != b.enabled || a.bind != b.bind || a.port != b.port; };
    if (listener_changed(saved.api.http, running.api.http)) out.push_back("api.http");
    if (listener_changed(saved.api.https, running.api.https) || saved.api.https.cert_file != running.api.https.cert_file ||
        saved.api.https.key_file != running.api.https.key_file)
        out.push_back("api.https");
    if (saved.admin.bind != running.admin.bind || saved.admin.port != running.admin.port || saved.admin.https != running.admin.https ||
        saved.admin.cert_file != running.admin.cert_file || saved.admin.key_file != running.admin.key_file || saved.admin.enabled != running.admin.enabled)
        out.push_back("admin");
    if (saved.state_dir != running.state_dir) out.push_back("state_dir");
    const auto& o = saved.otp;
    if (o.length != engine.length || o.expiration_s != engine.expiration_s || o.max_attempts != engine.max_attempts ||
        o.resend_limit != engine.resend_limit || o.resend_window_s != engine.resend_window_s || o.capacity != engine.capacity ||
        o.reference_scope != engine.reference_scope)
        out.push_back("otp");
    return out;
}

}  // namespace

// Declared in service_impl.hpp.
std::optional<std::string> text(const json& body, const char* name, std::size_t max_len, std::string& error, bool required) {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) {
        if (required && error.empty()) error = std::string(name) + ": required";
        return std::nullopt;
    }
    if (!it->is_string()) {
        if (error.empty()) error = std::string(name) + ": expected text";
        return std::nullopt;
    }
    const auto& s = it->get_ref<const std::string&>();
    if (s.size() > max_len) {
        if (error.empty()) error = std::string(name) + ": at most " + std::to_string(max_len) + " characters";
        return std::nullopt;
    }
    if (required && s.empty()) {
        if (error.empty()) error = std::string(name) + ": must not be empty";
        return std::nullopt;
    }
    return s;
}

std::vector<std::vector<std::string>> read_sms_log_day(const std::string& state_dir, const std::string& day) {
    std::vector<std::vector<std::string>> rows;
    auto text = core::read_file(state_dir + "/sms-log/" + day + ".csv", nullptr, 64 * 1024 * 1024);
    if (!text) return rows;
    std::size_t pos = 0;
    while (pos < text->size()) {
        auto end = text->find('\n', pos);
        if (end == std::string::npos) end = text->size();
        auto f = csv_fields(std::string_view(text->data() + pos, end - pos));
        pos = end + 1;
        if (f.size() < 8 || f[0] == "time") continue;  // not an entry, or the file's header line
        rows.push_back(std::move(f));
    }
    return rows;
}

// ------------------------------------------------------------- modems

namespace {
json* find_modem(json& doc, const std::string& id) {
    for (auto& m : doc["modems"])
        if (m.value("id", "") == id) return &m;
    return nullptr;
}
}  // namespace

void service::impl::modems(const call_ptr& c) {
    if (c->req.method == "GET") return reply(c, 200, {{"modems", modems_json()}});
    if (c->req.method != "POST") return fail(c, 405, "Use GET or POST.");
    auto body = c->body;
    if (!body.contains("id") || !body["id"].is_string()) return fail(c, 400, "id: required", {"id: required"});
    const std::string id = body["id"];
    change_config(
        c,
        [id, body](json& doc) -> std::string {
            if (find_modem(doc, id)) return "409 A modem with the id '" + id + "' exists already.";
            doc["modems"].push_back(body);
            return {};
        },
        [this, c, id](const config::config&) {
            spdlog::info("admin: modem {} added", id);
            for (auto& m : modems_json())
                if (m["id"] == id) return reply(c, 201, {{"modem", m}});
            reply(c, 201, json::object());
        });
}

void service::impl::modem_action(const call_ptr& c) {
    const std::string id = c->segments[1];
    const auto& method = c->req.method;
    const auto n = c->segments.size();
    auto has_modem = std::any_of(cfg().modems.begin(), cfg().modems.end(), [&](const auto& m) { return m.id == id; });
    if (!has_modem) return fail(c, 404, "There is no modem '" + id.substr(0, 64) + "'.");
    auto reply_modem = [this, c, id](const config::config&) {
        for (auto& m : modems_json())
            if (m["id"] == id) return reply(c, 200, {{"modem", m}});
        reply(c, 200, json::object());
    };
    if (n == 2 && method == "PUT") {
        auto body = c->body;
        if (body.contains("id") && body["id"] != id) return fail(c, 400, "The id of a modem cannot be changed; remove it and add it again.", {"id: cannot be changed"});
        body.erase("id");
        return change_config(
            c,
            [id, body](json& doc) -> std::string {
                auto* m = find_modem(doc, id);
                if (!m) return "404 There is no modem '" + id + "'.";
                for (auto& [k, v] : body.items()) (*m)[k] = v;
                return {};
            },
            reply_modem);
    }
    if (n == 2 && method == "DELETE") {
        return change_config(
            c,
            [id](json& doc) -> std::string {
                auto& list = doc["modems"];
                for (auto it = list.begin(); it != list.end(); ++it)
                    if (it->value("id", "") == id) {
                        list.erase(it);
                        return {};
                    }
                return "404 There is no modem '" + id + "'.";
            },
            [this, c, id](const config::config&) {
                spdlog::info("admin: modem {} removed", id);
                reply(c, 200, json::object());
            });
    }
    if (n != 3 || method != "POST") return fail(c, 404, "Unknown modem action.");
    const auto& action = c->segments[2];
    if (action == "connect" || action == "disconnect") {
        const bool active = action == "connect";
        return change_config(
            c,
            [id, active](json& doc) -> std::string {
                (*find_modem(doc, id))["active"] = active;
                return {};
            },
            reply_modem);
    }
    auto* dev = deps.pool.find(id);
    if (!dev || !dev->ready()) return fail(c, 503, "Modem '" + id + "' is not connected and ready.");
    if (action == "sim-lock") {
        auto enable = c->body.find("enable");
        std::string error;
        auto pin = text(c->body, "pin", 8, error);
        if (enable == c->body.end() || !enable->is_boolean()) return fail(c, 400, "enable: expected true or false", {"enable: expected true or false"});
        if (!error.empty()) return fail(c, 400, error, {error});
        if (pin->size() < 4 || !all_digits(*pin)) return fail(c, 400, "The PIN is 4 to 8 digits.", {"pin: expected 4 to 8 digits"});
        const bool on = enable->get<bool>();
        dev->set_sim_lock(on, *pin, [this, c, id, on, pin = *pin](bool ok, std::string err) {
            if (!ok) return fail(c, modem_error_status(err), "The modem refused: " + err);
            spdlog::info("admin: SIM PIN lock of modem {} turned {}", id, on ? "on" : "off");
            if (!on) return reply(c, 200, json::object());
            // The PIN is now needed at every start: keep it in the config so
            // the modem unlocks its SIM after a restart.
            change_config(
                c,
                [id, pin](json& doc) -> std::string {
                    if (auto* m = find_modem(doc, id)) (*m)["sim_pin"] = pin;
                    return {};
                },
                [this, c](const config::config&) { reply(c, 200, json::object()); });
        });
        return;
    }
    if (action == "imei") {
        std::string error;
        auto imei = text(c->body, "imei", 15, error);
        if (!error.empty()) return fail(c, 400, error, {error});
        if (imei->size() != 15 || !all_digits(*imei)) return fail(c, 400, "An IMEI is 15 digits.", {"imei: expected 15 digits"});
        dev->change_imei(*imei, [this, c, id](bool ok, std::string err) {
            if (!ok) return fail(c, modem_error_status(err), "The IMEI was not changed: " + err);
            spdlog::info("admin: IMEI of modem {} changed", id);
            reply(c, 200, json::object());
        });
        return;
    }
    fail(c, 404, "Unknown modem action '" + action.substr(0, 32) + "'.");
}

// ------------------------------------------------------------- SMS, inbox, USSD

void service::impl::send_sms(const call_ptr& c) {
    std::string error;
    auto modem_id = text(c->body, "modem_id", 64, error, false);
    auto receiver_raw = text(c->body, "receiver", 32, error);
    auto message = text(c->body, "message", max_message_bytes, error);
    if (!error.empty()) return fail(c, 400, error, {error});
    auto receiver = config::normalize_msisdn(*receiver_raw, cfg().sms.country_code);
    if (!receiver || receiver->size() < 5 || receiver->size() > 20)
        return fail(c, 400, "The receiver is not a phone number (5 to 20 digits, with an optional leading + or 0).", {"receiver: not a phone number"});
    if (deps.api.blocks().contains(*receiver)) return fail(c, 400, "This number is on the block list.", {"receiver: blocked"});
    api::outgoing_sms msg;
    msg.receiver = *receiver;
    msg.text = core::secure_string(*message);
    if (modem_id && !modem_id->empty()) {
        if (!deps.pool.find(*modem_id)) return fail(c, 404, "There is no modem '" + *modem_id + "'.");
        msg.modem_id = *modem_id;
    }
    c->body.erase("message");  // no copy of the text outlives the send
    deps.pool.send(std::move(msg), [this, c](api::send_result r) {
        switch (r.status) {
        case api::send_status::sent:
            return reply(c, 200, {{"modem_id", r.modem_id}, {"message_reference", r.message_reference}, {"parts", r.parts}});
        case api::send_status::no_modem: return fail(c, 503, "No modem can send now" + (r.error.empty() ? std::string(".") : ": " + r.error));
        case api::send_status::queue_full: return fail(c, 503, "Every modem queue is full; try again shortly.");
        case api::send_status::expired: return fail(c, 504, "Not sent: no modem was free in time.");
        case api::send_status::not_supported:
        case api::send_status::failed: return fail(c, modem_error_status(r.error), "Not sent: " + (r.error.empty() ? std::string("the modem failed") : r.error));
        }
    });
}

void service::impl::inbox(const call_ptr& c) {
    const auto& method = c->req.method;
    const auto n = c->segments.size();
    if (n == 1 && method == "GET") {
        std::vector<modem::incoming_sms> all;
        for (const auto& mc : cfg().modems)
            if (auto* dev = deps.pool.find(mc.id)) {
                auto list = dev->inbox();
                all.insert(all.end(), list.begin(), list.end());
            }
        std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.received_unix > b.received_unix; });
        json out = json::array();
        for (const auto& m : all)
            out.push_back({{"id", m.id},
                           {"modem_id", m.modem_id},
                           {"from", m.from},
                           {"text", m.text},
                           {"received_unix", m.received_unix},
                           {"parts", m.parts},
                           {"read", m.read},
                           {"complete", m.complete}});
        return reply(c, 200, {{"messages", out}});
    }
    if (n < 3) return fail(c, 404, "Unknown inbox call.");
    auto* dev = deps.pool.find(c->segments[1]);
    if (!dev) return fail(c, 404, "There is no modem '" + c->segments[1].substr(0, 64) + "'.");
    const auto& id = c->segments[2];
    if (n == 4 && c->segments[3] == "read" && method == "POST") {
        auto read = c->body.find("read");
        const bool value = read == c->body.end() || !read->is_boolean() || read->get<bool>();
        return dev->mark_inbox_read(id, value) ? reply(c, 200, json::object()) : fail(c, 404, "That message is not in the inbox.");
    }
    if (n == 3 && method == "DELETE") return dev->delete_inbox(id) ? reply(c, 200, json::object()) : fail(c, 404, "That message is not in the inbox.");
    fail(c, 404, "Unknown inbox call.");
}

void service::impl::ussd(const call_ptr& c) {
    if (c->req.method != "POST") return fail(c, 405, "Use POST.");
    std::string error;
    auto modem_id = text(c->body, "modem_id", 64, error);
    if (!error.empty()) return fail(c, 400, error, {error});
    auto* dev = deps.pool.find(*modem_id);
    if (!dev) return fail(c, 404, "There is no modem '" + *modem_id + "'.");
    auto answer = [this, c](modem::ussd_result r) {
        if (!r.ok) return fail(c, modem_error_status(r.error), "USSD failed: " + (r.error.empty() ? std::string("no answer") : r.error));
        reply(c, 200, {{"response", r.text}, {"replyable", r.replyable}});
    };
    const auto n = c->segments.size();
    if (n == 1) {
        auto code = text(c->body, "code", 64, error);
        if (!error.empty()) return fail(c, 400, error, {error});
        if (!std::all_of(code->begin(), code->end(), [](char ch) { return (ch >= '0' && ch <= '9') || ch == '*' || ch == '#' || ch == '+'; }))
            return fail(c, 400, "A USSD code has only digits, * and #, like *888#.", {"code: only digits, * and #"});
        if (!dev->ready()) return fail(c, 503, "Modem '" + *modem_id + "' is not connected and ready.");
        return dev->ussd(*code, answer);
    }
    if (n == 2 && c->segments[1] == "reply") {
        auto reply_text = text(c->body, "text", 160, error);
        if (!error.empty()) return fail(c, 400, error, {error});
        if (!dev->ussd_session_open()) return fail(c, 409, "No USSD session is waiting for an answer on this modem.");
        return dev->ussd_reply(*reply_text, answer);
    }
    if (n == 2 && c->segments[1] == "cancel") return dev->ussd_cancel([this, c] { reply(c, 200, json::object()); });
    fail(c, 404, "Unknown USSD call.");
}

// ------------------------------------------------------------- block list

void service::impl::blocklist(const call_ptr& c) {
    const auto& method = c->req.method;
    const auto n = c->segments.size();
    if (n == 1 && method == "GET") {
        const auto& numbers = deps.api.blocks().numbers();
        return reply(c, 200, {{"numbers", json(std::vector<std::string>(numbers.begin(), numbers.end()))}});
    }
    std::string raw;
    if (n == 1 && method == "POST") {
        std::string error;
        auto v = text(c->body, "msisdn", 32, error);
        if (!error.empty()) return fail(c, 400, error, {error});
        raw = *v;
    } else if (n == 2 && method == "DELETE") {
        raw = c->segments[1];
    } else {
        return fail(c, 404, "Unknown block list call.");
    }
    auto number = config::normalize_msisdn(raw, cfg().sms.country_code);
    if (!number || number->size() < 5 || number->size() > 20)
        return fail(c, 400, "That is not a phone number (5 to 20 digits, with an optional leading + or 0).", {"msisdn: not a phone number"});
    const bool block = method == "POST";
    const std::string who = "administrator '" + (session_of(c) ? session_of(c)->user : std::string()) + "'";
    deps.api.set_blocked(who, *number, block, [this, c, block, number = *number](api::block_outcome o) {
        using st = api::block_outcome::status;
        if (o.result == st::failed) return fail(c, 500, "Changed in memory but not saved: " + o.error);
        if (o.result == st::rate_limited) return fail(c, 429, "Too many block list changes: " + o.error);
        if (o.result == st::full) return fail(c, 409, "Not changed: " + o.error + ".");
        if (!block && o.result == st::unchanged) return fail(c, 404, "That number is not on the block list.");
        reply(c, block ? 201 : 200, {{"msisdn", number}});
    });
}

// ------------------------------------------------------------- settings, SMS log

void service::impl::settings(const call_ptr& c) {
    auto visible = [](json doc) {
        doc.erase("modems");
        return doc;
    };
    if (c->req.method == "GET")
        return reply(c, 200, {{"settings", visible(config::to_json(cfg()))}, {"restart_required", restart_required(cfg(), deps.running_config(), engine_otp)}});
    if (c->req.method != "PUT") return fail(c, 405, "Use GET or PUT.");
    if (c->body.contains("modems")) return fail(c, 400, "Modems are changed on the modems page.", {"modems: not a setting"});
    auto patch = c->body;
    change_config(
        c,
        [patch](json& doc) -> std::string {
            doc.merge_patch(patch);
            return {};
        },
        [this, c, visible](const config::config& now) {
            const auto restart = restart_required(now, deps.running_config(), engine_otp);
            spdlog::info("admin: settings changed by '{}'", session_of(c) ? session_of(c)->user : "");
            reply(c, 200, {{"settings", visible(config::to_json(now))}, {"restart_required", restart}});
        });
}

void service::impl::sms_log(const call_ptr& c) {
    int days = 7;
    const auto q = c->req.target.find('?');
    if (auto v = q == std::string::npos ? std::string() : list_value(std::string_view(c->req.target).substr(q + 1), '&', "days"); !v.empty()) {
        if (!all_digits(v) || v.size() > 3) return fail(c, 400, "days: expected a number from 1 to 90");
        days = std::stoi(v);
    }
    if (days < 1 || days > 90) return fail(c, 400, "days: expected a number from 1 to 90");
    const auto state_dir = cfg().state_dir;
    const auto now = deps.clock.unix_seconds();
    deps.file_io([this, c, state_dir, days, now] {
        json day_list = json::array();
        std::vector<json> entries;
        for (int i = days - 1; i >= 0; --i) {
            const auto date = pool::sms_log::day_of(now - static_cast<std::int64_t>(i) * 86400);
            json per_modem = json::object();
            for (const auto& f : read_sms_log_day(state_dir, date)) {
                auto& counts = per_modem[f[1]];
                if (counts.is_null()) counts = {{"sent", 0}, {"failed", 0}};
                const bool sent = f[5] == "sent";
                counts[sent ? "sent" : "failed"] = counts[sent ? "sent" : "failed"].get<int>() + 1;
                entries.push_back({{"time", parse_iso(f[0])}, {"modem_id", f[1]}, {"receiver", f[2]}, {"kind", f[3]},
                                   {"parts", std::atoi(f[4].c_str())}, {"status", f[5]}, {"error", f[7]}});
                if (entries.size() > 400) entries.erase(entries.begin(), entries.begin() + 200);
            }
            day_list.push_back({{"date", date}, {"modems", per_modem}});
        }
        json newest = json::array();
        for (auto it = entries.rbegin(); it != entries.rend() && newest.size() < 200; ++it) newest.push_back(std::move(*it));
        deps.post([this, c, day_list = std::move(day_list), newest = std::move(newest)] { reply(c, 200, {{"days", day_list}, {"entries", newest}}); });
    });
}

}  // namespace otppi::admin
