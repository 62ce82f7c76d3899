#pragma once
// The operator commands of the `ticketd` binary (docs/api-contract.md, Operations): each
// returns the exit code.

#include "app/config.hpp"

namespace tp::app {

int serve(const config& c);
int migrate(const config& c);

// Logs as logfmt lines on stdout, timestamps in UTC.
void setup_logging(const std::string& level);

} // namespace tp::app
