#include "api/dispatcher.hpp"

#include "api/authentication.hpp"
#include "api/queue_gate.hpp"
#include "http/compression.hpp"
#include "http/error_reply.hpp"
#include "storage/pg/constraint_errors.hpp"
#include "storage/pg/error.hpp"
#include "storage/redis/reply.hpp"
#include "support/log_throttle.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace tp::api {
namespace {

bool is_safe_request_id(std::string_view id) {
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
        return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.';
    });
}

} // namespace

dispatcher::dispatcher(const route_table& routes, services& svc, std::string instance_id)
    : routes_(routes), svc_(svc), instance_id_(std::move(instance_id)) {}

std::string dispatcher::next_request_id(const http::request& req) {
    const auto given = req["X-Request-Id"];
    if (is_safe_request_id(given)) {
        return std::string(given);
    }
    return instance_id_ + '-' + std::to_string(++sequence_);
}

http::failure failure_of(const pg::error& e) {
    const bool transient = e.what_kind() != pg::error::kind::query || pg::is_retryable(e);
    return transient ? http::failure::database_unavailable : http::failure::internal;
}

awaitable<http::reply> dispatcher::handle(http::request& req, const http::connection_info&) {
    const auto started = std::chrono::steady_clock::now();
    auto request_id = next_request_id(req);
    auto found = routes_.find(req.method(), req.target());

    http::response res;
    http::stream_body body;
    http::shared_body shared;
    std::optional<metrics::route_id> metrics_id;
    if (!found) {
        res = http::error_response(found.error());
    } else {
        const auto& r = found->found->route;
        metrics_id = r.metrics_id;
        request_context ctx{
            .req = req,
            .params = std::move(found->params),
            .svc = svc_,
            .request_id = request_id,
            .user_id = {},
            .admission = std::nullopt,
            .seat_list_version = std::nullopt,
            .stream = {},
            .shared_body = {}};
        res = co_await run(ctx, r);
        body = std::move(ctx.stream);
        shared = std::move(ctx.shared_body);
    }
    if (!body && !shared) { // a shared body comes in the form the request asked for
        http::compress_if_accepted(req, res);
    }

    res.set("X-Request-Id", request_id);
    const auto status = res.result_int();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    if (metrics_id) {
        svc_.stats.record_request(*metrics_id, status, elapsed);
    } else {
        svc_.stats.record_unrouted(status);
    }
    spdlog::info(
        "msg=request request_id={} method={} target=\"{}\" status={} ms={:.3f}",
        request_id,
        std::string_view(req.method_string()),
        std::string_view(req.target()).substr(0, 200),
        status,
        std::chrono::duration<double, std::milli>(elapsed).count()
    );
    co_return http::reply{std::move(res), std::move(body), std::move(shared)};
}

awaitable<http::response> dispatcher::run(request_context& ctx, const route& r) {
    try {
        switch (r.who) {
        case access::anyone: break;
        case access::user: {
            auto user = authenticate_user(ctx.req, svc_.tokens, svc_.now_ms() / 1000);
            if (!user) {
                co_return http::error_response(user.error());
            }
            ctx.user_id = domain::user_id(std::move(*user));
            break;
        }
        case access::admin: {
            auto admin = authenticate_admin(ctx.req, svc_.config.admin_api_key);
            if (!admin) {
                co_return http::error_response(admin.error());
            }
            break;
        }
        }
        if (r.step != flow_step::none) {
            auto refused = co_await pass_gate(ctx, r.step);
            if (refused) {
                co_return std::move(*refused);
            }
        }
        co_return co_await r.fn(ctx);
    } catch (const pg::error& e) {
        const auto failure = failure_of(e);
        static log_throttle throttle;
        log_throttled(
            throttle,
            failure == http::failure::internal ? spdlog::level::err : spdlog::level::warn,
            "msg=\"database error\" request_id={} sqlstate={} error=\"{}\" suppressed={}",
            ctx.request_id,
            e.sqlstate(),
            e.what()
        );
        co_return http::error_response(failure);
    } catch (const redis::error& e) {
        static log_throttle throttle;
        log_throttled(
            throttle,
            spdlog::level::warn,
            "msg=\"queue error\" request_id={} error=\"{}\" suppressed={}",
            ctx.request_id,
            e.what()
        );
        co_return http::error_response(http::failure::queue_unavailable);
    } catch (const std::exception& e) {
        static log_throttle throttle;
        log_throttled(
            throttle,
            spdlog::level::err,
            "msg=\"unhandled error\" request_id={} error=\"{}\" suppressed={}",
            ctx.request_id,
            e.what()
        );
        co_return http::error_response(http::failure::internal);
    }
}

} // namespace tp::api
