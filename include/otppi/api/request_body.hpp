// The body of an API request, read in one pass over the bytes (nlohmann's SAX
// interface) into just what the commands look at: the root's type, `command`,
// `data`'s type and its known fields. Parsing the whole body into a JSON tree
// and copying the fields out of it was the largest cost of a cached
// verify-otp; most of the tree was never looked at.
//
// Contract:
//  - Accepts exactly what nlohmann::json::parse() accepts (strict: one value,
//    then only whitespace; no comments), with the same meaning: for a key that
//    appears twice in one object the last value counts, escapes in keys are
//    decoded before they are compared. The one exception: a container nested
//    deeper than core::max_json_depth (32, the root object being level 1) is
//    refused as too_deep, with the offset of its bracket, whatever the body
//    size; nothing then is built from the rest of the body.
//  - Only keys of the root object and of the root's `data` object are looked
//    at; what is nested deeper only costs a depth counter, except the value of
//    data.date_time, which is kept whole (replies echo it, whatever it is).
//  - A field keeps its JSON type (as nlohmann::json::type_name() names it) and,
//    for strings and integers, its text (integers in decimal, as dump() writes
//    them) and value. Floats, booleans, arrays and objects keep only the type.
//  - No exceptions for any input (allocation failure aside).
// Thread-safety: a value type; parse_request_body() has no shared state.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace otppi::api {

// The fields of `data` that some command reads.
enum class field : std::uint8_t {
    receiver,
    msisdn,
    reference,
    otp,
    param1,
    param2,
    param3,
    param4,
    message,
    language,
    channel,
    expiration,
    id,
    modem_id,
    ussd_code,
    count_
};

// The key of `f` in the JSON ("receiver", ...).
const char* field_name(field f);

struct field_value {
    enum class kind : std::uint8_t { absent, null, string, integer, unsigned_integer, floating, boolean, array, object };
    kind type = kind::absent;
    std::string text;                    // string: the value; integer kinds: decimal text
    std::int64_t integer = 0;            // kind::integer
    std::uint64_t unsigned_integer = 0;  // kind::unsigned_integer

    bool present() const { return type != kind::absent; }
    bool missing() const { return type == kind::absent || type == kind::null; }
    bool is_integer() const { return type == kind::integer || type == kind::unsigned_integer; }
    // nlohmann::json::type_name() of the value ("string", "number", ...).
    const char* type_name() const;
    // The value as a JSON value (null for absent; floats, booleans, arrays
    // and objects are not kept and come back as null).
    nlohmann::json to_json() const;

    bool operator==(const field_value&) const = default;
};

struct request_body {
    enum class verdict : std::uint8_t { ok, not_json, not_object, too_deep };
    verdict result = verdict::not_json;
    std::size_t error_offset = 0;  // too_deep: the byte of the bracket that went one level too deep
    field_value command;  // the root's "command"
    field_value data;     // the root's "data": only its type is kept here
    std::array<field_value, static_cast<std::size_t>(field::count_)> fields;
    std::optional<nlohmann::json> date_time;  // data.date_time, when present (null included)

    field_value& operator[](field f) { return fields[static_cast<std::size_t>(f)]; }
    const field_value& operator[](field f) const { return fields[static_cast<std::size_t>(f)]; }

    bool operator==(const request_body&) const = default;
};

// Reads `body`; result says whether it was JSON and an object.
request_body parse_request_body(std::string_view body);

namespace detail {
// The two readers behind parse_request_body(), for the tests and the fuzzer
// to compare. read_fast() knows a subset of JSON (printable ASCII strings
// without escapes, integers of up to 18 digits, literals, nesting up to 32)
// and declines (nullopt) anything else, errors and deeper nesting included;
// read_full() runs nlohmann's parser with the depth limit. Where read_fast() answers, read_full() answers the same.
std::optional<request_body> read_fast(std::string_view body);
request_body read_full(std::string_view body);
}  // namespace detail

}  // namespace otppi::api
