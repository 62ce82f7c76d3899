#include "storage/pg/migrations.hpp"

#include "support/embedded_file.hpp"

#include <algorithm>

namespace tp::migrations {
std::span<const tp::embedded_file> files(); // generated from sql/migrations by CMake
} // namespace tp::migrations

namespace tp::pg {
namespace {

// Any constant works; it only has to be the same for every instance.
constexpr const char* lock_id = "7205119";

constexpr query applied_versions{"migrations_applied", "SELECT name FROM schema_migrations ORDER BY name"};
constexpr query record_version{"migrations_record", "INSERT INTO schema_migrations (name) VALUES ($1)"};

} // namespace

awaitable<migration_report> migrate(connection& conn) {
    co_await conn.execute_script(std::string("SELECT pg_advisory_lock(") + lock_id + ")");
    co_await conn.execute_script("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                 " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
    const auto done = co_await conn.execute(applied_versions, {});
    std::vector<std::string> present;
    present.reserve(static_cast<std::size_t>(done.rows()));
    for (int row = 0; row < done.rows(); ++row) {
        present.push_back(done.string(row, 0));
    }
    std::vector<embedded_file> pending(migrations::files().begin(), migrations::files().end());
    std::sort(pending.begin(), pending.end(), [](auto& a, auto& b) { return a.name < b.name; });

    migration_report report;
    for (const auto& file : pending) {
        const std::string name(file.name);
        if (std::find(present.begin(), present.end(), name) != present.end()) {
            report.already_present.push_back(name);
            continue;
        }
        // On failure the caller exits; the session's end releases the lock and the
        // transaction rolls back, leaving the schema as it was before this file.
        co_await conn.execute_script("BEGIN");
        co_await conn.execute_script(std::string(file.content));
        co_await conn.execute(record_version, make_params(name));
        co_await conn.execute_script("COMMIT");
        report.applied.push_back(name);
    }
    co_await conn.execute_script(std::string("SELECT pg_advisory_unlock(") + lock_id + ")");
    co_return report;
}

} // namespace tp::pg
