// The parts of `vetctl bench` that do not speak gRPC: the question mix and
// the practices read from their files, the record of every finished Ask,
// and the report (percentiles, errors grouped by status code) for people
// and as one JSON object. load_generator.h drives the calls.
#ifndef VET_CLIENTS_BENCH_H_
#define VET_CLIENTS_BENCH_H_

#include <grpcpp/support/status_code_enum.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "clients/args.h"

namespace vet::cli {

// What a bench run asks, and for whom. Stream i asks for targets[i %
// targets.size()]; the n-th question started (over all streams) is
// questions[n % questions.size()].
struct BenchPlan {
  std::vector<std::string> questions;
  std::vector<BenchTarget> targets;
};

// The questions of a questions file: one per line, surrounding whitespace
// trimmed; blank lines and lines starting with '#' are skipped.
std::vector<std::string> ParseQuestionLines(absl::string_view text);

// The targets of a practices file as the server reads it
// ({"practices": [{"id": ..., "api_key": ...}, ...]}; other fields are
// ignored). Returns kInvalidArgument naming the entry for malformed JSON, an
// entry without an id, or no practices at all.
absl::StatusOr<std::vector<BenchTarget>> ParsePracticesJson(
    absl::string_view json);

// settings.questions plus those of settings.questions_file, and
// settings.targets or those of settings.practices_file. Returns
// kInvalidArgument naming the flag when a file cannot be read or parsed, or
// when the mix ends up empty.
absl::StatusOr<BenchPlan> LoadBenchPlan(const BenchSettings& settings);

// One finished Ask.
struct BenchCall {
  // Index into BenchPlan::targets.
  size_t target = 0;
  grpc::StatusCode code = grpc::StatusCode::OK;
  // Kept for errors only.
  std::string message;
  // From starting the call to its status.
  absl::Duration latency;
  // From starting the call to its first event; none if no event came.
  std::optional<absl::Duration> first_event;
};

// Nearest-rank percentiles of a set of durations.
struct LatencySummary {
  int64_t count = 0;
  absl::Duration p50;
  absl::Duration p95;
  absl::Duration p99;
  absl::Duration max;
  absl::Duration mean;
};

// The nearest-rank percentile `p` (0 < p <= 100) of `sorted` (ascending);
// zero when it is empty.
absl::Duration Percentile(const std::vector<absl::Duration>& sorted, double p);
LatencySummary Summarize(std::vector<absl::Duration> durations);

// The calls that ended with one status code.
struct ErrorGroup {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  int64_t count = 0;
  // The message of the first such call.
  std::string example;
};

struct BenchReport {
  // The run as set up.
  std::string addr;
  int streams = 0;
  absl::Duration duration;
  absl::Duration warmup;
  int64_t max_questions = 0;
  size_t distinct_questions = 0;
  // The measured time: from the end of the warm-up to the end of the run.
  absl::Duration measured;
  // Calls that ended in the measured time, and those of them that were OK.
  int64_t questions = 0;
  int64_t ok = 0;
  // ok / measured.
  double ok_per_second = 0;
  // Of the OK calls.
  LatencySummary latency;
  // Of every call that received an event.
  LatencySummary first_event;
  // Most frequent first.
  std::vector<ErrorGroup> errors;
  // Calls still running when the time was up: cancelled and not counted.
  int64_t cancelled_at_end = 0;
  // Ctrl-C ended the run early.
  bool interrupted = false;

  struct PerPractice {
    std::string practice;
    int64_t questions = 0;
    int64_t ok = 0;
    double ok_per_second = 0;
    LatencySummary latency;
  };
  // One per target, in order; only when there are several.
  std::vector<PerPractice> practices;
};

// Collects the calls of a run. Thread-safe: the load generator's calls end
// on gRPC's threads.
class BenchRecorder {
 public:
  explicit BenchRecorder(std::vector<BenchTarget> targets);

  void Record(BenchCall call);
  int64_t recorded() const;

  // The report of what was recorded, over `measured`; `report` brings the
  // settings and the counts the recorder does not know.
  BenchReport Report(BenchReport report, absl::Duration measured) const;

 private:
  const std::vector<BenchTarget> targets_;
  mutable absl::Mutex mu_;
  std::vector<BenchCall> calls_ ABSL_GUARDED_BY(mu_);
};

// For people: the setup line, questions and rate, latency, time to first
// event, the errors by code with an example each, and the practices.
std::string FormatBenchReport(const BenchReport& report);
// One line of JSON (lowerCamelCase, durations in milliseconds), "\n"
// included.
std::string BenchReportJson(const BenchReport& report);

// kExitCancelled when Ctrl-C ended the run; else kExitOk when any question
// was answered (errors under load are part of the measurement) or none
// failed; otherwise the exit code of the most frequent error, so that a
// wrong key (4) or an unknown practice (5) shows.
int BenchExitCode(const BenchReport& report);

}  // namespace vet::cli

#endif  // VET_CLIENTS_BENCH_H_
