#include "api/queue_refusal.hpp"

#include <stdexcept>
#include <string>

namespace tp::api {

using domain::errc;
using domain::make_error;
using redis::queue_verdict;

domain::error queue_refusal(queue_verdict verdict, std::string_view flow_message) {
    switch (verdict) {
    case queue_verdict::serve:
    case queue_verdict::wait:
    case queue_verdict::created:
    case queue_verdict::existing:
    case queue_verdict::ok:
        throw std::logic_error("queue verdict '" + std::string(redis::to_string(verdict)) + "' is not a refusal");
    case queue_verdict::expired: return make_error(errc::queue_token_expired);
    case queue_verdict::exists:
        return make_error(
            errc::queue_token_exists, "You already hold a live queue token for another step; leave it first."
        );
    case queue_verdict::not_found: return make_error(errc::queue_token_not_found);
    case queue_verdict::not_yours: return make_error(errc::queue_token_not_yours);
    case queue_verdict::flow_violated: return make_error(errc::queue_flow_violated, std::string(flow_message));
    case queue_verdict::sold_out: return make_error(errc::sold_out);
    }
    throw std::logic_error("unknown queue verdict");
}

} // namespace tp::api
