// ticketd: `ticketd [serve]` runs the server, `ticketd migrate` applies schema migrations.
// Configuration comes from the environment (see README.md, "Configuration").

#include "app/commands.hpp"
#include "security/password.hpp"

#include <cstdio>
#include <string_view>

namespace {

constexpr const char* usage = R"(usage: ticketd [serve | migrate | help]
  serve    run the HTTP server (the default)
  migrate  apply database schema migrations and exit
Configuration is read from the environment: DATABASE_URL, REDIS_URL, LISTEN, JWT_SECRET,
ADMIN_API_KEY, HOLD_TTL_SECONDS, THREADS, LOG_LEVEL, ... (see README.md).
)";

} // namespace

int main(int argc, char** argv) {
    const std::string_view command = argc > 1 ? argv[1] : "serve";
    if (command == "help" || command == "--help" || command == "-h") {
        std::fputs(usage, stdout);
        return 0;
    }
    if (argc > 2 || (command != "serve" && command != "migrate")) {
        std::fputs(usage, stderr);
        return 64;
    }
    auto config = tp::app::load_config(tp::app::process_environment());
    if (!config) {
        std::fprintf(stderr, "ticketd: configuration error: %s\n", config.error().message.c_str());
        return 78;
    }
    tp::app::setup_logging(config->log_level);
    tp::security::init_crypto();
    return command == "migrate" ? tp::app::migrate(*config) : tp::app::serve(*config);
}
