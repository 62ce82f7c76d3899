#include "domain/account.hpp"
#include "domain_printers.hpp"

#include <gtest/gtest.h>

using tp::domain::errc;
using tp::domain::normalise_email;
using tp::domain::sign_up_form;
using tp::domain::validate_sign_up;

namespace {

sign_up_form valid_form() {
    return sign_up_form{"fan@example.com", "correct horse", std::nullopt, std::nullopt};
}

void expect_refused(const sign_up_form& form, std::string_view field) {
    const auto r = validate_sign_up(form);
    ASSERT_FALSE(r) << "accepted " << form.email_address;
    EXPECT_EQ(r.error().code, errc::bad_request);
    EXPECT_NE(r.error().message.find(field), std::string::npos) << r.error().message;
}

} // namespace

TEST(normalise_email, trims_and_lowercases) {
    EXPECT_EQ(normalise_email("  Fan@Example.COM \t"), "fan@example.com");
    EXPECT_EQ(normalise_email("fan@example.com"), "fan@example.com");
    EXPECT_EQ(normalise_email("   "), "");
}

TEST(sign_up, accepts_a_minimal_valid_form) {
    const auto r = validate_sign_up(valid_form());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->email_address, "fan@example.com");
    EXPECT_EQ(r->password, "correct horse");
}

TEST(sign_up, normalises_the_email_so_case_variants_are_one_account) {
    auto form = valid_form();
    form.email_address = "  Fan@Example.com ";
    const auto r = validate_sign_up(form);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->email_address, "fan@example.com");
}

TEST(sign_up, keeps_the_password_exactly_as_typed) {
    auto form = valid_form();
    form.password = "  Mixed Case  ";
    const auto r = validate_sign_up(form);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->password, "  Mixed Case  ");
}

TEST(sign_up, refuses_implausible_email_addresses) {
    for (const char* email :
         {"",
          "fan",
          "@example.com",
          "fan@",
          "fan@example",
          "fan@.com",
          "fan@example.",
          "fan@@example.com",
          "f@n@example.com",
          "fan name@example.com",
          "fan\x01@example.com"}) {
        auto form = valid_form();
        form.email_address = email;
        expect_refused(form, "email_address");
    }
}

TEST(sign_up, refuses_an_email_address_longer_than_254_characters) {
    auto form = valid_form();
    const std::string domain = "@example.com";
    form.email_address = std::string(254 - domain.size(), 'a') + domain;
    EXPECT_TRUE(validate_sign_up(form));
    form.email_address = std::string(255 - domain.size(), 'a') + domain;
    expect_refused(form, "email_address");
}

TEST(sign_up, password_must_be_8_to_128_characters) {
    auto form = valid_form();
    form.password = std::string(7, 'x');
    expect_refused(form, "password");
    form.password = std::string(8, 'x');
    EXPECT_TRUE(validate_sign_up(form));
    form.password = std::string(128, 'x');
    EXPECT_TRUE(validate_sign_up(form));
    form.password = std::string(129, 'x');
    expect_refused(form, "password");
}

TEST(sign_up, name_is_optional_but_if_given_1_to_100_characters) {
    auto form = valid_form();
    form.name = "";
    expect_refused(form, "name");
    form.name = std::string(100, 'n');
    EXPECT_TRUE(validate_sign_up(form));
    form.name = std::string(101, 'n');
    expect_refused(form, "name");
}

TEST(sign_up, phone_number_is_digits_spaces_plus_and_dashes_up_to_20) {
    auto form = valid_form();
    form.phone_number = "+82 10-1234-5678";
    EXPECT_TRUE(validate_sign_up(form));
    form.phone_number = std::string(20, '1');
    EXPECT_TRUE(validate_sign_up(form));
    form.phone_number = std::string(21, '1');
    expect_refused(form, "phone_number");
    form.phone_number = "";
    expect_refused(form, "phone_number");
    form.phone_number = "010-CALL-ME";
    expect_refused(form, "phone_number");
}

TEST(sign_up, reports_the_first_bad_field) {
    sign_up_form form{"not an email", "short", std::string(), std::string("x")};
    expect_refused(form, "email_address");
}
