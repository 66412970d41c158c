// The one translation unit that compiles Boost.Asio, Asio SSL and Beast.
// Everything else includes their headers with *_SEPARATE_COMPILATION defined
// (see CMakeLists.txt), so the heavy template bodies are built only here.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
