#pragma once
// The seat lists of one I/O thread, kept ready to send and never stale (docs/seat-map.md).
//
// Freshness: a list answers every take, payment and release answered before it was asked for,
// on any instance. Every such change moves its schedule's version in Redis before its answer
// goes out (redis::seat_map_versions::bump); every list reads that version first. A cached
// list is used only if it was read from PostgreSQL after a read of the same version: then no
// change was answered in between. Otherwise the caller waits for a refresh that starts after
// its own read of the version, and all callers waiting meanwhile share that one refresh.
//
// The version is read together with the change log's entries after the cache's own version
// (version_of): when they chain from it to the version read, they are applied and the list
// is current with no PostgreSQL read.
//
// Cost: a refresh reads only the seats changed since the last one (pg::seat_map_repository's
// watermark) and encodes again only the blocks they are in (api::seat_map).

#include "api/seat_map.hpp"
#include "storage/pg/seat_map_repository.hpp"
#include "storage/redis/seat_map_versions.hpp"
#include "support/metrics.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <exception>
#include <memory>
#include <string>
#include <unordered_map>

namespace tp::api {

struct seat_map_cache_options {
    // Refreshes of one list start at most this often; callers meanwhile wait for the next one.
    std::chrono::milliseconds refresh_spacing{1};
    // A list whose version did not move is still read again this often in the background, as a
    // bound for a change whose version bump was lost (Redis unreachable at that moment, or the
    // instance killed between commit and bump).
    std::chrono::milliseconds max_age{1000};
    // Lists beyond this many seats in all are dropped, least recently used first.
    std::size_t max_cached_seats = 60'000;
    // A fault for the tests' negative control only: trust the cached list without checking.
    bool skip_version_check = false;
};

class seat_map_cache {
public:
    seat_map_cache(asio::any_io_executor executor, pg::pool& db, metrics& stats, seat_map_cache_options options = {});
    seat_map_cache(const seat_map_cache&) = delete;

    // The list of `schedule`, given the version this request read before calling.
    // schedule_not_found for an unknown schedule; pg::error when PostgreSQL fails.
    awaitable<domain::result<std::shared_ptr<const seat_list_answer>>>
    answer(const domain::schedule_id& schedule, const redis::seat_map_version& seen);

    // A take's refusal decided from this thread's map of `schedule`, when the map is current
    // for `seen` (read by the take after it passed its gate) and proves the refusal
    // (seat_map::refusal_of_take); nullopt otherwise: the database decides. Never waits.
    std::optional<domain::error> take_refusal(
        const domain::schedule_id& schedule,
        const redis::seat_map_version& seen,
        const domain::user_id& user,
        std::span<const domain::seat_id> seat_ids,
        int max_seats_per_user
    );

    // How many seats of `schedule` are available at `seen.now_ms`, when this thread's map is
    // current for `seen` (the same rule as a list's); nullopt otherwise. Never waits.
    std::optional<std::size_t>
    available_seats(const domain::schedule_id& schedule, const redis::seat_map_version& seen);
    // The schedules this thread has a map of.
    std::vector<domain::schedule_id> cached_schedules() const;

    // The version this thread's list of `schedule` is current for ("" if none): the reader
    // asks the change log for the entries after it.
    std::string version_of(const domain::schedule_id& schedule) const;

private:
    struct entry {
        explicit entry(const asio::any_io_executor& ex) : round_done(ex) {}

        std::unique_ptr<seat_map> map; // null until read, or when the schedule does not exist
        std::string watermark;
        bool missing = false;
        std::shared_ptr<const seat_list_answer> answer;
        // For each of these versions (the newest last), the answer holds every change whose
        // bump preceded a read of it in `session`. Versions stay valid as states only move to
        // higher change counts; a whole read, or another session, starts the list again.
        std::deque<std::string> current_for;
        std::uint64_t session = 0;
        std::chrono::steady_clock::time_point read_at{};

        std::uint64_t rounds_started = 0;
        std::uint64_t rounds_finished = 0;
        std::uint64_t rounds_wanted = 0;
        std::uint64_t round_of_answer = 0;
        std::exception_ptr failure;
        redis::seat_map_version newest_seen; // the version the next round answers for
        std::chrono::steady_clock::time_point last_round_start{};
        bool running = false;
        std::size_t waiting = 0;
        std::uint64_t last_used = 0;
        asio::steady_timer round_done; // cancelled at the end of every round: wakes the waiters
    };

    static bool holds(const entry& e, const std::string& version, std::uint64_t session);
    static void now_current_for(entry& e, const std::string& version);
    bool is_current(const entry& e, const redis::seat_map_version& seen) const;
    bool apply_logged_changes(entry& e, const redis::seat_map_version& seen);
    void
    want_round(entry& e, std::uint64_t round, const redis::seat_map_version& seen, const domain::schedule_id& schedule);
    awaitable<void> run_rounds(domain::schedule_id schedule, entry& e);
    // True when it read the whole list (a new map: earlier versions no longer hold).
    awaitable<bool> refresh(const domain::schedule_id& schedule, entry& e, domain::epoch_ms now_ms);
    domain::result<std::shared_ptr<const seat_list_answer>> current_answer(entry& e, domain::epoch_ms now_ms);
    void forget_least_used();

    asio::any_io_executor executor_;
    pg::seat_map_repository repository_;
    metrics& stats_;
    seat_map_cache_options options_;
    std::unordered_map<domain::schedule_id, std::unique_ptr<entry>> entries_;
    std::uint64_t uses_ = 0;
};

} // namespace tp::api
