#include "domain/errc.hpp"
#include "domain_printers.hpp"
#include "errc_list.hpp"

#include <gtest/gtest.h>

using tp::domain::errc;

TEST(errc, every_error_has_a_default_sentence) {
    for (const auto code : tp::test::all_errors) {
        const auto sentence = tp::domain::default_message(code);
        EXPECT_FALSE(sentence.empty()) << static_cast<int>(code);
        EXPECT_NE(sentence, "Unknown error.") << static_cast<int>(code);
    }
}

TEST(errc, make_error_uses_the_default_sentence_unless_told_otherwise) {
    const auto plain = tp::domain::make_error(errc::seat_taken);
    EXPECT_EQ(plain.code, errc::seat_taken);
    EXPECT_EQ(plain.message, tp::domain::default_message(errc::seat_taken));

    const auto precise = tp::domain::make_error(errc::bad_request, "amount is required.");
    EXPECT_EQ(precise.code, errc::bad_request);
    EXPECT_EQ(precise.message, "amount is required.");
}

TEST(errc, a_result_holds_either_a_value_or_an_error) {
    tp::domain::result<int> ok = 5;
    tp::domain::result<int> refused = tp::domain::make_error(errc::sold_out);
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, 5);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, errc::sold_out);
}

TEST(errc, insisting_on_the_value_of_an_error_throws) {
    tp::domain::result<int> refused = tp::domain::make_error(errc::sold_out);
    EXPECT_THROW((void)refused.value(), std::logic_error);
}

TEST(errc, the_test_list_names_each_error_once_in_declaration_order) {
    for (std::size_t i = 0; i < tp::test::all_errors.size(); ++i) {
        EXPECT_EQ(static_cast<std::size_t>(tp::test::all_errors[i]), i);
    }
}
