// Salted, slow password hashing (scrypt from OpenSSL 3) for API and admin users.
// Format: "$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt base64>$<hash base64>".
// Thread-safety: pure functions; safe from any thread (the daemon runs
// verify_password on a worker pool so the event loop never pays for it).
#pragma once

#include <string>
#include <string_view>

namespace otppi::auth {

struct scrypt_params {
    int log2_n = 15;  // N = 32768: ~32 MiB and tens of ms per hash on a Raspberry Pi 4
    int r = 8;
    int p = 1;
};

// Empty string if the CSPRNG or scrypt failed (the caller reports it; never a weak fallback).
std::string hash_password(std::string_view password, scrypt_params params = {});
// Constant-time compare of the derived key; false for a malformed stored hash.
bool verify_password(std::string_view password, std::string_view stored_hash);

// Base64 (standard alphabet, padded) used for salts, hashes and HTTP Basic.
std::string base64_encode(std::string_view bytes);
// Strict decode: rejects bad characters and bad padding instead of guessing.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace otppi::auth
