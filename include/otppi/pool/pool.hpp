// The modem pool: every configured modem, routing of outgoing SMS across
// them, and the sms_gateway the API talks to.
// Thread-safety: everything on the io_context thread.
#pragma once

#include "otppi/api/sms_gateway.hpp"
#include "otppi/config/config.hpp"
#include "otppi/core/clock.hpp"

#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace otppi::pool {

class modem_pool final : public api::sms_gateway {
public:
    modem_pool(boost::asio::io_context& ioc, const config::config& cfg, const core::Clock& clock);
    ~modem_pool() override;

    void start();
    // Stop taking work; `done` fires when work in flight is finished or reported.
    void stop(std::function<void()> done);
    void apply_config(const config::config& cfg);

    void send(api::outgoing_sms msg, std::function<void(api::send_result)> done) override;
    void ussd(const std::string& modem_id, const std::string& code, std::function<void(api::ussd_result)> done) override;
    nlohmann::json modem_list() const override;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace otppi::pool
