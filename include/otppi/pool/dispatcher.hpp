// Assigns queued messages to modems: the policy half of the modem pool, with
// the modems behind a small interface so the policy is testable on its own.
//
// Contract:
//  - submit() takes a message with its tiers (from routing_table, or one
//    modem for a manual send) and answers exactly once, later, through the
//    message's callback; never from inside submit().
//  - A message is handed to an idle, usable modem of the first tier that has
//    a usable modem it has not failed on yet. While that tier's modems are
//    busy, it waits for them (FIFO) rather than skipping to a costlier tier;
//    a message never waits while an eligible modem of its tier is idle.
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
};

class dispatcher {
public:
    using tiers_t = std::vector<std::vector<std::string>>;
    using post_fn = std::function<void(std::function<void()>)>;
    using schedule_fn = core::schedule_fn;

    dispatcher(const core::Clock& clock, post_fn post, schedule_fn schedule, std::size_t max_queue);
    ~dispatcher();

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
        api::outgoing_sms msg;
        tiers_t tiers;
        std::set<std::string> tried;
        std::function<void(api::send_result)> done;
        int retries = 0;
        std::string last_error;  // of the last modem that failed it, for the final answer
    };
    using job_ptr = std::shared_ptr<job>;

    enum class pick { send, wait, none };
    pick choose(const job& j, member*& out) const;
    void dispatch(job_ptr j, member* m);
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
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace otppi::pool
