#pragma once
// Versioned schema migrations (sql/migrations/NNNN_name.sql, compiled into the binary).
// Each applies in its own transaction and is recorded in schema_migrations; an advisory
// lock lets several instances run `ticketd migrate` at once without a race.

#include "storage/pg/connection.hpp"

#include <vector>

namespace tp::pg {

struct migration_report {
    std::vector<std::string> applied;
    std::vector<std::string> already_present;
};

awaitable<migration_report> migrate(connection& conn);

} // namespace tp::pg
