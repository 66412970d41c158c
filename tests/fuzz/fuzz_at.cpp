// Modem bytes into the AT engine and every response parser: never a crash,
// never unbounded memory, whatever the modem (or a broken cable) sends.
#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/at_engine.hpp"
#include "otppi/modem/text_mode.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

using namespace otppi::modem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    at_engine engine;
    (void)engine.submit(make_command("AT+CSQ", std::chrono::seconds(1)));
    if (auto send = make_send_pdu("0011000B912638950000F00000A705E8329BFD06")) (void)engine.submit(std::move(*send));
    (void)engine.submit(make_command("AT+CMGL=4", std::chrono::seconds(1)));
    // Split the input at a point chosen by its first byte, so chunking varies.
    const std::size_t cut = size ? data[0] % (size + 1) : 0;
    for (auto& action : engine.on_bytes(bytes.substr(0, cut))) (void)action;
    for (auto& action : engine.on_bytes(bytes.substr(cut))) {
        if (auto* c = std::get_if<actions::complete>(&action)) {
            (void)parse_csq(c->result.lines);
            (void)parse_cmgl(c->result.lines);
            (void)parse_cmgs(c->result.lines);
            (void)classify_send_failure(c->result);
            // Text mode: the same replies read as +CMGR/+CMGL in either character set.
            for (auto cs : {text_charset::gsm, text_charset::ucs2}) {
                if (auto r = parse_cmgr_text(c->result.lines)) {
                    (void)decode_text_deliver(*r, cs);
                    (void)decode_text_report(*r, cs);
                }
                for (const auto& r : parse_cmgl_text(c->result.lines)) (void)decode_text_deliver(r, cs);
            }
        }
    }
    (void)engine.on_timeout();
    // Parsers straight on the input as one line, too.
    const std::vector<std::string> lines{std::string(bytes)};
    (void)parse_cusd(bytes);
    (void)parse_cops(lines);
    (void)parse_creg(bytes);
    (void)parse_cpin(lines);
    (void)parse_iccid(lines);
    if (auto r = parse_cds_text(bytes)) (void)decode_text_report(*r, text_charset::ucs2);
    (void)parse_text_timestamp(bytes);
    (void)parse_cmgf_modes(lines);
    (void)parse_cscs_list(lines);
    (void)plan_text_send(bytes, size > 0 && (data[0] & 1) != 0);
    return 0;
}
