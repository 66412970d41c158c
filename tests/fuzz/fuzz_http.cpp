// The HTTP server's own byte and connection logic on anything:
//  - fold_scanner: the verdict on a request header must not depend on how
//    its bytes were split into reads (the first byte picks the split points);
//  - connection_table: a random sequence of connections opening, going busy
//    and idle, closing and being shed must keep its counts consistent, never
//    offer a busy connection to shed, and never refuse a client under both caps.
#include "otppi/http/connection_table.hpp"
#include "otppi/http/fold_scanner.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <list>
#include <string>
#include <string_view>
#include <vector>

using namespace otppi::http;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void fuzz_fold(std::string_view bytes, std::uint8_t seed) {
    fold_scanner whole;
    whole.feed(bytes);
    fold_scanner pieces;
    std::size_t step = seed % 7 + 1;
    for (std::size_t i = 0; i < bytes.size(); i += step, step = step % 5 + 1) pieces.feed(bytes.substr(i, step));
    check(whole.found() == pieces.found());
    check(whole.done() == pieces.done());
}

void fuzz_table(const std::uint8_t* data, std::size_t size) {
    connection_table table;
    std::list<connection_table::entry> open;  // stable addresses
    const std::size_t max_total = 8, max_per_client = data[0] % 4;  // 0 = no per-client cap
    for (std::size_t i = 1; i + 1 < size; i += 2) {
        const std::string client(1, static_cast<char>('a' + data[i] % 4));
        const std::uint8_t op = data[i + 1] % 4;
        if (op == 0) {  // a connection arrives
            const auto d = table.admit(client, max_total, max_per_client);
            const std::size_t mine = table.count(client);
            if (max_per_client && mine >= max_per_client) check(d.what == connection_table::verdict::client_full);
            else if (table.size() < max_total) check(d.what == connection_table::verdict::accept);
            if (d.what == connection_table::verdict::accept_after_shedding) {
                check(d.shed && d.shed->tracked() && d.shed->sheddable() && d.shed->client() != client);
                check(table.count(d.shed->client()) >= mine + 2);
                table.remove(*d.shed);
            }
            if (d.what == connection_table::verdict::accept || d.what == connection_table::verdict::accept_after_shedding)
                table.add(open.emplace_back(), client, true);
        } else if (!open.empty()) {
            auto it = open.begin();
            std::advance(it, data[i] % open.size());
            if (op == 1) table.set_sheddable(*it, false);
            if (op == 2) table.set_sheddable(*it, true);
            if (op == 3) table.remove(*it);
            if (!it->tracked()) open.erase(it);
        }
        check(table.size() <= max_total);
        std::size_t tracked = 0;
        for (auto& e : open) tracked += e.tracked();
        check(tracked == table.size());
    }
    for (auto& e : open) table.remove(e);
    check(table.size() == 0 && table.clients() == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    fuzz_fold(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), data[0]);
    fuzz_table(data, size);
    return 0;
}
