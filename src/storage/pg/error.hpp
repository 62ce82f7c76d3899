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

    // What the server reported beside its message, when the error came from the server.
    struct server_detail {
        std::string sqlstate;
        std::string constraint; // the violated constraint's name, if any
    };

    error(kind k, const std::string& message, server_detail detail = {})
        : std::runtime_error(message), kind_(k), detail_(std::move(detail)) {}

    kind what_kind() const { return kind_; }
    const std::string& sqlstate() const { return detail_.sqlstate; }
    const std::string& constraint() const { return detail_.constraint; }

private:
    kind kind_;
    server_detail detail_;
};

} // namespace tp::pg
