// Two replicas (two state folders) sharing one store: what one imports the
// other serves, whole and checked, told by an announcement or by polling;
// damaged or half-fetched copies never serve; the cache stays under its
// size, never evicting a version a question reads.
#include "core/data/replicated_datasets.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/data/demo_generator.h"
#include "core/data/practice_data.h"
#include "core/data/schema.h"
#include "core/data/testing/fake_dataset_store.h"
#include "core/data/testing/test_files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"

namespace vet::data {
namespace {

using ::testing::HasSubstr;
using ::vet::data::testing::FakeDatasetStore;
using ::vet::data::testing::ReadTextFile;
using ::vet::data::testing::TempDir;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;
using ::vet::testing::WaitUntil;

constexpr absl::CivilDay kEnd(2026, 10, 31);

// One replica: its practices folder and its cache of the shared store.
struct Replica {
  Replica(FakeDatasetStore* store, int64_t cache_bytes = int64_t{1} << 30,
          absl::Duration poll = absl::Hours(1)) {
    ReplicatedDatasetsOptions options;
    options.practices_dir = state.path();
    options.cache_bytes = cache_bytes;
    options.poll_interval = poll;
    datasets = std::make_unique<ReplicatedDatasets>(store, options);
  }
  std::string Root(const std::string& practice) const {
    return absl::StrCat(state.path(), "/", practice);
  }
  absl::StatusOr<DataLease> Lease(const std::string& practice) {
    return datasets->Lease(practice, Root(practice), Root(practice) + "/data");
  }
  // Imports the demo exports of `seed` as `practice`, published through
  // this replica; returns the version.
  std::string Import(const std::string& practice, uint64_t seed) {
    TempDir exports;
    DemoOptions options;
    options.end_day = kEnd;
    options.invoice_lines = 200;
    options.seed = seed;
    EXPECT_THAT(WriteDemoDataset(options, exports.path()), IsOk());
    std::filesystem::create_directories(Root(practice));
    auto staging = ImportStaging::Create(Root(practice), ImportLimits{});
    EXPECT_THAT(staging, IsOk());
    for (const TableSpec& t : CanonicalSchema()) {
      EXPECT_THAT((*staging)->Append(t.name, ReadTextFile(exports.File(t.name + ".csv"))), IsOk());
    }
    EXPECT_THAT((*staging)->Finish(), IsOk());
    auto outcome =
        CommitImport(**staging, "", kEnd, [&](const std::string& version, const std::string& dir) {
          return datasets->Publish(practice, version, dir);
        });
    EXPECT_THAT(outcome, IsOk());
    return outcome.ok() ? outcome->version : "";
  }
  std::string Serving(const std::string& practice) const {
    auto v = CurrentDataVersion(Root(practice));
    return v.ok() ? *v : "";
  }

  TempDir state;
  std::unique_ptr<ReplicatedDatasets> datasets;
};

std::string VersionOf(const DataLease& lease) {
  return std::filesystem::path(lease.dir()).filename();
}

TEST(ReplicatedDatasetsTest, WhatOneReplicaImportsTheOtherServesWholeAndChecked) {
  FakeDatasetStore store;
  Replica a(&store), b(&store);
  const std::string v1 = a.Import("alpha", 1);

  EXPECT_THAT(b.Lease("beta"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("no data")));
  auto lease = b.Lease("alpha");
  ASSERT_THAT(lease, IsOk());
  EXPECT_EQ(VersionOf(*lease), v1);
  EXPECT_THAT(lease->dir(),
              ::testing::StartsWith(std::filesystem::canonical(b.state.path()).string()));
  auto files = store.Files("alpha", v1);
  ASSERT_THAT(files, IsOk());
  EXPECT_GT(files->size(), 10u);
  EXPECT_THAT(VerifyVersionFiles(lease->dir(), *files), IsOk());
  EXPECT_EQ(b.datasets->stats().fetched, 1);

  // Served from the copy afterwards, not fetched again.
  ASSERT_THAT(b.Lease("alpha"), IsOk());
  EXPECT_EQ(store.fetches(), 1);
}

TEST(ReplicatedDatasetsTest, ANewVersionIsFetchedAheadWhenAnnounced) {
  FakeDatasetStore store;
  Replica a(&store), b(&store);
  const std::string v1 = a.Import("alpha", 1);
  ASSERT_THAT(b.Lease("alpha"), IsOk());
  const std::string v2 = a.Import("alpha", 2);
  ASSERT_NE(v1, v2);
  // No question asked: the announcement alone brings v2 to b.
  EXPECT_TRUE(WaitUntil([&] { return b.Serving("alpha") == v2; }, absl::Seconds(10)));
  auto lease = b.Lease("alpha");
  ASSERT_THAT(lease, IsOk());
  EXPECT_EQ(VersionOf(*lease), v2);
  EXPECT_EQ(store.fetches(), 2);
}

TEST(ReplicatedDatasetsTest, PollingFindsAVersionWhoseAnnouncementWasLost) {
  FakeDatasetStore store;
  Replica a(&store);
  Replica b(&store, int64_t{1} << 30, /*poll=*/absl::Milliseconds(100));
  a.Import("alpha", 1);
  ASSERT_THAT(b.Lease("alpha"), IsOk());
  store.DropAnnouncements(true);
  const std::string v2 = a.Import("alpha", 2);
  EXPECT_TRUE(WaitUntil([&] { return b.Serving("alpha") == v2; }, absl::Seconds(10)));
}

TEST(ReplicatedDatasetsTest, AHalfFetchedVersionNeverServes) {
  FakeDatasetStore store;
  Replica a(&store), b(&store);
  a.Import("alpha", 1);
  store.FailFetchAfterFiles(3);
  EXPECT_THAT(b.Lease("alpha"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("connection lost")));
  // Nothing of it is left where a question could read it.
  EXPECT_EQ(b.Serving("alpha"), "");
  EXPECT_FALSE(std::filesystem::exists(b.Root("alpha") + "/data"));
  for (const auto& e : std::filesystem::directory_iterator(b.Root("alpha"))) {
    EXPECT_NE(e.path().filename().string().rfind(".fetch-", 0), 0u) << e.path();
  }
  store.FailFetchAfterFiles(-1);
  EXPECT_THAT(b.Lease("alpha"), IsOk());
}

TEST(ReplicatedDatasetsTest, BytesDamagedInTransitAreRefused) {
  FakeDatasetStore store;
  Replica a(&store), b(&store);
  a.Import("alpha", 1);
  store.DamageInTransit(true);
  EXPECT_THAT(b.Lease("alpha"), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("damaged")));
  EXPECT_EQ(b.Serving("alpha"), "");
  store.DamageInTransit(false);
  EXPECT_THAT(b.Lease("alpha"), IsOk());
}

TEST(ReplicatedDatasetsTest, ADamagedLocalCopyIsFoundAfterARestartAndFetchedAgain) {
  FakeDatasetStore store;
  Replica a(&store), b(&store);
  const std::string v1 = a.Import("alpha", 1);
  auto lease = b.Lease("alpha");
  ASSERT_THAT(lease, IsOk());
  const std::string manifest = lease->dir() + "/manifest.json";
  const std::string good = ReadTextFile(manifest);
  lease = absl::InternalError("released");

  // b restarts (a new cache object on the same folder) with a damaged file.
  b.datasets.reset();
  {
    std::ofstream damage(manifest, std::ios::binary | std::ios::in | std::ios::out);
    damage.seekp(2);
    damage << "XX";
  }
  ReplicatedDatasetsOptions options;
  options.practices_dir = b.state.path();
  options.poll_interval = absl::Hours(1);
  b.datasets = std::make_unique<ReplicatedDatasets>(&store, options);
  auto again = b.Lease("alpha");
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(VersionOf(*again), v1);
  EXPECT_EQ(ReadTextFile(again->dir() + "/manifest.json"), good);
  EXPECT_EQ(b.datasets->stats().damaged, 1);
  EXPECT_EQ(b.datasets->stats().fetched, 1);
}

TEST(ReplicatedDatasetsTest, TheCacheEvictsLeastRecentlyUsedButNeverAVersionInUse) {
  FakeDatasetStore store;
  Replica a(&store);
  const std::string v1 = a.Import("p1", 1);
  a.Import("p2", 2);
  a.Import("p3", 3);
  auto files = store.Files("p1", v1);
  ASSERT_THAT(files, IsOk());
  int64_t one = 0;
  for (const StoredFile& f : *files) one += f.size;
  // Room for about two versions.
  Replica b(&store, /*cache_bytes=*/one * 2 + one / 2);
  auto p1 = b.Lease("p1");  // held: a question still reads it
  ASSERT_THAT(p1, IsOk());
  ASSERT_THAT(b.Lease("p2"), IsOk());
  ASSERT_THAT(b.Lease("p3"), IsOk());
  // p1 was least recently used but is in use: p2 went instead.
  EXPECT_TRUE(std::filesystem::exists(p1->dir()));
  EXPECT_EQ(b.datasets->stats().evicted, 1);
  EXPECT_LE(b.datasets->stats().cached_bytes, one * 2 + one / 2);
  // p2's next question fetches it again.
  auto p2 = b.Lease("p2");
  ASSERT_THAT(p2, IsOk());
  EXPECT_TRUE(std::filesystem::exists(p2->dir() + "/manifest.json"));
  EXPECT_EQ(b.datasets->stats().fetched, 4);
}

// A version removed after the check that it is here (evicted for another
// practice's question in between) is fetched again, not reported missing.
TEST(ReplicatedDatasetsTest, AVersionRemovedUnderAQuestionIsFetchedAgain) {
  FakeDatasetStore store;
  Replica a(&store), b(&store);
  const std::string v1 = a.Import("alpha", 1);
  std::string dir;
  {
    auto lease = b.Lease("alpha");
    ASSERT_THAT(lease, IsOk());
    dir = lease->dir();
  }
  std::filesystem::remove_all(dir);
  auto again = b.Lease("alpha");
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(VersionOf(*again), v1);
  EXPECT_TRUE(std::filesystem::exists(again->dir() + "/manifest.json"));
  EXPECT_EQ(b.datasets->stats().fetched, 2);
}

TEST(ReplicatedDatasetsTest, DataImportedBeforeTheStoreWasSharedIsPublished) {
  FakeDatasetStore store;
  FakeDatasetStore elsewhere;  // the single box, before it had a database
  Replica single(&elsewhere);
  const std::string v1 = single.Import("alpha", 1);
  single.datasets.reset();
  ReplicatedDatasetsOptions options;
  options.practices_dir = single.state.path();
  options.poll_interval = absl::Hours(1);
  single.datasets = std::make_unique<ReplicatedDatasets>(&store, options);
  ASSERT_THAT(single.Lease("alpha"), IsOk());
  EXPECT_THAT(store.Current("alpha"), ::vet::testing::IsOkAndHolds(v1));

  Replica b(&store);
  auto lease = b.Lease("alpha");
  ASSERT_THAT(lease, IsOk());
  EXPECT_EQ(VersionOf(*lease), v1);
}

TEST(ReplicatedDatasetsTest, AnUnreachableStoreIsUnavailableUntilTheVersionIsKnown) {
  FakeDatasetStore store;
  Replica a(&store), b(&store);
  a.Import("alpha", 1);
  store.SetUnavailable(true);
  EXPECT_THAT(b.Lease("alpha"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("shared dataset store")));
  store.SetUnavailable(false);
  ASSERT_THAT(b.Lease("alpha"), IsOk());
  // Known and here: served while the store is down.
  store.SetUnavailable(true);
  EXPECT_THAT(b.Lease("alpha"), IsOk());
}

}  // namespace
}  // namespace vet::data
