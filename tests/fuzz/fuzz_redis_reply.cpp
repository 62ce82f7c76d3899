// A Redis connection's read side (redis::reply_reader: hiredis's redisReader and the
// conversion to redis::reply) fed arbitrary bytes as the reply stream. A malformed stream is
// an outcome (the connection resets), not a bug. Invariants:
//   - the replies do not depend on how the bytes are split across reads;
//   - each reply, written again in RESP, reads back to the same reply.

#include "storage/redis/reply_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

using tp::redis::reply;

struct outcome {
    std::vector<reply> replies;
    bool failed = false;
};

// Feeds `stream` in pieces of `piece` bytes, taking the replies out after each read, as
// connection::read_loop does.
outcome read_all(std::string_view stream, std::size_t piece) {
    tp::redis::reply_reader reader;
    outcome out;
    while (!stream.empty() && !out.failed) {
        const auto n = std::min(piece, stream.size());
        reader.feed(stream.substr(0, n));
        stream.remove_prefix(n);
        while (auto answer = reader.next()) {
            out.replies.push_back(std::move(*answer));
        }
        out.failed = reader.failed();
    }
    return out;
}

bool same(const reply& a, const reply& b) {
    if (a.type != b.type || a.integer != b.integer || a.text != b.text || a.elements.size() != b.elements.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.elements.size(); ++i) {
        if (!same(a.elements[i], b.elements[i])) {
            return false;
        }
    }
    return true;
}

void write_resp(const reply& r, std::string& out) {
    switch (r.type) {
    case reply::kind::nil: out += "$-1\r\n"; break;
    case reply::kind::integer: out += ":" + std::to_string(r.integer) + "\r\n"; break;
    case reply::kind::string: out += "$" + std::to_string(r.text.size()) + "\r\n" + r.text + "\r\n"; break;
    case reply::kind::status: out += "+" + r.text + "\r\n"; break;
    case reply::kind::error: out += "-" + r.text + "\r\n"; break;
    case reply::kind::array:
        out += "*" + std::to_string(r.elements.size()) + "\r\n";
        for (const auto& e : r.elements) {
            write_resp(e, out);
        }
        break;
    }
}

void require(bool invariant, const char* what) {
    if (!invariant) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view stream(reinterpret_cast<const char*>(data), size);
    const auto whole = read_all(stream, stream.size() + 1);
    const auto split = read_all(stream, 1 + (size > 0 ? data[0] % 7 : 0));
    require(whole.failed == split.failed, "a malformed stream is malformed however it is split");
    require(whole.replies.size() == split.replies.size(), "as many replies however the stream is split");
    for (std::size_t i = 0; i < whole.replies.size(); ++i) {
        require(same(whole.replies[i], split.replies[i]), "the same replies however the stream is split");
        std::string written;
        write_resp(whole.replies[i], written);
        const auto again = read_all(written, written.size());
        require(!again.failed && again.replies.size() == 1, "a reply written again is one reply");
        require(same(again.replies.front(), whole.replies[i]), "a reply written again reads the same");
    }
    return 0;
}
