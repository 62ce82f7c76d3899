#pragma once
// Accounts: creation and the credentials sign-in checks.

#include "domain/account.hpp"
#include "storage/pg/pool.hpp"

#include <optional>

namespace tp::pg {

struct credentials {
    std::string user_id;
    std::string password_hash;
};

class user_repository {
public:
    explicit user_repository(pool& p) : pool_(p) {}

    // email_taken when the address is registered already (decided by the UNIQUE index).
    awaitable<domain::result<std::string>> create(const domain::sign_up_form& form, const std::string& password_hash);

    awaitable<std::optional<credentials>> find_credentials(const std::string& email_address);

private:
    pool& pool_;
};

} // namespace tp::pg
