// Running the built binaries from tests: a command to completion with its
// output, a long-running server whose stderr is watched, or an interactive
// program on a pseudo-terminal that the test types into.
#ifndef VET_TESTS_TESTING_SUBPROCESS_H_
#define VET_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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

// A child process at a terminal, as a user at a shell runs it: a new
// pseudo-terminal is its controlling terminal, its stdin and its stderr (so
// typing Ctrl-C sends it SIGINT, as to a shell's foreground job), and its
// stdout is a pipe of its own, so that a test can tell what was drawn on the
// screen from what was printed. The terminal starts in the kernel's default
// mode (canonical, echo, signals) at 200 columns by 50 rows. A thread reads
// both as they come, so the child never blocks on output.
class TerminalProcess {
 public:
  static absl::StatusOr<std::unique_ptr<TerminalProcess>> Start(
      const std::vector<std::string>& argv, const EnvList& env = {});
  // Kills (SIGKILL) and reaps the child if still running.
  ~TerminalProcess();
  TerminalProcess(const TerminalProcess&) = delete;
  TerminalProcess& operator=(const TerminalProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Writes `keys` to the terminal as typed ("\r" is Enter, "\x03" Ctrl-C).
  absl::Status Type(absl::string_view keys);
  // Waits until the screen shows `text` after the end of the previous
  // match (the start at first) and moves past it; returns what the screen
  // showed from the previous match up to and including `text`, or
  // kDeadlineExceeded naming what it shows.
  absl::StatusOr<std::string> WaitForScreen(absl::string_view text, absl::Duration timeout);
  // The same for stdout, with a place of its own.
  absl::StatusOr<std::string> WaitForStdout(absl::string_view text, absl::Duration timeout);
  // Waits for exit and the last of the output; returns the exit code, -1
  // for a signal, or kDeadlineExceeded.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  // Everything shown or printed so far (all of it after Wait).
  std::string screen();
  std::string stdout_text();

 private:
  TerminalProcess() = default;
  absl::StatusOr<std::string> WaitFor(bool on_screen, absl::string_view text,
                                      absl::Duration timeout);

  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  int terminal_fd_ = -1;  // the pseudo-terminal's master side
  std::unique_ptr<std::thread> reader_;
  absl::Mutex mu_;
  std::string screen_ ABSL_GUARDED_BY(mu_);
  std::string stdout_ ABSL_GUARDED_BY(mu_);
  size_t screen_seen_ ABSL_GUARDED_BY(mu_) = 0;
  size_t stdout_seen_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_SUBPROCESS_H_
