// The daily SMS log OTP-Pi kept, done safely: one CSV file per UTC day in
// <state_dir>/sms-log/, one line per send attempt outcome, with the receiver
// masked and never the message text. Files older than the retention are
// deleted. Lines are formatted on the io thread and appended by the file
// executor, so the event loop never waits on the disk.
// Thread-safety: record()/prune() on the io thread; the writer runs on the
// file executor (ordered).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace otppi::pool {

struct sms_log_entry {
    std::int64_t at_unix = 0;
    std::string modem_id;
    std::string receiver;  // full number: masked here before it reaches the file
    std::string kind;      // otp, sms, voice, manual
    int parts = 0;
    std::string status;    // sent, failed, expired, ...
    int message_reference = -1;
    std::string error;
};

class sms_log {
public:
    using executor_fn = std::function<void(std::function<void()>)>;

    sms_log(std::string dir, int retention_days, bool enabled, executor_fn file_io);

    void record(const sms_log_entry& e);
    // Deletes day files older than the retention; returns how many.
    int prune(std::int64_t now_unix);
    void configure(int retention_days, bool enabled) {
        retention_days_ = retention_days;
        enabled_ = enabled;
    }
    const std::string& dir() const { return dir_; }

    static std::string day_of(std::int64_t unix_seconds);  // "2026-11-21"
    static std::string csv_line(const sms_log_entry& e);

private:
    std::string dir_;
    int retention_days_;
    bool enabled_;
    executor_fn file_io_;
};

}  // namespace otppi::pool
