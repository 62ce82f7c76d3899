#include "storage/redis/reply_reader.hpp"

#include <hiredis/hiredis.h>

#include <memory>
#include <new>

namespace tp::redis {
namespace {

// hiredis 0.14 allocates an array's element pointers as soon as its header ("*N") arrives,
// before any element: one short line from the peer could cost N x 8 bytes (up to 16 GiB).
// No answer of ours comes near this bound (XRANGE reads are capped, gates are few); a
// longer one fails the reader like any malformed stream and the connection is reset.
constexpr int max_array_elements = 1 << 20;

// hiredis's own reply functions, arrays checked against the bound first. Set once, before
// any reader uses them (a static's initialisation).
void* (*hiredis_create_array)(const redisReadTask*, int) = nullptr;

void* create_bounded_array(const redisReadTask* task, int elements) {
    // A null object is hiredis's out-of-memory: the reader fails.
    return elements > max_array_elements ? nullptr : hiredis_create_array(task, elements);
}

redisReplyObjectFunctions* bounded_functions() {
    static redisReplyObjectFunctions functions = [] {
        const std::unique_ptr<redisReader, decltype(&redisReaderFree)> plain(redisReaderCreate(), &redisReaderFree);
        if (!plain) {
            throw std::bad_alloc();
        }
        auto out = *plain->fn;
        hiredis_create_array = out.createArray;
        out.createArray = &create_bounded_array;
        return out;
    }();
    return &functions;
}

reply convert(const redisReply* r) {
    reply out;
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        out.type = reply::kind::integer;
        out.integer = r->integer;
        break;
    case REDIS_REPLY_STRING:
        out.type = reply::kind::string;
        out.text.assign(r->str, r->len);
        break;
    case REDIS_REPLY_STATUS:
        out.type = reply::kind::status;
        out.text.assign(r->str, r->len);
        break;
    case REDIS_REPLY_ERROR:
        out.type = reply::kind::error;
        out.text.assign(r->str, r->len);
        break;
    case REDIS_REPLY_ARRAY:
        out.type = reply::kind::array;
        out.elements.reserve(r->elements);
        for (std::size_t i = 0; i < r->elements; ++i) {
            out.elements.push_back(convert(r->element[i]));
        }
        break;
    default: out.type = reply::kind::nil; break;
    }
    return out;
}

} // namespace

void reply_reader::free_reader::operator()(redisReader* reader) const {
    redisReaderFree(reader);
}

reply_reader::reply_reader() : reader_(redisReaderCreateWithFunctions(bounded_functions())) {
    if (!reader_) {
        throw std::bad_alloc();
    }
}

void reply_reader::feed(std::string_view bytes) {
    if (!failed_ && redisReaderFeed(reader_.get(), bytes.data(), bytes.size()) != REDIS_OK) {
        failed_ = true;
    }
}

std::optional<reply> reply_reader::next() {
    if (failed_) {
        return std::nullopt;
    }
    void* raw = nullptr;
    if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
        failed_ = true;
        return std::nullopt;
    }
    if (raw == nullptr) {
        return std::nullopt;
    }
    const std::unique_ptr<redisReply, decltype(&freeReplyObject)> owned(
        static_cast<redisReply*>(raw), &freeReplyObject
    );
    return convert(owned.get());
}

} // namespace tp::redis
