// The REST API: authentication, JSON decoding, dispatch on "command", the OTP
// engine, the block list, idempotent send-sms, and replies in OTP-Pi's wire
// format (docs/api.md). Every outcome is a JSON body with response_code and a
// message; bad input never throws past handle().
// Thread-safety: everything on the io_context thread; slow or blocking work
// goes through the executors in service_deps.
#pragma once

#include "otppi/api/authenticator.hpp"
#include "otppi/api/block_list.hpp"
#include "otppi/pool/sms_gateway.hpp"
#include "otppi/config/config.hpp"
#include "otppi/core/clock.hpp"
#include "otppi/core/scheduler.hpp"
#include "otppi/http/server.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>

namespace otppi::otp {
class engine;
class sliding_window_throttle;
}  // namespace otppi::otp

namespace otppi::api {

struct request_body;
using executor_fn = std::function<void(std::function<void()>)>;
using schedule_fn = core::schedule_fn;

struct service_deps {
    const core::Clock& clock;
    executor_fn offload;  // CPU-heavy work (password hashes)
    executor_fn post;     // back onto the io thread
    executor_fn file_io;  // ordered, blocking file writes
    schedule_fn schedule;
    const auth::user_store& users;
    sms_gateway& gateway;
};

// What became of a block or unblock (service::set_blocked).
struct block_outcome {
    enum class status { changed, unchanged, full, rate_limited, failed };
    status result = status::changed;
    std::string error;  // full, rate_limited: why, for the client; failed: what could not be written
};

struct service_counters {
    std::uint64_t requests = 0;
    std::uint64_t otp_issued = 0;
    std::uint64_t otp_verified = 0;
    std::uint64_t otp_rejected = 0;
    std::uint64_t sms_sent = 0;
    std::uint64_t sms_failed = 0;
    std::uint64_t auth_failures = 0;
};

class service {
public:
    service(const config::config& cfg, service_deps deps, std::span<const std::uint8_t> otp_key);
    ~service();

    // Loads the block list from state_dir. Empty string on success.
    std::string load_state();
    void handle(http::request req, http::responder respond);
    void apply_config(const config::config& cfg);
    void users_changed();

    const service_counters& counters() const { return counters_; }
    block_list& blocks() { return blocks_; }
    // Adds or removes a normalised receiver on behalf of `actor` (a name for
    // the log and the rate limit, e.g. "api user 'x'" or "administrator 'y'")
    // and journals it before `done` runs (posted, on the io thread). Refused
    // when the actor exceeds api.block_rate_limit_per_minute or the list holds
    // api.block_list_max_entries; `failed` when the journal could not be
    // written (the change stays in memory). Defined in block_commands.cpp.
    void set_blocked(const std::string& actor, const std::string& msisdn, bool block, std::function<void(block_outcome)> done);
    std::size_t live_otps() const;

private:
    struct reply;
    struct idem_entry;
    using reply_ptr = std::shared_ptr<reply>;

    void dispatch(const std::string& user, const http::request& req, const reply_ptr& r);
    // The commands read (and move out) the fields of the request they need.
    void cmd_request_otp(const reply_ptr& r, request_body& body, const std::string& user);
    void cmd_verify_otp(const reply_ptr& r, request_body& body, const std::string& user);
    void cmd_check_otp(const reply_ptr& r, request_body& body, const std::string& user);
    void cmd_send_sms(const reply_ptr& r, request_body& body, const std::string& user);
    void cmd_block(const reply_ptr& r, request_body& body, bool block, const std::string& user);
    void cmd_modem_list(const reply_ptr& r);
    void cmd_ussd(const reply_ptr& r, request_body& body);
    // `pending_data` is what the client gets if the bounded wait runs out first.
    void send_and_reply(const reply_ptr& r, outgoing_sms msg, nlohmann::json pending_data, std::function<void(const send_result&)> after);
    bool rate_limited(const std::string& user);
    void arm_sweep();

    config::config cfg_;
    service_deps deps_;
    authenticator auth_;
    block_list blocks_;
    std::unique_ptr<otp::engine> engine_;
    std::unique_ptr<otp::sliding_window_throttle> user_limit_;
    std::unique_ptr<otp::sliding_window_throttle> block_limit_;  // built on first use, rebuilt when the limit changes
    std::unordered_map<std::string, std::shared_ptr<idem_entry>> idempotency_;
    std::deque<std::pair<std::string, core::Clock::time_point>> idem_order_;
    std::function<void()> cancel_sweep_;
    bool sweep_armed_ = false;
    service_counters counters_;
};

}  // namespace otppi::api
