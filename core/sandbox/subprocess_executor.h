// The first-milestone Executor: one fresh /usr/bin/python3 per execution,
// started with an empty environment, in its own session and process group,
// in a private scratch directory, under rlimits, with every other descriptor
// closed. It is honest about what it is: a process boundary and resource
// limits, NOT isolation. The code can read any file the server can read and
// open network connections. Namespaces (bubblewrap), seccomp, cgroups and a
// warm forking zygote come later and replace the process launch
// (child_process.h); the protocol with runner.py stays.
//
// A cold execution costs 0.5-1 s of interpreter and pandas start-up.
#ifndef VET_CORE_SANDBOX_SUBPROCESS_EXECUTOR_H_
#define VET_CORE_SANDBOX_SUBPROCESS_EXECUTOR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/common/cancellation.h"
#include "core/sandbox/executor.h"

namespace vet::sandbox {

class SubprocessExecutor final : public Executor {
 public:
  struct Options {
    // Debian's interpreter, which has pandas, numpy and matplotlib. Not
    // `python3` from PATH: on these machines that is another interpreter.
    std::string python_path = "/usr/bin/python3";
    // Table name -> its date and datetime columns (parsed with
    // pd.to_datetime(errors='coerce')). Each table is loaded from
    // <data_dir>/<table>.csv if that file exists, or, when
    // <data_dir>/manifest.json exists, from the columnar form
    // (core/data/columnar_store.h) if the manifest lists it. The server fills
    // this from the schema (core/data/schema.h).
    std::map<std::string, std::vector<std::string>> tables;
    // Where per-execution scratch directories are made (and removed).
    std::string scratch_root = "/tmp";
    // RLIMIT_CPU; past it the interpreter gets SIGXCPU.
    int cpu_seconds = 30;
    // RLIMIT_AS. Does not count tmpfs or memfd pages (a cgroup will).
    int64_t address_space_bytes = int64_t{4} << 30;
    // stdout and stderr together; past it the process is killed.
    int64_t max_output_bytes = int64_t{1} << 20;
    // The serialised `result`; the runner drops rows to fit, then gives up.
    int64_t max_result_bytes = int64_t{8} << 20;
    int max_rows = 1000;
    int max_charts = 5;
    int64_t max_chart_bytes = int64_t{2} << 20;
    // What a result may take in the answer the client receives: a table's
    // encoded rows (rows beyond are dropped from the end) or a text. 768 KiB
    // keeps the answer well inside one message (server/event_bound.h). A
    // table cut to fit also comes whole, as result.csv, of at most
    // max_csv_rows rows and max_csv_bytes (0 rows: no CSV).
    int64_t max_sent_result_bytes = int64_t{768} << 10;
    int max_csv_rows = 100000;
    int64_t max_csv_bytes = int64_t{32} << 20;
    // At Create, run the interpreter once to check that it imports pandas,
    // numpy and matplotlib, and build matplotlib's font cache once (copied
    // into each execution's fresh config dir, which saves 0.1-0.25 s per
    // chart-drawing run). Costs about a second; tests may turn it off.
    bool probe_interpreter = true;
  };

  // kFailedPrecondition if python_path is not an executable file, the
  // scratch root is not a writable directory, or (with probe_interpreter)
  // the interpreter cannot run the runner (no pandas, numpy or matplotlib).
  // kInvalidArgument if a limit is out of range.
  static absl::StatusOr<std::unique_ptr<SubprocessExecutor>> Create(Options options);
  ~SubprocessExecutor() override;

  // See Executor. Beyond its contract:
  //   - Runs at once: it has no queue of its own (wrap it in a
  //     FairScheduler to bound and order executions). request.timeout and
  //     `elapsed` count from the start of the process.
  //   - kInvalidArgument if request.timeout is not positive or the code does
  //     not fit in a pipe (about 1 MiB).
  //   - kResourceExhausted with "output limit", "CPU time limit", "memory"
  //     or "result limit" in the message, naming the limit.
  //   - Output is forwarded as read() returns it, never splitting a UTF-8
  //     sequence across two OnOutput calls; the text is valid UTF-8 (bytes
  //     that are not become U+FFFD).
  absl::StatusOr<ExecutionResult> Execute(const ExecutionRequest& request, OutputSink& output,
                                          CancellationToken& cancel) override;

 private:
  struct FontCacheFile {
    std::string name;
    std::string contents;
  };

  SubprocessExecutor(Options options, std::vector<FontCacheFile> font_cache);

  const Options options_;
  // matplotlib's fontlist-*.json from the probe; written into each
  // execution's MPLCONFIGDIR. Immutable after Create.
  const std::vector<FontCacheFile> font_cache_;
};

}  // namespace vet::sandbox

#endif  // VET_CORE_SANDBOX_SUBPROCESS_EXECUTOR_H_
