// Vendor quirks as data, and the chooser that maps +CGMI/+CGMM to a profile.
//
// Contract: profiles are immutable statics with program lifetime; the
// references returned here may be kept forever. vendor_for() never fails: an
// unknown modem gets the generic 3GPP profile. Pure, no I/O; thread-safe.
#pragma once

#include <chrono>
#include <span>
#include <string_view>

namespace otppi::modem {

// One vendor-specific line of the bring-up. Failures are tolerated: a quirk
// that a firmware does not know must not keep the modem out of the pool.
struct init_line {
    std::string_view command;
    std::chrono::milliseconds timeout{std::chrono::seconds(5)};
};

struct voice_extension;  // vendors/extensions.hpp
struct imei_extension;

struct vendor_profile {
    std::string_view name;
    // ICCID: the command and the prefix of its reply (bare digits are taken
    // too). Bring-up falls back to reading EF_ICCID with AT+CRSM.
    std::string_view iccid_command = "AT+CCID";
    std::string_view iccid_prefix = "+CCID:";
    // Vendor-only operations, registered here rather than flagged: null when
    // the modem does not have them (vendors/extensions.hpp).
    const imei_extension* imei_change = nullptr;  // AT+EGMR=1,7,"<imei>" (MediaTek based)
    const voice_extension* voice = nullptr;       // AT+CTTS (SIMCom)
    std::span<const init_line> extra_init{};
    // Deadline for the final answer after the PDU was written (27.005 leaves
    // it open; vendors document 60..120 s).
    std::chrono::milliseconds send_timeout{std::chrono::seconds(120)};
    // New-message indications: +CMTI for stored SMS, +CDS for status reports.
    std::string_view cnmi = "AT+CNMI=2,1,0,1,0";
    // Tried when `cnmi` is refused (some firmwares refuse <ds>=1).
    std::string_view cnmi_fallback = "AT+CNMI=2,1,0,0,0";
    // USSD strings go out and come back as packed GSM 7-bit hex.
    bool ussd_packed_hex = false;
};

const vendor_profile& generic_vendor();
// MediaTek-based modules sold under no-name brands: EGMR works.
const vendor_profile& mediatek_vendor();

// Picks a profile from the +CGMI (manufacturer) and +CGMM (model) answers;
// matching is case-insensitive and tolerant of "SIMCOM_Ltd"-style decoration.
const vendor_profile& vendor_for(std::string_view manufacturer, std::string_view model);

}  // namespace otppi::modem
