// USSD's part of at_commands.hpp: the request builders and the decoding of
// a +CUSD payload by its data coding scheme. Kept with the USSD capability;
// the +CUSD line parser stays in at_commands.cpp, which the AT fuzz target
// links on its own.
#include "otppi/modem/at_commands.hpp"

namespace otppi::modem {

cbs_alphabet ussd_alphabet(int dcs) noexcept {
    if (dcs < 0 || dcs > 255) return cbs_alphabet::gsm7;
    const int group = dcs >> 4;
    const int alpha_bits = (dcs >> 2) & 0x3;
    switch (group) {
        case 0x1:
            // 0001 0001: UCS2 preceded by a language indication.
            return dcs == 0x11 ? cbs_alphabet::ucs2 : cbs_alphabet::gsm7;
        case 0x4:
        case 0x5:
        case 0x6:
        case 0x7:  // general data coding
        case 0x9:  // message with UDH
            if (alpha_bits == 1) return cbs_alphabet::eight_bit;
            if (alpha_bits == 2) return cbs_alphabet::ucs2;
            return cbs_alphabet::gsm7;
        case 0xE:
            return cbs_alphabet::eight_bit;  // WAP defined
        case 0xF:
            return (dcs & 0x04) ? cbs_alphabet::eight_bit : cbs_alphabet::gsm7;
        default:
            // Language groups and reserved groups: 23.038 says to assume the
            // GSM 7-bit default alphabet.
            return cbs_alphabet::gsm7;
    }
}

ussd_text decode_ussd_text(const ussd_response& r, bool packed_gsm7_hex) {
    if (!r.text) return {};
    const std::string& t = *r.text;
    switch (ussd_alphabet(r.dcs.value_or(15))) {
        case cbs_alphabet::ucs2:
            if (auto u = detail::ucs2_hex_to_utf8(t)) return {std::move(*u), ussd_text::form_t::ucs2};
            break;
        case cbs_alphabet::gsm7:
            if (packed_gsm7_hex && t.size() % 2 == 0 && detail::is_hex(t)) return {t, ussd_text::form_t::packed_gsm7_hex};
            break;
        case cbs_alphabet::eight_bit:
            if (t.size() % 2 == 0 && detail::is_hex(t)) return {t, ussd_text::form_t::eight_bit_hex};
            break;
    }
    return {t, ussd_text::form_t::plain};
}

std::optional<at_command> make_ussd(std::string_view code, int dcs) {
    if (code.empty() || code.size() > 182 || dcs < 0 || dcs > 255) return std::nullopt;
    for (char ch : code) {
        bool ok = (ch >= '0' && ch <= '9') || ch == '*' || ch == '#' || ch == '+' || (ch >= 'A' && ch <= 'F') || (ch >= 'a' && ch <= 'f');
        if (!ok) return std::nullopt;
    }
    at_command c;
    c.text = "AT+CUSD=1,\"" + std::string(code) + "\"," + std::to_string(dcs);
    // The OK comes at once; the answer is a +CUSD URC much later.
    c.timeout = std::chrono::seconds(10);
    return c;
}

at_command make_ussd_cancel() { return make_command("AT+CUSD=2"); }

}  // namespace otppi::modem
