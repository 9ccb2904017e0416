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
#include "core/sandbox/supervisor.h"

namespace vet::sandbox {
namespace {

using internal::ChildProcess;
using internal::Conclude;
using internal::ConcludeLimits;
using internal::DescribeExit;
using internal::FormatBytes;
using internal::RunLimits;
using internal::RunOutcome;
using internal::StopReason;
using internal::UniqueFd;

constexpr char kMplConfigSubdir[] = ".matplotlib";
// Files the code writes in its scratch directory.
constexpr rlim_t kMaxFileBytes = rlim_t{64} << 20;
// Python with pandas and matplotlib needs about 20.
constexpr rlim_t kMaxOpenFiles = 64;
// The probe imports pandas and matplotlib and may build the font cache: a
// few seconds on a loaded machine.
constexpr absl::Duration kProbeTimeout = absl::Seconds(60);

class ScratchDir {
 public:
  static absl::StatusOr<std::unique_ptr<ScratchDir>> Make(const std::string& root) {
    std::string templ = absl::StrCat(root, "/vet-sandbox-XXXXXX");
    if (::mkdtemp(templ.data()) == nullptr) {  // mode 0700
      return absl::InternalError(
          absl::StrCat("sandbox: cannot make a scratch directory: ", strerror(errno)));
    }
    auto dir = std::unique_ptr<ScratchDir>(new ScratchDir(templ));
    if (::mkdir(dir->mpl_config_dir().c_str(), 0700) != 0) {
      return absl::InternalError(
          absl::StrCat("sandbox: cannot make a scratch directory: ", strerror(errno)));
    }
    return dir;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string mpl_config_dir() const { return absl::StrCat(path_, "/", kMplConfigSubdir); }

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
                                    const ScratchDir& scratch, std::string spec_json,
                                    std::string code) {
  internal::LaunchSpec spec;
  spec.executable = options.python_path;
  // -I: ignore PYTHON* variables, the user site and the script's directory;
  // -B: write no .pyc; -u: unbuffered stdout/stderr so output streams.
  spec.argv = {options.python_path, "-I", "-B", "-u", "-c", std::string(internal::RunnerSource()),
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

absl::StatusOr<RunOutcome> RunRunner(const internal::LaunchSpec& spec, const RunLimits& limits,
                                     OutputSink& sink, CancellationToken& cancel) {
  auto child = ChildProcess::Spawn(spec);
  if (!child.ok()) return child.status();
  return internal::Supervise(**child, limits, sink, cancel);
}

absl::Status ValidateOptions(const SubprocessExecutor::Options& o) {
  struct stat st;
  if (::stat(o.python_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      ::access(o.python_path.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("sandbox: python_path ", o.python_path, " is not an executable file"));
  }
  if (::stat(o.scratch_root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
      ::access(o.scratch_root.c_str(), W_OK | X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("sandbox: scratch_root ", o.scratch_root, " is not a writable directory"));
  }
  if (o.cpu_seconds < 1 || o.address_space_bytes < (int64_t{256} << 20) || o.max_output_bytes < 1 ||
      o.max_result_bytes < 1024 || o.max_rows < 0 || o.max_charts < 0 || o.max_chart_bytes < 1 ||
      o.max_sent_result_bytes < 1024 || o.max_csv_rows < 0 || o.max_csv_bytes < 0) {
    return absl::InvalidArgumentError(
        "sandbox: options out of range (cpu_seconds >= 1, address_space_bytes "
        ">= 256 MiB, "
        "max_result_bytes and max_sent_result_bytes >= 1 KiB, other limits positive)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SubprocessExecutor>> SubprocessExecutor::Create(Options options) {
  VET_RETURN_IF_ERROR(ValidateOptions(options));
  std::vector<FontCacheFile> font_cache;
  if (options.probe_interpreter) {
    VET_ASSIGN_OR_RETURN(std::unique_ptr<ScratchDir> scratch,
                         ScratchDir::Make(options.scratch_root));
    DiscardSink discard;
    CancellationToken never;
    RunLimits limits{kProbeTimeout, options.max_output_bytes, internal::kResultEnvelopeBytes};
    auto outcome = RunRunner(MakeLaunchSpec(options, *scratch, internal::EncodeProbeSpec(),
                                            /*code=*/""),
                             limits, discard, never);
    if (!outcome.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "sandbox: ", options.python_path, " cannot be started: ", outcome.status().message()));
    }
    auto parsed = internal::ParseRunnerOutput(outcome->result_document);
    if (outcome->stop != StopReason::kNone || !parsed.ok() ||
        parsed->status != internal::RunnerOutput::Status::kOk || parsed->versions.empty()) {
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
    LogInfo("sandbox: ", options.python_path, " has ", absl::StrJoin(versions, ", "));
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(scratch->mpl_config_dir(), ec)) {
      const std::string name = entry.path().filename().string();
      if (!absl::StartsWith(name, "fontlist-") || !absl::EndsWith(name, ".json")) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (in.good() || in.eof()) font_cache.push_back({name, std::move(contents)});
    }
  }
  return std::unique_ptr<SubprocessExecutor>(
      new SubprocessExecutor(std::move(options), std::move(font_cache)));
}

SubprocessExecutor::SubprocessExecutor(Options options, std::vector<FontCacheFile> font_cache)
    : options_(std::move(options)), font_cache_(std::move(font_cache)) {}

SubprocessExecutor::~SubprocessExecutor() = default;

absl::StatusOr<ExecutionResult> SubprocessExecutor::Execute(const ExecutionRequest& request,
                                                            OutputSink& output,
                                                            CancellationToken& cancel) {
  VET_RETURN_IF_ERROR(internal::CheckRequest(request));
  VET_RETURN_IF_ERROR(cancel.Check("before the sandbox ran"));

  VET_ASSIGN_OR_RETURN(std::unique_ptr<ScratchDir> scratch,
                       ScratchDir::Make(options_.scratch_root));
  for (const FontCacheFile& file : font_cache_) {
    std::ofstream out(absl::StrCat(scratch->mpl_config_dir(), "/", file.name), std::ios::binary);
    out.write(file.contents.data(), static_cast<std::streamsize>(file.contents.size()));
  }
  internal::RunSpec spec;
  spec.data_dir = request.data_dir;
  spec.tables = options_.tables;
  spec.max_rows = options_.max_rows;
  spec.max_charts = options_.max_charts;
  spec.max_chart_bytes = options_.max_chart_bytes;
  spec.max_result_bytes = options_.max_result_bytes;
  spec.max_csv_rows = options_.max_csv_rows;
  spec.max_csv_bytes = options_.max_csv_bytes;
  RunLimits limits{
      request.timeout, options_.max_output_bytes,
      internal::MaxResultDocumentBytes(options_.max_result_bytes, options_.max_charts,
                                       options_.max_chart_bytes, options_.max_csv_bytes)};

  VET_ASSIGN_OR_RETURN(
      RunOutcome outcome,
      RunRunner(MakeLaunchSpec(options_, *scratch, internal::EncodeRunSpec(spec), request.code),
                limits, output, cancel));
  absl::StatusOr<ExecutionResult> result =
      Conclude(outcome, ConcludeLimits{request.timeout, options_.cpu_seconds,
                                       options_.address_space_bytes, options_.max_output_bytes,
                                       options_.max_result_bytes, options_.max_sent_result_bytes});
  if (result.ok()) {
    result->elapsed = outcome.elapsed;
  }
  internal::LogOutcome(request.practice_id, outcome.elapsed, result);
  return result;
}

}  // namespace vet::sandbox
