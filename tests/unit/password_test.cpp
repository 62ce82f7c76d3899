#include "security/password.hpp"

#include <gtest/gtest.h>

using namespace tp::security;

// Argon2id is deliberately slow: one hash, several checks against it.
TEST(password, an_argon2id_hash_verifies_the_password_and_nothing_else) {
    init_crypto();
    const auto hash = hash_password("correct horse battery staple");
    EXPECT_TRUE(hash.starts_with("$argon2id$")) << hash;
    EXPECT_EQ(hash.find("correct horse"), std::string::npos);
    EXPECT_TRUE(verify_password("correct horse battery staple", hash));
    EXPECT_FALSE(verify_password("correct horse battery stapl", hash));
    EXPECT_FALSE(verify_password("Correct horse battery staple", hash));
    EXPECT_FALSE(verify_password("", hash));
    // OWASP's setting: 19 MiB, 2 passes, 1 lane.
    EXPECT_NE(hash.find("m=19456,t=2,p=1"), std::string::npos) << hash;
    // Salted: the same password never gives the same hash twice.
    EXPECT_NE(hash_password("correct horse battery staple"), hash);
}

TEST(password, a_malformed_stored_hash_never_verifies) {
    init_crypto();
    EXPECT_FALSE(verify_password("anything", ""));
    EXPECT_FALSE(verify_password("anything", "$argon2id$v=19$m=19456,t=2,p=1$garbage"));
    EXPECT_FALSE(verify_password("anything", "anything"));
}
