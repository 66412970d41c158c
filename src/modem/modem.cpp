// The facade of one GSM modem (include/otppi/modem/modem.hpp). The driver
// core is in driver/ (lifecycle, the operation executor, URC routing); the
// capabilities in messaging/, ussd/, sim/, identity/ and voice/; vendor-only
// operations in vendors/, reached through the vendor profile.
#include "otppi/modem/modem.hpp"

#include <spdlog/spdlog.h>

#include <random>

#include "driver/modem_impl.hpp"

namespace otppi::modem {

namespace net = boost::asio;

std::string_view to_string(modem_state s) noexcept {
    switch (s) {
        case modem_state::disabled:
            return "disabled";
        case modem_state::disconnected:
            return "disconnected";
        case modem_state::opening:
            return "opening";
        case modem_state::initializing:
            return "initializing";
        case modem_state::ready:
            return "ready";
        case modem_state::failed:
            return "failed";
    }
    return "?";
}

std::string_view to_string(send_error_kind k) noexcept {
    switch (k) {
        case send_error_kind::none:
            return "none";
        case send_error_kind::retry_elsewhere:
            return "retry_elsewhere";
        case send_error_kind::permanent:
            return "permanent";
        case send_error_kind::take_modem_out:
            return "take_modem_out";
    }
    return "?";
}

// ------------------------------------------------------------- impl::impl

namespace {
std::string modem_dir(const modem_options& o, const config::modem_config& c) {
    if (o.state_dir.empty()) return {};
    return o.state_dir + "/modems/" + detail::file_safe_id(c.id);
}

channel_options make_channel_options(const config::modem_config& c, const modem_options& o) {
    channel_options co;
    co.name = c.id;
    co.engine.timeout_threshold = std::max(1u, o.timeout_threshold);
    co.engine.escape_settle = o.escape_settle;
    return co;
}
}  // namespace

modem::impl::impl(net::io_context& ioc, config::modem_config cfg, modem_options opts, const core::Clock& clock)
    : ioc_(ioc),
      cfg_(std::move(cfg)),
      opts_(std::move(opts)),
      clock_(clock),
      dir_(modem_dir(opts_, cfg_)),
      channel_(ioc, make_channel_options(cfg_, opts_)),
      inbox_(inbox_options{dir_.empty() ? std::string{} : dir_ + "/inbox.json", cfg_.id, opts_.inbox_capacity, opts_.reassembly_timeout}),
      reports_(report_store_options{dir_.empty() ? std::string{} : dir_ + "/reports.jsonl", opts_.reports_capacity, opts_.reports_retention_days}),
      reopen_timer_(ioc),
      wait_timer_(ioc),
      op_timer_(ioc),
      periodic_timer_(ioc),
      inbox_timer_(ioc),
      backoff_(opts_.reopen_interval) {
    // Concatenation references only need to differ between messages in flight
    // to one receiver; a random start avoids reusing one right after a restart.
    std::random_device rd;
    next_concat_ref_ = static_cast<std::uint8_t>(rd());
    if (auto e = inbox_.load(); !e.empty()) spdlog::warn("modem {}: inbox: {}", cfg_.id, e);
    if (auto e = reports_.load(clock_.unix_seconds()); !e.empty()) spdlog::warn("modem {}: reports: {}", cfg_.id, e);
    load_pin_latch();
    // Unsolicited codes each capability acts on; a vendor may add its own
    // ahead of these (add_urc_handler(..., first = true)).
    register_driver_urcs();
    register_messaging_urcs();
    register_ussd_urcs();
    register_sim_urcs();
}

// ================================================================== modem

modem::modem(net::io_context& ioc, config::modem_config cfg, modem_options opts, const core::Clock& clock)
    : impl_(std::make_shared<impl>(ioc, std::move(cfg), std::move(opts), clock)) {
    std::weak_ptr<impl> w = impl_;
    impl_->channel_.on_urc([w](const unsolicited& u) {
        if (auto s = w.lock(); s && !s->shut_down_) s->on_urc(u);
    });
    impl_->channel_.on_close([w](channel_close_reason r, const std::string& detail) {
        if (auto s = w.lock(); s && !s->shut_down_) s->port_lost(r, detail);
    });
    // The inbox may hold incomplete groups from before a restart.
    impl_->arm_inbox_timer();
}

modem::~modem() {
    if (impl_) impl_->shutdown();
}

void modem::start() { impl_->start(); }
void modem::stop(std::function<void()> done) { impl_->stop(std::move(done)); }
void modem::apply_config(const config::modem_config& cfg) { impl_->apply_config(cfg); }
modem_state modem::state() const { return impl_->state_; }
bool modem::ready() const { return impl_->state_ == modem_state::ready; }
bool modem::busy() const { return impl_->op_ != nullptr; }
const modem_identity& modem::identity() const { return impl_->identity_; }
int modem::signal_dbm() const { return impl_->signal_dbm(); }
const modem_counters& modem::counters() const { return impl_->counters_; }
const config::modem_config& modem::config() const { return impl_->cfg_; }
const channel_stats& modem::io_stats() const { return impl_->channel_.stats(); }
bool modem::ussd_session_open() const { return impl_->ussd_session_; }
std::size_t modem::queued_operations() const { return impl_->queue_.size(); }
void modem::on_event(std::function<void(const modem_event&)> cb) { impl_->listener_ = std::move(cb); }
void modem::retry_pin() { impl_->retry_pin(); }

std::vector<incoming_sms> modem::inbox() const { return impl_->inbox_.list(); }
bool modem::delete_inbox(const std::string& id) { return impl_->inbox_.remove(id); }
bool modem::mark_inbox_read(const std::string& id, bool read) { return impl_->inbox_.mark_read(id, read); }
std::vector<sent_record> modem::recent_sent(std::size_t n) const { return impl_->reports_.recent(n); }

}  // namespace otppi::modem
