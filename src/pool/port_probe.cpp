#include "otppi/pool/port_probe.hpp"

#include "otppi/modem/at_commands.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <glob.h>
#include <memory>

namespace otppi::pool {

std::vector<std::string> candidate_ports(const std::vector<std::string>& patterns) {
    std::vector<std::string> out;
    for (const auto& pattern : patterns) {
        glob_t g{};
        if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
            for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
        ::globfree(&g);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

void probe_imei(boost::asio::io_context& ioc, const modem::serial_settings& settings, std::chrono::milliseconds timeout,
                std::function<void(std::string)> done) {
    auto channel = std::make_shared<modem::serial_channel>(ioc, modem::channel_options{{}, 4096, "probe"});
    auto finish = std::make_shared<std::function<void(std::string)>>(std::move(done));
    auto answer = [&ioc, channel, finish](std::string imei) {
        if (!*finish) return;
        auto cb = std::move(*finish);
        *finish = nullptr;
        channel->on_close(nullptr);  // drop the handler: it holds the channel
        channel->close();
        boost::asio::post(ioc, [cb = std::move(cb), imei = std::move(imei), channel] { cb(imei); });
    };
    channel->on_close([answer](modem::channel_close_reason, const std::string&) { answer({}); });
    if (!channel->open(settings).empty()) return answer({});
    auto echo_off = channel->submit(modem::make_command("ATE0", timeout), [](const modem::at_result&) {});
    auto imei = channel->submit(modem::make_command("AT+CGSN", timeout), [answer](const modem::at_result& r) {
        auto parsed = r.ok() ? modem::parse_imei(r.lines) : std::nullopt;
        answer(parsed.value_or(std::string()));
    });
    if (!echo_off || !imei) answer({});
}

}  // namespace otppi::pool
