#include "otppi/auth/password.hpp"
#include "otppi/auth/user_store.hpp"
#include "otppi/core/files.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

using namespace otppi::auth;

namespace {
// Cheap parameters: the format and logic are the same, the tests stay fast.
constexpr scrypt_params fast{10, 8, 1};
}  // namespace

TEST(Password, HashVerifies) {
    auto h = hash_password("correct horse", fast);
    ASSERT_FALSE(h.empty());
    EXPECT_EQ(h.rfind("$scrypt$ln=10,r=8,p=1$", 0), 0u);
    EXPECT_TRUE(verify_password("correct horse", h));
    EXPECT_FALSE(verify_password("correct horsf", h));
    EXPECT_FALSE(verify_password("", h));
}

TEST(Password, SaltedSoEqualPasswordsDiffer) { EXPECT_NE(hash_password("same password", fast), hash_password("same password", fast)); }

TEST(Password, DefaultParamsAreSlow) {
    auto h = hash_password("x");
    EXPECT_EQ(h.rfind("$scrypt$ln=15,r=8,p=1$", 0), 0u);
}

TEST(Password, MalformedStoredHashNeverVerifies) {
    for (const char* bad : {"", "$scrypt$", "$scrypt$ln=10,r=8,p=1$AAAA$", "$scrypt$ln=99,r=8,p=1$AAAA$AAAA", "$bcrypt$ln=10,r=8,p=1$AAAA$AAAA",
                            "plain", "$scrypt$ln=x,r=8,p=1$AAAA$AAAA", "$scrypt$ln=10,r=8,p=1$@@@@$AAAA"})
        EXPECT_FALSE(verify_password("x", bad)) << bad;
}

TEST(Base64, Rfc4648Vectors) {
    const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
                                                           {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (auto [plain, encoded] : vectors) {
        EXPECT_EQ(base64_encode(plain), encoded);
        std::string out;
        ASSERT_TRUE(base64_decode(encoded, out)) << encoded;
        EXPECT_EQ(out, plain);
    }
}

TEST(Base64, RejectsBrokenInput) {
    std::string out;
    for (const char* bad : {"Zg=", "Zg===", "Z===", "Zm9v!", "Zm=v", "=Zm9", "Zm9vYg==Zm9v", "Zm 9v"}) EXPECT_FALSE(base64_decode(bad, out)) << bad;
}

TEST(UserStore, RoundTripWithPrivateMode) {
    otppi::test::temp_dir dir;
    user_store users(dir.path());
    ASSERT_EQ(users.load(), "");
    EXPECT_TRUE(users.empty(user_kind::api));
    users.put(user_kind::api, "app1", {hash_password("secret-1", fast), 1});
    users.put(user_kind::admin, "root", {hash_password("secret-2", fast), 2});
    ASSERT_EQ(users.save(), "");
    struct stat st {};
    ASSERT_EQ(::stat(users.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    user_store again(dir.path());
    ASSERT_EQ(again.load(), "");
    ASSERT_NE(again.find(user_kind::api, "app1"), nullptr);
    EXPECT_EQ(again.find(user_kind::api, "root"), nullptr);  // kinds are separate
    EXPECT_TRUE(verify_password("secret-2", again.find(user_kind::admin, "root")->password_hash));
    EXPECT_TRUE(again.remove(user_kind::api, "app1"));
    EXPECT_FALSE(again.remove(user_kind::api, "app1"));
}

TEST(UserStore, NamesValidated) {
    EXPECT_TRUE(user_store::valid_name("app-server_1@corp.example"));
    EXPECT_FALSE(user_store::valid_name(""));
    EXPECT_FALSE(user_store::valid_name("a:b"));
    EXPECT_FALSE(user_store::valid_name("a b"));
    EXPECT_FALSE(user_store::valid_name(std::string(65, 'a')));
}

TEST(UserStore, CorruptFileReported) {
    otppi::test::temp_dir dir;
    ASSERT_EQ(otppi::core::atomic_write_file(dir / "users.json", "{not json", 0600), "");
    user_store users(dir.path());
    EXPECT_NE(users.load(), "");
}

TEST(UserStore, CorruptFileOnReloadKeepsTheUsersLoadedBefore) {
    otppi::test::temp_dir dir;
    user_store users(dir.path());
    users.put(user_kind::api, "app1", {hash_password("secret-1", fast), 1});
    users.put(user_kind::admin, "root", {hash_password("secret-2", fast), 2});
    ASSERT_EQ(users.save(), "");
    ASSERT_EQ(users.load(), "");
    EXPECT_EQ(users.load_error(), "");
    // Every way a file can be broken half-way through: nothing of it is taken.
    for (const char* broken : {"{not json", "[]", R"({"api_users": {"app2": {"hash": "$scrypt$x"}}, "admin_users": []})",
                               R"({"api_users": {"app2": {"hash": "h"}, "bad name": {"hash": "h"}}})",
                               R"({"api_users": {"app2": {"hash": "h", "created": "yesterday"}}})"}) {
        ASSERT_EQ(otppi::core::atomic_write_file(users.path(), broken, 0600), "");
        EXPECT_NE(users.load(), "") << broken;
        EXPECT_NE(users.load_error(), "") << broken;
        EXPECT_NE(users.find(user_kind::api, "app1"), nullptr) << broken;
        EXPECT_NE(users.find(user_kind::admin, "root"), nullptr) << broken;
        EXPECT_EQ(users.find(user_kind::api, "app2"), nullptr) << broken;
    }
    // Fixed: the file's users, and the error is gone.
    ASSERT_EQ(otppi::core::atomic_write_file(users.path(), R"({"api_users": {"app2": {"hash": "h"}}})", 0600), "");
    EXPECT_EQ(users.load(), "");
    EXPECT_EQ(users.load_error(), "");
    EXPECT_EQ(users.find(user_kind::api, "app1"), nullptr);
    EXPECT_NE(users.find(user_kind::api, "app2"), nullptr);
    EXPECT_TRUE(users.empty(user_kind::admin));
}
