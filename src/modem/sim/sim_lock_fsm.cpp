#include "otppi/modem/sim/sim_lock_fsm.hpp"

#include <algorithm>

#include "otppi/core/overloaded.hpp"
#include "otppi/modem/at_commands.hpp"

namespace otppi::modem::sim {

using driver::op_step;
namespace ev = driver::op_events;

op_step sim_lock_fsm::finish(bool ok, std::string error) {
    finished_ = true;
    answer_.ok = ok;
    answer_.error = std::move(error);
    driver::wipe(pin_);
    return op_step::finished();
}

op_step sim_lock_fsm::resume(driver::op_env& env, const driver::op_event& e) {
    if (finished_) return std::holds_alternative<ev::urc>(e) ? op_step::ignored() : op_step::none();
    return std::visit(core::overloaded{
                          [&](const ev::start&) {
                              auto cmd = make_clck_set(enable_, pin_);
                              if (!cmd) return finish(false, "the PIN must be 4 to 8 digits");
                              cmd->timeout = std::max(cmd->timeout, env.opts.command_timeout);
                              return op_step::submit(std::move(*cmd));
                          },
                          [&](const ev::result& r) {
                              const at_result& res = *r.value;
                              if (res.ok()) return finish(true, {});
                              // Each wrong PIN costs one of the SIM's (usually three) attempts.
                              if (res.status == at_status::cme_error && res.code == 16)
                                  return finish(false, "incorrect PIN (the SIM counted this attempt)");
                              if (res.status == at_status::cme_error && res.code == 12) return finish(false, "the SIM wants its PUK");
                              return finish(false, "AT+CLCK refused: " + describe(res));
                          },
                          [&](const ev::refused&) { return finish(false, "modem command queue refused the request"); },
                          [&](const ev::timer&) { return op_step::none(); },
                          [&](const ev::urc&) { return op_step::ignored(); },
                          [&](const ev::abort& a) { return finish(false, a.why); },
                      },
                      e);
}

}  // namespace otppi::modem::sim
