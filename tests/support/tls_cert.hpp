// Makes a real self-signed certificate (P-256) for "localhost" in a directory,
// so TLS tests use the same code path as a deployment.
#pragma once

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <cstdio>
#include <string>

namespace otppi::test {

inline bool make_self_signed(const std::string& cert_path, const std::string& key_path) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    if (!key) return false;
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    bool ok = X509_sign(cert, key, EVP_sha256()) > 0;
    if (FILE* f = std::fopen(cert_path.c_str(), "w")) {
        ok = ok && PEM_write_X509(f, cert) == 1;
        std::fclose(f);
    } else {
        ok = false;
    }
    if (FILE* f = std::fopen(key_path.c_str(), "w")) {
        ok = ok && PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
        std::fclose(f);
    } else {
        ok = false;
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return ok;
}

}  // namespace otppi::test
