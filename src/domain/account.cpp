#include "domain/account.hpp"

#include <algorithm>
#include <cctype>

namespace tp::domain {
namespace {

bool is_plausible_email(std::string_view email) {
    const auto at = email.find('@');
    if (email.size() > 254 || at == 0 || at == std::string_view::npos ||
        email.find('@', at + 1) != std::string_view::npos) {
        return false;
    }
    const auto domain = email.substr(at + 1);
    const auto dot = domain.find('.');
    return dot != 0 && dot != std::string_view::npos && domain.back() != '.' &&
           std::none_of(email.begin(), email.end(), [](unsigned char c) {
               return std::isspace(c) != 0 || std::iscntrl(c) != 0;
           });
}

bool is_phone_number(std::string_view phone) {
    if (phone.empty() || phone.size() > 20) {
        return false;
    }
    return std::all_of(phone.begin(), phone.end(), [](unsigned char c) {
        return std::isdigit(c) != 0 || c == '-' || c == '+' || c == ' ';
    });
}

} // namespace

std::string normalise_email(std::string_view email) {
    while (!email.empty() && std::isspace(static_cast<unsigned char>(email.front())) != 0) {
        email.remove_prefix(1);
    }
    while (!email.empty() && std::isspace(static_cast<unsigned char>(email.back())) != 0) {
        email.remove_suffix(1);
    }
    std::string out(email);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return out;
}

result<sign_up_form> validate_sign_up(sign_up_form form) {
    form.email_address = normalise_email(form.email_address);
    if (!is_plausible_email(form.email_address)) {
        return make_error(errc::bad_request, "email_address must be a valid e-mail address.");
    }
    // Characters, not bytes: UTF-8 continuation bytes do not count.
    const auto characters =
        std::count_if(form.password.begin(), form.password.end(), [](unsigned char c) { return (c & 0xC0) != 0x80; });
    if (std::cmp_less(characters, min_password_length) || std::cmp_greater(characters, max_password_length)) {
        return make_error(errc::bad_request, "password must be 8 to 128 characters long.");
    }
    if (form.name && (form.name->empty() || form.name->size() > 100)) {
        return make_error(errc::bad_request, "name must be 1 to 100 characters long.");
    }
    if (form.phone_number && !is_phone_number(*form.phone_number)) {
        return make_error(errc::bad_request, "phone_number must be digits, spaces, '+' or '-'.");
    }
    return form;
}

} // namespace tp::domain
