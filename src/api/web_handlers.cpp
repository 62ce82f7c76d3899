// The fan page (/), the operator console (/console) and the scripts and stylesheet they load
// (/static/{file}): the files of web/, compiled in by CMake. Each carries an ETag of its
// content and `Cache-Control: no-cache`, so a browser asks again each time and gets a 304
// until a new release changes the file; the gzip form is made once, at first use.

#include "api/handlers.hpp"
#include "http/compression.hpp"
#include "http/error_reply.hpp"
#include "support/embedded_file.hpp"

#include <fmt/format.h>

#include <map>

namespace tp::web_files {
std::span<const tp::embedded_file> files(); // web/*, compiled in by CMake
} // namespace tp::web_files

namespace tp::api::handlers {
namespace {

struct web_asset {
    std::string_view content;
    std::string gzip;
    std::string etag;
    std::string_view type;
};

std::string_view content_type_of(std::string_view name) {
    if (name.ends_with(".html")) {
        return "text/html; charset=utf-8";
    }
    if (name.ends_with(".js")) {
        return "text/javascript; charset=utf-8";
    }
    if (name.ends_with(".css")) {
        return "text/css; charset=utf-8";
    }
    return "application/octet-stream";
}

// FNV-1a: a validator only needs to change when the content does.
std::string etag_of(std::string_view content) {
    std::uint64_t hash = 14695981039346656037ULL;
    for (const unsigned char c : content) {
        hash = (hash ^ c) * 1099511628211ULL;
    }
    return fmt::format("\"{:016x}\"", hash);
}

const std::map<std::string_view, web_asset, std::less<>>& assets() {
    static const auto all = [] {
        std::map<std::string_view, web_asset, std::less<>> out;
        for (const auto& f : web_files::files()) {
            out.emplace(
                f.name,
                web_asset{
                    .content = f.content,
                    .gzip = http::gzip(f.content),
                    .etag = etag_of(f.content),
                    .type = content_type_of(f.name)}
            );
        }
        return out;
    }();
    return all;
}

http::response asset_answer(const http::request& req, std::string_view name) {
    const auto found = assets().find(name);
    if (found == assets().end()) {
        return http::error_response(http::failure::route_not_found);
    }
    const auto& asset = found->second;
    const bool unchanged = http::none_match_names(req, asset.etag);
    http::response res{unchanged ? http::status::not_modified : http::status::ok, 11};
    res.set(http::beast_http::field::etag, asset.etag);
    res.set(http::beast_http::field::cache_control, "no-cache");
    res.set(http::beast_http::field::vary, "Accept-Encoding");
    if (unchanged) {
        return res;
    }
    res.set(http::beast_http::field::content_type, asset.type);
    res.set("X-Content-Type-Options", "nosniff");
    // Only our own files and API: no inline script or style, no framing.
    res.set(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    );
    if (http::accepts_gzip(req)) {
        res.set(http::beast_http::field::content_encoding, "gzip");
        res.body() = asset.gzip;
    } else {
        res.body() = std::string(asset.content);
    }
    return res;
}

} // namespace

reply fan_page(request_context& ctx) {
    co_return asset_answer(ctx.req, "index.html");
}

reply console_page(request_context& ctx) {
    co_return asset_answer(ctx.req, "console.html");
}

reply web_file(request_context& ctx) {
    const auto& name = ctx.params.at("file");
    if (name.ends_with(".html")) { // the pages have their own paths
        co_return http::error_response(http::failure::route_not_found);
    }
    co_return asset_answer(ctx.req, name);
}

} // namespace tp::api::handlers
