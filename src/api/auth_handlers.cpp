// POST /auth/signUp and POST /auth/signIn. Argon2id runs on the hashing pool so that a
// burst of sign-ins never stalls the I/O threads serving everyone else.

#include "api/handlers.hpp"
#include "api/json_io.hpp"
#include "api/request_readers.hpp"
#include "domain/account.hpp"
#include "http/error_reply.hpp"
#include "security/password.hpp"

#include <boost/asio/co_spawn.hpp>

namespace tp::api::handlers {
namespace {

using domain::errc;

awaitable<std::string> hash_task(std::string password) {
    co_return security::hash_password(password);
}

awaitable<bool> verify_task(std::string password, std::string stored_hash) {
    co_return security::verify_password(password, stored_hash);
}

// Checked when the e-mail is unknown, so that a wrong address costs as long as a wrong
// password and response times do not reveal who has an account.
const std::string& decoy_hash() {
    static const std::string hash = security::hash_password("decoy password, never matches");
    return hash;
}

} // namespace

reply sign_up(request_context& ctx) {
    auto body = parse_json_object(ctx.req);
    if (!body) {
        co_return http::error_response(body.error());
    }
    auto given = read_sign_up(*body);
    if (!given) {
        co_return http::error_response(given.error());
    }
    auto form = domain::validate_sign_up(std::move(*given));
    if (!form) {
        co_return http::error_response(form.error());
    }
    auto hashing = hash_task(form->password);
    const auto hash = co_await asio::co_spawn(ctx.svc.hashing, std::move(hashing), use_awaitable);
    auto created = co_await ctx.svc.users.create(*form, hash);
    if (!created) {
        co_return http::error_response(created.error());
    }
    co_return json_answer(http::status::created, json::object{{"id", *created}});
}

reply sign_in(request_context& ctx) {
    auto body = parse_json_object(ctx.req);
    if (!body) {
        co_return http::error_response(body.error());
    }
    auto given = read_sign_in(*body);
    if (!given) {
        co_return http::error_response(given.error());
    }
    const auto found = co_await ctx.svc.users.find_credentials(domain::normalise_email(given->email_address));
    auto checking = verify_task(std::move(given->password), found ? found->password_hash : decoy_hash());
    const bool matches = co_await asio::co_spawn(ctx.svc.hashing, std::move(checking), use_awaitable);
    if (!found || !matches) {
        co_return http::error_response(domain::make_error(errc::wrong_credentials));
    }
    const auto now = ctx.svc.now_ms() / 1000;
    const security::jwt_claims claims{
        .subject = found->user_id, .issued_at = now, .expires_at = now + ctx.svc.config.jwt_ttl.count()};
    co_return json_answer(http::status::ok, json::object{{"accessToken", ctx.svc.jwt.sign(claims)}});
}

} // namespace tp::api::handlers
