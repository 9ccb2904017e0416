// Exercises real cgroup v1 limits on this machine: needs root and the memory
// and pids hierarchies, and skips (saying why) without them; the cpu tests
// skip without the cpu hierarchy. Each test works under its own parent
// directory, removed at the end.
#include "core/sandbox/cgroup.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::sandbox {
namespace {

using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

constexpr char kRoot[] = "/sys/fs/cgroup";
constexpr int64_t kMiB = int64_t{1} << 20;

bool DirExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// A forked child that blocks until Release(), so the parent can move it into
// a cgroup before it does anything that should count there.
class HeldChild {
 public:
  // `body` runs in the child after release; its result is the exit code.
  template <typename F>
  explicit HeldChild(F body) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    pid_ = fork();
    if (pid_ == 0) {
      close(fds[1]);
      char c;
      if (read(fds[0], &c, 1) != 1) _exit(120);
      _exit(body());
    }
    close(fds[0]);
    release_fd_ = fds[1];
  }
  ~HeldChild() {
    if (release_fd_ >= 0) close(release_fd_);
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }

  pid_t pid() const { return pid_; }
  void Release() { ASSERT_EQ(write(release_fd_, "x", 1), 1); }
  // Returns the wait status.
  int Wait() {
    int status = 0;
    EXPECT_EQ(waitpid(pid_, &status, 0), pid_);
    reaped_ = true;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int release_fd_ = -1;
  bool reaped_ = false;
};

class CgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    parent_ = absl::StrCat("vet-analytics-test-", getpid());
    absl::StatusOr<std::unique_ptr<CgroupController>> c = CgroupController::Detect(kRoot, parent_);
    if (!c.ok()) GTEST_SKIP() << "cgroups unusable here: " << c.status();
    controller_ = *std::move(c);
  }
  void TearDown() override {
    controller_.reset();
    rmdir(MemoryDir("").c_str());
    rmdir(PidsDir("").c_str());
    rmdir(CpuDir("").c_str());
  }

  std::string MemoryDir(absl::string_view name) const {
    return absl::StrCat(kRoot, "/memory/", parent_, name.empty() ? "" : "/", name);
  }
  std::string PidsDir(absl::string_view name) const {
    return absl::StrCat(kRoot, "/pids/", parent_, name.empty() ? "" : "/", name);
  }
  std::string CpuDir(absl::string_view name) const {
    return absl::StrCat(kRoot, "/cpu/", parent_, name.empty() ? "" : "/", name);
  }

  std::string parent_;
  std::unique_ptr<CgroupController> controller_;
};

TEST(CgroupDetectTest, RefusesMissingHierarchy) {
  EXPECT_THAT(CgroupController::Detect("/nonexistent-cgroup-root", "vet"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(CgroupTest, DescriptionNamesParent) {
  EXPECT_EQ(controller_->description(),
            absl::StrCat("cgroup v1 memory+pids", controller_->has_cpu() ? "+cpu" : "",
                         " under /sys/fs/cgroup/*/", parent_));
}

// The pids in <dir>/cgroup.procs.
std::vector<pid_t> Procs(const std::string& dir) {
  std::ifstream in(dir + "/cgroup.procs");
  std::vector<pid_t> pids;
  for (pid_t pid; in >> pid;) pids.push_back(pid);
  return pids;
}

TEST_F(CgroupTest, EachWorkerGetsOneEqualCpuWeight) {
  if (!controller_->has_cpu()) GTEST_SKIP() << "no cgroup v1 cpu hierarchy";
  absl::StatusOr<std::unique_ptr<WorkerCgroup>> a = controller_->Create("practice-a", 64 * kMiB, 8);
  absl::StatusOr<std::unique_ptr<WorkerCgroup>> b = controller_->Create("practice-b", 64 * kMiB, 8);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_EQ((*a)->CpuShares(), CgroupController::kCpuShares);
  EXPECT_EQ((*b)->CpuShares(), CgroupController::kCpuShares);
  const std::string name = (*a)->name();
  ASSERT_TRUE(DirExists(CpuDir(name)));

  // The worker and its future children share the one cgroup, and so the
  // one weight.
  HeldChild child([] {
    pid_t grandchild = fork();
    if (grandchild == 0) _exit(0);
    return waitpid(grandchild, nullptr, 0) == grandchild ? 0 : 1;
  });
  ASSERT_THAT((*a)->AddProcess(child.pid()), IsOk());
  EXPECT_THAT(Procs(CpuDir(name)), ::testing::ElementsAre(child.pid()));
  child.Release();
  int status = child.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  a->reset();
  EXPECT_FALSE(DirExists(CpuDir(name)));
}

TEST_F(CgroupTest, ParentWeighsAsTheExecutionsItWasGiven) {
  if (!controller_->has_cpu()) GTEST_SKIP() << "no cgroup v1 cpu hierarchy";
  auto read_shares = [this] {
    std::ifstream in(CpuDir("") + "/cpu.shares");
    int64_t shares = -1;
    in >> shares;
    return shares;
  };
  EXPECT_EQ(read_shares(), CgroupController::kCpuShares);
  auto five = CgroupController::Detect(kRoot, parent_, 5 * CgroupController::kCpuShares);
  ASSERT_THAT(five, IsOk());
  EXPECT_EQ(read_shares(), 5 * CgroupController::kCpuShares);
  EXPECT_THAT(CgroupController::Detect(kRoot, parent_, 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("2..262144")));
}

// Runs `body` in a child with its own mount namespace (so what it mounts
// goes away with it); returns its exit code, or -1.
template <typename F>
int InMountNamespace(F body) {
  pid_t pid = fork();
  if (pid == 0) {
    if (unshare(CLONE_NEWNS) != 0) _exit(100);
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(101);
    _exit(body());
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST(CgroupDetectTest, WorksWithoutTheCpuHierarchy) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  if (!CgroupController::Detect(kRoot, "vet-analytics-probe").ok()) {
    GTEST_SKIP() << "cgroups unusable here";
  }
  const std::string parent = absl::StrCat("vet-analytics-test-nocpu-", getpid());
  // A cgroup root with the memory and pids hierarchies bound in, and no cpu.
  char templ[] = "/tmp/vet-cgroup-root-XXXXXX";
  ASSERT_NE(mkdtemp(templ), nullptr);
  const std::string root = templ;
  int code = InMountNamespace([&] {
    for (const char* controller : {"memory", "pids"}) {
      const std::string from = absl::StrCat(kRoot, "/", controller);
      const std::string to = absl::StrCat(root, "/", controller);
      if (mkdir(to.c_str(), 0755) != 0) return 10;
      if (mount(from.c_str(), to.c_str(), nullptr, MS_BIND, nullptr) != 0) return 11;
    }
    auto controller = CgroupController::Detect(root, parent);
    if (!controller.ok()) return 20;
    if ((*controller)->has_cpu()) return 21;
    if ((*controller)->description().find("+cpu") != std::string::npos) return 22;
    auto worker = (*controller)->Create("practice-1", 64 * kMiB, 8);
    if (!worker.ok()) return 30;
    if ((*worker)->CpuShares() != -1) return 31;
    HeldChild child([] { return 0; });
    if (!(*worker)->AddProcess(child.pid()).ok()) return 32;
    child.Release();
    if (child.Wait() != 0) return 33;
    return 0;
  });
  for (const char* controller : {"memory", "pids"}) {
    rmdir(absl::StrCat(root, "/", controller).c_str());
    EXPECT_FALSE(DirExists(absl::StrCat(kRoot, "/", controller, "/", parent)));
  }
  rmdir(root.c_str());
  if (code == 100 || code == 101) GTEST_SKIP() << "no private mount namespace here";
  EXPECT_EQ(code, 0);
}

TEST_F(CgroupTest, RefusesInvalidNames) {
  for (const char* name : {"", "a/b", "../x", "a b", "x\n", "caf\xc3\xa9"}) {
    EXPECT_THAT(controller_->Create(name, 64 * kMiB, 8),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << "name '" << name << "'";
  }
  EXPECT_THAT(controller_->Create("ok", 0, 8), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CgroupController::Detect(kRoot, "a/b"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(CgroupTest, CreatesBothDirectoriesWithLimitsAndRemovesThem) {
  absl::StatusOr<std::unique_ptr<WorkerCgroup>> cg =
      controller_->Create("practice-1", 64 * kMiB, 8);
  ASSERT_THAT(cg, IsOk());
  const std::string name = (*cg)->name();
  EXPECT_EQ(name, absl::StrCat(getpid(), "-practice-1"));
  EXPECT_EQ((*cg)->memory_limit_bytes(), 64 * kMiB);
  EXPECT_TRUE(DirExists(MemoryDir(name)));
  EXPECT_TRUE(DirExists(PidsDir(name)));
  EXPECT_THAT(controller_->Create("practice-1", 64 * kMiB, 8),
              StatusIs(absl::StatusCode::kAlreadyExists));

  // A process in it when the destructor runs is killed, and the directories
  // still go.
  HeldChild child([] { return 0; });
  ASSERT_THAT((*cg)->AddProcess(child.pid()), IsOk());
  EXPECT_GE((*cg)->MemoryUsageBytes(), 0);
  cg->reset();
  EXPECT_FALSE(DirExists(MemoryDir(name)));
  EXPECT_FALSE(DirExists(PidsDir(name)));
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

TEST_F(CgroupTest, AddProcessNamesFileAndErrno) {
  absl::StatusOr<std::unique_ptr<WorkerCgroup>> cg = controller_->Create("gone", 64 * kMiB, 8);
  ASSERT_THAT(cg, IsOk());
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  ASSERT_GT(pid, 0);
  ASSERT_EQ(waitpid(pid, nullptr, 0), pid);
  EXPECT_THAT((*cg)->AddProcess(pid),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("cgroup.procs: No such process")));
}

TEST_F(CgroupTest, OomKillerKillsProcessOverMemoryLimit) {
  absl::StatusOr<std::unique_ptr<WorkerCgroup>> cg = controller_->Create("oom", 64 * kMiB, 8);
  ASSERT_THAT(cg, IsOk());
  EXPECT_EQ((*cg)->OomKills(), 0);
  HeldChild child([] {
    const size_t size = 256 * kMiB;
    // volatile: otherwise the compiler may drop the unread allocation.
    volatile char* p = static_cast<char*>(malloc(size));
    if (p == nullptr) return 2;
    // Touch every page so it is really charged.
    for (size_t i = 0; i < size; i += 4096) p[i] = 1;
    return 0;
  });
  ASSERT_THAT((*cg)->AddProcess(child.pid()), IsOk());
  child.Release();
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "wait status " << status;
  EXPECT_GE((*cg)->OomKills(), 1);
  EXPECT_LE((*cg)->MemoryUsageBytes(), 64 * kMiB);
}

TEST_F(CgroupTest, PidsMaxStopsForking) {
  absl::StatusOr<std::unique_ptr<WorkerCgroup>> cg = controller_->Create("pids", 64 * kMiB, 8);
  ASSERT_THAT(cg, IsOk());
  // The child forks until refused, then reports how many it made (or 100 +
  // errno if the refusal was not EAGAIN). The grandchildren just wait.
  HeldChild child([] {
    std::vector<pid_t> kids;
    int result = 0;
    for (int i = 0; i < 32; ++i) {
      pid_t pid = fork();
      if (pid == 0) {
        pause();
        _exit(0);
      }
      if (pid < 0) {
        result = errno == EAGAIN ? static_cast<int>(kids.size()) : 100 + errno;
        break;
      }
      kids.push_back(pid);
      result = static_cast<int>(kids.size());
    }
    for (pid_t pid : kids) kill(pid, SIGKILL);
    for (pid_t pid : kids) waitpid(pid, nullptr, 0);
    return result;
  });
  ASSERT_THAT((*cg)->AddProcess(child.pid()), IsOk());
  child.Release();
  int status = child.Wait();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  // The child is one of the 8, so at most 7 more.
  EXPECT_EQ(WEXITSTATUS(status), 7);
}

TEST_F(CgroupTest, KillAllKillsSleepingProcess) {
  absl::StatusOr<std::unique_ptr<WorkerCgroup>> cg = controller_->Create("kill", 64 * kMiB, 8);
  ASSERT_THAT(cg, IsOk());
  HeldChild child([] {
    pause();
    return 0;
  });
  ASSERT_THAT((*cg)->AddProcess(child.pid()), IsOk());
  child.Release();
  (*cg)->KillAll();
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

TEST_F(CgroupTest, SweepStaleRemovesOnlyDeadServersCgroups) {
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  ASSERT_GT(dead, 0);
  ASSERT_EQ(waitpid(dead, nullptr, 0), dead);
  const std::string stale = absl::StrCat(dead, "-practice-9");
  ASSERT_EQ(mkdir(MemoryDir(stale).c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_EQ(mkdir(PidsDir(stale).c_str(), 0755), 0) << std::strerror(errno);
  if (controller_->has_cpu()) {
    ASSERT_EQ(mkdir(CpuDir(stale).c_str(), 0755), 0) << std::strerror(errno);
  }
  // Not a "<pid>-" name: never ours to remove.
  ASSERT_EQ(mkdir(MemoryDir("other").c_str(), 0755), 0);

  absl::StatusOr<std::unique_ptr<WorkerCgroup>> live =
      controller_->Create("practice-9", 64 * kMiB, 8);
  ASSERT_THAT(live, IsOk());

  EXPECT_EQ(controller_->SweepStale(), 1);
  EXPECT_FALSE(DirExists(MemoryDir(stale)));
  EXPECT_FALSE(DirExists(PidsDir(stale)));
  EXPECT_FALSE(DirExists(CpuDir(stale)));
  EXPECT_TRUE(DirExists(MemoryDir((*live)->name())));
  EXPECT_TRUE(DirExists(PidsDir((*live)->name())));
  EXPECT_TRUE(DirExists(MemoryDir("other")));
  EXPECT_EQ(controller_->SweepStale(), 0);
  rmdir(MemoryDir("other").c_str());
}

}  // namespace
}  // namespace vet::sandbox
