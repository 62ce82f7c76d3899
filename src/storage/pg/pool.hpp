#pragma once
// A pool of PostgreSQL connections for one event loop (one per I/O thread, so no locks).
//
// A request takes one connection for the whole of its work and never asks for a second,
// so the pool cannot deadlock however many requests wait. Waiting is bounded: past
// `acquire_timeout` the caller gets pg::error{unavailable} (answered 503), never a hang.
// A connection handed back broken or mid-query is discarded; one handed back inside a
// transaction is rolled back first (transactions are never committed implicitly).

#include "storage/pg/connection.hpp"

#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <vector>

namespace tp::pg {

struct pool_options {
    connection_options connection;
    std::size_t max_size = 8;
    std::chrono::milliseconds acquire_timeout{3000};
};

class pool;

// A connection on loan; returns itself to the pool when destroyed.
class lease {
public:
    lease(pool* owner, std::unique_ptr<connection> conn) : pool_(owner), conn_(std::move(conn)) {}
    lease(lease&&) noexcept = default;
    lease& operator=(lease&&) noexcept = delete;
    lease(const lease&) = delete;
    ~lease();

    connection* operator->() const { return conn_.get(); }
    connection& operator*() const { return *conn_; }

private:
    pool* pool_;
    std::unique_ptr<connection> conn_;
};

class pool {
public:
    pool(asio::any_io_executor executor, pool_options options);
    pool(const pool&) = delete;
    ~pool();

    awaitable<lease> acquire();

    // Runs one statement on a pooled connection: its own implicit transaction.
    awaitable<result> execute(const query& q, params values);

    std::size_t open_connections() const { return open_; }
    std::size_t idle_connections() const { return idle_.size(); }
    std::size_t waiting() const { return waiters_.size(); }

private:
    friend class lease;

    struct waiter {
        asio::steady_timer timer;
        std::unique_ptr<connection> handed;
        bool woken = false;
    };

    void give_back(std::unique_ptr<connection> conn);
    void discard();
    awaitable<void> roll_back_and_return(std::unique_ptr<connection> conn);

    asio::any_io_executor executor_;
    pool_options options_;
    std::vector<std::unique_ptr<connection>> idle_;
    std::deque<waiter*> waiters_;
    std::size_t open_ = 0; // idle + leased + connecting
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace tp::pg
