// Small file helpers with the durability the daemon needs: state and config
// are replaced atomically (temp file in the same directory, fsync, rename,
// fsync of the directory) so a power cut never leaves half a file.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>

namespace otppi::core {

// Whole-file read; nullopt and `error` set when the file cannot be read.
std::optional<std::string> read_file(const std::string& path, std::string* error = nullptr,
                                     std::size_t max_bytes = 16 * 1024 * 1024);

// Atomic replace of `path` with `data`, created with `mode` (e.g. 0600 for secrets).
// Returns an empty string on success, else a message naming the failed step.
std::string atomic_write_file(const std::string& path, const std::string& data, mode_t mode);

// mkdir -p with `mode` for the directories it creates. Empty string on success.
std::string ensure_directory(const std::string& path, mode_t mode);

}  // namespace otppi::core
