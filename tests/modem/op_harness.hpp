// Drives one operation machine (include/otppi/modem/driver/operation.hpp) the
// way the driver's executor does, against a real at_engine, with the modem's
// side played from a transcript and time moved by hand (ManualClock): no pty,
// no sockets, no real time.
//
// Transcript format (tests/modem/transcripts/op_*.txt), one step a line:
//
//     # comment
//     $ start                the machine gets `start`
//     > <bytes>              the host must write exactly these bytes next
//     < <bytes>              the modem sends these bytes
//     ! timeout              the AT engine's deadline expires
//     ! timer                the operation's armed timer falls due (the clock moves to it)
//     ! advance <ms>         the clock moves on, nothing fires
//     ! abort <why>          the machine gets `abort` (the port went away)
//     ?armed <ms>            the operation's timer is armed that far from now
//     ?recorded <mr>         the next record_sent action carried this TP-MR
//     ?running / ?done       whether the machine has reached `done`
//
// Escapes as in test_bringup.cpp (\r \n \x1A ...). Every '<' line is also
// replayed byte by byte.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "otppi/core/clock.hpp"
#include "otppi/core/overloaded.hpp"
#include "otppi/modem/at_engine.hpp"
#include "otppi/modem/driver/operation.hpp"
#include "otppi/modem/vendors/generic.hpp"
#include "test_paths.hpp"

namespace otppi::test {

inline std::string unescape_bytes(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 >= s.size()) {
            out.push_back(s[i]);
            continue;
        }
        const char n = s[++i];
        auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
        switch (n) {
            case 'r': out.push_back('\r'); break;
            case 'n': out.push_back('\n'); break;
            case 't': out.push_back('\t'); break;
            case '\\': out.push_back('\\'); break;
            case '"': out.push_back('"'); break;
            case 'x':
                if (i + 2 < s.size()) {
                    out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
                    i += 2;
                }
                break;
            default:
                out.push_back('\\');
                out.push_back(n);
        }
    }
    return out;
}

template <class Machine>
class op_harness {
public:
    explicit op_harness(Machine& m, bool bytewise = false) : machine_(m), bytewise_(bytewise), engine_(quiet()) {
        opts.command_timeout = std::chrono::seconds(10);
        opts.send_timeout = std::chrono::seconds(60);
    }

    core::ManualClock clock;
    modem::modem_options opts;
    modem::modem_identity identity;
    const modem::vendor_profile* vendor = &modem::generic_vendor();
    modem::driver::text_link link;

    bool done() const { return done_; }
    const std::vector<modem::sent_record>& recorded() const { return recorded_; }
    std::optional<core::Clock::time_point> deadline() const { return deadline_; }
    const std::vector<std::string>& unhandled_urcs() const { return unhandled_; }

    void event(const modem::driver::op_event& ev) {
        auto env = make_env();
        execute(machine_.resume(env, ev).actions);
    }

    void run_file(const std::string& name) {
        std::ifstream in(std::string(OTPPI_TEST_DATA_DIR) + "/modem/transcripts/" + name);
        ASSERT_TRUE(in) << "cannot open transcript " << name;
        std::string line;
        int no = 0;
        while (std::getline(in, line)) {
            ++no;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            SCOPED_TRACE(name + ":" + std::to_string(no) + ": " + line);
            step(line);
            if (::testing::Test::HasFatalFailure()) return;
        }
        EXPECT_TRUE(writes_.empty()) << "unexpected write: " << (writes_.empty() ? "" : writes_.front());
    }

    void step(const std::string& line) {
        namespace ev = modem::driver::op_events;
        if (line.empty() || line[0] == '#') return;
        auto arg = [&](std::size_t from) { return from < line.size() ? line.substr(from) : std::string{}; };
        if (line == "$ start") {
            event(ev::start{});
        } else if (line.rfind("> ", 0) == 0) {
            ASSERT_FALSE(writes_.empty()) << "nothing was written";
            EXPECT_EQ(writes_.front(), unescape_bytes(arg(2)));
            writes_.pop_front();
        } else if (line.rfind("< ", 0) == 0) {
            const std::string bytes = unescape_bytes(arg(2));
            if (bytewise_) {
                for (char c : bytes) apply(engine_.on_bytes(std::string_view(&c, 1)));
            } else {
                apply(engine_.on_bytes(bytes));
            }
        } else if (line == "! timeout") {
            ASSERT_TRUE(engine_timer_) << "no engine deadline armed";
            auto g = *engine_timer_;
            engine_timer_.reset();
            apply(engine_.on_timeout(g));
        } else if (line == "! timer") {
            ASSERT_TRUE(deadline_) << "no operation timer armed";
            if (*deadline_ > clock.now()) clock.advance(*deadline_ - clock.now());
            deadline_.reset();
            event(ev::timer{});
        } else if (line.rfind("! advance ", 0) == 0) {
            clock.advance(std::chrono::milliseconds(std::stol(arg(10))));
        } else if (line.rfind("! abort ", 0) == 0) {
            event(ev::abort{arg(8), modem::send_error_kind::retry_elsewhere});
        } else if (line.rfind("?armed ", 0) == 0) {
            ASSERT_TRUE(deadline_) << "no operation timer armed";
            EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(*deadline_ - clock.now()).count(), std::stol(arg(7)));
        } else if (line.rfind("?recorded ", 0) == 0) {
            ASSERT_LT(checked_records_, recorded_.size()) << "no part was recorded";
            EXPECT_EQ(recorded_[checked_records_++].message_reference, std::stoi(arg(10)));
        } else if (line == "?running") {
            EXPECT_FALSE(done_);
        } else if (line == "?done") {
            EXPECT_TRUE(done_);
        } else {
            FAIL() << "bad transcript line";
        }
    }

private:
    static modem::at_engine_config quiet() {
        modem::at_engine_config c;
        c.escape_on_open = false;  // the bring-up has run: the port is known good
        return c;
    }

    modem::driver::op_env make_env() {
        return modem::driver::op_env{opts, identity, *vendor, link, "m1", clock.now(), clock.unix_seconds()};
    }

    void execute(std::vector<modem::driver::op_action> actions) {
        namespace act = modem::driver::op_actions;
        for (auto& a : actions) {
            if (done_) return;
            if (auto* s = std::get_if<act::submit>(&a)) {
                auto r = engine_.submit(std::move(s->command));
                if (!r.accepted()) {
                    if (!s->detached) event(modem::driver::op_events::refused{});
                    return;
                }
                ours_[*r.id] = !s->detached;
                apply(std::move(r.actions));
            } else if (auto* t = std::get_if<act::arm_timer>(&a)) {
                deadline_ = clock.now() + t->after;
            } else if (auto* rec = std::get_if<act::record_sent>(&a)) {
                recorded_.push_back(rec->record);
            } else {
                done_ = true;
                return;
            }
        }
    }

    void apply(std::vector<modem::at_action> acts) {
        using namespace modem;
        for (auto& a : acts) {
            std::visit(core::overloaded{
                           [&](actions::write& w) { writes_.push_back(w.bytes); },
                           [&](actions::start_timer& t) { engine_timer_ = t.generation; },
                           [&](actions::cancel_timer&) { engine_timer_.reset(); },
                           [&](actions::complete& c) {
                               auto it = ours_.find(c.id);
                               const bool feed = it != ours_.end() && it->second;
                               if (it != ours_.end()) ours_.erase(it);
                               if (feed && !done_) event(driver::op_events::result{&c.result});
                           },
                           [&](actions::urc& u) {
                               if (done_) return;
                               auto env = make_env();
                               auto step = machine_.resume(env, driver::op_events::urc{&u.value});
                               if (!step.handled) unhandled_.push_back(u.value.name);
                               execute(std::move(step.actions));
                           },
                           [&](actions::needs_reopen&) {},
                           [&](actions::diagnostic&) {},
                       },
                       a);
        }
    }

    Machine& machine_;
    bool bytewise_;
    modem::at_engine engine_;
    std::deque<std::string> writes_;
    std::optional<std::uint64_t> engine_timer_;
    std::optional<core::Clock::time_point> deadline_;
    std::map<modem::command_id, bool> ours_;
    std::vector<modem::sent_record> recorded_;
    std::size_t checked_records_ = 0;
    std::vector<std::string> unhandled_;
    bool done_ = false;
};

}  // namespace otppi::test
