// SubprocessExecutor: admission, one interpreter per execution, the poll loop
// that streams its output and enforces the wall clock and output limits, and
// the mapping of how it ended onto a status.
#include "core/sandbox/subprocess_executor.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "core/common/log.h"
#include "core/common/status_macros.h"
#include "core/sandbox/child_process.h"
#include "core/sandbox/runner_protocol.h"
#include "core/sandbox/runner_source.h"

namespace vet::sandbox {
namespace {

using internal::ChildProcess;
using internal::UniqueFd;

constexpr char kMplConfigSubdir[] = ".matplotlib";
// Files the code writes in its scratch directory.
constexpr rlim_t kMaxFileBytes = rlim_t{64} << 20;
// Python with pandas and matplotlib needs about 20.
constexpr rlim_t kMaxOpenFiles = 64;
// The last stderr bytes kept to explain a crash.
constexpr size_t kStderrTailBytes = 4096;
// Longest stderr line quoted in a status.
constexpr size_t kMaxQuotedLineChars = 200;
// The probe imports pandas and matplotlib and may build the font cache: a
// few seconds on a loaded machine.
constexpr absl::Duration kProbeTimeout = absl::Seconds(60);
// runner.py caps `answer` at 20,000 characters (UTF-8: 4 bytes at most);
// the rest of the document's envelope is small.
constexpr int64_t kMaxAnswerBytes = 4 * 20000;
constexpr int64_t kEnvelopeBytes = 64 << 10;
// Longest single poll() wait; the loop just polls again.
constexpr int64_t kMaxPollMillis = 3600 * 1000;
// Reads of up to 64 KiB each when emptying a pipe after the child exited.
constexpr int kMaxDrainReads = 1024;

std::string FormatBytes(int64_t bytes) {
  if (bytes > 0 && bytes % (int64_t{1} << 30) == 0)
    return absl::StrCat(bytes >> 30, " GiB");
  if (bytes > 0 && bytes % (int64_t{1} << 20) == 0)
    return absl::StrCat(bytes >> 20, " MiB");
  if (bytes > 0 && bytes % (int64_t{1} << 10) == 0)
    return absl::StrCat(bytes >> 10, " KiB");
  return absl::StrCat(bytes, " bytes");
}

// The length of the longest prefix of `s` that does not end inside a UTF-8
// sequence. Invalid bytes are not held back: this only avoids splitting
// valid text across two OnOutput calls.
size_t CompleteUtf8Prefix(absl::string_view s) {
  size_t n = s.size();
  for (size_t back = 1; back <= 4 && back <= n; ++back) {
    unsigned char c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // a continuation byte: keep looking
    size_t need = c < 0x80             ? 1
                  : (c & 0xE0) == 0xC0 ? 2
                  : (c & 0xF0) == 0xE0 ? 3
                  : (c & 0xF8) == 0xF0 ? 4
                                       : 1;
    return back >= need ? n : n - back;
  }
  return n;
}

// Appends `in` to `out` with every byte that does not begin a valid UTF-8
// sequence replaced by U+FFFD. Output ends up in protobuf string fields,
// which must be valid UTF-8; code can write any bytes to sys.stdout.buffer.
void AppendValidUtf8(absl::string_view in, std::string& out) {
  size_t i = 0;
  while (i < in.size()) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    size_t len = c < 0x80                   ? 1
                 : (c >= 0xC2 && c <= 0xDF) ? 2
                 : (c >= 0xE0 && c <= 0xEF) ? 3
                 : (c >= 0xF0 && c <= 0xF4) ? 4
                                            : 0;
    bool ok = len > 0 && i + len <= in.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (static_cast<unsigned char>(in[i + k]) & 0xC0) == 0x80;
    }
    if (ok && len >= 3) {
      // No overlong forms, UTF-16 surrogates or code points past U+10FFFF.
      const unsigned char c1 = static_cast<unsigned char>(in[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 > 0x9F) &&
           !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 > 0x8F);
    }
    if (ok) {
      out.append(in.data() + i, len);
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
}

// A private directory for one execution (cwd, HOME, TMPDIR, MPLCONFIGDIR),
// removed with everything in it on destruction.
class ScratchDir {
 public:
  static absl::StatusOr<std::unique_ptr<ScratchDir>> Make(
      const std::string& root) {
    std::string templ = absl::StrCat(root, "/vet-sandbox-XXXXXX");
    if (::mkdtemp(templ.data()) == nullptr) {  // mode 0700
      return absl::InternalError(absl::StrCat(
          "sandbox: cannot make a scratch directory: ", strerror(errno)));
    }
    auto dir = std::unique_ptr<ScratchDir>(new ScratchDir(templ));
    if (::mkdir(dir->mpl_config_dir().c_str(), 0700) != 0) {
      return absl::InternalError(absl::StrCat(
          "sandbox: cannot make a scratch directory: ", strerror(errno)));
    }
    return dir;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string mpl_config_dir() const {
    return absl::StrCat(path_, "/", kMplConfigSubdir);
  }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  const std::string path_;
};

// The whole environment of the interpreter. The server's own environment
// holds API keys and database URLs: nothing of it is passed on.
std::vector<std::string> ChildEnvironment(const ScratchDir& scratch) {
  return {
      "PATH=/usr/bin:/bin",
      absl::StrCat("HOME=", scratch.path()),
      absl::StrCat("TMPDIR=", scratch.path()),
      "LANG=C.UTF-8",
      absl::StrCat("MPLCONFIGDIR=", scratch.mpl_config_dir()),
      "MPLBACKEND=Agg",
      // Also set by runner.py; here too so nothing imported earlier (site)
      // starts a thread pool.
      "OMP_NUM_THREADS=1",
      "OPENBLAS_NUM_THREADS=1",
      "MKL_NUM_THREADS=1",
      "NUMEXPR_NUM_THREADS=1",
  };
}

internal::LaunchSpec MakeLaunchSpec(const SubprocessExecutor::Options& options,
                                    const ScratchDir& scratch,
                                    std::string spec_json, std::string code) {
  internal::LaunchSpec spec;
  spec.executable = options.python_path;
  // -I: ignore PYTHON* variables, the user site and the script's directory;
  // -B: write no .pyc; -u: unbuffered stdout/stderr so output streams.
  spec.argv = {options.python_path,
               "-I",
               "-B",
               "-u",
               "-c",
               std::string(internal::RunnerSource()),
               std::move(spec_json)};
  spec.env = ChildEnvironment(scratch);
  spec.working_dir = scratch.path();
  const rlim_t cpu = static_cast<rlim_t>(options.cpu_seconds);
  const rlim_t as = static_cast<rlim_t>(options.address_space_bytes);
  spec.limits = {
      // SIGXCPU at the soft limit; the hard limit (SIGKILL) backs it up if
      // the code catches SIGXCPU.
      {RLIMIT_CPU, cpu, cpu + 1},
      {RLIMIT_AS, as, as},
      {RLIMIT_FSIZE, kMaxFileBytes, kMaxFileBytes},
      {RLIMIT_NOFILE, kMaxOpenFiles, kMaxOpenFiles},
      {RLIMIT_CORE, 0, 0},
  };
  spec.stdin_data = std::move(code);
  return spec;
}

class DiscardSink final : public OutputSink {
 public:
  void OnOutput(OutputStream, absl::string_view) override {}
};

enum class StopReason {
  kNone,
  kDeadline,
  kCancelled,
  kOutputLimit,
  kResultLimit,
  kPollFailed
};

struct RunOutcome {
  StopReason stop = StopReason::kNone;
  std::string result_document;
  std::string stderr_tail;
  ChildProcess::ExitInfo exit;
  absl::Duration elapsed;
};

struct RunLimits {
  absl::Duration timeout;
  int64_t max_output_bytes = 0;
  int64_t max_result_document_bytes = 0;
};

// Reads the child's pipes until it exits (or is stopped), forwarding output
// to `sink` as it arrives, then kills its group and reaps it.
class Supervisor {
 public:
  Supervisor(ChildProcess& child, const RunLimits& limits, OutputSink& sink)
      : child_(child), limits_(limits), sink_(sink) {}

  RunOutcome Run(CancellationToken& cancel) {
    const absl::Time start = absl::Now();
    const absl::Time deadline = start + limits_.timeout;
    {
      // Kills at once, from the cancelling thread; the poll below wakes when
      // the child dies.
      ScopedCancellationCallback on_cancel(
          cancel, [this] { Stop(StopReason::kCancelled); });
      bool exited = false;
      while (!exited) {
        int timeout_ms = -1;
        if (stop_.load() == StopReason::kNone) {
          absl::Duration left = deadline - absl::Now();
          if (left <= absl::ZeroDuration()) {
            Stop(StopReason::kDeadline);
          } else {
            // Rounded up: waking a little early would only spin. Capped so
            // an infinite timeout does not overflow poll()'s int.
            timeout_ms = static_cast<int>(
                std::min<int64_t>(absl::ToInt64Milliseconds(left),
                                  kMaxPollMillis) +
                1);
          }
        }
        struct pollfd fds[4];
        nfds_t n = 0;
        fds[n++] = {child_.exit_fd(), POLLIN, 0};
        for (UniqueFd* pipe : {&child_.stdout_pipe(), &child_.stderr_pipe(),
                               &child_.result_pipe()}) {
          if (pipe->valid()) fds[n++] = {pipe->get(), POLLIN, 0};
        }
        int ready = ::poll(fds, n, timeout_ms);
        if (ready < 0 && errno != EINTR) {
          LogError("sandbox: poll failed: ", strerror(errno));
          Stop(StopReason::kPollFailed);
        }
        if (ready <= 0) continue;
        // One read per ready pipe per round, so a flood on one stream
        // cannot starve the others or the exit check.
        for (nfds_t i = 1; i < n; ++i) {
          if (fds[i].revents != 0) ReadOnce(fds[i].fd);
        }
        exited = (fds[0].revents & POLLIN) != 0;
      }
    }
    // The child is a zombie now. Stop the rest of its group before draining,
    // so the pipes hold a finite amount; the bound is for a descendant that
    // left the group and keeps writing.
    child_.KillGroup();
    for (UniqueFd* pipe : {&child_.stdout_pipe(), &child_.stderr_pipe(),
                           &child_.result_pipe()}) {
      for (int reads = 0;
           reads < kMaxDrainReads && pipe->valid() && ReadOnce(pipe->get());
           ++reads) {
      }
    }
    FlushPending(stdout_);
    FlushPending(stderr_);
    outcome_.exit = child_.KillGroupAndWait();
    outcome_.elapsed = absl::Now() - start;
    outcome_.stop = stop_.load();
    return std::move(outcome_);
  }

 private:
  struct Stream {
    OutputStream kind;
    // Bytes of a UTF-8 sequence whose end has not arrived yet.
    std::string pending;
  };

  // The first reason wins; it kills the group.
  void Stop(StopReason reason) {
    StopReason expected = StopReason::kNone;
    if (stop_.compare_exchange_strong(expected, reason)) child_.KillGroup();
  }

  // Returns whether data was read; closes the pipe at end of file.
  bool ReadOnce(int fd) {
    UniqueFd& pipe = fd == child_.stdout_pipe().get()   ? child_.stdout_pipe()
                     : fd == child_.stderr_pipe().get() ? child_.stderr_pipe()
                                                        : child_.result_pipe();
    ssize_t n = ::read(fd, buffer_, sizeof(buffer_));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) return false;
      pipe.reset();
      return false;
    }
    if (n == 0) {
      pipe.reset();
      return false;
    }
    absl::string_view data(buffer_, static_cast<size_t>(n));
    if (&pipe == &child_.result_pipe()) {
      outcome_.result_document.append(data.data(), data.size());
      if (static_cast<int64_t>(outcome_.result_document.size()) >
          limits_.max_result_document_bytes) {
        Stop(StopReason::kResultLimit);
        pipe.reset();
      }
      return true;
    }
    Stream& stream = &pipe == &child_.stdout_pipe() ? stdout_ : stderr_;
    if (stream.kind == OutputStream::kStderr) KeepStderrTail(data);
    if (stop_.load() != StopReason::kNone) return true;  // read, not forwarded
    const int64_t allowed = limits_.max_output_bytes - output_bytes_;
    output_bytes_ += static_cast<int64_t>(data.size());
    if (static_cast<int64_t>(data.size()) > allowed) {
      Forward(stream, data.substr(0, static_cast<size_t>(allowed)));
      Stop(StopReason::kOutputLimit);
      return true;
    }
    Forward(stream, data);
    return true;
  }

  void Forward(Stream& stream, absl::string_view data) {
    stream.pending.append(data.data(), data.size());
    size_t complete = CompleteUtf8Prefix(stream.pending);
    if (complete == 0) return;
    Emit(stream, absl::string_view(stream.pending).substr(0, complete));
    stream.pending.erase(0, complete);
  }

  void FlushPending(Stream& stream) {
    if (stream.pending.empty() || stop_.load() != StopReason::kNone) return;
    Emit(stream, stream.pending);
    stream.pending.clear();
  }

  void Emit(const Stream& stream, absl::string_view text) {
    valid_.clear();
    AppendValidUtf8(text, valid_);
    sink_.OnOutput(stream.kind, valid_);
  }

  void KeepStderrTail(absl::string_view data) {
    std::string& tail = outcome_.stderr_tail;
    tail.append(data.data(), data.size());
    if (tail.size() > 2 * kStderrTailBytes)
      tail.erase(0, tail.size() - kStderrTailBytes);
  }

  ChildProcess& child_;
  const RunLimits limits_;
  OutputSink& sink_;
  std::atomic<StopReason> stop_{StopReason::kNone};
  Stream stdout_{OutputStream::kStdout, {}};
  Stream stderr_{OutputStream::kStderr, {}};
  int64_t output_bytes_ = 0;
  // Reused for each OnOutput call.
  std::string valid_;
  RunOutcome outcome_;
  char buffer_[64 << 10];
};

absl::StatusOr<RunOutcome> RunRunner(const internal::LaunchSpec& spec,
                                     const RunLimits& limits, OutputSink& sink,
                                     CancellationToken& cancel) {
  auto child = ChildProcess::Spawn(spec);
  if (!child.ok()) return child.status();
  // On the heap: the supervisor carries a 64 KiB read buffer.
  auto supervisor = std::make_unique<Supervisor>(**child, limits, sink);
  return supervisor->Run(cancel);
}

std::string LastLine(absl::string_view text) {
  while (!text.empty() &&
         (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  size_t newline = text.rfind('\n');
  if (newline != absl::string_view::npos) text.remove_prefix(newline + 1);
  if (text.size() > kMaxQuotedLineChars)
    text = text.substr(0, kMaxQuotedLineChars);
  std::string line;
  AppendValidUtf8(text, line);
  return line;
}

std::string DescribeExit(const RunOutcome& outcome) {
  const int status = outcome.exit.wait_status;
  std::string how;
  if (WIFEXITED(status)) {
    how = absl::StrCat("exited with code ", WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    how = absl::StrCat("was killed by signal ", WTERMSIG(status),
                       name != nullptr ? absl::StrCat(" (SIG", name, ")") : "");
  } else {
    how = absl::StrCat("ended with wait status ", status);
  }
  std::string line = LastLine(outcome.stderr_tail);
  if (!line.empty()) absl::StrAppend(&how, "; last stderr line: ", line);
  return how;
}

bool LooksOutOfMemory(absl::string_view stderr_tail) {
  return absl::StrContains(stderr_tail, "MemoryError") ||
         absl::StrContains(stderr_tail, "Cannot allocate memory") ||
         absl::StrContains(stderr_tail, "std::bad_alloc");
}

absl::Status MemoryExhausted(const SubprocessExecutor::Options& options) {
  return absl::ResourceExhaustedError(
      absl::StrCat("the code ran out of memory (the memory limit is ",
                   FormatBytes(options.address_space_bytes), ")"));
}

// How the run ended, as the Executor contract spells it.
absl::StatusOr<ExecutionResult> Conclude(
    const RunOutcome& outcome, const SubprocessExecutor::Options& options,
    absl::Duration timeout) {
  switch (outcome.stop) {
    case StopReason::kNone:
      break;
    case StopReason::kCancelled:
      return absl::CancelledError(
          "the execution was cancelled and its process stopped");
    case StopReason::kDeadline:
      return absl::DeadlineExceededError(
          absl::StrCat("the code ran longer than ",
                       absl::FormatDuration(timeout), " and was stopped"));
    case StopReason::kOutputLimit:
      return absl::ResourceExhaustedError(absl::StrCat(
          "the code printed more than ", FormatBytes(options.max_output_bytes),
          " (the output limit) and was stopped"));
    case StopReason::kPollFailed:
      return absl::InternalError(
          "sandbox: poll() failed while supervising the interpreter");
    case StopReason::kResultLimit:
      return absl::ResourceExhaustedError(absl::StrCat(
          "the code's result passed the result limit of ",
          FormatBytes(options.max_result_bytes), " and was stopped"));
  }
  const int status = outcome.exit.wait_status;
  if (WIFSIGNALED(status) &&
      (WTERMSIG(status) == SIGXCPU ||
       (WTERMSIG(status) == SIGKILL &&
        outcome.exit.cpu_time >= absl::Seconds(options.cpu_seconds)))) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the code used more than the CPU time limit of ",
                     options.cpu_seconds, "s"));
  }
  if (outcome.result_document.empty()) {
    if (LooksOutOfMemory(outcome.stderr_tail)) return MemoryExhausted(options);
    return absl::InternalError(absl::StrCat(
        "the interpreter ", DescribeExit(outcome), ", without a result"));
  }
  auto parsed = internal::ParseRunnerOutput(outcome.result_document);
  if (!parsed.ok()) {
    return absl::InternalError(absl::StrCat(parsed.status().message(),
                                            "; the interpreter ",
                                            DescribeExit(outcome)));
  }
  switch (parsed->status) {
    case internal::RunnerOutput::Status::kOk:
      return std::move(parsed->execution);
    case internal::RunnerOutput::Status::kCodeError:
      if (parsed->execution.error->type == "MemoryError")
        return MemoryExhausted(options);
      return std::move(parsed->execution);
    case internal::RunnerOutput::Status::kFatal:
      return absl::InternalError(absl::StrCat(
          "the sandbox runner failed (", parsed->fatal_stage,
          "): ", parsed->fatal_error.type, ": ", parsed->fatal_error.message));
  }
  return absl::InternalError("the sandbox runner returned an unknown status");
}

absl::Status ValidateOptions(const SubprocessExecutor::Options& o) {
  struct stat st;
  if (::stat(o.python_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      ::access(o.python_path.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sandbox: python_path ", o.python_path, " is not an executable file"));
  }
  if (::stat(o.scratch_root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
      ::access(o.scratch_root.c_str(), W_OK | X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("sandbox: scratch_root ", o.scratch_root,
                     " is not a writable directory"));
  }
  if (o.cpu_seconds < 1 || o.address_space_bytes < (int64_t{256} << 20) ||
      o.max_output_bytes < 1 || o.max_result_bytes < 1024 || o.max_rows < 0 ||
      o.max_charts < 0 || o.max_chart_bytes < 1 || o.max_concurrent < 1) {
    return absl::InvalidArgumentError(
        "sandbox: options out of range (cpu_seconds >= 1, address_space_bytes "
        ">= 256 MiB, "
        "max_result_bytes >= 1 KiB, max_concurrent >= 1, other limits "
        "positive)");
  }
  return absl::OkStatus();
}

int64_t MaxResultDocumentBytes(const SubprocessExecutor::Options& o) {
  // Charts travel as base64: 4 bytes for every 3.
  return o.max_result_bytes + kMaxAnswerBytes + kEnvelopeBytes +
         int64_t{o.max_charts} * (o.max_chart_bytes / 3 * 4 + 4 + 256);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SubprocessExecutor>> SubprocessExecutor::Create(
    Options options) {
  VET_RETURN_IF_ERROR(ValidateOptions(options));
  std::vector<FontCacheFile> font_cache;
  if (options.probe_interpreter) {
    VET_ASSIGN_OR_RETURN(std::unique_ptr<ScratchDir> scratch,
                         ScratchDir::Make(options.scratch_root));
    DiscardSink discard;
    CancellationToken never;
    RunLimits limits{kProbeTimeout, options.max_output_bytes, kEnvelopeBytes};
    auto outcome =
        RunRunner(MakeLaunchSpec(options, *scratch, internal::EncodeProbeSpec(),
                                 /*code=*/""),
                  limits, discard, never);
    if (!outcome.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("sandbox: ", options.python_path,
                       " cannot be started: ", outcome.status().message()));
    }
    auto parsed = internal::ParseRunnerOutput(outcome->result_document);
    if (outcome->stop != StopReason::kNone || !parsed.ok() ||
        parsed->status != internal::RunnerOutput::Status::kOk ||
        parsed->versions.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("sandbox: ", options.python_path,
                       " cannot run the sandbox (it needs pandas, numpy and "
                       "matplotlib): the interpreter ",
                       DescribeExit(*outcome)));
    }
    std::vector<std::string> versions;
    for (const auto& [name, version] : parsed->versions) {
      versions.push_back(absl::StrCat(name, " ", version));
    }
    LogInfo("sandbox: ", options.python_path, " has ",
            absl::StrJoin(versions, ", "));
    std::error_code ec;
    for (const auto& entry :
         std::filesystem::directory_iterator(scratch->mpl_config_dir(), ec)) {
      const std::string name = entry.path().filename().string();
      if (!absl::StartsWith(name, "fontlist-") ||
          !absl::EndsWith(name, ".json"))
        continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string contents((std::istreambuf_iterator<char>(in)),
                           std::istreambuf_iterator<char>());
      if (in.good() || in.eof())
        font_cache.push_back({name, std::move(contents)});
    }
  }
  return std::unique_ptr<SubprocessExecutor>(
      new SubprocessExecutor(std::move(options), std::move(font_cache)));
}

SubprocessExecutor::SubprocessExecutor(Options options,
                                       std::vector<FontCacheFile> font_cache)
    : options_(std::move(options)),
      font_cache_(std::move(font_cache)),
      limiter_(options_.max_concurrent) {}

SubprocessExecutor::~SubprocessExecutor() = default;

absl::StatusOr<ExecutionResult> SubprocessExecutor::Execute(
    const ExecutionRequest& request, OutputSink& output,
    CancellationToken& cancel) {
  if (request.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("sandbox: the timeout must be positive");
  }
  struct stat st;
  if (request.data_dir.empty() || ::stat(request.data_dir.c_str(), &st) != 0 ||
      !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(
        absl::StrCat("practice ", request.practice_id, " has no data"));
  }
  VET_RETURN_IF_ERROR(cancel.Check("before the sandbox ran"));
  VET_RETURN_IF_ERROR(limiter_.Acquire(cancel));
  ConcurrencySlot slot(limiter_);
  VET_RETURN_IF_ERROR(cancel.Check("before the sandbox ran"));

  VET_ASSIGN_OR_RETURN(std::unique_ptr<ScratchDir> scratch,
                       ScratchDir::Make(options_.scratch_root));
  for (const FontCacheFile& file : font_cache_) {
    std::ofstream out(absl::StrCat(scratch->mpl_config_dir(), "/", file.name),
                      std::ios::binary);
    out.write(file.contents.data(),
              static_cast<std::streamsize>(file.contents.size()));
  }
  internal::RunSpec spec;
  spec.data_dir = request.data_dir;
  spec.tables = options_.tables;
  spec.max_rows = options_.max_rows;
  spec.max_charts = options_.max_charts;
  spec.max_chart_bytes = options_.max_chart_bytes;
  spec.max_result_bytes = options_.max_result_bytes;
  RunLimits limits{request.timeout, options_.max_output_bytes,
                   MaxResultDocumentBytes(options_)};

  VET_ASSIGN_OR_RETURN(
      RunOutcome outcome,
      RunRunner(MakeLaunchSpec(options_, *scratch,
                               internal::EncodeRunSpec(spec), request.code),
                limits, output, cancel));
  absl::StatusOr<ExecutionResult> result =
      Conclude(outcome, options_, request.timeout);
  if (result.ok()) result->elapsed = outcome.elapsed;
  const absl::Status& status = result.status();
  if (status.code() == absl::StatusCode::kInternal) {
    LogWarning("sandbox: practice ", request.practice_id, ": ",
               status.message());
  }
  LogInfo(
      "sandbox: practice ", request.practice_id, " ran in ",
      absl::FormatDuration(absl::Trunc(outcome.elapsed, absl::Milliseconds(1))),
      ": ",
      status.ok() ? (result->error ? "raised " + result->error->type
                                   : std::string("ok"))
                  : absl::StatusCodeToString(status.code()));
  return result;
}

}  // namespace vet::sandbox
