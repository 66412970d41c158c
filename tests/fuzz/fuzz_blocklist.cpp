// The block list's loader on any files: a snapshot and a journal, split at the
// first NUL byte of the input. Errors, never a crash; what loads must survive
// its own snapshot form (the writer never writes what the loader refuses).
#include "otppi/api/block_list.hpp"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    const auto nul = in.find('\0');
    const auto snapshot = in.substr(0, nul);
    const auto journal = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
    std::set<std::string> numbers;
    if (!otppi::api::block_list::parse_snapshot(snapshot, numbers).empty()) return 0;
    std::size_t bad = 0;
    const auto whole = otppi::api::block_list::replay_journal(journal, numbers, bad);
    if (whole > journal.size()) __builtin_trap();
    const auto text = otppi::api::block_list::serialize_snapshot(std::vector<std::string>(numbers.begin(), numbers.end()));
    std::set<std::string> again;
    if (!otppi::api::block_list::parse_snapshot(text, again).empty() || again != numbers) __builtin_trap();
    return 0;
}
