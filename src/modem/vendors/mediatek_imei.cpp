#include "otppi/modem/vendors/mediatek_imei.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "otppi/core/overloaded.hpp"
#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/vendors/extensions.hpp"
#include "otppi/modem/vendors/simcom.hpp"

namespace otppi::modem {

namespace vendors {

using driver::op_step;
namespace ev = driver::op_events;

op_step mediatek_imei_fsm::finish(bool ok, std::string error) {
    wait_ = wait::finished;
    answer_.ok = ok;
    answer_.error = std::move(error);
    return op_step::finished();
}

op_step mediatek_imei_fsm::resume(driver::op_env& env, const driver::op_event& e) {
    if (wait_ == wait::finished) return std::holds_alternative<ev::urc>(e) ? op_step::ignored() : op_step::none();
    return std::visit(core::overloaded{
                          [&](const ev::start&) {
                              auto cmd = make_imei_change(imei_);
                              if (!cmd) return finish(false, "invalid IMEI: 15 digits with a valid Luhn check digit");
                              cmd->timeout = std::max(cmd->timeout, env.opts.command_timeout);
                              wait_ = wait::write;
                              return op_step::submit(std::move(*cmd));
                          },
                          [&](const ev::result& r) {
                              if (wait_ == wait::read_back) {
                                  if (r.value->ok())
                                      if (auto v = parse_imei(r.value->lines); v && *v != env.identity.imei) answer_.imei = *v;
                                  return finish(true, {});
                              }
                              if (!r.value->ok()) return finish(false, "AT+EGMR refused: " + describe(*r.value));
                              spdlog::info("modem {}: IMEI written ({}); most modules use it after a restart", env.modem_id, imei_);
                              wait_ = wait::read_back;
                              return op_step::submit(make_command("AT+CGSN", env.opts.command_timeout));
                          },
                          [&](const ev::refused&) {
                              if (wait_ == wait::read_back) return finish(true, {});
                              return finish(false, "modem command queue refused the request");
                          },
                          [&](const ev::timer&) { return op_step::none(); },
                          [&](const ev::urc&) { return op_step::ignored(); },
                          [&](const ev::abort& a) { return finish(false, a.why); },
                      },
                      e);
}

}  // namespace vendors

const imei_extension& mediatek_imei() {
    static const imei_extension x{
        .how = "AT+EGMR",
        .make = [](std::string imei) -> std::unique_ptr<driver::answer_machine> {
            return std::make_unique<vendors::mediatek_imei_fsm>(std::move(imei));
        },
    };
    return x;
}

}  // namespace otppi::modem
