// JSON from outside (request bodies, config, state files) read with a bound on
// nesting depth.
//
// Why: a 1 MiB body holds 500,000 nested brackets. nlohmann's parser itself is
// iterative, but dump(), copies, comparisons and our own writers recurse once
// per level, so a value that deep ends the process on the first of them. Every
// reader of outside bytes goes through parse_json_limited() (or, for SAX
// readers, counts depth itself and uses too_deep_message()), and refuses
// anything deeper than max_json_depth with a clear error, whatever the size
// limit in front of it.
//
// Contract:
//  - Accepts what nlohmann::json::parse() accepts (strict, no comments), as
//    long as no container opens deeper than `max_depth` (the root container is
//    level 1: `[[1]]` has depth 2). Scalars do not count as a level.
//  - Never throws for any input (allocation failure aside); a syntax error
//    comes back with nlohmann's own message (it names line and column), a
//    number too large for a double included.
//  - The depth error says "JSON nested deeper than N levels (at byte K)", K
//    being the 0-based offset of the bracket that opened level N+1.
//  - A value this function returned is safe to copy, compare, dump and
//    destroy: nothing recursive runs deeper than `max_depth`. (nlohmann's
//    destructor is iterative since 3.10, which CMake requires.)
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

static_assert(NLOHMANN_JSON_VERSION_MAJOR > 3 || (NLOHMANN_JSON_VERSION_MAJOR == 3 && NLOHMANN_JSON_VERSION_MINOR >= 10),
              "nlohmann::json >= 3.10 is needed: older versions destroy values recursively");

namespace otppi::core {

// Deep enough for every document the daemon reads (its config is 4 levels),
// shallow enough that recursion over it is harmless.
inline constexpr std::size_t max_json_depth = 32;

struct json_error {
    enum class kind : std::uint8_t { syntax, too_deep };
    kind what = kind::syntax;
    std::size_t offset = 0;  // byte where the problem was found
    std::string message;     // for a person; a syntax error's quotes the bytes where the parser stopped

    // The message without any bytes of the input, for logs and replies about
    // files and bodies that may hold numbers or secrets: the depth message, or
    // "invalid JSON at byte K".
    std::string summary() const;
};

struct json_result {
    nlohmann::json value;  // discarded when error is set
    std::optional<json_error> error;

    bool ok() const { return !error.has_value(); }
};

json_result parse_json_limited(std::string_view text, std::size_t max_depth = max_json_depth);

// For readers with their own SAX handler that stopped on depth: the offset of
// the bracket that opens level max_depth + 1, or nullopt if there is none.
// Only brackets outside strings count; the text before that bracket is
// assumed to be JSON (the parser got that far).
std::optional<std::size_t> too_deep_offset(std::string_view text, std::size_t max_depth = max_json_depth);

// "JSON nested deeper than 32 levels (at byte 32)".
std::string too_deep_message(std::size_t max_depth, std::size_t offset);

}  // namespace otppi::core
