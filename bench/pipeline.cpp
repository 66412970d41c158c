// The SMS pipeline benchmark (docs/benchmarks.md): the real daemon sending
// through simulated modems, measured against what the modems can carry.
//
//   otppi-bench-pipeline DAEMON [options]      (bench/pipeline.sh runs it)
//
// It starts N otppi::sim::modem_simulator instances in this process (SIM800L
// on a pty, each taking --send-delay-ms from the PDU to +CMGS), writes a
// config for the daemon binary DAEMON with those modems (no prefixes, no
// default modem: one round-robin group; API on 127.0.0.1 at a free port;
// api.user_rate_limit_per_minute 0; api.reply_wait_s 120), creates an API
// user with `DAEMON api-user add`, starts the daemon and waits until
// get-modem-list says every modem is connected. Then two phases:
//
//  burst    --burst send-sms requests (distinct receivers and texts) sent at
//           once on as many keep-alive connections (the server takes one
//           request at a time per connection). Throughput = burst / (the
//           last +CMGS - the first request), the +CMGS times taken on the
//           simulators' threads (on_sent), against the limit
//           N / send_delay (16/s for 4 x 250 ms). Target: >= 0.95.
//  latency  the simulators' send_delay set to 0, then --samples send-sms
//           requests one at a time on one connection, so each finds its
//           modem idle. For each: request -> +CMGS seen by the simulator
//           (on_sent; this includes AT+CMGS, the "> " prompt round trip and
//           the PDU, so it is an upper bound of request -> AT+CMGS), and
//           request -> HTTP reply. Target: median request -> +CMGS <= 5 ms.
//
// Correctness, checked in both phases: every request answered 0000; every
// answered text reached a simulator exactly once, to the right number; no
// text the replies did not claim; the sum of the simulators' sent_count()
// equals the number of 0000 replies.
//
// --peer kannel runs the same two phases against Kannel instead of the
// daemon (DAEMON is then not started): bearerbox
// with one `at` SMSC per simulated modem and smsbox, configured from
// --kannel-config (bench/peers/kannel.conf.in), requests sent to smsbox's
// sendsms interface (GET, answered "0: Accepted for delivery" at once, before
// the modem is used). So a Kannel burst ends at the last +CMGS, its
// replies say nothing of delivery, and the latency phase waits for each
// message to reach its simulator before it sends the next one.
//
// --default-modem makes the first modem (m1) the default modem, the cheap SIM
// of OTP-Pi's routing, so the burst measures the bounded wait of the routing
// tiers (sms.max_queue_wait_s, set with --max-queue-wait-s; without it the
// daemon's default): it reports which modem sent the first request's
// message, what each modem carried and when, and checks that the burst ended
// within the wait bound plus --routing-slack-s with the first request's
// message on m1 (routing target).
//
// --mode request-otp replaces both phases (otppi only) with request-otp under
// load: --otp-connections keep-alive connections send request-otp (distinct
// receivers) for --otp-seconds, the modems taking --send-delay-ms per SMS.
// request-otp answers once the SMS is out, so its rate is bounded by the
// modems: reported against N / send_delay. Then every OTP the simulators saw
// is read from its text and verified with verify-otp.
//
// Exit: 0 both targets met (request-otp: no target); 3 a target missed; 1 a
// correctness check failed or the set-up failed. Only 127.0.0.1 and ptys; the
// daemon (or Kannel's two boxes) is stopped on exit (SIGTERM, then SIGKILL),
// also on SIGINT/SIGTERM to this program and, through PR_SET_PDEATHSIG, should
// this program be killed. A watchdog ends everything after --max-seconds.
#include "otppi/sim/modem_simulator.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

double ms_between(clock_type::time_point a, clock_type::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

// ---------------------------------------------------------------- processes

// The gateway under test: the daemon, or Kannel's smsbox and bearerbox (in
// the order they are stopped).
std::atomic<pid_t> g_daemon_pid{0};
std::atomic<pid_t> g_smsbox_pid{0};
std::atomic<pid_t> g_bearerbox_pid{0};
std::string g_cleanup_dir;  // removed on exit when this program made it

void stop_process(std::atomic<pid_t>& which) {
    const pid_t pid = which.exchange(0);
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 100; ++i) {  // 10 s: the daemon finishes sends in flight first
        if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
        std::this_thread::sleep_for(milliseconds(100));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
}

void stop_daemon() {
    stop_process(g_daemon_pid);
    stop_process(g_smsbox_pid);
    stop_process(g_bearerbox_pid);
}

// User plus system CPU time of a process so far, in seconds (/proc/PID/stat).
double cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');
    if (pid <= 0 || close == std::string::npos) return 0;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i)
        if (i >= 14) ticks += std::stod(field);  // utime, stime
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

void cleanup_dir() {
    if (g_cleanup_dir.empty()) return;
    std::error_code ec;
    fs::remove_all(g_cleanup_dir, ec);
    g_cleanup_dir.clear();
}

[[noreturn]] void die(const std::string& why, int code = 1) {
    std::cout.flush();
    std::cerr << "otppi-bench-pipeline: " << why << "\n";
    stop_daemon();
    cleanup_dir();
    std::_Exit(code);  // the simulators' threads are still running: no static destructors
}

// fork + exec with stdin from `input` (when given) and stdout/stderr to `log`
// (or inherited). The child dies with this program (PR_SET_PDEATHSIG).
pid_t spawn(const std::vector<std::string>& argv, const std::string& log, const std::optional<std::string>& input) {
    int in_pipe[2] = {-1, -1};
    if (input && ::pipe2(in_pipe, O_CLOEXEC) != 0) die("pipe failed");
    int log_fd = -1;
    if (!log.empty()) {
        log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (log_fd < 0) die("cannot open " + log);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) die("fork failed");
    if (pid == 0) {
        // Only async-signal-safe calls until exec (this process has threads).
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (in_pipe[0] >= 0) ::dup2(in_pipe[0], 0);
        if (log_fd >= 0) {
            ::dup2(log_fd, 1);
            ::dup2(log_fd, 2);
        }
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    if (log_fd >= 0) ::close(log_fd);
    if (input) {
        ::close(in_pipe[0]);
        std::size_t off = 0;
        while (off < input->size()) {
            auto n = ::write(in_pipe[1], input->data() + off, input->size() - off);
            if (n <= 0) break;
            off += static_cast<std::size_t>(n);
        }
        ::close(in_pipe[1]);
    }
    return pid;
}

int run_to_end(const std::vector<std::string>& argv, const std::string& log, const std::optional<std::string>& input = std::nullopt) {
    const pid_t pid = spawn(argv, log, input);
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

unsigned short free_port() {
    net::io_context io;
    tcp::acceptor a(io, tcp::endpoint(net::ip::make_address_v4("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

std::string base64(const std::string& in) {
    static constexpr char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += t[(v >> 6) & 63];
        out += t[v & 63];
    }
    if (i + 1 == in.size()) {
        const unsigned v = static_cast<unsigned char>(in[i]) << 16;
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += "==";
    } else if (i + 2 == in.size()) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += t[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

// ---------------------------------------------------------------- HTTP client

struct exchange {
    std::string body;  // otppi: the JSON request body; Kannel: the sendsms target with its query
    clock_type::time_point sent_at{}, answered_at{};
    unsigned http_status = 0;
    std::string response_code, modem_id, error;
    bool done = false;
};

// One keep-alive connection; runs its exchanges one after the other. To
// otppi: POST of a JSON body with Basic auth. To Kannel's smsbox (`kannel`):
// GET of the sendsms URL, whose "0: Accepted for delivery" counts as 0000.
class client_conn : public std::enable_shared_from_this<client_conn> {
public:
    client_conn(net::io_context& io, tcp::endpoint ep, std::string auth, bool kannel = false)
        : stream_(io), ep_(ep), auth_(std::move(auth)), kannel_(kannel) {}

    void connect(std::function<void(beast::error_code)> done) {
        stream_.expires_after(std::chrono::seconds(10));
        stream_.async_connect(ep_, [self = shared_from_this(), done = std::move(done)](beast::error_code ec) {
            if (!ec) self->stream_.socket().set_option(tcp::no_delay(true), ec);
            done(ec);
        });
    }

    // Sends `ex` (its sent_at is set here) and calls `done` once it is answered.
    void run(exchange& ex, const std::string& target, std::chrono::seconds timeout, std::function<void()> done) {
        ex_ = &ex;
        done_ = std::move(done);
        if (kannel_) {
            req_ = {http::verb::get, ex.body, 11};
            req_.set(http::field::host, "127.0.0.1");
        } else {
            req_ = {http::verb::post, target, 11};
            req_.set(http::field::host, "127.0.0.1");
            req_.set(http::field::authorization, auth_);
            req_.set(http::field::content_type, "application/json");
            req_.body() = ex.body;
        }
        req_.keep_alive(true);
        req_.prepare_payload();
        res_ = {};
        stream_.expires_after(timeout);
        ex.sent_at = clock_type::now();
        http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->fail("write: " + ec.message());
            http::async_read(self->stream_, self->buffer_, self->res_, [self](beast::error_code rec, std::size_t) { self->on_read(rec); });
        });
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.socket().close(ec);
    }

private:
    void on_read(beast::error_code ec) {
        auto& ex = *ex_;
        ex.answered_at = clock_type::now();
        if (ec) return fail("read: " + ec.message());
        ex.http_status = res_.result_int();
        if (kannel_) {
            const auto& b = res_.body();
            ex.response_code = ex.http_status == 202 && b.rfind("0:", 0) == 0 ? "0000" : "kannel " + std::to_string(ex.http_status) + " " + b.substr(0, 60);
            return finish();
        }
        try {
            auto j = json::parse(res_.body());
            ex.response_code = j.value("response_code", "");
            if (j.contains("data") && j["data"].is_object()) ex.modem_id = j["data"].value("modem_id", "");
        } catch (const std::exception& e) {
            ex.error = std::string("reply is not JSON: ") + e.what();
        }
        finish();
    }

    void finish() {
        ex_->done = true;
        auto d = std::move(done_);
        d();
    }

    void fail(const std::string& why) {
        ex_->error = why;
        ex_->answered_at = clock_type::now();
        ex_->done = true;
        auto d = std::move(done_);
        d();
    }

    beast::tcp_stream stream_;
    tcp::endpoint ep_;
    std::string auth_;
    bool kannel_ = false;
    beast::flat_buffer buffer_;
    http::request<http::string_body> req_;
    http::response<http::string_body> res_;
    exchange* ex_ = nullptr;
    std::function<void()> done_;
};

// The full reply body of one request, for get-modem-list.
std::optional<json> call_body(tcp::endpoint ep, const std::string& auth, const std::string& target, const json& body) {
    try {
        net::io_context io;
        tcp::socket s(io);
        s.connect(ep);
        http::request<http::string_body> req{http::verb::post, target, 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::authorization, auth);
        req.set(http::field::content_type, "application/json");
        req.body() = body.dump();
        req.prepare_payload();
        http::write(s, req);
        beast::flat_buffer buf;
        http::response<http::string_body> res;
        http::read(s, buf, res);
        return json::parse(res.body());
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// The body of a GET on 127.0.0.1 (Kannel's status page, sendsms), or nullopt.
std::optional<std::string> http_get(unsigned short port, const std::string& target) {
    try {
        net::io_context io;
        beast::tcp_stream s(io);
        s.expires_after(std::chrono::seconds(5));
        s.connect(tcp::endpoint(net::ip::make_address_v4("127.0.0.1"), port));
        http::request<http::empty_body> req{http::verb::get, target, 11};
        req.set(http::field::host, "127.0.0.1");
        http::write(s, req);
        beast::flat_buffer buf;
        http::response<http::string_body> res;
        http::read(s, buf, res);
        return res.body();
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::string url_encode(std::string_view in) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : in) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string random_password() {
    std::random_device rd;
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::string password;
    for (int i = 0; i < 24; ++i) password += alphabet[rd() % (sizeof alphabet - 1)];
    return password;
}

void replace_all(std::string& s, const std::string& what, const std::string& with) {
    for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size())) s.replace(at, what.size(), with);
}

// ---------------------------------------------------------------- statistics

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    // Nearest rank.
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double median(std::vector<double> v) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fmt(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// What the simulators saw: text -> (destination, time of +CMGS, simulator).
struct observed {
    std::mutex mu;
    std::condition_variable cv;  // notified for every message
    struct entry {
        std::string destination;
        clock_type::time_point at;
        std::size_t sim;
    };
    std::multimap<std::string, entry> by_text;

    // Until `text` was sent at least once, or the timeout.
    bool wait_for_text(const std::string& text, std::chrono::milliseconds timeout) {
        std::unique_lock lk(mu);
        return cv.wait_for(lk, timeout, [&] { return by_text.count(text) > 0; });
    }
    // Until `n` messages in all were sent, or no new one came for `quiet`.
    std::size_t wait_for_count(std::size_t n, std::chrono::milliseconds quiet) {
        std::unique_lock lk(mu);
        while (by_text.size() < n) {
            const auto before = by_text.size();
            if (!cv.wait_for(lk, quiet, [&] { return by_text.size() != before; })) break;
        }
        return by_text.size();
    }
};

// The correctness checks of one phase; returns the problems found.
std::vector<std::string> check_phase(const std::vector<exchange>& exs, const std::vector<std::string>& texts,
                                     const std::vector<std::string>& destinations, observed& obs, std::size_t sent_delta) {
    std::vector<std::string> problems;
    std::size_t ok = 0;
    std::map<std::string, int> codes;
    std::lock_guard lk(obs.mu);
    for (std::size_t i = 0; i < exs.size(); ++i) {
        const auto& ex = exs[i];
        const auto seen = obs.by_text.count(texts[i]);
        if (!ex.done || !ex.error.empty()) {
            problems.push_back("request " + std::to_string(i) + ": no reply (" + (ex.done ? ex.error : "timed out") + "), sent " +
                               std::to_string(seen) + " time(s)");
            continue;
        }
        ++codes[ex.response_code];
        if (ex.response_code == "0000") {
            ++ok;
            if (seen != 1) problems.push_back("request " + std::to_string(i) + ": answered 0000 but sent " + std::to_string(seen) + " time(s)");
        } else if (seen != 0) {
            problems.push_back("request " + std::to_string(i) + ": answered " + ex.response_code + " but sent " + std::to_string(seen) + " time(s)");
        }
        auto range = obs.by_text.equal_range(texts[i]);
        for (auto it = range.first; it != range.second; ++it)
            if (it->second.destination != destinations[i])
                problems.push_back("request " + std::to_string(i) + ": sent to " + it->second.destination + ", expected " + destinations[i]);
    }
    if (sent_delta != ok)
        problems.push_back("the simulators accepted " + std::to_string(sent_delta) + " message(s) for " + std::to_string(ok) + " 0000 replies");
    if (ok != exs.size()) {
        std::string list;
        for (const auto& [code, n] : codes) list += " " + code + "x" + std::to_string(n);
        problems.push_back(std::to_string(exs.size() - ok) + " of " + std::to_string(exs.size()) + " requests not answered 0000 (codes:" +
                           list + ")");
    }
    return problems;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"otppi SMS pipeline benchmark: the daemon (or Kannel) against simulated modems (docs/benchmarks.md)"};
    std::string daemon;
    std::string work_dir;
    std::string base_config = "config/otppi.json";
    std::string peer = "otppi", mode = "send-sms";
    std::string kannel_config = "bench/peers/kannel.conf.in", bearerbox = "/usr/sbin/bearerbox", smsbox = "/usr/sbin/smsbox";
    int kannel_log_level = 2;
    int modems = 4, send_delay_ms = 250, burst = 200, connections = 0, samples = 200, max_seconds = 110, reply_wait_s = 120;
    int otp_seconds = 10, otp_connections = 32;
    double target_ratio = 0.95, target_median_ms = 5.0;
    bool keep = false;
    bool default_modem = false;
    int max_queue_wait_s = -1;  // -1: not in the config (the daemon's default, or a daemon without the key)
    double routing_slack_s = 5.0;
    cli.add_option("daemon", daemon, "The otppi daemon binary to measure")->required()->check(CLI::ExistingFile);
    cli.add_option("--peer", peer, "Gateway to measure: otppi, or kannel (bearerbox + smsbox, `at` driver)")
        ->check(CLI::IsMember({"otppi", "kannel"}));
    cli.add_option("--mode", mode, "send-sms: burst and latency phases; request-otp: request-otp under load (otppi only)")
        ->check(CLI::IsMember({"send-sms", "request-otp"}));
    cli.add_option("--modems", modems, "Simulated modems")->check(CLI::Range(1, 64));
    cli.add_option("--send-delay-ms", send_delay_ms, "Each modem's time from the PDU to +CMGS in the burst")->check(CLI::Range(0, 10000));
    cli.add_option("--burst", burst, "send-sms requests sent at once")->check(CLI::Range(1, 2000));
    cli.add_option("--connections", connections, "Keep-alive connections for the burst (default: one per request)")->check(CLI::Range(0, 2000));
    cli.add_option("--samples", samples, "Sequential requests of the latency phase")->check(CLI::Range(1, 10000));
    cli.add_option("--otp-seconds", otp_seconds, "request-otp mode: how long the load runs")->check(CLI::Range(1, 300));
    cli.add_option("--otp-connections", otp_connections, "request-otp mode: keep-alive connections, one request in flight each")
        ->check(CLI::Range(1, 1000));
    cli.add_option("--kannel-config", kannel_config, "Kannel config template (@...@ fields, one SMSC block)")->check(CLI::ExistingFile);
    cli.add_option("--bearerbox", bearerbox, "Kannel's bearerbox binary");
    cli.add_option("--smsbox", smsbox, "Kannel's smsbox binary");
    cli.add_option("--kannel-log-level", kannel_log_level, "Kannel's log-level (0 debug: every AT line; 2 warnings, like otppi's warn)")
        ->check(CLI::Range(0, 4));
    cli.add_option("--work-dir", work_dir, "Empty directory for config, state, links and logs (default: a new one in /tmp, removed on exit)");
    cli.add_option("--base-config", base_config, "Config the benchmark's config is derived from (missing: defaults)");
    cli.add_option("--max-seconds", max_seconds, "Hard limit for the whole run")->check(CLI::Range(10, 900));
    cli.add_option("--target-ratio", target_ratio, "Burst throughput target, as a share of N / send_delay");
    cli.add_option("--target-median-ms", target_median_ms, "Latency target: median request -> +CMGS on an idle modem");
    cli.add_flag("--keep", keep, "Keep the work directory");
    cli.add_flag("--default-modem", default_modem, "m1 is the default modem (routing tiers: m1, then the others)");
    cli.add_option("--max-queue-wait-s", max_queue_wait_s, "sms.max_queue_wait_s for the daemon (-1: not set)")->check(CLI::Range(-1, 3600));
    cli.add_option("--routing-slack-s", routing_slack_s, "With --default-modem: the burst may end this long after the wait bound");
    CLI11_PARSE(cli, argc, argv);
    const bool kannel = peer == "kannel";
    const bool otp_mode = mode == "request-otp";
    if (kannel && otp_mode) {
        std::cerr << "otppi-bench-pipeline: --mode request-otp measures otppi only\n";
        return 1;
    }
    if (send_delay_ms < 1 && !otp_mode) {
        std::cerr << "otppi-bench-pipeline: the burst needs --send-delay-ms >= 1 (the limit is N / send_delay)\n";
        return 1;
    }
    if (connections <= 0 || connections > burst) connections = burst;
    daemon = fs::absolute(daemon).string();
    kannel_config = fs::absolute(kannel_config).string();
    const std::string gateway_name = kannel ? "Kannel" : "otppi";

    // SIGINT/SIGTERM/SIGHUP go to a thread that stops the daemon and exits;
    // blocked here, before any thread starts, so only that thread sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    if (work_dir.empty()) {
        std::string tmpl = "/tmp/otppi-bench-pipeline.XXXXXX";
        if (!::mkdtemp(tmpl.data())) die("mkdtemp failed");
        work_dir = tmpl;
        if (!keep) g_cleanup_dir = work_dir;
    }
    work_dir = fs::absolute(work_dir).string();

    std::thread([stop_signals] {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        std::cerr << "otppi-bench-pipeline: signal " << sig << ", stopping\n";
        stop_daemon();
        cleanup_dir();
        std::_Exit(130);
    }).detach();
    const auto run_started = clock_type::now();
    std::thread([max_seconds] {
        std::this_thread::sleep_for(std::chrono::seconds(max_seconds));
        std::cerr << "otppi-bench-pipeline: still running after " << max_seconds << " s, giving up\n";
        stop_daemon();
        cleanup_dir();
        std::_Exit(1);
    }).detach();

    // ---- simulated modems
    observed obs;
    std::vector<std::unique_ptr<otppi::sim::modem_simulator>> sims;
    for (int i = 0; i < modems; ++i) {
        otppi::sim::sim_options o;
        o.send_delay = milliseconds(send_delay_ms);
        o.link = work_dir + "/modem" + std::to_string(i + 1);
        o.imei = "35984809159" + std::to_string(1000 + i).substr(0, 4);
        auto sim = std::make_unique<otppi::sim::modem_simulator>(o);
        const std::size_t index = static_cast<std::size_t>(i);
        sim->on_sent([&obs, index](const otppi::sim::sent_sms& s) {
            const auto now = clock_type::now();
            {
                std::lock_guard lk(obs.mu);
                obs.by_text.emplace(s.text, observed::entry{s.destination, now, index});
            }
            obs.cv.notify_all();
        });
        sims.push_back(std::move(sim));
    }
    auto total_sent = [&] {
        std::size_t n = 0;
        for (const auto& s : sims) n += s->sent_count();
        return n;
    };

    tcp::endpoint ep;
    std::string auth;               // otppi: the Authorization header
    std::string sendsms_password;   // Kannel
    std::string log;                // where to look when something fails
    double ready_ms = -1;
    std::vector<pid_t> gateway_pids;
    if (!kannel) {
        // ---- config, user, daemon
        json cfg = json::object();
        if (!base_config.empty() && fs::exists(base_config)) {
            std::ifstream in(base_config);
            cfg = json::parse(in);
        }
        const unsigned short api_port = free_port();
        const unsigned short admin_port = free_port();
        const int max_in_flight = otp_mode ? otp_connections : connections;
        cfg["state_dir"] = work_dir + "/state";
        cfg["api"]["http"] = {{"enabled", true}, {"bind", "127.0.0.1"}, {"port", api_port}};
        cfg["api"]["https"]["enabled"] = false;
        cfg["api"]["user_rate_limit_per_minute"] = 0;  // off
        cfg["api"]["reply_wait_s"] = reply_wait_s;     // replies wait for +CMGS
        cfg["api"]["max_connections"] = std::max(1024, max_in_flight + 16);
        cfg["api"]["max_connections_per_client"] = 0;  // every connection comes from 127.0.0.1
        cfg["admin"]["bind"] = "127.0.0.1";
        cfg["admin"]["port"] = admin_port;
        cfg["general"]["log_level"] = "warn";
        cfg["sms"]["queue_limit"] = std::max(1000, std::max(burst, max_in_flight));
        if (max_queue_wait_s >= 0) cfg["sms"]["max_queue_wait_s"] = max_queue_wait_s;
        cfg["modems"] = json::array();
        for (int i = 0; i < modems; ++i) {
            cfg["modems"].push_back({{"id", "m" + std::to_string(i + 1)},
                                     {"name", "bench " + std::to_string(i + 1)},
                                     {"port", sims[static_cast<std::size_t>(i)]->port()},
                                     {"recipient_prefix", json::array()},
                                     {"default_modem", default_modem && i == 0},
                                     {"active", true},
                                     {"send_sms_from_api", true}});
        }
        const std::string config_path = work_dir + "/otppi.json";
        std::ofstream(config_path) << cfg.dump(2) << "\n";
        log = work_dir + "/daemon.log";
        if (run_to_end({daemon, "config-check", "--config", config_path}, log) != 0) die("config rejected, see " + log);

        const std::string password = random_password();
        if (run_to_end({daemon, "api-user", "add", "bench", "--config", config_path}, log, password + "\n") != 0)
            die("otppi api-user add failed, see " + log);
        auth = "Basic " + base64("bench:" + password);

        const auto daemon_exec = clock_type::now();
        g_daemon_pid = spawn({daemon, "--config", config_path}, log, std::nullopt);
        gateway_pids = {g_daemon_pid};
        ep = tcp::endpoint(net::ip::make_address_v4("127.0.0.1"), api_port);

        // Every modem connected, per get-modem-list (the first call also puts the
        // user in the daemon's auth cache, so the burst pays no scrypt).
        for (auto until = clock_type::now() + std::chrono::seconds(30); clock_type::now() < until;) {
            int status = 0;
            if (::waitpid(g_daemon_pid, &status, WNOHANG) == g_daemon_pid) {
                g_daemon_pid = 0;
                die("the daemon exited during start-up, see " + log);
            }
            if (auto j = call_body(ep, auth, "/api/modem", {{"command", "get-modem-list"}, {"data", json::object()}})) {
                if (j->value("response_code", "") == "1100") die("the daemon refused the API user");
                std::size_t connected = 0;
                if (j->contains("data") && (*j)["data"].contains("modem_list"))
                    for (const auto& [id, m] : (*j)["data"]["modem_list"].items())
                        if (m.value("connected", false)) ++connected;
                if (connected == static_cast<std::size_t>(modems)) {
                    ready_ms = ms_between(daemon_exec, clock_type::now());
                    break;
                }
            }
            std::this_thread::sleep_for(milliseconds(20));
        }
        if (ready_ms < 0) die("not every modem connected within 30 s, see " + log);
    } else {
        // ---- Kannel: the template filled in, one `at` SMSC per simulated modem
        std::ifstream in(kannel_config);
        std::string conf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const std::string begin_mark = "# BEGIN SMSC\n", end_mark = "# END SMSC\n";
        const auto b = conf.find(begin_mark), e = conf.find(end_mark);
        if (b == std::string::npos || e == std::string::npos || e < b) die(kannel_config + ": no '# BEGIN SMSC' ... '# END SMSC' block");
        const std::string block = conf.substr(b + begin_mark.size(), e - b - begin_mark.size());
        std::string smscs;
        for (int i = 0; i < modems; ++i) {
            std::string one = block;
            replace_all(one, "@SMSC_ID@", "m" + std::to_string(i + 1));
            replace_all(one, "@DEVICE@", sims[static_cast<std::size_t>(i)]->port());
            smscs += one + "\n";
        }
        conf = conf.substr(0, b) + smscs + conf.substr(e + end_mark.size());
        const unsigned short admin_port = free_port(), smsbox_port = free_port(), sendsms_port = free_port();
        const std::string admin_password = random_password();
        sendsms_password = random_password();
        replace_all(conf, "@ADMIN_PORT@", std::to_string(admin_port));
        replace_all(conf, "@ADMIN_PASSWORD@", admin_password);
        replace_all(conf, "@SMSBOX_PORT@", std::to_string(smsbox_port));
        replace_all(conf, "@SENDSMS_PORT@", std::to_string(sendsms_port));
        replace_all(conf, "@SENDSMS_PASSWORD@", sendsms_password);
        replace_all(conf, "@WORK_DIR@", work_dir);
        replace_all(conf, "@LOG_LEVEL@", std::to_string(kannel_log_level));
        for (auto at = conf.find('@'); at != std::string::npos; at = conf.find('@', at + 1)) {
            const auto end = conf.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_", at + 1);
            if (end != std::string::npos && end > at + 1 && conf[end] == '@') die(kannel_config + ": unknown field " + conf.substr(at, end + 1 - at));
        }
        const std::string config_path = work_dir + "/kannel.conf";
        std::ofstream(config_path) << conf;
        log = work_dir + "/bearerbox.log";
        for (const auto& bin : {bearerbox, smsbox})
            if (::access(bin.c_str(), X_OK) != 0) die(bin + " not found: apt-get install kannel (scripts/install-deps.sh --bench)");

        const auto kannel_exec = clock_type::now();
        g_bearerbox_pid = spawn({bearerbox, config_path}, work_dir + "/bearerbox.out", std::nullopt);
        const std::string status_target = "/status.txt?password=" + admin_password;
        auto count = [](const std::string& hay, const std::string& needle) {
            std::size_t n = 0;
            for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
            return n;
        };
        // Every SMSC online, then smsbox connected to bearerbox.
        bool smsbox_started = false;
        for (auto until = clock_type::now() + std::chrono::seconds(60); clock_type::now() < until;) {
            if (::waitpid(g_bearerbox_pid, nullptr, WNOHANG) == g_bearerbox_pid) {
                g_bearerbox_pid = 0;
                die("bearerbox exited during start-up, see " + work_dir + "/bearerbox.out and " + log);
            }
            if (auto st = http_get(admin_port, status_target)) {
                if (!smsbox_started && count(*st, "(online ") == static_cast<std::size_t>(modems)) {
                    g_smsbox_pid = spawn({smsbox, config_path}, work_dir + "/smsbox.out", std::nullopt);
                    smsbox_started = true;
                } else if (smsbox_started && st->find("smsbox:") != std::string::npos) {
                    ready_ms = ms_between(kannel_exec, clock_type::now());
                    break;
                }
            }
            std::this_thread::sleep_for(milliseconds(20));
        }
        if (ready_ms < 0) die("Kannel's SMSCs or smsbox did not come up within 60 s, see " + log);
        gateway_pids = {g_bearerbox_pid, g_smsbox_pid};
        ep = tcp::endpoint(net::ip::make_address_v4("127.0.0.1"), sendsms_port);
        // smsbox answers once its HTTP side is up; a request without receiver is refused, sends nothing.
        for (auto until = clock_type::now() + std::chrono::seconds(10); clock_type::now() < until;) {
            if (http_get(sendsms_port, "/cgi-bin/sendsms?username=bench&password=" + sendsms_password)) break;
            std::this_thread::sleep_for(milliseconds(20));
        }
    }
    // Bring-up done; let the last URCs and the first signal poll pass.
    std::this_thread::sleep_for(milliseconds(300));
    auto gateway_cpu = [&] {
        double s = 0;
        for (pid_t p : gateway_pids) s += cpu_seconds(p);
        return s;
    };

    std::string nonce;
    {
        std::random_device rd;
        nonce = std::to_string(rd() % 1000000);
    }
    // The request of one SMS to `num` (8 digits after 0812 / 62812).
    auto sms_request = [&](const std::string& num, const std::string& text) {
        if (kannel)
            return "/cgi-bin/sendsms?username=bench&password=" + sendsms_password + "&to=" + url_encode("+62812" + num) + "&text=" + url_encode(text);
        return json{{"command", "send-sms"}, {"data", {{"receiver", "0812" + num}, {"message", text}}}}.dump();
    };
    std::cout << "otppi SMS pipeline benchmark: " << (kannel ? "Kannel (" + bearerbox + ", " + smsbox + ", `at` driver)" : "daemon " + daemon)
              << "\n";
    std::cout << "modems: " << modems << " simulated SIM800L (in-process, ptys), send_delay " << send_delay_ms << " ms; limit "
              << (send_delay_ms > 0 ? fmt(modems * 1000.0 / send_delay_ms, 1) : std::string("-")) << " SMS/s; all " << modems
              << " connected " << fmt(ready_ms, 0) << " ms after exec (polled)\n\n";

    if (otp_mode) {
        // ------------------------------------------------------------ request-otp under load
        std::deque<exchange> exs;
        std::vector<std::string> receivers, references;
        const double cpu_before = gateway_cpu();
        const auto start = clock_type::now();
        const auto stop_at = start + std::chrono::seconds(otp_seconds);
        {
            net::io_context io;
            std::vector<std::shared_ptr<client_conn>> conns;
            for (int i = 0; i < otp_connections; ++i) conns.push_back(std::make_shared<client_conn>(io, ep, auth));
            int failed = 0;
            for (auto& c : conns)
                c->connect([&](beast::error_code ec) { failed += ec ? 1 : 0; });
            io.run();
            io.restart();
            if (failed) die(std::to_string(failed) + " of " + std::to_string(otp_connections) + " connections failed");
            std::function<void(std::size_t)> go = [&](std::size_t c) {
                if (clock_type::now() >= stop_at) return;
                const std::size_t k = exs.size();
                char num[32];
                std::snprintf(num, sizeof num, "%08zu", 30000000 + k);
                receivers.push_back("62813" + std::string(num));
                references.push_back("bench-" + nonce + "-" + std::to_string(k));
                exs.emplace_back();
                exs.back().body = json{{"command", "request-otp"}, {"data", {{"receiver", "0813" + std::string(num)}, {"reference", references.back()}}}}.dump();
                conns[c]->run(exs.back(), "/api/otp", std::chrono::seconds(reply_wait_s + 10), [&go, c] { go(c); });
            };
            for (std::size_t c = 0; c < conns.size(); ++c) go(c);
            io.run();
            for (auto& c : conns) c->close();
        }
        const auto end = clock_type::now();
        const double cpu_used = gateway_cpu() - cpu_before;
        std::this_thread::sleep_for(milliseconds(300));

        // Each OTP answered 0000 reached its receiver once; read it back and verify it.
        std::map<std::string, std::vector<std::string>> texts_to;
        {
            std::lock_guard lk(obs.mu);
            for (const auto& [text, e] : obs.by_text) texts_to[e.destination].push_back(text);
        }
        std::vector<std::string> problems;
        std::map<std::string, int> codes;
        std::vector<double> latency;
        std::vector<std::pair<std::size_t, std::string>> to_verify;
        clock_type::time_point last_ok = start;
        for (std::size_t k = 0; k < exs.size(); ++k) {
            const auto& ex = exs[k];
            const auto it = texts_to.find(receivers[k]);
            const std::size_t seen = it == texts_to.end() ? 0 : it->second.size();
            if (!ex.done || !ex.error.empty()) {
                problems.push_back("request " + std::to_string(k) + ": no reply (" + (ex.done ? ex.error : "timed out") + ")");
                continue;
            }
            ++codes[ex.response_code];
            if (ex.response_code != "0000") {
                if (seen) problems.push_back("request " + std::to_string(k) + ": answered " + ex.response_code + " but an SMS went out");
                continue;
            }
            latency.push_back(ms_between(ex.sent_at, ex.answered_at));
            last_ok = std::max(last_ok, ex.answered_at);
            if (seen != 1) {
                problems.push_back("request " + std::to_string(k) + ": answered 0000 but " + std::to_string(seen) + " SMS went out");
                continue;
            }
            const std::string& text = it->second.front();
            const auto digits_end = text.find_last_of("0123456789");
            const auto digits_begin = digits_end == std::string::npos ? std::string::npos : text.find_last_not_of("0123456789", digits_end);
            if (digits_end == std::string::npos) {
                problems.push_back("request " + std::to_string(k) + ": no code in the SMS");
                continue;
            }
            const std::size_t from = digits_begin == std::string::npos ? 0 : digits_begin + 1;
            to_verify.emplace_back(k, text.substr(from, digits_end + 1 - from));
        }
        std::size_t verified = 0;
        std::map<std::string, int> verify_codes;
        {
            net::io_context io;
            auto c = std::make_shared<client_conn>(io, ep, auth);
            bool ok = false;
            c->connect([&](beast::error_code ec) { ok = !ec; });
            io.run();
            io.restart();
            if (!ok) die("verify connection failed");
            std::vector<exchange> vex(to_verify.size());
            std::size_t i = 0;
            std::function<void()> go = [&] {
                if (i >= vex.size()) return;
                const auto& [k, code] = to_verify[i];
                vex[i].body = json{{"command", "verify-otp"},
                                   {"data", {{"receiver", "0813" + receivers[k].substr(5)}, {"reference", references[k]}, {"otp", code}}}}
                                  .dump();
                c->run(vex[i++], "/api/otp", std::chrono::seconds(30), go);
            };
            go();
            io.run();
            c->close();
            for (const auto& v : vex) {
                ++verify_codes[v.done && v.error.empty() ? v.response_code : "no reply"];
                if (v.response_code == "0000") ++verified;
            }
            if (verified != to_verify.size()) problems.push_back(std::to_string(to_verify.size() - verified) + " OTPs did not verify");
        }
        const double secs = std::max(1e-9, ms_between(start, last_ok) / 1000);
        const double rate = static_cast<double>(latency.size()) / secs;
        const double limit = send_delay_ms > 0 ? modems * 1000.0 / send_delay_ms : NAN;
        std::cout << "request-otp under load: " << otp_connections << " keep-alive connections, one request in flight each, for "
                  << otp_seconds << " s; distinct receivers; every reply waits for the SMS (+CMGS)\n\n";
        std::cout << "| | |\n|---|---:|\n";
        std::cout << "| requests / answered 0000 | " << exs.size() << " / " << latency.size() << " |\n";
        std::string code_list;
        for (const auto& [code, n] : codes) code_list += (code_list.empty() ? "" : ", ") + code + " x" + std::to_string(n);
        std::cout << "| reply codes | " << code_list << " |\n";
        std::cout << "| **request-otp/s** (0000 replies / first request to last 0000 reply) | **" << fmt(rate, 1) << "** |\n";
        std::cout << "| modems' nominal limit (N / send_delay) | " << (send_delay_ms > 0 ? fmt(limit, 0) + "/s, ratio " + fmt(rate / limit, 3) : "none (send_delay 0)") << " |\n";
        std::cout << "| reply time p50 / p90 / p99 / max | " << fmt(median(latency), 2) << " / " << fmt(percentile(latency, 90), 2) << " / "
                  << fmt(percentile(latency, 99), 2) << " / " << fmt(percentile(latency, 100), 2) << " ms |\n";
        std::cout << "| daemon CPU during the load | " << fmt(cpu_used, 2) << " s, " << fmt(100 * cpu_used / (ms_between(start, end) / 1000), 0)
                  << "% of one core |\n";
        std::cout << "| OTPs read from the simulators and verified (verify-otp 0000) | " << verified << " / " << to_verify.size() << " |\n\n";
        int exit_code = 0;
        if (!problems.empty()) {
            std::cout << "CORRECTNESS FAILED:\n";
            for (std::size_t i = 0; i < problems.size() && i < 20; ++i) std::cout << "  " << problems[i] << "\n";
            if (problems.size() > 20) std::cout << "  ... and " << problems.size() - 20 << " more\n";
            exit_code = 1;
        } else {
            std::cout << "correctness: every 0000 OTP reached its receiver exactly once and verified; no SMS for other replies\n";
        }
        std::cout << "run time: " << fmt(ms_between(run_started, clock_type::now()) / 1000, 1) << " s"
                  << (keep ? ", work directory " + work_dir + " kept" : "") << "\n";
        std::cout.flush();
        stop_daemon();
        sims.clear();
        cleanup_dir();
        return exit_code;
    }

    // ---------------------------------------------------------------- burst
    std::vector<exchange> burst_ex(static_cast<std::size_t>(burst));
    std::vector<std::string> burst_texts, burst_dest;
    for (int i = 0; i < burst; ++i) {
        char num[32];
        std::snprintf(num, sizeof num, "%08d", 10000000 + i);
        burst_texts.push_back("otppi bench " + nonce + " burst " + std::to_string(i));
        burst_dest.push_back("62812" + std::string(num));
        burst_ex[static_cast<std::size_t>(i)].body = sms_request(num, burst_texts.back());
    }
    const std::size_t sent_before_burst = total_sent();
    const double cpu_before_burst = gateway_cpu();
    clock_type::time_point burst_start{};
    {
        net::io_context io;
        std::vector<std::shared_ptr<client_conn>> conns;
        for (int i = 0; i < connections; ++i) conns.push_back(std::make_shared<client_conn>(io, ep, auth, kannel));
        // Connect all first, so that the burst is the requests only.
        int connected = 0, failed = 0;
        for (auto& c : conns)
            c->connect([&](beast::error_code ec) { ec ? ++failed : ++connected; });
        io.run();
        io.restart();
        if (failed) die(std::to_string(failed) + " of " + std::to_string(connections) + " connections failed");
        // Request k goes on connection k % connections; a connection sends its next one when answered.
        std::vector<std::size_t> next(conns.size());
        std::function<void(std::size_t)> go = [&](std::size_t c) {
            const std::size_t k = next[c] * conns.size() + c;
            if (k >= burst_ex.size()) return;
            ++next[c];
            conns[c]->run(burst_ex[k], "/api/sms", std::chrono::seconds(reply_wait_s + 10), [&go, c] { go(c); });
        };
        burst_start = clock_type::now();
        for (std::size_t c = 0; c < conns.size(); ++c) go(c);
        io.run();
        for (auto& c : conns) c->close();
    }
    const auto burst_replied = clock_type::now();
    if (kannel) {
        // Kannel accepted them before sending: wait for the simulators (a Kannel
        // modem takes seconds per message), until none came for 20 s.
        const auto accepted = static_cast<std::size_t>(
            std::count_if(burst_ex.begin(), burst_ex.end(), [](const exchange& e) { return e.response_code == "0000"; }));
        obs.wait_for_count(sent_before_burst + accepted, std::chrono::seconds(20));
        std::this_thread::sleep_for(milliseconds(1000));  // a message sent twice would show up here
    } else {
        // Replies come after +CMGS; a message the daemon sent but did not report would show up here.
        std::this_thread::sleep_for(milliseconds(std::max(300, send_delay_ms * 2)));
    }
    const std::size_t burst_sent = total_sent() - sent_before_burst;

    auto burst_problems = check_phase(burst_ex, burst_texts, burst_dest, obs, burst_sent);
    clock_type::time_point first_cmgs = clock_type::time_point::max(), last_cmgs{};
    std::vector<std::size_t> per_sim(sims.size());
    std::size_t first_sim = 0;       // the modem of the first +CMGS
    std::size_t first_req_sim = ~std::size_t{0};  // the modem of request 0's message
    std::size_t m1_in_first_40 = 0;  // of the first 40 requests' messages, those m1 sent
    // Per modem, +CMGS times in order: what each carried when (the routing view).
    std::vector<std::vector<clock_type::time_point>> sim_times(sims.size());
    {
        std::lock_guard lk(obs.mu);
        for (std::size_t k = 0; k < burst_texts.size(); ++k) {
            auto range = obs.by_text.equal_range(burst_texts[k]);
            for (auto it = range.first; it != range.second; ++it) {
                if (k == 0) first_req_sim = it->second.sim;
                if (k < 40 && it->second.sim == 0) ++m1_in_first_40;
                if (it->second.at < first_cmgs) first_sim = it->second.sim;
                first_cmgs = std::min(first_cmgs, it->second.at);
                last_cmgs = std::max(last_cmgs, it->second.at);
                ++per_sim[it->second.sim];
                sim_times[it->second.sim].push_back(it->second.at);
            }
        }
    }
    for (auto& v : sim_times) std::sort(v.begin(), v.end());
    // CPU of the gateway from the first request to now (the last +CMGS, plus the waits above, idle).
    const double burst_cpu = gateway_cpu() - cpu_before_burst;
    std::vector<double> burst_reply_ms;
    for (const auto& ex : burst_ex)
        if (ex.done && ex.error.empty()) burst_reply_ms.push_back(ms_between(ex.sent_at, ex.answered_at));
    const double makespan_ms = burst_sent ? ms_between(burst_start, last_cmgs) : NAN;
    const double limit_per_s = modems * 1000.0 / send_delay_ms;
    const double rate = burst_sent ? static_cast<double>(burst_sent) / (makespan_ms / 1000.0) : 0;
    const double ratio = rate / limit_per_s;
    // Per modem: its share of the burst would take (burst / N) x send_delay at the limit.
    const double per_msg_ms = makespan_ms / (static_cast<double>(burst) / modems);

    // ---------------------------------------------------------------- latency
    for (auto& s : sims) s->set_send_delay(milliseconds(0));
    std::this_thread::sleep_for(milliseconds(300));  // the burst's last delivery reports
    const int warmup = 2 * modems;
    std::vector<exchange> lat_ex(static_cast<std::size_t>(samples + warmup));
    std::vector<std::string> lat_texts, lat_dest;
    for (int i = 0; i < samples + warmup; ++i) {
        char num[32];
        std::snprintf(num, sizeof num, "%08d", 20000000 + i);
        lat_texts.push_back("otppi bench " + nonce + " latency " + std::to_string(i));
        lat_dest.push_back("62812" + std::string(num));
        lat_ex[static_cast<std::size_t>(i)].body = sms_request(num, lat_texts.back());
    }
    const std::size_t sent_before_latency = total_sent();
    {
        net::io_context io;
        auto c = std::make_shared<client_conn>(io, ep, auth, kannel);
        bool ok = false;
        c->connect([&](beast::error_code ec) { ok = !ec; });
        io.run();
        io.restart();
        if (!ok) die("latency connection failed");
        std::size_t k = 0;
        std::function<void()> go = [&] {
            // Kannel answers before sending: the next request waits until the last one reached its modem.
            if (kannel && k > 0 && lat_ex[k - 1].response_code == "0000") obs.wait_for_text(lat_texts[k - 1], std::chrono::seconds(30));
            if (k >= lat_ex.size()) return;
            auto& ex = lat_ex[k++];
            c->run(ex, "/api/sms", std::chrono::seconds(reply_wait_s + 10), go);
        };
        go();
        io.run();
        c->close();
    }
    std::this_thread::sleep_for(milliseconds(kannel ? 1000 : 100));
    const std::size_t lat_sent = total_sent() - sent_before_latency;
    auto lat_problems = check_phase(lat_ex, lat_texts, lat_dest, obs, lat_sent);
    std::vector<double> to_cmgs, to_reply, cmgs_to_reply;
    {
        std::lock_guard lk(obs.mu);
        for (std::size_t i = static_cast<std::size_t>(warmup); i < lat_ex.size(); ++i) {
            const auto& ex = lat_ex[i];
            if (!ex.done || !ex.error.empty()) continue;
            to_reply.push_back(ms_between(ex.sent_at, ex.answered_at));
            auto it = obs.by_text.find(lat_texts[i]);
            if (it == obs.by_text.end()) continue;
            to_cmgs.push_back(ms_between(ex.sent_at, it->second.at));
            cmgs_to_reply.push_back(ms_between(it->second.at, ex.answered_at));
        }
    }

    // ---------------------------------------------------------------- report
    const double total_s = ms_between(run_started, clock_type::now()) / 1000;
    std::cout << "Burst: " << burst << " send-sms at once on " << connections << " keep-alive connections"
              << (kannel ? " (Kannel: sendsms GETs, each answered at once, before its modem is used)" : "") << "\n\n";
    std::cout << "| | |\n|---|---:|\n";
    std::cout << "| sent (simulators) / " << (kannel ? "accepted replies" : "0000 replies") << " | " << burst_sent << " / "
              << std::count_if(burst_ex.begin(), burst_ex.end(), [](const exchange& e) { return e.response_code == "0000"; }) << " |\n";
    std::cout << "| per modem |";
    for (std::size_t i = 0; i < per_sim.size(); ++i) std::cout << (i ? " / " : " ") << per_sim[i];
    std::cout << " |\n";
    std::cout << "| first request -> first +CMGS | " << fmt(burst_sent ? ms_between(burst_start, first_cmgs) : NAN, 1) << " ms |\n";
    std::cout << "| first request -> last +CMGS | " << fmt(makespan_ms, 0) << " ms (at the limit: "
              << fmt(static_cast<double>(burst) / limit_per_s * 1000, 0) << " ms) |\n";
    std::cout << "| first request -> last reply | " << fmt(ms_between(burst_start, burst_replied), 0) << " ms |\n";
    std::cout << "| reply time p50 / p99 / max | " << fmt(median(burst_reply_ms), kannel ? 1 : 0) << " / "
              << fmt(percentile(burst_reply_ms, 99), kannel ? 1 : 0) << " / " << fmt(percentile(burst_reply_ms, 100), kannel ? 1 : 0)
              << " ms |\n";
    std::cout << "| time per message per modem | " << fmt(per_msg_ms, 1) << " ms (send_delay " << send_delay_ms << " ms, added "
              << fmt(per_msg_ms - send_delay_ms, 1) << " ms) |\n";
    std::cout << "| " << gateway_name << " CPU, first request to last +CMGS and after | " << fmt(burst_cpu, 2) << " s |\n";
    const int wait_bound_s = max_queue_wait_s >= 0 ? max_queue_wait_s : 10;
    if (default_modem) {
        std::cout << "| modem of the first request's message / of the first +CMGS | m" << first_req_sim + 1 << " / m" << first_sim + 1
                  << " |\n";
        std::cout << "| of the first 40 requests' messages, sent by m1 | " << m1_in_first_40 << " |\n";
        std::cout << "| per modem, first / last +CMGS (ms after the first request) |";
        for (std::size_t i = 0; i < sim_times.size(); ++i) {
            std::cout << (i ? " / " : " ") << "m" << i + 1 << " ";
            if (sim_times[i].empty())
                std::cout << "-";
            else
                std::cout << fmt(ms_between(burst_start, sim_times[i].front()), 0) << "-" << fmt(ms_between(burst_start, sim_times[i].back()), 0);
        }
        std::cout << " |\n";
        const auto bound = burst_start + std::chrono::seconds(wait_bound_s);
        std::cout << "| sent by m1 within the wait bound (" << wait_bound_s << " s) | "
                  << std::count_if(sim_times[0].begin(), sim_times[0].end(), [&](auto t) { return t <= bound; }) << " |\n";
    }
    std::cout << "| **throughput** | **" << fmt(rate, 2) << " SMS/s** |\n";
    std::cout << "| **vs limit (" << fmt(limit_per_s, 0) << "/s)** | **" << fmt(ratio, 3) << "** |\n\n";

    std::cout << "Latency on idle modems: send_delay 0, " << samples << " sequential send-sms on one keep-alive connection (after "
              << warmup << " warm-up requests" << (kannel ? "; each sent once the one before reached its modem" : "") << ")\n\n";
    std::cout << "| ms | median | p90 | p99 | max |\n|---|---:|---:|---:|---:|\n";
    auto row = [](const char* name, const std::vector<double>& v) {
        std::cout << "| " << name << " | " << fmt(median(v), 2) << " | " << fmt(percentile(v, 90), 2) << " | " << fmt(percentile(v, 99), 2)
                  << " | " << fmt(percentile(v, 100), 2) << " |\n";
    };
    row("request -> +CMGS seen by the simulator (bounds request -> AT+CMGS)", to_cmgs);
    if (kannel) {
        row("request -> HTTP reply (sent before the modem is used)", to_reply);
    } else {
        row("+CMGS -> HTTP reply", cmgs_to_reply);
        row("request -> HTTP reply", to_reply);
    }
    std::cout << "\n";

    int exit_code = 0;
    std::vector<std::string> problems;
    for (auto& p : burst_problems) problems.push_back("burst: " + p);
    for (auto& p : lat_problems) problems.push_back("latency: " + p);
    if (!problems.empty()) {
        std::cout << "CORRECTNESS FAILED:\n";
        for (std::size_t i = 0; i < problems.size() && i < 20; ++i) std::cout << "  " << problems[i] << "\n";
        if (problems.size() > 20) std::cout << "  ... and " << problems.size() - 20 << " more\n";
        exit_code = 1;
    } else {
        std::cout << "correctness: every request answered " << (kannel ? "\"0: Accepted\"" : "0000")
                  << ", every message sent exactly once, to its receiver (" << burst_sent + lat_sent << " messages)\n";
    }
    const bool burst_ok = ratio >= target_ratio;
    const double med = median(to_cmgs);
    const bool latency_ok = med <= target_median_ms;
    std::cout << "burst target (>= " << fmt(target_ratio, 2) << " of " << fmt(limit_per_s, 0) << " SMS/s): " << (burst_ok ? "PASS" : "FAIL")
              << " (" << fmt(ratio, 3) << ")\n";
    std::cout << "latency target (median request -> +CMGS <= " << fmt(target_median_ms, 1) << " ms): " << (latency_ok ? "PASS" : "FAIL")
              << " (" << fmt(med, 2) << " ms)\n";
    bool routing_ok = true;
    if (default_modem) {
        const double limit_ms = (wait_bound_s + routing_slack_s) * 1000;
        routing_ok = burst_sent > 0 && first_req_sim == 0 && makespan_ms <= limit_ms;
        std::cout << "routing target (the first request's message on the default modem m1, the last +CMGS within " << wait_bound_s << " s + "
                  << fmt(routing_slack_s, 1) << " s): " << (routing_ok ? "PASS" : "FAIL") << " (m" << first_req_sim + 1 << ", "
                  << fmt(makespan_ms, 0) << " ms)\n";
    }
    std::cout << "run time: " << fmt(total_s, 1) << " s" << (keep ? ", work directory " + work_dir + " kept" : "") << "\n";
    std::cout.flush();

    stop_daemon();
    sims.clear();
    cleanup_dir();
    if (exit_code == 0 && !(burst_ok && latency_ok && routing_ok)) exit_code = 3;
    return exit_code;
}
