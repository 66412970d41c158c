#include "otppi/core/files.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace otppi::core {

namespace {
std::string errno_message(const std::string& what, const std::string& path) {
    return what + " " + path + ": " + std::strerror(errno);
}

bool write_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}
}  // namespace

std::optional<std::string> read_file(const std::string& path, std::string* error, std::size_t max_bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (error) *error = errno_message("cannot open", path);
        return std::nullopt;
    }
    std::string data;
    char buf[8192];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        data.append(buf, static_cast<std::size_t>(in.gcount()));
        if (data.size() > max_bytes) {
            if (error) *error = path + ": larger than " + std::to_string(max_bytes) + " bytes";
            return std::nullopt;
        }
    }
    return data;
}

std::string atomic_write_file(const std::string& path, const std::string& data, mode_t mode) {
    namespace fs = std::filesystem;
    const fs::path target(path);
    const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::string tmpl = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) return errno_message("cannot create temporary file in", dir.string());
    // mkstemp makes 0600; widen or keep as the caller asks before any data lands.
    if (::fchmod(fd, mode) != 0 || !write_all(fd, data) || ::fsync(fd) != 0) {
        std::string msg = errno_message("cannot write", tmpl);
        ::close(fd);
        ::unlink(tmpl.c_str());
        return msg;
    }
    if (::close(fd) != 0) {
        std::string msg = errno_message("cannot close", tmpl);
        ::unlink(tmpl.c_str());
        return msg;
    }
    if (::rename(tmpl.c_str(), path.c_str()) != 0) {
        std::string msg = errno_message("cannot rename onto", path);
        ::unlink(tmpl.c_str());
        return msg;
    }
    // The rename is only durable once the directory entry is on disk too.
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return {};
}

std::string ensure_directory(const std::string& path, mode_t mode) {
    std::error_code ec;
    std::filesystem::path p(path);
    std::filesystem::path built;
    for (const auto& part : p) {
        built /= part;
        if (std::filesystem::exists(built, ec)) continue;
        if (::mkdir(built.c_str(), mode) != 0 && errno != EEXIST) return errno_message("cannot create directory", built.string());
    }
    if (!std::filesystem::is_directory(p, ec)) return path + ": not a directory";
    return {};
}

}  // namespace otppi::core
