#pragma once
// A side writer for the seat list figure: changes seats of one schedule at a steady rate the
// way takes and releases would (a seat AVAILABLE -> held -> AVAILABLE ...), committing each
// change in PostgreSQL and then moving the schedule's seat list version in Redis, in that
// order, as ticketd does (docs/seat-map.md). What it measures is the cost of keeping seat
// lists fresh under change, without the cost of the takes themselves.

#include <string>

namespace tp::onsale {

struct churn_options {
    std::string database_url;
    std::string redis_url;
    std::string schedule_id;
    int rate = 500; // changes per second
    double seconds = 10;
};

// Returns how many changes were made.
int churn(const churn_options& o);

} // namespace tp::onsale
