#pragma once
// The one place where PostgreSQL errors that are business outcomes become domain errors:
// a constraint the schema enforces (unique e-mail, non-negative balance, one payment per
// seat) refused a write that the code's own checks let through, e.g. under a race.

#include "domain/errc.hpp"
#include "storage/pg/error.hpp"

#include <optional>

namespace tp::pg {

std::optional<domain::error> as_domain_error(const error& e);

// Deadlocks and serialization failures: the transaction may simply be run again.
bool is_retryable(const error& e);

} // namespace tp::pg
