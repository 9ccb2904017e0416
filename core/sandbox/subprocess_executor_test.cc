// Tests of SubprocessExecutor against the real /usr/bin/python3 and a tiny
// set of clinic CSVs written into a temporary directory.
#include "core/sandbox/subprocess_executor.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/common/clock.h"
#include "core/common/log.h"
#include "core/sandbox/fair_scheduler.h"
#include "core/sandbox/testing/clinic_tables.h"
#include "core/sandbox/testing/recording_sink.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/proc.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"

namespace vet::sandbox {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using ::vet::testing::IsOk;
using ::vet::testing::ReadProcFile;
using ::vet::testing::StatusIs;
using ::vet::testing::WaitUntil;

// True if `pid` exists and is not a zombie (an orphan may wait to be reaped).
bool IsAlive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  const std::string line = ReadProcFile(absl::StrCat("/proc/", pid, "/stat"));
  size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return false;
  char state = line[paren + 2];
  return state != 'Z' && state != 'X';
}

std::string WriteFile(const std::string& path, absl::string_view contents) {
  std::ofstream out(path, std::ios::binary);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  return path;
}

class SubprocessExecutorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetLogQuiet(true);
    char templ[] = "/tmp/vet-sandbox-test-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    root_ = new std::string(templ);
    std::filesystem::create_directory(data_dir());
    std::filesystem::create_directory(scratch_root());
    WriteFile(data_dir() + "/invoice_lines.csv", kInvoiceLines);
    WriteFile(data_dir() + "/appointments.csv", kAppointments);
    auto executor = SubprocessExecutor::Create(DefaultOptions());
    ASSERT_TRUE(executor.ok()) << executor.status();
    executor_ = executor->release();
  }
  static void TearDownTestSuite() {
    delete executor_;
    executor_ = nullptr;
    std::error_code ignored;
    std::filesystem::remove_all(*root_, ignored);
    delete root_;
  }

  static std::string data_dir() { return *root_ + "/data"; }
  static std::string scratch_root() { return *root_ + "/scratch"; }

  static SubprocessExecutor::Options DefaultOptions() {
    SubprocessExecutor::Options options;
    options.tables = {{"invoice_lines", {"invoiced_on"}},
                      {"appointments", {"starts_at"}},
                      {"staff", {"hired_on"}}};  // no file: not loaded
    options.scratch_root = scratch_root();
    return options;
  }
  // Tests that need other limits skip the probe: it costs a second each.
  static std::unique_ptr<SubprocessExecutor> MakeExecutor(
      const std::function<void(SubprocessExecutor::Options&)>& adjust) {
    SubprocessExecutor::Options options = DefaultOptions();
    options.probe_interpreter = false;
    adjust(options);
    auto executor = SubprocessExecutor::Create(options);
    EXPECT_TRUE(executor.ok()) << executor.status();
    return executor.ok() ? *std::move(executor) : nullptr;
  }

  static ExecutionRequest Request(std::string code, absl::Duration timeout = absl::Seconds(30)) {
    return ExecutionRequest{"test-practice", data_dir(), std::move(code), timeout};
  }

  absl::StatusOr<ExecutionResult> Run(std::string code) {
    CancellationToken token;
    return executor_->Execute(Request(std::move(code)), sink_, token);
  }

  static std::string* root_;
  static SubprocessExecutor* executor_;
  RecordingSink sink_;
};

std::string* SubprocessExecutorTest::root_ = nullptr;
SubprocessExecutor* SubprocessExecutorTest::executor_ = nullptr;

TEST_F(SubprocessExecutorTest, DropsRowsToFitTheResultLimit) {
  auto executor = MakeExecutor([](auto& o) { o.max_result_bytes = 4096; });
  ASSERT_NE(executor, nullptr);
  CancellationToken token;
  auto r = executor->Execute(Request("result = pd.DataFrame({'n': range(1500), 's': 'abcdefgh'})"),
                             sink_, token);
  ASSERT_THAT(r, IsOk());
  ASSERT_FALSE(r->error.has_value()) << r->error->message;
  EXPECT_GT(r->result.table.rows.size(), 10u);
  EXPECT_LT(r->result.table.rows.size(), 400u);
  EXPECT_EQ(r->result.table.total_rows, 1500);
}

TEST_F(SubprocessExecutorTest, TheCsvStopsAtItsCapsOnAWholeRow) {
  auto executor = MakeExecutor([](auto& o) {
    o.max_csv_rows = 3000;
    o.max_csv_bytes = 20000;
  });
  ASSERT_NE(executor, nullptr);
  CancellationToken token;
  // A date index (a meaningful one: it becomes a column, in the CSV too),
  // quotes and line breaks in cells.
  auto r = executor->Execute(Request("days = pd.date_range('2026-01-01', periods=5000, freq='D')\n"
                                     "result = pd.DataFrame({'v': np.arange(5000) * 0.5,\n"
                                     "                       'name': 'M\u00fcller, \"A\"\\nB'},\n"
                                     "                      index=pd.Index(days, name='day'))\n"),
                             sink_, token);
  ASSERT_THAT(r, IsOk());
  ASSERT_FALSE(r->error.has_value()) << r->error->message;
  const ResultTable& t = r->result.table;
  EXPECT_EQ(t.total_rows, 5000);
  EXPECT_EQ(t.rows.size(), 1000u);
  ASSERT_EQ(r->charts.size(), 1u);
  const std::string& csv = r->charts[0].data;
  EXPECT_LE(csv.size(), 20000u);
  EXPECT_GT(t.csv_rows, 100);
  EXPECT_LT(t.csv_rows, 3000);
  EXPECT_THAT(csv, StartsWith("\xEF\xBB\xBF"
                              "day,v,name\r\n"
                              "2026-01-01,0.0,\"M\u00fcller, \"\"A\"\"\nB\"\r\n"
                              "2026-01-02,0.5,"));
  // Every row whole: the last one ends the file.
  const std::string last_day =
      absl::FormatTime("%Y-%m-%d",
                       absl::FromCivil(absl::CivilDay(2026, 1, 1), absl::UTCTimeZone()) +
                           absl::Hours(24 * (t.csv_rows - 1)),
                       absl::UTCTimeZone());
  EXPECT_NE(csv.find(absl::StrCat("\r\n", last_day, ",")), std::string::npos);
  EXPECT_THAT(csv, ::testing::EndsWith("B\"\r\n"));

  auto capped_rows = MakeExecutor([](auto& o) { o.max_csv_rows = 1500; });
  ASSERT_NE(capped_rows, nullptr);
  r = capped_rows->Execute(Request("result = pd.DataFrame({'n': range(5000)})"), sink_, token);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->result.table.csv_rows, 1500);
  ASSERT_EQ(r->charts.size(), 1u);
  std::vector<absl::string_view> lines =
      absl::StrSplit(r->charts[0].data, "\r\n", absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 1501u);
  EXPECT_EQ(lines.back(), "1499");
}

TEST_F(SubprocessExecutorTest, StopsAtTheDeadlineAndLeavesNoDescendantAlive) {
  CancellationToken token;
  auto r = executor_->Execute(Request("import os, subprocess, time\n"
                                      "child = subprocess.Popen(['/bin/sleep', '60'])\n"
                                      "pid = os.fork()\n"
                                      "if pid == 0:\n"
                                      "    time.sleep(60)\n"
                                      "    os._exit(0)\n"
                                      "print(child.pid, pid, flush=True)\n"
                                      "time.sleep(60)\n",
                                      absl::Seconds(3)),
                              sink_, token);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kDeadlineExceeded,
                          HasSubstr("ran longer than 3s and was stopped")));
  std::vector<std::string> pids =
      absl::StrSplit(sink_.out(), absl::ByAnyChar(" \n"), absl::SkipEmpty());
  ASSERT_EQ(pids.size(), 2u) << "the code did not get to print its children: " << sink_.out();
  for (const std::string& text : pids) {
    pid_t pid;
    ASSERT_TRUE(absl::SimpleAtoi(text, &pid));
    EXPECT_TRUE(WaitUntil([pid] { return !IsAlive(pid); }, absl::Seconds(5)))
        << "descendant " << pid << " survived";
  }
}

TEST_F(SubprocessExecutorTest, GivesTheCodeAnEmptyEnvironment) {
  ASSERT_EQ(::setenv("VET_TEST_SECRET", "hunter2", 1), 0);
  auto r =
      Run("import os\nresult = '\\n'.join(f'{k}={v}' for k, v in "
          "sorted(os.environ.items()))\n");
  ::unsetenv("VET_TEST_SECRET");
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(r->result.text, AllOf(Not(HasSubstr("VET_TEST_SECRET")), Not(HasSubstr("hunter2")),
                                    HasSubstr("PATH=/usr/bin:/bin\n")));
  const std::set<std::string> allowed = {"PATH",
                                         "HOME",
                                         "TMPDIR",
                                         "LANG",
                                         "MPLCONFIGDIR",
                                         "MPLBACKEND",
                                         "OMP_NUM_THREADS",
                                         "OPENBLAS_NUM_THREADS",
                                         "MKL_NUM_THREADS",
                                         "NUMEXPR_NUM_THREADS",
                                         "NUMEXPR_MAX_THREADS"};
  for (absl::string_view line : absl::StrSplit(r->result.text, '\n')) {
    std::string name(line.substr(0, line.find('=')));
    EXPECT_TRUE(allowed.count(name)) << "unexpected variable " << name;
  }
}

TEST_F(SubprocessExecutorTest, RemovesTheScratchDirectory) {
  auto r =
      Run("import os\n"
          "os.makedirs('a/b')\n"
          "open('a/b/file.txt', 'w').write('x')\n"
          "result = os.getcwd()\n");
  ASSERT_THAT(r, IsOk());
  EXPECT_THAT(r->result.text, StartsWith(scratch_root() + "/vet-sandbox-"));
  EXPECT_FALSE(std::filesystem::exists(r->result.text));
}

TEST_F(SubprocessExecutorTest, LeaksNoDescriptors) {
  auto count_fds = [] {
    return std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                         std::filesystem::directory_iterator());
  };
  const auto before = count_fds();
  EXPECT_THAT(Run("result = 1"), IsOk());
  EXPECT_THAT(Run("raise ValueError('no')"), IsOk());
  CancellationToken token;
  EXPECT_THAT(executor_->Execute(Request("import time\ntime.sleep(9)\n", absl::Milliseconds(300)),
                                 sink_, token),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(count_fds(), before);
}

// The scheduler the server puts in front of the executor, with one slot.
std::unique_ptr<FairScheduler> OneAtATime(std::unique_ptr<Executor> inner) {
  FairScheduler::Options options;
  options.max_concurrent = 1;
  options.max_running_per_practice = 1;
  auto scheduler = FairScheduler::Create(options, std::move(inner), RealClock::Get());
  EXPECT_THAT(scheduler, IsOk());
  return scheduler.ok() ? *std::move(scheduler) : nullptr;
}

TEST_F(SubprocessExecutorTest, RunsOneAtATimeBehindASchedulerWithOneSlot) {
  auto executor = OneAtATime(MakeExecutor([](auto&) {}));
  ASSERT_NE(executor, nullptr);
  const std::string code =
      "import time\nstart = time.time()\ntime.sleep(0.3)\nresult = f'{start} "
      "{time.time()}'\n";
  absl::StatusOr<ExecutionResult> results[2];
  std::vector<std::thread> threads;
  for (auto& r : results) {
    threads.emplace_back([&executor, &code, &r] {
      RecordingSink sink;
      CancellationToken token;
      r = executor->Execute(Request(code), sink, token);
    });
  }
  for (auto& t : threads) t.join();
  double spans[2][2];
  for (int i = 0; i < 2; ++i) {
    ASSERT_THAT(results[i], IsOk());
    std::vector<std::string> parts = absl::StrSplit(results[i]->result.text, ' ');
    ASSERT_EQ(parts.size(), 2u);
    ASSERT_TRUE(absl::SimpleAtod(parts[0], &spans[i][0]));
    ASSERT_TRUE(absl::SimpleAtod(parts[1], &spans[i][1]));
  }
  // The two runs did not overlap.
  EXPECT_TRUE(spans[0][1] <= spans[1][0] || spans[1][1] <= spans[0][0])
      << spans[0][0] << "-" << spans[0][1] << " and " << spans[1][0] << "-" << spans[1][1];
}

TEST_F(SubprocessExecutorTest, WaitingForASchedulerSlotCanBeCancelled) {
  auto executor = OneAtATime(MakeExecutor([](auto&) {}));
  ASSERT_NE(executor, nullptr);
  CancellationToken first_token;
  absl::StatusOr<ExecutionResult> first;
  std::thread first_thread([&] {
    first = executor->Execute(Request("import time\nprint('started')\ntime.sleep(60)\n"), sink_,
                              first_token);
  });
  ASSERT_TRUE(sink_.WaitForStdout("started", absl::Seconds(20)));

  CancellationToken second_token;
  absl::StatusOr<ExecutionResult> second;
  RecordingSink second_sink;
  std::thread second_thread(
      [&] { second = executor->Execute(Request("result = 1"), second_sink, second_token); });
  ASSERT_TRUE(WaitUntil([&] { return executor->waiting() == 1; }, absl::Seconds(10)));
  second_token.Cancel();
  second_thread.join();
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kCancelled, HasSubstr("waiting")));
  EXPECT_EQ(executor->running(), 1);

  first_token.Cancel();
  first_thread.join();
  EXPECT_THAT(first, StatusIs(absl::StatusCode::kCancelled));
}

TEST_F(SubprocessExecutorTest, StopsCodeAtTheCpuTimeLimit) {
  auto executor = MakeExecutor([](auto& o) { o.cpu_seconds = 1; });
  ASSERT_NE(executor, nullptr);
  CancellationToken token;
  EXPECT_THAT(executor->Execute(Request("while True:\n    pass\n"), sink_, token),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("CPU time limit of 1s")));
}

TEST_F(SubprocessExecutorTest, ReportsRunningOutOfMemory) {
  auto executor = MakeExecutor([](auto& o) { o.address_space_bytes = int64_t{1} << 30; });
  ASSERT_NE(executor, nullptr);
  CancellationToken token;
  EXPECT_THAT(
      executor->Execute(Request("x = bytearray(2 * 1024 ** 3)\nresult = 1\n"), sink_, token),
      StatusIs(absl::StatusCode::kResourceExhausted,
               AllOf(HasSubstr("out of memory"), HasSubstr("1 GiB"))));
}

// Cold-start latency, for the record (not part of the suite: timing on a
// shared machine is noise). Run with --gtest_also_run_disabled_tests.
TEST_F(SubprocessExecutorTest, DISABLED_MeasuresLatency) {
  const std::string big = *root_ + "/big";
  std::filesystem::create_directory(big);
  std::string csv = "invoice_id,line_no,invoiced_on,client_id,amount,category\n";
  const char* categories[] = {"dental", "pharmacy", "vaccine", "surgery", "laboratory"};
  for (int i = 0; i < 60000; ++i) {
    absl::StrAppend(&csv, "inv", i / 3, ",", i % 3 + 1, ",2025-", (i % 12) + 1 < 10 ? "0" : "",
                    (i % 12) + 1, "-", (i % 28) + 1 < 10 ? "0" : "", (i % 28) + 1, ",c", i % 900,
                    ",", (i % 400) + 0.25, ",", categories[i % 5], "\n");
  }
  WriteFile(big + "/invoice_lines.csv", csv);
  struct Case {
    const char* name;
    std::string data_dir;
    const char* code;
  };
  for (const Case& c : {Case{"trivial, 4-row tables", data_dir(), "result = 1"},
                        Case{"trivial, 60k-row invoice_lines loaded", big, "result = 1"},
                        Case{"monthly groupby, 60k rows", big,
                             "result = invoice_lines.groupby(invoice_lines.invoiced_on"
                             ".dt.to_period('M'))['amount'].sum()"}}) {
    std::vector<absl::Duration> times;
    for (int i = 0; i < 7; ++i) {
      CancellationToken token;
      ExecutionRequest request = Request(c.code);
      request.data_dir = c.data_dir;
      const absl::Time start = absl::Now();
      auto r = executor_->Execute(request, sink_, token);
      times.push_back(absl::Now() - start);
      ASSERT_THAT(r, IsOk());
      ASSERT_FALSE(r->error.has_value()) << r->error->message;
    }
    std::sort(times.begin(), times.end());
    std::printf(
        "%s: min %s, median %s, max %s\n", c.name,
        absl::FormatDuration(absl::Trunc(times.front(), absl::Milliseconds(1))).c_str(),
        absl::FormatDuration(absl::Trunc(times[times.size() / 2], absl::Milliseconds(1))).c_str(),
        absl::FormatDuration(absl::Trunc(times.back(), absl::Milliseconds(1))).c_str());
  }
}

TEST(SubprocessExecutorCreateTest, FailsWithoutAnExecutableInterpreter) {
  SubprocessExecutor::Options options;
  options.python_path = "/nonexistent/python3";
  EXPECT_THAT(SubprocessExecutor::Create(options),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("/nonexistent/python3 is not an executable file")));
}

TEST(SubprocessExecutorCreateTest, FailsWhenTheInterpreterCannotRunTheRunner) {
  SubprocessExecutor::Options options;
  options.python_path = "/bin/false";
  EXPECT_THAT(
      SubprocessExecutor::Create(options),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("cannot run the sandbox"), HasSubstr("exited with code 1"))));
}

}  // namespace
}  // namespace vet::sandbox
