// The fairness benchmark behind scripts/bench-fairness.sh: how long a
// practice's trivial question takes while another practice floods the
// sandbox, through the server's stack (FairScheduler over ZygoteExecutor).
//
// Usage: fairness_bench <columnar_dir> [seconds=40] [per_practice=3] [cgroups=1]
//   practice "flood": 6 clients, each asking again as soon as it is
//                     answered, each question spinning 3 s of CPU;
//   practice "quiet": 1 client asking `result = 1` every 250 ms;
//   per_practice:     FairScheduler's max_running_per_practice (of 5);
//                     5 turns the reserve off (turns only);
//   cgroups:          0 runs the workers without cgroups (so without the
//                     per-practice CPU weight).
// Prints the quiet practice's latency (p50, p95, max) and how many flood
// questions were answered.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/common/clock.h"
#include "core/common/log.h"
#include "core/data/schema.h"
#include "core/sandbox/fair_scheduler.h"
#include "core/sandbox/zygote_executor.h"

namespace vet::sandbox {
namespace {

// Spins on CPU time, not wall time, so that a CPU-starved run takes longer.
constexpr char kSpin[] =
    "import time\n"
    "t = time.process_time()\n"
    "while time.process_time() - t < 3:\n"
    "    pass\n"
    "result = 1\n";
constexpr int kFloodClients = 6;

class NullSink final : public OutputSink {
 public:
  void OnOutput(OutputStream, absl::string_view) override {}
};

absl::Status Ask(Executor& executor, const std::string& practice, const std::string& data_dir,
                 const char* code) {
  ExecutionRequest request;
  request.practice_id = practice;
  request.data_dir = data_dir;
  request.code = code;
  NullSink sink;
  CancellationToken token;
  absl::StatusOr<ExecutionResult> result = executor.Execute(request, sink, token);
  return result.status();
}

double At(const std::vector<double>& sorted, double q) {
  size_t i = static_cast<size_t>(std::lround(q * static_cast<double>(sorted.size() - 1)));
  return sorted[std::min(i, sorted.size() - 1)];
}

int Main(int argc, char** argv) {
  int seconds = 40, per_practice = 3, cgroups = 1;
  if (argc < 2 || argc > 5 || (argc > 2 && !absl::SimpleAtoi(argv[2], &seconds)) ||
      (argc > 3 && !absl::SimpleAtoi(argv[3], &per_practice)) ||
      (argc > 4 && !absl::SimpleAtoi(argv[4], &cgroups)) || seconds < 5) {
    std::fprintf(stderr,
                 "usage: fairness_bench <columnar_dir> [seconds>=5] [per_practice] "
                 "[cgroups=0|1]\n");
    return 2;
  }
  const std::string data_dir = argv[1];
  SetLogQuiet(true);

  ZygoteExecutor::Options zygote_options;
  zygote_options.tables = data::DateColumnsByTable();
  zygote_options.cpu_weight_executions = FairScheduler::Options().max_concurrent;
  if (cgroups == 0) zygote_options.cgroup_root.clear();
  auto zygote = ZygoteExecutor::Create(zygote_options);
  if (!zygote.ok()) {
    std::fprintf(stderr, "fairness_bench: %s\n", zygote.status().ToString().c_str());
    return 1;
  }
  std::printf("isolation: %s\n", (*zygote)->isolation().c_str());
  FairScheduler::Options options;
  options.max_running_per_practice = per_practice;
  auto scheduler = FairScheduler::Create(options, *std::move(zygote), RealClock::Get());
  if (!scheduler.ok()) {
    std::fprintf(stderr, "fairness_bench: %s\n", scheduler.status().ToString().c_str());
    return 1;
  }
  FairScheduler& executor = **scheduler;
  // Both workers warm before the clock starts.
  for (const char* practice : {"flood", "quiet"}) {
    absl::Status s = Ask(executor, practice, data_dir, "result = 1");
    if (!s.ok()) {
      std::fprintf(stderr, "fairness_bench: warm-up: %s\n", s.ToString().c_str());
      return 1;
    }
  }

  const absl::Time end = absl::Now() + absl::Seconds(seconds);
  std::atomic<int> flood_answered{0}, flood_failed{0};
  absl::Mutex mu;
  std::string flood_failure;  // the first one
  std::vector<std::thread> flood;
  flood.reserve(kFloodClients);
  for (int i = 0; i < kFloodClients; ++i) {
    flood.emplace_back([&] {
      while (absl::Now() < end) {
        absl::Status s = Ask(executor, "flood", data_dir, kSpin);
        (s.ok() ? flood_answered : flood_failed).fetch_add(1);
        absl::MutexLock lock(&mu);
        if (!s.ok() && flood_failure.empty()) flood_failure = s.ToString();
      }
    });
  }
  // The quiet practice starts once the flood holds its slots.
  absl::SleepFor(absl::Seconds(1));
  std::vector<double> quiet_ms;
  int quiet_failed = 0;
  while (absl::Now() < end) {
    const absl::Time start = absl::Now();
    if (Ask(executor, "quiet", data_dir, "result = 1").ok()) {
      quiet_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    } else {
      ++quiet_failed;
    }
    absl::SleepFor(absl::Milliseconds(250));
  }
  for (std::thread& t : flood) t.join();
  if (quiet_ms.empty()) {
    std::fprintf(stderr, "fairness_bench: the quiet practice got no answer\n");
    return 1;
  }
  std::sort(quiet_ms.begin(), quiet_ms.end());
  std::printf(
      "per_practice %d of 5, cgroups %s, %d s: quiet practice n=%zu p50 %.0f ms  p95 %.0f "
      "ms  max %.0f ms (%d failed); flood answered %d (%d failed)\n",
      per_practice, cgroups != 0 ? "on" : "off", seconds, quiet_ms.size(), At(quiet_ms, 0.5),
      At(quiet_ms, 0.95), quiet_ms.back(), quiet_failed, flood_answered.load(),
      flood_failed.load());
  if (!flood_failure.empty()) std::printf("first flood failure: %s\n", flood_failure.c_str());
  return 0;
}

}  // namespace
}  // namespace vet::sandbox

int main(int argc, char** argv) { return vet::sandbox::Main(argc, argv); }
