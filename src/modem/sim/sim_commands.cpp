// The SIM's part of at_commands.hpp: entering the PIN and the PIN lock.
// Every command carrying a PIN is marked sensitive, so the channel never
// logs its bytes.
#include "otppi/modem/at_commands.hpp"

namespace otppi::modem {

std::optional<at_command> make_enter_pin(std::string_view pin) {
    if (!is_valid_pin(pin)) return std::nullopt;
    at_command c = make_command("AT+CPIN=\"" + std::string(pin) + "\"", std::chrono::seconds(15));
    c.info_prefix.clear();  // "+CPIN: READY" after a PIN is a URC on most modems
    c.sensitive = true;
    return c;
}

at_command make_clck_query() { return make_command("AT+CLCK=\"SC\",2", std::chrono::seconds(15)); }

std::optional<at_command> make_clck_set(bool enable, std::string_view pin) {
    if (!is_valid_pin(pin)) return std::nullopt;
    at_command c =
        make_command("AT+CLCK=\"SC\"," + std::string(enable ? "1" : "0") + ",\"" + std::string(pin) + "\"", std::chrono::seconds(15));
    c.sensitive = true;
    return c;
}

}  // namespace otppi::modem
