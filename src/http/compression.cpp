#include "http/compression.hpp"

#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <vector>
#include <zlib.h>

namespace tp::http {
namespace {

// zlib's default: within a few percent of the best ratio at a fraction of its time.
constexpr int compression_level = Z_DEFAULT_COMPRESSION;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// Whether the parameters of one Accept-Encoding element ("gzip;q=0.5") allow the coding: a
// q value is "0" unless one of its digits is not (q=0, q=0.000 refuse; q=0.001 allows).
bool allowed_by(std::string_view parameters) {
    while (!parameters.empty()) {
        const auto semicolon = parameters.find(';');
        const auto parameter = trim(parameters.substr(0, semicolon));
        parameters = semicolon == std::string_view::npos ? std::string_view{} : parameters.substr(semicolon + 1);
        if (parameter.size() >= 2 && (parameter[0] == 'q' || parameter[0] == 'Q') && parameter[1] == '=') {
            return parameter.find_first_of("123456789", 2) != std::string_view::npos;
        }
    }
    return true;
}

// The elements of a comma-separated header, over every instance of the field, trimmed.
std::vector<std::string_view> list_elements(const request& req, beast_http::field name) {
    std::vector<std::string_view> out;
    const auto [first, last] = req.equal_range(name);
    for (auto field = first; field != last; ++field) {
        std::string_view list = field->value();
        while (!list.empty()) {
            const auto comma = list.find(',');
            if (const auto element = trim(list.substr(0, comma)); !element.empty()) {
                out.push_back(element);
            }
            list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        }
    }
    return out;
}

void append_le32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out += static_cast<char>((v >> (8 * i)) & 0xFFU);
    }
}

} // namespace

bool accepts_gzip(const request& req) {
    std::optional<bool> gzip;
    std::optional<bool> any;
    for (const auto element : list_elements(req, beast_http::field::accept_encoding)) {
        const auto semicolon = element.find(';');
        const auto coding = trim(element.substr(0, semicolon));
        const bool allowed = semicolon == std::string_view::npos || allowed_by(element.substr(semicolon + 1));
        if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
            gzip = allowed;
        } else if (coding == "*") {
            any = allowed;
        }
    }
    return gzip.value_or(any.value_or(false));
}

deflated_piece deflate_piece(std::string_view data) {
    z_stream z{};
    // Raw DEFLATE (negative window bits): the gzip header and trailer are written by gzip_of.
    if (deflateInit2(&z, compression_level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        throw std::runtime_error("zlib could not start a deflate stream");
    }
    deflated_piece out;
    out.bytes.resize(deflateBound(&z, static_cast<uLong>(data.size())) + 16);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.bytes.data());
    z.avail_out = static_cast<uInt>(out.bytes.size());
    const int rc = deflate(&z, Z_SYNC_FLUSH);
    const auto written = out.bytes.size() - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_OK || z.avail_in != 0) {
        throw std::runtime_error("zlib could not deflate an answer");
    }
    out.bytes.resize(written);
    out.crc32 = static_cast<std::uint32_t>(
        ::crc32(::crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size()))
    );
    out.size = data.size();
    return out;
}

std::string gzip_of(std::span<const deflated_piece* const> pieces) {
    static constexpr char header[] = {'\x1f', '\x8b', '\x08', '\x00', '\x00', '\x00', '\x00', '\x00', '\x00', '\x03'};
    // An empty final block with fixed codes: the end of the DEFLATE stream.
    static constexpr char last_block[] = {'\x03', '\x00'};
    std::size_t total = sizeof header + sizeof last_block + 8;
    for (const auto* p : pieces) {
        total += p->bytes.size();
    }
    std::string out;
    out.reserve(total);
    out.append(header, sizeof header);
    uLong crc = ::crc32(0L, Z_NULL, 0);
    std::uint64_t size = 0;
    for (const auto* p : pieces) {
        out += p->bytes;
        crc = ::crc32_combine(crc, p->crc32, static_cast<z_off_t>(p->size));
        size += p->size;
    }
    out.append(last_block, sizeof last_block);
    append_le32(out, static_cast<std::uint32_t>(crc));
    append_le32(out, static_cast<std::uint32_t>(size & 0xFFFFFFFFU));
    return out;
}

std::string gzip(std::string_view data) {
    const auto piece = deflate_piece(data);
    const deflated_piece* pieces[] = {&piece};
    return gzip_of(pieces);
}

bool none_match_names(const request& req, std::string_view etag) {
    const auto opaque = [](std::string_view tag) {
        return tag.starts_with("W/") ? tag.substr(2) : tag;
    };
    const auto tags = list_elements(req, beast_http::field::if_none_match);
    return std::any_of(tags.begin(), tags.end(), [&](std::string_view tag) {
        return tag == "*" || opaque(tag) == opaque(etag);
    });
}

shared_response prepared_json_response(const request& req, const prepared_json& answer) {
    shared_response out{{none_match_names(req, answer.etag) ? status::not_modified : status::ok, req.version()}, {}};
    auto& res = out.head;
    res.set(beast_http::field::etag, answer.etag);
    res.set(beast_http::field::cache_control, "private, no-cache");
    res.set(beast_http::field::vary, "Accept-Encoding");
    if (res.result() == status::not_modified) {
        return out;
    }
    res.set(beast_http::field::content_type, "application/json");
    if (answer.size >= min_compressed_size && accepts_gzip(req)) {
        res.set(beast_http::field::content_encoding, "gzip");
        out.body = answer.gzip();
    } else {
        out.body = answer.identity();
    }
    return out;
}

void compress_if_accepted(const request& req, response& res) {
    if (res.body().size() < min_compressed_size || res.count(beast_http::field::content_encoding) != 0 ||
        !res[beast_http::field::content_type].starts_with("application/json")) {
        return;
    }
    res.set(beast_http::field::vary, "Accept-Encoding");
    if (accepts_gzip(req)) {
        res.body() = gzip(res.body());
        res.set(beast_http::field::content_encoding, "gzip");
        res.prepare_payload();
    }
}

} // namespace tp::http
