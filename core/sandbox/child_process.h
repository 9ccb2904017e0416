// Starting one interpreter for one execution: fork and execve with an
// explicit environment, its own session and process group, a private working
// directory, resource limits, and pipes on fd 0-3; then killing its whole
// process group and reaping it. This is the piece a later bubblewrap or
// zygote launcher replaces; the protocol on the pipes stays the same.
#ifndef VET_CORE_SANDBOX_CHILD_PROCESS_H_
#define VET_CORE_SANDBOX_CHILD_PROCESS_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/common/unique_fd.h"

namespace vet::sandbox::internal {

using ::vet::UniqueFd;

struct ResourceLimit {
  int resource;  // RLIMIT_CPU, ...
  rlim_t soft;
  rlim_t hard;
};

struct LaunchSpec {
  // Absolute path; PATH is not searched.
  std::string executable;
  // argv[0] included.
  std::vector<std::string> argv;
  // "NAME=value". Nothing of this process's environment is inherited.
  std::vector<std::string> env;
  std::string working_dir;
  std::vector<ResourceLimit> limits;
  // Becomes the child's stdin, followed by end of file. It is written into
  // the pipe before the child starts, so it must fit in one pipe buffer
  // (up to /proc/sys/fs/pipe-max-size, 1 MiB by default).
  std::string stdin_data;
};

// How a supervised process ended.
struct ExitInfo {
  int wait_status = 0;  // as from waitpid
  absl::Duration cpu_time;
  // Set when the process did not end by itself or by our kill, with the
  // reason ("the sandbox worker died: ..."); the wait status is then
  // meaningless.
  std::string abnormal;
  // The kernel's OOM killer (a memory cgroup) killed it.
  bool out_of_memory = false;
};

// A process running generated code, as the Supervisor (supervisor.h) sees
// it: three output pipes, a descriptor that becomes readable when it has
// ended, and a way to stop it. A fresh interpreter (ChildProcess) and a fork
// of a warm zygote (zygote_worker.h) both are one.
class SupervisedProcess {
 public:
  virtual ~SupervisedProcess() = default;
  // Non-blocking read ends; the caller may reset() them at end of file.
  virtual UniqueFd& stdout_pipe() = 0;
  virtual UniqueFd& stderr_pipe() = 0;
  virtual UniqueFd& result_pipe() = 0;
  // Readable once the process has ended.
  virtual int exit_fd() const = 0;
  // Stops it and everything it started. Thread-safe, asynchronous, and a
  // no-op once it has been waited for.
  virtual void Kill() = 0;
  // Kills what is left and waits for the end. Call at most once.
  virtual ExitInfo KillAndWait() = 0;
};

// A running child: the leader of its own session and process group, with
// fd 0 reading `stdin_data`, fd 1 and 2 its output pipes, fd 3 the result
// pipe, and every other descriptor closed. Dies with the thread that
// spawned it (PR_SET_PDEATHSIG), so the spawning thread must outlive it:
// Wait() on that thread.
class ChildProcess final : public SupervisedProcess {
 public:
  // kInvalidArgument if stdin_data does not fit in a pipe; kInternal (with
  // the failing step and errno) if the child cannot be started.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(const LaunchSpec& spec);
  // Kills the group and reaps the child if Wait() has not.
  ~ChildProcess() override;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  UniqueFd& stdout_pipe() override { return stdout_; }
  UniqueFd& stderr_pipe() override { return stderr_; }
  UniqueFd& result_pipe() override { return result_; }
  // A pidfd: readable once the child has exited, even while a grandchild
  // still holds its pipes open. The child stays a zombie until Wait().
  int exit_fd() const override { return pidfd_.get(); }
  void Kill() override { KillGroup(); }
  ExitInfo KillAndWait() override { return KillGroupAndWait(); }

  // Sends SIGKILL to the whole process group. Thread-safe and async with
  // respect to Wait(): a no-op once the child is reaped, so a recycled pid
  // is never signalled.
  void KillGroup();

  // Kills the group, so that no grandchild outlives the execution, then
  // reaps the child (blocking until it has died). Call at most once.
  ExitInfo KillGroupAndWait();

 private:
  ChildProcess(pid_t pid, UniqueFd pidfd, UniqueFd out, UniqueFd err, UniqueFd result);

  const pid_t pid_;
  UniqueFd pidfd_;
  UniqueFd stdout_;
  UniqueFd stderr_;
  UniqueFd result_;
  absl::Mutex mu_;
  bool reaped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace vet::sandbox::internal

#endif  // VET_CORE_SANDBOX_CHILD_PROCESS_H_
