#pragma once
// gzip for answers (RFC 9110 content coding). A gzip body can be assembled from pieces
// compressed on their own: each piece is raw DEFLATE ending on a byte boundary (a sync
// flush), so pieces concatenate into one valid stream, and the trailer's CRC-32 is combined
// from the pieces' CRCs. A big answer that changes in one place then costs one piece to
// compress again, not the whole body (docs/seat-map.md).

#include "http/message.hpp"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace tp::http {

// Answers smaller than this are sent as they are: compressing them saves less than it costs.
inline constexpr std::size_t min_compressed_size = 1024;

// Whether Accept-Encoding allows gzip (named with a non-zero q, or "*" not ruling it out).
bool accepts_gzip(const request& req);

struct deflated_piece {
    std::string bytes;       // raw DEFLATE, non-final blocks, ending with a sync flush
    std::uint32_t crc32 = 0; // of the uncompressed piece
    std::uint64_t size = 0;  // uncompressed length
};

deflated_piece deflate_piece(std::string_view data);

// A whole gzip member made of `pieces` in order.
std::string gzip_of(std::span<const deflated_piece* const> pieces);

std::string gzip(std::string_view data);

// Whether If-None-Match names `etag` (weak comparison, RFC 9110 §13.1.2; "*" matches).
bool none_match_names(const request& req, std::string_view etag);

// A JSON answer kept ready, with its validator. Each form may be made on demand: only the
// one the client takes is asked for.
struct prepared_json {
    std::string_view etag;
    std::size_t size = 0; // of the identity form
    std::function<shared_body()> gzip;
    std::function<shared_body()> identity;
};

// 304 when If-None-Match names the etag, else the gzip form when the client takes it and
// the answer is large enough, else the identity form; the body is the prepared one itself.
// Caches may keep the answer but must ask again (no-cache); it is never shared between users.
shared_response prepared_json_response(const request& req, const prepared_json& answer);

// Compresses a JSON answer in place when it is large enough and the client takes gzip; marks
// every answer whose form depends on Accept-Encoding with Vary.
void compress_if_accepted(const request& req, response& res);

} // namespace tp::http
