#include "otppi/pool/pool.hpp"

#include "otppi/core/log.hpp"
#include "otppi/core/scheduler.hpp"
#include "otppi/modem/modem.hpp"
#include "otppi/pool/dispatcher.hpp"
#include "otppi/pool/port_probe.hpp"
#include "otppi/pool/routing.hpp"
#include "otppi/pool/sms_log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <filesystem>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace otppi::pool {

namespace net = boost::asio;
using nlohmann::json;

namespace {

member_result::kind kind_of(modem::send_error_kind k) {
    switch (k) {
    case modem::send_error_kind::none: return member_result::kind::none;
    case modem::send_error_kind::retry_elsewhere: return member_result::kind::retry_elsewhere;
    case modem::send_error_kind::permanent: return member_result::kind::permanent;
    case modem::send_error_kind::take_modem_out: return member_result::kind::take_out;
    }
    return member_result::kind::retry_elsewhere;
}

std::vector<route_modem> route_modems(const config::config& cfg) {
    std::vector<route_modem> out;
    for (const auto& m : cfg.modems) out.push_back({m.id, m.active, m.send_sms_from_api, m.default_modem, m.recipient_prefix});
    return out;
}

}  // namespace

// One modem as the dispatcher sees it, plus the pool's own bookkeeping for it.
class pool_member final : public member {
public:
    pool_member(modem_pool::impl& pool, std::unique_ptr<modem::modem> m) : pool_(pool), modem_(std::move(m)), id_(modem_->config().id) {}

    const std::string& id() const override { return id_; }
    bool usable() const override;
    bool coming_up() const override {
        auto s = modem_->state();
        // A SIM at its per-minute cap frees up within the minute: worth waiting for.
        return s == modem::modem_state::opening || s == modem::modem_state::initializing || (modem_->ready() && !taken_out && minute_capped());
    }
    bool minute_capped() const;
    bool idle() const override { return !in_flight_ && !modem_->busy(); }
    void send(const api::outgoing_sms& msg, std::function<void(member_result)> done) override;

    modem::modem& device() { return *modem_; }
    const modem::modem& device() const { return *modem_; }

    bool taken_out = false;  // SIM/hardware errors: out of rotation until the modem comes back
    std::string known_imei;  // from the last bring-up: finds the modem again if its tty name shifts
    std::uint64_t sent = 0, failed = 0;
    std::string last_error;
    std::deque<core::Clock::time_point> minute_window, day_window;

private:
    modem_pool::impl& pool_;
    std::unique_ptr<modem::modem> modem_;
    std::string id_;
    bool in_flight_ = false;
};

struct modem_pool::impl {
    impl(net::io_context& io, const config::config& c, const core::Clock& clk, pool_options o)
        : ioc(io), cfg(c), clock(clk), opts(std::move(o)), routing(route_modems(c), static_cast<std::size_t>(c.sms.recipient_prefix_length)),
          log(c.state_dir + "/sms-log", c.sms.log_retention_days, c.sms.log_enabled,
              opts.file_io ? opts.file_io : [](std::function<void()> fn) { fn(); }),
          dispatch(clock, [this](std::function<void()> fn) { net::post(ioc, std::move(fn)); }, core::make_scheduler(io),
                   static_cast<std::size_t>(c.sms.queue_limit)),
          inspector(io) {
        dispatch.set_max_queue_wait(std::chrono::seconds(c.sms.max_queue_wait_s));
    }

    void emit(pool_event e) {
        if (listener) listener(e);
    }

    void add_modem(const config::modem_config& mc) {
        modem::modem_options mo;
        mo.state_dir = cfg.state_dir;
        mo.reports_retention_days = cfg.sms.log_retention_days;  // delivery records age out with the SMS log
        mo.reopen_interval = opts.reopen_interval;
        mo.command_timeout = opts.command_timeout;
        mo.send_timeout = opts.send_timeout;
        mo.failed_recheck_interval = opts.failed_recheck_interval;
        auto m = std::make_unique<modem::modem>(ioc, mc, mo, clock);
        auto member_ptr = std::make_unique<pool_member>(*this, std::move(m));
        pool_member* raw = member_ptr.get();
        raw->device().on_event([this, raw](const modem::modem_event& ev) { on_modem_event(*raw, ev); });
        dispatch.add_member(raw);
        members.emplace(mc.id, std::move(member_ptr));
    }

    void on_modem_event(pool_member& m, const modem::modem_event& ev) {
        using k = modem::modem_event::kind;
        switch (ev.what) {
        case k::state_changed:
            if (ev.state == modem::modem_state::ready && !m.device().identity().imei.empty()) m.known_imei = m.device().identity().imei;
            if (ev.state == modem::modem_state::ready && m.taken_out) {
                m.taken_out = false;
                spdlog::info("pool: modem {} is back in rotation", m.id());
            }
            spdlog::info("pool: modem {} is {}{}{}", m.id(), modem::to_string(ev.state), ev.detail.empty() ? "" : ": ", ev.detail);
            emit({"modem_state", m.id(), std::string(modem::to_string(ev.state))});
            break;
        case k::incoming_sms:
            if (ev.sms) emit({"incoming_sms", m.id(), "from " + core::mask_msisdn(ev.sms->from)});
            break;
        case k::delivery_report:
            if (ev.report) emit({"delivery_report", m.id(), ev.report->state + " mr=" + std::to_string(ev.report->message_reference)});
            break;
        case k::identity_updated: break;
        }
        // A modem that became ready or idle may take waiting messages.
        dispatch.pump();
    }

    void inspect() {
        if (cfg.general.inspect_modem_interval_s <= 0 || stopping) return;
        inspector.expires_after(std::chrono::seconds(cfg.general.inspect_modem_interval_s));
        inspector.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;
            // Modems reopen themselves; the inspector's job is to notice what
            // changed and to move waiting messages along.
            for (auto& [id, m] : members) {
                const bool up = m->device().ready();
                auto& was = last_seen_up[id];
                if (up != was) emit({"modem_state", id, up ? "connected" : "disconnected"});
                was = up;
            }
            dispatch.pump();
            log.prune(clock.unix_seconds());
            rediscover();
            inspect();
        });
    }

    // A modem whose port vanished while another port appeared: ttyUSB numbers
    // shift on replug. Probe unclaimed candidate ports for its IMEI, one at a
    // time, and move the modem there (for this run; the config file keeps
    // what the operator wrote, ideally a /dev/serial/by-id path).
    void rediscover() {
        if (probing) return;
        std::set<std::string> claimed;
        for (const auto& [id, m] : members) claimed.insert(m->device().config().port);
        std::vector<std::string> unclaimed;
        for (auto& port : candidate_ports(opts.scan_patterns))
            if (!claimed.count(port)) unclaimed.push_back(port);
        if (unclaimed.empty()) return;
        for (auto& [id, m] : members) {
            auto& dev = m->device();
            std::error_code ec;
            if (dev.ready() || m->known_imei.empty() || std::filesystem::exists(dev.config().port, ec)) continue;
            probe_next(id, std::move(unclaimed), 0);
            return;
        }
    }

    void probe_next(const std::string& id, std::vector<std::string> ports, std::size_t i) {
        auto it = members.find(id);
        if (it == members.end() || i >= ports.size() || stopping) {
            probing = false;
            return;
        }
        probing = true;
        auto settings = modem::serial_settings_from(it->second->device().config());
        if (!settings) {
            probing = false;
            return;
        }
        settings->path = ports[i];
        probe_imei(ioc, *settings, opts.probe_timeout, [this, id, ports, i](std::string imei) {
            auto mit = members.find(id);
            if (mit == members.end() || stopping) {
                probing = false;
                return;
            }
            auto& m = *mit->second;
            if (!imei.empty() && imei == m.known_imei && !m.device().ready()) {
                probing = false;
                auto mc = m.device().config();
                const std::string from = mc.port;
                mc.port = ports[i];
                spdlog::info("pool: modem {} (IMEI {}) found at {} instead of {}", id, imei, mc.port, from);
                for (auto& c : cfg.modems)
                    if (c.id == id) c.port = mc.port;
                m.device().apply_config(mc);
                emit({"modem_moved", id, from + " -> " + mc.port});
                return;
            }
            probe_next(id, ports, i + 1);
        });
    }

    net::io_context& ioc;
    config::config cfg;
    const core::Clock& clock;
    pool_options opts;
    routing_table routing;
    sms_log log;
    dispatcher dispatch;
    std::map<std::string, std::unique_ptr<pool_member>> members;
    std::map<std::string, bool> last_seen_up;
    net::steady_timer inspector;
    std::function<void(const pool_event&)> listener;
    bool stopping = false;
    bool probing = false;
};

bool pool_member::minute_capped() const {
    const int cap = modem_->config().max_sms_per_minute;
    if (cap <= 0) return false;
    const auto now = pool_.clock.now();
    std::size_t n = 0;
    for (auto it = minute_window.rbegin(); it != minute_window.rend() && now - *it < std::chrono::minutes(1); ++it) ++n;
    return n >= static_cast<std::size_t>(cap);
}

bool pool_member::usable() const {
    if (!modem_->ready() || taken_out || pool_.stopping) return false;
    const auto& c = modem_->config();
    const auto now = pool_.clock.now();
    auto count_since = [&](const std::deque<core::Clock::time_point>& w, core::Clock::duration span) {
        std::size_t n = 0;
        for (auto it = w.rbegin(); it != w.rend() && now - *it < span; ++it) ++n;
        return n;
    };
    if (minute_capped()) return false;
    if (c.max_sms_per_day > 0 && count_since(day_window, std::chrono::hours(24)) >= static_cast<std::size_t>(c.max_sms_per_day)) return false;
    return true;
}

void pool_member::send(const api::outgoing_sms& msg, std::function<void(member_result)> done) {
    in_flight_ = true;
    const auto now = pool_.clock.now();
    // Count the attempt against the SIM's caps whatever its outcome: the
    // operator counts what reached it.
    if (modem_->config().max_sms_per_minute > 0) {
        minute_window.push_back(now);
        while (minute_window.size() > 1000) minute_window.pop_front();
    }
    if (modem_->config().max_sms_per_day > 0) {
        day_window.push_back(now);
        while (!day_window.empty() && now - day_window.front() >= std::chrono::hours(24)) day_window.pop_front();
    }
    auto finish = [this, done = std::move(done)](member_result r) {
        in_flight_ = false;
        if (r.ok) {
            ++sent;
        } else {
            ++failed;
            last_error = r.error;
            if (r.failure == member_result::kind::take_out) {
                taken_out = true;
                spdlog::warn("pool: modem {} taken out of rotation: {}", id_, r.error);
            }
        }
        done(r);
    };
    if (msg.voice) {
        modem_->voice_otp(msg.receiver, msg.text.clone(), [finish](bool ok, std::string error) mutable {
            member_result r;
            r.ok = ok;
            r.parts = 1;
            r.parts_accepted = ok ? 1 : 0;
            // A modem without TTS: another one may have it.
            r.failure = ok ? member_result::kind::none : member_result::kind::retry_elsewhere;
            r.error = std::move(error);
            finish(r);
        });
        return;
    }
    modem::sms_send_request req;
    req.destination = msg.receiver;
    req.text = msg.text.clone();
    req.status_report = true;
    if (msg.expires_unix > 0) {
        // The network need not try past the message's own expiry either.
        const auto left = msg.expires_unix - pool_.clock.unix_seconds();
        req.validity = std::chrono::seconds(std::max<std::int64_t>(300, left));
    }
    modem_->send_sms(std::move(req), [finish](modem::sms_send_result res) mutable {
        member_result r;
        r.ok = res.ok;
        r.message_reference = res.message_reference;
        r.parts = res.parts;
        r.parts_accepted = res.parts_accepted;
        r.failure = res.ok ? member_result::kind::none : kind_of(res.kind);
        if (!res.ok && res.maybe_sent) r.failure = member_result::kind::maybe_sent;
        r.error = res.error;
        finish(r);
    });
}

modem_pool::modem_pool(net::io_context& ioc, const config::config& cfg, const core::Clock& clock, pool_options opts)
    : impl_(std::make_unique<impl>(ioc, cfg, clock, std::move(opts))) {
    for (const auto& mc : cfg.modems) impl_->add_modem(mc);
}

modem_pool::~modem_pool() {
    for (auto& [id, m] : impl_->members) impl_->dispatch.remove_member(id);
}

void modem_pool::start() {
    // An inactive modem is configured but left closed (OTP-Pi's "active"
    // switch): its port stays free until the admin connects it.
    for (auto& [id, m] : impl_->members)
        if (m->device().config().active) m->device().start();
    impl_->log.prune(impl_->clock.unix_seconds());
    impl_->inspect();
}

void modem_pool::stop(std::function<void()> done) {
    auto& s = *impl_;
    s.stopping = true;
    s.inspector.cancel();
    s.dispatch.fail_queued("the gateway is shutting down: not sent");
    auto remaining = std::make_shared<std::size_t>(s.members.size());
    if (*remaining == 0) return net::post(s.ioc, std::move(done));
    auto one_done = [remaining, done = std::move(done)]() mutable {
        if (--*remaining == 0 && done) done();
    };
    // Each modem finishes its send in flight (bounded by its send timeout), then closes.
    for (auto& [id, m] : s.members) m->device().stop(one_done);
}

void modem_pool::apply_config(const config::config& cfg) {
    auto& s = *impl_;
    s.cfg = cfg;
    s.routing = routing_table(route_modems(cfg), static_cast<std::size_t>(cfg.sms.recipient_prefix_length));
    s.log.configure(cfg.sms.log_retention_days, cfg.sms.log_enabled);
    s.dispatch.set_max_queue_wait(std::chrono::seconds(cfg.sms.max_queue_wait_s));
    for (const auto& mc : cfg.modems) {
        auto it = s.members.find(mc.id);
        if (it == s.members.end()) {
            s.add_modem(mc);
            if (mc.active && !s.stopping) s.members[mc.id]->device().start();
            continue;
        }
        auto& dev = it->second->device();
        const bool was_active = dev.config().active;
        if (was_active && !mc.active) {
            // Disconnect: close the port gracefully, keep a fresh closed modem
            // in its place so that it stays listed and can be connected again.
            s.dispatch.remove_member(it->first);
            auto holder = std::make_shared<std::unique_ptr<pool_member>>(std::move(it->second));
            s.members.erase(it);
            (*holder)->device().stop([holder] {});
            s.add_modem(mc);
            s.emit({"modem_state", mc.id, "disabled"});
            continue;
        }
        dev.apply_config(mc);
        if (!was_active && mc.active && dev.state() == modem::modem_state::disabled && !s.stopping) dev.start();
    }
    // Modems removed from the config: out of the dispatcher now, closed gracefully.
    for (auto it = s.members.begin(); it != s.members.end();) {
        const bool kept = std::any_of(cfg.modems.begin(), cfg.modems.end(), [&](const auto& mc) { return mc.id == it->first; });
        if (kept) {
            ++it;
            continue;
        }
        s.dispatch.remove_member(it->first);
        auto holder = std::make_shared<std::unique_ptr<pool_member>>(std::move(it->second));
        (*holder)->device().stop([holder] {});
        it = s.members.erase(it);
    }
    s.dispatch.pump();
}

void modem_pool::send(api::outgoing_sms msg, std::function<void(api::send_result)> done) {
    auto& s = *impl_;
    dispatcher::tiers_t tiers;
    if (!msg.modem_id.empty()) {
        // A manual send names its modem: any configured one, API traffic or not.
        if (!s.members.count(msg.modem_id)) {
            api::send_result r;
            r.status = api::send_status::failed;
            r.error = "no modem with id '" + msg.modem_id + "'";
            return net::post(s.ioc, [done = std::move(done), r] { done(r); });
        }
        tiers = {{msg.modem_id}};
    } else {
        tiers = s.routing.tiers(msg.receiver);
    }
    if (s.stopping) tiers.clear();
    const std::string receiver = msg.receiver;
    const std::string kind = msg.voice ? "voice" : msg.is_otp ? "otp" : !msg.modem_id.empty() ? "manual" : "sms";
    s.dispatch.submit(std::move(msg), std::move(tiers), [this, receiver, kind, done = std::move(done)](api::send_result r) {
        auto& st = *impl_;
        sms_log_entry e;
        e.at_unix = st.clock.unix_seconds();
        e.modem_id = r.modem_id;
        e.receiver = receiver;
        e.kind = kind;
        e.parts = r.parts;
        e.message_reference = r.message_reference;
        e.error = r.error;
        switch (r.status) {
        case api::send_status::sent: e.status = "sent"; break;
        case api::send_status::expired: e.status = "expired"; break;
        case api::send_status::queue_full: e.status = "queue_full"; break;
        case api::send_status::no_modem: e.status = "no_modem"; break;
        case api::send_status::not_supported: e.status = "not_supported"; break;
        case api::send_status::failed: e.status = "failed"; break;
        }
        st.log.record(e);
        st.emit({r.status == api::send_status::sent ? "sms_sent" : "sms_failed", r.modem_id, core::mask_msisdn(receiver) + " " + e.status});
        done(r);
    });
}

void modem_pool::ussd(const std::string& modem_id, const std::string& code, std::function<void(api::ussd_result)> done) {
    auto& s = *impl_;
    auto it = s.members.find(modem_id);
    if (it == s.members.end() || !it->second->device().ready()) {
        api::ussd_result r;
        r.unknown_modem = it == s.members.end();
        r.error = r.unknown_modem ? "no modem with this id" : "modem not connected";
        return net::post(s.ioc, [done = std::move(done), r] { done(r); });
    }
    it->second->device().ussd(code, [done = std::move(done)](modem::ussd_result res) {
        api::ussd_result r;
        r.ok = res.ok;
        r.text = res.text;
        r.raw = res.raw;
        r.replyable = res.replyable;
        r.error = res.error;
        done(r);
    });
}

json modem_pool::modem_list() const {
    const auto& s = *impl_;
    json list = json::object();
    for (const auto& mc : s.cfg.modems) {
        auto it = s.members.find(mc.id);
        if (it == s.members.end()) continue;
        const auto& m = *it->second;
        const auto& dev = m.device();
        const auto& ident = dev.identity();
        const auto& counters = dev.counters();
        auto retried = s.dispatch.retried_from().find(mc.id);
        list[mc.id] = {
            // OTP-Pi's fields, same names.
            {"id", mc.id}, {"name", mc.name}, {"port", mc.port}, {"imei", ident.imei}, {"imsi", ident.imsi}, {"iccid", ident.iccid},
            {"copsOperator", ident.operator_name}, {"smsCenter", ident.smsc}, {"active", mc.active}, {"connected", dev.ready()},
            {"defaultModem", mc.default_modem}, {"internetAccess", false}, {"internetConnected", false},
            // Ours.
            {"state", std::string(modem::to_string(dev.state()))}, {"sendSmsFromApi", mc.send_sms_from_api},
            {"recipientPrefix", mc.recipient_prefix}, {"manufacturer", ident.manufacturer}, {"model", ident.model},
            {"signalDbm", dev.signal_dbm()}, {"smsMode", ident.vendor.empty() ? std::string{} : std::string(modem::to_string(ident.sms_mode))},
            {"inRotation", m.usable()}, {"queueDepth", s.dispatch.queued_for(mc.id)},
            {"sent", m.sent}, {"failed", m.failed}, {"retried", retried == s.dispatch.retried_from().end() ? 0 : retried->second},
            {"timeouts", counters.timeouts}, {"reopens", counters.reopens},
            {"lastError", m.last_error.empty() ? counters.last_error : m.last_error}};
    }
    return list;
}

void modem_pool::on_event(std::function<void(const pool_event&)> cb) { impl_->listener = std::move(cb); }

modem::modem* modem_pool::find(const std::string& id) {
    auto it = impl_->members.find(id);
    return it == impl_->members.end() ? nullptr : &it->second->device();
}

}  // namespace otppi::pool
