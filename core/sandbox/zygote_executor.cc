// ZygoteExecutor: admission, one warm worker per practice, and the mapping
// of each forked run onto the Executor contract.
#include "core/sandbox/zygote_executor.h"

#include <errno.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/common/clock.h"
#include "core/common/log.h"
#include "core/common/status_macros.h"
#include "core/sandbox/runner_protocol.h"
#include "core/sandbox/supervisor.h"

namespace vet::sandbox {
namespace {

using internal::FormatBytes;

// Root, or a process holding CAP_SETUID and CAP_SETGID (a systemd unit with
// AmbientCapabilities), can start the sandbox as another user.
bool CanSwitchUser() {
  if (::geteuid() == 0) return true;
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct caps[2];
  std::memset(caps, 0, sizeof(caps));
  if (::syscall(SYS_capget, &header, caps) != 0) return false;
  const uint32_t want = (1u << CAP_SETUID) | (1u << CAP_SETGID);
  return (caps[0].effective & want) == want;
}

absl::Status ValidateOptions(const ZygoteExecutor::Options& o) {
  for (const std::string* path : {&o.bwrap_path, &o.python_path}) {
    struct stat st;
    if (::stat(path->c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        ::access(path->c_str(), X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("sandbox: ", *path, " is not an executable file",
                       path == &o.bwrap_path ? " (install the bubblewrap package)" : ""));
    }
  }
  if (o.cpu_seconds < 1 || o.address_space_bytes < (int64_t{256} << 20) || o.file_bytes < 1 ||
      o.open_files < 16 || o.processes < 16 || o.max_output_bytes < 1 ||
      o.max_result_bytes < 1024 || o.max_rows < 0 || o.max_charts < 0 || o.max_chart_bytes < 1 ||
      o.max_sent_result_bytes < 1024 || o.max_csv_rows < 0 || o.max_csv_bytes < 0 ||
      o.memory_bytes < (int64_t{128} << 20) || o.max_pids < 8 || o.tmp_bytes < (int64_t{1} << 20) ||
      o.max_starting < 1 || o.max_workers < 1 || o.cpu_weight_executions < 1 ||
      o.idle_timeout <= absl::ZeroDuration() || o.start_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "sandbox: options out of range (cpu_seconds >= 1, address space >= "
        "256 MiB, memory >= 128 MiB, max_pids >= 8, /tmp >= 1 MiB, "
        "open_files and processes >= 16, max_starting, max_workers and "
        "cpu_weight_executions >= 1, max_sent_result_bytes >= 1 KiB, positive "
        "timeouts and other limits)");
  }
  return absl::OkStatus();
}

// Lets the sandbox's group read a data version the server owns: the folder
// and its subfolders get group search and read, the files group read. The
// folders above it need nothing: the sandbox gets an open descriptor.
absl::Status GrantGroupRead(const std::string& dir, gid_t gid) {
  std::error_code ec;
  auto grant = [gid](const std::string& path) -> absl::Status {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) return absl::OkStatus();
    const mode_t want = S_ISDIR(st.st_mode) ? (S_IRGRP | S_IXGRP) : S_IRGRP;
    if (st.st_gid == gid && (st.st_mode & want) == want) return absl::OkStatus();
    if (::chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0 ||
        ::chmod(path.c_str(), (st.st_mode & 07777) | want) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("sandbox: cannot let the sandbox read ", path, ": ", std::strerror(errno)));
    }
    return absl::OkStatus();
  };
  VET_RETURN_IF_ERROR(grant(dir));
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    VET_RETURN_IF_ERROR(grant(it->path().string()));
  }
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("sandbox: cannot list ", dir, ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

struct ZygoteExecutor::Slot {
  std::string data_dir;
  std::shared_ptr<ZygoteWorker> worker;
  bool starting = false;
  absl::Status start_error;
};

absl::StatusOr<std::unique_ptr<ZygoteExecutor>> ZygoteExecutor::Create(Options options) {
  VET_RETURN_IF_ERROR(ValidateOptions(options));
  bool switch_user = false;
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  std::string who = absl::StrCat("uid ", uid, " (the server's own)");
  if (CanSwitchUser()) {
    struct passwd entry;
    struct passwd* found = nullptr;
    char buffer[4096];
    if (::getpwnam_r(options.sandbox_user.c_str(), &entry, buffer, sizeof(buffer), &found) != 0 ||
        found == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("sandbox: the sandbox user '", options.sandbox_user,
                       "' does not exist; create it with `useradd --system "
                       "--no-create-home --shell /usr/sbin/nologin ",
                       options.sandbox_user,
                       "` (scripts/install-deps.sh does) or name another with "
                       "--sandbox_user"));
    }
    if (found->pw_uid == 0 || found->pw_gid == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("sandbox: the sandbox user '", options.sandbox_user,
                       "' is root or in group root; it must be an unprivileged account"));
    }
    switch_user = true;
    uid = found->pw_uid;
    gid = found->pw_gid;
    who = absl::StrCat("uid ", uid, " (", options.sandbox_user, ")");
  } else {
    LogWarning(
        "sandbox: the server is not root and lacks CAP_SETUID/CAP_SETGID, so "
        "the sandbox runs as its own uid ",
        uid, "; the other layers stay");
  }
  VET_ASSIGN_OR_RETURN(SeccompPrograms seccomp, BuildSeccompPrograms());
  std::unique_ptr<CgroupController> cgroups;
  std::string cgroup_note = "no cgroup (turned off)";
  if (!options.cgroup_root.empty()) {
    auto detected = CgroupController::Detect(
        options.cgroup_root, options.cgroup_parent,
        // The kernel's cpu.shares stop at 262144 (256 executions).
        CgroupController::kCpuShares * std::min(options.cpu_weight_executions, 256));
    if (detected.ok()) {
      cgroups = std::move(*detected);
      int swept = cgroups->SweepStale();
      if (swept > 0) LogInfo("sandbox: removed ", swept, " cgroups left by dead servers");
      cgroup_note = absl::StrCat(cgroups->description(), ", ", FormatBytes(options.memory_bytes),
                                 " and ", options.max_pids, " tasks per worker");
    } else {
      cgroup_note = "no cgroup";
      LogWarning(
          "sandbox: running without a memory cgroup (only rlimits "
          "bound memory): ",
          detected.status().message());
    }
  }
  std::string isolation = absl::StrCat(
      "bwrap namespaces (user, pid, net, ipc, uts, cgroup), read-only /usr "
      "root, ",
      who, ", not dumpable, seccomp, ", cgroup_note, ", rlimits (cpu ", options.cpu_seconds,
      "s, address space ", FormatBytes(options.address_space_bytes), ")");
  auto executor = std::unique_ptr<ZygoteExecutor>(
      new ZygoteExecutor(std::move(options), std::move(seccomp), std::move(cgroups), switch_user,
                         uid, gid, std::move(isolation)));

  // One sandbox over an empty folder proves bwrap works here and the
  // interpreter has what it needs, before the first question does.
  char probe_dir[] = "/tmp/vet-sandbox-probe-XXXXXX";
  if (::mkdtemp(probe_dir) == nullptr) {
    return absl::InternalError(
        absl::StrCat("sandbox: cannot make a probe folder: ", std::strerror(errno)));
  }
  ::chmod(probe_dir, 0755);
  CancellationToken never;
  auto probe = executor->StartWorker("(probe)", probe_dir, never);
  ::rmdir(probe_dir);
  if (!probe.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sandbox: cannot start a sandbox on this machine: ", probe.status().message()));
  }
  executor->isolation_ += (*probe)->landlock_abi() > 0
                              ? absl::StrCat(", landlock ABI ", (*probe)->landlock_abi(),
                                             " (writes only in the scratch folder, no access to "
                                             "other processes)")
                              : ", no landlock (the kernel has none)";
  LogInfo("sandbox: ", (*probe)->versions(), "; a worker started in ",
          absl::FormatDuration(absl::Trunc((*probe)->load_time(), absl::Milliseconds(1))));
  LogInfo("sandbox: isolation: ", executor->isolation());
  return executor;
}

ZygoteExecutor::ZygoteExecutor(Options options, SeccompPrograms seccomp,
                               std::unique_ptr<CgroupController> cgroups, bool switch_user,
                               uid_t uid, gid_t gid, std::string isolation)
    : options_(std::move(options)),
      seccomp_(std::move(seccomp)),
      cgroups_(std::move(cgroups)),
      switch_user_(switch_user),
      uid_(uid),
      gid_(gid),
      isolation_(std::move(isolation)),
      start_limiter_(options_.max_starting) {
  evictor_ = std::thread([this] { EvictionLoop(); });
}

ZygoteExecutor::~ZygoteExecutor() {
  std::map<std::string, std::shared_ptr<Slot>> slots;
  shutdown_.Cancel();  // starts in progress give up
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    auto no_starts = [this] {
      mu_.AssertReaderHeld();
      return starts_in_flight_ == 0;
    };
    mu_.Await(absl::Condition(&no_starts));
    slots.swap(slots_);
  }
  evictor_.join();
  slots.clear();  // stops every worker no execution holds
}

int ZygoteExecutor::workers() const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const auto& [id, slot] : slots_) n += slot->worker != nullptr;
  return n;
}

int64_t ZygoteExecutor::worker_memory_bytes() const {
  absl::MutexLock lock(&mu_);
  int64_t total = 0;
  for (const auto& [id, slot] : slots_) {
    if (slot->worker != nullptr) total += std::max<int64_t>(0, slot->worker->MemoryBytes());
  }
  return total;
}

void ZygoteExecutor::EvictionLoop() {
  const absl::Duration tick = std::min(options_.idle_timeout / 2, absl::Seconds(30));
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), tick);
    if (stopping_) break;
    mu_.Unlock();
    EvictIdle(absl::Now());
    mu_.Lock();
  }
}

int ZygoteExecutor::EvictIdle(absl::Time now) {
  std::vector<std::shared_ptr<ZygoteWorker>> evicted;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = slots_.begin(); it != slots_.end();) {
      const auto& worker = it->second->worker;
      if (worker != nullptr && worker->active() == 0 &&
          (!worker->alive() || now - worker->last_used() >= options_.idle_timeout)) {
        evicted.push_back(worker);
        it = slots_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& worker : evicted) {
    LogInfo("sandbox: stopping the idle worker of practice ", worker->practice_id());
  }
  return static_cast<int>(evicted.size());
}

std::vector<std::shared_ptr<ZygoteWorker>> ZygoteExecutor::MakeRoomLocked() {
  std::vector<std::shared_ptr<ZygoteWorker>> evicted;
  int count = 0;
  for (const auto& [id, slot] : slots_) count += slot->worker != nullptr || slot->starting;
  while (count >= options_.max_workers) {
    auto lru = slots_.end();
    for (auto it = slots_.begin(); it != slots_.end(); ++it) {
      const auto& worker = it->second->worker;
      if (worker == nullptr || worker->active() > 0) continue;
      if (lru == slots_.end() || worker->last_used() < lru->second->worker->last_used()) {
        lru = it;
      }
    }
    if (lru == slots_.end()) break;  // all busy: briefly over the bound
    evicted.push_back(lru->second->worker);
    slots_.erase(lru);
    --count;
  }
  return evicted;
}

absl::StatusOr<std::unique_ptr<ZygoteWorker>> ZygoteExecutor::StartWorker(
    const std::string& practice_id, const std::string& data_dir, CancellationToken& cancel) {
  VET_RETURN_IF_ERROR(start_limiter_.Acquire(cancel));
  ConcurrencySlot start_slot(start_limiter_);
  if (switch_user_) VET_RETURN_IF_ERROR(GrantGroupRead(data_dir, gid_));
  ZygoteWorker::LaunchOptions launch;
  launch.bwrap.bwrap_path = options_.bwrap_path;
  launch.bwrap.python_path = options_.python_path;
  launch.bwrap.uid = uid_;
  launch.bwrap.gid = gid_;
  launch.bwrap.tmp_bytes = options_.tmp_bytes;
  launch.switch_user = switch_user_;
  launch.practice_id = practice_id;
  launch.data_dir = data_dir;
  launch.start_timeout = options_.start_timeout;
  internal::ZygoteSpec spec;
  spec.run.data_dir = "";
  spec.run.tables = options_.tables;
  spec.run.max_rows = options_.max_rows;
  spec.run.max_charts = options_.max_charts;
  spec.run.max_chart_bytes = options_.max_chart_bytes;
  spec.run.max_result_bytes = options_.max_result_bytes;
  spec.run.max_csv_rows = options_.max_csv_rows;
  spec.run.max_csv_bytes = options_.max_csv_bytes;
  spec.cpu_seconds = options_.cpu_seconds;
  spec.address_space_bytes = options_.address_space_bytes;
  spec.file_bytes = options_.file_bytes;
  spec.open_files = options_.open_files;
  spec.processes = options_.processes;
  spec.seccomp_base = seccomp_.base;
  spec.seccomp_signal_self = seccomp_.signal_self;
  spec.seccomp_pid_offset = seccomp_.signal_self_pid_index * 8 + 4;
  launch.spec_json = internal::EncodeZygoteSpec(spec);
  if (cgroups_ != nullptr) {
    // Unique in the process: several executors may share a parent.
    static std::atomic<uint64_t> worker_serial{0};
    const uint64_t serial = ++worker_serial;
    VET_ASSIGN_OR_RETURN(launch.cgroup, cgroups_->Create(absl::StrCat("worker-", serial),
                                                         options_.memory_bytes, options_.max_pids));
  }
  const absl::Duration start = MonotonicNow();
  auto worker = ZygoteWorker::Start(std::move(launch), cancel);
  if (worker.ok()) {
    LogInfo("sandbox: practice ", practice_id, ": worker ready in ",
            absl::FormatDuration(absl::Trunc(MonotonicNow() - start, absl::Milliseconds(1))), " (",
            FormatBytes((*worker)->ready_rss_bytes() >> 20 << 20), " resident)");
  }
  return worker;
}

absl::StatusOr<std::shared_ptr<ZygoteWorker>> ZygoteExecutor::WorkerFor(
    const std::string& practice_id, const std::string& data_dir, CancellationToken& cancel) {
  std::vector<std::shared_ptr<ZygoteWorker>> retired;
  absl::MutexLock lock(&mu_);
  while (true) {
    if (stopping_) return absl::UnavailableError("the sandbox is shutting down");
    auto it = slots_.find(practice_id);
    if (it != slots_.end()) {
      std::shared_ptr<Slot> slot = it->second;
      if (slot->starting) {
        // One start per practice at a time, on its own thread: a question
        // cancelled while waiting leaves it running for the next one.
        auto done = [&slot] { return !slot->starting; };
        while (!mu_.AwaitWithTimeout(absl::Condition(&done), absl::Milliseconds(50))) {
          if (cancel.IsCancelled()) {
            return absl::CancelledError("cancelled while the practice's sandbox worker started");
          }
        }
        if (slot->data_dir == data_dir && !slot->start_error.ok()) return slot->start_error;
        continue;
      }
      if (slot->worker != nullptr && slot->worker->alive() && slot->data_dir == data_dir) {
        return slot->worker;
      }
      // Dead, or holding an older version of the data: replaced. Runs
      // still using it keep it alive until they end.
      if (slot->worker != nullptr) retired.push_back(slot->worker);
      slots_.erase(it);
    }
    auto evicted = MakeRoomLocked();
    retired.insert(retired.end(), evicted.begin(), evicted.end());
    auto slot = std::make_shared<Slot>();
    slot->data_dir = data_dir;
    slot->starting = true;
    slots_[practice_id] = slot;
    ++starts_in_flight_;
    std::thread([this, slot, practice_id, data_dir] {
      auto started = StartWorker(practice_id, data_dir, shutdown_);
      std::shared_ptr<ZygoteWorker> unwanted;
      absl::MutexLock lock(&mu_);
      slot->starting = false;
      if (started.ok()) {
        slot->worker = std::shared_ptr<ZygoteWorker>(std::move(*started));
        if (stopping_) unwanted = slot->worker;
      } else {
        slot->start_error = started.status();
        auto found = slots_.find(practice_id);
        if (found != slots_.end() && found->second == slot) slots_.erase(found);
      }
      --starts_in_flight_;
      if (unwanted != nullptr) {
        mu_.Unlock();
        unwanted.reset();
        mu_.Lock();
      }
    }).detach();
    if (!retired.empty()) {
      // Stopped outside the lock (the destructors wait for the sandboxes).
      mu_.Unlock();
      retired.clear();
      mu_.Lock();
    }
  }
}

absl::StatusOr<ExecutionResult> ZygoteExecutor::Execute(const ExecutionRequest& request,
                                                        OutputSink& output,
                                                        CancellationToken& cancel) {
  VET_RETURN_IF_ERROR(internal::CheckRequest(request));
  VET_RETURN_IF_ERROR(cancel.Check("before the sandbox ran"));
  char* resolved = ::realpath(request.data_dir.c_str(), nullptr);
  const std::string data_dir = resolved != nullptr ? resolved : request.data_dir;
  ::free(resolved);

  std::shared_ptr<ZygoteWorker> worker;
  absl::StatusOr<std::unique_ptr<internal::SupervisedProcess>> process;
  // A worker can die between two questions; the second try starts afresh.
  for (int attempt = 0; attempt < 2; ++attempt) {
    VET_RETURN_IF_ERROR(cancel.Check("before the sandbox ran"));
    auto found = WorkerFor(request.practice_id, data_dir, cancel);
    if (!found.ok()) {
      const absl::Status& s = found.status();
      if (s.code() == absl::StatusCode::kCancelled) return s;
      return absl::Status(
          s.code() == absl::StatusCode::kNotFound ? s.code() : absl::StatusCode::kUnavailable,
          absl::StrCat("the sandbox for practice ", request.practice_id,
                       " could not start: ", s.message()));
    }
    worker = *found;
    process = worker->Fork(request.code);
    if (process.ok() || process.status().code() != absl::StatusCode::kUnavailable) break;
  }
  if (!process.ok()) return process.status();

  internal::RunLimits limits{
      request.timeout, options_.max_output_bytes,
      internal::MaxResultDocumentBytes(options_.max_result_bytes, options_.max_charts,
                                       options_.max_chart_bytes, options_.max_csv_bytes)};
  internal::RunOutcome outcome = internal::Supervise(**process, limits, output, cancel);
  process->reset();
  const int64_t memory_limit = outcome.exit.out_of_memory && cgroups_ != nullptr
                                   ? options_.memory_bytes
                                   : options_.address_space_bytes;
  absl::StatusOr<ExecutionResult> result = internal::Conclude(
      outcome, internal::ConcludeLimits{request.timeout, options_.cpu_seconds, memory_limit,
                                        options_.max_output_bytes, options_.max_result_bytes,
                                        options_.max_sent_result_bytes});
  if (result.ok()) {
    result->elapsed = outcome.elapsed;
  }
  internal::LogOutcome(request.practice_id, outcome.elapsed, result);
  return result;
}

}  // namespace vet::sandbox
