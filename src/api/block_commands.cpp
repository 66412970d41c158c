// Block list changes shared by the REST commands (block-msisdn,
// unblock-msisdn) and the admin API: rate limit, size bound, journal.
#include "otppi/api/service.hpp"

#include "otppi/core/log.hpp"
#include "otppi/otp/throttle.hpp"

#include <spdlog/spdlog.h>

namespace otppi::api {

namespace {
std::uint64_t actor_key(const std::string& actor) {
    // FNV-1a, as for the per-user limit: collisions would only share a budget.
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : actor) h = (h ^ c) * 1099511628211ULL;
    return h;
}
}  // namespace

void service::set_blocked(const std::string& actor, const std::string& msisdn, bool block, std::function<void(block_outcome)> done) {
    auto answer = [this, &done](block_outcome o) { deps_.post([done = std::move(done), o = std::move(o)]() mutable { done(std::move(o)); }); };
    // Built here rather than in the constructor so a reload that changes the
    // limit takes effect at the next change (and only then resets the windows).
    const auto limit = static_cast<std::uint32_t>(cfg_.api.block_rate_limit_per_minute);
    if (!block_limit_ || block_limit_->limit() != limit)
        block_limit_ = std::make_unique<otp::sliding_window_throttle>(limit, std::chrono::minutes(1), deps_.clock.now());
    if (!block_limit_->try_acquire(actor_key(actor), deps_.clock.now()))
        return answer({block_outcome::status::rate_limited,
                       "more than " + std::to_string(limit) + " block list changes in a minute (api.block_rate_limit_per_minute); try again later"});
    blocks_.set_max_entries(cfg_.api.block_list_max_entries);
    auto on_disk = [done](std::string err) mutable {
        if (!err.empty()) {
            spdlog::error("block list change not saved: {}", err);
            return done({block_outcome::status::failed, std::move(err)});
        }
        done({block_outcome::status::changed, {}});
    };
    const auto result = block ? blocks_.add(msisdn, std::move(on_disk)) : blocks_.remove(msisdn, std::move(on_disk));
    switch (result) {
    case block_list::change::applied:
        spdlog::info("{} {} {}", actor, block ? "blocked" : "unblocked", core::mask_msisdn(msisdn));
        return;  // on_disk answers
    case block_list::change::unchanged: return answer({block_outcome::status::unchanged, {}});
    case block_list::change::invalid: return answer({block_outcome::status::failed, "not a phone number"});
    case block_list::change::full:
        spdlog::warn("block list: {} refused, the list is full ({} entries)", block ? "block" : "unblock", blocks_.size());
        return answer({block_outcome::status::full,
                       blocks_.size() >= blocks_.max_entries()
                           ? "the block list is full (" + std::to_string(blocks_.max_entries()) + " numbers, api.block_list_max_entries)"
                           : std::string("the block list journal cannot be compacted; see the log")});
    }
}

}  // namespace otppi::api
