#pragma once
// What each of the queue's verdicts means for the caller, in one exhaustive switch: a verdict
// added to redis::queue_verdict does not compile until it is mapped here.

#include "domain/errc.hpp"
#include "storage/redis/queue_store.hpp"

#include <string_view>

namespace tp::api {

// The error a refusing verdict is answered with. `flow_message` says what a flow violation
// means where it happened (the gates and entering the line say it differently). Callers deal
// with the verdicts that let their call go on first (serve, wait, created, existing, ok); one
// of those reaching here is a bug, thrown as std::logic_error and answered 500.
domain::error queue_refusal(redis::queue_verdict verdict, std::string_view flow_message);

} // namespace tp::api
