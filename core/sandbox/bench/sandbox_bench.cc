// The sandbox benchmark behind scripts/bench-sandbox.sh: latency of a
// monthly-revenue groupby on a practice's columnar data through the warm
// zygote executor, against two cold baselines measured in the same run, and
// executions per second with 1, 2 and 4 concurrent clients.
//
// Usage: sandbox_bench <columnar_dir> <csv_dir> [warm_runs=200] [cold_runs=10]
//   cold (python3):  a fresh `/usr/bin/python3` that imports pandas, reads
//                    invoice_lines.csv and runs the same groupby;
//   cold (process):  the unisolated SubprocessExecutor (a fresh interpreter
//                    per question, columnar load), what the server did
//                    before the zygote;
//   warm:            ZygoteExecutor, each execution a fork of the warm
//                    worker, through the full protocol (code in, result and
//                    output back).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/common/log.h"
#include "core/data/schema.h"
#include "core/sandbox/subprocess_executor.h"
#include "core/sandbox/zygote_executor.h"

namespace vet::sandbox {
namespace {

constexpr char kGroupby[] =
    "lines = invoice_lines[invoice_lines['invoiced_on'] >= '2025-01-01']\n"
    "monthly = lines.groupby(lines['invoiced_on'].dt.to_period('M'))"
    "['amount'].sum()\n"
    "result = monthly\n";

class NullSink final : public OutputSink {
 public:
  void OnOutput(OutputStream, absl::string_view) override {}
};

struct Stats {
  double p50_ms, p95_ms, min_ms, max_ms;
};

Stats Summarise(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(std::lround(q * static_cast<double>(ms.size() - 1)));
    return ms[std::min(i, ms.size() - 1)];
  };
  return {at(0.5), at(0.95), ms.front(), ms.back()};
}

void Print(const char* label, const Stats& s, size_t n) {
  std::printf("%-28s n=%-4zu p50 %8.1f ms   p95 %8.1f ms   min %8.1f   max %8.1f\n", label, n,
              s.p50_ms, s.p95_ms, s.min_ms, s.max_ms);
}

// One execution; exits on failure (a benchmark of errors is no benchmark).
double TimeOne(Executor& executor, const std::string& data_dir, const char* code = kGroupby) {
  ExecutionRequest request;
  request.practice_id = "bench";
  request.data_dir = data_dir;
  request.code = code;
  NullSink sink;
  CancellationToken token;
  const absl::Time start = absl::Now();
  auto result = executor.Execute(request, sink, token);
  const double ms = absl::ToDoubleMilliseconds(absl::Now() - start);
  if (!result.ok() || result->error.has_value() ||
      (code == kGroupby &&
       (result->result.kind != ResultValue::Kind::kTable || result->result.table.rows.empty()))) {
    std::fprintf(stderr, "sandbox_bench: the groupby failed: %s\n",
                 result.ok() ? (result->error ? result->error->message.c_str() : "not a table")
                             : result.status().ToString().c_str());
    std::exit(1);
  }
  return ms;
}

double Throughput(Executor& executor, const std::string& data_dir, int clients,
                  absl::Duration length) {
  std::atomic<int64_t> done{0};
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  const absl::Time end = start + length;
  threads.reserve(clients);
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      while (absl::Now() < end) {
        TimeOne(executor, data_dir);
        done.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  return static_cast<double>(done.load()) / absl::ToDoubleSeconds(absl::Now() - start);
}

int Main(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr,
                 "usage: sandbox_bench <columnar_dir> <csv_dir> [warm_runs] "
                 "[cold_runs]\n");
    return 2;
  }
  const std::string columnar = argv[1];
  const std::string csv = argv[2];
  int warm_runs = 200, cold_runs = 10;
  if ((argc > 3 && !absl::SimpleAtoi(argv[3], &warm_runs)) ||
      (argc > 4 && !absl::SimpleAtoi(argv[4], &cold_runs)) || warm_runs < 2 || cold_runs < 1) {
    std::fprintf(stderr, "sandbox_bench: bad run counts\n");
    return 2;
  }
  SetLogQuiet(true);

  // Cold baseline 1: the literal "python3 doing the same".
  const std::string cold_command = absl::StrCat(
      "/usr/bin/python3 -c \"import pandas as pd; "
      "df = pd.read_csv('",
      csv,
      "/invoice_lines.csv', parse_dates=['invoiced_on']); "
      "lines = df[df['invoiced_on'] >= '2025-01-01']; "
      "lines.groupby(lines['invoiced_on'].dt.to_period('M'))['amount'].sum()\"");
  std::vector<double> cold;
  for (int i = 0; i < cold_runs; ++i) {
    const absl::Time start = absl::Now();
    if (std::system(cold_command.c_str()) != 0) {
      std::fprintf(stderr, "sandbox_bench: the cold python3 run failed\n");
      return 1;
    }
    cold.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
  }
  const Stats cold_stats = Summarise(cold);
  Print("cold python3 + read_csv", cold_stats, cold.size());

  // Cold baseline 2: a fresh interpreter per question, columnar load.
  {
    SubprocessExecutor::Options options;
    options.tables = data::DateColumnsByTable();
    options.probe_interpreter = false;
    auto executor = SubprocessExecutor::Create(options);
    if (!executor.ok()) {
      std::fprintf(stderr, "sandbox_bench: %s\n", executor.status().ToString().c_str());
      return 1;
    }
    std::vector<double> ms;
    ms.reserve(cold_runs);
    for (int i = 0; i < cold_runs; ++i) ms.push_back(TimeOne(**executor, columnar));
    Print("cold process executor", Summarise(ms), ms.size());
  }

  ZygoteExecutor::Options options;
  options.tables = data::DateColumnsByTable();
  auto created = ZygoteExecutor::Create(options);
  if (!created.ok()) {
    std::fprintf(stderr, "sandbox_bench: %s\n", created.status().ToString().c_str());
    return 1;
  }
  ZygoteExecutor& warm = **created;
  std::printf("isolation: %s\n", warm.isolation().c_str());
  const double first = TimeOne(warm, columnar);
  std::printf("%-28s %.1f ms (starts the practice's worker)\n", "warm: first question", first);
  std::vector<double> ms;
  ms.reserve(warm_runs);
  for (int i = 0; i < warm_runs; ++i) ms.push_back(TimeOne(warm, columnar));
  const Stats warm_stats = Summarise(ms);
  Print("warm, back to back", warm_stats, ms.size());
  // A manager's pace: a question now and then, the worker idle in between.
  std::vector<double> paced;
  for (int i = 0; i < std::max(10, warm_runs / 4); ++i) {
    absl::SleepFor(absl::Milliseconds(250));
    paced.push_back(TimeOne(warm, columnar));
  }
  const Stats paced_stats = Summarise(paced);
  Print("warm, one every 250 ms", paced_stats, paced.size());
  // The fixed cost of an execution: fork, limits, filters, protocol.
  std::vector<double> trivial;
  trivial.reserve(warm_runs);
  for (int i = 0; i < warm_runs; ++i) trivial.push_back(TimeOne(warm, columnar, "result = 1"));
  Print("warm, `result = 1`", Summarise(trivial), trivial.size());
  std::printf(
      "worker memory after these runs: %.0f MiB (its cgroup's usage: "
      "zygote, spare child, page cache of its /tmp)\n",
      static_cast<double>(warm.worker_memory_bytes()) / (1 << 20));
  std::printf(
      "speed-up at p50 over cold python3: %.1fx back to back, "
      "%.1fx one every 250 ms\n",
      cold_stats.p50_ms / warm_stats.p50_ms, cold_stats.p50_ms / paced_stats.p50_ms);
  for (int clients : {1, 2, 4}) {
    std::printf("throughput, %d client%s:       %6.1f executions/s\n", clients,
                clients == 1 ? " " : "s", Throughput(warm, columnar, clients, absl::Seconds(5)));
  }
  return 0;
}

}  // namespace
}  // namespace vet::sandbox

int main(int argc, char** argv) { return vet::sandbox::Main(argc, argv); }
