#include "app/commands.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace tp::app {

void setup_logging(const std::string& level) {
    auto logger = spdlog::stdout_logger_mt("ticketd");
    logger->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l pid=%P %v", spdlog::pattern_time_type::utc);
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    spdlog::flush_every(std::chrono::seconds(1));
}

} // namespace tp::app
