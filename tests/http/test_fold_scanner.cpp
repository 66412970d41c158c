// The obs-fold scanner (issue 17, item 8) on its own: bytes in any split.
#include "otppi/http/fold_scanner.hpp"

#include <gtest/gtest.h>
#include <string>

using otppi::http::fold_scanner;

namespace {

// Feeds `bytes` in pieces of `step` and says whether a fold was found.
bool folded(const std::string& bytes, std::size_t step) {
    fold_scanner s;
    for (std::size_t i = 0; i < bytes.size(); i += step) s.feed(std::string_view(bytes).substr(i, step));
    return s.found();
}

}  // namespace

TEST(FoldScanner, FoldedHeaderLineIsFoundInAnySplit) {
    const std::string fold_sp = "POST / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\nContent-Length: 0\r\n\r\n";
    const std::string fold_tab = "GET / HTTP/1.1\r\nHost: a\r\n\tevil: 1\r\n\r\n";
    const std::string first_line = "GET / HTTP/1.1\r\n Host: a\r\n\r\n";
    for (std::size_t step : {1u, 2u, 3u, 7u, 1000u}) {
        EXPECT_TRUE(folded(fold_sp, step)) << step;
        EXPECT_TRUE(folded(fold_tab, step)) << step;
        EXPECT_TRUE(folded(first_line, step)) << step;
    }
}

TEST(FoldScanner, BodyAfterTheHeaderIsNotScanned) {
    const std::string req = "POST / HTTP/1.1\r\nHost: a\r\nX-A: one two\r\nContent-Length: 9\r\n\r\nx\r\n y\r\n\tz";
    for (std::size_t step : {1u, 2u, 5u, 1000u}) EXPECT_FALSE(folded(req, step)) << step;
    fold_scanner s;
    s.feed(req);
    EXPECT_TRUE(s.done());
    s.reset();
    EXPECT_FALSE(s.done());
    EXPECT_TRUE(s.feed("GET / HTTP/1.1\r\n x\r\n"));
}
