// One behavioural suite for every SessionStore: in memory, SQLite and
// PostgreSQL. SessionStoreTest runs against all three; DurableSessionStoreTest
// (reopening, replicas, schema versions) against the two durable ones.
// PostgreSQL runs in a throwaway server started once per test binary, with
// a fresh database per test (tests/testing/postgres_fixture.h).
#include "core/session/session_store.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "core/common/testing/fake_clock.h"
#include "core/session/in_memory_session_store.h"
#include "core/session/postgres_session_store.h"
#include "core/session/sqlite_session_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/postgres_fixture.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/sqlite_file.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/store_kinds.h"

namespace vet::session {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::vet::testing::FreshPostgresDatabase;
using ::vet::testing::IsOk;
using ::vet::testing::IsOkAndHolds;
using ::vet::testing::PostgresDatabase;
using ::vet::testing::PostgresServer;
using ::vet::testing::StatusIs;

absl::Time Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

// One fresh, empty backing store. Open may be called several times: each
// store is another replica (or a restart) on the same data.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual absl::StatusOr<std::unique_ptr<SessionStore>> Open(const Clock& clock,
                                                             SessionOptions options) = 0;
  // Writes `version` into the schema version table, bypassing the store.
  virtual absl::Status SetSchemaVersion(int version) = 0;
};

class InMemoryBackend final : public Backend {
 public:
  absl::StatusOr<std::unique_ptr<SessionStore>> Open(const Clock& clock,
                                                     SessionOptions options) override {
    return std::make_unique<InMemorySessionStore>(clock, options);
  }
  absl::Status SetSchemaVersion(int) override {
    return absl::UnimplementedError("in memory: no schema");
  }
};

class SqliteBackend final : public Backend {
 public:
  SqliteBackend() {
    std::string tmpl = ::testing::TempDir() + "/session_store_XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    dir_ = tmpl;
    path_ = dir_ + "/sessions.sqlite3";
  }
  ~SqliteBackend() override { std::filesystem::remove_all(dir_); }

  absl::StatusOr<std::unique_ptr<SessionStore>> Open(const Clock& clock,
                                                     SessionOptions options) override {
    auto store = SqliteSessionStore::Open(path_, clock, options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<SessionStore>(std::move(store).value());
  }
  absl::Status SetSchemaVersion(int version) override {
    return vet::testing::ExecSqliteFile(
        path_, absl::StrCat("UPDATE schema_version SET version = ", version));
  }

 private:
  std::string dir_;
  std::string path_;
};

class PostgresBackend final : public Backend {
 public:
  PostgresBackend(PostgresServer* server, std::string database)
      : server_(server), database_(std::move(database)) {}

  absl::StatusOr<std::unique_ptr<SessionStore>> Open(const Clock& clock,
                                                     SessionOptions options) override {
    auto store = PostgresSessionStore::Open(server_->url(database_), clock, options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<SessionStore>(std::move(store).value());
  }
  absl::Status SetSchemaVersion(int version) override {
    return server_
        ->Query(absl::StrCat("UPDATE session_schema_version SET version = ", version), database_)
        .status();
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

constexpr absl::Duration kTtl = absl::Hours(1);

TurnRecord MakeTurn(const std::string& question) {
  TurnRecord t;
  t.question = question;
  return t;
}

std::vector<int> Numbers(const SessionRecord& s) {
  std::vector<int> numbers;
  for (const TurnRecord& t : s.turns) numbers.push_back(t.number);
  return numbers;
}

std::vector<int> OneTo(int n) {
  std::vector<int> numbers;
  for (int i = 1; i <= n; ++i) numbers.push_back(i);
  return numbers;
}

class SessionStoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Backend>> backend = GetParam().make();
    ASSERT_THAT(backend, IsOk()) << "cannot set up the " << GetParam().name << " store";
    backend_ = std::move(backend).value();
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<SessionStore> OpenStore() {
    SessionOptions options;
    options.ttl = kTtl;
    auto store = backend_->Open(clock_, options);
    EXPECT_THAT(store, IsOk());
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::string NewSession(const std::string& practice_id = "clinic") {
    auto s = store_->Create(practice_id);
    EXPECT_THAT(s, IsOk());
    return s.ok() ? s->id : "";
  }

  // Every session of the practice, page by page, checking each page.
  std::vector<std::string> ListAll(const std::string& practice_id, int page_size,
                                   std::vector<size_t>* page_sizes = nullptr) {
    std::vector<std::string> ids;
    std::string token;
    for (int pages = 0; pages < 100; ++pages) {
      auto page = store_->List(practice_id, page_size, token);
      EXPECT_THAT(page, IsOk());
      if (!page.ok()) break;
      if (page_sizes != nullptr) page_sizes->push_back(page->sessions.size());
      for (const SessionRecord& s : page->sessions) ids.push_back(s.id);
      token = page->next_page_token;
      if (token.empty()) break;
    }
    return ids;
  }

  FakeClock clock_{Utc(2026, 11, 15, 12, 0, 0)};
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<SessionStore> store_;
};

class DurableSessionStoreTest : public SessionStoreTest {};

TEST_P(SessionStoreTest, CreatesLongUniqueIds) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    auto s = store_->Create("clinic");
    ASSERT_THAT(s, IsOk());
    EXPECT_GE(s->id.size(), 32u);  // 128 bits in hex
    EXPECT_EQ(s->id.find_first_not_of("0123456789abcdef"), std::string::npos) << s->id;
    EXPECT_EQ(s->practice_id, "clinic");
    EXPECT_EQ(s->created_at, clock_.Now());
    EXPECT_EQ(s->last_active_at, clock_.Now());
    EXPECT_FALSE(s->ended);
    EXPECT_TRUE(s->turns.empty());
    ids.insert(s->id);
  }
  EXPECT_EQ(ids.size(), 100u);
}

TEST_P(SessionStoreTest, NumbersTurnsInOrderAndKeepsEveryField) {
  const absl::Time created = clock_.Now();
  const std::string id = NewSession();
  std::vector<TurnRecord> sent;
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(absl::Minutes(1));
    TurnRecord t;
    t.number = 99;  // assigned by the store, whatever the caller says
    t.question = absl::StrCat("revenue by vet, month ", i, "? 'quoted' \"and\" ünïcode\n");
    t.as_of_date = "2026-11-1" + std::to_string(i);
    t.code = "df.groupby('vet')['revenue'].sum()\n# line two";
    t.answer = absl::StrCat("Answer ", i, ": Dr. Ng $1,234.50");
    t.summary = "3 rows: vet, revenue";
    t.plan = R"({"tables":["invoices"],"step":)" + std::to_string(i) + "}";
    t.status = i == 1 ? absl::StatusCode::kDeadlineExceeded : absl::StatusCode::kOk;
    t.cost_micros = 1'234'567'890'123LL + i;
    t.asked_at = clock_.Now() - absl::Seconds(7);
    ASSERT_THAT(store_->AppendTurn("clinic", id, t), IsOk());
    sent.push_back(t);
  }
  auto got = store_->Get("clinic", id);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->id, id);
  EXPECT_EQ(got->practice_id, "clinic");
  EXPECT_EQ(got->created_at, created);
  EXPECT_EQ(got->last_active_at, clock_.Now());
  EXPECT_FALSE(got->ended);
  ASSERT_EQ(got->turns.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const TurnRecord& t = got->turns[i];
    EXPECT_EQ(t.number, i + 1);
    EXPECT_EQ(t.question, sent[i].question);
    EXPECT_EQ(t.as_of_date, sent[i].as_of_date);
    EXPECT_EQ(t.code, sent[i].code);
    EXPECT_EQ(t.answer, sent[i].answer);
    EXPECT_EQ(t.summary, sent[i].summary);
    EXPECT_EQ(t.plan, sent[i].plan);
    EXPECT_EQ(t.status, sent[i].status);
    EXPECT_EQ(t.cost_micros, sent[i].cost_micros);
    EXPECT_EQ(t.asked_at, sent[i].asked_at);
  }
}

TEST_P(SessionStoreTest, UnknownForeignAndExpiredSessionsLookTheSame) {
  const std::string live = NewSession();
  const std::string ended = NewSession();
  const std::string expires = NewSession();
  clock_.Advance(kTtl / 2);
  ASSERT_THAT(store_->AppendTurn("clinic", live, MakeTurn("q")), IsOk());
  ASSERT_THAT(store_->AppendTurn("clinic", ended, MakeTurn("q")), IsOk());
  ASSERT_THAT(store_->End("clinic", ended), IsOk());
  clock_.Advance(kTtl / 2 + absl::Microseconds(1));  // `expires` is past its TTL

  const std::string unknown(32, 'a');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"clinic", unknown}, {"other", live}, {"other", ended}, {"clinic", expires}};
  for (const auto& [practice, id] : cases) {
    SCOPED_TRACE(absl::StrCat(practice, "/", id));
    const absl::Status expected = SessionNotFound(id);
    ASSERT_EQ(expected.code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(store_->Get(practice, id).status(), expected);
    EXPECT_EQ(store_->AppendTurn(practice, id, MakeTurn("q")), expected);
    EXPECT_EQ(store_->End(practice, id), expected);
  }
  // The practice's own ended session takes no turns, but stays readable.
  EXPECT_EQ(store_->AppendTurn("clinic", ended, MakeTurn("q")), SessionNotFound(ended));
  // A message that is the same whichever it was: only the id differs.
  EXPECT_EQ(SessionNotFound(live).message(),
            absl::StrCat("no active session '", live,
                         "' for this practice (it may have ended); omit session_id to start a "
                         "new one"));
  // The foreign attempts changed nothing for the owner.
  auto owned = store_->Get("clinic", live);
  ASSERT_THAT(owned, IsOk());
  EXPECT_EQ(owned->turns.size(), 1u);
  // A very long id is capped in the message.
  EXPECT_THAT(store_->Get("clinic", std::string(500, 'x')),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("...")));
}

TEST_P(SessionStoreTest, ExpiresJustAfterTheTtlSinceTheLastTurn) {
  const std::string id = NewSession();
  const std::string idle = NewSession();
  clock_.Advance(kTtl - absl::Minutes(10));
  ASSERT_THAT(store_->AppendTurn("clinic", id, MakeTurn("q1")), IsOk());
  clock_.Advance(absl::Minutes(10));
  // Exactly at the TTL: still live.
  EXPECT_THAT(store_->Get("clinic", idle), IsOk());
  EXPECT_EQ(ListAll("clinic", 0).size(), 2u);
  clock_.Advance(absl::Microseconds(1));
  EXPECT_THAT(store_->Get("clinic", idle), StatusIs(absl::StatusCode::kNotFound));
  // The turn refreshed the other: its TTL counts from the turn.
  EXPECT_THAT(store_->Get("clinic", id), IsOk());
  EXPECT_EQ(ListAll("clinic", 0), std::vector<std::string>{id});
  clock_.Advance(kTtl - absl::Minutes(10) - absl::Microseconds(1));
  EXPECT_THAT(store_->Get("clinic", id), IsOk());
  ASSERT_THAT(store_->AppendTurn("clinic", id, MakeTurn("q2")), IsOk());
  clock_.Advance(kTtl);
  auto got = store_->Get("clinic", id);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(Numbers(*got), OneTo(2));
  clock_.Advance(absl::Microseconds(1));
  EXPECT_THAT(store_->Get("clinic", id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->AppendTurn("clinic", id, MakeTurn("q3")),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(ListAll("clinic", 0).empty());
}

TEST_P(SessionStoreTest, ListPagesByActivityWithoutDuplicatesOrGaps) {
  // 45 sessions, three per clock tick so that ties are ordered by id.
  std::vector<std::pair<absl::Time, std::string>> made;
  for (int i = 0; i < 45; ++i) {
    if (i % 3 == 0) clock_.Advance(absl::Seconds(1));
    made.emplace_back(clock_.Now(), NewSession());
  }
  // A turn makes an old session the most recently active.
  clock_.Advance(absl::Seconds(1));
  ASSERT_THAT(store_->AppendTurn("clinic", made[4].second, MakeTurn("again")), IsOk());
  made[4].first = clock_.Now();
  NewSession("other");
  std::sort(made.begin(), made.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<std::string> expected;
  expected.reserve(made.size());
  for (const auto& [at, id] : made) expected.push_back(id);
  ASSERT_EQ(expected.front(), made.front().second);

  std::vector<size_t> sizes;
  EXPECT_THAT(ListAll("clinic", 20, &sizes), ElementsAreArray(expected));
  EXPECT_THAT(sizes, ElementsAreArray({20u, 20u, 5u}));
  // Page size 0 means 20.
  auto first = store_->List("clinic", 0, "");
  ASSERT_THAT(first, IsOk());
  ASSERT_EQ(first->sessions.size(), 20u);
  EXPECT_FALSE(first->next_page_token.empty());
  // Sessions come with their turns.
  ASSERT_EQ(first->sessions[0].id, made[0].second);
  ASSERT_EQ(first->sessions[0].turns.size(), 1u);
  EXPECT_EQ(first->sessions[0].turns[0].question, "again");
  // Keyset paging: sessions created or ended between pages neither repeat
  // nor hide the ones not yet listed.
  clock_.Advance(absl::Seconds(1));
  NewSession();
  ASSERT_THAT(store_->End("clinic", first->sessions[19].id), IsOk());
  std::vector<std::string> rest;
  std::string token = first->next_page_token;
  while (!token.empty()) {
    auto page = store_->List("clinic", 0, token);
    ASSERT_THAT(page, IsOk());
    for (const SessionRecord& s : page->sessions) rest.push_back(s.id);
    token = page->next_page_token;
  }
  EXPECT_THAT(rest, ElementsAreArray(expected.begin() + 20, expected.end()));
}

TEST_P(SessionStoreTest, ListRefusesBadPageSizesAndTokens) {
  for (int i = 0; i < 3; ++i) NewSession();
  EXPECT_THAT(store_->List("clinic", 101, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  EXPECT_THAT(store_->List("clinic", -1, ""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->List("clinic", 100, ""), IsOk());
  auto page = store_->List("clinic", 1, "");
  ASSERT_THAT(page, IsOk());
  ASSERT_FALSE(page->next_page_token.empty());
  EXPECT_THAT(store_->List("clinic", 1, page->next_page_token), IsOk());
  for (const std::string& bad :
       {std::string("x"), std::string("20"), page->next_page_token + "x",
        page->next_page_token.substr(1), absl::WebSafeBase64Escape("v1.12.abc"),
        absl::WebSafeBase64Escape("v2.12." + std::string(32, 'a')),
        absl::WebSafeBase64Escape("v1.x." + std::string(32, 'a'))}) {
    EXPECT_THAT(store_->List("clinic", 1, bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")))
        << bad;
  }
}

TEST_P(SessionStoreTest, ListShowsThePracticesSessionsNotExpiredEndedOnesIncluded) {
  const std::string stale = NewSession();
  clock_.Advance(kTtl / 2);
  const std::string live = NewSession();
  clock_.Advance(absl::Seconds(1));
  const std::string ended = NewSession();
  NewSession("other");
  ASSERT_THAT(store_->End("clinic", ended), IsOk());
  clock_.Advance(kTtl / 2 + absl::Microseconds(1));
  EXPECT_EQ(ListAll("clinic", 0), (std::vector<std::string>{ended, live}));
  auto listed = store_->List("clinic", 0, "");
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->sessions.size(), 2u);
  EXPECT_TRUE(listed->sessions[0].ended);
  EXPECT_FALSE(listed->sessions[1].ended);
  EXPECT_EQ(ListAll("other", 0).size(), 1u);
  EXPECT_TRUE(ListAll("nobody", 0).empty());
  auto empty = store_->List("nobody", 0, "");
  ASSERT_THAT(empty, IsOk());
  EXPECT_TRUE(empty->next_page_token.empty());
}

TEST_P(SessionStoreTest, AnEndedSessionIsReadableUntilPurgedAndEndingItAgainIsOk) {
  const std::string id = NewSession();
  TurnRecord turn = MakeTurn("revenue last month");
  turn.cost_micros = 1200;
  ASSERT_THAT(store_->AppendTurn("clinic", id, turn), IsOk());
  ASSERT_THAT(store_->End("clinic", id), IsOk());
  EXPECT_THAT(store_->End("clinic", id), IsOk()) << "safe to retry";
  auto got = store_->Get("clinic", id);
  ASSERT_THAT(got, IsOk());
  EXPECT_TRUE(got->ended);
  ASSERT_EQ(got->turns.size(), 1u);
  EXPECT_EQ(got->turns[0].question, "revenue last month");
  EXPECT_EQ(got->turns[0].cost_micros, 1200);
  EXPECT_THAT(store_->End("other", id), StatusIs(absl::StatusCode::kNotFound));
  // Purged a TTL after its last turn, like any session.
  clock_.Advance(kTtl + absl::Microseconds(1));
  EXPECT_THAT(store_->Purge(), IsOkAndHolds(1));
  EXPECT_THAT(store_->Get("clinic", id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->End("clinic", id), StatusIs(absl::StatusCode::kNotFound));
}

TEST_P(SessionStoreTest, DiscardRemovesOnlyTheSessionsOwnTurnlessSession) {
  const std::string empty = NewSession();
  const std::string used = NewSession();
  ASSERT_THAT(store_->AppendTurn("clinic", used, MakeTurn("q")), IsOk());
  EXPECT_THAT(store_->Discard("other", empty), IsOk());
  EXPECT_THAT(store_->Get("clinic", empty), IsOk()) << "another practice cannot discard it";
  EXPECT_THAT(store_->Discard("clinic", used), IsOk());
  EXPECT_THAT(store_->Get("clinic", used), IsOk()) << "a session with turns is kept";
  EXPECT_THAT(store_->Discard("clinic", empty), IsOk());
  EXPECT_THAT(store_->Get("clinic", empty), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ListAll("clinic", 0), std::vector<std::string>{used});
  EXPECT_THAT(store_->Discard("clinic", "0123456789abcdef0123456789abcdef"), IsOk());
}

TEST_P(SessionStoreTest, PurgeRemovesExpiredSessionsEndedOrNotOnly) {
  std::vector<std::string> expired = {NewSession(), NewSession("other")};
  ASSERT_THAT(store_->AppendTurn("clinic", expired[0], MakeTurn("old")), IsOk());
  ASSERT_THAT(store_->End("other", expired[1]), IsOk());
  clock_.Advance(kTtl / 2);
  std::vector<std::string> live = {NewSession(), NewSession(), NewSession("other")};
  std::vector<std::string> ended = {NewSession(), NewSession("other")};
  for (const std::string& id : live) {
    const std::string practice = id == live[2] ? "other" : "clinic";
    ASSERT_THAT(store_->AppendTurn(practice, id, MakeTurn("q")), IsOk());
  }
  ASSERT_THAT(store_->AppendTurn("clinic", ended[0], MakeTurn("q")), IsOk());
  ASSERT_THAT(store_->End("clinic", ended[0]), IsOk());
  ASSERT_THAT(store_->End("other", ended[1]), IsOk());
  clock_.Advance(kTtl / 2 + absl::Microseconds(1));

  // The two expired ones (one of them ended); the recently ended stay
  // readable until their TTL passes.
  EXPECT_THAT(store_->Purge(), IsOkAndHolds(2));
  EXPECT_THAT(store_->Purge(), IsOkAndHolds(0));
  for (const std::string& id : live) {
    const std::string practice = id == live[2] ? "other" : "clinic";
    auto s = store_->Get(practice, id);
    ASSERT_THAT(s, IsOk());
    EXPECT_EQ(Numbers(*s), OneTo(1));
  }
  EXPECT_THAT(store_->Get("clinic", expired[0]), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->Get("other", expired[1]), StatusIs(absl::StatusCode::kNotFound));
  auto still = store_->Get("clinic", ended[0]);
  ASSERT_THAT(still, IsOk());
  EXPECT_TRUE(still->ended);
  // The live sessions keep numbering where they were.
  ASSERT_THAT(store_->AppendTurn("clinic", live[0], MakeTurn("q2")), IsOk());
  EXPECT_EQ(Numbers(*store_->Get("clinic", live[0])), OneTo(2));
}

TEST_P(SessionStoreTest, ConcurrentTurnsAreNumberedWithoutGapsOrDuplicates) {
  const std::string id = NewSession();
  constexpr int kThreads = 8;
  constexpr int kTurnsEach = 10;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kTurnsEach; ++i) {
        EXPECT_THAT(store_->AppendTurn("clinic", id, MakeTurn(absl::StrCat(t, "-", i))), IsOk());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  auto got = store_->Get("clinic", id);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(Numbers(*got), OneTo(kThreads * kTurnsEach));
  std::set<std::string> questions;
  for (const TurnRecord& t : got->turns) questions.insert(t.question);
  EXPECT_EQ(questions.size(), static_cast<size_t>(kThreads * kTurnsEach));
}

TEST_P(DurableSessionStoreTest, SurvivesReopening) {
  const std::string id = NewSession();
  const std::string ended = NewSession();
  TurnRecord t = MakeTurn("revenue last month");
  t.answer = "$12,000";
  t.cost_micros = 42;
  ASSERT_THAT(store_->AppendTurn("clinic", id, t), IsOk());
  ASSERT_THAT(store_->AppendTurn("clinic", id, MakeTurn("and by vet?")), IsOk());
  ASSERT_THAT(store_->End("clinic", ended), IsOk());
  store_.reset();
  store_ = OpenStore();
  ASSERT_NE(store_, nullptr);
  auto got = store_->Get("clinic", id);
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(Numbers(*got), OneTo(2));
  EXPECT_EQ(got->turns[0].answer, "$12,000");
  EXPECT_EQ(got->turns[0].cost_micros, 42);
  EXPECT_EQ(got->turns[1].question, "and by vet?");
  auto ended_got = store_->Get("clinic", ended);
  ASSERT_THAT(ended_got, IsOk());
  EXPECT_TRUE(ended_got->ended) << "the ended state survives reopening";
  ASSERT_THAT(store_->AppendTurn("clinic", id, MakeTurn("third")), IsOk());
  EXPECT_EQ(Numbers(*store_->Get("clinic", id)), OneTo(3));
}

TEST_P(SessionStoreTest, AClaimHoldsOffOtherHoldersUntilReleasedOrLapsed) {
  const std::string id = NewSession();
  EXPECT_THAT(store_->TryClaim("clinic", id, "question-a", absl::Minutes(10)), IsOkAndHolds(true));
  EXPECT_THAT(store_->TryClaim("clinic", id, "question-a", absl::Minutes(10)), IsOkAndHolds(true))
      << "the holder may claim again";
  EXPECT_THAT(store_->TryClaim("clinic", id, "question-b", absl::Minutes(10)), IsOkAndHolds(false));
  // Releasing someone else's claim changes nothing.
  ASSERT_THAT(store_->ReleaseClaim(id, "question-b"), IsOk());
  EXPECT_THAT(store_->TryClaim("clinic", id, "question-b", absl::Minutes(10)), IsOkAndHolds(false));
  ASSERT_THAT(store_->ReleaseClaim(id, "question-a"), IsOk());
  EXPECT_THAT(store_->TryClaim("clinic", id, "question-b", absl::Minutes(1)), IsOkAndHolds(true));
  // A claim whose holder never released it (a crashed server) lapses.
  clock_.Advance(absl::Seconds(59));
  EXPECT_THAT(store_->TryClaim("clinic", id, "question-c", absl::Minutes(1)), IsOkAndHolds(false));
  clock_.Advance(absl::Seconds(2));
  EXPECT_THAT(store_->TryClaim("clinic", id, "question-c", absl::Minutes(1)), IsOkAndHolds(true));
  // Claims are per session.
  const std::string other = NewSession();
  EXPECT_THAT(store_->TryClaim("clinic", other, "question-d", absl::Minutes(1)),
              IsOkAndHolds(true));
}

TEST_P(SessionStoreTest, ClaimingAnUnknownForeignOrEndedSessionIsNotFound) {
  const std::string id = NewSession();
  EXPECT_THAT(store_->TryClaim("other-clinic", id, "q", absl::Minutes(1)),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->TryClaim("clinic", "0123456789abcdef0123456789abcdef", "q", absl::Minutes(1)),
              StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(store_->End("clinic", id), IsOk());
  EXPECT_THAT(store_->TryClaim("clinic", id, "q", absl::Minutes(1)),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->ReleaseClaim("0123456789abcdef0123456789abcdef", "q"), IsOk());
}

TEST_P(DurableSessionStoreTest, OnlyOneReplicaAtATimeHoldsASession) {
  std::unique_ptr<SessionStore> replica = OpenStore();
  ASSERT_NE(replica, nullptr);
  const std::string id = NewSession();
  // 8 claimants on two replicas race; exactly one wins each round.
  for (int round = 0; round < 5; ++round) {
    std::atomic<int> winners{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      SessionStore* store = t % 2 == 0 ? store_.get() : replica.get();
      threads.emplace_back([&, store, t] {
        auto claimed =
            store->TryClaim("clinic", id, absl::StrCat("r", round, "-", t), absl::Minutes(5));
        EXPECT_THAT(claimed, IsOk());
        if (claimed.ok() && *claimed) ++winners;
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(winners.load(), 1) << "round " << round;
    clock_.Advance(absl::Minutes(6));  // the claim lapses
    ASSERT_THAT(store_->AppendTurn("clinic", id, MakeTurn("keep it live")), IsOk());
  }
}

TEST_P(DurableSessionStoreTest, ReplicasShareSessionsAndNumberTurnsTogether) {
  std::unique_ptr<SessionStore> replica = OpenStore();
  ASSERT_NE(replica, nullptr);
  const std::string id = NewSession();
  ASSERT_THAT(replica->Get("clinic", id), IsOk());
  auto theirs = replica->Create("clinic");
  ASSERT_THAT(theirs, IsOk());
  EXPECT_EQ(ListAll("clinic", 0).size(), 2u);

  constexpr int kThreadsEach = 4;
  constexpr int kTurnsEach = 10;
  std::vector<std::thread> threads;
  for (SessionStore* store : {store_.get(), replica.get()}) {
    for (int t = 0; t < kThreadsEach; ++t) {
      threads.emplace_back([&, store] {
        for (int i = 0; i < kTurnsEach; ++i) {
          EXPECT_THAT(store->AppendTurn("clinic", id, MakeTurn("q")), IsOk());
        }
      });
    }
  }
  for (std::thread& thread : threads) thread.join();
  for (SessionStore* store : {store_.get(), replica.get()}) {
    auto got = store->Get("clinic", id);
    ASSERT_THAT(got, IsOk());
    EXPECT_EQ(Numbers(*got), OneTo(2 * kThreadsEach * kTurnsEach));
  }
  ASSERT_THAT(replica->End("clinic", id), IsOk());
  auto ended = store_->Get("clinic", id);
  ASSERT_THAT(ended, IsOk());
  EXPECT_TRUE(ended->ended) << "one replica sees the other's End";
  EXPECT_THAT(store_->AppendTurn("clinic", id, MakeTurn("q")),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->End("clinic", id), IsOk());
  EXPECT_THAT(replica->Get("clinic", theirs->id), IsOk());
}

TEST_P(DurableSessionStoreTest, RefusesANewerSchemaVersion) {
  store_.reset();
  ASSERT_THAT(backend_->SetSchemaVersion(99), IsOk());
  SessionOptions options;
  EXPECT_THAT(backend_->Open(clock_, options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("version 99")));
}

TEST_P(DurableSessionStoreTest, RefusesANonPositiveTtl) {
  SessionOptions options;
  options.ttl = absl::ZeroDuration();
  EXPECT_THAT(backend_->Open(clock_, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("TTL")));
}

INSTANTIATE_TEST_SUITE_P(AllStores, SessionStoreTest, ::testing::ValuesIn(Stores(false)),
                         vet::testing::StoreName<Backend>);
INSTANTIATE_TEST_SUITE_P(DurableStores, DurableSessionStoreTest,
                         ::testing::ValuesIn(Stores(/*durable_only=*/true)),
                         vet::testing::StoreName<Backend>);

}  // namespace
}  // namespace vet::session
