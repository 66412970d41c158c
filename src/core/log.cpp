#include "otppi/core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace otppi::core {

namespace {
std::optional<spdlog::level::level_enum> parse_level(std::string_view level) {
    if (level == "trace") return spdlog::level::trace;
    if (level == "debug") return spdlog::level::debug;
    if (level == "info") return spdlog::level::info;
    if (level == "warn") return spdlog::level::warn;
    if (level == "error") return spdlog::level::err;
    if (level == "critical") return spdlog::level::critical;
    if (level == "off") return spdlog::level::off;
    return std::nullopt;
}
}  // namespace

bool is_valid_log_level(std::string_view level) { return parse_level(level).has_value(); }

bool init_logging(std::string_view level) {
    auto parsed = parse_level(level);
    if (!parsed) return false;
    auto logger = spdlog::stderr_color_mt("otppi");
    // journald adds its own timestamps; under a terminal we want ours.
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
    logger->set_level(*parsed);
    spdlog::set_default_logger(logger);
    return true;
}

bool set_log_level(std::string_view level) {
    auto parsed = parse_level(level);
    if (!parsed) return false;
    spdlog::set_level(*parsed);
    return true;
}

std::string mask_msisdn(std::string_view msisdn) {
    if (msisdn.size() <= 6) return std::string(msisdn.size(), '*');
    const std::size_t head = msisdn.size() >= 10 ? 5 : 2;
    const std::size_t tail = 3;
    std::string out(msisdn.substr(0, head));
    out.append(msisdn.size() - head - tail, '*');
    out.append(msisdn.substr(msisdn.size() - tail));
    return out;
}

}  // namespace otppi::core
