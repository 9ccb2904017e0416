// Tests of ZygoteExecutor against the real bwrap and /usr/bin/python3: the
// warm worker's life cycle (restart on death and on new data, eviction) and
// its memory limit. The Executor contract (results, output, errors, limits
// and cancellation) is checked over both executors in
// executor_conformance_test.cc; what the sandbox keeps out, in tests/sandbox/.
#include "core/sandbox/zygote_executor.h"

#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/common/log.h"
#include "core/sandbox/runner_source.h"
#include "core/sandbox/testing/clinic_tables.h"
#include "core/sandbox/testing/recording_sink.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/proc.h"
#include "tests/testing/status_matchers.h"

namespace vet::sandbox {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::ParentOf;
using ::vet::testing::ReadProcFile;
using ::vet::testing::StatusIs;

// Kills every zygote (a PID 1 of its own namespace running the runner in
// zygote mode, whose bwrap is a child of this process: other test
// processes run their own); returns how many.
int KillZygotes() {
  int killed = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    int pid;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    bool ns_init = false;
    for (absl::string_view line :
         absl::StrSplit(ReadProcFile(entry.path().string() + "/status"), '\n')) {
      if (absl::StartsWith(line, "NSpid:")) ns_init = absl::EndsWith(line, "\t1");
    }
    const std::string cmdline = ReadProcFile(entry.path().string() + "/cmdline");
    if (ns_init && cmdline.find("\"mode\":\"zygote\"") != std::string::npos &&
        ParentOf(ParentOf(pid)) == ::getpid() && ::kill(pid, SIGKILL) == 0) {
      ++killed;
    }
  }
  return killed;
}

void WriteFile(const std::string& path, absl::string_view contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

class ZygoteExecutorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetLogQuiet(true);
    char templ[] = "/tmp/vet-zygote-test-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    root_ = new std::string(templ);
    std::filesystem::create_directories(DataDir("a"));
    WriteFile(DataDir("a") + "/invoice_lines.csv", kInvoiceLines);
    auto executor = ZygoteExecutor::Create(DefaultOptions());
    ASSERT_TRUE(executor.ok()) << executor.status();
    executor_ = executor->release();
  }
  static void TearDownTestSuite() {
    delete executor_;
    std::error_code ignored;
    std::filesystem::remove_all(*root_, ignored);
    delete root_;
  }
  static std::string DataDir(absl::string_view name) { return absl::StrCat(*root_, "/", name); }
  static ZygoteExecutor::Options DefaultOptions() {
    ZygoteExecutor::Options options;
    options.tables = {{"invoice_lines", {"invoiced_on"}}};
    options.cgroup_parent = absl::StrCat("vet-analytics-test-", ::getpid());
    return options;
  }
  static ExecutionRequest Request(std::string code, absl::Duration timeout = absl::Seconds(30),
                                  std::string practice = "p1") {
    return ExecutionRequest{std::move(practice), DataDir("a"), std::move(code), timeout};
  }
  absl::StatusOr<ExecutionResult> Run(std::string code,
                                      absl::Duration timeout = absl::Seconds(30)) {
    CancellationToken token;
    return executor_->Execute(Request(std::move(code), timeout), sink_, token);
  }

  static std::string* root_;
  static ZygoteExecutor* executor_;
  RecordingSink sink_;
};

std::string* ZygoteExecutorTest::root_ = nullptr;
ZygoteExecutor* ZygoteExecutorTest::executor_ = nullptr;

TEST_F(ZygoteExecutorTest, AKilledWorkerEndsTheQuestionAndTheNextStartsAnew) {
  ASSERT_THAT(Run("result = 1"), IsOk());
  CancellationToken token;
  std::thread killer([&] {
    sink_.WaitForStdout("started", absl::Seconds(10));
    EXPECT_GE(KillZygotes(), 1);
  });
  auto r = executor_->Execute(Request("print('started', flush=True)\nimport time\ntime.sleep(30)"),
                              sink_, token);
  killer.join();
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInternal,
                          AllOf(HasSubstr("killed by signal 9 (SIGKILL)"),
                                HasSubstr("the next question starts a new one"))));
  auto next = Run("result = 3");
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(next->result.number, 3);
}

TEST_F(ZygoteExecutorTest, NewDataStartsANewWorker) {
  std::filesystem::create_directories(DataDir("b"));
  WriteFile(DataDir("b") + "/invoice_lines.csv",
            "invoice_id,line_no,invoiced_on,client_id,amount,category\n"
            "0009,1,2026-03-01,c001,1.00,dental\n");
  ExecutionRequest request = Request("result = len(invoice_lines)");
  CancellationToken token;
  auto before = executor_->Execute(request, sink_, token);
  ASSERT_THAT(before, IsOk());
  EXPECT_EQ(before->result.number, 4);
  request.data_dir = DataDir("b");
  auto after = executor_->Execute(request, sink_, token);
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->result.number, 1);
}

TEST_F(ZygoteExecutorTest, EvictsIdleWorkers) {
  ASSERT_THAT(Run("result = 1"), IsOk());
  EXPECT_GE(executor_->workers(), 1);
  EXPECT_GE(executor_->EvictIdle(absl::Now() + absl::Hours(1)), 1);
  EXPECT_EQ(executor_->workers(), 0);
  ASSERT_THAT(Run("result = 1"), IsOk());
  EXPECT_EQ(executor_->workers(), 1);
}

TEST_F(ZygoteExecutorTest, TheWorkersMemoryLimitEndsTheQuestion) {
  // Under the 4 GiB address-space limit, over the worker's 300 MiB cgroup:
  // only the memory cgroup stops it, through the kernel's OOM killer.
  ZygoteExecutor::Options options = DefaultOptions();
  options.memory_bytes = int64_t{300} << 20;
  auto executor = ZygoteExecutor::Create(options);
  ASSERT_THAT(executor, IsOk());
  if ((*executor)->isolation().find("no cgroup") != std::string::npos) {
    GTEST_SKIP() << "no memory cgroup here: " << (*executor)->isolation();
  }
  CancellationToken token;
  auto r = (*executor)->Execute(Request("blocks = [bytearray(64 << 20) for _ in range(20)]\n"
                                        "result = len(blocks)"),
                                sink_, token);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kResourceExhausted,
                          HasSubstr("out of memory (the memory limit is 300 MiB)")));
  auto next = (*executor)->Execute(Request("result = len(invoice_lines)"), sink_, token);
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(next->result.number, 4);
}

TEST(ZygoteWorkerTest, TheRunnerFitsInOneArgument) {
  // bwrap gets runner.py as one argv string; Linux refuses longer ones
  // (MAX_ARG_STRLEN, 32 pages) with E2BIG.
  EXPECT_LT(internal::RunnerSource().size(), 131072u);
}

TEST_F(ZygoteExecutorTest, KeepsAtMostMaxWorkersAndStopsTheLeastRecentlyUsed) {
  ZygoteExecutor::Options options = DefaultOptions();
  options.max_workers = 1;
  auto executor = ZygoteExecutor::Create(options);
  ASSERT_THAT(executor, IsOk());
  CancellationToken token;
  for (const char* practice : {"p1", "p2", "p1"}) {
    auto r = (*executor)->Execute(
        Request("result = len(invoice_lines)", absl::Seconds(30), practice), sink_, token);
    ASSERT_THAT(r, IsOk()) << practice;
    EXPECT_EQ(r->result.number, 4) << practice;
    EXPECT_EQ((*executor)->workers(), 1) << "after " << practice;
  }
  // The worker's memory: its cgroup's usage, or its size when it started.
  EXPECT_GT((*executor)->worker_memory_bytes(), int64_t{1} << 20);
}

TEST_F(ZygoteExecutorTest, APracticeWhoseDataCannotLoadIsUnavailableAndOthersStillRun) {
  // A table file the zygote cannot read as one: it fails while loading.
  std::filesystem::create_directories(DataDir("unreadable") + "/invoice_lines.csv");
  ExecutionRequest request = Request("result = 1", absl::Seconds(30), "broken");
  request.data_dir = DataDir("unreadable");
  CancellationToken token;
  EXPECT_THAT(executor_->Execute(request, sink_, token),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("the sandbox for practice broken could not start"),
                             HasSubstr("load the data"))));
  auto other = Run("result = len(invoice_lines)");
  ASSERT_THAT(other, IsOk());
  EXPECT_EQ(other->result.number, 4);
}

TEST(ZygoteExecutorCreateTest, RefusesLimitsOutOfRange) {
  ZygoteExecutor::Options options;
  options.start_timeout = absl::ZeroDuration();
  EXPECT_THAT(ZygoteExecutor::Create(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("timeouts")));
}

TEST(ZygoteExecutorCreateTest, NamesAMissingBwrapAndTheWayToInstallIt) {
  ZygoteExecutor::Options options;
  options.bwrap_path = "/nonexistent/bwrap";
  EXPECT_THAT(ZygoteExecutor::Create(options),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("/nonexistent/bwrap is not an executable file"),
                             HasSubstr("install the bubblewrap package"))));
}

TEST(ZygoteExecutorCreateTest, RefusesASandboxUserThatIsMissingOrRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "only a root server switches to the sandbox user";
  ZygoteExecutor::Options options;
  options.sandbox_user = "vet-no-such-user";
  EXPECT_THAT(ZygoteExecutor::Create(options),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("the sandbox user 'vet-no-such-user' does not exist"),
                             HasSubstr("useradd --system"))));
  options.sandbox_user = "root";
  EXPECT_THAT(ZygoteExecutor::Create(options),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("'root' is root or in group root")));
}

}  // namespace
}  // namespace vet::sandbox
