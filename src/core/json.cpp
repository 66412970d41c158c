#include "otppi/core/json.hpp"

namespace otppi::core {

using nlohmann::json;

namespace {

// nlohmann's own DOM builder with a depth counter in front: the first
// container past the limit stops the parse (returning false from a SAX event
// ends sax_parse() at once), so no more of the input is read or stored.
class limited_dom {
public:
    limited_dom(json& out, std::size_t max_depth) : dom_(out, /*allow_exceptions=*/false), max_depth_(max_depth) {}

    bool null() { return dom_.null(); }
    bool boolean(bool v) { return dom_.boolean(v); }
    bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
    bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
    bool number_float(json::number_float_t v, const json::string_t& s) { return dom_.number_float(v, s); }
    bool string(json::string_t& v) { return dom_.string(v); }
    bool binary(json::binary_t& v) { return dom_.binary(v); }
    bool key(json::string_t& k) { return dom_.key(k); }

    bool start_object(std::size_t n) { return open() && dom_.start_object(n); }
    bool start_array(std::size_t n) { return open() && dom_.start_array(n); }
    bool end_object() {
        --depth_;
        return dom_.end_object();
    }
    bool end_array() {
        --depth_;
        return dom_.end_array();
    }

    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
        // position counts characters read, the offending one included.
        error_ = json_error{json_error::kind::syntax, position > 0 ? position - 1 : 0, e.what()};
        return false;
    }

    bool too_deep() const { return too_deep_; }
    std::optional<json_error>& error() { return error_; }

private:
    bool open() {
        if (depth_ == max_depth_) {
            too_deep_ = true;
            return false;
        }
        ++depth_;
        return true;
    }

    nlohmann::detail::json_sax_dom_parser<json> dom_;
    std::size_t max_depth_;
    std::size_t depth_ = 0;
    bool too_deep_ = false;
    std::optional<json_error> error_;
};

}  // namespace

std::string json_error::summary() const {
    if (what == kind::too_deep) return message;
    return "invalid JSON at byte " + std::to_string(offset);
}

std::string too_deep_message(std::size_t max_depth, std::size_t offset) {
    return "JSON nested deeper than " + std::to_string(max_depth) + " levels (at byte " + std::to_string(offset) + ")";
}

std::optional<std::size_t> too_deep_offset(std::string_view text, std::size_t max_depth) {
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\')
                ++i;  // the escaped character cannot end the string
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (depth == max_depth) return i;
            ++depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return std::nullopt;
}

json_result parse_json_limited(std::string_view text, std::size_t max_depth) {
    json_result r;
    limited_dom handler(r.value, max_depth);
    const bool ok = json::sax_parse(text, &handler, json::input_format_t::json, /*strict=*/true, /*ignore_comments=*/false);
    if (ok) return r;
    if (handler.too_deep()) {
        const std::size_t at = too_deep_offset(text, max_depth).value_or(0);
        r.error = json_error{json_error::kind::too_deep, at, too_deep_message(max_depth, at)};
    } else if (handler.error()) {
        r.error = std::move(handler.error());
    } else {
        r.error = json_error{json_error::kind::syntax, 0, "invalid JSON"};
    }
    // Whatever was built up to the error is dropped (its depth is bounded anyway).
    r.value = json(json::value_t::discarded);
    return r;
}

}  // namespace otppi::core
