#include "reply_writer.hpp"

#include <algorithm>

namespace otppi::api::reply {

// Printable ASCII other than '"' and '\\': dump() writes such a string as it is.
bool plain_text(std::string_view s) {
    for (const char c : s)
        if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') return false;
    return true;
}

// A JSON string literal; bytes that are not valid UTF-8 become U+FFFD, as
// dump_reply() does, so a reply can always be written.
void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    if (plain_text(s)) {  // the usual message: nothing to escape or check
        out += s;
        out += '"';
        return;
    }
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            if (c == '"' || c == '\\') {
                out += '\\';
                out += static_cast<char>(c);
            } else if (c < 0x20) {
                static const char hex[] = "0123456789abcdef";
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
            } else {
                out += static_cast<char>(c);
            }
            ++i;
            continue;
        }
        // Length of a well-formed UTF-8 sequence starting here, or 0.
        std::size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (len && i + len <= s.size()) {
            for (std::size_t k = 1; k < len; ++k)
                if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) len = 0;
            const auto c1 = len ? static_cast<unsigned char>(s[i + 1]) : 0;
            // No overlong forms, no surrogates, nothing past U+10FFFF.
            if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) len = 0;
        } else {
            len = 0;
        }
        if (len) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    out += '"';
}

// Replies quote request bytes (a path, a command name cut at 64 bytes) that
// need not be valid UTF-8; the default dump() would throw out of the handler.
std::string dump_reply(const json& body) { return body.dump(-1, ' ', false, json::error_handler_t::replace); }

// The same bytes as dump_reply(value), without dump()'s own buffers for the
// usual reply data: an object of plain strings, integers and booleans. Keys
// come in the object's (sorted) order, as dump() writes them; anything else
// is left to dump_reply().
void append_reply_value(std::string& out, const json& value, bool nested) {
    switch (value.type()) {
    case json::value_t::string: {
        const auto& s = value.get_ref<const json::string_t&>();
        if (!plain_text(s)) break;
        out += '"';
        out += s;
        out += '"';
        return;
    }
    case json::value_t::number_integer: out += std::to_string(value.get<std::int64_t>()); return;
    case json::value_t::number_unsigned: out += std::to_string(value.get<std::uint64_t>()); return;
    case json::value_t::boolean: out += value.get<bool>() ? "true" : "false"; return;
    case json::value_t::object: {
        const auto& members = value.get_ref<const json::object_t&>();
        if (nested || !std::all_of(members.begin(), members.end(), [](const auto& m) { return plain_text(m.first); })) break;
        out += '{';
        bool first = true;
        for (const auto& [key, v] : members) {
            if (!first) out += ',';
            first = false;
            out += '"';
            out += key;
            out += "\":";
            append_reply_value(out, v, true);
        }
        out += '}';
        return;
    }
    default: break;
    }
    out += dump_reply(value);
}

}  // namespace otppi::api::reply
