// The REST API's reply writer: JSON text written straight into the response
// body, byte for byte what nlohmann's dump() would write, without building a
// tree first (that was the largest cost of a cached verify-otp after parsing).
//
// Contract: every function writes valid JSON for any input; bytes that are
// not valid UTF-8 become U+FFFD (replies quote request bytes). Values come
// from parse_request_body() or core::parse_json_limited(), so their depth is
// bounded (core::max_json_depth) and dump()'s recursion over them is too.
// Thread-safety: pure functions; a data_writer belongs to one reply.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace otppi::api::reply {

using nlohmann::json;

// Printable ASCII other than '"' and '\\': dump() writes such a string as it is.
bool plain_text(std::string_view s);

// A JSON string literal; bytes that are not valid UTF-8 become U+FFFD, as
// dump_reply() does, so a reply can always be written.
void append_json_string(std::string& out, std::string_view s);

// dump() that cannot throw on invalid UTF-8.
std::string dump_reply(const json& body);

// The same bytes as dump_reply(value), faster for the usual reply data: an
// object of plain strings, integers and booleans.
void append_reply_value(std::string& out, const json& value, bool nested = false);

// Reply data written straight into the body as ,"data":{...}, for the hot
// commands: the same bytes as dump() of the equivalent object, as long as the
// members are added in dump()'s order (keys sorted bytewise).
class data_writer {
public:
    explicit data_writer(std::string& out) : out_(out) {}
    ~data_writer() {
        if (open_) out_ += '}';
    }
    data_writer(const data_writer&) = delete;
    data_writer& operator=(const data_writer&) = delete;

    void text(std::string_view key, std::string_view value) {
        member(key);
        if (plain_text(value)) {
            out_ += '"';
            out_ += value;
            out_ += '"';
        } else {
            out_ += dump_reply(json(value));
        }
    }
    void number(std::string_view key, std::uint64_t n) {
        member(key);
        out_ += std::to_string(n);
    }
    void value(std::string_view key, const json& v) {
        member(key);
        append_reply_value(out_, v, /*nested=*/true);
    }

private:
    void member(std::string_view key) {
        out_ += open_ ? "," : ",\"data\":{";
        open_ = true;
        out_ += '"';
        out_ += key;  // our own keys: plain text
        out_ += "\":";
    }
    std::string& out_;
    bool open_ = false;
};

}  // namespace otppi::api::reply
