// SMS text templates for OTPs, and the voice readout of a code.
//
// Contract:
// - A template is client- or admin-supplied text with EXACTLY one "%s" where
//   the code goes. "%%" is a literal '%' (as in OTP-Pi, which used Java's
//   String.format, so existing templates keep working); any other '%' use
//   ("%d", "%n", "%1$s", "%S", a lone '%') is rejected with a message saying
//   where and why. So "%%s" is the literal text "%s", not a placeholder.
// - Templates are NEVER given to printf or any formatter: fill_template()
//   substitutes the code by hand.
// - The filled text and the spoken readout carry the code, so they come back
//   as secure_string.
// - Language tags are matched as RFC 4647 "lookup": case-insensitive, '_'
//   taken as '-', then shortened subtag by subtag ("en-US" -> "en"), then the
//   fallback language.
//
// Thread-safety: pure functions, thread-safe.
#pragma once

#include "otppi/otp/crypto.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace otppi::otp {

struct template_error {
    std::size_t offset = 0;  // byte offset of the problem in the template
    std::string message;
};

// nullopt if the template is acceptable.
std::optional<template_error> check_template(std::string_view tmpl);

// The template with its one "%s" replaced by `code` and each "%%" by '%'.
// nullopt if check_template() rejects the template.
std::optional<secure_string> fill_template(std::string_view tmpl, std::string_view code);

namespace detail {
// Case-insensitive, '_' == '-'.
bool language_tag_equal(std::string_view a, std::string_view b) noexcept;
// "en-US" -> "en"; "zh-Hant-TW" -> "zh-Hant"; "en" -> "".
std::string_view shorten_language_tag(std::string_view tag) noexcept;
}  // namespace detail

// The template for `language` from a map (any map or vector of pairs) of
// language tag -> template, or nullptr if neither the tag, any shortening of
// it, nor `fallback` is there. Maps are small: a linear scan per candidate.
template <class Map>
const typename Map::value_type::second_type* select_template(const Map& by_language, std::string_view language,
                                                             std::string_view fallback = "en") {
    auto lookup = [&](std::string_view tag) -> const typename Map::value_type::second_type* {
        for (const auto& [key, value] : by_language) {
            if (detail::language_tag_equal(key, tag)) return &value;
        }
        return nullptr;
    };
    for (std::string_view tag = language; !tag.empty(); tag = detail::shorten_language_tag(tag)) {
        if (auto* found = lookup(tag)) return found;
    }
    return fallback.empty() ? nullptr : lookup(fallback);
}

// Text for a text-to-speech call (seed 002): an intro, the digits one by one
// separated by commas (each comma is a pause), a full stop (a longer pause),
// and the whole readout once more, e.g. for "4821" in English:
//   "Your verification code is: 4, 8, 2, 1. I repeat: 4, 8, 2, 1. Goodbye."
// Languages: "en", "id"; others fall back to English. Empty if `code` is
// empty or holds anything but ASCII digits. The pause before the first
// readout, after the call is answered, is for the caller to add (a delay
// before starting TTS), since text cannot express it portably.
secure_string spoken_digits(std::string_view code, std::string_view language);

}  // namespace otppi::otp
