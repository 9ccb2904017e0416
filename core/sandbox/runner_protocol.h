// The C++ half of the protocol spoken with runner.py: the spec passed as
// argv[1], and the JSON document the runner writes to fd 3 when it is done
// (both described at the top of runner.py). Kept apart from process handling
// so that a forking zygote can speak the same protocol.
#ifndef VET_CORE_SANDBOX_RUNNER_PROTOCOL_H_
#define VET_CORE_SANDBOX_RUNNER_PROTOCOL_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "core/sandbox/executor.h"

namespace vet::sandbox::internal {

struct RunSpec {
  std::string data_dir;
  // Table name -> its date and datetime columns, parsed on load.
  std::map<std::string, std::vector<std::string>> tables;
  int max_rows = 1000;
  int max_charts = 5;
  int64_t max_chart_bytes = 0;
  int64_t max_result_bytes = 0;
  // The whole table as CSV (`table_csv`): at most this many rows and bytes;
  // 0 rows writes none.
  int max_csv_rows = 0;
  int64_t max_csv_bytes = 0;
};

// The JSON for argv[1].
std::string EncodeRunSpec(const RunSpec& spec);
// The spec of a zygote (see "zygote" in runner.py): a RunSpec for every
// execution it forks, plus what each child applies to itself before the
// code runs.
struct ZygoteSpec {
  RunSpec run;
  int control_fd = 3;
  int data_fd = 4;
  int cpu_seconds = 30;
  int64_t address_space_bytes = 0;
  int64_t file_bytes = 0;
  int open_files = 64;
  int processes = 0;
  // Raw BPF programs (seccomp_policy.h).
  std::string seccomp_base;
  std::string seccomp_signal_self;
  int seccomp_pid_offset = 0;
};
std::string EncodeZygoteSpec(const ZygoteSpec& spec);

// Control messages to the zygote.
std::string EncodeZygoteRun(uint64_t id);
std::string EncodeZygoteKill(uint64_t id);

// A control message from the zygote.
struct ZygoteMessage {
  enum class Type { kReady, kFatal, kExited, kRefused };
  Type type = Type::kFatal;
  uint64_t id = 0;
  // kExited
  int wait_status = 0;
  absl::Duration cpu_time;
  // kFatal (stage and error), kRefused (error.message)
  std::string stage;
  CodeError error;
  // kReady
  std::map<std::string, std::string> versions;
  int64_t load_ms = 0;
  int64_t rss_kb = 0;
  // The Landlock ABI the children restrict themselves with; 0 for none.
  int landlock_abi = 0;
};
// kInternal, naming what was wrong, for anything that is not a well-formed
// message.
absl::StatusOr<ZygoteMessage> ParseZygoteMessage(absl::string_view json);

// Asks the runner to import its libraries, warm matplotlib's font cache and
// report versions, without running code.
std::string EncodeProbeSpec();

// A table result written whole as CSV by the runner.
struct TableCsv {
  std::string data;  // UTF-8 with a byte-order mark, header line first
  int64_t rows = 0;  // data rows in it
};

struct RunnerOutput {
  enum class Status {
    kOk,         // `execution` holds the result
    kCodeError,  // the code raised (or produced no usable result):
                 // execution.error
    kFatal,      // the runner failed for reasons not in the code: fatal_*
  };
  Status status = Status::kFatal;
  ExecutionResult execution;
  // kOk with a table result: the table as CSV (see FitForSending).
  absl::optional<TableCsv> table_csv;
  std::string fatal_stage;  // "load", "runner"
  CodeError fatal_error;
  // Probe only: "pandas" -> "1.5.3", ...
  std::map<std::string, std::string> versions;
};

// Parses the fd-3 document. Returns kInternal, naming what was wrong (never
// quoting values), if it is not a well-formed runner document.
absl::StatusOr<RunnerOutput> ParseRunnerOutput(absl::string_view json);

}  // namespace vet::sandbox::internal

#endif  // VET_CORE_SANDBOX_RUNNER_PROTOCOL_H_
