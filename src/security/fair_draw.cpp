#include "security/fair_draw.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>
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

// The algorithm is looked up once: OpenSSL's one-shot functions look it up on every call,
// which is most of their cost for inputs this short (a draw hashes every entrant twice).
digest sha256(std::string_view text) {
    static EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr); // for the process's life
    digest out{};
    unsigned int size = 0;
    if (algorithm == nullptr || EVP_Digest(text.data(), text.size(), out.data(), &size, algorithm, nullptr) != 1 ||
        size != out.size()) {
        throw std::runtime_error("SHA-256 is not available");
    }
    return out;
}

// HMAC-SHA256 under one key, keyed once and restarted for each message.
class keyed_hmac {
public:
    explicit keyed_hmac(const std::array<std::uint8_t, 32>& key) {
        static EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr); // for the process's life
        context_.reset(hmac != nullptr ? EVP_MAC_CTX_new(hmac) : nullptr);
        char algorithm[] = "SHA256";
        const OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, algorithm, 0), OSSL_PARAM_construct_end()};
        if (!context_ || EVP_MAC_init(context_.get(), key.data(), key.size(), params) != 1) {
            throw std::runtime_error("HMAC-SHA256 is not available");
        }
    }

    digest of(std::string_view message) {
        digest out{};
        std::size_t size = 0;
        if (EVP_MAC_init(context_.get(), nullptr, 0, nullptr) != 1 ||
            EVP_MAC_update(context_.get(), reinterpret_cast<const unsigned char*>(message.data()), message.size()) !=
                1 ||
            EVP_MAC_final(context_.get(), out.data(), &size, out.size()) != 1 || size != out.size()) {
            throw std::runtime_error("HMAC-SHA256 failed");
        }
        return out;
    }

private:
    std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> context_{nullptr, &EVP_MAC_CTX_free};
};

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
    keyed_hmac hmac(seed.bytes);
    // Each key beside its index, so the sort moves small values in one array rather than
    // chasing indexes into another (a draw sorts hundreds of thousands).
    std::vector<std::pair<digest, std::size_t>> keyed;
    keyed.reserve(entrants.size());
    for (std::size_t i = 0; i < entrants.size(); ++i) {
        keyed.emplace_back(hmac.of(entrants[i]), i);
    }
    std::sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
        return a.first != b.first ? a.first < b.first : entrants[a.second] < entrants[b.second];
    });
    std::vector<std::size_t> order;
    order.reserve(keyed.size());
    for (const auto& [key, index] : keyed) {
        order.push_back(index);
    }
    return order;
}

} // namespace tp::security
