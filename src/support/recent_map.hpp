#pragma once
// A bounded memory of recently used string keys: two generations of at most `generation_size`
// entries each. Inserting into a full current generation drops the older one, so an entry
// survives at least one generation after its last use, and nothing is kept without bound.
// Lookups are by string_view (no copy of the key). Not thread-safe: one per event loop.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tp {

template <class Value> class recent_map {
public:
    explicit recent_map(std::size_t generation_size) : generation_size_(generation_size == 0 ? 1 : generation_size) {}

    // The remembered value, or nullptr. The pointer is valid until the next insert.
    const Value* find(std::string_view key) {
        if (const auto it = current_.find(key); it != current_.end()) {
            return &it->second;
        }
        if (const auto old = previous_.find(key); old != previous_.end()) {
            return &current_.insert(previous_.extract(old)).position->second; // still in use: keep it
        }
        return nullptr;
    }

    void insert(std::string_view key, Value value) {
        if (current_.size() >= generation_size_) {
            previous_ = std::move(current_);
            current_.clear();
        }
        current_.insert_or_assign(std::string(key), std::move(value));
    }

private:
    struct text_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
    };
    using generation = std::unordered_map<std::string, Value, text_hash, std::equal_to<>>;

    std::size_t generation_size_;
    generation current_;
    generation previous_;
};

} // namespace tp
