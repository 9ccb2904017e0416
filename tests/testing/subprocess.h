// Running the built binaries from tests: a command to completion with its
// output, or a long-running server whose stderr is watched.
#ifndef VET_TESTS_TESTING_SUBPROCESS_H_
#define VET_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace vet::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

// Extra environment variables ("NAME=value"), added to the test's own.
using EnvList = std::vector<std::string>;

// Runs argv[0] (a path) with `argv` and waits, killing it after `timeout`.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         absl::Duration timeout = absl::Seconds(60),
                                         const EnvList& env = {});

// A child process whose stderr is collected by a thread.
class ChildProcess {
 public:
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                             const EnvList& env = {});
  // Kills (SIGKILL) and reaps the child if still running.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // Waits until stderr contains `text`; returns everything read so far, or
  // kDeadlineExceeded.
  absl::StatusOr<std::string> WaitForStderr(const std::string& text, absl::Duration timeout);
  // Waits for exit; returns the exit code, -1 for a signal, or
  // kDeadlineExceeded.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  std::string stderr_text();

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  std::unique_ptr<std::thread> reader_;
  absl::Mutex mu_;
  std::string err_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_SUBPROCESS_H_
