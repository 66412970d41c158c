// The REST request decoder: any body, on any path, through the real service
// (authenticated, so the fuzzer reaches the command handlers). The gateway
// answers every send at once. Inputs may stand for deep nesting (expand.hpp).
#include "expand.hpp"
#include "otppi/api/request_body.hpp"
#include "otppi/api/service.hpp"
#include "otppi/auth/password.hpp"
#include "otppi/auth/user_store.hpp"
#include "otppi/core/json.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

using namespace otppi;

namespace {

std::deque<std::function<void()>> tasks;
void run_tasks() {
    while (!tasks.empty()) {
        auto t = std::move(tasks.front());
        tasks.pop_front();
        t();
    }
}

struct instant_gateway : api::sms_gateway {
    void send(api::outgoing_sms, std::function<void(api::send_result)> done) override {
        tasks.push_back([done] {
            api::send_result r;
            r.status = api::send_status::sent;
            r.modem_id = "m1";
            done(r);
        });
    }
    void ussd(const std::string&, const std::string&, std::function<void(api::ussd_result)> done) override {
        tasks.push_back([done] { done(api::ussd_result{}); });
    }
    nlohmann::json modem_list() const override { return nlohmann::json::object(); }
};

struct world {
    core::ManualClock clock;
    std::string dir;
    auth::user_store users{""};
    instant_gateway gateway;
    std::unique_ptr<api::service> svc;
    world() {
        char tmpl[] = "/tmp/otppi-fuzz-XXXXXX";
        dir = ::mkdtemp(tmpl);
        users = auth::user_store(dir);
        users.put(auth::user_kind::api, "app", {auth::hash_password("fuzz-password", {4, 8, 1}), 0});
        config::config cfg;
        cfg.state_dir = dir;
        cfg.api.paths = {"/api/otp", "/api/sms", "/api/message", "/api/email", "/api/block", "/api/unblock", "/api/modem", "/api/ussd"};
        cfg.api.user_rate_limit_per_minute = 0;
        cfg.otp.resend_limit = 1000;
        auto post = [](std::function<void()> fn) { tasks.push_back(std::move(fn)); };
        auto schedule = [](std::chrono::milliseconds, std::function<void()>) -> std::function<void()> { return [] {}; };
        std::array<std::uint8_t, 64> key{};
        key.fill(1);
        svc = std::make_unique<api::service>(cfg, api::service_deps{clock, post, post, post, schedule, users, gateway}, key);
        spdlog::set_level(spdlog::level::off);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static world w;
    http::request req;
    req.method = size % 2 ? "POST" : "PUT";
    req.target = "/api/otp";
    std::string_view input(reinterpret_cast<const char*>(data), size);
    // An input starting with '/' chooses the path too (its first line): reply
    // messages quote the path, and a non-UTF-8 path once made them throw.
    if (!input.empty() && input.front() == '/') {
        const auto nl = input.find('\n');
        req.target = std::string(input.substr(0, nl));
        input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
        data = reinterpret_cast<const std::uint8_t*>(input.data());
        size = input.size();
    }
    req.authorization = "Basic " + auth::base64_encode("app:fuzz-password");
    req.remote_address = "127.0.0.1";
    req.body = fuzz::expand_nesting(std::string_view(reinterpret_cast<const char*>(data), size));
    // The fast body reader answers only for its subset of JSON, and then as nlohmann's parser does.
    const auto full = api::detail::read_full(req.body);
    if (auto fast = api::detail::read_fast(req.body); fast && !(*fast == full)) __builtin_trap();
    // The body reader and the shared depth-limited parser agree on what is
    // JSON, what is too deep, and where.
    const auto limited = core::parse_json_limited(req.body);
    const bool too_deep = limited.error && limited.error->what == core::json_error::kind::too_deep;
    if (too_deep != (full.result == api::request_body::verdict::too_deep)) __builtin_trap();
    if (too_deep && limited.error->offset != full.error_offset) __builtin_trap();
    if (limited.ok() == (full.result == api::request_body::verdict::not_json || too_deep)) __builtin_trap();
    bool answered = false;
    w.svc->handle(std::move(req), [&](http::response res) {
        answered = true;
        // Every answer is JSON with a response_code; a body too deep is refused as such.
        auto j = nlohmann::json::parse(res.body, nullptr, false);
        if (j.is_discarded() || !j.contains("response_code")) __builtin_trap();
        if (too_deep && (j["response_code"] != "1301" || j.value("message", "").find("nested deeper than") == std::string::npos)) __builtin_trap();
    });
    run_tasks();
    if (!answered) __builtin_trap();
    return 0;
}
