// Runs generated pandas code against one practice's tables and returns its
// structured result. The code sets `result` (a number, a string, a DataFrame
// or Series, or {"type": "number"|"text"|"table", "value": ..., "unit": ...})
// and may set `answer` (a sentence); matplotlib figures become PNG artifacts,
// and a table result too large for the answer also comes whole as a CSV one.
// Each table of the schema is a DataFrame of the same name, with date and
// datetime columns parsed to datetime64.
#ifndef VET_CORE_SANDBOX_EXECUTOR_H_
#define VET_CORE_SANDBOX_EXECUTOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "core/common/cancellation.h"
#include "core/common/result.h"

namespace vet::sandbox {

struct ExecutionRequest {
  std::string practice_id;
  // The practice's tables; mounted or read read-only.
  std::string data_dir;
  std::string code;
  // Wall-clock limit for this execution.
  absl::Duration timeout = absl::Seconds(30);
};

enum class OutputStream { kStdout, kStderr };

// Receives output as the code produces it, in order per stream. Called on
// the executing thread; must not block for long.
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  virtual void OnOutput(OutputStream stream, absl::string_view text) = 0;
};

struct Chart {
  std::string name;       // "chart_1.png"
  std::string mime_type;  // "image/png"
  std::string data;       // the bytes
};

// An exception raised by the generated code. Carries no data values beyond
// what Python put in the message; callers scrub it before a model sees it.
struct CodeError {
  std::string type;     // "KeyError"
  std::string message;  // "'revenue'"
  int line = 0;         // line in the generated code, 0 if unknown
};

struct ExecutionResult {
  // Fits in the answer a client receives: a table's rows (at most max_rows,
  // and a few hundred KiB encoded) may be the beginning of the table only
  // (ResultTable::truncated()), a text may be cut.
  ResultValue result;
  // The sentence the code set in `answer`; may be empty.
  std::string answer;
  // What the code said about how it computed the answer (its
  // `explanation`); empty when it said nothing.
  Explanation explanation;
  // Set when the code declined the question (its `decline`): why the data
  // cannot answer it as asked. `result` is then empty.
  std::string declined;
  // The artifacts to send, in order: the figures (PNG), then, when the
  // result table was cut, the whole table as "result.csv" (text/csv; named
  // in result.table.csv_artifact). Each may be larger than one message.
  std::vector<Chart> charts;
  // Set when the code raised; `result` is then empty.
  absl::optional<CodeError> error;
  // Running time of the code, from its start to its end.
  absl::Duration elapsed;
  // Time spent waiting for an execution slot before that (zero for an
  // executor without a concurrency limit).
  absl::Duration queued;
};

// Called exactly once with the outcome of ExecuteAsync.
using ExecuteCallback = std::function<void(absl::StatusOr<ExecutionResult>)>;

// Thread-safe: Execute and ExecuteAsync may be called concurrently.
class Executor {
 public:
  virtual ~Executor() = default;
  // A raised exception is an OK status with `error` set. Statuses:
  //   kDeadlineExceeded  the wall-clock limit passed (the process is killed)
  //   kResourceExhausted a CPU, memory or output limit was hit
  //   kCancelled         `cancel` was tripped (the process is killed at once)
  //   kNotFound          the practice has no data
  //   kInternal          the interpreter crashed or broke the protocol
  virtual absl::StatusOr<ExecutionResult> Execute(const ExecutionRequest& request,
                                                  OutputSink& output,
                                                  CancellationToken& cancel) = 0;

  // Starts the execution and returns without waiting for a slot or for the
  // run: `done` is called exactly once with what Execute would return, on
  // an executor thread (or inline, before ExecuteAsync returns). `output`
  // and `cancel` must stay alive until `done` has been called; `output` is
  // called on the executing thread. The default runs Execute inline, for
  // executors without a queue of their own.
  virtual void ExecuteAsync(const ExecutionRequest& request, OutputSink& output,
                            CancellationToken& cancel, ExecuteCallback done) {
    // `done` is the caller's to give away: overrides keep it past the call.
    ExecuteCallback callback = std::move(done);
    callback(Execute(request, output, cancel));
  }
};

}  // namespace vet::sandbox

#endif  // VET_CORE_SANDBOX_EXECUTOR_H_
