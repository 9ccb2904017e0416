// The shared dataset store on a throwaway PostgreSQL: a published version
// comes back byte for byte, replicas are told, the same version published
// twice is stored once, old versions are pruned, and bytes damaged in the
// database are caught by their digest. Then two replicas over it.
#include "core/data/postgres_dataset_store.h"

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/data/replicated_datasets.h"
#include "core/data/testing/test_files.h"
#include "core/storage/postgres.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"

namespace vet::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::vet::data::testing::ReadTextFile;
using ::vet::data::testing::TempDir;
using ::vet::data::testing::WriteTextFile;
using ::vet::testing::IsOk;
using ::vet::testing::IsOkAndHolds;
using ::vet::testing::StatusIs;

class PostgresDatasetStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = vet::testing::FreshPostgresDatabase();
    ASSERT_THAT(database, IsOk());
    url_ = database->url();
    auto store = PostgresDatasetStore::Open(url_);
    ASSERT_THAT(store, IsOk());
    store_ = std::move(*store);
  }

  // A version folder: a manifest, a column larger than one chunk, an empty
  // file, in subfolders like the columnar store's.
  static void MakeVersion(const std::string& dir, char fill) {
    std::filesystem::create_directories(dir + "/clients");
    WriteTextFile(dir + "/manifest.json",
                  absl::StrCat("{\"fill\": \"", std::string(1, fill), "\"}"));
    std::string big(PostgresDatasetStore::kChunkBytes * 2 + 12345, fill);
    for (size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>(i % 251);
    WriteTextFile(dir + "/clients/client_id.npy", big);
    WriteTextFile(dir + "/clients/empty.txt", "");
  }

  std::string url_;
  std::unique_ptr<PostgresDatasetStore> store_;
};

TEST_F(PostgresDatasetStoreTest, APublishedVersionComesBackByteForByte) {
  TempDir tmp;
  MakeVersion(tmp.File("v1"), 'a');
  EXPECT_THAT(store_->Current("alpha"), IsOkAndHolds(""));
  ASSERT_THAT(store_->Publish("alpha", "v1", tmp.File("v1"), 3), IsOk());
  EXPECT_THAT(store_->Current("alpha"), IsOkAndHolds("v1"));
  auto all = store_->CurrentAll();
  ASSERT_THAT(all, IsOk());
  EXPECT_THAT(*all, ElementsAre(::testing::Pair("alpha", "v1")));

  auto files = store_->Files("alpha", "v1");
  ASSERT_THAT(files, IsOk());
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0].path, "clients/client_id.npy");
  EXPECT_EQ((*files)[0].size, PostgresDatasetStore::kChunkBytes * 2 + 12345);

  std::filesystem::create_directories(tmp.File("copy"));
  ASSERT_THAT(store_->Fetch("alpha", "v1", tmp.File("copy")), IsOk());
  EXPECT_THAT(VerifyVersionFiles(tmp.File("copy"), *files), IsOk());
  EXPECT_EQ(ReadTextFile(tmp.File("copy/clients/client_id.npy")),
            ReadTextFile(tmp.File("v1/clients/client_id.npy")));

  // Another practice never sees it.
  EXPECT_THAT(store_->Files("beta", "v1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->Fetch("beta", "v1", tmp.File("copy")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("practice 'beta'")));
}

TEST_F(PostgresDatasetStoreTest, ReplicasAreToldOfANewCurrentVersionOnlyWhenItMoves) {
  TempDir tmp;
  MakeVersion(tmp.File("v1"), 'a');
  auto other = PostgresDatasetStore::Open(url_);
  ASSERT_THAT(other, IsOk());
  ASSERT_THAT((*other)->WaitForChanges(absl::Milliseconds(10)), IsOk());  // listening
  ASSERT_THAT(store_->Publish("alpha", "v1", tmp.File("v1"), 3), IsOk());
  std::vector<std::string> heard;
  for (int i = 0; i < 20 && heard.empty(); ++i) {
    auto some = (*other)->WaitForChanges(absl::Milliseconds(250));
    ASSERT_THAT(some, IsOk());
    heard = *some;
  }
  EXPECT_THAT(heard, ElementsAre("alpha"));
  // The same version again: nothing moved, nothing announced.
  ASSERT_THAT(store_->Publish("alpha", "v1", tmp.File("v1"), 3), IsOk());
  EXPECT_THAT((*other)->WaitForChanges(absl::Milliseconds(300)),
              IsOkAndHolds(::testing::IsEmpty()));
}

TEST_F(PostgresDatasetStoreTest, TheSameVersionFromTwoReplicasAtOnceIsStoredOnce) {
  TempDir tmp;
  MakeVersion(tmp.File("v1"), 'a');
  auto other = PostgresDatasetStore::Open(url_);
  ASSERT_THAT(other, IsOk());
  absl::Status first, second;
  std::thread t([&] { first = store_->Publish("alpha", "v1", tmp.File("v1"), 3); });
  second = (*other)->Publish("alpha", "v1", tmp.File("v1"), 3);
  t.join();
  EXPECT_THAT(first, IsOk());
  EXPECT_THAT(second, IsOk());
  auto pool = storage::PostgresPool::Create(url_);
  ASSERT_THAT(pool, IsOk());
  auto conn = (*pool)->Acquire();
  ASSERT_THAT(conn, IsOk());
  auto chunks = (*conn)->Exec("SELECT COUNT(*) FROM dataset_chunks");
  ASSERT_THAT(chunks, IsOk());
  EXPECT_EQ(chunks->Int(0, 0), 4);  // 3 chunks of the big file, 1 of the manifest
}

TEST_F(PostgresDatasetStoreTest, OldVersionsArePrunedWithTheirChunks) {
  TempDir tmp;
  for (char c : {'a', 'b', 'c', 'd'}) {
    const std::string v = absl::StrCat("v", std::string(1, c));
    MakeVersion(tmp.File(v), c);
    ASSERT_THAT(store_->Publish("alpha", v, tmp.File(v), 2), IsOk());
  }
  EXPECT_THAT(store_->Files("alpha", "va"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->Files("alpha", "vb"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->Files("alpha", "vc"), IsOk());
  EXPECT_THAT(store_->Current("alpha"), IsOkAndHolds("vd"));
  auto pool = storage::PostgresPool::Create(url_);
  ASSERT_THAT(pool, IsOk());
  auto conn = (*pool)->Acquire();
  ASSERT_THAT(conn, IsOk());
  auto chunks = (*conn)->Exec("SELECT COUNT(*) FROM dataset_chunks");
  ASSERT_THAT(chunks, IsOk());
  EXPECT_EQ(chunks->Int(0, 0), 8);
}

TEST_F(PostgresDatasetStoreTest, BytesDamagedInTheDatabaseAreCaughtByTheirDigest) {
  TempDir tmp;
  MakeVersion(tmp.File("v1"), 'a');
  ASSERT_THAT(store_->Publish("alpha", "v1", tmp.File("v1"), 3), IsOk());
  auto pool = storage::PostgresPool::Create(url_);
  ASSERT_THAT(pool, IsOk());
  {
    auto conn = (*pool)->Acquire();
    ASSERT_THAT(conn, IsOk());
    ASSERT_THAT((*conn)
                    ->Exec("UPDATE dataset_chunks SET data = overlay(data placing"
                           " '\\x00ff'::bytea from 100) WHERE seq = 1")
                    .status(),
                IsOk());
  }
  std::filesystem::create_directories(tmp.File("copy"));
  EXPECT_THAT(
      store_->Fetch("alpha", "v1", tmp.File("copy")),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("clients/client_id.npy arrived with")));
}

TEST_F(PostgresDatasetStoreTest, TwoReplicasOverPostgresServeTheSameVersion) {
  TempDir a_state, b_state, exports;
  const std::string a_root = a_state.File("alpha");
  MakeVersion(absl::StrCat(a_root, "/versions/v1"), 'a');
  ASSERT_THAT(SwapDataVersion(a_root, "v1"), IsOk());
  auto other = PostgresDatasetStore::Open(url_);
  ASSERT_THAT(other, IsOk());
  ReplicatedDatasetsOptions options;
  options.poll_interval = absl::Hours(1);
  options.practices_dir = a_state.path();
  ReplicatedDatasets a(store_.get(), options);
  options.practices_dir = b_state.path();
  ReplicatedDatasets b(other->get(), options);
  // a shares what it had; b fetches it.
  ASSERT_THAT(a.Lease("alpha", a_root, a_root + "/data"), IsOk());
  const std::string b_root = b_state.File("alpha");
  auto lease = b.Lease("alpha", b_root, b_root + "/data");
  ASSERT_THAT(lease, IsOk());
  EXPECT_EQ(ReadTextFile(lease->dir() + "/clients/client_id.npy"),
            ReadTextFile(a_root + "/versions/v1/clients/client_id.npy"));
  // A new version published by a reaches b by NOTIFY.
  MakeVersion(absl::StrCat(a_root, "/versions/v2"), 'b');
  ASSERT_THAT(a.Publish("alpha", "v2", absl::StrCat(a_root, "/versions/v2")), IsOk());
  EXPECT_TRUE(vet::testing::WaitUntil(
      [&] {
        auto v = CurrentDataVersion(b_root);
        return v.ok() && *v == "v2";
      },
      absl::Seconds(10)));
}

}  // namespace
}  // namespace vet::data
