// Assigns queued messages to modems: the policy half of the modem pool, with
// the modems behind a small interface so the policy is testable on its own.
//
// Contract:
//  - submit() takes a message with its tiers (from routing_table, or one
//    modem for a manual send) and answers exactly once, later, through the
//    message's callback; never from inside submit().
//  - A message is handed to an idle, usable modem of the first tier that has
//    a usable modem it has not failed on yet. While that tier's modems are
//    busy, it waits for them (FIFO) rather than skipping to a costlier tier,
//    but only as long as the wait stays within max_queue_wait: see "Bounded
//    wait" below. A message never waits
//    while an eligible modem of its tier is idle.
//  - Bounded wait: the dispatcher measures each modem's send time (an EWMA
//    from hand-over to answer) and estimates a waiting message's queue wait
//    on the modems of tiers 0..k as
//        (messages ahead of it on those modems + sends in flight there)
//        / (sum of 1 / send time over those modems).
//    It waits on the cheapest k whose estimate plus the time it has already
//    queued fits the bound; past the bound on every k it may use every tier.
//    A message allowed to use tier k may still take any cheaper modem that
//    frees up first, so the cheap modems keep working through the burst.
//    The estimate is re-made at every pump (the queue only ever shrinks in
//    front of a message), and a timer pumps when a waiting message's bound
//    runs out with nothing else happening.
//  - Retryable failures and "take this modem out" move the message on to the
//    next untried modem (same tier first). A modem that may already have
//    accepted the message (parts accepted, or no answer after the PDU went
//    out) is never asked again and no other modem resends it: the message is
//    reported failed with the reason. Permanent failures are final.
//  - Past its expiration a message is dropped (expired), never sent late.
//  - The queue is bounded; a full queue answers queue_full at once.
//  - When no modem of any tier is usable or coming up, the message fails
//    at once with no_modem (a truthful answer beats a long wait).
// Thread-safety: everything on the owner's (io) thread.
#pragma once

#include "otppi/pool/sms_gateway.hpp"
#include "otppi/core/clock.hpp"
#include "otppi/core/scheduler.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace otppi::pool {

struct member_result {
    enum class kind { none, retry_elsewhere, permanent, take_out, maybe_sent };
    bool ok = false;
    int message_reference = -1;
    int parts = 0;
    int parts_accepted = 0;
    kind failure = kind::none;
    std::string error;
};

// One modem as the dispatcher sees it.
class member {
public:
    virtual ~member() = default;
    virtual const std::string& id() const = 0;
    virtual bool usable() const = 0;     // ready, not taken out, under its caps
    virtual bool coming_up() const = 0;  // opening or initialising: worth waiting for
    virtual bool idle() const = 0;       // no send in flight
    virtual void send(const api::outgoing_sms& msg, std::function<void(member_result)> done) = 0;
};

struct dispatcher_stats {
    std::uint64_t submitted = 0, sent = 0, failed = 0, retried = 0, expired = 0, rejected_full = 0;
    // Handed to a modem of a costlier tier because the cheaper ones were busy past the wait bound.
    std::uint64_t overflowed = 0;
};

class dispatcher {
public:
    using tiers_t = std::vector<std::vector<std::string>>;
    using post_fn = std::function<void(std::function<void()>)>;
    using schedule_fn = core::schedule_fn;

    dispatcher(const core::Clock& clock, post_fn post, schedule_fn schedule, std::size_t max_queue);
    ~dispatcher();

    // The longest a message waits for busy modems of a cheaper tier before a
    // costlier tier may take it (sms.max_queue_wait_s). Applies at the next pump.
    void set_max_queue_wait(std::chrono::milliseconds d) { max_wait_ = d; }
    // Assumed send time of a modem not measured yet, when no modem is measured.
    static constexpr std::chrono::milliseconds default_send_time{3000};
    // The measured (EWMA) send time of a modem, or the assumption above.
    std::chrono::milliseconds send_time(const std::string& id) const;

    void add_member(member* m);  // borrowed; remove before it dies
    void remove_member(const std::string& id);

    void submit(api::outgoing_sms msg, tiers_t tiers, std::function<void(api::send_result)> done);
    // Call when a member became idle or usable, so waiting messages move on.
    void pump();
    // Fails every queued message (shutdown); in-flight ones finish.
    void fail_queued(const std::string& why);

    std::size_t queued() const { return queue_.size(); }
    std::size_t in_flight() const { return in_flight_; }
    // Queued messages whose current tier includes this modem.
    std::size_t queued_for(const std::string& id) const;
    const dispatcher_stats& stats() const { return stats_; }
    // Per-modem retry counts (messages that moved on from this modem).
    const std::map<std::string, std::uint64_t>& retried_from() const { return retried_from_; }

private:
    struct job {
        std::uint64_t id = 0;
        core::Clock::time_point queued_at{};
        api::outgoing_sms msg;
        tiers_t tiers;
        std::set<std::string> tried;
        std::function<void(api::send_result)> done;
        int retries = 0;
        std::string last_error;  // of the last modem that failed it, for the final answer
    };
    using job_ptr = std::shared_ptr<job>;

    enum class pick { send, wait, none };
    // Share of the waiting messages ahead that each modem is expected to
    // carry, built up during one pump pass (the fluid model of the estimate).
    using claims_t = std::map<const member*, double>;
    // Decides for one queued message: send now (out, and whether a costlier
    // tier than its first usable one), wait (its share is added to claims,
    // next_check is lowered to when its wait bound runs out), or none.
    pick choose(const job& j, claims_t& claims, member*& out, bool& overflow, core::Clock::time_point& next_check) const;
    double seconds_per_send(const member* m) const;
    void dispatch(job_ptr j, member* m);
    void arm_recheck(core::Clock::time_point at);
    void finish(const job_ptr& j, api::send_result r);
    bool expired(const job& j) const;
    void arm_expiry();

    const core::Clock& clock_;
    post_fn post_;
    schedule_fn schedule_;
    std::size_t max_queue_;
    std::map<std::string, member*> members_;
    std::deque<job_ptr> queue_;
    std::size_t in_flight_ = 0;
    std::uint64_t next_id_ = 1;
    std::function<void()> cancel_expiry_;
    std::int64_t expiry_armed_for_ = 0;
    dispatcher_stats stats_;
    std::map<std::string, std::uint64_t> retried_from_;
    std::chrono::milliseconds max_wait_{10000};
    // Send-time EWMA in seconds per modem id (kept across remove/add, so a
    // reconnected modem keeps its history).
    std::map<std::string, double> send_seconds_;
    std::function<void()> cancel_recheck_;
    core::Clock::time_point recheck_at_{};
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace otppi::pool
