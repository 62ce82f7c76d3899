#include "storage/redis/cluster_client.hpp"

#include "storage/redis/command_slot.hpp"
#include "storage/redis/key_slot.hpp"

#include <boost/asio/as_tuple.hpp>

#include <algorithm>
#include <charconv>
#include <set>

namespace tp::redis {
namespace {

bool is_port(std::string_view text) {
    int port = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
    return ec == std::errc{} && end == text.data() + text.size() && port > 0 && port < 65536;
}

// The replies that send a command elsewhere or again.
bool is_redirection(const reply& r) {
    return r.is_error() &&
           (r.text.starts_with("MOVED ") || r.text.starts_with("ASK ") || r.text.starts_with("TRYAGAIN"));
}

void throw_if_cluster_down(const reply& r) {
    if (r.is_error() && r.text.starts_with("CLUSTERDOWN")) {
        throw error("the Redis Cluster is down: " + r.text);
    }
}

// A keyless command takes the slot of the nearest keyed command before it, else after it.
void lend_slots_to_keyless(std::vector<std::optional<std::uint16_t>>& slots) {
    std::optional<std::uint16_t> before;
    for (auto& slot : slots) {
        if (slot) {
            before = slot;
        } else {
            slot = before;
        }
    }
    std::optional<std::uint16_t> after;
    for (auto it = slots.rbegin(); it != slots.rend(); ++it) {
        if (*it) {
            after = *it;
        } else {
            *it = after;
        }
    }
}

} // namespace

std::optional<std::vector<node_address>> parse_cluster_url(std::string_view url) {
    if (!url.starts_with(cluster_url_scheme)) {
        return std::nullopt;
    }
    url.remove_prefix(cluster_url_scheme.size());
    if (url.ends_with('/')) {
        url.remove_suffix(1); // a cluster has database 0 only: no path
    }
    std::vector<node_address> out;
    while (true) {
        const auto comma = url.find(',');
        const auto each = url.substr(0, comma);
        const auto colon = each.rfind(':');
        if (colon == std::string_view::npos || colon == 0 || !is_port(each.substr(colon + 1))) {
            return std::nullopt;
        }
        auto host = each.substr(0, colon);
        if (host.starts_with('[') && host.ends_with(']') && host.size() > 2) {
            host = host.substr(1, host.size() - 2);
        }
        if (host.find_first_of("/?#@[] ") != std::string_view::npos) {
            return std::nullopt;
        }
        out.push_back(node_address{std::string(host), std::string(each.substr(colon + 1))});
        if (comma == std::string_view::npos) {
            return out;
        }
        url.remove_prefix(comma + 1);
    }
}

struct cluster_client::part {
    node* target = nullptr;
    std::vector<std::size_t> indices; // in the batch
    std::vector<std::vector<std::string>> commands;
    std::vector<reply> replies;
    std::exception_ptr failure;
};

cluster_client::cluster_client(const asio::any_io_executor& executor, cluster_options options)
    : executor_(executor), options_(std::move(options)), refresh_timer_(executor) {
    if (options_.seeds.empty()) {
        throw error("a Redis Cluster client needs at least one seed node");
    }
}

cluster_client::~cluster_client() {
    *alive_ = false;
    for (auto& waiter : refresh_waiters_) {
        waiter->cancel();
    }
}

void cluster_client::close() {
    closed_ = true;
    refresh_timer_.cancel();
    for (auto& waiter : refresh_waiters_) {
        waiter->cancel();
    }
    for (auto& [name, n] : nodes_) {
        n->conn->close();
    }
}

bool cluster_client::connected() const {
    return !owners_.empty() && std::ranges::all_of(masters_, [](const node* n) { return n->conn->connected(); });
}

std::uint64_t cluster_client::session() const {
    std::uint64_t sum = owner_changes_;
    for (const auto& [name, n] : nodes_) {
        sum += n->conn->session();
    }
    return sum;
}

std::string cluster_client::master_of(std::uint16_t slot) const {
    return owners_.empty() || owners_[slot] == nullptr ? std::string() : owners_[slot]->address.name();
}

cluster_client::node& cluster_client::node_at(const node_address& address) {
    auto& slot = nodes_[address.name()];
    if (!slot) {
        auto settings = options_.node;
        settings.host = address.host;
        settings.port = address.port;
        settings.database = 0;
        slot = std::make_unique<node>(node{address, std::make_unique<connection>(executor_, std::move(settings))});
    }
    return *slot;
}

// --- sending -----------------------------------------------------------------------------

awaitable<std::vector<reply>> cluster_client::execute_all(std::vector<std::vector<std::string>> commands) {
    if (closed_) {
        throw error("the Redis Cluster client was closed");
    }
    if (commands.empty()) {
        co_return std::vector<reply>{};
    }
    co_await ensure_map();
    const auto targets = route(commands); // before anything is sent: a bad batch sends nothing

    std::vector<part> parts;
    for (std::size_t i = 0; i < commands.size(); ++i) {
        auto same = std::ranges::find(parts, targets[i], &part::target);
        if (same == parts.end()) {
            parts.push_back(part{.target = targets[i], .indices = {}, .commands = {}, .replies = {}, .failure = {}});
            same = parts.end() - 1;
        }
        same->indices.push_back(i);
        same->commands.push_back(commands[i]);
    }
    co_await send_parts(parts);

    std::vector<reply> replies(commands.size());
    for (auto& p : parts) {
        for (std::size_t k = 0; k < p.indices.size(); ++k) {
            replies[p.indices[k]] = std::move(p.replies[k]);
        }
    }
    for (std::size_t i = 0; i < replies.size(); ++i) {
        throw_if_cluster_down(replies[i]);
        if (is_redirection(replies[i])) {
            replies[i] = co_await follow(commands[i], std::move(replies[i]));
        }
    }
    co_return replies;
}

std::vector<cluster_client::node*> cluster_client::route(const std::vector<std::vector<std::string>>& commands) {
    std::vector<std::optional<std::uint16_t>> slots;
    slots.reserve(commands.size());
    for (const auto& command : commands) {
        slots.push_back(command_slot(command));
    }
    lend_slots_to_keyless(slots);
    std::vector<node*> targets;
    targets.reserve(commands.size());
    for (const auto& slot : slots) {
        node* owner = slot ? owners_[*slot] : masters_.front(); // a batch with no key: any master
        if (owner == nullptr) {
            refresh_soon();
            throw error("no known Redis Cluster master serves slot " + std::to_string(*slot));
        }
        targets.push_back(owner);
    }
    return targets;
}

awaitable<std::vector<reply>> cluster_client::send_to(node& n, std::vector<std::vector<std::string>> commands) {
    try {
        co_return co_await n.conn->execute_all(std::move(commands));
    } catch (const error&) {
        // Lost, timed out or refused: the node may have failed over. Its commands are not
        // sent again (a write may have run), but the next ones should find the new master.
        refresh_soon();
        throw;
    }
}

// Every part at once, each on its node's connection; returns when all have answered or
// failed, then throws the first failure.
awaitable<void> cluster_client::send_parts(std::vector<part>& parts) {
    if (parts.size() == 1) {
        parts[0].replies = co_await send_to(*parts[0].target, std::move(parts[0].commands));
        co_return;
    }
    struct latch {
        explicit latch(const asio::any_io_executor& ex, std::size_t n) : timer(ex), left(n) {}
        asio::steady_timer timer;
        std::size_t left;
    };
    auto done = std::make_shared<latch>(executor_, parts.size());
    done->timer.expires_at(std::chrono::steady_clock::time_point::max());
    for (auto& p : parts) {
        auto sending = [](cluster_client& self, part& mine) -> awaitable<void> {
            try {
                mine.replies = co_await self.send_to(*mine.target, std::move(mine.commands));
            } catch (...) {
                mine.failure = std::current_exception();
            }
        };
        const auto finished = [done](const std::exception_ptr&) {
            if (--done->left == 0) {
                done->timer.cancel();
            }
        };
        asio::co_spawn(executor_, sending(*this, p), finished);
    }
    if (done->left > 0) {
        co_await done->timer.async_wait(asio::as_tuple(use_awaitable));
    }
    for (auto& p : parts) {
        if (p.failure) {
            std::rethrow_exception(p.failure);
        }
    }
}

// Follows MOVED, ASK and TRYAGAIN for one command, at most max_redirections times.
awaitable<reply> cluster_client::follow(const std::vector<std::string>& command, reply answer) {
    for (int hop = 0; hop < options_.max_redirections && is_redirection(answer); ++hop) {
        std::vector<std::vector<std::string>> again;
        if (answer.text.starts_with("TRYAGAIN")) {
            // A multi-key command during a migration: some keys have moved, some not yet.
            asio::steady_timer pause(executor_, options_.tryagain_pause);
            co_await pause.async_wait(use_awaitable);
            co_await ensure_map();
            again.push_back(command);
            auto targets = route(again);
            answer = std::move((co_await send_to(*targets.front(), std::move(again))).front());
        } else if (const auto to = parse_redirection(answer.text); to && to->type == redirection::kind::moved) {
            node& target = node_at(to->target);
            if (owners_[to->slot] != &target) {
                auto owners = owners_;
                owners[to->slot] = &target;
                set_owners(std::move(owners), "");
            }
            refresh_soon(); // one slot moved: others may have too
            again.push_back(command);
            answer = std::move((co_await send_to(target, std::move(again))).front());
        } else if (to) {
            // ASK: this one command is served by the importing node; the map stays as it is.
            // ASKING must come right before it on that connection: a batch goes out in one piece.
            again.push_back({"ASKING"});
            again.push_back(command);
            auto both = co_await send_to(node_at(to->target), std::move(again));
            answer = std::move(both.back());
        } else {
            throw error("a malformed Redis Cluster redirection: " + answer.text);
        }
        throw_if_cluster_down(answer);
    }
    if (is_redirection(answer)) {
        throw error("too many Redis Cluster redirections for " + command.front() + ": " + answer.text);
    }
    co_return answer;
}

// --- the slot map ------------------------------------------------------------------------

awaitable<void> cluster_client::ensure_map() {
    if (!owners_.empty()) {
        co_return;
    }
    co_await refresh();
    if (owners_.empty()) {
        throw error(
            "no Redis Cluster node gave its slot map" +
            (last_refresh_failure_.empty() ? std::string() : ": " + last_refresh_failure_)
        );
    }
}

// Asks the known masters, then the seeds, then any other node, for CLUSTER SLOTS; the first
// good answer wins. One refresh at a time (others wait for it), at most one per retry_interval.
awaitable<void> cluster_client::refresh() {
    if (refreshing_) {
        auto waiter = std::make_shared<asio::steady_timer>(executor_, options_.node.timeout);
        refresh_waiters_.push_back(waiter);
        co_await waiter->async_wait(asio::as_tuple(use_awaitable));
        co_return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (closed_ || now < next_refresh_) {
        co_return;
    }
    refreshing_ = true;
    next_refresh_ = now + options_.node.retry_interval;
    const auto alive = alive_;

    std::vector<node_address> candidates;
    std::set<std::string> seen;
    const auto add = [&](const node_address& a) {
        if (seen.insert(a.name()).second) {
            candidates.push_back(a);
        }
    };
    for (const auto* m : masters_) {
        add(m->address);
    }
    for (const auto& s : options_.seeds) {
        add(s);
    }
    for (const auto& [name, n] : nodes_) {
        add(n->address);
    }
    // Connected nodes first: a dead one costs a refused connection, or a whole timeout.
    std::stable_partition(candidates.begin(), candidates.end(), [this](const node_address& a) {
        const auto found = nodes_.find(a.name());
        return found != nodes_.end() && found->second->conn->connected();
    });

    std::optional<std::vector<slot_range>> ranges;
    for (const auto& address : candidates) {
        if (closed_) { // a node connection opened now would keep the event loop alive
            break;
        }
        std::vector<std::vector<std::string>> ask;
        ask.push_back({"CLUSTER", "SLOTS"});
        try {
            auto answer = co_await node_at(address).conn->execute_all(std::move(ask));
            if (!*alive) {
                co_return;
            }
            ranges = parse_cluster_slots(answer.front(), address.host);
            if (ranges && !ranges->empty()) {
                break;
            }
            last_refresh_failure_ = address.name() + " answered CLUSTER SLOTS with " +
                                    (answer.front().is_error() ? answer.front().text : "no slots");
            ranges.reset();
        } catch (const error& e) {
            if (!*alive) {
                co_return;
            }
            last_refresh_failure_ = address.name() + ": " + e.what();
        }
    }
    if (ranges) {
        apply(*ranges);
    }
    refreshing_ = false;
    for (auto& waiter : refresh_waiters_) {
        waiter->cancel();
    }
    refresh_waiters_.clear();
}

// Coalesces requests: one refresh, as soon as the rate limit allows.
void cluster_client::refresh_soon() {
    if (closed_ || refresh_scheduled_) {
        return;
    }
    refresh_scheduled_ = true;
    asio::co_spawn(executor_, refresh_later(alive_), asio::detached);
}

awaitable<void> cluster_client::refresh_later(std::shared_ptr<bool> alive) {
    refresh_timer_.expires_at(std::max(next_refresh_, std::chrono::steady_clock::now()));
    co_await refresh_timer_.async_wait(asio::as_tuple(use_awaitable));
    if (!*alive) {
        co_return;
    }
    refresh_scheduled_ = false;
    if (closed_) {
        co_return;
    }
    try {
        co_await refresh();
    } catch (const std::exception&) { // nothing to tell: the next command that needs the map fails
    }
}

void cluster_client::apply(const std::vector<slot_range>& ranges) {
    std::vector<node*> owners(slot_count, nullptr);
    for (const auto& range : ranges) {
        node& master = node_at(range.master);
        std::fill(owners.begin() + range.first, owners.begin() + range.last + 1, &master);
    }
    const auto uncovered = std::ranges::count(owners, nullptr);
    std::string why = owners_.empty() ? "Redis Cluster slot map learnt" : "Redis Cluster topology changed";
    if (uncovered > 0) {
        why += " (" + std::to_string(uncovered) + " slots have no master)";
    }
    set_owners(std::move(owners), why);
}

// Replaces the map; a change of any slot's owner moves the session, and is told once with
// `why` (nothing when `why` is empty: a single slot followed after MOVED, the refresh that
// follows tells the rest).
void cluster_client::set_owners(std::vector<node*> owners, std::string_view why) {
    if (owners == owners_) {
        return;
    }
    std::size_t moved = 0;
    for (std::size_t s = 0; s < owners.size(); ++s) {
        moved += owners_.empty() || owners_[s] != owners[s] ? 1 : 0;
    }
    owners_ = std::move(owners);
    ++owner_changes_;
    masters_.clear();
    for (auto* owner : owners_) {
        if (owner != nullptr && std::ranges::find(masters_, owner) == masters_.end()) {
            masters_.push_back(owner);
        }
    }
    if (!why.empty() && options_.on_topology_change) {
        std::string names;
        for (const auto* m : masters_) {
            names += (names.empty() ? "" : ",") + m->address.name();
        }
        options_.on_topology_change(
            std::string(why) + ": " + std::to_string(moved) + " slots changed master; masters " + names
        );
    }
}

} // namespace tp::redis
