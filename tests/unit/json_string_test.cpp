#include "api/json_io.hpp"

#include <boost/json.hpp>

#include <gtest/gtest.h>

namespace {

std::string round_trip(std::string_view text) {
    std::string literal;
    tp::api::append_json_string(literal, text);
    return std::string(boost::json::parse(literal).as_string());
}

} // namespace

TEST(json_string, writes_literals_that_parse_back_to_the_same_text) {
    for (std::string_view text :
         {"", "A-12", "say \"hi\"", "back\\slash", "tab\tnew\nline\r", "\x01\x1f", "좌석 1열", "</script>"}) {
        EXPECT_EQ(round_trip(text), text);
    }
}

TEST(json_string, escapes_control_characters_as_unicode) {
    std::string literal;
    tp::api::append_json_string(literal, std::string_view("\x01", 1));
    EXPECT_EQ(literal, "\"\\u0001\"");
}
