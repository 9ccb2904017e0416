// Supervising one run of generated code, whichever way it was started: the
// poll loop that streams its output as it arrives and enforces the wall
// clock, the output and result limits and cancellation; and the mapping of
// how it ended onto the status the Executor contract promises.
#ifndef VET_CORE_SANDBOX_SUPERVISOR_H_
#define VET_CORE_SANDBOX_SUPERVISOR_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "core/common/cancellation.h"
#include "core/sandbox/child_process.h"
#include "core/sandbox/executor.h"
#include "core/sandbox/runner_protocol.h"

namespace vet::sandbox::internal {

// "64 MiB", "1 GiB", "1000 bytes".
std::string FormatBytes(int64_t bytes);

// Appends `in` to `out` with every byte that does not begin a valid UTF-8
// sequence replaced by U+FFFD.
void AppendValidUtf8(absl::string_view in, std::string& out);

enum class StopReason { kNone, kDeadline, kCancelled, kOutputLimit, kResultLimit, kPollFailed };

struct RunOutcome {
  StopReason stop = StopReason::kNone;
  std::string result_document;
  std::string stderr_tail;
  ExitInfo exit;
  absl::Duration elapsed;
};

struct RunLimits {
  absl::Duration timeout;
  int64_t max_output_bytes = 0;
  int64_t max_result_document_bytes = 0;
};

// The largest result document (fd 3) a run may write for these caps: the
// result, the `answer` sentence, the charts and the table's CSV (base64) and
// the envelope.
int64_t MaxResultDocumentBytes(int64_t max_result_bytes, int max_charts, int64_t max_chart_bytes,
                               int64_t max_csv_bytes);
// The envelope alone, as much as a probe's document needs.
inline constexpr int64_t kResultEnvelopeBytes = 64 << 10;

// Reads the process's pipes until it ends (or is stopped), forwarding output
// to `sink` as it arrives; then kills what is left and waits for it.
RunOutcome Supervise(SupervisedProcess& process, const RunLimits& limits, OutputSink& sink,
                     CancellationToken& cancel);

// The limits a status names.
struct ConcludeLimits {
  absl::Duration timeout;
  int cpu_seconds = 0;
  int64_t memory_bytes = 0;
  int64_t max_output_bytes = 0;
  int64_t max_result_bytes = 0;
  // What the result may take in the answer (FitForSending).
  int64_t max_sent_result_bytes = 0;
};

// The artifact that carries a cut table whole.
inline constexpr char kTableCsvName[] = "result.csv";
inline constexpr char kTableCsvMimeType[] = "text/csv";

// Makes a result fit in the answer a client receives, whatever the document
// said: a table keeps at most `max_sent_result_bytes` of encoded rows
// (FitTable: long cells cut, rows dropped from the end), a text is cut to
// that many bytes. When the table kept is not whole (truncated()) and the
// runner wrote it as CSV with at least one row, the CSV is appended to
// `execution.charts` as result.csv (text/csv) and named in the table.
void FitForSending(ExecutionResult& execution, absl::optional<TableCsv> csv,
                   int64_t max_sent_result_bytes);

// How the run ended, as the Executor contract spells it. A result is made
// to fit with FitForSending.
absl::StatusOr<ExecutionResult> Conclude(const RunOutcome& outcome, const ConcludeLimits& limits);

// The checks every executor makes first: kInvalidArgument for a timeout that
// is not positive, kNotFound when the data folder is missing.
absl::Status CheckRequest(const ExecutionRequest& request);

// One log line per execution (and a warning for kInternal).
void LogOutcome(absl::string_view practice_id, absl::Duration elapsed,
                const absl::StatusOr<ExecutionResult>& result);

// "exited with code 1; last stderr line: ...", for logs and statuses.
std::string DescribeExit(const RunOutcome& outcome);

}  // namespace vet::sandbox::internal

#endif  // VET_CORE_SANDBOX_SUPERVISOR_H_
