#pragma once
// What one virtual fan does, step by step, through the seed's API: sign in, pass the three
// gates of the booking flow (waiting in line by polling GET /queue/queue as Retry-After
// says, or on the event stream), list the seats, take a random available one (another on
// 409), and pay. Every exchange is recorded in the shared tally under its endpoint.

#include "onsale/http_client.hpp"
#include "onsale/queue_observer.hpp"
#include "onsale/tally.hpp"

#include <optional>
#include <random>
#include <string>
#include <vector>

namespace tp::onsale {

enum class wait_style { poll, stream };

// What all fans of a run share (one event loop: no locks).
struct sale {
    sale(http_client& c, tally& t, queue_observer& q, int seat_count)
        : client(c), seen(t), observer(q), seats(seat_count) {}

    http_client& client;
    tally& seen;
    queue_observer& observer;
    std::string schedule_id;
    int seats = 0;
    int sold = 0;
    std::chrono::steady_clock::time_point doors_open; // the first fan may arrive from then on
    double sold_out_s = -1;                           // when the last seat was paid for, from doors_open
    std::map<std::string, int> outcomes;
    // Event streams open at once, and how many the load generator's own file limit allows:
    // a fan who would open one more polls instead, and is counted (streams_polled_instead).
    int open_streams = 0;
    int most_streams = 0;
    int streams_polled_instead = 0;
    // How many fans reached each milestone in each second after the doors opened: where the
    // sale's time goes.
    std::map<std::string, std::vector<int>> milestones;
    std::mt19937_64 rng{20261124};

    void reached(const std::string& milestone) {
        const auto second = static_cast<std::size_t>(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - doors_open).count()
        );
        auto& counts = milestones[milestone];
        counts.resize(std::max(counts.size(), second + 1));
        ++counts[second];
    }
};

// How a gated call ended.
struct passed {
    std::optional<answer> served; // the call's final answer (200, 409, ...), if any
    std::string token;            // the queue token that let it through
};

class journey {
public:
    journey(sale& s, std::size_t index, wait_style style) : sale_(s), index_(index), style_(style) {}

    awaitable<bool> sign_in(const std::string& email, const std::string& password);

    // Calls a gated endpoint, waiting in line while it answers 202, until it answers
    // anything else. With `stop_when_admitted`, stops as soon as the token is active
    // instead, without the final call (to prepare fans for a timed phase).
    awaitable<passed> through_gate(const std::string& endpoint, exchange request, bool stop_when_admitted = false);

    awaitable<std::optional<answer>> take(const std::string& seat_id);
    awaitable<bool> pay(const std::string& seat_id);

    // The on-sale, as a signed-in fan lives it; adds the outcome to sale.outcomes.
    awaitable<void> shop();
    // The same, signing in first (fans who arrive at the on-sale signed out).
    awaitable<void> replay(const std::string& email, const std::string& password);

    // Polls the queue this often instead of when Retry-After says (preparing fans for a
    // timed phase, where the wait itself is not what is measured).
    void poll_every(std::chrono::milliseconds every) { poll_every_ = every; }

private:
    awaitable<std::optional<answer>> call(const std::string& endpoint, exchange request);
    // Waits until `token` is admitted; false if it never will be (sold out, failure).
    awaitable<bool> wait_in_line(const std::string& token, std::chrono::seconds first_delay);
    awaitable<std::optional<bool>> wait_on_stream(const std::string& token);
    awaitable<std::optional<bool>> wait_by_polling(std::chrono::seconds first_delay);
    // Ends the fan's visit: counts how it ended and, unless a payment already did, leaves
    // the queue (DELETE /queue/queue) as a page that is closed would, freeing the place.
    awaitable<void> finish(std::string outcome);

    sale& sale_;
    std::size_t index_;
    wait_style style_;
    std::size_t calls_ = 0;
    std::string authorization_;
    std::string queue_token_;
    std::optional<std::chrono::milliseconds> poll_every_;
};

// Up to `at_most` of the AVAILABLE seats of a seat list answer, picked at random (a fan looks
// at the map and keeps a few seats in mind, not thousands).
std::vector<std::string> available_seats(const std::string& seat_list_json, std::size_t at_most, std::mt19937_64& rng);

} // namespace tp::onsale
