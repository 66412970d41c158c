// SIM: turning the PIN lock on or off (sim/sim_lock_fsm.hpp).
#include <spdlog/spdlog.h>

#include "../driver/answer_operation.hpp"
#include "otppi/modem/sim/sim_lock_fsm.hpp"

namespace otppi::modem {

void modem::set_sim_lock(bool enable, const std::string& pin, std::function<void(bool ok, std::string error)> done) {
    if (enable && impl_->cfg_.sim_pin.empty())
        spdlog::warn("modem {}: enabling the SIM PIN lock with no sim_pin configured: the next bring-up will stop at SIM PIN", impl_->id());
    impl_->enqueue(std::make_unique<impl::answer_operation>("sim_lock", std::make_unique<sim::sim_lock_fsm>(enable, pin), std::move(done)));
}

}  // namespace otppi::modem
