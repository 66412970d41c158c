// Deep nesting in a short fuzz input. Inputs are at most 4096 bytes, which
// holds 2,000 nesting levels; issue #17's crash needed tens of thousands. An
// input of the form
//     \x01 prefix \x01 open \x01 middle \x01 close \x01 suffix
// stands for prefix + open x N + middle + close x N + suffix, with N chosen to
// fill about 1 MiB (api.max_body_bytes' maximum), so the fuzzer can mutate
// the shape (which brackets, where, what around them) at full depth. Any
// other input is used as it is.
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

namespace otppi::fuzz {

inline std::string expand_nesting(std::string_view in) {
    constexpr char mark = '\x01';
    constexpr std::size_t target = 1024 * 1024;
    if (in.empty() || in.front() != mark) return std::string(in);
    std::array<std::string_view, 5> parts;
    std::string_view rest = in.substr(1);
    for (std::size_t i = 0; i < 4; ++i) {
        const auto at = rest.find(mark);
        if (at == std::string_view::npos) return std::string(in);
        parts[i] = rest.substr(0, at);
        rest = rest.substr(at + 1);
    }
    parts[4] = rest;
    const std::size_t unit = parts[1].size() + parts[3].size();
    if (unit == 0) return std::string(in);
    const std::size_t n = std::max<std::size_t>(1, target / unit);
    std::string out;
    out.reserve(parts[0].size() + n * unit + parts[2].size() + parts[4].size());
    out += parts[0];
    for (std::size_t i = 0; i < n; ++i) out += parts[1];
    out += parts[2];
    for (std::size_t i = 0; i < n; ++i) out += parts[3];
    out += parts[4];
    return out;
}

}  // namespace otppi::fuzz
