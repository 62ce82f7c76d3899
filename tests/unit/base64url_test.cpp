#include "security/base64url.hpp"

#include <gtest/gtest.h>

using tp::security::base64url_decode;
using tp::security::base64url_encode;

TEST(base64url, encodes_rfc4648_vectors_without_padding) {
    EXPECT_EQ(base64url_encode(""), "");
    EXPECT_EQ(base64url_encode("f"), "Zg");
    EXPECT_EQ(base64url_encode("fo"), "Zm8");
    EXPECT_EQ(base64url_encode("foo"), "Zm9v");
    EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
    EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
    EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
}

TEST(base64url, uses_the_url_safe_alphabet) {
    EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
    EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff");
}

TEST(base64url, decodes_what_it_encodes_for_every_byte) {
    std::string all;
    for (int i = 0; i < 256; ++i) {
        all.push_back(static_cast<char>(i));
    }
    for (std::size_t length = 0; length <= all.size(); length += 37) {
        const auto bytes = all.substr(0, length);
        EXPECT_EQ(base64url_decode(base64url_encode(bytes)), bytes) << length;
    }
    EXPECT_EQ(base64url_decode(base64url_encode(all)), all);
}

TEST(base64url, refuses_standard_base64_characters_and_padding) {
    EXPECT_FALSE(base64url_decode("+/8"));
    EXPECT_FALSE(base64url_decode("Zg=="));
    EXPECT_FALSE(base64url_decode("Zm9v YmFy"));
    EXPECT_FALSE(base64url_decode("Zm9v\n"));
}

TEST(base64url, refuses_an_impossible_length) {
    EXPECT_FALSE(base64url_decode("Z"));
    EXPECT_FALSE(base64url_decode("Zm9vY"));
}

TEST(base64url, refuses_nonzero_leftover_bits_so_each_value_has_one_spelling) {
    EXPECT_EQ(base64url_decode("Zg"), "f");
    EXPECT_FALSE(base64url_decode("Zh"));
    EXPECT_EQ(base64url_decode("Zm8"), "fo");
    EXPECT_FALSE(base64url_decode("Zm9"));
}
