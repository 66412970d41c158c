#include "otppi/core/secure_string.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace otppi::core {


secure_string::secure_string(std::string_view s) { append(s); }

secure_string::secure_string(secure_string&& other) noexcept
    : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0)), capacity_(std::exchange(other.capacity_, 0)) {}

secure_string& secure_string::operator=(secure_string&& other) noexcept {
    if (this != &other) {
        wipe_and_free();
        data_ = std::move(other.data_);
        size_ = std::exchange(other.size_, 0);
        capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
}

secure_string::~secure_string() { wipe_and_free(); }

secure_string secure_string::clone() const { return secure_string(view()); }

void secure_string::wipe_and_free() noexcept {
    if (data_) {
        OPENSSL_cleanse(data_.get(), capacity_ + 1);
        data_.reset();
    }
    size_ = 0;
    capacity_ = 0;
}

void secure_string::reserve(std::size_t n) {
    if (n <= capacity_) return;
    // Allocate new, copy, wipe old: a plain realloc could leave the old bytes
    // behind in freed memory.
    auto fresh = std::make_unique<char[]>(n + 1);
    if (size_ > 0) std::memcpy(fresh.get(), data_.get(), size_);
    fresh[size_] = '\0';
    const std::size_t keep = size_;
    wipe_and_free();
    data_ = std::move(fresh);
    size_ = keep;
    capacity_ = n;
}

void secure_string::append(std::string_view s) {
    if (s.empty()) return;
    if (size_ + s.size() > capacity_) reserve(std::max(size_ + s.size(), capacity_ * 2));
    std::memcpy(data_.get() + size_, s.data(), s.size());
    size_ += s.size();
    data_[size_] = '\0';
}

void secure_string::push_back(char c) { append(std::string_view(&c, 1)); }

void secure_string::clear() noexcept {
    if (data_) OPENSSL_cleanse(data_.get(), capacity_ + 1);
    size_ = 0;
}

}  // namespace otppi::core
