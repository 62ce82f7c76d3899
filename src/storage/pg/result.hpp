#pragma once
// Owns one PGresult (RAII) and reads its text-format cells.

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tp::pg {

class result {
public:
    result() = default;
    explicit result(PGresult* raw) : raw_(raw, &PQclear) {}

    int rows() const { return raw_ ? PQntuples(raw_.get()) : 0; }
    bool empty() const { return rows() == 0; }
    // Rows touched by an INSERT/UPDATE/DELETE without RETURNING.
    std::int64_t affected() const;

    bool is_null(int row, int column) const { return PQgetisnull(raw_.get(), row, column) != 0; }
    std::string_view text(int row, int column) const;
    std::string string(int row, int column) const { return std::string(text(row, column)); }
    std::optional<std::string> optional_string(int row, int column) const;
    // A cell holding an id, as that id's type (domain::seat_id, ...).
    template <class Id> Id id(int row, int column) const { return Id(string(row, column)); }
    std::int64_t int64(int row, int column) const;
    std::optional<std::int64_t> optional_int64(int row, int column) const;
    bool boolean(int row, int column) const { return text(row, column) == "t"; }

    PGresult* get() const { return raw_.get(); }

private:
    std::unique_ptr<PGresult, decltype(&PQclear)> raw_{nullptr, &PQclear};
};

} // namespace tp::pg
