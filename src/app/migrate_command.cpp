#include "app/commands.hpp"
#include "storage/pg/migrations.hpp"

#include <spdlog/spdlog.h>

namespace tp::app {
namespace {

awaitable<int> run_migrations(const config& c) {
    const pg::connection_options options{
        c.database_url, std::chrono::milliseconds(c.db_timeout_ms), std::chrono::minutes(10)};
    auto conn = co_await pg::connection::open(options);
    const auto report = co_await pg::migrate(*conn);
    for (const auto& name : report.applied) {
        spdlog::info("msg=\"migration applied\" name={}", name);
    }
    spdlog::info(
        "msg=\"schema up to date\" applied={} already_present={}", report.applied.size(), report.already_present.size()
    );
    co_return 0;
}

} // namespace

int migrate(const config& c) {
    asio::io_context context;
    int exit_code = 1;
    asio::co_spawn(context, run_migrations(c), [&](const std::exception_ptr& failure, int code) {
        if (failure) {
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& e) {
                spdlog::error("msg=\"migration failed\" error=\"{}\"", e.what());
            }
            return;
        }
        exit_code = code;
    });
    context.run();
    spdlog::default_logger()->flush();
    return exit_code;
}

} // namespace tp::app
