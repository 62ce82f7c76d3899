#include "api/seat_map_cache.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>

namespace tp::api {

seat_map_cache::seat_map_cache(
    asio::any_io_executor executor, pg::pool& db, metrics& stats, seat_map_cache_options options
)
    : executor_(std::move(executor)), repository_(db), stats_(stats), options_(options) {}

bool seat_map_cache::holds(const entry& e, const std::string& version, std::uint64_t session) {
    return e.round_of_answer != 0 && e.session == session &&
           std::find(e.current_for.rbegin(), e.current_for.rend(), version) != e.current_for.rend();
}

void seat_map_cache::now_current_for(entry& e, const std::string& version) {
    constexpr std::size_t remembered = 16; // enough for the requests in flight on one thread
    if (e.current_for.empty() || e.current_for.back() != version) {
        e.current_for.push_back(version);
    }
    if (e.current_for.size() > remembered) {
        e.current_for.pop_front();
    }
}

bool seat_map_cache::is_current(const entry& e, const redis::seat_map_version& seen) const {
    if (e.round_of_answer == 0) {
        return false;
    }
    return options_.skip_version_check || holds(e, seen.value, seen.session);
}

std::string seat_map_cache::version_of(const domain::schedule_id& schedule) const {
    const auto it = entries_.find(schedule);
    if (it == entries_.end() || !it->second->map || it->second->round_of_answer == 0) {
        return {};
    }
    return it->second->current_for.back(); // "" (no change recorded when read) reads no log: see below
}

// The entries read chain from `since` to `seen.value`; if the map holds `since` (in the same
// Redis session), applying them makes it hold `seen.value` too. Requests in flight together
// asked from the same `since`: the first applies the entries, the others apply them again
// (no change: same counts). A round under way meanwhile is harmless: states only move to
// higher change counts, and the round then claims the version it read, which its own read
// covers. A map read when no version existed never takes this path: the log's first entry
// names "0" as its predecessor, and so would the first entry after a lost version, which
// must not chain to an older map.
bool seat_map_cache::apply_logged_changes(entry& e, const redis::seat_map_version& seen) {
    if (options_.skip_version_check || !seen.changes || !e.map || e.missing || seen.since.empty() ||
        !holds(e, seen.since, seen.session) || !e.map->apply(*seen.changes)) {
        return false;
    }
    now_current_for(e, seen.value);
    const auto before = e.map->blocks_encoded();
    e.answer = e.map->answer_at(seen.now_ms);
    stats_.seat_map_blocks_encoded.fetch_add(e.map->blocks_encoded() - before, std::memory_order_relaxed);
    stats_.seat_map_logged_updates.fetch_add(1, std::memory_order_relaxed);
    return true;
}

std::optional<std::size_t>
seat_map_cache::available_seats(const domain::schedule_id& schedule, const redis::seat_map_version& seen) {
    const auto it = entries_.find(schedule);
    if (it == entries_.end() || options_.skip_version_check) {
        return std::nullopt;
    }
    auto& e = *it->second;
    if ((!is_current(e, seen) && !apply_logged_changes(e, seen)) || !e.map) {
        return std::nullopt;
    }
    current_answer(e, seen.now_ms); // holds that ran out since the last answer show AVAILABLE
    return e.map->available();
}

std::vector<domain::schedule_id> seat_map_cache::cached_schedules() const {
    std::vector<domain::schedule_id> out;
    for (const auto& [schedule, e] : entries_) {
        if (e->map && e->round_of_answer != 0) {
            out.push_back(schedule);
        }
    }
    return out;
}

std::optional<domain::error> seat_map_cache::take_refusal(
    const domain::schedule_id& schedule,
    const redis::seat_map_version& seen,
    const domain::user_id& user,
    std::span<const domain::seat_id> seat_ids,
    int max_seats_per_user
) {
    const auto it = entries_.find(schedule);
    if (it == entries_.end() || options_.skip_version_check) {
        return std::nullopt;
    }
    auto& e = *it->second;
    if (!is_current(e, seen) && !apply_logged_changes(e, seen)) {
        return std::nullopt;
    }
    if (!e.map) {
        return std::nullopt;
    }
    auto refused = e.map->refusal_of_take(user, seat_ids, max_seats_per_user, schedule, seen.now_ms);
    if (refused) {
        stats_.takes_refused_from_seat_map.fetch_add(1, std::memory_order_relaxed);
    }
    return refused;
}

awaitable<domain::result<std::shared_ptr<const seat_list_answer>>>
seat_map_cache::answer(const domain::schedule_id& schedule, const redis::seat_map_version& seen) {
    auto& slot = entries_[schedule];
    if (!slot) {
        slot = std::make_unique<entry>(executor_);
        // Never expires: only cancel() at the end of a round wakes it (and keeps its expiry).
        slot->round_done.expires_at(asio::steady_timer::time_point::max());
    }
    auto& e = *slot;
    e.last_used = ++uses_;
    const bool logged = !is_current(e, seen) && apply_logged_changes(e, seen);
    if (logged || is_current(e, seen)) {
        stats_.seat_map_hits.fetch_add(logged ? 0 : 1, std::memory_order_relaxed);
        if (!options_.skip_version_check && std::chrono::steady_clock::now() - e.read_at >= options_.max_age) {
            want_round(e, e.rounds_started + 1, seen, schedule); // in the background
        }
        co_return current_answer(e, seen.now_ms);
    }
    // A round already under way may have read PostgreSQL before this request read its
    // version: only a round that starts from now on will do.
    const auto needed = e.rounds_started + 1;
    want_round(e, needed, seen, schedule);
    ++e.waiting;
    while (e.rounds_finished < needed) {
        co_await e.round_done.async_wait(asio::as_tuple(use_awaitable));
    }
    --e.waiting;
    if (e.round_of_answer < needed) {
        std::rethrow_exception(e.failure);
    }
    co_return current_answer(e, seen.now_ms);
}

void seat_map_cache::want_round(
    entry& e, std::uint64_t round, const redis::seat_map_version& seen, const domain::schedule_id& schedule
) {
    e.rounds_wanted = std::max(e.rounds_wanted, round);
    e.newest_seen = seen;
    if (!e.running) {
        e.running = true;
        asio::co_spawn(executor_, run_rounds(schedule, e), asio::detached);
    }
}

domain::result<std::shared_ptr<const seat_list_answer>>
seat_map_cache::current_answer(entry& e, domain::epoch_ms now_ms) {
    if (e.missing) {
        return domain::make_error(domain::errc::schedule_not_found);
    }
    if (now_ms >= e.map->next_expiry()) { // a hold ran out: shown AVAILABLE from now on
        const auto before = e.map->blocks_encoded();
        e.answer = e.map->answer_at(now_ms);
        stats_.seat_map_blocks_encoded.fetch_add(e.map->blocks_encoded() - before, std::memory_order_relaxed);
    }
    return e.answer;
}

// The entry outlives its rounds: forget_least_used() never drops an entry that is running.
awaitable<void> seat_map_cache::run_rounds(domain::schedule_id schedule, entry& e) {
    while (e.rounds_wanted > e.rounds_started) {
        const auto spacing = e.last_round_start + options_.refresh_spacing - std::chrono::steady_clock::now();
        if (spacing > std::chrono::steady_clock::duration::zero()) {
            asio::steady_timer pause(executor_, spacing);
            co_await pause.async_wait(asio::as_tuple(use_awaitable));
        }
        const auto round = ++e.rounds_started;
        const auto seen = e.newest_seen; // read before this round reads PostgreSQL
        e.last_round_start = std::chrono::steady_clock::now();
        try {
            const bool whole = co_await refresh(schedule, e, seen.now_ms);
            if (whole || e.session != seen.session) {
                e.current_for.clear();
            }
            now_current_for(e, seen.value);
            e.session = seen.session;
            e.read_at = e.last_round_start;
            e.round_of_answer = round;
        } catch (...) {
            e.failure = std::current_exception();
        }
        e.rounds_finished = round;
        e.round_done.cancel();
    }
    e.running = false;
    forget_least_used();
}

awaitable<bool> seat_map_cache::refresh(const domain::schedule_id& schedule, entry& e, domain::epoch_ms now_ms) {
    stats_.seat_map_refreshes.fetch_add(1, std::memory_order_relaxed);
    const auto encoded_before = e.map ? e.map->blocks_encoded() : 0;
    if (e.map && !e.watermark.empty()) {
        const auto changed = co_await repository_.read_changes(schedule, e.watermark);
        if (e.map->apply(changed.changes)) {
            e.watermark = changed.watermark;
            e.answer = e.map->answer_at(now_ms);
            stats_.seat_map_blocks_encoded.fetch_add(
                e.map->blocks_encoded() - encoded_before, std::memory_order_relaxed
            );
            co_return false;
        }
    }
    stats_.seat_map_full_reads.fetch_add(1, std::memory_order_relaxed);
    auto all = co_await repository_.read_all(schedule);
    if (!all) {
        e.missing = true;
        e.map.reset();
        e.answer.reset();
        co_return true;
    }
    e.missing = false;
    e.map = std::make_unique<seat_map>(std::move(all->seats), all->ticketing_starts);
    e.watermark = std::move(all->watermark);
    e.answer = e.map->answer_at(now_ms);
    stats_.seat_map_blocks_encoded.fetch_add(e.map->blocks_encoded(), std::memory_order_relaxed);
    co_return true;
}

void seat_map_cache::forget_least_used() {
    for (;;) {
        std::size_t cached = 0;
        auto oldest = entries_.end();
        for (auto it = entries_.begin(); it != entries_.end(); ++it) {
            const auto& e = *it->second;
            cached += e.map ? e.map->size() : 0;
            const bool idle = !e.running && e.waiting == 0;
            if (idle && (oldest == entries_.end() || e.last_used < oldest->second->last_used)) {
                oldest = it;
            }
        }
        if (cached <= options_.max_cached_seats || oldest == entries_.end()) {
            return;
        }
        entries_.erase(oldest);
    }
}

} // namespace tp::api
