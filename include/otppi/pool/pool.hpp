// The modem pool: every configured modem, routing of outgoing SMS across
// them (routing.hpp), the queue and failover policy (dispatcher.hpp), per-SIM
// caps and counters, the daily SMS log, the device inspector, and the
// sms_gateway the API talks to.
// Thread-safety: everything on the io_context thread.
#pragma once

#include "otppi/pool/sms_gateway.hpp"
#include "otppi/config/config.hpp"
#include "otppi/core/clock.hpp"

#include <chrono>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace otppi::modem {
class modem;
}

namespace otppi::pool {

struct pool_options {
    // Blocking file work (SMS log appends); runs off the io thread, in order.
    std::function<void(std::function<void()>)> file_io;
    // Passed to each modem (tests use short ones).
    std::chrono::milliseconds reopen_interval{5000};
    std::chrono::milliseconds command_timeout{10000};
    std::chrono::milliseconds send_timeout{60000};
    // How often a modem out of service for its SIM asks again (AT+CPIN?).
    std::chrono::milliseconds failed_recheck_interval{60000};
    // Where a modem whose configured port vanished is looked for, by IMEI.
    std::vector<std::string> scan_patterns{"/dev/ttyUSB*", "/dev/ttyACM*"};
    std::chrono::milliseconds probe_timeout{1500};
};

// What happened in the pool, for the admin UI's live monitor.
struct pool_event {
    std::string kind;  // modem_state, modem_moved, sms_sent, sms_failed, incoming_sms, delivery_report
    std::string modem_id;
    std::string detail;  // never message text; receivers masked
};

class modem_pool final : public api::sms_gateway {
public:
    modem_pool(boost::asio::io_context& ioc, const config::config& cfg, const core::Clock& clock, pool_options opts = {});
    ~modem_pool() override;

    void start();
    // Stop taking work; queued messages are answered "shutting down", sends in
    // flight finish (each bounded by the modem's send timeout); then modems close.
    void stop(std::function<void()> done);
    void apply_config(const config::config& cfg);

    void send(api::outgoing_sms msg, std::function<void(api::send_result)> done) override;
    void ussd(const std::string& modem_id, const std::string& code, std::function<void(api::ussd_result)> done) override;
    nlohmann::json modem_list() const override;

    void on_event(std::function<void(const pool_event&)> cb);
    // The modem with this id, or nullptr (admin tools: SIM PIN, IMEI, inbox).
    modem::modem* find(const std::string& id);

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace otppi::pool
