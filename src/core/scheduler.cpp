#include "otppi/core/scheduler.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

namespace otppi::core {

schedule_fn make_scheduler(boost::asio::io_context& ioc) {
    return [&ioc](std::chrono::milliseconds after, std::function<void()> fn) -> std::function<void()> {
        auto timer = std::make_shared<boost::asio::steady_timer>(ioc, after);
        // The handler holds the timer, so it lives until it fires or is cancelled.
        timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
            if (!ec) fn();
        });
        return [timer] { timer->cancel(); };
    };
}

}  // namespace otppi::core
