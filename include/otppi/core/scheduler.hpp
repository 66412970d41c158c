// One-shot timers as plain functions, for code that must not depend on Asio
// (the API service, the dispatcher): schedule(after, fn) runs fn on the
// io_context's thread after `after`, and returns a function that cancels it.
#pragma once

#include <chrono>
#include <functional>

namespace boost::asio {
class io_context;
}

namespace otppi::core {

using schedule_fn = std::function<std::function<void()>(std::chrono::milliseconds, std::function<void()>)>;

schedule_fn make_scheduler(boost::asio::io_context& ioc);

}  // namespace otppi::core
