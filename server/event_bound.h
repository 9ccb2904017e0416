// The last guard on the size of the Ask stream's messages. A gRPC client
// refuses a message over its receive limit, 4 MiB unless it raised it, and
// with it the whole stream; core keeps every event well under 1 MiB
// (artifacts in parts of 768 KiB: core/pipeline/artifact_chunks.h; the
// result within 768 KiB: FitForSending in core/sandbox/supervisor.h), and
// this guard makes sure of it whatever core produced: no event over
// kMaxAskEventBytes is written as it is. ToProto(AskEvent) applies it.
#ifndef VET_SERVER_EVENT_BOUND_H_
#define VET_SERVER_EVENT_BOUND_H_

#include <cstddef>

#include "vetanalytics/v1/analytics.pb.h"

namespace vet::server {

// A quarter of gRPC's default receive limit: room for the frame, HTTP/2 and
// for clients whose limit is lower than the default.
inline constexpr size_t kMaxAskEventBytes = size_t{1} << 20;

// Makes `event` at most `max_bytes` serialized (ByteSizeLong()), in place,
// keeping its seq and timestamp:
//   - final_answer: the answer sentence, the code and a text result are cut
//     to a share of the bound; a table keeps its first rows (long cells cut,
//     rows dropped from the end; `truncated` and `included_rows` say so),
//     and as a last resort none;
//   - execution_output, code_delta, code_generated, retry, budget_check:
//     their text is cut (ending with "…");
//   - anything else (an artifact part, a session_started) is replaced by an
//     execution_output on STDERR that says what was left out and why.
// `max_bytes` must be at least 64 KiB. Returns whether it changed the event.
// Thread-compatible: touches only `event`.
bool BoundAskEvent(vetanalytics::v1::AskEvent& event, size_t max_bytes = kMaxAskEventBytes);

}  // namespace vet::server

#endif  // VET_SERVER_EVENT_BOUND_H_
