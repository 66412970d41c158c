// The admin UI's static files (web/), read into memory once at start and on
// reload: the folder is small (tens of KiB), so serving never touches the
// disk and a request path can never reach outside the folder.
// Thread-safety: none; loaded and used on the io_context thread.
#pragma once

#include <cstddef>
#include <map>
#include <string>

namespace otppi::admin {

struct asset {
    std::string body;
    std::string content_type;
    std::string etag;
};

class asset_store {
public:
    // Reads the UI's files under `root`: index.html and everything under
    // assets/ (no hidden files, at most `max_total` bytes); nothing else in
    // the folder is ever served. Empty string on success, else why not; on failure
    // the previous content is kept.
    std::string load(const std::string& root, std::size_t max_total = 16 * 1024 * 1024);
    // "/" is index.html; other paths map to files relative to the root.
    const asset* find(const std::string& url_path) const;
    std::size_t size() const { return files_.size(); }

    static std::string content_type_of(const std::string& name);

private:
    std::map<std::string, asset> files_;  // "/assets/app.js" -> content
};

}  // namespace otppi::admin
