// Operations: liveness, readiness, Prometheus metrics, the OpenAPI document and Swagger UI.

#include "api/handlers.hpp"
#include "api/json_io.hpp"
#include "http/error_reply.hpp"
#include "support/embedded_file.hpp"

namespace tp::api_docs {
std::span<const tp::embedded_file> files(); // docs/openapi.json, compiled in by CMake
} // namespace tp::api_docs

namespace tp::api::handlers {
namespace {

constexpr pg::query ping{"ops_ping", "SELECT 1"};

http::response text_answer(std::string body, std::string_view content_type) {
    http::response res{http::status::ok, 11};
    res.set(http::beast_http::field::content_type, content_type);
    res.body() = std::move(body);
    return res;
}

constexpr std::string_view swagger_page = R"html(<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Ticketing Performances API</title>
<link rel="stylesheet" href="/api/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/api-docs/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>
)html";

constexpr std::string_view swagger_missing = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ticketing Performances API</title></head>
<body><p>Swagger UI is not installed on this server (scripts/run.sh and scripts/test.sh install it
into node_modules/ with npm; SWAGGER_UI_DIR says where to find it).
The API document is at <a href="/api-docs/openapi.json">/api-docs/openapi.json</a>.</p></body></html>
)html";

} // namespace

reply healthz(request_context&) {
    co_return json_answer(http::status::ok, json::object{{"status", "ok"}});
}

// Ready when the database answers; a load balancer stops sending traffic otherwise.
reply readyz(request_context& ctx) {
    co_await ctx.svc.db.execute(ping, {});
    co_return json_answer(http::status::ok, json::object{{"status", "ready"}});
}

reply prometheus_metrics(request_context& ctx) {
    co_return text_answer(ctx.svc.stats.render(), "text/plain; version=0.0.4");
}

reply openapi_document(request_context&) {
    co_return text_answer(std::string(api_docs::files().front().content), "application/json");
}

reply swagger_ui_page(request_context& ctx) {
    const bool installed = !ctx.svc.config.swagger_ui_files.empty();
    co_return text_answer(std::string(installed ? swagger_page : swagger_missing), "text/html; charset=utf-8");
}

reply swagger_ui_file(request_context& ctx) {
    const auto& files = ctx.svc.config.swagger_ui_files;
    const auto& name = ctx.params.at("file");
    const auto found = files.find(name);
    if (found == files.end()) {
        co_return http::error_response(http::failure::route_not_found);
    }
    const auto type = name.ends_with(".css")  ? "text/css"
                      : name.ends_with(".js") ? "application/javascript"
                                              : "image/png";
    auto res = text_answer(found->second, type);
    res.set(http::beast_http::field::cache_control, "public, max-age=86400");
    co_return res;
}

} // namespace tp::api::handlers
