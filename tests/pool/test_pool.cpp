// The pool with real drivers over real ptys, against the project's modem
// simulator: routing, failover, exactly-once delivery, unplug and replug.
#include "otppi/core/files.hpp"
#include "otppi/pool/pool.hpp"
#include "otppi/sim/modem_simulator.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <algorithm>
#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

using namespace otppi;
using namespace std::chrono_literals;
using sim::fault;

namespace {

struct modem_spec {
    std::string id;
    std::vector<std::string> prefixes;
    bool default_modem = false;
    bool api = true;
    std::string sms_mode = "pdu";
    bool text_only = false;  // the simulated modem refuses PDU mode
};

class Pool : public ::testing::Test {
protected:
    void start(std::vector<modem_spec> specs, std::chrono::milliseconds send_delay = 20ms, std::chrono::milliseconds send_timeout = 600ms) {
        cfg.state_dir = dir / "state";
        cfg.sms.recipient_prefix_length = 5;
        cfg.general.inspect_modem_interval_s = 1;
        for (const auto& s : specs) {
            sim::sim_options o;
            o.link = dir / (s.id + ".tty");
            o.send_delay = send_delay;
            o.imei = "35984809159" + std::to_string(1000 + sims.size());
            o.text_only = s.text_only;
            sims[s.id] = std::make_unique<sim::modem_simulator>(o);
            config::modem_config mc;
            mc.id = s.id;
            mc.name = "sim " + s.id;
            mc.port = o.link;
            mc.recipient_prefix = s.prefixes;
            mc.default_modem = s.default_modem;
            mc.send_sms_from_api = s.api;
            mc.sms_mode = s.sms_mode;
            cfg.modems.push_back(mc);
        }
        pool::pool_options po;
        po.reopen_interval = 100ms;
        po.command_timeout = 400ms;
        po.send_timeout = send_timeout;
        po.failed_recheck_interval = 300ms;
        po.scan_patterns = {dir / "ttyUSB*"};
        po.probe_timeout = 400ms;
        p = std::make_unique<pool::modem_pool>(ioc, cfg, clock, po);
        p->start();
        ASSERT_TRUE(run_until([&] { return all_connected(); }, 10s)) << p->modem_list().dump();
    }

    bool all_connected() {
        const auto list = p->modem_list();
        for (const auto& m : list)
            if (!m["connected"].get<bool>()) return false;
        return true;
    }
    bool connected(const std::string& id) { return p->modem_list()[id]["connected"].get<bool>(); }

    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            ioc.run_for(10ms);
            if (ioc.stopped()) ioc.restart();
        }
        return true;
    }

    std::shared_ptr<std::optional<api::send_result>> send(const std::string& receiver, const std::string& text, std::int64_t expires = 0,
                                                          const std::string& modem_id = "") {
        api::outgoing_sms msg;
        msg.receiver = receiver;
        msg.text = core::secure_string(text);
        msg.expires_unix = expires;
        msg.modem_id = modem_id;
        auto out = std::make_shared<std::optional<api::send_result>>();
        p->send(std::move(msg), [out](api::send_result r) { *out = r; });
        return out;
    }
    api::send_result send_and_wait(const std::string& receiver, const std::string& text, const std::string& modem_id = "") {
        auto r = send(receiver, text, 0, modem_id);
        EXPECT_TRUE(run_until([&] { return r->has_value(); }, 10s));
        return r->value_or(api::send_result{});
    }
    std::size_t count_text(const std::string& text) {
        std::size_t n = 0;
        for (auto& [id, s] : sims)
            for (const auto& m : s->sent()) n += m.text == text;
        return n;
    }

    void TearDown() override {
        if (!p) return;
        bool stopped = false;
        p->stop([&] { stopped = true; });
        run_until([&] { return stopped; }, 10s);
    }

    test::temp_dir dir;
    core::SystemClock clock;
    boost::asio::io_context ioc;
    config::config cfg;
    std::map<std::string, std::unique_ptr<sim::modem_simulator>> sims;
    std::unique_ptr<pool::modem_pool> p;
};

}  // namespace

TEST_F(Pool, SeedFourOperatorRoutingOnRealModems) {
    start({{"m1", {"62871", "62872"}}, {"m2", {"62835", "62856", "62837"}}, {"m3", {"62845"}}, {"m4", {"62848", "62849"}, true}});
    const std::map<std::string, std::string> expected = {{"6287111111111", "m1"}, {"6285622222222", "m2"}, {"6284533333333", "m3"},
                                                         {"6284844444444", "m4"}, {"6281255555555", "m4"}};
    for (const auto& [receiver, modem] : expected) {
        auto r = send_and_wait(receiver, "to " + receiver);
        EXPECT_EQ(r.status, api::send_status::sent) << r.error;
        EXPECT_EQ(r.modem_id, modem) << receiver;
        ASSERT_EQ(sims[modem]->sent().back().destination, receiver);
        EXPECT_GE(r.message_reference, 0);
    }
    EXPECT_EQ(sims["m4"]->sent_count(), 2u);
}

TEST_F(Pool, CmsErrorFailsOverToTheNextModem) {
    start({{"cheap", {"62871"}}, {"fallback", {}, true}});
    sims["cheap"]->set_fault(fault::cms_error, 331, 1);  // no network
    auto r = send_and_wait("6287111111111", "failover please");
    EXPECT_EQ(r.status, api::send_status::sent) << r.error;
    EXPECT_EQ(r.modem_id, "fallback");
    EXPECT_EQ(count_text("failover please"), 1u);
    EXPECT_EQ(p->modem_list()["cheap"]["retried"], 1);
    // The cheap modem is still in rotation for the next one.
    EXPECT_EQ(send_and_wait("6287111111111", "next").modem_id, "cheap");
}

TEST_F(Pool, TextModeModemPassesLongMessagesToAPduModem) {
    start({{"textonly", {"62871"}, false, true, "auto", true}, {"pdu", {}, true}});
    EXPECT_EQ(p->modem_list()["textonly"]["smsMode"], "text");
    EXPECT_EQ(p->modem_list()["pdu"]["smsMode"], "pdu");
    // One part: the prefix modem sends it in text mode.
    auto r = send_and_wait("6287111111111", "Your code is 482913");
    EXPECT_EQ(r.status, api::send_status::sent) << r.error;
    EXPECT_EQ(r.modem_id, "textonly");
    // Two parts: text mode cannot, the PDU modem can.
    const std::string long_text(200, 'x');
    r = send_and_wait("6287111111111", long_text);
    EXPECT_EQ(r.status, api::send_status::sent) << r.error;
    EXPECT_EQ(r.modem_id, "pdu");
    EXPECT_EQ(r.parts, 2);
    EXPECT_EQ(count_text(long_text), 1u);
    // With only the text-mode modem to ask, the answer says why.
    r = send_and_wait("6287111111111", long_text, "textonly");
    EXPECT_EQ(r.status, api::send_status::failed);
    EXPECT_NE(r.error.find("single-part"), std::string::npos) << r.error;
}

TEST_F(Pool, PermanentErrorIsNotRetried) {
    start({{"a", {}, true}, {"b", {}, true}});
    sims["a"]->set_fault(fault::cms_error, 304, 1);  // invalid PDU parameter: our fault, the same anywhere
    sims["b"]->set_fault(fault::cms_error, 304, 1);
    auto r = send_and_wait("6281211111111", "bad");
    EXPECT_EQ(r.status, api::send_status::failed);
    EXPECT_EQ(count_text("bad"), 0u);
}

TEST_F(Pool, AModemThatStopsAnsweringIsBypassed) {
    start({{"quiet", {"62871"}}, {"good", {}, true}});
    sims["quiet"]->set_fault(fault::silent);
    auto r = send_and_wait("6287111111111", "via good");
    EXPECT_EQ(r.status, api::send_status::sent) << r.error;
    EXPECT_EQ(r.modem_id, "good");
    EXPECT_EQ(count_text("via good"), 1u);
}

TEST_F(Pool, NoAnswerAfterThePduIsReportedNotResent) {
    start({{"a", {"62871"}}, {"b", {}, true}});
    sims["a"]->set_fault(fault::silent_after_prompt, 0, 1);
    auto r = send_and_wait("6287111111111", "maybe");
    EXPECT_EQ(r.status, api::send_status::failed);
    EXPECT_NE(r.error.find("not resent"), std::string::npos) << r.error;
    EXPECT_EQ(sims["b"]->sent_count(), 0u);
}

TEST_F(Pool, UnplugInTheMiddleOfABurstDeliversEachMessageExactlyOnce) {
    start({{"a", {}, true}, {"b", {}, true}}, 30ms);
    constexpr int burst = 40;
    std::vector<std::shared_ptr<std::optional<api::send_result>>> replies;
    for (int i = 0; i < burst; ++i) replies.push_back(send("62812" + std::to_string(10000000 + i), "burst-" + std::to_string(i)));
    ASSERT_TRUE(run_until([&] { return sims["a"]->sent_count() >= 5; }, 10s));
    sims["a"]->unplug();
    ASSERT_TRUE(run_until(
        [&] {
            for (auto& r : replies)
                if (!r->has_value()) return false;
            return true;
        },
        20s));
    int sent = 0;
    for (int i = 0; i < burst; ++i) {
        const auto& r = **replies[i];
        const std::string text = "burst-" + std::to_string(i);
        const auto copies = count_text(text);
        EXPECT_LE(copies, 1u) << text << " sent twice";
        if (r.status == api::send_status::sent) {
            ++sent;
            EXPECT_EQ(copies, 1u) << text;
            // The reply names the modem that really sent it.
            bool on_named = false;
            for (const auto& m : sims[r.modem_id]->sent()) on_named |= m.text == text;
            EXPECT_TRUE(on_named) << text << " claimed by " << r.modem_id;
        } else {
            // Only a message caught mid-send on the unplugged modem may be lost,
            // and its reply says so.
            EXPECT_EQ(r.modem_id, "a") << text << ": " << r.error;
        }
    }
    EXPECT_GE(sent, burst - 1);
    EXPECT_FALSE(connected("a"));
}

TEST_F(Pool, ReplugReturnsTheModemToRotation) {
    start({{"a", {"62871"}}, {"b", {}, true}});
    sims["a"]->unplug();
    ASSERT_TRUE(run_until([&] { return !connected("a"); }, 5s));
    EXPECT_EQ(send_and_wait("6287111111111", "while unplugged").modem_id, "b");
    sims["a"]->replug();  // a new pty behind the same link, as when ttyUSB numbers shift
    ASSERT_TRUE(run_until([&] { return connected("a"); }, 10s));
    EXPECT_EQ(send_and_wait("6287111111111", "after replug").modem_id, "a");
}

TEST_F(Pool, ExpiredWhileWaitingIsDroppedNeverSentLate) {
    start({{"slow", {}, true}}, 1500ms, 5s);
    auto first = send("6281211111111", "first");
    auto late = send("6281222222222", "late", clock.unix_seconds() + 1);
    ASSERT_TRUE(run_until([&] { return first->has_value() && late->has_value(); }, 10s));
    EXPECT_EQ((*first)->status, api::send_status::sent);
    EXPECT_EQ((*late)->status, api::send_status::expired);
    run_until([] { return false; }, 300ms);
    EXPECT_EQ(count_text("late"), 0u);
}

TEST_F(Pool, ApiOffModemOnlySendsManualMessages) {
    start({{"api", {}, true}, {"manual", {"62871"}, false, false}});
    EXPECT_EQ(send_and_wait("6287111111111", "api traffic").modem_id, "api");
    auto r = send_and_wait("6287111111111", "typed by an operator", "manual");
    EXPECT_EQ(r.status, api::send_status::sent) << r.error;
    EXPECT_EQ(r.modem_id, "manual");
    EXPECT_EQ(send_and_wait("6287111111111", "x", "nope").status, api::send_status::failed);
}

TEST_F(Pool, SmsLogRecordsOutcomesWithoutText) {
    start({{"a", {}, true}});
    send_and_wait("6281234567890", "secret text 424242");
    bool stopped = false;
    p->stop([&] { stopped = true; });
    ASSERT_TRUE(run_until([&] { return stopped; }, 10s));
    p.reset();
    std::string all;
    for (const auto& f : std::filesystem::directory_iterator(dir / "state/sms-log")) all += core::read_file(f.path().string()).value_or("");
    EXPECT_NE(all.find("\"sent\""), std::string::npos) << all;
    EXPECT_EQ(all.find("424242"), std::string::npos);
    EXPECT_EQ(all.find("6281234567890"), std::string::npos);
}

TEST_F(Pool, StopAnswersQueuedMessages) {
    start({{"a", {}, true}}, 300ms, 5s);
    auto first = send("6281211111111", "in flight");
    auto queued = send("6281222222222", "queued");
    run_until([&] { return sims["a"]->commands().size() > 0 && !first->has_value(); }, 100ms);
    bool stopped = false;
    p->stop([&] { stopped = true; });
    ASSERT_TRUE(run_until([&] { return stopped && first->has_value() && queued->has_value(); }, 10s));
    EXPECT_EQ((*first)->status, api::send_status::sent);  // finished, not abandoned
    EXPECT_EQ((*queued)->status, api::send_status::failed);
    EXPECT_NE((*queued)->error.find("shutting down"), std::string::npos);
    EXPECT_EQ(count_text("queued"), 0u);
}

TEST_F(Pool, ModemIsFoundByImeiWhenItsTtyNameShifts) {
    // The modem first appears as ttyUSB0, is unplugged, and comes back as ttyUSB3.
    sim::sim_options o;
    o.imei = "359848091599999";
    o.send_delay = 20ms;
    sims["m1"] = std::make_unique<sim::modem_simulator>(o);
    auto& modem = *sims["m1"];
    const auto usb0 = dir / "ttyUSB0", usb3 = dir / "ttyUSB3";
    std::filesystem::create_symlink(modem.pts_path(), usb0);
    cfg.state_dir = dir / "state";
    cfg.general.inspect_modem_interval_s = 1;
    config::modem_config mc;
    mc.id = "m1";
    mc.port = usb0;
    mc.default_modem = true;
    cfg.modems.push_back(mc);
    pool::pool_options po;
    po.reopen_interval = 100ms;
    po.command_timeout = 400ms;
    po.scan_patterns = {dir / "ttyUSB*"};
    po.probe_timeout = 400ms;
    std::vector<std::string> events;
    p = std::make_unique<pool::modem_pool>(ioc, cfg, clock, po);
    p->on_event([&](const pool::pool_event& e) { events.push_back(e.kind + " " + e.detail); });
    p->start();
    ASSERT_TRUE(run_until([&] { return connected("m1"); }, 10s));

    modem.unplug();
    std::filesystem::remove(usb0);
    ASSERT_TRUE(run_until([&] { return !connected("m1"); }, 5s));
    modem.replug();
    std::filesystem::create_symlink(modem.pts_path(), usb3);
    ASSERT_TRUE(run_until([&] { return connected("m1"); }, 15s)) << p->modem_list().dump();
    EXPECT_EQ(p->modem_list()["m1"]["port"], usb3);
    EXPECT_EQ(send_and_wait("6281211111111", "after the shift").modem_id, "m1");
    bool told = false;
    for (const auto& e : events) told |= e.rfind("modem_moved", 0) == 0;
    EXPECT_TRUE(told) << "the admin UI hears about the move";
    // The listener writes into this test's locals: detach it before TearDown
    // stops the pool (ASan caught the stop event landing in a dead vector).
    p->on_event(nullptr);
}

TEST_F(Pool, AnotherModemsImeiIsNotTaken) {
    start({{"a", {}, true}});
    sim::sim_options o;
    o.imei = "490154203237518";  // a stranger on a matching port name
    sim::modem_simulator stranger(o);
    std::filesystem::create_symlink(stranger.pts_path(), dir / "ttyUSB9");
    sims["a"]->unplug();
    ASSERT_TRUE(run_until([&] { return !connected("a"); }, 5s));
    run_until([] { return false; }, 2500ms);  // two inspector rounds
    EXPECT_NE(p->modem_list()["a"]["port"], dir / "ttyUSB9");
}

TEST_F(Pool, PerMinuteCapMovesTrafficOnAndMakesTheRestWait) {
    start({{"capped", {"62871"}}, {"spare", {}, true}});
    cfg.modems[0].max_sms_per_minute = 2;
    p->apply_config(cfg);
    for (int i = 0; i < 2; ++i) EXPECT_EQ(send_and_wait("6287111111111", "c" + std::to_string(i)).modem_id, "capped");
    // At its cap the cheap SIM is skipped for the next tier...
    EXPECT_EQ(send_and_wait("6287111111111", "c2").modem_id, "spare");
    // ...and a message only it may send waits for the minute to free up
    // instead of failing.
    auto manual = send("6287111111111", "only capped", 0, "capped");
    run_until([] { return false; }, 500ms);
    EXPECT_FALSE(manual->has_value());
    EXPECT_EQ(p->modem_list()["capped"]["inRotation"], false);
    EXPECT_EQ(p->modem_list()["capped"]["queueDepth"], 1);
}

TEST_F(Pool, SimErrorTakesTheModemOutUntilItRecovers) {
    start({{"flaky", {"62871"}}, {"steady", {}, true}});
    sims["flaky"]->set_fault(fault::sim_removed);
    auto r = send_and_wait("6287111111111", "sim trouble");
    EXPECT_EQ(r.status, api::send_status::sent) << r.error;
    EXPECT_EQ(r.modem_id, "steady");
    EXPECT_EQ(p->modem_list()["flaky"]["inRotation"], false);
    EXPECT_EQ(send_and_wait("6287111111111", "still out").modem_id, "steady");
    sims["flaky"]->clear_fault();
    // The driver rechecks the SIM; once it answers, the modem is back.
    ASSERT_TRUE(run_until([&] { return p->modem_list()["flaky"]["inRotation"] == true; }, 15s)) << p->modem_list()["flaky"].dump();
    EXPECT_EQ(send_and_wait("6287111111111", "back").modem_id, "flaky");
}

// Issue 11: with a default modem, unrouted traffic waited for it however long
// its queue grew. The config's bound reaches the dispatcher, at start and on
// a reload: past it, the next tier takes the overflow.
TEST_F(Pool, ABusyDefaultModemSharesABurstPastTheWaitBound) {
    cfg.sms.max_queue_wait_s = 1;
    start({{"cheap", {}, true}, {"other", {}}}, 200ms);
    std::vector<std::shared_ptr<std::optional<api::send_result>>> results;
    // 16 x 200 ms = 3.2 s on the default modem alone, past the 1 s bound.
    for (int i = 0; i < 16; ++i) results.push_back(send("6281255555" + std::to_string(100 + i), "burst " + std::to_string(i)));
    ASSERT_TRUE(run_until([&] { return std::all_of(results.begin(), results.end(), [](const auto& r) { return r->has_value(); }); }, 20s));
    for (const auto& r : results) EXPECT_EQ((*r)->status, api::send_status::sent) << (*r)->error;
    EXPECT_EQ((*results.front())->modem_id, "cheap");
    EXPECT_GE(sims["cheap"]->sent_count(), 3u);
    EXPECT_GE(sims["other"]->sent_count(), 1u);
    EXPECT_EQ(sims["cheap"]->sent_count() + sims["other"]->sent_count(), 16u);

    // A reload to a bound the burst fits in keeps everything on the cheap SIM.
    cfg.sms.max_queue_wait_s = 60;
    p->apply_config(cfg);
    const std::size_t other_before = sims["other"]->sent_count();
    results.clear();
    for (int i = 0; i < 6; ++i) results.push_back(send("6281255555" + std::to_string(200 + i), "again " + std::to_string(i)));
    ASSERT_TRUE(run_until([&] { return std::all_of(results.begin(), results.end(), [](const auto& r) { return r->has_value(); }); }, 20s));
    for (const auto& r : results) EXPECT_EQ((*r)->modem_id, "cheap");
    EXPECT_EQ(sims["other"]->sent_count(), other_before);
}
