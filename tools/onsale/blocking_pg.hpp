#pragma once
// Blocking libpq for the benchmark's set-up and side writers: a connection and a statement.
// (The servers under test use the project's non-blocking adapter; the tools need neither
// its pool nor its event loop for a few statements.)

#include <libpq-fe.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace tp::onsale {

using connection_ptr = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using result_ptr = std::unique_ptr<PGresult, decltype(&PQclear)>;

inline connection_ptr connect(const std::string& url) {
    connection_ptr conn(PQconnectdb(url.c_str()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        throw std::runtime_error(std::string("PostgreSQL: ") + PQerrorMessage(conn.get()));
    }
    return conn;
}

inline result_ptr run(PGconn* conn, const char* sql, const std::vector<std::string>& params) {
    std::vector<const char*> values;
    for (const auto& p : params) {
        values.push_back(p.c_str());
    }
    result_ptr r(
        PQexecParams(conn, sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0), &PQclear
    );
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        throw std::runtime_error(std::string("PostgreSQL: ") + PQresultErrorMessage(r.get()));
    }
    return r;
}

} // namespace tp::onsale
