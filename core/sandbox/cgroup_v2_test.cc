// The cgroup v2 path, run against a fake cgroup filesystem in a temporary
// folder: this machine boots cgroup v1, so no test here touches a real v2
// hierarchy. The fake holds the files the kernel would show (the top's and
// the delegated cgroup's cgroup.controllers, memory.swap.max, a leaf's
// cgroup.kill)
// and a fake /proc/self/cgroup; each test reads back every file the code
// wrote. A worker's leaf holds regular files here, so the code's rmdir of
// it fails and logs so unless the test removes them first, as the kernel
// would. What the fake cannot show (the kernel enforcing the limits, moving
// tasks, emptying cgroup.procs) is left to a real v2 host.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/sandbox/cgroup.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::sandbox {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

constexpr int64_t kMiB = int64_t{1} << 20;
// The service's cgroup as systemd names it, under the fake root.
constexpr char kOwn[] = "/system.slice/vet-analytics.service";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteAll(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

bool DirExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The regular files in `dir` and their contents.
std::map<std::string, std::string> Files(const std::string& dir) {
  std::map<std::string, std::string> files;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return files;
  while (struct dirent* e = readdir(d)) {
    const std::string path = absl::StrCat(dir, "/", e->d_name);
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      files[e->d_name] = ReadAll(path);
    }
  }
  closedir(d);
  return files;
}

// Removes the regular files in `dir`, as the kernel does with a cgroup's
// interface files at rmdir, so the code's rmdir can succeed on the fake.
void RemoveFiles(const std::string& dir) {
  for (const auto& [name, text] : Files(dir)) {
    unlink(absl::StrCat(dir, "/", name).c_str());
  }
}

// A delegated v2 subtree as systemd's Delegate=yes leaves it.
class FakeCgroupV2 : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/vet-cgroup2-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    tmp_ = templ;
    root_ = tmp_ + "/fs";
    own_ = root_ + kOwn;
    ASSERT_EQ(mkdir(root_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((root_ + "/system.slice").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(own_.c_str(), 0755), 0);
    WriteAll(root_ + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    WriteAll(own_ + "/cgroup.controllers", "cpu io memory pids\n");
    WriteAll(own_ + "/cgroup.procs", absl::StrCat(getpid(), "\n"));
    WriteAll(own_ + "/cgroup.subtree_control", "");
    WriteAll(own_ + "/memory.swap.max", "max\n");
    WriteAll(ProcFile(), absl::StrCat("0::", kOwn, "\n"));
  }
  void TearDown() override {
    std::string command = absl::StrCat("rm -rf '", tmp_, "'");
    ASSERT_EQ(std::system(command.c_str()), 0);
  }

  std::string ProcFile() const { return tmp_ + "/proc-self-cgroup"; }

  CgroupController::Options MakeOptions() const {
    CgroupController::Options options;
    options.root = root_;
    options.proc_self_cgroup = ProcFile();
    options.parent = "vet-analytics";
    options.parent_cpu_shares = 5 * CgroupController::kCpuShares;
    return options;
  }

  std::string Parent() const { return own_ + "/vet-analytics"; }

  std::string tmp_;
  std::string root_;
  std::string own_;
};

TEST_F(FakeCgroupV2, MovesItselfIntoALeafAndHandsTheControllersDown) {
  absl::StatusOr<std::unique_ptr<CgroupController>> c = CgroupController::Detect(MakeOptions());
  ASSERT_THAT(c, IsOk());
  EXPECT_TRUE((*c)->has_cpu());
  EXPECT_EQ((*c)->description(), absl::StrCat("cgroup v2 memory+pids+cpu under ", Parent()));

  // The server leaf holds this process; the own cgroup then hands out the
  // controllers, to the server leaf and to the parent of the workers.
  EXPECT_THAT(Files(own_ + "/server"), ElementsAre(Pair("cgroup.procs", absl::StrCat(getpid()))));
  EXPECT_EQ(ReadAll(own_ + "/cgroup.subtree_control"), "+memory +pids +cpu");
  // The parent weighs as the 5 executions it was given, as on v1
  // (5 x 1024 cpu.shares).
  EXPECT_THAT(Files(Parent()),
              UnorderedElementsAre(Pair("cgroup.subtree_control", "+memory +pids +cpu"),
                                   Pair("cpu.weight", "500")));
  // Nothing else was written in the own cgroup.
  EXPECT_THAT(Files(own_),
              UnorderedElementsAre(Pair("cgroup.controllers", "cpu io memory pids\n"),
                                   Pair("cgroup.procs", absl::StrCat(getpid(), "\n")),
                                   Pair("cgroup.subtree_control", "+memory +pids +cpu"),
                                   Pair("memory.swap.max", "max\n")));
}

TEST_F(FakeCgroupV2, WritesEveryLimitIntoTheWorkersLeaf) {
  auto c = CgroupController::Detect(MakeOptions());
  ASSERT_THAT(c, IsOk());
  absl::StatusOr<std::unique_ptr<WorkerCgroup>> cg = (*c)->Create("practice-1", 64 * kMiB, 8);
  ASSERT_THAT(cg, IsOk());
  const std::string name = (*cg)->name();
  EXPECT_EQ(name, absl::StrCat(getpid(), "-practice-1"));
  const std::string leaf = absl::StrCat(Parent(), "/", name);
  EXPECT_THAT(Files(leaf), UnorderedElementsAre(Pair("memory.max", absl::StrCat(64 * kMiB)),
                                                Pair("memory.swap.max", "0"), Pair("pids.max", "8"),
                                                Pair("cpu.weight", "100")));
  EXPECT_EQ((*cg)->CpuWeight(), CgroupController::kCpuWeight);
  EXPECT_EQ((*cg)->CpuShares(), -1);
  EXPECT_THAT((*c)->Create("practice-1", 64 * kMiB, 8), StatusIs(absl::StatusCode::kAlreadyExists));

  ASSERT_THAT((*cg)->AddProcess(4242), IsOk());
  EXPECT_EQ(ReadAll(leaf + "/cgroup.procs"), "4242");

  // What the kernel reports, read from its v2 files.
  WriteAll(leaf + "/memory.events", "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n");
  WriteAll(leaf + "/memory.current", "5242880\n");
  EXPECT_EQ((*cg)->OomKills(), 1);
  EXPECT_EQ((*cg)->MemoryUsageBytes(), 5 * kMiB);

  // The destructor removes the leaf (the fake's tasks and interface files
  // are gone first, as the kernel's would be).
  WriteAll(leaf + "/cgroup.procs", "");
  RemoveFiles(leaf);
  cg->reset();
  EXPECT_FALSE(DirExists(leaf));
}

TEST_F(FakeCgroupV2, KillAllWritesCgroupKill) {
  auto c = CgroupController::Detect(MakeOptions());
  ASSERT_THAT(c, IsOk());
  auto cg = (*c)->Create("kill", 64 * kMiB, 8);
  ASSERT_THAT(cg, IsOk());
  const std::string leaf = absl::StrCat(Parent(), "/", (*cg)->name());
  WriteAll(leaf + "/cgroup.kill", "");  // what a 5.14+ kernel shows
  (*cg)->KillAll();
  EXPECT_EQ(ReadAll(leaf + "/cgroup.kill"), "1");
}

TEST_F(FakeCgroupV2, WithoutCgroupKillKillsEachListedProcess) {
  auto c = CgroupController::Detect(MakeOptions());
  ASSERT_THAT(c, IsOk());
  auto cg = (*c)->Create("kill", 64 * kMiB, 8);
  ASSERT_THAT(cg, IsOk());
  // A kernel before 5.14: the leaf has no cgroup.kill.
  const std::string leaf = absl::StrCat(Parent(), "/", (*cg)->name());

  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  ASSERT_GT(child, 0);
  ASSERT_THAT((*cg)->AddProcess(child), IsOk());
  // Plays the kernel: once the child has died, its pid leaves cgroup.procs.
  int status = 0;
  std::thread reaper([&] {
    waitpid(child, &status, 0);
    WriteAll(leaf + "/cgroup.procs", "");
  });
  (*cg)->KillAll();
  reaper.join();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_FALSE(Files(leaf).count("cgroup.kill"));
}

TEST_F(FakeCgroupV2, NoSwapLimitWhereTheKernelHasNoSwapFile) {
  unlink((own_ + "/memory.swap.max").c_str());
  auto c = CgroupController::Detect(MakeOptions());
  ASSERT_THAT(c, IsOk());
  auto cg = (*c)->Create("practice-1", 64 * kMiB, 8);
  ASSERT_THAT(cg, IsOk());
  EXPECT_THAT(Files(absl::StrCat(Parent(), "/", (*cg)->name())),
              UnorderedElementsAre(Pair("memory.max", absl::StrCat(64 * kMiB)),
                                   Pair("pids.max", "8"), Pair("cpu.weight", "100")));
}

TEST_F(FakeCgroupV2, MissingMemoryControllerIsLoggedOnceAndLeftOut) {
  WriteAll(own_ + "/cgroup.controllers", "cpu pids\n");
  ::testing::internal::CaptureStderr();
  auto c = CgroupController::Detect(MakeOptions());
  std::unique_ptr<WorkerCgroup> cg;
  if (c.ok()) {
    auto created = (*c)->Create("practice-1", 64 * kMiB, 8);
    if (created.ok()) cg = *std::move(created);
  }
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_THAT(c, IsOk());
  ASSERT_NE(cg, nullptr);
  const std::string warning =
      absl::StrCat("cgroup v2: controller memory is not delegated to ", own_,
                   " (not in its cgroup.controllers): workers get no memory limit (only "
                   "the rlimits)");
  EXPECT_THAT(log, HasSubstr(warning));
  EXPECT_EQ(log.find(warning), log.rfind(warning)) << log;
  EXPECT_THAT(log, ::testing::Not(HasSubstr("controller pids")));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("controller cpu")));

  EXPECT_EQ((*c)->description(), absl::StrCat("cgroup v2 pids+cpu under ", Parent()));
  EXPECT_EQ(ReadAll(own_ + "/cgroup.subtree_control"), "+pids +cpu");
  EXPECT_EQ(ReadAll(Parent() + "/cgroup.subtree_control"), "+pids +cpu");
  EXPECT_THAT(Files(absl::StrCat(Parent(), "/", cg->name())),
              UnorderedElementsAre(Pair("pids.max", "8"), Pair("cpu.weight", "100")));
  EXPECT_EQ(cg->OomKills(), 0);
  EXPECT_EQ(cg->MemoryUsageBytes(), -1);
}

TEST_F(FakeCgroupV2, MissingCpuControllerLeavesNoWeights) {
  WriteAll(own_ + "/cgroup.controllers", "memory pids\n");
  ::testing::internal::CaptureStderr();
  auto c = CgroupController::Detect(MakeOptions());
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_THAT(c, IsOk());
  EXPECT_THAT(log, HasSubstr("controller cpu is not delegated"));
  EXPECT_THAT(log, HasSubstr("no CPU weight per practice"));
  EXPECT_FALSE((*c)->has_cpu());
  EXPECT_THAT(Files(Parent()), ElementsAre(Pair("cgroup.subtree_control", "+memory +pids")));
  auto cg = (*c)->Create("practice-1", 64 * kMiB, 8);
  ASSERT_THAT(cg, IsOk());
  EXPECT_EQ((*cg)->CpuWeight(), -1);
  EXPECT_THAT(Files(absl::StrCat(Parent(), "/", (*cg)->name())),
              UnorderedElementsAre(Pair("memory.max", absl::StrCat(64 * kMiB)),
                                   Pair("memory.swap.max", "0"), Pair("pids.max", "8")));
}

TEST_F(FakeCgroupV2, RefusesWhenNoControllerIsDelegated) {
  WriteAll(own_ + "/cgroup.controllers", "io\n");
  ::testing::internal::CaptureStderr();
  auto c = CgroupController::Detect(MakeOptions());
  ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kFailedPrecondition,
                          HasSubstr(absl::StrCat("cgroup v2: none of memory, pids, cpu is "
                                                 "delegated to ",
                                                 own_, " (its cgroup.controllers: \"io\")"))));
  // Refused before it moved or enabled anything.
  EXPECT_FALSE(DirExists(own_ + "/server"));
  EXPECT_EQ(ReadAll(own_ + "/cgroup.subtree_control"), "");
}

TEST_F(FakeCgroupV2, RefusesWithoutAUnifiedLineInProcSelfCgroup) {
  WriteAll(ProcFile(), "4:memory:/\n1:cpu:/\n");
  EXPECT_THAT(CgroupController::Detect(MakeOptions()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(absl::StrCat("cgroup v2: no \"0::/path\" line in ", ProcFile()))));
}

TEST_F(FakeCgroupV2, RefusesAnOwnCgroupThatIsNotThere) {
  WriteAll(ProcFile(), "0::/system.slice/other.service\n");
  EXPECT_THAT(CgroupController::Detect(MakeOptions()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(absl::StrCat("cgroup v2: cannot write ", root_,
                                              "/system.slice/other.service: No such file or "
                                              "directory (not delegated to this process"))));
}

TEST_F(FakeCgroupV2, RefusesToShareTheOwnCgroupWithOtherProcesses) {
  WriteAll(own_ + "/cgroup.procs", absl::StrCat("1\n", getpid(), "\n77\n"));
  EXPECT_THAT(CgroupController::Detect(MakeOptions()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(absl::StrCat("cgroup v2: ", own_,
                                              " holds other processes than this server (1 77)"))));
  // Refused before it moved or enabled anything.
  EXPECT_FALSE(DirExists(own_ + "/server"));
  EXPECT_EQ(ReadAll(own_ + "/cgroup.subtree_control"), "");
}

TEST_F(FakeCgroupV2, RefusesWhenTheOwnCgroupCannotHandOutControllers) {
  // What the kernel answers while another process is still in the own
  // cgroup (EBUSY); a directory in the way gives an error the same way.
  unlink((own_ + "/cgroup.subtree_control").c_str());
  ASSERT_EQ(mkdir((own_ + "/cgroup.subtree_control").c_str(), 0755), 0);
  EXPECT_THAT(CgroupController::Detect(MakeOptions()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(absl::StrCat("cgroup: open ", own_, "/cgroup.subtree_control"))));
}

TEST_F(FakeCgroupV2, ALaterDetectInTheServerLeafUsesTheSameSubtree) {
  ASSERT_THAT(CgroupController::Detect(MakeOptions()), IsOk());
  // What /proc/self/cgroup says once the server has moved.
  WriteAll(ProcFile(), absl::StrCat("0::", kOwn, "/server\n"));
  auto again = CgroupController::Detect(MakeOptions());
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ((*again)->description(), absl::StrCat("cgroup v2 memory+pids+cpu under ", Parent()));
  EXPECT_FALSE(DirExists(own_ + "/server/server"));
}

TEST_F(FakeCgroupV2, ParentWeightStaysInTheKernelsRange) {
  CgroupController::Options options = MakeOptions();
  options.parent_cpu_shares = 2;
  ASSERT_THAT(CgroupController::Detect(options), IsOk());
  EXPECT_EQ(ReadAll(Parent() + "/cpu.weight"), "1");
  options.parent_cpu_shares = 262144;
  ASSERT_THAT(CgroupController::Detect(options), IsOk());
  EXPECT_EQ(ReadAll(Parent() + "/cpu.weight"), "10000");
}

TEST_F(FakeCgroupV2, SweepStaleRemovesOnlyDeadServersLeaves) {
  auto c = CgroupController::Detect(MakeOptions());
  ASSERT_THAT(c, IsOk());
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  ASSERT_GT(dead, 0);
  ASSERT_EQ(waitpid(dead, nullptr, 0), dead);
  const std::string stale = absl::StrCat(Parent(), "/", dead, "-practice-9");
  ASSERT_EQ(mkdir(stale.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((Parent() + "/other").c_str(), 0755), 0);
  auto live = (*c)->Create("practice-9", 64 * kMiB, 8);
  ASSERT_THAT(live, IsOk());

  EXPECT_EQ((*c)->SweepStale(), 1);
  EXPECT_FALSE(DirExists(stale));
  EXPECT_TRUE(DirExists(absl::StrCat(Parent(), "/", (*live)->name())));
  EXPECT_TRUE(DirExists(Parent() + "/other"));
}

TEST_F(FakeCgroupV2, HybridRootKeepsTheV1Path) {
  // A hybrid host's /sys/fs/cgroup: a tmpfs of v1 hierarchies, no
  // cgroup.controllers at its top (the v2 mount is below, at unified/).
  unlink((root_ + "/cgroup.controllers").c_str());
  EXPECT_THAT(CgroupController::Detect(MakeOptions()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::AnyOf(HasSubstr("no cgroup v1 memory"),
                                        HasSubstr("not running as root"))));
  EXPECT_FALSE(DirExists(own_ + "/server"));
  EXPECT_THAT(Files(own_ + "/server"), IsEmpty());
}

// The fake stands for the kernel only if cgroupfs takes the writes as the
// v2 path makes them (O_CREAT | O_TRUNC, as the shell's `>`). This checks
// that on a real cgroup2 mount: here the hybrid host's unified/ (which has
// no memory, pids or cpu controller, so the limits themselves are not
// checked), or /sys/fs/cgroup on a v2 host. It also checks cgroup.kill
// and the rmdir of a cgroup with its interface files.
TEST(RealCgroup2MountTest, TakesTheWritesOfTheV2Path) {
  constexpr long kCgroup2SuperMagic = 0x63677270;
  std::string mount;
  for (const char* candidate : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs fs;
    if (statfs(candidate, &fs) == 0 && fs.f_type == kCgroup2SuperMagic) {
      mount = candidate;
      break;
    }
  }
  if (mount.empty()) GTEST_SKIP() << "no cgroup2 mount here";
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const std::string dir = absl::StrCat(mount, "/vet-analytics-test-", getpid());
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << std::strerror(errno);
  auto write_file = [](const std::string& path, const std::string& value) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return errno;
    int err =
        ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size()) ? 0 : errno;
    close(fd);
    return err;
  };
  // A missing interface file is refused, not made.
  EXPECT_EQ(write_file(dir + "/memory.max", "1"), EACCES);
  EXPECT_FALSE(Files(dir).count("memory.max"));

  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  ASSERT_GT(child, 0);
  EXPECT_EQ(write_file(dir + "/cgroup.procs", absl::StrCat(child)), 0);
  EXPECT_EQ(ReadAll(dir + "/cgroup.procs"), absl::StrCat(child, "\n"));
  if (Files(dir).count("cgroup.kill")) {
    EXPECT_EQ(write_file(dir + "/cgroup.kill", "1"), 0);
  } else {
    kill(child, SIGKILL);  // a kernel before 5.14
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  // The kernel takes the task out of the cgroup just after the wait.
  bool removed = false;
  for (int i = 0; i < 200 && !removed; ++i) {
    removed = rmdir(dir.c_str()) == 0;
    if (!removed) usleep(5000);
  }
  EXPECT_TRUE(removed) << std::strerror(errno);
}

}  // namespace
}  // namespace vet::sandbox
