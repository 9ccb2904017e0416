// The Executor contract (executor.h), checked over every executor the server
// runs, as the store suites run over every store: the subprocess executor
// (a fresh interpreter per question) and the zygote executor (bubblewrap, a
// warm worker per practice, a fork per question). Results, output, errors
// and the statuses each way of ending maps to must not depend on which one
// a deployment chose. What only one executor has (its limits, its worker's
// life cycle, its scratch folder) is tested beside it.
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "core/common/log.h"
#include "core/common/utf8.h"
#include "core/sandbox/executor.h"
#include "core/sandbox/subprocess_executor.h"
#include "core/sandbox/testing/big_table.h"
#include "core/sandbox/testing/clinic_tables.h"
#include "core/sandbox/testing/recording_sink.h"
#include "core/sandbox/zygote_executor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::sandbox {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

// The schema both executors load: staff has no file, so it is not loaded.
std::map<std::string, std::vector<std::string>> Tables() {
  return {
      {"invoice_lines", {"invoiced_on"}}, {"appointments", {"starts_at"}}, {"staff", {"hired_on"}}};
}

// The limits a test may set; zero keeps the executor's default.
struct Limits {
  int64_t max_output_bytes = 0;
};

struct ExecutorKind {
  std::string name;
  std::function<absl::StatusOr<std::unique_ptr<Executor>>(const Limits&)> make;
};

// For test names and failures: the kind's name, not its bytes.
void PrintTo(const ExecutorKind& kind, std::ostream* os) { *os << kind.name; }

absl::StatusOr<std::unique_ptr<Executor>> MakeSubprocess(const Limits& limits) {
  SubprocessExecutor::Options options;
  options.tables = Tables();
  if (limits.max_output_bytes > 0) options.max_output_bytes = limits.max_output_bytes;
  return SubprocessExecutor::Create(options);
}

absl::StatusOr<std::unique_ptr<Executor>> MakeZygote(const Limits& limits) {
  ZygoteExecutor::Options options;
  options.tables = Tables();
  options.cgroup_parent = absl::StrCat("vet-analytics-conformance-", ::getpid());
  if (limits.max_output_bytes > 0) options.max_output_bytes = limits.max_output_bytes;
  return ZygoteExecutor::Create(options);
}

// What ExecuteAsync's `done` received: how often, and the first outcome.
struct AsyncOutcome {
  ExecuteCallback Callback() {
    return [this](absl::StatusOr<ExecutionResult> r) {
      if (calls.fetch_add(1) == 0) {
        first = std::move(r);
        arrived.Notify();
      }
    };
  }
  std::atomic<int> calls{0};
  absl::StatusOr<ExecutionResult> first;
  absl::Notification arrived;
};

class ExecutorConformanceTest : public ::testing::TestWithParam<ExecutorKind> {
 protected:
  static void SetUpTestSuite() {
    SetLogQuiet(true);
    char templ[] = "/tmp/vet-executor-conformance-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    data_ = new std::string(templ);
    std::ofstream(*data_ + "/invoice_lines.csv", std::ios::binary) << kInvoiceLines;
    std::ofstream(*data_ + "/appointments.csv", std::ios::binary) << kAppointments;
  }
  static void TearDownTestSuite() {
    Shared().clear();
    std::error_code ignored;
    std::filesystem::remove_all(*data_, ignored);
    delete data_;
    data_ = nullptr;
  }

  // One executor of each kind for the whole suite (a zygote worker takes
  // a second or two to start), made by the first test of that kind.
  static std::map<std::string, std::unique_ptr<Executor>>& Shared() {
    static auto* shared = new std::map<std::string, std::unique_ptr<Executor>>();
    return *shared;
  }
  void SetUp() override {
    std::unique_ptr<Executor>& shared = Shared()[GetParam().name];
    if (shared == nullptr) {
      auto made = GetParam().make(Limits{});
      ASSERT_THAT(made, IsOk());
      shared = *std::move(made);
    }
    executor_ = shared.get();
  }
  Executor& executor() { return *executor_; }

  static ExecutionRequest Request(std::string code, absl::Duration timeout = absl::Seconds(30)) {
    return ExecutionRequest{"test-practice", *data_, std::move(code), timeout};
  }
  absl::StatusOr<ExecutionResult> Run(std::string code,
                                      absl::Duration timeout = absl::Seconds(30)) {
    CancellationToken token;
    return executor().Execute(Request(std::move(code), timeout), sink_, token);
  }

  static std::string* data_;
  Executor* executor_ = nullptr;
  RecordingSink sink_;
};

std::string* ExecutorConformanceTest::data_ = nullptr;

// Results.

TEST_P(ExecutorConformanceTest, ReturnsANumber) {
  auto r = Run("result = invoice_lines['amount'].sum()");
  ASSERT_THAT(r, IsOk());
  EXPECT_FALSE(r->error.has_value());
  EXPECT_EQ(r->result.kind, ResultValue::Kind::kNumber);
  EXPECT_DOUBLE_EQ(r->result.number, 175.75);
  EXPECT_GT(r->elapsed, absl::ZeroDuration());
}

TEST_P(ExecutorConformanceTest, ReturnsTextAndLoadsOnlyTheTablesWithAFile) {
  auto r = Run("result = ' '.join(sorted(tables))");
  ASSERT_THAT(r, IsOk());
  ASSERT_FALSE(r->error.has_value()) << r->error->message;
  EXPECT_EQ(r->result.kind, ResultValue::Kind::kText);
  EXPECT_EQ(r->result.text, "appointments invoice_lines");
}

TEST_P(ExecutorConformanceTest, ReturnsATableWithTypedColumnsAndNulls) {
  auto r =
      Run("t = invoice_lines.copy()\n"
          "t['big'] = t['amount'] > 50\n"
          "result = t\n");
  ASSERT_THAT(r, IsOk());
  ASSERT_FALSE(r->error.has_value()) << r->error->message;
  ASSERT_EQ(r->result.kind, ResultValue::Kind::kTable);
  const ResultTable& t = r->result.table;
  std::vector<std::pair<std::string, ColumnType>> columns;
  for (const auto& c : t.columns) columns.emplace_back(c.name, c.type);
  EXPECT_THAT(columns, ElementsAre(std::pair{std::string("invoice_id"), ColumnType::kText},
                                   std::pair{std::string("line_no"), ColumnType::kInteger},
                                   std::pair{std::string("invoiced_on"), ColumnType::kDate},
                                   std::pair{std::string("client_id"), ColumnType::kText},
                                   std::pair{std::string("amount"), ColumnType::kNumber},
                                   std::pair{std::string("category"), ColumnType::kText},
                                   std::pair{std::string("big"), ColumnType::kBool}));
  ASSERT_EQ(t.rows.size(), 4u);
  EXPECT_EQ(t.total_rows, 4);
  EXPECT_EQ(absl::get<std::string>(t.rows[0][0]), "0001");  // an id stays a string
  EXPECT_EQ(absl::get<int64_t>(t.rows[0][1]), 1);
  EXPECT_EQ(absl::get<std::string>(t.rows[0][2]), "2026-01-05");
  EXPECT_DOUBLE_EQ(absl::get<double>(t.rows[0][4]), 100.5);
  EXPECT_TRUE(absl::get<bool>(t.rows[0][6]));
  EXPECT_TRUE(absl::holds_alternative<absl::monostate>(t.rows[2][4]));  // empty amount
}

TEST_P(ExecutorConformanceTest, ReturnsDatetimesAsIsoSecondsAndNaTAsNull) {
  auto r = Run("result = appointments.assign(day=appointments.starts_at.dt.normalize())");
  ASSERT_THAT(r, IsOk());
  ASSERT_FALSE(r->error.has_value()) << r->error->message;
  const ResultTable& t = r->result.table;
  ASSERT_EQ(t.columns.size(), 4u);
  EXPECT_EQ(t.columns[1].type, ColumnType::kDateTime);
  EXPECT_EQ(t.columns[3].type, ColumnType::kDate);
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(absl::get<std::string>(t.rows[0][1]), "2026-01-05T09:30:00");
  EXPECT_EQ(absl::get<std::string>(t.rows[1][1]), "2026-01-06T10:15:30");
  EXPECT_EQ(absl::get<std::string>(t.rows[1][3]), "2026-01-06");
  EXPECT_TRUE(absl::holds_alternative<absl::monostate>(t.rows[2][1]));
  EXPECT_TRUE(absl::holds_alternative<absl::monostate>(t.rows[2][3]));
}

TEST_P(ExecutorConformanceTest, KeepsAGroupbyIndexAsAColumn) {
  auto r = Run("result = invoice_lines.groupby('category')['amount'].sum()");
  ASSERT_THAT(r, IsOk());
  const ResultTable& t = r->result.table;
  ASSERT_EQ(t.columns.size(), 2u);
  EXPECT_EQ(t.columns[0].name, "category");
  EXPECT_EQ(t.columns[0].type, ColumnType::kText);
  EXPECT_EQ(t.columns[1].name, "amount");
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(absl::get<std::string>(t.rows[0][0]), "dental");
  EXPECT_DOUBLE_EQ(absl::get<double>(t.rows[0][1]), 155.75);
}

TEST_P(ExecutorConformanceTest, KeepsSeriesIndexValuesButDropsRowLabels) {
  // value_counts() of an integer column: the index holds the values.
  auto counts = Run("result = invoice_lines['line_no'].value_counts()");
  ASSERT_THAT(counts, IsOk());
  const ResultTable& c = counts->result.table;
  ASSERT_EQ(c.columns.size(), 2u);
  ASSERT_EQ(c.rows.size(), 2u);
  EXPECT_EQ(absl::get<int64_t>(c.rows[0][0]), 1);  // line_no 1 ...
  EXPECT_EQ(absl::get<int64_t>(c.rows[0][1]), 3);  // ... appears 3 times

  // A filtered, sorted frame: its index is row labels, not data.
  auto rows =
      Run("result = invoice_lines[invoice_lines.amount > 30]"
          ".sort_values('amount')[['category', 'amount']]");
  ASSERT_THAT(rows, IsOk());
  const ResultTable& r = rows->result.table;
  ASSERT_EQ(r.columns.size(), 2u);
  EXPECT_EQ(r.columns[0].name, "category");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_DOUBLE_EQ(absl::get<double>(r.rows[0][1]), 55.25);
}

TEST_P(ExecutorConformanceTest, CapsRowsAndReportsTheTotal) {
  auto r = Run("result = pd.DataFrame({'n': range(1500)})");
  ASSERT_THAT(r, IsOk());
  const ResultTable& t = r->result.table;
  EXPECT_EQ(t.rows.size(), 1000u);
  EXPECT_EQ(t.total_rows, 1500);
  ASSERT_EQ(t.columns.size(), 1u);  // a RangeIndex is not data
  EXPECT_EQ(absl::get<int64_t>(t.rows[999][0]), 999);
}

// Issue 12: 1000 rows of 7.5 KB strings, 7.5 MB in all, passed the 8 MiB
// result cap and reached clients that accept 4 MiB.
TEST_P(ExecutorConformanceTest, CutsABigTableToFitTheAnswerAndSendsItWholeAsCsv) {
  auto r = Run(kBigTableCode);
  ASSERT_THAT(r, IsOk());
  ASSERT_FALSE(r->error.has_value()) << r->error->message;
  ExpectBigTableCutAndWholeAsCsv(*r);
}

TEST_P(ExecutorConformanceTest, ATableThatFitsComesWithoutCsv) {
  auto r = Run("result = invoice_lines.groupby('category')['amount'].sum()");
  ASSERT_THAT(r, IsOk());
  EXPECT_FALSE(r->result.table.truncated());
  EXPECT_EQ(r->result.table.csv_artifact, "");
  EXPECT_TRUE(r->charts.empty());
}

TEST_P(ExecutorConformanceTest, ReturnsADictResultWithUnitAndTheAnswer) {
  auto r =
      Run("result = {'type': 'number', 'value': np.float64(12.5), 'unit': 'USD'}\n"
          "answer = 'Average charge was $12.50.'\n");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->result.kind, ResultValue::Kind::kNumber);
  EXPECT_DOUBLE_EQ(r->result.number, 12.5);
  EXPECT_EQ(r->result.unit, "USD");
  EXPECT_EQ(r->answer, "Average charge was $12.50.");
}

TEST_P(ExecutorConformanceTest, ReturnsMatplotlibChartsAsPng) {
  auto r =
      Run("monthly = invoice_lines.groupby(invoice_lines['invoiced_on']"
          ".dt.to_period('M').dt.to_timestamp())['amount'].sum()\n"
          "monthly.plot()\n"
          "result = monthly\n");
  ASSERT_THAT(r, IsOk());
  ASSERT_FALSE(r->error.has_value()) << r->error->message;
  ASSERT_EQ(r->result.kind, ResultValue::Kind::kTable);
  EXPECT_EQ(r->result.table.rows.size(), 2u);
  ASSERT_EQ(r->charts.size(), 1u);
  EXPECT_EQ(r->charts[0].name, "chart_1.png");
  EXPECT_EQ(r->charts[0].mime_type, "image/png");
  EXPECT_THAT(r->charts[0].data, StartsWith("\x89PNG"));
  EXPECT_GT(r->charts[0].data.size(), 1000u);
}

TEST_P(ExecutorConformanceTest, EachExecutionStartsFromTheSameCleanState) {
  auto first =
      Run("invoice_lines.drop(invoice_lines.index, inplace=True)\n"
          "import sys\nsys.modules['pandas'].marker = 1\n"
          "result = len(invoice_lines)");
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->result.number, 0);
  auto second = Run("result = len(invoice_lines) + getattr(pd, 'marker', 0)");
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->result.number, 4);
}

// Output.

TEST_P(ExecutorConformanceTest, StreamsStdoutAndStderrInOrderWithoutSplittingUtf8) {
  auto r =
      Run("import sys, time\n"
          "print('one')\n"
          "print('oops', file=sys.stderr)\n"
          "e = '\\u00e9'.encode()\n"
          "sys.stdout.buffer.write(e[:1]); sys.stdout.buffer.flush()\n"
          "time.sleep(0.2)\n"  // so the two bytes arrive in two reads
          "sys.stdout.buffer.write(e[1:] + b'\\n'); sys.stdout.buffer.flush()\n"
          "print('two')\n"
          "result = 1\n");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(sink_.out(), "one\n\xc3\xa9\ntwo\n");
  EXPECT_EQ(sink_.err(), "oops\n");
  for (const std::string& chunk : sink_.chunks()) {
    EXPECT_TRUE(ScanUtf8(chunk).valid) << "a chunk cut inside a character: " << chunk;
  }
}

TEST_P(ExecutorConformanceTest, ReplacesInvalidUtf8InOutput) {
  auto r = Run("import sys\nsys.stdout.buffer.write(b'ok \\xff\\xc3( end\\n')\nresult = 1\n");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(sink_.out(), "ok \xEF\xBF\xBD\xEF\xBF\xBD( end\n");
}

// The code prints, then runs until it is cancelled: the sink must see the
// line while the execution has not returned.
TEST_P(ExecutorConformanceTest, StreamsOutputWhileTheCodeIsStillRunning) {
  CancellationToken token;
  std::atomic<bool> returned{false};
  absl::StatusOr<ExecutionResult> r;
  std::thread runner([&] {
    r = executor().Execute(Request("import time\nprint('started', flush=True)\n"
                                   "while True:\n    time.sleep(0.05)\n"),
                           sink_, token);
    returned = true;
  });
  const bool seen = sink_.WaitForStdout("started", absl::Seconds(20));
  const bool still_running = !returned.load();
  token.Cancel();
  runner.join();
  EXPECT_TRUE(seen) << "the output did not arrive while the code ran";
  EXPECT_TRUE(still_running);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kCancelled));
}

TEST_P(ExecutorConformanceTest, StopsAnOutputFloodAtTheLimitItNames) {
  Limits limits;
  limits.max_output_bytes = 64 << 10;
  auto made = GetParam().make(limits);
  ASSERT_THAT(made, IsOk());
  CancellationToken token;
  auto r = (*made)->Execute(Request("while True:\n    print('x' * 1000)\n"), sink_, token);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kResourceExhausted,
                          AllOf(HasSubstr("output limit"), HasSubstr("64 KiB"))));
  EXPECT_LE(sink_.out().size(), 64u << 10);
  EXPECT_GT(sink_.out().size(), 0u);
}

// Errors in the code: an answer (OK with `error`), not a failed call.

TEST_P(ExecutorConformanceTest, ReportsAnExceptionWithTypeMessageAndInnermostLine) {
  auto r =
      Run("def revenue(frame):\n"
          "    return frame['revenue']\n"
          "\n"
          "result = revenue(invoice_lines)\n");
  ASSERT_THAT(r, IsOk());
  ASSERT_TRUE(r->error.has_value());
  EXPECT_EQ(r->error->type, "KeyError");
  EXPECT_EQ(r->error->message, "'revenue'");
  EXPECT_EQ(r->error->line, 2);
  EXPECT_EQ(r->result.kind, ResultValue::Kind::kNone);
}

TEST_P(ExecutorConformanceTest, ReportsASyntaxErrorWithItsLine) {
  auto r = Run("x = 1\ny = (\n");
  ASSERT_THAT(r, IsOk());
  ASSERT_TRUE(r->error.has_value());
  EXPECT_EQ(r->error->type, "SyntaxError");
  EXPECT_EQ(r->error->line, 2);
}

TEST_P(ExecutorConformanceTest, ReportsAMissingResult) {
  auto r = Run("x = invoice_lines['amount'].sum()\n");
  ASSERT_THAT(r, IsOk());
  ASSERT_TRUE(r->error.has_value());
  EXPECT_EQ(r->error->type, "NoResult");
  EXPECT_THAT(r->error->message, HasSubstr("named result"));
}

// Ways a run ends early, each with its status, and the executor still
// answering the next question.

TEST_P(ExecutorConformanceTest, StopsAtTheDeadlineAndAnswersTheNextQuestion) {
  auto r = Run("while True:\n    pass\n", absl::Milliseconds(500));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kDeadlineExceeded,
                          HasSubstr("ran longer than 500ms and was stopped")));
  auto next = Run("result = 2");
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(next->result.number, 2);
}

TEST_P(ExecutorConformanceTest, CancellationFromAnotherThreadStopsTheRun) {
  CancellationToken token;
  std::thread canceller([&] {
    sink_.WaitForStdout("running", absl::Seconds(20));
    token.Cancel();
  });
  // Against a loop that never ends: only the cancellation ends it (the
  // deadline is far off).
  auto r = executor().Execute(
      Request("print('running', flush=True)\nwhile True:\n    pass\n", absl::Seconds(600)), sink_,
      token);
  canceller.join();
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kCancelled, HasSubstr("cancelled")));
}

TEST_P(ExecutorConformanceTest, AnInterpreterCrashIsInternalAndTheNextQuestionWorks) {
  auto r =
      Run("import os, signal, sys\nprint('dying', file=sys.stderr, flush=True)\n"
          "os.kill(os.getpid(), signal.SIGSEGV)\n");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInternal,
                          AllOf(HasSubstr("SIGSEGV"), HasSubstr("last stderr line: dying"))));
  auto next = Run("result = len(invoice_lines)");
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(next->result.number, 4);
}

TEST_P(ExecutorConformanceTest, AGarbledResultDocumentIsInternal) {
  auto r = Run("import os\nos.write(3, b'not json')\nos._exit(0)\n");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInternal,
                          AllOf(HasSubstr("broke the protocol"), HasSubstr("exited with code 0"))));
}

// Requests refused before anything runs.

TEST_P(ExecutorConformanceTest, MissingDataIsNotFound) {
  CancellationToken token;
  ExecutionRequest request = Request("result = 1");
  request.data_dir = *data_ + "/no-such-practice";
  EXPECT_THAT(executor().Execute(request, sink_, token),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("test-practice has no data")));
}

TEST_P(ExecutorConformanceTest, ANonPositiveTimeoutIsInvalid) {
  CancellationToken token;
  EXPECT_THAT(executor().Execute(Request("result = 1", absl::ZeroDuration()), sink_, token),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("timeout")));
}

// Thread safety and the asynchronous form.

TEST_P(ExecutorConformanceTest, ConcurrentExecutionsEachGetTheirOwnResult) {
  Executor& shared = executor();
  constexpr int kRuns = 4;
  absl::StatusOr<ExecutionResult> results[kRuns];
  RecordingSink sinks[kRuns];
  std::vector<std::thread> threads;
  threads.reserve(kRuns);
  for (int i = 0; i < kRuns; ++i) {
    threads.emplace_back([&, i] {
      CancellationToken token;
      results[i] = shared.Execute(
          Request(absl::StrCat("print(", i, ")\nresult = len(invoice_lines) * ", i + 1)), sinks[i],
          token);
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kRuns; ++i) {
    ASSERT_THAT(results[i], IsOk()) << "run " << i;
    EXPECT_EQ(results[i]->result.number, 4 * (i + 1));
    EXPECT_EQ(sinks[i].out(), absl::StrCat(i, "\n"));
  }
}

TEST_P(ExecutorConformanceTest, ExecuteAsyncCallsDoneOnceWithWhatExecuteReturns) {
  CancellationToken token;
  AsyncOutcome answered;
  executor().ExecuteAsync(Request("result = invoice_lines['amount'].max()"), sink_, token,
                          answered.Callback());
  ASSERT_TRUE(answered.arrived.WaitForNotificationWithTimeout(absl::Seconds(60)));
  ASSERT_THAT(answered.first, IsOk());
  EXPECT_DOUBLE_EQ(answered.first->result.number, 100.5);

  // A refused request is refused through `done` too.
  AsyncOutcome refused;
  executor().ExecuteAsync(Request("result = 1", absl::ZeroDuration()), sink_, token,
                          refused.Callback());
  ASSERT_TRUE(refused.arrived.WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_THAT(refused.first, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("timeout")));
  // Once each, even a moment later.
  EXPECT_THAT(Run("result = 1"), IsOk());
  EXPECT_EQ(answered.calls.load(), 1);
  EXPECT_EQ(refused.calls.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(Executors, ExecutorConformanceTest,
                         ::testing::Values(ExecutorKind{"Subprocess", MakeSubprocess},
                                           ExecutorKind{"Zygote", MakeZygote}),
                         [](const ::testing::TestParamInfo<ExecutorKind>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace vet::sandbox
