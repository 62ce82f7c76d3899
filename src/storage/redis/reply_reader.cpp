#include "storage/redis/reply_reader.hpp"

#include <hiredis/hiredis.h>

#include <memory>
#include <new>

namespace tp::redis {
namespace {

// hiredis 0.14 has an array's elements allocated as soon as its header ("*N") arrives,
// before any element: one short line from the peer could cost N elements (gigabytes).
// No answer of ours comes near this bound (XRANGE reads are capped, gates are few, a draw
// reads its pre-queue in slices); a longer one fails the reader like any malformed stream
// and the connection is reset.
constexpr int max_array_elements = 1 << 20;

// hiredis parses; these build the project's reply tree as it does, so that a reply is
// allocated once, in its final form (a large reply read through hiredis's own objects and
// then copied cost twice the memory, and most of the time of reading it). A child is a slot
// of its parent's elements, sized when the parent's header came and never resized, so the
// pointers hiredis keeps to it stay valid. A null answer is hiredis's out-of-memory: the
// reader fails. No exception may cross hiredis's C frames.
reply* place(const redisReadTask* task, reply::kind kind) noexcept {
    if (task->parent != nullptr) {
        auto* parent = static_cast<reply*>(task->parent->obj);
        auto* slot = &parent->elements[static_cast<std::size_t>(task->idx)];
        slot->type = kind;
        return slot;
    }
    auto* root = new (std::nothrow) reply;
    if (root != nullptr) {
        root->type = kind;
    }
    return root;
}

// Only a root is ever freed by hiredis (a reply it cannot finish, or the reader's end).
void free_root(void* object) {
    delete static_cast<reply*>(object);
}

void* create_string(const redisReadTask* task, char* text, std::size_t size) {
    reply::kind kind = reply::kind::nil; // the RESP3 kinds, which our connections never ask for
    switch (task->type) {
    case REDIS_REPLY_STRING: kind = reply::kind::string; break;
    case REDIS_REPLY_STATUS: kind = reply::kind::status; break;
    case REDIS_REPLY_ERROR: kind = reply::kind::error; break;
    default: break;
    }
    auto* r = place(task, kind);
    if (r != nullptr && kind != reply::kind::nil) {
        try {
            r->text.assign(text, size);
        } catch (const std::bad_alloc&) {
            return nullptr;
        }
    }
    return r;
}

void* create_array(const redisReadTask* task, int elements) {
    if (elements > max_array_elements) {
        return nullptr;
    }
    auto* r = place(task, reply::kind::array);
    if (r != nullptr) {
        try {
            r->elements.resize(static_cast<std::size_t>(elements));
        } catch (const std::bad_alloc&) {
            return nullptr;
        }
    }
    return r;
}

void* create_integer(const redisReadTask* task, long long value) {
    auto* r = place(task, reply::kind::integer);
    if (r != nullptr) {
        r->integer = value;
    }
    return r;
}

void* create_nil(const redisReadTask* task) {
    return place(task, reply::kind::nil);
}

redisReplyObjectFunctions reply_functions{
    .createString = &create_string,
    .createArray = &create_array,
    .createInteger = &create_integer,
    .createNil = &create_nil,
    .freeObject = &free_root,
};

} // namespace

void reply_reader::free_reader::operator()(redisReader* reader) const {
    redisReaderFree(reader);
}

reply_reader::reply_reader() : reader_(redisReaderCreateWithFunctions(&reply_functions)) {
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
    const std::unique_ptr<reply> owned(static_cast<reply*>(raw));
    return std::move(*owned);
}

} // namespace tp::redis
