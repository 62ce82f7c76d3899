#include "storage/redis/key_slot.hpp"

#include <array>

namespace tp::redis {
namespace {

// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as in Redis' crc16.c.
constexpr std::array<std::uint16_t, 256> make_table() {
    std::array<std::uint16_t, 256> table{};
    for (std::uint16_t i = 0; i < 256; ++i) {
        auto crc = static_cast<std::uint16_t>(i << 8);
        for (int bit = 0; bit < 8; ++bit) {
            crc = static_cast<std::uint16_t>((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1);
        }
        table[i] = crc;
    }
    return table;
}

constexpr auto crc_table = make_table();

std::uint16_t crc16(std::string_view bytes) {
    std::uint16_t crc = 0;
    for (const char c : bytes) {
        const auto index = static_cast<std::uint8_t>((crc >> 8) ^ static_cast<std::uint8_t>(c));
        crc = static_cast<std::uint16_t>((crc << 8) ^ crc_table[index]);
    }
    return crc;
}

} // namespace

std::string_view hash_tag(std::string_view key) {
    const auto open = key.find('{');
    if (open == std::string_view::npos) {
        return key;
    }
    const auto close = key.find('}', open + 1);
    if (close == std::string_view::npos || close == open + 1) {
        return key; // no closing brace, or "{}": the whole key
    }
    return key.substr(open + 1, close - open - 1);
}

std::uint16_t key_slot(std::string_view key) {
    return static_cast<std::uint16_t>(crc16(hash_tag(key)) % slot_count);
}

} // namespace tp::redis
