// The usual visitor helper for std::visit over the AT engine's action variant.
#pragma once

namespace otppi::core {

template <class... Ts>
struct overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

}  // namespace otppi::core
