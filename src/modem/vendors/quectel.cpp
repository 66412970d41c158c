#include "otppi/modem/vendors/quectel.hpp"

namespace otppi::modem {

const vendor_profile& quectel_vendor() {
    static const vendor_profile p{
        .name = "quectel",
        .iccid_command = "AT+QCCID",
        .iccid_prefix = "+QCCID:",
        .send_timeout = std::chrono::seconds(120),
    };
    return p;
}

bool quectel_is_sms_ready(const unsolicited& u) noexcept {
    if (!detail::iequals(u.name, "+QIND")) return false;
    auto colon = u.line.find(':');
    if (colon == std::string::npos) return false;
    auto rest = detail::trim(std::string_view(u.line).substr(colon + 1));
    if (!rest.empty() && rest.front() == '"') rest.remove_prefix(1);
    if (!rest.empty() && rest.back() == '"') rest.remove_suffix(1);
    return detail::iequals(rest, "SMS DONE");
}

}  // namespace otppi::modem
