// The one translation unit that compiles Asio and Beast (BOOST_*_SEPARATE_COMPILATION):
// every other file includes their headers only, which keeps builds on two cores bearable.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
