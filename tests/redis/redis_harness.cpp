#include "redis_harness.hpp"

#include "support/servers_required.hpp"

#include <boost/asio/as_tuple.hpp>

#include <hiredis/hiredis.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace tp::test {
namespace {

redis::reply convert(const redisReply* r) {
    redis::reply out;
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        out.type = redis::reply::kind::integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_STRING:
        out.type = redis::reply::kind::string;
        out.text.assign(r->str, r->len);
        break;
    case REDIS_REPLY_STATUS:
        out.type = redis::reply::kind::status;
        out.text.assign(r->str, r->len);
        break;
    case REDIS_REPLY_ERROR:
        out.type = redis::reply::kind::error;
        out.text.assign(r->str, r->len);
        break;
    case REDIS_REPLY_ARRAY:
        out.type = redis::reply::kind::array;
        for (std::size_t i = 0; i < r->elements; ++i) {
            out.elements.push_back(convert(r->element[i]));
        }
        break;
    default: out.type = redis::reply::kind::nil; break;
    }
    return out;
}

std::string joined(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        out += (out.empty() ? "" : " ") + a;
    }
    return out;
}

} // namespace

std::optional<std::string> redis_url() {
    const char* url = std::getenv("TEST_REDIS_URL");
    if (url == nullptr || *url == '\0') {
        return std::nullopt;
    }
    return std::string(url);
}

redis::connection_options redis_options_for(int database) {
    if (database < 1 || database > 15) {
        // Database 0 is where a real server keeps its data: never ours to flush.
        throw std::logic_error("Redis tests use databases 1..15 only, not " + std::to_string(database));
    }
    const auto url = redis_url();
    if (!url) {
        throw std::logic_error("TEST_REDIS_URL is not set");
    }
    auto options = redis::parse_redis_url(*url);
    if (!options) {
        throw std::invalid_argument("TEST_REDIS_URL is not a redis:// URL: " + *url);
    }
    options->database = database;
    options->timeout = std::chrono::seconds(5);
    return *options;
}

// --- redis_inspector -------------------------------------------------------------------------

redis_inspector::redis_inspector(const redis::connection_options& options) {
    timeval timeout{5, 0};
    context_ = redisConnectWithTimeout(options.host.c_str(), std::stoi(options.port), timeout);
    if (context_ == nullptr || context_->err != 0) {
        const std::string why = context_ != nullptr ? context_->errstr : "out of memory";
        if (context_ != nullptr) {
            redisFree(context_);
        }
        throw std::runtime_error(
            "cannot connect to the test Redis at " + options.host + ":" + options.port + ": " + why
        );
    }
    redisSetTimeout(context_, timeout);
    checked({"SELECT", std::to_string(options.database)});
}

redis_inspector::~redis_inspector() {
    redisFree(context_);
}

redis::reply redis_inspector::command(const std::vector<std::string>& argv) {
    std::vector<const char*> parts;
    std::vector<std::size_t> lengths;
    for (const auto& a : argv) {
        parts.push_back(a.data());
        lengths.push_back(a.size());
    }
    auto* raw = static_cast<redisReply*>(
        redisCommandArgv(context_, static_cast<int>(parts.size()), parts.data(), lengths.data())
    );
    if (raw == nullptr) {
        throw std::runtime_error("the inspection connection failed on '" + joined(argv) + "': " + context_->errstr);
    }
    auto out = convert(raw);
    freeReplyObject(raw);
    return out;
}

redis::reply redis_inspector::checked(const std::vector<std::string>& argv) {
    auto r = command(argv);
    if (r.is_error()) {
        throw std::runtime_error("Redis refused '" + joined(argv) + "': " + r.text);
    }
    return r;
}

std::int64_t redis_inspector::integer(const std::vector<std::string>& argv) {
    const auto r = checked(argv);
    if (r.type == redis::reply::kind::integer) {
        return r.integer;
    }
    if (r.type == redis::reply::kind::string) {
        return std::stoll(r.text);
    }
    throw std::runtime_error("'" + joined(argv) + "' did not answer a number");
}

std::optional<std::string> redis_inspector::text(const std::vector<std::string>& argv) {
    const auto r = checked(argv);
    if (r.is_nil()) {
        return std::nullopt;
    }
    return r.text;
}

bool redis_inspector::exists(const std::string& key) {
    return integer({"EXISTS", key}) == 1;
}

std::map<std::string, std::string> redis_inspector::hash(const std::string& key) {
    const auto r = checked({"HGETALL", key});
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) {
        out[r.elements[i].text] = r.elements[i + 1].text;
    }
    return out;
}

std::vector<std::string> redis_inspector::strings(const std::vector<std::string>& argv) {
    const auto r = checked(argv);
    std::vector<std::string> out;
    for (const auto& e : r.elements) {
        out.push_back(e.text);
    }
    return out;
}

std::int64_t redis_inspector::client_id() {
    return integer({"CLIENT", "ID"});
}

// --- the fixture -----------------------------------------------------------------------------

void redis_suite::SetUp() {
    if (!redis_url()) {
        TP_SKIP_OR_FAIL_WITHOUT_SERVER("TEST_REDIS_URL is not set: these tests need a throwaway Redis "
                                       "(scripts/test.sh starts one and sets it, e.g. redis://127.0.0.1:PORT/0)");
    }
    options_ = redis_options_for(database_);
    inspector_ = std::make_unique<redis_inspector>(options_);
    inspector_->checked({"FLUSHDB"});
}

} // namespace tp::test
