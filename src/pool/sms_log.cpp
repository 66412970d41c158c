#include "otppi/pool/sms_log.hpp"

#include "otppi/core/files.hpp"
#include "otppi/core/log.hpp"

#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace otppi::pool {

namespace {
// CSV field: quoted, quotes doubled; control characters dropped.
std::string field(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (static_cast<unsigned char>(c) < 0x20) continue;
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string iso_time(std::int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}
}  // namespace

sms_log::sms_log(std::string dir, int retention_days, bool enabled, executor_fn file_io)
    : dir_(std::move(dir)), retention_days_(retention_days), enabled_(enabled), file_io_(std::move(file_io)) {}

std::string sms_log::day_of(std::int64_t unix_seconds) { return iso_time(unix_seconds).substr(0, 10); }

std::string sms_log::csv_line(const sms_log_entry& e) {
    return iso_time(e.at_unix) + "," + field(e.modem_id) + "," + field(core::mask_msisdn(e.receiver)) + "," + field(e.kind) + "," +
           std::to_string(e.parts) + "," + field(e.status) + "," + std::to_string(e.message_reference) + "," + field(e.error) + "\n";
}

void sms_log::record(const sms_log_entry& e) {
    if (!enabled_) return;
    const std::string path = dir_ + "/" + day_of(e.at_unix) + ".csv";
    std::string line = csv_line(e);
    file_io_([dir = dir_, path, line = std::move(line)] {
        if (auto err = core::ensure_directory(dir, 0750); !err.empty()) {
            spdlog::warn("sms log: {}", err);
            return;
        }
        const bool fresh = !std::filesystem::exists(path);
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0) {
            spdlog::warn("sms log: cannot open {}", path);
            return;
        }
        std::string data = fresh ? "time,modem,receiver,kind,parts,status,message_reference,error\n" + line : line;
        // One write() per line with O_APPEND: lines never interleave.
        if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) spdlog::warn("sms log: short write to {}", path);
        ::close(fd);
    });
}

int sms_log::prune(std::int64_t now_unix) {
    const std::string oldest_kept = day_of(now_unix - static_cast<std::int64_t>(retention_days_) * 86400);
    int removed = 0;
    std::error_code ec;
    for (const auto& f : std::filesystem::directory_iterator(dir_, ec)) {
        const auto name = f.path().filename().string();
        // Only our own "YYYY-MM-DD.csv" files; the names sort like dates.
        if (name.size() != 14 || name.substr(10) != ".csv" || name.substr(0, 10) >= oldest_kept) continue;
        if (std::filesystem::remove(f.path(), ec)) ++removed;
    }
    return removed;
}

}  // namespace otppi::pool
