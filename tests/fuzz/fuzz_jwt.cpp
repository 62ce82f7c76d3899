// Access tokens: security::jwt_codec::verify, through the thread's token_verifier as the
// dispatcher calls it, and base64url. token_invalid and token_expired are answers, not bugs.
// The first byte picks what the rest is:
//   even  a token as a client sends it in "Authorization: Bearer <token>";
//   odd   a header and a payload (JSON, split at the first newline), signed here with the
//         codec's secret so that verify gets past the signature to its JSON checks.
// Invariants: base64url decodes what it encodes and has one spelling per byte string; a
// token verifies the same from the verifier's memory as from the codec; claims that verify
// sign to a token that verifies to the same claims.

#include "security/base64url.hpp"
#include "security/jwt.hpp"
#include "security/token_verifier.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using tp::security::base64url_decode;
using tp::security::base64url_encode;

constexpr std::string_view secret = "fuzz-secret";
constexpr std::int64_t now_seconds = 1'900'000'000;

void require(bool invariant, const char* what) {
    if (!invariant) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

// HS256 over "<header>.<payload>" with the test's own HMAC: the codec's is what is tested.
std::string signed_token(std::string_view header, std::string_view payload) {
    std::string token = base64url_encode(header) + '.' + base64url_encode(payload);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(
        EVP_sha256(),
        secret.data(),
        static_cast<int>(secret.size()),
        reinterpret_cast<const unsigned char*>(token.data()),
        token.size(),
        digest,
        &length
    );
    return token + '.' + base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

bool same(const tp::security::jwt_claims& a, const tp::security::jwt_claims& b) {
    return a.subject == b.subject && a.issued_at == b.issued_at && a.expires_at == b.expires_at;
}

void check_base64url(std::string_view bytes) {
    const auto encoded = base64url_encode(bytes);
    const auto decoded = base64url_decode(encoded);
    require(decoded && *decoded == bytes, "base64url decodes what it encodes");
    if (const auto text = base64url_decode(bytes)) {
        require(base64url_encode(*text) == bytes, "base64url has one spelling per byte string");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const tp::security::jwt_codec codec{std::string(secret)};
    if (size == 0) {
        return 0;
    }
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    check_base64url(rest);

    std::string token;
    if (data[0] % 2 == 0) {
        token = std::string(rest);
    } else {
        const auto newline = rest.find('\n');
        const auto header =
            newline == std::string_view::npos ? std::string_view(R"({"alg":"HS256"})") : rest.substr(0, newline);
        token = signed_token(header, newline == std::string_view::npos ? rest : rest.substr(newline + 1));
    }

    // A verifier per input, as a thread has one: first from the codec, then from its memory.
    tp::security::token_verifier verifier(codec, 4);
    const auto first = verifier.verify(token, now_seconds);
    const auto again = verifier.verify(token, now_seconds);
    const auto direct = codec.verify(token, now_seconds);
    require(first.has_value() == direct.has_value(), "the verifier agrees with the codec");
    require(first.has_value() == again.has_value(), "a remembered token verifies as before");
    if (!first) {
        require(first.error().code == direct.error().code, "the same refusal from the verifier and the codec");
        return 0;
    }
    require(same(*first, *again) && same(*first, *direct), "the same claims from memory and from the codec");
    const auto resigned = codec.verify(codec.sign(*first), now_seconds);
    require(resigned && same(*resigned, *first), "verified claims sign to a token with the same claims");
    return 0;
}
