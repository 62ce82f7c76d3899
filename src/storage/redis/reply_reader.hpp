#pragma once
// The reading half of the Redis protocol on a connection: hiredis's redisReader is fed the
// bytes as they arrive and parses them, building each reply directly as a redis::reply (its
// object functions are ours), so no hiredis object exists at all. One per connection's life
// (a reset starts a new one): after a malformed stream nothing more can be trusted.

#include "storage/redis/reply.hpp"

#include <memory>
#include <optional>
#include <string_view>

struct redisReader;

namespace tp::redis {

class reply_reader {
public:
    reply_reader();

    void feed(std::string_view bytes);

    // The next complete reply; nullopt until more bytes come, or for good once failed().
    std::optional<reply> next();

    // The stream is not RESP (or a reply could not be built): the connection must be reset.
    bool failed() const { return failed_; }

private:
    struct free_reader {
        void operator()(redisReader* reader) const;
    };

    std::unique_ptr<redisReader, free_reader> reader_;
    bool failed_ = false;
};

} // namespace tp::redis
