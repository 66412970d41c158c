// Internals shared by the simulator's source files: limits of the device,
// and small parsers and formatters of AT arguments. Not part of the
// simulator's interface.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otppi/modem/at_commands.hpp"
#include "otppi/modem/pdu.hpp"

namespace otppi::sim::detail {

// SIM800 accepts command lines up to 556 characters; a little more costs nothing.
inline constexpr std::size_t max_command_line = 1024;
// The hex of the longest TPDU (176 octets) plus a full SMSC part, with room to spare.
inline constexpr std::size_t max_pdu_hex = 2 * (180 + 12);
inline constexpr std::size_t max_text_body = 1024;
inline constexpr std::size_t max_held_input = 4096;
inline constexpr std::size_t max_held_urcs = 64;
inline constexpr std::size_t max_partial_messages = 1024;

std::string upper_outside_quotes(std::string_view s);
std::string digits_of(std::string_view s);
bool all_digits(std::string_view s);
// Field i as an unquoted integer.
std::optional<int> int_field(const std::vector<modem::detail::field>& f, std::size_t i);
// Now, in UTC, as an SMS time stamp.
modem::sms_timestamp wall_timestamp();
// Text-mode time stamp: "yy/MM/dd,hh:mm:ss+zz" (27.005 <scts>); empty without one.
std::string text_timestamp(const std::optional<modem::sms_timestamp>& ts);
// A stored message's <stat> as text mode spells it, and back ("ALL" is 4).
std::string_view stat_text(int stat);
std::optional<int> stat_from_text(std::string_view s);
// The verbose text of a +CME / +CMS ERROR code (what AT+CMEE=2 prints), if known.
std::optional<std::string_view> cme_text(int code);
std::optional<std::string_view> cms_text(int code);
// Top-level fields of an argument list, keeping the raw text of each (quotes included).
std::vector<std::string_view> raw_fields(std::string_view s);

}  // namespace otppi::sim::detail
