// Internals of the SMS PDU codec shared by its two files: pdu.cpp (the modem's
// side: SUBMIT encoding, decoding) and pdu_network.cpp (the network's side that
// a simulator plays: DELIVER and STATUS-REPORT encoding). Not a public header.
#pragma once

#include "otppi/modem/pdu.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace otppi::modem::detail {

// One part's TP-UDL and TP-UD, ready to append.
struct part_payload {
    bool udhi = false;
    std::uint8_t udl = 0;
    std::vector<std::uint8_t> ud;
};

bool is_digits(std::string_view s) noexcept;
std::string_view strip_plus(std::string_view s) noexcept;
std::optional<std::vector<std::uint8_t>> encode_tp_address(std::string_view number, std::uint8_t type);
std::optional<std::vector<std::uint8_t>> encode_smsc(std::string_view smsc);
bool timestamp_fields_valid(const sms_timestamp& ts) noexcept;
void append_timestamp(std::vector<std::uint8_t>& out, const sms_timestamp& ts);
std::optional<std::pair<encoding, std::vector<part_payload>>> build_parts(std::string_view utf8, std::uint16_t ref, bool ref16,
                                                                          std::string& err);
encoded_pdu finish(const std::vector<std::uint8_t>& pdu, std::size_t smsc_octets);

}  // namespace otppi::modem::detail
