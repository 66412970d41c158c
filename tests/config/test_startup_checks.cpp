// What a start needs beyond a well-formed config (issue #17 item 7).
#include "otppi/config/startup_checks.hpp"

#include "support/temp_dir.hpp"
#include "support/tls_cert.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace otppi;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

namespace {

// A config that can start: its own state and web directories, loopback
// listeners on distinct ports, no TLS.
struct StartupChecks : ::testing::Test {
    test::temp_dir dir;
    config::config cfg;

    StartupChecks() {
        cfg.state_dir = dir / "state";
        std::filesystem::create_directories(dir / "web");
        std::ofstream(dir / "web/index.html") << "<!doctype html>";
        cfg.admin.web_root = dir / "web";
        cfg.api.http = {true, "127.0.0.1", 18080};
        cfg.api.https = {};
        cfg.api.https.enabled = false;
        cfg.api.https.port = 18443;
        cfg.admin.bind = "127.0.0.1";
        cfg.admin.port = 18888;
    }

    std::string joined() {
        std::string out;
        for (const auto& p : config::check_startup(cfg)) out += p + "\n";
        return out;
    }
};

TEST(StartupChecksPure, SystemDirectoriesAreRecognised) {
    for (const char* p : {"/", "/etc", "/etc/", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/usr/lib", "/usr/lib/x86_64-linux-gnu/..", "/boot", "/dev",
                          "/dev/shm", "/proc", "/proc/1", "/sys", "/sys/class", "/var", "/var/lib", "/tmp", "/usr/local", "/etc/../usr", "/usr/libexec"})
        EXPECT_TRUE(config::detail::is_system_directory(p)) << p;
    for (const char* p : {"/var/lib/otppi", "/usr/local/share/otppi/web", "/etc/otppi", "/srv/otppi", "/tmp/otppi-test", "/opt/otppi/web", "/library"})
        EXPECT_FALSE(config::detail::is_system_directory(p)) << p;
}

TEST(StartupChecksPure, PortCollisionsNameBothListeners) {
    config::config c;
    c.api.http = {true, "0.0.0.0", 8080};
    c.api.https.enabled = false;
    c.admin.enabled = true;
    c.admin.bind = "127.0.0.1";
    c.admin.port = 8080;  // inside the wildcard of api.http
    EXPECT_THAT(config::detail::port_collisions(c), ElementsAre(HasSubstr("admin.port: 8080 is also api.http.port")));
    c.admin.port = 8888;
    EXPECT_THAT(config::detail::port_collisions(c), IsEmpty());
    c.api.http.bind = "127.0.0.2";
    c.admin.port = 8080;  // different specific addresses may share a port
    EXPECT_THAT(config::detail::port_collisions(c), IsEmpty());
    c.admin.enabled = false;
    c.api.http.bind = "0.0.0.0";
    EXPECT_THAT(config::detail::port_collisions(c), IsEmpty());  // a disabled listener holds nothing
}

TEST_F(StartupChecks, AGoodConfigHasNoProblems) { EXPECT_EQ(joined(), ""); }

TEST_F(StartupChecks, StateDirInEtcIsRefused) {
    cfg.state_dir = "/etc";
    EXPECT_THAT(joined(), HasSubstr("state_dir: /etc is a system directory"));
}

TEST_F(StartupChecks, StateDirThroughASymlinkToASystemDirectoryIsRefused) {
    std::filesystem::create_directory_symlink("/usr", dir / "innocent");
    cfg.state_dir = dir / "innocent";
    EXPECT_THAT(joined(), HasSubstr("is a system directory"));
}

TEST_F(StartupChecks, StateDirThatIsAFileIsRefused) {
    std::ofstream(dir / "file") << "x";
    cfg.state_dir = dir / "file";
    EXPECT_THAT(joined(), HasSubstr("state_dir: " + (dir / "file") + " exists and is not a directory"));
}

TEST_F(StartupChecks, StateDirThatCanBeCreatedIsAccepted) {
    cfg.state_dir = dir / "a/b/c";
    EXPECT_EQ(joined(), "");
}

TEST_F(StartupChecks, UnwritableStateDirIsRefused) {
    // What no user, root included, can use as a state directory: a file, and a
    // directory that would have to be created under a file.
    { std::ofstream(dir / "file") << "x"; }
    cfg.state_dir = dir / "file";
    EXPECT_THAT(joined(), HasSubstr("exists and is not a directory"));
    cfg.state_dir = dir / "file/sub";
    EXPECT_THAT(joined(), HasSubstr("cannot be created"));
    // Permissions bind every user but root (CI runs as root, where the part
    // above is what this test checks).
    if (::geteuid() != 0) {
        std::filesystem::create_directory(dir / "ro");
        std::filesystem::permissions(dir / "ro", std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
        cfg.state_dir = dir / "ro";
        EXPECT_THAT(joined(), HasSubstr("is not writable"));
        cfg.state_dir = dir / "ro/sub";
        EXPECT_THAT(joined(), HasSubstr("cannot be created"));
        std::filesystem::permissions(dir / "ro", std::filesystem::perms::owner_all);
    }
}

TEST_F(StartupChecks, WebRootAtSlashIsRefused) {
    cfg.admin.web_root = "/";
    EXPECT_THAT(joined(), HasSubstr("admin.web_root: / is a system directory"));
}

TEST_F(StartupChecks, WebRootWithoutIndexHtmlIsRefused) {
    std::filesystem::create_directory(dir / "empty");
    cfg.admin.web_root = dir / "empty";
    EXPECT_THAT(joined(), HasSubstr("admin.web_root: " + (dir / "empty") + " has no index.html"));
    cfg.admin.web_root = dir / "missing";
    EXPECT_THAT(joined(), HasSubstr("is not a directory"));
    cfg.admin.enabled = false;  // not needed without the admin UI
    EXPECT_EQ(joined(), "");
}

TEST_F(StartupChecks, MissingTlsCertificateIsRefused) {
    cfg.api.https.enabled = true;
    cfg.api.https.cert_file = dir / "nope.pem";
    cfg.api.https.key_file = dir / "nope.key";
    EXPECT_THAT(joined(), HasSubstr("api.https.cert_file: cannot load the certificate " + (dir / "nope.pem")));
}

TEST_F(StartupChecks, TlsKeyOfAnotherCertificateIsRefused) {
    ASSERT_TRUE(test::make_self_signed(dir / "a.pem", dir / "a.key"));
    ASSERT_TRUE(test::make_self_signed(dir / "b.pem", dir / "b.key"));
    cfg.admin.https = true;
    cfg.admin.cert_file = dir / "a.pem";
    cfg.admin.key_file = dir / "a.key";
    EXPECT_EQ(joined(), "");
    cfg.admin.key_file = dir / "b.key";
    EXPECT_THAT(joined(), HasSubstr("admin.key_file: " + (dir / "b.key") + " is not the key of the certificate"));
    cfg.admin.key_file = dir / "a.pem";  // a certificate where the key should be
    EXPECT_THAT(joined(), HasSubstr("admin.key_file: cannot load the key"));
}

TEST_F(StartupChecks, BindAddressThatDoesNotResolveOrIsNotOursIsRefused) {
    cfg.api.http.bind = "no-such-host.invalid";
    EXPECT_THAT(joined(), HasSubstr("api.http.bind: cannot resolve 'no-such-host.invalid'"));
    cfg.api.http.bind = "192.0.2.1";  // TEST-NET-1: not an address of this machine
    EXPECT_THAT(joined(), HasSubstr("api.http.bind: 192.0.2.1 is not an address of this machine"));
    cfg.api.http.bind = "localhost";
    EXPECT_EQ(joined(), "");
}

TEST_F(StartupChecks, PortTakenByAnotherProgramIsRefusedWhenProbing) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    cfg.admin.port = ntohs(a.sin_port);
    cfg.api.http.enabled = false;  // probe only the port under test
    auto problems = config::check_startup(cfg, {nullptr, true});
    EXPECT_THAT(problems, ElementsAre(HasSubstr("admin.port: " + std::to_string(cfg.admin.port) + " on 127.0.0.1 is in use")));
    // The daemon's own listener is not "taken".
    config::config running = cfg;
    EXPECT_THAT(config::check_startup(cfg, {&running, true}), IsEmpty());
    ::close(fd);
}

TEST_F(StartupChecks, EveryProblemIsNamedAtOnce) {
    cfg.state_dir = "/var";
    cfg.admin.web_root = "/";
    cfg.api.https.enabled = true;
    cfg.api.https.cert_file = dir / "nope.pem";
    cfg.api.https.key_file = dir / "nope.key";
    cfg.admin.port = cfg.api.http.port;
    auto problems = config::check_startup(cfg);
    ASSERT_EQ(problems.size(), 5u) << joined();
    EXPECT_THAT(problems[0], HasSubstr("state_dir:"));
    EXPECT_THAT(problems[1], HasSubstr("admin.web_root:"));
    EXPECT_THAT(problems[2], HasSubstr("api.https.cert_file: cannot load the certificate " + (dir / "nope.pem") + ": No such file or directory"));
    EXPECT_THAT(problems[3], HasSubstr("api.https.key_file:"));
    EXPECT_THAT(problems[4], HasSubstr("admin.port:"));
}

TEST_F(StartupChecks, AnEditIsJudgedOnWhatItBreaks) {
    auto before = cfg;
    before.admin.web_root = dir / "missing";  // already broken before the edit
    auto next = before;
    next.otp.length = 8;
    EXPECT_THAT(config::new_startup_problems(next, before), IsEmpty());
    next.state_dir = "/etc";
    EXPECT_THAT(config::new_startup_problems(next, before), ElementsAre(HasSubstr("state_dir: /etc")));
}

}  // namespace
