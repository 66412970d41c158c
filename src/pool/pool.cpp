#include "otppi/pool/pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

namespace otppi::pool {

namespace net = boost::asio;

struct modem_pool::impl {
    impl(net::io_context& io, const config::config& c, const core::Clock& clk) : ioc(io), cfg(c), clock(clk) {}
    net::io_context& ioc;
    config::config cfg;
    const core::Clock& clock;
    bool stopping = false;
};

modem_pool::modem_pool(net::io_context& ioc, const config::config& cfg, const core::Clock& clock)
    : impl_(std::make_unique<impl>(ioc, cfg, clock)) {}

modem_pool::~modem_pool() = default;

void modem_pool::start() {}

void modem_pool::stop(std::function<void()> done) {
    impl_->stopping = true;
    net::post(impl_->ioc, std::move(done));
}

void modem_pool::apply_config(const config::config& cfg) { impl_->cfg = cfg; }

void modem_pool::send(api::outgoing_sms, std::function<void(api::send_result)> done) {
    api::send_result res;
    res.status = api::send_status::no_modem;
    res.error = "no modem connected: no modem driver is running";
    net::post(impl_->ioc, [done = std::move(done), res] { done(res); });
}

void modem_pool::ussd(const std::string& modem_id, const std::string&, std::function<void(api::ussd_result)> done) {
    api::ussd_result res;
    const auto& modems = impl_->cfg.modems;
    res.unknown_modem = std::none_of(modems.begin(), modems.end(), [&](const auto& m) { return m.id == modem_id; });
    res.error = "modem not connected";
    net::post(impl_->ioc, [done = std::move(done), res] { done(res); });
}

nlohmann::json modem_pool::modem_list() const {
    nlohmann::json list = nlohmann::json::object();
    for (const auto& m : impl_->cfg.modems) {
        list[m.id] = {{"id", m.id}, {"name", m.name}, {"port", m.port}, {"imei", ""}, {"imsi", ""}, {"iccid", ""},
                      {"copsOperator", ""}, {"smsCenter", ""}, {"active", m.active}, {"connected", false},
                      {"defaultModem", m.default_modem}, {"internetAccess", false}, {"internetConnected", false}};
    }
    return list;
}

}  // namespace otppi::pool
