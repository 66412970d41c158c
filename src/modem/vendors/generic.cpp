#include "otppi/modem/vendors/generic.hpp"
#include "otppi/modem/vendors/extensions.hpp"

#include "otppi/modem/at_parser.hpp"
#include "otppi/modem/vendors/huawei.hpp"
#include "otppi/modem/vendors/quectel.hpp"
#include "otppi/modem/vendors/simcom.hpp"

namespace otppi::modem {

namespace {
bool icontains(std::string_view s, std::string_view needle) noexcept {
    if (needle.size() > s.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= s.size(); ++i)
        if (detail::iequals(s.substr(i, needle.size()), needle)) return true;
    return false;
}
}  // namespace

const vendor_profile& generic_vendor() {
    static const vendor_profile p{.name = "generic"};
    return p;
}

const vendor_profile& mediatek_vendor() {
    static const vendor_profile p{.name = "mediatek", .imei_change = &mediatek_imei()};
    return p;
}

const vendor_profile& vendor_for(std::string_view manufacturer, std::string_view model) {
    manufacturer = detail::trim(manufacturer);
    model = detail::trim(model);
    if (icontains(manufacturer, "SIMCOM") || detail::istarts_with(model, "SIM") || icontains(model, "SIMCOM")) {
        // The LTE families run Qualcomm/ASR firmware without EGMR.
        if (icontains(model, "SIM7") || icontains(model, "A76") || icontains(model, "A78")) return simcom_lte_vendor();
        return simcom_vendor();
    }
    if (icontains(manufacturer, "HUAWEI")) {
        return huawei_is_legacy_model(model) ? huawei_legacy_vendor() : huawei_vendor();
    }
    if (icontains(manufacturer, "QUECTEL") || detail::istarts_with(model, "EC2") || detail::istarts_with(model, "EG2") ||
        detail::istarts_with(model, "BG9") || detail::istarts_with(model, "UC20") || detail::istarts_with(model, "M95")) {
        return quectel_vendor();
    }
    if (icontains(manufacturer, "MEDIATEK") || icontains(manufacturer, "MTK")) return mediatek_vendor();
    return generic_vendor();
}

}  // namespace otppi::modem
