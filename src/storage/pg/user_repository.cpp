#include "storage/pg/user_repository.hpp"

#include "storage/pg/constraint_errors.hpp"

namespace tp::pg {
namespace {

constexpr query insert_user{"users_insert", R"sql(
    INSERT INTO users (email_address, password_hash, name, phone_number)
    VALUES ($1, $2, $3, $4)
    RETURNING id
)sql"};

constexpr query select_credentials{"users_credentials", R"sql(
    SELECT id, password_hash FROM users WHERE email_address = $1
)sql"};

} // namespace

awaitable<domain::result<std::string>>
user_repository::create(const domain::sign_up_form& form, const std::string& password_hash) {
    try {
        const auto r = co_await pool_.execute(
            insert_user, make_params(form.email_address, password_hash, form.name, form.phone_number)
        );
        co_return r.string(0, 0);
    } catch (const error& e) {
        if (auto refused = as_domain_error(e)) {
            co_return *refused;
        }
        throw;
    }
}

awaitable<std::optional<credentials>> user_repository::find_credentials(const std::string& email_address) {
    const auto r = co_await pool_.execute(select_credentials, make_params(email_address));
    if (r.empty()) {
        co_return std::nullopt;
    }
    credentials found{.user_id = r.string(0, 0), .password_hash = r.string(0, 1)};
    co_return found;
}

} // namespace tp::pg
