#include "otppi/pool/dispatcher.hpp"

#include "otppi/core/log.hpp"

#include <spdlog/spdlog.h>

namespace otppi::pool {

dispatcher::dispatcher(const core::Clock& clock, post_fn post, schedule_fn schedule, std::size_t max_queue)
    : clock_(clock), post_(std::move(post)), schedule_(std::move(schedule)), max_queue_(max_queue) {}

dispatcher::~dispatcher() {
    *alive_ = false;
    if (cancel_expiry_) cancel_expiry_();
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

dispatcher::pick dispatcher::choose(const job& j, member*& out) const {
    out = nullptr;
    bool worth_waiting = false;
    for (const auto& tier : j.tiers) {
        bool tier_has_usable = false;
        for (const auto& id : tier) {
            if (j.tried.count(id)) continue;
            auto it = members_.find(id);
            if (it == members_.end()) continue;
            member* m = it->second;
            if (m->usable()) {
                tier_has_usable = true;
                if (m->idle()) {
                    out = m;
                    return pick::send;
                }
            } else if (m->coming_up()) {
                worth_waiting = true;
            }
        }
        // Busy modems of this tier are waited for; the next tier is only
        // for when this one has nobody left who could send.
        if (tier_has_usable) return pick::wait;
    }
    return worth_waiting ? pick::wait : pick::none;
}

void dispatcher::submit(api::outgoing_sms msg, tiers_t tiers, std::function<void(api::send_result)> done) {
    ++stats_.submitted;
    auto j = std::make_shared<job>();
    j->id = next_id_++;
    j->msg = std::move(msg);
    j->tiers = std::move(tiers);
    j->done = std::move(done);
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
        switch (choose(*j, m)) {
        case pick::send: {
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
}

void dispatcher::dispatch(job_ptr j, member* m) {
    ++in_flight_;
    const std::string modem_id = m->id();
    std::weak_ptr<bool> alive = alive_;
    m->send(j->msg, [this, alive, j, modem_id](member_result res) {
        if (alive.expired()) return;
        --in_flight_;
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
