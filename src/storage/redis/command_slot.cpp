#include "storage/redis/command_slot.hpp"

#include "storage/redis/key_slot.hpp"
#include "storage/redis/reply.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <span>
#include <string_view>

namespace tp::redis {
namespace {

// How a command names its keys.
enum class key_layout {
    none,    // no key at all
    first,   // the first argument
    all,     // every argument (DEL, EXISTS, MGET...)
    pairs,   // key value key value... (MSET)
    numkeys, // numkeys, then that many keys (EVAL, EVALSHA, FCALL)
    streams, // ... STREAMS key... id... (XREAD)
};

struct known_command {
    std::string_view name;
    key_layout layout;
};

// Sorted by name (binary search). Every command the project sends is here; see
// docs/waiting-queue.md (Redis Cluster: the client) before adding one.
constexpr std::array known_commands{
    known_command{"APPEND", key_layout::first},
    known_command{"ASKING", key_layout::none},
    known_command{"DECR", key_layout::first},
    known_command{"DECRBY", key_layout::first},
    known_command{"DEL", key_layout::all},
    known_command{"ECHO", key_layout::none},
    known_command{"EVAL", key_layout::numkeys},
    known_command{"EVALSHA", key_layout::numkeys},
    known_command{"EVALSHA_RO", key_layout::numkeys},
    known_command{"EVAL_RO", key_layout::numkeys},
    known_command{"EXISTS", key_layout::all},
    known_command{"EXPIRE", key_layout::first},
    known_command{"EXPIREAT", key_layout::first},
    known_command{"FCALL", key_layout::numkeys},
    known_command{"GET", key_layout::first},
    known_command{"GETDEL", key_layout::first},
    known_command{"GETSET", key_layout::first},
    known_command{"HDEL", key_layout::first},
    known_command{"HEXISTS", key_layout::first},
    known_command{"HGET", key_layout::first},
    known_command{"HGETALL", key_layout::first},
    known_command{"HINCRBY", key_layout::first},
    known_command{"HKEYS", key_layout::first},
    known_command{"HLEN", key_layout::first},
    known_command{"HMGET", key_layout::first},
    known_command{"HMSET", key_layout::first},
    known_command{"HSET", key_layout::first},
    known_command{"HSETNX", key_layout::first},
    known_command{"HVALS", key_layout::first},
    known_command{"INCR", key_layout::first},
    known_command{"INCRBY", key_layout::first},
    known_command{"INFO", key_layout::none},
    known_command{"LLEN", key_layout::first},
    known_command{"LPUSH", key_layout::first},
    known_command{"LRANGE", key_layout::first},
    known_command{"MGET", key_layout::all},
    known_command{"MSET", key_layout::pairs},
    known_command{"PERSIST", key_layout::first},
    known_command{"PEXPIRE", key_layout::first},
    known_command{"PEXPIREAT", key_layout::first},
    known_command{"PING", key_layout::none},
    known_command{"PTTL", key_layout::first},
    known_command{"RPUSH", key_layout::first},
    known_command{"SADD", key_layout::first},
    known_command{"SCARD", key_layout::first},
    known_command{"SCRIPT", key_layout::none},
    known_command{"SET", key_layout::first},
    known_command{"SETEX", key_layout::first},
    known_command{"SETNX", key_layout::first},
    known_command{"SISMEMBER", key_layout::first},
    known_command{"SMEMBERS", key_layout::first},
    known_command{"SREM", key_layout::first},
    known_command{"STRLEN", key_layout::first},
    known_command{"TIME", key_layout::none},
    known_command{"TTL", key_layout::first},
    known_command{"TYPE", key_layout::first},
    known_command{"UNLINK", key_layout::all},
    known_command{"WAIT", key_layout::none},
    known_command{"XADD", key_layout::first},
    known_command{"XLEN", key_layout::first},
    known_command{"XRANGE", key_layout::first},
    known_command{"XREAD", key_layout::streams},
    known_command{"XREADGROUP", key_layout::streams},
    known_command{"XREVRANGE", key_layout::first},
    known_command{"XTRIM", key_layout::first},
    known_command{"ZADD", key_layout::first},
    known_command{"ZCARD", key_layout::first},
    known_command{"ZCOUNT", key_layout::first},
    known_command{"ZINCRBY", key_layout::first},
    known_command{"ZPOPMIN", key_layout::first},
    known_command{"ZRANGE", key_layout::first},
    known_command{"ZRANGEBYSCORE", key_layout::first},
    known_command{"ZRANK", key_layout::first},
    known_command{"ZREM", key_layout::first},
    known_command{"ZREMRANGEBYSCORE", key_layout::first},
    known_command{"ZREVRANK", key_layout::first},
    known_command{"ZSCORE", key_layout::first},
};

static_assert(std::ranges::is_sorted(known_commands, {}, &known_command::name));

std::string upper(std::string_view text) {
    std::string out(text);
    std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

// The one slot of `keys`; nullopt when there are none.
std::optional<std::uint16_t> slot_of(std::string_view name, std::span<const std::string> keys, std::size_t stride) {
    std::optional<std::uint16_t> slot;
    for (std::size_t i = 0; i < keys.size(); i += stride) {
        const auto each = key_slot(keys[i]);
        if (slot && *slot != each) {
            throw error(
                std::string(name) + " names keys in different Redis Cluster slots (" + keys[0] + ", " + keys[i] +
                "): they need one hash tag"
            );
        }
        slot = each;
    }
    return slot;
}

} // namespace

std::optional<std::uint16_t> command_slot(const std::vector<std::string>& command) {
    if (command.empty()) {
        throw error("an empty Redis command");
    }
    const auto name = upper(command[0]);
    const auto found = std::ranges::lower_bound(known_commands, std::string_view(name), {}, &known_command::name);
    if (found == known_commands.end() || found->name != name) {
        throw error(
            "the Redis Cluster client does not know where " + name + " goes (src/storage/redis/command_slot.cpp)"
        );
    }
    const std::span<const std::string> args(command.begin() + 1, command.end());
    switch (found->layout) {
    case key_layout::none: return std::nullopt;
    case key_layout::first:
        if (args.empty()) {
            throw error(name + " without its key");
        }
        return key_slot(args[0]);
    case key_layout::all:
        if (args.empty()) {
            throw error(name + " without its key");
        }
        return slot_of(name, args, 1);
    case key_layout::pairs:
        if (args.empty() || args.size() % 2 != 0) {
            throw error(name + " without key-value pairs");
        }
        return slot_of(name, args, 2);
    case key_layout::numkeys: {
        std::size_t count = 0;
        const auto& text = args.size() >= 2 ? args[1] : std::string();
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
        if (args.size() < 2 || ec != std::errc{} || end != text.data() + text.size() || count > args.size() - 2) {
            throw error(name + " without a valid number of keys");
        }
        return slot_of(name, args.subspan(2, count), 1);
    }
    case key_layout::streams: {
        const auto streams = std::ranges::find_if(args, [](const std::string& a) { return upper(a) == "STREAMS"; });
        const auto rest = static_cast<std::size_t>(args.end() - streams) - (streams == args.end() ? 0 : 1);
        if (streams == args.end() || rest == 0 || rest % 2 != 0) {
            throw error(name + " without STREAMS key... id...");
        }
        return slot_of(name, std::span<const std::string>(streams + 1, rest / 2), 1);
    }
    }
    throw error("unreachable");
}

} // namespace tp::redis
