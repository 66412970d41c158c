// USSD text: decoding +CUSD payloads by their data coding scheme (3GPP TS 23.038
// cell-broadcast coding) and encoding requests. Declared in pdu.hpp beside the
// SMS codec it shares the GSM 7-bit and UCS-2 helpers with; kept in its own file
// so the SMS PDU codec stays one concern.
#include "otppi/modem/gsm7.hpp"
#include "otppi/modem/pdu.hpp"

#include <array>
#include <cstdlib>
#include <span>

namespace otppi::modem {

namespace detail {

struct cbs_dcs_info {
    data_coding coding = data_coding::gsm7;
    bool compressed = false;
    bool language_prefix = false;  // 0x10 / 0x11
};

// CBS data coding groups (TS 23.038 §5), which USSD uses. Reserved values read as the default
// alphabet, as for SMS.
cbs_dcs_info classify_cbs_dcs(std::uint8_t dcs) noexcept {
    cbs_dcs_info d;
    const auto alphabet = [&] {
        switch ((dcs >> 2) & 0x03) {
            case 1:
                d.coding = data_coding::data8;
                break;
            case 2:
                d.coding = data_coding::ucs2;
                break;
            default:
                break;
        }
    };
    switch (dcs >> 4) {
        case 0x1:
            if (dcs == 0x10) d.language_prefix = true;
            if (dcs == 0x11) d.language_prefix = true, d.coding = data_coding::ucs2;
            break;
        case 0x4:
        case 0x5:
        case 0x6:
        case 0x7:  // general data coding
            d.compressed = (dcs & 0x20) != 0;
            alphabet();
            break;
        case 0x9:  // message with UDH
            alphabet();
            break;
        case 0xE:  // defined by the WAP Forum: treat as data
            d.coding = data_coding::data8;
            break;
        case 0xF:
            if (dcs & 0x04) d.coding = data_coding::data8;
            break;
        default:  // 0x0, 0x2, 0x3 languages in GSM 7-bit; 0x8, 0xA-0xD reserved
            break;
    }
    return d;
}

bool is_ascii_letter(std::uint32_t c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::string latin1_to_utf8(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (const std::uint8_t b : bytes) append_utf8(out, b);
    return out;
}

}  // namespace detail

std::optional<std::string> decode_ussd_text(std::string_view payload, int dcs, bool packed_hex) {
    if (dcs < 0 || dcs > 255) return std::nullopt;
    const auto info = detail::classify_cbs_dcs(static_cast<std::uint8_t>(dcs));
    if (info.compressed) return std::nullopt;
    const bool payload_is_utf8 = utf8_to_code_points(payload).has_value();

    if (info.coding == data_coding::gsm7) {
        std::string text;
        if (packed_hex) {
            const auto bytes = from_hex(payload);
            if (!bytes) return std::nullopt;
            text = gsm7_to_utf8(unpack_septets_cr_padded(*bytes));
        } else {
            if (!payload_is_utf8) return std::nullopt;
            text = std::string(payload);
        }
        // 0x10: "ll<CR>" names the language before the text.
        if (info.language_prefix && text.size() >= 3 && text[2] == '\r' && detail::is_ascii_letter(static_cast<unsigned char>(text[0])) &&
            detail::is_ascii_letter(static_cast<unsigned char>(text[1]))) {
            text.erase(0, 3);
        }
        return text;
    }

    const auto bytes = from_hex(payload);
    if (!bytes) {
        // Not hex: the modem already turned it into text.
        if (payload_is_utf8) return std::string(payload);
        return std::nullopt;
    }
    std::span<const std::uint8_t> data(*bytes);
    if (info.coding == data_coding::ucs2) {
        // 0x11: two packed GSM 7-bit letters (ISO 639) and two zero bits come first. Networks
        // also send plain UCS-2 under 0x11, so drop the two octets only if they look like that.
        if (info.language_prefix && data.size() >= 2) {
            const unsigned c0 = data[0] & 0x7Fu;
            const unsigned c1 = ((data[0] >> 7) | (data[1] << 1)) & 0x7Fu;
            if ((data[1] & 0xC0) == 0 && detail::is_ascii_letter(c0) && detail::is_ascii_letter(c1)) {
                data = data.subspan(2);
            }
        }
        return ucs2_bytes_to_utf8(data);
    }
    const std::string_view raw(reinterpret_cast<const char*>(data.data()), data.size());
    if (utf8_to_code_points(raw)) return std::string(raw);
    return detail::latin1_to_utf8(data);
}

std::optional<std::string> encode_ussd_ucs2(std::string_view utf8) {
    const auto units = utf8_to_utf16(utf8);
    if (!units) return std::nullopt;
    return to_hex(utf16_to_ucs2_bytes(*units));
}

std::optional<std::string> encode_ussd_gsm7_packed(std::string_view utf8) {
    const auto septets = utf8_to_gsm7(utf8);
    if (!septets) return std::nullopt;
    return to_hex(pack_septets_cr_padded(*septets));
}

std::optional<ussd_payload> encode_ussd(std::string_view utf8, bool packed_hex) {
    if (!utf8_to_code_points(utf8)) return std::nullopt;
    if (utf8_to_gsm7(utf8)) {
        if (!packed_hex) return ussd_payload{std::string(utf8), 0x0F};
        return ussd_payload{*encode_ussd_gsm7_packed(utf8), 0x0F};
    }
    return ussd_payload{*encode_ussd_ucs2(utf8), 0x48};
}

}  // namespace otppi::modem
