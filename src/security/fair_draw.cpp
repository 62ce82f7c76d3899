#include "security/fair_draw.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace tp::security {
namespace {

using digest = std::array<std::uint8_t, 32>;

std::string hex_of(const std::uint8_t* data, std::size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(size * 2, '0');
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 0x0f];
    }
    return out;
}

digest sha256(std::string_view text) {
    digest out{};
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
    return out;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

} // namespace

std::string draw_seed::hex() const {
    return hex_of(bytes.data(), bytes.size());
}

std::string draw_seed::commitment() const {
    const auto d = sha256(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    return hex_of(d.data(), d.size());
}

draw_seed new_draw_seed() {
    draw_seed seed;
    if (RAND_bytes(seed.bytes.data(), static_cast<int>(seed.bytes.size())) != 1) {
        throw std::runtime_error("the system's random number generator failed");
    }
    return seed;
}

std::optional<draw_seed> parse_draw_seed(std::string_view hex) {
    draw_seed seed;
    if (hex.size() != seed.bytes.size() * 2) {
        return std::nullopt;
    }
    for (std::size_t i = 0; i < seed.bytes.size(); ++i) {
        const int high = hex_digit(hex[2 * i]);
        const int low = hex_digit(hex[2 * i + 1]);
        if (high < 0 || low < 0) {
            return std::nullopt;
        }
        seed.bytes[i] = static_cast<std::uint8_t>(high << 4 | low);
    }
    return seed;
}

std::string entrant_of(std::string_view token_id) {
    const auto d = sha256(token_id);
    return hex_of(d.data(), d.size());
}

std::vector<std::size_t> draw_order(const draw_seed& seed, const std::vector<std::string>& entrants) {
    std::vector<digest> keys(entrants.size());
    for (std::size_t i = 0; i < entrants.size(); ++i) {
        unsigned int size = 0;
        const auto* mac = HMAC(
            EVP_sha256(),
            seed.bytes.data(),
            static_cast<int>(seed.bytes.size()),
            reinterpret_cast<const unsigned char*>(entrants[i].data()),
            entrants[i].size(),
            keys[i].data(),
            &size
        );
        if (mac == nullptr || size != keys[i].size()) {
            throw std::runtime_error("HMAC-SHA256 is not available");
        }
    }
    std::vector<std::size_t> order(entrants.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return keys[a] != keys[b] ? keys[a] < keys[b] : entrants[a] < entrants[b];
    });
    return order;
}

} // namespace tp::security
