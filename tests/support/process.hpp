// Runs the real otppi binary as a child process for end-to-end tests, and
// plays systemd's side of sd_notify with a datagram socket of our own.
#pragma once

#include <chrono>
#include <csignal>
#include <cstring>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <map>
#include <poll.h>
#include <spawn.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace otppi::test {

struct run_result {
    int exit_code = -1;
    std::string out;
    std::string err;
};

inline std::string slurp(const std::string& path) {
    std::string data;
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
        std::fclose(f);
    }
    return data;
}

class child {
public:
    // stdout/stderr go to files in `dir`; stdin gets `input` (then EOF).
    child(const std::vector<std::string>& argv, const std::string& dir, const std::string& input = {},
          const std::map<std::string, std::string>& env = {}) {
        out_path_ = dir + "/child." + std::to_string(counter()) + ".out";
        err_path_ = out_path_ + ".err";
        const std::string in_path = out_path_ + ".in";
        if (FILE* f = std::fopen(in_path.c_str(), "wb")) {
            std::fwrite(input.data(), 1, input.size(), f);
            std::fclose(f);
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, in_path.c_str(), O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addopen(&fa, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        std::vector<std::string> envs;
        for (char** e = environ; *e; ++e) {
            std::string kv = *e;
            auto key = kv.substr(0, kv.find('='));
            if (!env.count(key) && key != "NOTIFY_SOCKET") envs.push_back(kv);
        }
        for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
        std::vector<char*> cargv, cenv;
        for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
        cargv.push_back(nullptr);
        for (const auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
        cenv.push_back(nullptr);
        if (posix_spawn(&pid_, argv[0].c_str(), &fa, nullptr, cargv.data(), cenv.data()) != 0) pid_ = -1;
        posix_spawn_file_actions_destroy(&fa);
    }
    ~child() {
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            int st;
            ::waitpid(pid_, &st, 0);
        }
    }
    child(const child&) = delete;
    child& operator=(const child&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int sig) { ::kill(pid_, sig); }

    // Exit code, or -1 if still running after `timeout` (then it is killed).
    int wait(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            int st = 0;
            pid_t r = ::waitpid(pid_, &st, WNOHANG);
            if (r == pid_) {
                reaped_ = true;
                return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            }
            ::usleep(10'000);
        }
        return -1;
    }
    bool running() {
        int st = 0;
        if (reaped_) return false;
        pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_) reaped_ = true;
        return r == 0;
    }
    std::string out() const { return slurp(out_path_); }
    std::string err() const { return slurp(err_path_); }

private:
    static int counter() {
        static int n = 0;
        return ++n;
    }
    pid_t pid_ = -1;
    bool reaped_ = false;
    std::string out_path_, err_path_;
};

// Runs to completion.
inline run_result run(const std::vector<std::string>& argv, const std::string& dir, const std::string& input = {}) {
    child c(argv, dir, input);
    run_result r;
    r.exit_code = c.wait();
    r.out = c.out();
    r.err = c.err();
    return r;
}

// systemd's end of sd_notify: a datagram socket whose path goes into NOTIFY_SOCKET.
class notify_socket {
public:
    explicit notify_socket(const std::string& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        ::unlink(path.c_str());
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    }
    ~notify_socket() {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    const std::string& path() const { return path_; }

    // Waits for a datagram containing `what` (e.g. "READY=1"); returns all text received so far.
    bool wait_for(const std::string& what, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (received_.find(what) == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
            if (left <= 0) return false;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
            char buf[4096];
            auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n > 0) received_.append(buf, static_cast<std::size_t>(n)).append("\n");
        }
        return true;
    }
    const std::string& received() const { return received_; }
    // Forget what came so far (before a restart waits for READY=1 again).
    void clear() { received_.clear(); }

private:
    std::string path_;
    int fd_ = -1;
    std::string received_;
};

// A port that was free a moment ago (the daemon's config cannot say "port 0").
inline std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

}  // namespace otppi::test
