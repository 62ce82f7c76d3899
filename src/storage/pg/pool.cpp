#include "storage/pg/pool.hpp"

#include "storage/pg/error.hpp"

#include <boost/asio/as_tuple.hpp>

#include <algorithm>

namespace tp::pg {

lease::~lease() {
    if (conn_) {
        pool_->give_back(std::move(conn_));
    }
}

pool::pool(asio::any_io_executor executor, pool_options options)
    : executor_(std::move(executor)), options_(std::move(options)) {}

pool::~pool() {
    *alive_ = false;
}

awaitable<lease> pool::acquire() {
    for (;;) {
        while (!idle_.empty()) {
            auto conn = std::move(idle_.back());
            idle_.pop_back();
            if (conn->still_alive()) {
                co_return lease(this, std::move(conn));
            }
            --open_;
        }
        if (open_ < options_.max_size) {
            ++open_;
            try {
                auto conn = co_await connection::open(options_.connection);
                co_return lease(this, std::move(conn));
            } catch (...) {
                discard();
                throw;
            }
        }
        waiter self{asio::steady_timer(executor_, options_.acquire_timeout), nullptr, false};
        waiters_.push_back(&self);
        co_await self.timer.async_wait(asio::as_tuple(use_awaitable));
        if (self.handed) {
            co_return lease(this, std::move(self.handed));
        }
        if (!self.woken) {
            std::erase(waiters_, &self);
            throw error(error::kind::unavailable, "no PostgreSQL connection became free in time");
        }
        // Woken because a connection was discarded: there is room to open a new one.
    }
}

awaitable<result> pool::execute(const query& q, params values) {
    auto conn = co_await acquire();
    co_return co_await conn->execute(q, std::move(values));
}

void pool::give_back(std::unique_ptr<connection> conn) {
    if (!conn->usable()) {
        // One broken connection usually means the server restarted or went away: the idle
        // ones are stale too, and dropping them now spares the next requests a failure each.
        conn.reset();
        discard();
        open_ -= idle_.size();
        idle_.clear();
        return;
    }
    switch (conn->transaction_status()) {
    case PQTRANS_IDLE:
        if (!waiters_.empty()) {
            auto* next = waiters_.front();
            waiters_.pop_front();
            next->handed = std::move(conn);
            next->timer.cancel();
        } else {
            idle_.push_back(std::move(conn));
        }
        return;
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR: asio::co_spawn(executor_, roll_back_and_return(std::move(conn)), asio::detached); return;
    default: // a query still in flight (its caller was cancelled) or unknown: state is lost
        conn.reset();
        discard();
        return;
    }
}

void pool::discard() {
    --open_;
    if (!waiters_.empty()) {
        auto* next = waiters_.front();
        waiters_.pop_front();
        next->woken = true;
        next->timer.cancel();
    }
}

awaitable<void> pool::roll_back_and_return(std::unique_ptr<connection> conn) {
    const auto alive = alive_;
    try {
        co_await conn->execute_script("ROLLBACK");
    } catch (const std::exception&) {
        // The connection is broken; give_back below discards it.
    }
    if (*alive) {
        give_back(std::move(conn));
    }
}

} // namespace tp::pg
