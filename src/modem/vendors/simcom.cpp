#include "otppi/modem/vendors/simcom.hpp"
#include "otppi/modem/vendors/extensions.hpp"

#include <array>
#include <cstdint>
#include <string>

#include "otppi/modem/at_commands.hpp"

namespace otppi::modem {

namespace {
// AT+CSCLK=0: a module left in sleep mode 1 ignores the UART until DTR
// toggles, which looks exactly like a dead port.
constexpr std::array simcom_init{init_line{"AT+CSCLK=0", std::chrono::seconds(2)}};
}  // namespace

const vendor_profile& simcom_vendor() {
    static const vendor_profile p{
        .name = "simcom",
        .iccid_command = "AT+CCID",  // answers bare digits on SIM800
        .iccid_prefix = "+CCID:",
        .imei_change = &mediatek_imei(),
        .voice = &simcom_voice(),
        .extra_init = simcom_init,
        .send_timeout = std::chrono::seconds(60),
    };
    return p;
}

const vendor_profile& simcom_lte_vendor() {
    static const vendor_profile p{
        .name = "simcom_lte",
        .iccid_command = "AT+CICCID",
        .iccid_prefix = "+ICCID:",
        .imei_change = nullptr,
        .voice = &simcom_voice(),
        .extra_init = simcom_init,
        .send_timeout = std::chrono::seconds(120),
    };
    return p;
}

bool is_valid_imei(std::string_view imei) noexcept {
    if (imei.size() != 15) return false;
    int sum = 0;
    for (std::size_t i = 0; i < imei.size(); ++i) {
        if (imei[i] < '0' || imei[i] > '9') return false;
        int d = imei[i] - '0';
        if (i % 2 == 1) {
            d *= 2;
            if (d > 9) d -= 9;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

std::optional<at_command> make_imei_change(std::string_view imei) {
    if (!is_valid_imei(imei)) return std::nullopt;
    at_command c = make_command("AT+EGMR=1,7,\"" + std::string(imei) + "\"", std::chrono::seconds(10));
    c.info_prefix.clear();
    return c;
}

namespace {
// UTF-8 -> UTF-16BE hex. nullopt on malformed UTF-8.
std::optional<std::string> utf8_to_ucs2_hex(std::string_view s) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    auto put16 = [&out](std::uint32_t u) {
        for (int shift = 12; shift >= 0; shift -= 4) out.push_back(digits[(u >> shift) & 0xF]);
    };
    for (std::size_t i = 0; i < s.size();) {
        auto b = static_cast<unsigned char>(s[i]);
        std::uint32_t cp = 0;
        std::size_t len = 0;
        if (b < 0x80) {
            cp = b;
            len = 1;
        } else if ((b & 0xE0) == 0xC0) {
            cp = b & 0x1F;
            len = 2;
        } else if ((b & 0xF0) == 0xE0) {
            cp = b & 0x0F;
            len = 3;
        } else if ((b & 0xF8) == 0xF0) {
            cp = b & 0x07;
            len = 4;
        } else
            return std::nullopt;
        if (i + len > s.size()) return std::nullopt;
        for (std::size_t k = 1; k < len; ++k) {
            auto c = static_cast<unsigned char>(s[i + k]);
            if ((c & 0xC0) != 0x80) return std::nullopt;
            cp = (cp << 6) | (c & 0x3F);
        }
        i += len;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            put16(0xD800 + (cp >> 10));
            put16(0xDC00 + (cp & 0x3FF));
        } else {
            put16(cp);
        }
    }
    return out;
}
}  // namespace

std::optional<at_command> make_tts(std::string_view utf8_text) {
    if (utf8_text.empty() || utf8_text.size() > 500) return std::nullopt;
    bool ascii = true;
    for (char ch : utf8_text) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == '"' || c == 0x7F) return std::nullopt;
        if (c >= 0x80) ascii = false;
    }
    std::string text;
    if (ascii) {
        text = "AT+CTTS=2,\"" + std::string(utf8_text) + "\"";
    } else {
        auto hex = utf8_to_ucs2_hex(utf8_text);
        if (!hex) return std::nullopt;
        text = "AT+CTTS=1,\"" + *hex + "\"";
    }
    at_command c = make_command(std::move(text), std::chrono::seconds(10));
    c.info_prefix.clear();  // +CTTS: 0 (done speaking) arrives later as a URC
    return c;
}

at_command make_tts_stop() {
    at_command c = make_command("AT+CTTS=0");
    c.info_prefix.clear();
    return c;
}

}  // namespace otppi::modem
