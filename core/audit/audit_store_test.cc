// One behavioural suite for every AuditStore: in memory, SQLite and
// PostgreSQL. AuditStoreTest runs against all three; DurableAuditStoreTest
// (reopening, the append-only trigger) against the two durable ones.
#include "core/audit/audit_store.h"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "core/audit/in_memory_audit_store.h"
#include "core/audit/postgres_audit_store.h"
#include "core/audit/sqlite_audit_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_fixture.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/sqlite_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_kinds.h"

namespace vet::audit {
namespace {

using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::PostgresServer;
using ::vet::testing::StatusIs;

absl::Time Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

// One fresh, empty backing store; Open may be called several times (each
// store another replica, or a restart, on the same data).
class Backend {
 public:
  virtual ~Backend() = default;
  virtual absl::StatusOr<std::unique_ptr<AuditStore>> Open() = 0;
  // Runs SQL on the data, bypassing the store.
  virtual absl::Status Exec(const std::string& sql) = 0;
};

class InMemoryBackend final : public Backend {
 public:
  absl::StatusOr<std::unique_ptr<AuditStore>> Open() override {
    return std::make_unique<InMemoryAuditStore>();
  }
  absl::Status Exec(const std::string&) override {
    return absl::UnimplementedError("in memory: no SQL");
  }
};

class SqliteBackend final : public Backend {
 public:
  SqliteBackend() {
    std::string tmpl = ::testing::TempDir() + "/audit_store_XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    dir_ = tmpl;
    path_ = dir_ + "/audit.sqlite3";
  }
  ~SqliteBackend() override { std::filesystem::remove_all(dir_); }

  absl::StatusOr<std::unique_ptr<AuditStore>> Open() override {
    auto store = SqliteAuditStore::Open(path_);
    if (!store.ok()) return store.status();
    return std::unique_ptr<AuditStore>(std::move(store).value());
  }
  absl::Status Exec(const std::string& sql) override {
    return vet::testing::ExecSqliteFile(path_, sql);
  }

 private:
  std::string dir_;
  std::string path_;
};

class PostgresBackend final : public Backend {
 public:
  PostgresBackend(PostgresServer* server, std::string database)
      : server_(server), database_(std::move(database)) {}

  absl::StatusOr<std::unique_ptr<AuditStore>> Open() override {
    auto store = PostgresAuditStore::Open(server_->url(database_));
    if (!store.ok()) return store.status();
    return std::unique_ptr<AuditStore>(std::move(store).value());
  }
  absl::Status Exec(const std::string& sql) override {
    return server_->Query(sql, database_).status();
  }

 private:
  PostgresServer* server_;
  std::string database_;
};

using StoreKind = vet::testing::StoreKind<Backend>;

std::vector<StoreKind> Stores(bool durable_only) {
  return vet::testing::ThreeStores<Backend, InMemoryBackend, SqliteBackend, PostgresBackend>(
      durable_only);
}

const absl::Time kStart = Utc(2026, 12, 1, 9, 0, 0);

AuditEntry Entry(const std::string& practice, absl::Time at, const std::string& rpc = "Ask") {
  AuditEntry e;
  e.id = NewAuditEntryId();
  e.practice_id = practice;
  e.at = at;
  e.rpc = rpc;
  return e;
}

std::vector<std::string> Ids(const std::vector<AuditEntry>& entries) {
  std::vector<std::string> ids;
  ids.reserve(entries.size());
  for (const AuditEntry& e : entries) ids.push_back(e.id);
  return ids;
}

class AuditStoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Backend>> backend = GetParam().make();
    ASSERT_THAT(backend, IsOk()) << "cannot set up the " << GetParam().name << " store";
    backend_ = std::move(backend).value();
    auto store = backend_->Open();
    ASSERT_THAT(store, IsOk());
    store_ = std::move(store).value();
  }

  // Every entry of the practice since `since`, page by page.
  std::vector<AuditEntry> ListAll(const std::string& practice, absl::Time since, int page_size,
                                  int* pages = nullptr) {
    std::vector<AuditEntry> all;
    std::string token;
    for (int n = 1; n <= 1000; ++n) {
      auto page = store_->List(practice, since, page_size, token);
      EXPECT_THAT(page, IsOk());
      if (!page.ok()) break;
      EXPECT_LE(static_cast<int>(page->entries.size()), page_size == 0 ? 100 : page_size);
      all.insert(all.end(), page->entries.begin(), page->entries.end());
      token = page->next_page_token;
      if (pages != nullptr) *pages = n;
      if (token.empty()) break;
    }
    return all;
  }

  std::unique_ptr<Backend> backend_;
  std::unique_ptr<AuditStore> store_;
};

class DurableAuditStoreTest : public AuditStoreTest {};

TEST_P(AuditStoreTest, KeepsEveryFieldOfAnEntry) {
  AuditEntry e = Entry("clinic", kStart + absl::Microseconds(123456));
  e.key_id = "0123456789ab";
  e.session_id = "5f0c4e1d2b3a49687766554433221100";
  e.question_id = "aabbccddeeff00112233445566778899";
  e.generator = "model";
  e.model = "gpt-5.2-mini";
  e.prompt_tokens = 1234;
  e.completion_tokens = 567;
  e.cost_micros = 1'234'567'890'123LL;
  e.status = absl::StatusCode::kResourceExhausted;
  e.duration = absl::Milliseconds(1500) + absl::Microseconds(7);
  e.question = "Revenue by vet last month? 'quoted' \"and\" ünïcode\n";
  e.question_sha256 = std::string(64, 'f');
  e.suppressed_refusals = 42;
  ASSERT_THAT(store_->Append({e}), IsOk());

  auto page = store_->List("clinic", absl::InfinitePast(), 0, "");
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->entries.size(), 1u);
  const AuditEntry& got = page->entries[0];
  EXPECT_EQ(got.id, e.id);
  EXPECT_EQ(got.practice_id, "clinic");
  EXPECT_EQ(got.at, e.at);
  EXPECT_EQ(got.key_id, e.key_id);
  EXPECT_EQ(got.rpc, "Ask");
  EXPECT_EQ(got.session_id, e.session_id);
  EXPECT_EQ(got.question_id, e.question_id);
  EXPECT_EQ(got.generator, "model");
  EXPECT_EQ(got.model, "gpt-5.2-mini");
  EXPECT_EQ(got.prompt_tokens, 1234);
  EXPECT_EQ(got.completion_tokens, 567);
  EXPECT_EQ(got.cost_micros, 1'234'567'890'123LL);
  EXPECT_EQ(got.status, absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(got.duration, e.duration);
  EXPECT_EQ(got.question, e.question);
  EXPECT_EQ(got.question_sha256, e.question_sha256);
  EXPECT_EQ(got.suppressed_refusals, 42);
  EXPECT_TRUE(page->next_page_token.empty());
}

TEST_P(AuditStoreTest, ListsNewestFirstSinceTheGivenTime) {
  std::vector<AuditEntry> batch;
  batch.reserve(5);
  for (int i = 0; i < 5; ++i) batch.push_back(Entry("clinic", kStart + absl::Hours(i)));
  ASSERT_THAT(store_->Append(batch), IsOk());

  std::vector<AuditEntry> all = ListAll("clinic", absl::InfinitePast(), 0);
  EXPECT_EQ(Ids(all), (std::vector<std::string>{batch[4].id, batch[3].id, batch[2].id, batch[1].id,
                                                batch[0].id}));
  // `since` is inclusive.
  std::vector<AuditEntry> recent = ListAll("clinic", kStart + absl::Hours(3), 0);
  EXPECT_EQ(Ids(recent), (std::vector<std::string>{batch[4].id, batch[3].id}));
  EXPECT_TRUE(ListAll("clinic", kStart + absl::Hours(5), 0).empty());
}

TEST_P(AuditStoreTest, PagesWithoutDuplicatesOrGapsAcrossTies) {
  // 45 entries, three per microsecond, so that ties are ordered by id.
  std::vector<AuditEntry> batch;
  batch.reserve(45);
  for (int i = 0; i < 45; ++i) batch.push_back(Entry("clinic", kStart + absl::Microseconds(i / 3)));
  ASSERT_THAT(store_->Append(batch), IsOk());
  int pages = 0;
  std::vector<AuditEntry> all = ListAll("clinic", absl::InfinitePast(), 7, &pages);
  EXPECT_EQ(pages, 7);
  ASSERT_EQ(all.size(), 45u);
  const std::vector<std::string> listed = Ids(all);
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()).size(), 45u);
  for (size_t i = 1; i < all.size(); ++i) {
    const bool ordered =
        all[i - 1].at > all[i].at || (all[i - 1].at == all[i].at && all[i - 1].id > all[i].id);
    EXPECT_TRUE(ordered) << "entry " << i;
  }
}

TEST_P(AuditStoreTest, PagingStaysCorrectWhileEntriesAreAppended) {
  std::vector<AuditEntry> first;
  first.reserve(10);
  for (int i = 0; i < 10; ++i) first.push_back(Entry("clinic", kStart + absl::Seconds(i)));
  ASSERT_THAT(store_->Append(first), IsOk());
  auto page = store_->List("clinic", absl::InfinitePast(), 4, "");
  ASSERT_THAT(page, IsOk());
  ASSERT_FALSE(page->next_page_token.empty());
  // Newer entries arrive between pages: the next page still continues
  // after the last one seen.
  ASSERT_THAT(store_->Append({Entry("clinic", kStart + absl::Hours(1))}), IsOk());
  auto next = store_->List("clinic", absl::InfinitePast(), 100, page->next_page_token);
  ASSERT_THAT(next, IsOk());
  ASSERT_EQ(next->entries.size(), 6u);
  EXPECT_EQ(next->entries.front().id, first[5].id);
  EXPECT_EQ(next->entries.back().id, first[0].id);
  EXPECT_TRUE(next->next_page_token.empty());
}

TEST_P(AuditStoreTest, PracticesSeeOnlyTheirOwnEntries) {
  ASSERT_THAT(store_->Append({Entry("alpha", kStart), Entry("beta", kStart),
                              Entry("alpha", kStart + absl::Seconds(1)),
                              Entry("alpha-2", kStart + absl::Seconds(2))}),
              IsOk());
  std::vector<AuditEntry> alpha = ListAll("alpha", absl::InfinitePast(), 1);
  ASSERT_EQ(alpha.size(), 2u);
  for (const AuditEntry& e : alpha) EXPECT_EQ(e.practice_id, "alpha");
  EXPECT_EQ(ListAll("beta", absl::InfinitePast(), 0).size(), 1u);
  EXPECT_TRUE(ListAll("gamma", absl::InfinitePast(), 0).empty());
  // Another practice's page token shows nothing of the first practice.
  auto page = store_->List("alpha", absl::InfinitePast(), 1, "");
  ASSERT_THAT(page, IsOk());
  auto foreign = store_->List("beta", absl::InfinitePast(), 10, page->next_page_token);
  ASSERT_THAT(foreign, IsOk());
  for (const AuditEntry& e : foreign->entries) EXPECT_EQ(e.practice_id, "beta");
}

TEST_P(AuditStoreTest, RefusesBadPageSizesAndTokens) {
  EXPECT_THAT(store_->List("clinic", absl::InfinitePast(), -1, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  EXPECT_THAT(store_->List("clinic", absl::InfinitePast(), 1001, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  EXPECT_THAT(store_->List("clinic", absl::InfinitePast(), 1000, ""), IsOk());
  for (const std::string token : {"not base64!", "djEuMTIzLmFiYw", "YTEuMTIzLmFiYw", "YTEu"}) {
    EXPECT_THAT(store_->List("clinic", absl::InfinitePast(), 0, token),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")))
        << token;
  }
}

TEST_P(AuditStoreTest, RefusesEntriesWithoutIdOrPracticeAndWritesNoneOfTheBatch) {
  AuditEntry no_id = Entry("clinic", kStart);
  no_id.id.clear();
  EXPECT_THAT(store_->Append({Entry("clinic", kStart), no_id}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->Append({Entry("", kStart)}), StatusIs(absl::StatusCode::kInvalidArgument));
  // A repeated id fails the whole batch.
  AuditEntry once = Entry("clinic", kStart);
  ASSERT_THAT(store_->Append({once}), IsOk());
  EXPECT_FALSE(store_->Append({Entry("clinic", kStart), once}).ok());
  EXPECT_EQ(Ids(ListAll("clinic", absl::InfinitePast(), 0)), std::vector<std::string>{once.id});
  EXPECT_THAT(store_->Append({}), IsOk());
}

TEST_P(AuditStoreTest, PurgeRemovesOnlyEntriesOlderThanTheCutOff) {
  ASSERT_THAT(store_->Append({Entry("alpha", kStart - absl::Hours(48)),
                              Entry("beta", kStart - absl::Hours(25)),
                              Entry("alpha", kStart - absl::Microseconds(1)),
                              Entry("alpha", kStart), Entry("beta", kStart + absl::Hours(1))}),
              IsOk());
  auto purged = store_->PurgeBefore(kStart);
  ASSERT_THAT(purged, IsOk());
  EXPECT_EQ(*purged, 3);
  EXPECT_EQ(ListAll("alpha", absl::InfinitePast(), 0).size(), 1u);
  EXPECT_EQ(ListAll("beta", absl::InfinitePast(), 0).size(), 1u);
  auto again = store_->PurgeBefore(kStart);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(*again, 0);
}

TEST_P(AuditStoreTest, ManyAppendersLoseNothing) {
  constexpr int kThreads = 8;
  constexpr int kBatches = 10;
  constexpr int kPerBatch = 5;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<AuditEntry> batch;
        batch.reserve(kPerBatch);
        for (int i = 0; i < kPerBatch; ++i) {
          batch.push_back(Entry(t % 2 == 0 ? "even" : "odd",
                                kStart + absl::Microseconds(t * 1000 + b * 10 + i)));
        }
        if (!store_->Append(batch).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(ListAll("even", absl::InfinitePast(), 1000).size(),
            static_cast<size_t>(kThreads / 2 * kBatches * kPerBatch));
  EXPECT_EQ(ListAll("odd", absl::InfinitePast(), 1000).size(),
            static_cast<size_t>(kThreads / 2 * kBatches * kPerBatch));
}

TEST_P(DurableAuditStoreTest, EntriesSurviveReopeningAndReplicasShareThem) {
  AuditEntry e = Entry("clinic", kStart);
  ASSERT_THAT(store_->Append({e}), IsOk());
  auto replica = backend_->Open();
  ASSERT_THAT(replica, IsOk());
  ASSERT_THAT((*replica)->Append({Entry("clinic", kStart + absl::Seconds(1))}), IsOk());
  store_.reset();
  auto reopened = backend_->Open();
  ASSERT_THAT(reopened, IsOk());
  auto page = (*reopened)->List("clinic", absl::InfinitePast(), 0, "");
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[1].id, e.id);
}

TEST_P(DurableAuditStoreTest, TheDatabaseRefusesToUpdateAnEntry) {
  AuditEntry e = Entry("clinic", kStart);
  e.rpc = "Ask";
  ASSERT_THAT(store_->Append({e}), IsOk());
  absl::Status update = backend_->Exec("UPDATE audit_log SET rpc = 'GetBudget'");
  EXPECT_THAT(update, StatusIs(absl::StatusCode::kInternal, HasSubstr("append-only")));
  absl::Status move = backend_->Exec("UPDATE audit_log SET practice_id = 'other'");
  EXPECT_FALSE(move.ok());
  auto page = store_->List("clinic", absl::InfinitePast(), 0, "");
  ASSERT_THAT(page, IsOk());
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].rpc, "Ask");
  if (GetParam().name == "Postgres") {
    // SQLite has no TRUNCATE; PostgreSQL's would bypass row triggers.
    EXPECT_THAT(backend_->Exec("TRUNCATE audit_log"),
                StatusIs(absl::StatusCode::kInternal, HasSubstr("append-only")));
    EXPECT_EQ(ListAll("clinic", absl::InfinitePast(), 0).size(), 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(AllStores, AuditStoreTest, ::testing::ValuesIn(Stores(false)),
                         vet::testing::StoreName<Backend>);
INSTANTIATE_TEST_SUITE_P(DurableStores, DurableAuditStoreTest,
                         ::testing::ValuesIn(Stores(/*durable_only=*/true)),
                         vet::testing::StoreName<Backend>);

}  // namespace
}  // namespace vet::audit
