// SIM: the PIN latch's marker on disk (a keyed hash of a rejected PIN, so a
// restart loop cannot PUK-lock the SIM) and the SIM-status rechecks.
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <span>

#include "../driver/modem_impl.hpp"
#include "otppi/core/files.hpp"
#include "otppi/otp/crypto.hpp"
#include "otppi/modem/at_commands.hpp"

namespace otppi::modem {

namespace {

std::string hex_of(std::span<const std::uint8_t> bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (auto b : bytes) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 0xF]);
    }
    return out;
}

}  // namespace

std::string modem::impl::pin_fingerprint(std::string_view pin) const {
    // Keyed by the modem id so the marker says nothing about the PIN.
    const std::string key = "otppi pin latch " + cfg_.id;
    try {
        otp::hmac_sha512 mac({reinterpret_cast<const std::uint8_t*>(key.data()), key.size()});
        otp::hmac_sha512::digest d{};
        if (!mac.mac({reinterpret_cast<const std::uint8_t*>(pin.data()), pin.size()}, d)) return {};
        return hex_of(d);
    } catch (const std::exception&) {
        return {};
    }
}

void modem::impl::remember_rejected_pin() {
    auto path = pin_marker_path();
    if (path.empty() || cfg_.sim_pin.empty()) return;
    auto fp = pin_fingerprint(cfg_.sim_pin);
    if (fp.empty()) return;
    if (auto e = core::ensure_directory(dir_, 0700); !e.empty()) {
        spdlog::warn("modem {}: {}", id(), e);
        return;
    }
    if (auto e = core::atomic_write_file(path, fp + "\n", 0600); !e.empty()) spdlog::warn("modem {}: {}", id(), e);
}

void modem::impl::forget_rejected_pin() {
    auto path = pin_marker_path();
    if (path.empty()) return;
    std::error_code ec;
    std::filesystem::remove(path, ec);
}

void modem::impl::load_pin_latch() {
    latch_ = pin_latch(cfg_.sim_pin.empty() ? std::nullopt : std::optional<std::string>(cfg_.sim_pin));
    auto path = pin_marker_path();
    if (path.empty() || cfg_.sim_pin.empty()) return;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return;
    auto text = core::read_file(path);
    if (!text) return;
    std::string stored = *text;
    while (!stored.empty() && (stored.back() == '\n' || stored.back() == '\r')) stored.pop_back();
    if (stored == pin_fingerprint(cfg_.sim_pin)) {
        latch_.record(false);
        spdlog::warn("modem {}: the configured SIM PIN was rejected before; it will not be tried again until it changes", id());
    }
}

void modem::impl::recheck_sim() {
    bool ok = submit(make_command("AT+CPIN?", opts_.command_timeout), [](impl& m, const at_result& r) {
        if (m.state_ != modem_state::failed || m.failure_ != failure_class::recheck) return;
        auto s = sim_state_from(r);
        if (s == sim_state::ready || s == sim_state::sim_pin) {
            spdlog::info("modem {}: SIM answers again ({}), re-initialising", m.id(), to_string(s));
            m.begin_bringup();
            return;
        }
        m.arm_periodic();
    });
    if (!ok) arm_periodic();
}

void modem::impl::on_sim_status(const unsolicited& u) {
    std::optional<sim_state> s;
    if (detail::istarts_with(detail::trim(u.line), "+CPIN:")) {
        std::vector<std::string> lines{u.line};
        s = parse_cpin(lines);
    }
    if (state_ == modem_state::ready && s && (*s == sim_state::not_inserted || *s == sim_state::failure)) {
        enter_failed(failure_class::recheck, "SIM " + std::string(to_string(*s)));
        return;
    }
    if (state_ == modem_state::failed && failure_ == failure_class::recheck) {
        // Hot-swap indications (+CPIN: READY, +CSMINS: 0,1 ...): ask now.
        if (!s || *s == sim_state::ready || *s == sim_state::sim_pin) recheck_sim();
    }
}

void modem::impl::register_sim_urcs() {
    add_urc_handler(urc_kind::sim_status, [](impl& m, const unsolicited& u) {
        m.on_sim_status(u);
        return true;
    });
}

}  // namespace otppi::modem
