#include "otppi/modem/vendors/huawei.hpp"

#include <array>

namespace otppi::modem {

namespace {
// ^CURC=0 stops the periodic ^RSSI/^BOOT/^MODE/^DSFLOWRPT reports that make
// up most of a Huawei stick's traffic and crowd command replies.
constexpr std::array huawei_init{init_line{"AT^CURC=0", std::chrono::seconds(3)}};
}  // namespace

const vendor_profile& huawei_vendor() {
    static const vendor_profile p{
        .name = "huawei",
        .iccid_command = "AT^ICCID?",
        .iccid_prefix = "^ICCID:",
        .extra_init = huawei_init,
        .send_timeout = std::chrono::seconds(120),
    };
    return p;
}

const vendor_profile& huawei_legacy_vendor() {
    static const vendor_profile p{
        .name = "huawei_legacy",
        .iccid_command = "AT^ICCID?",
        .iccid_prefix = "^ICCID:",
        .extra_init = huawei_init,
        .send_timeout = std::chrono::seconds(120),
        .ussd_packed_hex = true,
    };
    return p;
}

bool huawei_is_legacy_model(std::string_view model) noexcept {
    model = detail::trim(model);
    if (model.size() < 3 || (model[0] != 'E' && model[0] != 'e')) return false;
    // E1xx, E15xx, E17xx and the E220/E230 family.
    if (model[1] == '1' && model[2] >= '0' && model[2] <= '9') return true;
    return detail::istarts_with(model, "E220") || detail::istarts_with(model, "E230");
}

bool huawei_is_chatter(const unsolicited& u) noexcept {
    static constexpr std::array names{"^RSSI",  "^HCSQ",       "^BOOT",     "^MODE",   "^DSFLOWRPT",
                                      "^SRVST", "^ACTIVEBAND", "^SYSSTART", "^CERSSI", "^EARST"};
    for (auto n : names)
        if (detail::iequals(u.name, n)) return true;
    return false;
}

}  // namespace otppi::modem
