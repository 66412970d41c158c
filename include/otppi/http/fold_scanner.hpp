// Finds obsolete line folding (obs-fold, RFC 9112 section 5.2: a header line
// that starts with SP or HTAB and continues the previous field) in a request
// header as its bytes arrive. Beast's parser accepts obs-fold and joins the
// lines with a space, which leaves nothing to see afterwards; RFC 9112 lets a
// server reject it with 400, and a gateway should: proxies in front of it may
// read the folded line as a header of its own (request smuggling).
//
// Feed the bytes from the start of the request, in order and split anywhere;
// each byte is looked at once. It stops at the empty line that ends the
// header, so a body is never scanned.
// Thread-safety: a plain value.
#pragma once

#include <string_view>

namespace otppi::http {

class fold_scanner {
public:
    // True once a folded line was seen (and from then on).
    bool feed(std::string_view bytes) {
        for (const char c : bytes) {
            if (state_ == state::folded || state_ == state::end) break;
            switch (state_) {
            case state::line_start:
                state_ = c == '\r' ? state::empty_cr : (c == ' ' || c == '\t') ? state::folded : state::in_line;
                break;
            case state::in_line:
                if (c == '\r') state_ = state::cr;
                break;
            case state::cr:
                state_ = c == '\n' ? state::line_start : c == '\r' ? state::cr : state::in_line;
                break;
            case state::empty_cr:
                state_ = c == '\n' ? state::end : state::in_line;  // a bare CR is the parser's to refuse
                break;
            default: break;
            }
        }
        return state_ == state::folded;
    }
    bool found() const { return state_ == state::folded; }
    // The header's empty line went by: nothing more to look at.
    bool done() const { return state_ == state::end || state_ == state::folded; }
    void reset() { state_ = state::line_start; }

private:
    enum class state { line_start, in_line, cr, empty_cr, end, folded };
    state state_ = state::line_start;
};

}  // namespace otppi::http
