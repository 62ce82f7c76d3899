#include "storage/redis/slot_map.hpp"

#include "storage/redis/key_slot.hpp"

#include <charconv>

namespace tp::redis {
namespace {

std::optional<std::int64_t> number(std::string_view text) {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

bool is_slot(std::int64_t value) {
    return value >= 0 && value < slot_count;
}

// "host:port", the host possibly an IPv6 address with colons of its own.
std::optional<node_address> parse_address(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
        return std::nullopt;
    }
    const auto port = text.substr(colon + 1);
    if (!number(port)) {
        return std::nullopt;
    }
    auto host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    return node_address{std::string(host), std::string(port)};
}

} // namespace

std::optional<std::vector<slot_range>> parse_cluster_slots(const reply& answer, std::string_view asked_host) {
    if (answer.type != reply::kind::array) {
        return std::nullopt;
    }
    std::vector<slot_range> out;
    for (const auto& range : answer.elements) {
        // [first, last, [host, port, id, ...], replica...]
        if (range.type != reply::kind::array || range.elements.size() < 3) {
            return std::nullopt;
        }
        const auto& first = range.elements[0];
        const auto& last = range.elements[1];
        const auto& master = range.elements[2];
        if (first.type != reply::kind::integer || last.type != reply::kind::integer || !is_slot(first.integer) ||
            !is_slot(last.integer) || first.integer > last.integer || master.type != reply::kind::array ||
            master.elements.size() < 2 || master.elements[0].type != reply::kind::string ||
            master.elements[1].type != reply::kind::integer) {
            return std::nullopt;
        }
        auto host = master.elements[0].text;
        if (host.empty() || host == "?") {
            host = std::string(asked_host);
        }
        out.push_back(slot_range{
            .first = static_cast<std::uint16_t>(first.integer),
            .last = static_cast<std::uint16_t>(last.integer),
            .master = node_address{std::move(host), std::to_string(master.elements[1].integer)}});
    }
    return out;
}

std::optional<redirection> parse_redirection(std::string_view error_text) {
    redirection out;
    if (error_text.starts_with("MOVED ")) {
        out.type = redirection::kind::moved;
        error_text.remove_prefix(6);
    } else if (error_text.starts_with("ASK ")) {
        out.type = redirection::kind::ask;
        error_text.remove_prefix(4);
    } else {
        return std::nullopt;
    }
    const auto space = error_text.find(' ');
    if (space == std::string_view::npos) {
        return std::nullopt;
    }
    const auto slot = number(error_text.substr(0, space));
    auto target = parse_address(error_text.substr(space + 1));
    if (!slot || !is_slot(*slot) || !target) {
        return std::nullopt;
    }
    out.slot = static_cast<std::uint16_t>(*slot);
    out.target = std::move(*target);
    return out;
}

} // namespace tp::redis
