// The PDU decoder on anything: as the hex text a modem sends, and as raw
// octets hex-encoded by us (to reach deep into valid structure faster).
#include "otppi/modem/gsm7.hpp"
#include "otppi/modem/pdu.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace otppi::modem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)decode_pdu(text, true);
    (void)decode_pdu(text, false);
    const std::string hex = to_hex(std::span<const std::uint8_t>(data, size));
    (void)decode_pdu(hex, true);
    (void)decode_pdu(hex, false);
    (void)decode_ussd_text(text, 15, true);
    (void)decode_ussd_text(hex, 72);
    // Whatever decodes as text must encode again without trouble.
    if (auto plan = plan_sms(text)) {
        submit_options o;
        o.destination = "628126666666";
        (void)encode_submit(text, o);
    }
    return 0;
}
