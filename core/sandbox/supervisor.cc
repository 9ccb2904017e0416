// The Supervisor's poll loop and the mapping of outcomes onto statuses.
#include "core/sandbox/supervisor.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/common/clock.h"
#include "core/common/log.h"
#include "core/sandbox/runner_protocol.h"

namespace vet::sandbox::internal {
namespace {

// The last stderr bytes kept to explain a crash.
constexpr size_t kStderrTailBytes = 4096;
// Longest stderr line quoted in a status.
constexpr size_t kMaxQuotedLineChars = 200;
// Longest single poll() wait; the loop just polls again.
constexpr int64_t kMaxPollMillis = int64_t{3600} * 1000;
// Reads of up to 64 KiB each when emptying a pipe after the child exited.
constexpr int kMaxDrainReads = 1024;

}  // namespace

std::string FormatBytes(int64_t bytes) {
  if (bytes > 0 && bytes % (int64_t{1} << 30) == 0) return absl::StrCat(bytes >> 30, " GiB");
  if (bytes > 0 && bytes % (int64_t{1} << 20) == 0) return absl::StrCat(bytes >> 20, " MiB");
  if (bytes > 0 && bytes % (int64_t{1} << 10) == 0) return absl::StrCat(bytes >> 10, " KiB");
  return absl::StrCat(bytes, " bytes");
}

// The length of the longest prefix of `s` that does not end inside a UTF-8
// sequence. Invalid bytes are not held back: this only avoids splitting
// valid text across two OnOutput calls.
namespace {

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

}  // namespace

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
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 > 0x9F) && !(c == 0xF0 && c1 < 0x90) &&
           !(c == 0xF4 && c1 > 0x8F);
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
namespace {

// Reads the child's pipes until it exits (or is stopped), forwarding output
// to `sink` as it arrives, then kills its group and reaps it.
class Supervisor {
 public:
  Supervisor(SupervisedProcess& child, const RunLimits& limits, OutputSink& sink)
      : child_(child), limits_(limits), sink_(sink) {}

  RunOutcome Run(CancellationToken& cancel) {
    // Monotonic: a step of the wall clock moves no deadline.
    const absl::Duration start = MonotonicNow();
    const absl::Duration deadline = start + limits_.timeout;
    {
      // Kills at once, from the cancelling thread; the poll below wakes when
      // the child dies.
      ScopedCancellationCallback on_cancel(cancel, [this] { Stop(StopReason::kCancelled); });
      bool exited = false;
      while (!exited) {
        int timeout_ms = -1;
        if (stop_.load() == StopReason::kNone) {
          absl::Duration left = deadline - MonotonicNow();
          if (left <= absl::ZeroDuration()) {
            Stop(StopReason::kDeadline);
          } else {
            // Rounded up: waking a little early would only spin. Capped so
            // an infinite timeout does not overflow poll()'s int.
            timeout_ms = static_cast<int>(
                std::min<int64_t>(absl::ToInt64Milliseconds(left), kMaxPollMillis) + 1);
          }
        }
        struct pollfd fds[4];
        nfds_t n = 0;
        fds[n++] = {child_.exit_fd(), POLLIN, 0};
        for (UniqueFd* pipe :
             {&child_.stdout_pipe(), &child_.stderr_pipe(), &child_.result_pipe()}) {
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
    child_.Kill();
    for (UniqueFd* pipe : {&child_.stdout_pipe(), &child_.stderr_pipe(), &child_.result_pipe()}) {
      for (int reads = 0; reads < kMaxDrainReads && pipe->valid() && ReadOnce(pipe->get());
           ++reads) {
      }
    }
    FlushPending(stdout_);
    FlushPending(stderr_);
    outcome_.exit = child_.KillAndWait();
    outcome_.elapsed = MonotonicNow() - start;
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
    if (stop_.compare_exchange_strong(expected, reason)) child_.Kill();
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
    if (tail.size() > 2 * kStderrTailBytes) tail.erase(0, tail.size() - kStderrTailBytes);
  }

  SupervisedProcess& child_;
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

}  // namespace

int64_t MaxResultDocumentBytes(int64_t max_result_bytes, int max_charts, int64_t max_chart_bytes,
                               int64_t max_csv_bytes) {
  // runner.py caps `answer` at 20,000 characters (UTF-8: 4 bytes at most);
  // charts and the CSV travel as base64: 4 bytes for every 3.
  constexpr int64_t kMaxAnswerBytes = int64_t{4} * 20000;
  return max_result_bytes + kMaxAnswerBytes + kResultEnvelopeBytes +
         int64_t{max_charts} * (max_chart_bytes / 3 * 4 + 4 + 256) +
         (max_csv_bytes / 3 * 4 + 4 + 256);
}

RunOutcome Supervise(SupervisedProcess& process, const RunLimits& limits, OutputSink& sink,
                     CancellationToken& cancel) {
  // On the heap: the supervisor carries a 64 KiB read buffer.
  auto supervisor = std::make_unique<Supervisor>(process, limits, sink);
  return supervisor->Run(cancel);
}

namespace {

std::string LastLine(absl::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  size_t newline = text.rfind('\n');
  if (newline != absl::string_view::npos) text.remove_prefix(newline + 1);
  if (text.size() > kMaxQuotedLineChars) text = text.substr(0, kMaxQuotedLineChars);
  std::string line;
  AppendValidUtf8(text, line);
  return line;
}

}  // namespace

absl::Status CheckRequest(const ExecutionRequest& request) {
  if (request.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("sandbox: the timeout must be positive");
  }
  struct stat st;
  if (request.data_dir.empty() || ::stat(request.data_dir.c_str(), &st) != 0 ||
      !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(absl::StrCat("practice ", request.practice_id, " has no data"));
  }
  return absl::OkStatus();
}

void LogOutcome(absl::string_view practice_id, absl::Duration elapsed,
                const absl::StatusOr<ExecutionResult>& result) {
  const absl::Status& status = result.status();
  if (status.code() == absl::StatusCode::kInternal) {
    LogWarning("sandbox: practice ", practice_id, ": ", status.message());
  }
  LogInfo("sandbox: practice ", practice_id, " ran in ",
          absl::FormatDuration(absl::Trunc(elapsed, absl::Milliseconds(1))), ": ",
          status.ok() ? (result->error ? "raised " + result->error->type : std::string("ok"))
                      : absl::StatusCodeToString(status.code()));
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

namespace {

bool LooksOutOfMemory(absl::string_view stderr_tail) {
  return absl::StrContains(stderr_tail, "MemoryError") ||
         absl::StrContains(stderr_tail, "Cannot allocate memory") ||
         absl::StrContains(stderr_tail, "std::bad_alloc");
}

absl::Status MemoryExhausted(const ConcludeLimits& limits) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "the code ran out of memory (the memory limit is ", FormatBytes(limits.memory_bytes), ")"));
}

}  // namespace

void FitForSending(ExecutionResult& execution, absl::optional<TableCsv> csv,
                   int64_t max_sent_result_bytes) {
  ResultValue& result = execution.result;
  if (result.kind == ResultValue::Kind::kText) {
    CutText(result.text, static_cast<size_t>(max_sent_result_bytes));
    return;
  }
  if (result.kind != ResultValue::Kind::kTable) return;
  ResultTable& table = result.table;
  FitTable(table, max_sent_result_bytes, kMaxSentCellBytes);
  if (!table.truncated() || !csv.has_value() || csv->rows == 0) return;
  table.csv_artifact = kTableCsvName;
  table.csv_rows = std::min(csv->rows, table.total_rows);
  execution.charts.push_back(Chart{kTableCsvName, kTableCsvMimeType, std::move(csv->data)});
}

absl::StatusOr<ExecutionResult> Conclude(const RunOutcome& outcome, const ConcludeLimits& limits) {
  const ConcludeLimits& options = limits;
  const absl::Duration timeout = limits.timeout;
  switch (outcome.stop) {
    case StopReason::kNone:
      break;
    case StopReason::kCancelled:
      return absl::CancelledError("the execution was cancelled and its process stopped");
    case StopReason::kDeadline:
      return absl::DeadlineExceededError(absl::StrCat(
          "the code ran longer than ", absl::FormatDuration(timeout), " and was stopped"));
    case StopReason::kOutputLimit:
      return absl::ResourceExhaustedError(absl::StrCat("the code printed more than ",
                                                       FormatBytes(options.max_output_bytes),
                                                       " (the output limit) and was stopped"));
    case StopReason::kPollFailed:
      return absl::InternalError("sandbox: poll() failed while supervising the interpreter");
    case StopReason::kResultLimit:
      return absl::ResourceExhaustedError(
          absl::StrCat("the code's result passed the result limit of ",
                       FormatBytes(options.max_result_bytes), " and was stopped"));
  }
  if (outcome.exit.out_of_memory) return MemoryExhausted(limits);
  if (!outcome.exit.abnormal.empty()) {
    return absl::InternalError(outcome.exit.abnormal);
  }
  const int status = outcome.exit.wait_status;
  if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGXCPU ||
                              (WTERMSIG(status) == SIGKILL &&
                               outcome.exit.cpu_time >= absl::Seconds(options.cpu_seconds)))) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the code used more than the CPU time limit of ", options.cpu_seconds, "s"));
  }
  if (outcome.result_document.empty()) {
    if (LooksOutOfMemory(outcome.stderr_tail)) return MemoryExhausted(limits);
    return absl::InternalError(
        absl::StrCat("the interpreter ", DescribeExit(outcome), ", without a result"));
  }
  auto parsed = internal::ParseRunnerOutput(outcome.result_document);
  if (!parsed.ok()) {
    return absl::InternalError(
        absl::StrCat(parsed.status().message(), "; the interpreter ", DescribeExit(outcome)));
  }
  switch (parsed->status) {
    case internal::RunnerOutput::Status::kOk:
      FitForSending(parsed->execution, std::move(parsed->table_csv), limits.max_sent_result_bytes);
      return std::move(parsed->execution);
    case internal::RunnerOutput::Status::kCodeError:
      if (parsed->execution.error->type == "MemoryError") return MemoryExhausted(limits);
      return std::move(parsed->execution);
    case internal::RunnerOutput::Status::kFatal:
      return absl::InternalError(absl::StrCat("the sandbox runner failed (", parsed->fatal_stage,
                                              "): ", parsed->fatal_error.type, ": ",
                                              parsed->fatal_error.message));
  }
  return absl::InternalError("the sandbox runner returned an unknown status");
}

}  // namespace vet::sandbox::internal
