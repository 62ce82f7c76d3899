#pragma once
// What a replay needs before the doors open: fans with accounts and points (inserted straight
// into PostgreSQL), a schedule of M seats (through the admin API), and its gates configured.

#include "onsale/http_client.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace tp::onsale {

struct fan_account {
    std::string email;
    std::string password;
};

// Inserts `count` fans with `balance` points each (and the ledger rows that explain them).
// Their password hash is Argon2id at libsodium's minimum cost: sign-in runs the real
// endpoint and the real verification, without 19 MiB of hashing per fan dominating the run.
std::vector<fan_account>
insert_fans(const std::string& database_url, const std::string& run_tag, int count, std::int64_t balance);

// The ids of a schedule's seats, read from PostgreSQL.
std::vector<std::string> seat_ids(const std::string& database_url, const std::string& schedule_id);

// POST /admin/performances with one schedule of `seats` seats at `price`; returns its id.
awaitable<std::string>
create_schedule(http_client& client, const std::string& admin_key, int seats, std::int64_t price);

// PUT /admin/gates/{gate}.
awaitable<void>
configure_gate(http_client& client, const std::string& admin_key, const std::string& gate, int capacity, int rate);

// GET /admin/gates/{gate}: what an operator sees of a gate.
struct gate_reading {
    std::int64_t capacity = 0;
    std::int64_t rate = 0;
    std::int64_t waiting = 0;
};
awaitable<gate_reading> read_gate(http_client& client, const std::string& admin_key, const std::string& gate);

} // namespace tp::onsale
