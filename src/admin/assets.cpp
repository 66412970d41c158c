#include "otppi/admin/assets.hpp"

#include "otppi/core/files.hpp"

#include <openssl/evp.h>

#include <array>
#include <filesystem>
#include <system_error>

namespace otppi::admin {

namespace fs = std::filesystem;

std::string asset_store::content_type_of(const std::string& name) {
    const auto dot = name.rfind('.');
    const std::string ext = dot == std::string::npos ? "" : name.substr(dot + 1);
    if (ext == "html") return "text/html; charset=utf-8";
    if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
    if (ext == "css") return "text/css; charset=utf-8";
    if (ext == "svg") return "image/svg+xml";
    if (ext == "png") return "image/png";
    if (ext == "ico") return "image/x-icon";
    if (ext == "json" || ext == "webmanifest") return "application/json";
    if (ext == "txt" || ext == "md") return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

std::string asset_store::load(const std::string& root, std::size_t max_total) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return "admin.web_root: " + root + " is not a directory";
    std::map<std::string, asset> files;
    std::size_t total = 0;
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
    if (ec) return "admin.web_root: cannot read " + root + ": " + ec.message();
    for (; it != end; it.increment(ec)) {
        if (ec) return "admin.web_root: cannot read " + root + ": " + ec.message();
        const auto name = it->path().filename().string();
        if (!name.empty() && name.front() == '.') {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        // Only the UI: index.html and what is under assets/. Anything else an
        // installation puts in the folder (README, backups, an editor's
        // leftovers) is not published.
        const auto rel = fs::relative(it->path(), root, ec).generic_string();
        if (it->is_directory(ec)) {
            if (rel != "assets" && !rel.starts_with("assets/")) it.disable_recursion_pending();
            continue;
        }
        if (rel != "index.html" && !rel.starts_with("assets/")) continue;
        if (!it->is_regular_file(ec)) continue;
        std::string error;
        auto data = core::read_file(it->path().string(), &error, max_total);
        if (!data) return "admin.web_root: " + error;
        total += data->size();
        if (total > max_total) return "admin.web_root: more than " + std::to_string(max_total) + " bytes of files";
        asset a;
        a.content_type = content_type_of(name);
        std::array<unsigned char, 32> digest{};
        unsigned int len = 0;
        EVP_Digest(data->data(), data->size(), digest.data(), &len, EVP_sha256(), nullptr);
        static constexpr char hex[] = "0123456789abcdef";
        a.etag = "\"";
        for (unsigned i = 0; i < 8; ++i) (a.etag += hex[digest[i] >> 4]) += hex[digest[i] & 15];
        a.etag += "\"";
        a.body = std::move(*data);
        files["/" + rel] = std::move(a);
    }
    if (!files.count("/index.html")) return "admin.web_root: " + root + " has no index.html";
    files_ = std::move(files);
    return {};
}

const asset* asset_store::find(const std::string& url_path) const {
    auto it = files_.find(url_path == "/" ? std::string("/index.html") : url_path);
    return it == files_.end() ? nullptr : &it->second;
}

}  // namespace otppi::admin
