// otppi-modem-sim: a simulated SIM800L on a pseudo-terminal, for trying the
// daemon without modem hardware. Prints the port path (one line on stdout),
// then runs until SIGTERM/SIGINT. Logs each SMS on stderr with the number
// masked and never the text: the text is a one-time password. --show-sms
// instead plays the receiving phone for a demo (scripts/run.sh): number and
// text of each SMS on one line, so a developer can read the OTP off the
// terminal and try verify-otp.
#include "otppi/sim/modem_simulator.hpp"

#include <pthread.h>
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace {

// The text on one terminal line: line breaks and other control characters as escapes.
std::string one_line(const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
        if (c == '\n') {
            out += "\\n";
        } else if (c < 0x20 || c == 0x7F) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xF];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"Simulated GSM modem (SIMCom SIM800L) on a pseudo-terminal"};
    otppi::sim::sim_options opts;
    int send_delay_ms = static_cast<int>(opts.send_delay.count());
    bool quiet = false;
    std::vector<std::string> ussd;
    std::vector<std::string> incoming;
    cli.add_option("--link", opts.link, "Also make this symlink to the pty (a stable port name)");
    cli.add_option("--send-delay-ms", send_delay_ms, "Time from the PDU to +CMGS")->check(CLI::Range(0, 600000));
    cli.add_option("--pin", opts.pin, "SIM PIN to require (default: SIM not locked)")->check([](const std::string& s) {
        if (s.size() < 4 || s.size() > 8 || s.find_first_not_of("0123456789") != std::string::npos) return std::string("4 to 8 digits");
        return std::string();
    });
    cli.add_option("--imei", opts.imei, "IMEI reported by AT+CGSN")->check([](const std::string& s) {
        if (s.size() != 15 || s.find_first_not_of("0123456789") != std::string::npos) return std::string("15 digits");
        return std::string();
    });
    cli.add_option("--ussd", ussd, "USSD answer as CODE=TEXT (repeatable), e.g. '*888#=Pulsa Rp 10.000'");
    cli.add_option("--incoming", incoming, "SMS waiting on the SIM at start as FROM=TEXT (repeatable), e.g. '+6281234567890=Hello'");
    bool show_sms = false;
    auto* quiet_flag = cli.add_flag("--quiet", quiet, "Do not log sent messages");
    cli.add_flag("--show-sms", show_sms, "Print each SMS as the phone gets it: number and text (demo only: the text may be an OTP)")
        ->excludes(quiet_flag);
    cli.add_flag("--text-only", opts.text_only, "A modem without PDU mode: AT+CMGF=0 answers ERROR (try modems[].sms_mode \"auto\")");
    CLI11_PARSE(cli, argc, argv);
    opts.send_delay = std::chrono::milliseconds(send_delay_ms);

    // Blocked before the simulator's thread starts, so only sigwait() below sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    try {
        otppi::sim::modem_simulator sim(opts);
        // "KEY=TEXT" → (KEY, TEXT); KEY may not be empty.
        auto split = [](const std::string& entry) -> std::optional<std::pair<std::string, std::string>> {
            auto eq = entry.find('=');
            if (eq == std::string::npos || eq == 0) return std::nullopt;
            return std::pair{entry.substr(0, eq), entry.substr(eq + 1)};
        };
        for (const auto& entry : ussd) {
            auto kv = split(entry);
            if (!kv) {
                std::cerr << "otppi-modem-sim: --ussd wants CODE=TEXT, got '" << entry << "'\n";
                return 2;
            }
            sim.set_ussd_reply(kv->first, kv->second);
        }
        // Stored on the SIM before the daemon connects: it reads them with AT+CMGL once ready.
        for (const auto& entry : incoming) {
            auto kv = split(entry);
            if (!kv) {
                std::cerr << "otppi-modem-sim: --incoming wants FROM=TEXT, got '" << entry << "'\n";
                return 2;
            }
            sim.deliver_sms(kv->first, kv->second);
        }
        if (show_sms) {
            sim.on_sent([](const otppi::sim::sent_sms& s) {
                std::string line = "sim: SMS to " + s.destination + ": " + one_line(s.text) + "\n";
                std::fputs(line.c_str(), stderr);
            });
        } else if (!quiet) {
            sim.on_sent([](const otppi::sim::sent_sms& s) {
                std::string line =
                    "sim: SMS to " + otppi::sim::detail::mask_number(s.destination) + " (" + std::to_string(s.parts) + " parts)\n";
                std::fputs(line.c_str(), stderr);
            });
        }
        std::cout << sim.port() << std::endl;
        int sig = 0;
        sigwait(&stop_signals, &sig);
    } catch (const std::exception& e) {
        std::cerr << "otppi-modem-sim: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
