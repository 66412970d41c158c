#include "otppi/api/request_body.hpp"

#include "otppi/core/json.hpp"

#include <vector>

namespace otppi::api {

using nlohmann::json;

namespace {

// string_views (not char pointers) so that comparing a key costs no strlen.
constexpr std::array<std::string_view, static_cast<std::size_t>(field::count_)> names = {
    "receiver", "msisdn",   "reference", "otp",        "param1", "param2",   "param3",    "param4",
    "message",  "language", "channel",   "expiration", "id",     "modem_id", "ussd_code",
};

std::optional<field> field_of(std::string_view key) {
    for (std::size_t i = 0; i < names.size(); ++i)
        if (key == names[i]) return static_cast<field>(i);
    return std::nullopt;
}

// SAX handler (nlohmann's interface). It follows the open containers with a
// depth counter: depth 1 is the root object, depth 2 the containers directly
// in it, of which `data` is the only one whose keys matter. The value of
// data.date_time is built as a JSON value, the way nlohmann's own DOM parser
// builds one, with a stack of the containers open inside it.
class body_reader {
public:
    explicit body_reader(request_body& out) : out_(out) {}

    bool null() {
        return scalar(
            field_value::kind::null, [] { return json(); }, [](field_value&) {});
    }
    bool boolean(bool v) {
        return scalar(
            field_value::kind::boolean, [v] { return json(v); }, [](field_value&) {});
    }
    bool number_integer(json::number_integer_t v) {
        return scalar(
            field_value::kind::integer, [v] { return json(v); },
            [v](field_value& f) {
                f.integer = v;
                f.text = std::to_string(v);
            });
    }
    bool number_unsigned(json::number_unsigned_t v) {
        return scalar(
            field_value::kind::unsigned_integer, [v] { return json(v); },
            [v](field_value& f) {
                f.unsigned_integer = v;
                f.text = std::to_string(v);
            });
    }
    bool number_float(json::number_float_t v, const json::string_t&) {
        return scalar(
            field_value::kind::floating, [v] { return json(v); }, [](field_value&) {});
    }
    bool string(json::string_t& v) { return on_string(v); }
    bool on_string(std::string_view v) {
        return scalar(
            field_value::kind::string, [v] { return json(v); }, [v](field_value& f) { f.text = v; });
    }
    bool binary(json::binary_t&) { return true; }  // not produced by the JSON format

    bool start_object(std::size_t) { return open(field_value::kind::object, json::value_t::object); }
    bool start_array(std::size_t) { return open(field_value::kind::array, json::value_t::array); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }

    bool key(json::string_t& k) { return on_key(k); }
    bool on_key(std::string_view k) {
        if (!capture_.empty()) {
            // As nlohmann's DOM parser: a repeated key's later value replaces the earlier one.
            capture_slot_ = &(*capture_.back())[json::object_t::key_type(k)];
            return true;
        }
        target_ = target::none;
        if (depth_ == 1) {
            if (k == "command") {
                target_ = target::command;
                out_.command = {};
            } else if (k == "data") {
                target_ = target::data;
                out_.data = {};
                for (auto& f : out_.fields) f = {};
                out_.date_time.reset();
            }
        } else if (depth_ == 2 && in_data_) {
            if (k == "date_time") {
                target_ = target::date_time;
            } else if (auto f = field_of(k)) {
                target_ = target::field;
                field_ = &out_[*f];
                *field_ = {};
            }
        }
        return true;
    }

    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

    bool root_is_object() const { return root_is_object_; }
    bool too_deep() const { return too_deep_; }

private:
    enum class target : std::uint8_t { none, command, data, field, date_time };

    // The slot that the value just read belongs to (the key before it says),
    // or none; every value uses up its key.
    field_value* take_slot() {
        const auto t = target_;
        target_ = target::none;
        switch (t) {
            case target::command:
                return &out_.command;
            case target::data:
                return &out_.data;
            case target::field:
                return field_;
            default:
                return nullptr;
        }
    }

    // Adds a value inside the captured date_time; returns where it landed.
    json& capture_add(json v) {
        json& top = *capture_.back();
        if (top.is_array()) {
            top.push_back(std::move(v));
            return top.back();
        }
        *capture_slot_ = std::move(v);
        return *capture_slot_;
    }

    template <class MakeJson, class Fill>
    bool scalar(field_value::kind k, MakeJson make_json, Fill fill) {
        if (!capture_.empty()) {
            capture_add(make_json());
            return true;
        }
        if (target_ == target::date_time) {
            target_ = target::none;
            out_.date_time = make_json();
            return true;
        }
        if (auto* slot = take_slot()) {
            slot->type = k;
            fill(*slot);
        }
        return true;
    }

    bool open(field_value::kind k, json::value_t t) {
        // Levels outside date_time plus those inside it: the whole body's
        // depth. Past the limit the parse stops here, before the captured
        // value (which replies copy and write out recursively) grows deeper.
        if (depth_ + capture_.size() >= core::max_json_depth) {
            too_deep_ = true;
            return false;
        }
        if (!capture_.empty()) {
            capture_.push_back(&capture_add(json(t)));
            return true;
        }
        if (target_ == target::date_time) {
            target_ = target::none;
            out_.date_time = json(t);
            capture_.push_back(&*out_.date_time);
            return true;
        }
        if (depth_ == 0) root_is_object_ = k == field_value::kind::object;
        const bool is_data = target_ == target::data;
        if (auto* slot = take_slot()) slot->type = k;
        ++depth_;
        if (depth_ == 2 && is_data && k == field_value::kind::object) in_data_ = true;
        return true;
    }

    bool close() {
        if (!capture_.empty()) {
            capture_.pop_back();
            return true;
        }
        if (depth_ == 2) in_data_ = false;
        --depth_;
        return true;
    }

    request_body& out_;
    std::size_t depth_ = 0;
    bool root_is_object_ = false;
    bool too_deep_ = false;
    bool in_data_ = false;  // the open container at depth 2 is the root's "data"
    target target_ = target::none;
    field_value* field_ = nullptr;
    std::vector<json*> capture_;  // containers open inside data.date_time
    json* capture_slot_ = nullptr;
};

// The common case without nlohmann's lexer, which copies every byte it reads
// (twice) and was most of the cost of reading a body. This reader knows only
// a subset of JSON: strings of printable ASCII without escapes, integers of at
// most 18 digits, true, false, null, and nesting up to 32 levels. Whatever it
// meets outside that subset, an error included, it gives up (false) and the
// caller starts over with nlohmann's parser, which then decides. So it never
// accepts what nlohmann would reject, and for what it accepts it calls the
// handler exactly as nlohmann's parser would.
class fast_reader {
public:
    fast_reader(std::string_view in, body_reader& h) : p_(in.data()), end_(in.data() + in.size()), h_(h) {}

    bool run() {
        char closers[max_depth];  // '}' or ']' for each open container
        std::size_t depth = 0;
        for (;;) {
            // A value.
            skip_ws();
            if (p_ == end_) return false;
            const char c = *p_;
            if (c == '{' || c == '[') {
                ++p_;
                if (depth == max_depth) return false;
                const char close = c == '{' ? '}' : ']';
                if (close == '}')
                    h_.start_object(npos);
                else
                    h_.start_array(npos);
                skip_ws();
                if (p_ != end_ && *p_ == close) {
                    ++p_;
                    end(close);
                } else {
                    closers[depth++] = close;
                    if (close == '}' && !key()) return false;
                    continue;
                }
            } else if (c == '"') {
                std::string_view s;
                if (!string(s)) return false;
                h_.on_string(s);
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                if (!number()) return false;
            } else if (!literal()) {
                return false;
            }
            // After a value: a separator, the end of containers, or of the input.
            for (;;) {
                skip_ws();
                if (depth == 0) return p_ == end_;
                if (p_ == end_) return false;
                if (*p_ == ',') {
                    ++p_;
                    if (closers[depth - 1] == '}' && !key()) return false;
                    break;
                }
                if (*p_ != closers[depth - 1]) return false;
                ++p_;
                end(closers[--depth]);
            }
        }
    }

private:
    static constexpr std::size_t max_depth = core::max_json_depth;
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);  // "size unknown", as nlohmann passes it

    void end(char close) {
        if (close == '}')
            h_.end_object();
        else
            h_.end_array();
    }

    void skip_ws() {
        while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
    }

    // A key and its colon.
    bool key() {
        skip_ws();
        std::string_view k;
        if (p_ == end_ || *p_ != '"' || !string(k)) return false;
        skip_ws();
        if (p_ == end_ || *p_ != ':') return false;
        ++p_;
        h_.on_key(k);
        return true;
    }

    bool string(std::string_view& out) {
        const char* start = ++p_;
        while (p_ != end_) {
            const auto b = static_cast<unsigned char>(*p_);
            if (b == '"') {
                out = std::string_view(start, static_cast<std::size_t>(p_ - start));
                ++p_;
                return true;
            }
            if (b < 0x20 || b >= 0x7F || b == '\\') return false;  // control, non-ASCII, escape: not ours
            ++p_;
        }
        return false;
    }

    bool number() {
        const bool negative = *p_ == '-';
        if (negative) ++p_;
        const char* digits = p_;
        std::uint64_t v = 0;
        while (p_ != end_ && *p_ >= '0' && *p_ <= '9') v = v * 10 + static_cast<std::uint64_t>(*p_++ - '0');
        const auto n = p_ - digits;
        if (n == 0 || n > 18 || (n > 1 && *digits == '0')) return false;
        if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;  // a float
        // As nlohmann: a minus sign makes a signed integer, even "-0".
        if (negative)
            h_.number_integer(-static_cast<std::int64_t>(v));
        else
            h_.number_unsigned(v);
        return true;
    }

    bool literal() {
        const auto rest = static_cast<std::size_t>(end_ - p_);
        const std::string_view in(p_, rest);
        if (in.starts_with("true")) {
            p_ += 4;
            h_.boolean(true);
        } else if (in.starts_with("false")) {
            p_ += 5;
            h_.boolean(false);
        } else if (in.starts_with("null")) {
            p_ += 4;
            h_.null();
        } else {
            return false;
        }
        return true;
    }

    const char* p_;
    const char* end_;
    body_reader& h_;
};

}  // namespace

const char* field_name(field f) { return names[static_cast<std::size_t>(f)].data(); }  // literals: NUL-terminated

const char* field_value::type_name() const {
    switch (type) {
        case kind::absent:
        case kind::null:
            return "null";
        case kind::string:
            return "string";
        case kind::integer:
        case kind::unsigned_integer:
        case kind::floating:
            return "number";
        case kind::boolean:
            return "boolean";
        case kind::array:
            return "array";
        case kind::object:
            return "object";
    }
    return "null";
}

json field_value::to_json() const {
    switch (type) {
        case kind::string:
            return text;
        case kind::integer:
            return integer;
        case kind::unsigned_integer:
            return unsigned_integer;
        default:
            return nullptr;
    }
}

namespace {
bool read_fast_into(std::string_view body, request_body& out) {
    body_reader reader(out);
    if (!fast_reader(body, reader).run()) return false;
    out.result = reader.root_is_object() ? request_body::verdict::ok : request_body::verdict::not_object;
    return true;
}
}  // namespace

namespace detail {

std::optional<request_body> read_fast(std::string_view body) {
    std::optional<request_body> out(std::in_place);
    if (!read_fast_into(body, *out)) return std::nullopt;
    return out;
}

request_body read_full(std::string_view body) {
    request_body out;
    body_reader reader(out);
    const bool ok = json::sax_parse(body, &reader, json::input_format_t::json, /*strict=*/true, /*ignore_comments=*/false);
    if (!ok && reader.too_deep()) {
        // Only what the reader saw counts: the fields read so far are dropped.
        out = request_body{};
        out.result = request_body::verdict::too_deep;
        out.error_offset = core::too_deep_offset(body).value_or(0);
        return out;
    }
    out.result = !ok                       ? request_body::verdict::not_json
                 : reader.root_is_object() ? request_body::verdict::ok
                                           : request_body::verdict::not_object;
    return out;
}

}  // namespace detail

request_body parse_request_body(std::string_view body) {
    request_body out;
    if (read_fast_into(body, out)) return out;
    return detail::read_full(body);
}

}  // namespace otppi::api
