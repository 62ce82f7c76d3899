#include "storage/pg/result.hpp"

#include <charconv>
#include <stdexcept>

namespace tp::pg {

std::int64_t result::affected() const {
    const char* text = PQcmdTuples(raw_.get());
    return text == nullptr || *text == '\0' ? 0 : std::stoll(text);
}

std::string_view result::text(int row, int column) const {
    return {PQgetvalue(raw_.get(), row, column), static_cast<std::size_t>(PQgetlength(raw_.get(), row, column))};
}

std::optional<std::string> result::optional_string(int row, int column) const {
    if (is_null(row, column)) {
        return std::nullopt;
    }
    return string(row, column);
}

std::int64_t result::int64(int row, int column) const {
    const auto t = text(row, column);
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
    if (ec != std::errc{} || end != t.data() + t.size()) {
        throw std::runtime_error("column " + std::to_string(column) + " is not an integer");
    }
    return value;
}

std::optional<std::int64_t> result::optional_int64(int row, int column) const {
    if (is_null(row, column)) {
        return std::nullopt;
    }
    return int64(row, column);
}

} // namespace tp::pg
