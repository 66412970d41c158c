// A blocking HTTP/1.1 client over a plain socket, for tests that need to send
// exactly the bytes they want (partial headers, lies in Content-Length).
#pragma once

#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace otppi::test {

struct http_reply {
    int status = 0;
    std::string head;  // status line and headers
    std::string body;
    bool ok() const { return status != 0; }
    bool has_header(const std::string& line) const { return head.find(line) != std::string::npos; }
};

class raw_client {
public:
    // `source`: the local address to connect from, e.g. "127.0.0.2" (Linux
    // answers all of 127/8 on loopback), so that a test has several clients.
    explicit raw_client(std::uint16_t port, const char* source = nullptr) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (source) {
            sockaddr_in local{};
            local.sin_family = AF_INET;
            ::inet_pton(AF_INET, source, &local.sin_addr);
            ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local);
        }
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ~raw_client() {
        if (fd_ >= 0) ::close(fd_);
    }
    raw_client(const raw_client&) = delete;
    raw_client& operator=(const raw_client&) = delete;

    bool connected() const { return connected_; }

    bool send(const std::string& data) {
        std::size_t done = 0;
        while (done < data.size()) {
            auto n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
            if (n <= 0) return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    }

    // Reads one response (Content-Length framed). status 0 when the peer
    // closed or nothing complete came within `timeout`.
    http_reply read_reply(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        http_reply r;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::size_t header_end;
        while ((header_end = buf_.find("\r\n\r\n")) == std::string::npos)
            if (!fill(deadline)) return r;
        r.head = buf_.substr(0, header_end + 2);
        std::size_t length = 0;
        auto pos = lower(r.head).find("content-length:");
        if (pos != std::string::npos) length = std::stoul(r.head.substr(pos + 15));
        while (buf_.size() < header_end + 4 + length)
            if (!fill(deadline)) return r;
        r.body = buf_.substr(header_end + 4, length);
        buf_.erase(0, header_end + 4 + length);
        r.status = std::stoi(r.head.substr(9, 3));
        return r;
    }

    // True when the server closed the connection within `timeout`.
    bool closed_by_peer(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            pollfd p{fd_, POLLIN, 0};
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
            if (left <= 0) return false;
            if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
            char c[512];
            auto n = ::recv(fd_, c, sizeof c, 0);
            if (n <= 0) return true;
            buf_.append(c, static_cast<std::size_t>(n));
        }
    }

    const std::string& buffered() const { return buf_; }
    int fd() const { return fd_; }

private:
    static std::string lower(std::string s) {
        for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    }
    bool fill(std::chrono::steady_clock::time_point deadline) {
        pollfd p{fd_, POLLIN, 0};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
        char c[4096];
        auto n = ::recv(fd_, c, sizeof c, 0);
        if (n <= 0) return false;
        buf_.append(c, static_cast<std::size_t>(n));
        return true;
    }

    int fd_ = -1;
    bool connected_ = false;
    std::string buf_;
};

inline std::string post(const std::string& path, const std::string& body, const std::string& extra_headers = "") {
    return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" + extra_headers +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace otppi::test
