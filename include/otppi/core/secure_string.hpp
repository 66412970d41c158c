// A string for secrets (an OTP, the SMS text that carries it, a password read
// from a terminal) that wipes its memory. It lives in core because every layer
// that carries such text (otp, modem, pool, api, admin) needs it.
//
// Thread-safety: a value type with no sharing.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace otppi::core {

// A move-only character buffer that is OPENSSL_cleanse'd when it is
// destroyed, cleared, or grows. It exists for the clear OTP and the SMS text
// that carries it. std::string cannot do this: short strings live in its
// inline buffer, where no allocator ever sees (and could wipe) them.
class secure_string {
public:
    secure_string() noexcept = default;
    explicit secure_string(std::string_view s);
    secure_string(secure_string&& other) noexcept;
    secure_string& operator=(secure_string&& other) noexcept;
    secure_string(const secure_string&) = delete;
    secure_string& operator=(const secure_string&) = delete;
    ~secure_string();

    // Copies are explicit so that every copy of a secret is visible in review.
    secure_string clone() const;

    void append(std::string_view s);
    void push_back(char c);
    void reserve(std::size_t n);
    // Wipes the content; the capacity is kept.
    void clear() noexcept;

    std::string_view view() const noexcept { return {data_ ? data_.get() : "", size_}; }
    // Always NUL-terminated, for C APIs.
    const char* c_str() const noexcept { return data_ ? data_.get() : ""; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

    friend bool operator==(const secure_string& a, std::string_view b) noexcept { return a.view() == b; }

private:
    void wipe_and_free() noexcept;

    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;  // usable chars, excluding the NUL terminator
};

}  // namespace otppi::core
