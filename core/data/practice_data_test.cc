#include "core/data/practice_data.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/data/demo_generator.h"
#include "core/data/schema.h"
#include "core/data/testing/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::data {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

constexpr absl::CivilDay kEnd(2026, 10, 31);

// Demo exports of a given seed: different seeds, different datasets.
std::string Exports(const std::string& dir, uint64_t seed) {
  DemoOptions options;
  options.end_day = kEnd;
  options.invoice_lines = 300;
  options.seed = seed;
  EXPECT_THAT(WriteDemoDataset(options, dir), IsOk());
  return dir;
}

absl::StatusOr<CommitOutcome> ImportFolder(const std::string& root, const std::string& exports,
                                           ImportLimits limits = {}) {
  auto staging = ImportStaging::Create(root, limits);
  if (!staging.ok()) return staging.status();
  for (const TableSpec& t : CanonicalSchema()) {
    std::ifstream in(absl::StrCat(exports, "/", t.name, ".csv"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    absl::Status appended = (*staging)->Append(t.name, bytes);
    if (!appended.ok()) return appended;
  }
  absl::Status finished = (*staging)->Finish();
  if (!finished.ok()) return finished;
  return CommitImport(**staging, "", kEnd);
}

int CountVersions(const std::string& root) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(root + "/versions")) {
    if (e.path().filename().string()[0] != '.') ++n;
  }
  return n;
}

TEST(PracticeDataTest, ImportSwapsTheLinkAndReimportIsUnchanged) {
  testing::TempDir tmp;
  std::string root = tmp.File("practice");
  std::string a = Exports(tmp.File("a"), 1);
  auto first = ImportFolder(root, a);
  ASSERT_THAT(first, IsOk());
  EXPECT_FALSE(first->unchanged);
  auto resolved = ResolveDataDir(root + "/data");
  ASSERT_THAT(resolved, IsOk());
  EXPECT_THAT(*resolved, HasSubstr(first->version));
  auto again = ImportFolder(root, a);
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->unchanged);
  EXPECT_EQ(again->version, first->version);
  EXPECT_TRUE(std::filesystem::is_empty(root + "/staging")) << "staging is cleaned up";
}

TEST(PracticeDataTest, PruningKeepsThreeVersionsAndAnyAQuestionStillReads) {
  testing::TempDir tmp;
  std::string root = tmp.File("practice");
  auto first = ImportFolder(root, Exports(tmp.File("e1"), 1));
  ASSERT_THAT(first, IsOk());
  {
    auto lease = DataLease::Acquire(root + "/data");
    ASSERT_THAT(lease, IsOk());
    for (uint64_t seed = 2; seed <= 5; ++seed) {
      ASSERT_THAT(ImportFolder(root, Exports(tmp.File(absl::StrCat("e", seed)), seed)), IsOk());
    }
    EXPECT_TRUE(std::filesystem::exists(lease->dir() + "/manifest.json"))
        << "the version a question reads survives pruning";
    EXPECT_EQ(CountVersions(root), 4);
  }
  ASSERT_THAT(ImportFolder(root, Exports(tmp.File("e6"), 6)), IsOk());
  EXPECT_EQ(CountVersions(root), 3);
  EXPECT_FALSE(std::filesystem::exists(root + "/versions/" + first->version));
}

TEST(PracticeDataTest, ConcurrentImportsOfOnePracticeBothLand) {
  testing::TempDir tmp;
  std::string root = tmp.File("practice");
  std::string a = Exports(tmp.File("a"), 1);
  std::string b = Exports(tmp.File("b"), 2);
  absl::StatusOr<CommitOutcome> ra, rb, ra2;
  std::thread t1([&] { ra = ImportFolder(root, a); });
  std::thread t2([&] { rb = ImportFolder(root, b); });
  std::thread t3([&] { ra2 = ImportFolder(root, a); });
  t1.join();
  t2.join();
  t3.join();
  ASSERT_THAT(ra, IsOk());
  ASSERT_THAT(rb, IsOk());
  ASSERT_THAT(ra2, IsOk());
  auto resolved = ResolveDataDir(root + "/data");
  ASSERT_THAT(resolved, IsOk());
  EXPECT_TRUE(std::filesystem::exists(*resolved + "/manifest.json"));
}

TEST(PracticeDataTest, StagingRefusesWhatIsNotAnImport) {
  testing::TempDir tmp;
  auto staging = ImportStaging::Create(tmp.File("practice"), ImportLimits{/*max_bytes=*/10, 3});
  ASSERT_THAT(staging, IsOk());
  EXPECT_THAT((*staging)->Append("", "x"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT((*staging)->Append("../etc", "x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown table")));
  ASSERT_THAT((*staging)->Append("clients", "12345"), IsOk());
  ASSERT_THAT((*staging)->Append("staff", "1"), IsOk());
  EXPECT_THAT((*staging)->Append("clients", "1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sent again")));
  EXPECT_THAT((*staging)->Append("staff", "123456"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("--max_import_bytes")));
  EXPECT_THAT((*staging)->Finish(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing patients.csv")));
}

// The import that is refused changes nothing: the link still points at the
// version questions were reading, and that version is intact.
void ExpectStillServing(const std::string& root, const std::string& version) {
  auto resolved = ResolveDataDir(root + "/data");
  ASSERT_THAT(resolved, IsOk());
  EXPECT_THAT(*resolved, HasSubstr(version));
  EXPECT_TRUE(std::filesystem::exists(*resolved + "/manifest.json"));
  EXPECT_EQ(CountVersions(root), 1);
  EXPECT_TRUE(std::filesystem::is_empty(root + "/staging")) << "staging is cleaned up";
}

TEST(PracticeDataTest, RecordOfCommasIsRefusedAndThePreviousDataKeepsServing) {
  testing::TempDir tmp;
  std::string root = tmp.File("practice");
  auto first = ImportFolder(root, Exports(tmp.File("a"), 1));
  ASSERT_THAT(first, IsOk());
  std::string hostile = Exports(tmp.File("b"), 2);
  {
    std::ofstream clients(hostile + "/clients.csv", std::ios::app | std::ios::binary);
    clients << std::string(1 << 20, ',') << "\n";
  }
  auto refused = ImportFolder(root, hostile);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kInvalidArgument,
                                AllOf(HasSubstr("\nclients line "), HasSubstr("/clients.csv:"),
                                      HasSubstr(": record has more than 72 fields"))));
  ExpectStillServing(root, first->version);
}

TEST(PracticeDataTest, ImportPastTheMemoryLimitIsRefusedAndThePreviousDataKeepsServing) {
  testing::TempDir tmp;
  std::string root = tmp.File("practice");
  auto first = ImportFolder(root, Exports(tmp.File("a"), 1));
  ASSERT_THAT(first, IsOk());
  ImportLimits limits;
  // Room for the CSV reader's reservation (64 KiB + 2 x 16 MiB), little more.
  limits.max_memory_bytes = (int64_t{32} << 20) + (100 << 10);
  auto refused = ImportFolder(root, Exports(tmp.File("b"), 2), limits);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted,
                                HasSubstr("MiB of memory the server allows one import")));
  ExpectStillServing(root, first->version);
}

TEST(PracticeDataTest, LeftoversOfACrashedImportAreSwept) {
  testing::TempDir tmp;
  std::string root = tmp.File("practice");
  ASSERT_THAT(ImportFolder(root, Exports(tmp.File("a"), 1)), IsOk());
  std::filesystem::create_directories(root + "/staging/dead");
  std::filesystem::create_directories(root + "/versions/.tmp-dead");
  std::filesystem::create_symlink("versions/nowhere", root + "/.data-dead");
  RemoveAbandonedUploads(root);
  EXPECT_FALSE(std::filesystem::exists(root + "/staging"));
  EXPECT_FALSE(std::filesystem::is_symlink(root + "/.data-dead"));
  ASSERT_THAT(ImportFolder(root, Exports(tmp.File("b"), 2)), IsOk());
  EXPECT_FALSE(std::filesystem::exists(root + "/versions/.tmp-dead"));
  EXPECT_THAT(ResolveDataDir(root + "/data"), IsOk());
}

TEST(PracticeDataTest, AnOperatorsFolderIsNotImportedInto) {
  testing::TempDir tmp;
  std::string root = tmp.File("practice");
  std::filesystem::create_directories(root + "/data");
  auto outcome = ImportFolder(root, Exports(tmp.File("a"), 1));
  EXPECT_THAT(outcome, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr("not a dataset the service manages")));
}

}  // namespace
}  // namespace vet::data
