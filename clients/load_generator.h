// `vetctl bench`: a closed-loop load generator on the real Ask API. N streams
// each keep one Ask in flight, starting the next question the moment the
// last one ends, with gRPC's callback API: the calls run on gRPC's own few
// threads, so hundreds of streams cost no thread each and the client does
// not become the bottleneck on a small machine.
#ifndef VET_CLIENTS_LOAD_GENERATOR_H_
#define VET_CLIENTS_LOAD_GENERATOR_H_

#include "absl/time/time.h"
#include "clients/args.h"
#include "clients/bench.h"
#include "clients/vetctl.h"

namespace vet::cli {

// Streams share one connection per this many: a real load comes from many
// clients, and one HTTP/2 connection for hundreds of streams would measure
// that connection rather than the server.
inline constexpr int kBenchStreamsPerConnection = 64;

// How long the bench waits for the server to accept a connection before it
// gives up without measuring anything.
inline constexpr absl::Duration kBenchConnectTimeout = absl::Seconds(10);

// Runs `plan` against invocation.addr with invocation.bench's streams,
// warm-up and duration (each call with the deadline invocation.timeout and
// its target's key in `x-api-key`), and returns the report. A call counts if
// it ends after the warm-up and before the end; with max_questions, the
// first max_questions calls started after the warm-up count, and the run
// ends when they have. Calls still running at the end are cancelled and not
// counted. Cancelling `canceller` (Ctrl-C) ends the run early with
// `interrupted` set. Returns kUnavailable, measuring nothing, if the
// connection is refused or not made within kBenchConnectTimeout (over TLS:
// also when the handshake fails), and kInvalidArgument if a TLS file of
// invocation.tls cannot be read.
absl::StatusOr<BenchReport> GenerateLoad(const Invocation& invocation,
                                         const BenchPlan& plan,
                                         CallCanceller& canceller);

// `vetctl bench`: loads the plan (kExitUsage for an unreadable file),
// generates the load and prints the report, as text or with invocation.json
// as one JSON object. Returns BenchExitCode(report), or the exit code of the
// failure to reach the server.
int RunBench(const Invocation& invocation, const Console& console,
             CallCanceller& canceller);

}  // namespace vet::cli

#endif  // VET_CLIENTS_LOAD_GENERATOR_H_
