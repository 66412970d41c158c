#include "otppi/otp/message.hpp"

#include <array>
#include <utility>
#include <vector>

namespace otppi::otp {

namespace {

std::string describe(char c) {
    if (c >= 0x21 && c <= 0x7e) return std::string("'%") + c + "'";
    return "'%' followed by a non-printable byte";
}

}  // namespace

std::optional<template_error> check_template(std::string_view tmpl) {
    std::size_t placeholders = 0;
    std::size_t first_placeholder = 0;
    for (std::size_t i = 0; i < tmpl.size(); ++i) {
        if (tmpl[i] != '%') continue;
        if (i + 1 == tmpl.size()) {
            return template_error{i, "a lone '%' ends the template; write '%%' for a percent sign"};
        }
        const char next = tmpl[i + 1];
        if (next == '%') {
            ++i;  // literal percent sign
            continue;
        }
        if (next == 's') {
            if (++placeholders == 1) {
                first_placeholder = i;
            } else {
                return template_error{i, "a second '%s' at offset " + std::to_string(i) + " (the first is at offset " +
                                             std::to_string(first_placeholder) + "); the template must hold exactly one '%s'"};
            }
            ++i;
            continue;
        }
        if (next == ' ') {
            return template_error{i, "a lone '%' at offset " + std::to_string(i) + "; write '%%' for a percent sign"};
        }
        return template_error{i, describe(next) + " at offset " + std::to_string(i) +
                                     " is not allowed: only one '%s' (the code) and '%%' (a percent sign) are"};
    }
    if (placeholders == 0) return template_error{tmpl.size(), "the template has no '%s' for the code"};
    return std::nullopt;
}

std::optional<secure_string> fill_template(std::string_view tmpl, std::string_view code) {
    if (check_template(tmpl)) return std::nullopt;
    secure_string out;
    out.reserve(tmpl.size() + code.size());
    std::size_t start = 0;  // beginning of the pending literal run
    for (std::size_t i = 0; i < tmpl.size(); ++i) {
        if (tmpl[i] != '%') continue;
        out.append(tmpl.substr(start, i - start));
        // check_template() guarantees a next character, either '%' or 's'.
        if (tmpl[i + 1] == '%') {
            out.push_back('%');
        } else {
            out.append(code);
        }
        ++i;
        start = i + 1;
    }
    out.append(tmpl.substr(start));
    return out;
}

namespace detail {

bool language_tag_equal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    auto fold = [](char c) {
        if (c == '_') return '-';
        if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
        return c;
    };
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (fold(a[i]) != fold(b[i])) return false;
    }
    return true;
}

std::string_view shorten_language_tag(std::string_view tag) noexcept {
    const auto cut = tag.find_last_of("-_");
    return cut == std::string_view::npos ? std::string_view{} : tag.substr(0, cut);
}

}  // namespace detail

namespace {

struct voice_phrases {
    std::string_view language;
    std::string_view intro;
    std::string_view repeat;
    std::string_view outro;
};

constexpr std::array<voice_phrases, 2> phrases = {{
    {"en", "Your verification code is: ", " I repeat: ", " Goodbye."},
    {"id", "Kode verifikasi Anda adalah: ", " Saya ulangi: ", " Terima kasih."},
}};

}  // namespace

secure_string spoken_digits(std::string_view code, std::string_view language) {
    secure_string out;
    if (code.empty()) return out;
    for (char c : code) {
        if (c < '0' || c > '9') return out;
    }
    std::vector<std::pair<std::string_view, const voice_phrases*>> table;
    for (const auto& p : phrases) table.emplace_back(p.language, &p);
    const voice_phrases* chosen = *select_template(table, language, "en");

    auto read_out = [&] {
        for (std::size_t i = 0; i < code.size(); ++i) {
            if (i > 0) out.append(", ");
            out.push_back(code[i]);
        }
        out.push_back('.');
    };
    out.append(chosen->intro);
    read_out();
    out.append(chosen->repeat);
    read_out();
    out.append(chosen->outro);
    return out;
}

}  // namespace otppi::otp
