#pragma once
// Rules for creating an account. Pure: the caller parses JSON and stores the result.

#include "domain/errc.hpp"

#include <optional>
#include <string>

namespace tp::domain {

struct sign_up_form {
    std::string email_address;
    std::string password;
    std::optional<std::string> name;
    std::optional<std::string> phone_number;
};

inline constexpr std::size_t min_password_length = 8;
inline constexpr std::size_t max_password_length = 128;

// Checks every field and normalises the e-mail address (trimmed, lower-case), so that
// "Fan@Example.com" and "fan@example.com" are one account.
result<sign_up_form> validate_sign_up(sign_up_form form);

std::string normalise_email(std::string_view email);

} // namespace tp::domain
