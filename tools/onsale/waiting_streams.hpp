#pragma once
// The waiting streams figure (onsale streams, scripts/bench.sh part `streams`): what an open
// event stream of a waiting fan costs one instance, and how soon those streams hear of an
// admission.
//
// Every fan signs in and enters the line of the performances gate, paused (rate 0), through
// the set-up instances; then each opens GET /queue/queue/stream on the measured instance
// and the run waits until every stream has had its first rank event. The measured
// instance's resident memory (VmRSS) read before the first stream and with all of them open
// gives bytes per stream = (with - before) / streams. Then the gate admits at --gate-rate
// for --admit-seconds and is paused again.
//
// The update delay of a stream is the time from the admission moment to the moment the tool
// has read the whole first event the stream sent after the gate opened (a rank event, or
// `admitted` for the fans at the front). The admission moment is the first admission after
// the gate opened: the smallest active_timestamp in the admitted events, which the tick
// takes from Redis's clock (the same clock as the tool's on one machine; milliseconds). Every
// waiting stream is told of that first admission, since it moves the gate's "now serving"
// number: the delay covers the serving watch's poll, waking the stream, the write and the
// tool's own read of thousands of streams on one thread. The fans whose first event after
// the opening is `admitted` (those the first admission let in) are also timed from their own
// admission to that event. Later events are not waited for: after a rank event a stream rests
// (domain::stream_rest_after_rank), which is the pacing, not the delay measured here.
//
// A stream fails if it cannot be opened, is refused, breaks off before its fan is admitted,
// or has no event within 15 s of the gate opening; so does a fan whose set-up failed.

#include "onsale/fixture.hpp"
#include "onsale/tally.hpp"

#include <boost/json/object.hpp>

#include <map>
#include <string>
#include <vector>

namespace tp::onsale {

struct streams_options {
    std::vector<instance_address> set_up; // the instances the fans sign in and queue through
    instance_address measured;            // the instance whose streams are measured ...
    int pid = 0;                          // ... and its process
    std::string admin_key;
    int gate_rate = 1000;      // admissions per second while the gate is open
    double admit_seconds = 2;  // how long it is open
    int connections = 32;      // per set-up instance: fans set up at once
    double linger_seconds = 0; // streams stay open this long after the memory is read (for a profiler)
};

// Fills `report` and adds to `outcomes` how each fan's stream went ("failed: ..." for failures).
awaitable<void> waiting_streams(
    const streams_options& o,
    const std::vector<fan_account>& fans,
    tally& seen,
    std::map<std::string, int>& outcomes,
    boost::json::object& report
);

} // namespace tp::onsale
