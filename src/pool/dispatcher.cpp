#include "otppi/pool/dispatcher.hpp"

#include "otppi/core/log.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace otppi::pool {

dispatcher::dispatcher(const core::Clock& clock, post_fn post, schedule_fn schedule, std::size_t max_queue)
    : clock_(clock), post_(std::move(post)), schedule_(std::move(schedule)), max_queue_(max_queue) {}

dispatcher::~dispatcher() {
    *alive_ = false;
    if (cancel_expiry_) cancel_expiry_();
    if (cancel_recheck_) cancel_recheck_();
}

namespace {
// Weight of the newest sample in a modem's send-time average: a few sends
// follow a change (a slower network, a multi-part burst) without one outlier
// swinging the routing.
constexpr double send_time_alpha = 0.25;
// A send answered within the clock's resolution (a simulated modem with no
// delay) still costs something: a zero would make a modem's pace infinite
// and the estimate NaN.
constexpr double min_send_seconds = 0.001;
}  // namespace

double dispatcher::seconds_per_send(const member* m) const {
    if (auto it = send_seconds_.find(m->id()); it != send_seconds_.end()) return std::max(it->second, min_send_seconds);
    // Not measured yet: like the modems that are (same hardware, usually),
    // else a cautious guess that lets a burst overflow early rather than late.
    if (send_seconds_.empty()) return std::chrono::duration<double>(default_send_time).count();
    double sum = 0;
    for (const auto& [id, s] : send_seconds_) sum += s;
    return std::max(sum / static_cast<double>(send_seconds_.size()), min_send_seconds);
}

std::chrono::milliseconds dispatcher::send_time(const std::string& id) const {
    auto it = send_seconds_.find(id);
    if (it == send_seconds_.end()) return default_send_time;
    return std::chrono::milliseconds(static_cast<std::int64_t>(it->second * 1000.0));
}

void dispatcher::add_member(member* m) { members_[m->id()] = m; }

void dispatcher::remove_member(const std::string& id) { members_.erase(id); }

bool dispatcher::expired(const job& j) const { return j.msg.expires_unix > 0 && clock_.unix_seconds() >= j.msg.expires_unix; }

std::size_t dispatcher::queued_for(const std::string& id) const {
    std::size_t n = 0;
    for (const auto& j : queue_) {
        for (const auto& tier : j->tiers) {
            bool any_left = false;
            bool has = false;
            for (const auto& mid : tier) {
                if (j->tried.count(mid)) continue;
                auto it = members_.find(mid);
                if (it != members_.end() && (it->second->usable() || it->second->coming_up())) any_left = true;
                if (mid == id) has = true;
            }
            if (any_left) {
                if (has) ++n;
                break;
            }
        }
    }
    return n;
}

dispatcher::pick dispatcher::choose(const job& j, claims_t& claims, member*& out, bool& overflow,
                                    core::Clock::time_point& next_check) const {
    out = nullptr;
    overflow = false;
    // The tiers as this message sees them: usable modems it has not failed on.
    // A tier with none is skipped; a modem still coming up is only waited for
    // when no tier has a usable modem at all.
    std::vector<std::vector<member*>> levels;
    bool worth_waiting = false;
    for (const auto& tier : j.tiers) {
        std::vector<member*> level;
        for (const auto& id : tier) {
            if (j.tried.count(id)) continue;
            auto it = members_.find(id);
            if (it == members_.end()) continue;
            if (it->second->usable())
                level.push_back(it->second);
            else if (it->second->coming_up())
                worth_waiting = true;
        }
        if (!level.empty()) levels.push_back(std::move(level));
    }
    if (levels.empty()) return worth_waiting ? pick::wait : pick::none;

    // How long this message may still wait for cheaper modems. Its own
    // expiration is not part of it: a message that expires while waiting is
    // dropped (pump), as a message that no modem could take in time.
    const auto now = clock_.now();
    const double budget = std::chrono::duration<double>(max_wait_ - (now - j.queued_at)).count();

    double ahead = 0, rate = 0;
    for (std::size_t k = 0; k < levels.size(); ++k) {
        for (member* m : levels[k]) {
            if (m->idle()) {
                out = m;
                overflow = k > 0;
                return pick::send;
            }
        }
        // Every modem up to tier k is busy: each in-flight send and each
        // message ahead costs one send time, shared by the modems' combined rate.
        for (member* m : levels[k]) {
            ahead += claims[m] + 1.0;
            rate += 1.0 / seconds_per_send(m);
        }
        const double estimate = ahead / rate;
        const bool last = k + 1 == levels.size();
        if (estimate > budget && !last) continue;
        // Wait on tiers 0..k; the message's share of their work goes to each
        // modem in proportion to its speed.
        for (std::size_t l = 0; l <= k; ++l)
            for (member* m : levels[l]) claims[m] += (1.0 / seconds_per_send(m)) / rate;
        if (!last) {
            // With nothing else happening, the estimate holds and the budget
            // shrinks: look again just after they cross.
            const auto slack = std::chrono::duration<double>(budget - estimate) + std::chrono::milliseconds(1);
            next_check = std::min(next_check, now + std::chrono::ceil<core::Clock::duration>(slack));
        }
        return pick::wait;
    }
    return pick::wait;  // not reached: the last level always decides
}

void dispatcher::submit(api::outgoing_sms msg, tiers_t tiers, std::function<void(api::send_result)> done) {
    ++stats_.submitted;
    auto j = std::make_shared<job>();
    j->id = next_id_++;
    j->msg = std::move(msg);
    j->tiers = std::move(tiers);
    j->done = std::move(done);
    j->queued_at = clock_.now();
    if (j->tiers.empty()) {
        api::send_result r;
        r.status = api::send_status::no_modem;
        r.error = "no modem takes API traffic: check that a modem is active with send_sms_from_api on";
        return finish(j, r);
    }
    if (expired(*j)) {
        api::send_result r;
        r.status = api::send_status::expired;
        r.error = "expired before it could be sent";
        return finish(j, r);
    }
    if (queue_.size() >= max_queue_) {
        ++stats_.rejected_full;
        api::send_result r;
        r.status = api::send_status::queue_full;
        r.error = "send queue full (" + std::to_string(max_queue_) + " messages waiting)";
        return finish(j, r);
    }
    queue_.push_back(std::move(j));
    pump();
    arm_expiry();
}

void dispatcher::pump() {
    claims_t claims;
    auto next_check = core::Clock::time_point::max();
    for (auto it = queue_.begin(); it != queue_.end();) {
        const job_ptr& j = *it;
        if (expired(*j)) {
            auto dead = j;
            it = queue_.erase(it);
            ++stats_.expired;
            api::send_result r;
            r.status = api::send_status::expired;
            r.error = "expired while waiting for a modem: dropped, not sent late";
            finish(dead, r);
            continue;
        }
        member* m = nullptr;
        bool overflow = false;
        switch (choose(*j, claims, m, overflow, next_check)) {
        case pick::send: {
            if (overflow) {
                ++stats_.overflowed;
                spdlog::debug("pool: {} goes to {}: the cheaper modems are busy past sms.max_queue_wait_s", core::mask_msisdn(j->msg.receiver),
                              m->id());
            }
            auto job = j;
            it = queue_.erase(it);
            dispatch(std::move(job), m);
            break;
        }
        case pick::wait: ++it; break;
        case pick::none: {
            auto dead = j;
            it = queue_.erase(it);
            api::send_result r;
            r.status = dead->tried.empty() ? api::send_status::no_modem : api::send_status::failed;
            r.error = dead->tried.empty() ? "no modem available: disconnected, out of rotation, or at its daily cap"
                                          : "every eligible modem failed to send it (last: " + dead->last_error + ")";
            finish(dead, r);
            break;
        }
        }
    }
    if (next_check != core::Clock::time_point::max()) arm_recheck(next_check);
}

void dispatcher::arm_recheck(core::Clock::time_point at) {
    // One timer, at the earliest moment a waiting message's bound runs out; a
    // later one already armed is replaced, an earlier one kept (a pump too
    // many costs nothing).
    if (cancel_recheck_ && recheck_at_ <= at) return;
    if (cancel_recheck_) cancel_recheck_();
    recheck_at_ = at;
    const auto delay = std::max(core::Clock::duration::zero(), at - clock_.now());
    std::weak_ptr<bool> alive = alive_;
    cancel_recheck_ = schedule_(std::chrono::duration_cast<std::chrono::milliseconds>(delay), [this, alive] {
        if (alive.expired()) return;
        cancel_recheck_ = nullptr;
        pump();
    });
}

void dispatcher::dispatch(job_ptr j, member* m) {
    ++in_flight_;
    const std::string modem_id = m->id();
    const auto started = clock_.now();
    std::weak_ptr<bool> alive = alive_;
    m->send(j->msg, [this, alive, j, modem_id, started](member_result res) {
        if (alive.expired()) return;
        --in_flight_;
        // Learn the modem's pace from its answers. A quick failure says
        // nothing about how long a send takes, so it is left out; a slow one
        // (a timeout) is what the modem costs and counts.
        const double took = std::chrono::duration<double>(clock_.now() - started).count();
        if (auto it = send_seconds_.find(modem_id); it == send_seconds_.end()) {
            if (res.ok) send_seconds_[modem_id] = took;
        } else if (res.ok || took > it->second) {
            it->second += send_time_alpha * (took - it->second);
        }
        api::send_result r;
        r.modem_id = modem_id;
        r.parts = res.parts;
        r.message_reference = res.message_reference;
        if (res.ok) {
            r.status = api::send_status::sent;
            finish(j, r);
            pump();
            return;
        }
        // Never resent once a modem may have taken it: a duplicate OTP SMS
        // costs money and confuses the user more than a clear failure.
        if (res.parts_accepted > 0 || res.failure == member_result::kind::maybe_sent) {
            r.status = api::send_status::failed;
            r.error = res.parts_accepted > 0 ? "modem " + modem_id + " sent " + std::to_string(res.parts_accepted) + " of " +
                                                   std::to_string(res.parts) + " parts, then failed: " + res.error + " (not resent)"
                                             : "modem " + modem_id + " may have sent it (" + res.error + "): not resent";
            finish(j, r);
            pump();
            return;
        }
        if (res.failure == member_result::kind::permanent) {
            r.status = api::send_status::failed;
            r.error = res.error;
            finish(j, r);
            pump();
            return;
        }
        // Retryable here: try the next eligible modem.
        j->tried.insert(modem_id);
        j->last_error = modem_id + ": " + res.error;
        ++j->retries;
        ++stats_.retried;
        ++retried_from_[modem_id];
        spdlog::info("pool: {} failed on {} ({}); trying another modem", core::mask_msisdn(j->msg.receiver), modem_id, res.error);
        queue_.push_front(j);
        pump();
    });
}

void dispatcher::finish(const job_ptr& j, api::send_result r) {
    if (r.status == api::send_status::sent)
        ++stats_.sent;
    else if (r.status != api::send_status::expired && r.status != api::send_status::queue_full)
        ++stats_.failed;
    // Wipe the text (it may carry an OTP) as soon as nobody needs it.
    j->msg.text.clear();
    auto done = std::move(j->done);
    j->done = nullptr;
    if (done) post_([done = std::move(done), r = std::move(r)] { done(r); });
}

void dispatcher::fail_queued(const std::string& why) {
    auto jobs = std::move(queue_);
    queue_.clear();
    for (auto& j : jobs) {
        api::send_result r;
        r.status = api::send_status::failed;
        r.error = why;
        finish(j, r);
    }
}

void dispatcher::arm_expiry() {
    // One timer at the earliest expiration among queued messages.
    std::int64_t earliest = 0;
    for (const auto& j : queue_)
        if (j->msg.expires_unix > 0 && (earliest == 0 || j->msg.expires_unix < earliest)) earliest = j->msg.expires_unix;
    if (earliest == 0 || earliest == expiry_armed_for_) return;
    if (cancel_expiry_) cancel_expiry_();
    expiry_armed_for_ = earliest;
    const auto delay = std::chrono::seconds(std::max<std::int64_t>(0, earliest - clock_.unix_seconds()));
    std::weak_ptr<bool> alive = alive_;
    cancel_expiry_ = schedule_(std::chrono::duration_cast<std::chrono::milliseconds>(delay), [this, alive] {
        if (alive.expired()) return;
        cancel_expiry_ = nullptr;
        expiry_armed_for_ = 0;
        pump();
        arm_expiry();
    });
}

}  // namespace otppi::pool
