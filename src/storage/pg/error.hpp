#pragma once
// The one exception type of the PostgreSQL adapter. Repositories turn the few SQLSTATEs that
// are business outcomes (a unique or CHECK constraint) into domain errors; everything else
// travels up to the request boundary, where `unavailable` and `timeout` answer 503.

#include <stdexcept>
#include <string>

namespace tp::pg {

class error : public std::runtime_error {
public:
    enum class kind {
        unavailable, // cannot connect, connection lost, server shutting down
        timeout,     // statement_timeout or our own deadline
        query,       // any other server error: a bug or a constraint
    };

    error(kind k, const std::string& message, std::string sqlstate = {}, std::string constraint = {})
        : std::runtime_error(message), kind_(k), sqlstate_(std::move(sqlstate)), constraint_(std::move(constraint)) {}

    kind what_kind() const { return kind_; }
    const std::string& sqlstate() const { return sqlstate_; }
    const std::string& constraint() const { return constraint_; }

private:
    kind kind_;
    std::string sqlstate_;
    std::string constraint_;
};

} // namespace tp::pg
