#include "security/password.hpp"

#include <sodium.h>

#include <stdexcept>

namespace tp::security {
namespace {

constexpr unsigned long long ops_limit = 2;
constexpr std::size_t mem_limit = std::size_t{19} * 1024 * 1024;

} // namespace

void init_crypto() {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium failed to initialise");
    }
}

std::string hash_password(std::string_view password) {
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(
            out, password.data(), password.size(), ops_limit, mem_limit, crypto_pwhash_ALG_ARGON2ID13
        ) != 0) {
        throw std::runtime_error("out of memory while hashing a password");
    }
    return out;
}

bool verify_password(std::string_view password, const std::string& stored_hash) {
    return crypto_pwhash_str_verify(stored_hash.c_str(), password.data(), password.size()) == 0;
}

} // namespace tp::security
