// The configuration schema as data: each entry has a type, bounds, a default
// and optionally a validator. The walker in schema.cpp checks a document
// against it, names errors by JSON path and fills in defaults.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace otppi::config::detail {

struct node;
using node_ptr = std::shared_ptr<const node>;
// Returns an error message (without the path), or empty when the value is fine.
using check_fn = std::function<std::string(const nlohmann::json&)>;

struct field {
    std::string name;
    node_ptr type;
};

struct node {
    enum class kind { object, map, array, integer, boolean, string };
    kind k = kind::string;
    std::int64_t min = 0, max = 0;     // integer range, string length, array size
    std::vector<std::string> one_of;   // allowed strings / integers as text
    std::vector<field> fields;         // object members
    node_ptr item;                     // array item / map value
    nlohmann::json default_value;      // null: required
    check_fn check;
};

const node& root_schema();
// Validates `doc` in place (filling defaults). Errors are appended as "path: message".
void validate(nlohmann::json& doc, const node& schema, const std::string& path, std::vector<std::string>& errors);

}  // namespace otppi::config::detail
