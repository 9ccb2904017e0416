// AuditRecorder: what an entry keeps (hash or text), batching, the bounded
// queue and its drop counter, write failures, the refusal limit and
// retention. The store is a FakeAuditStore that can hold or fail writes;
// time is a FakeClock; waits are on conditions (Flush), never sleeps.
#include "core/audit/audit_recorder.h"

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/audit/testing/fake_audit_store.h"
#include "core/common/testing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::audit {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

constexpr absl::Duration kWait = absl::Seconds(30);

class CountingMetrics final : public AuditMetrics {
 public:
  void Written(int64_t n) override {
    absl::MutexLock lock(&mu_);
    written_ += n;
  }
  void Dropped(absl::string_view reason, int64_t n) override {
    absl::MutexLock lock(&mu_);
    dropped_[std::string(reason)] += n;
  }
  int64_t written() {
    absl::MutexLock lock(&mu_);
    return written_;
  }
  std::map<std::string, int64_t> dropped() {
    absl::MutexLock lock(&mu_);
    return dropped_;
  }

 private:
  absl::Mutex mu_;
  int64_t written_ = 0;
  std::map<std::string, int64_t> dropped_;
};

CallRecord Authorized(const std::string& practice = "clinic") {
  CallRecord call;
  call.entry.practice_id = practice;
  call.key_sha256 = Sha256("the-clinic-key");
  call.entry.rpc = "Ask";
  call.entry.at = absl::FromUnixSeconds(1790000000);
  call.entry.duration = absl::Milliseconds(25);
  return call;
}

CallRecord Refused(const std::string& practice = "clinic") {
  CallRecord call = Authorized(practice);
  call.key_sha256.reset();
  call.entry.status = absl::StatusCode::kPermissionDenied;
  return call;
}

class AuditRecorderTest : public ::testing::Test {
 protected:
  std::unique_ptr<AuditRecorder> Make(AuditRecorder::Options options = {}) {
    auto recorder = AuditRecorder::Create(options, store_, clock_, &metrics_);
    EXPECT_THAT(recorder, IsOk());
    return recorder.ok() ? std::move(recorder).value() : nullptr;
  }

  std::vector<AuditEntry> Trail(const std::string& practice = "clinic") {
    auto page = store_.List(practice, absl::InfinitePast(), 1000, "");
    EXPECT_THAT(page, IsOk());
    return page.ok() ? page->entries : std::vector<AuditEntry>{};
  }

  FakeClock clock_;
  FakeAuditStore store_;
  CountingMetrics metrics_;
};

TEST_F(AuditRecorderTest, HashModeKeepsTheQuestionsHashAndKeyIdButNotItsText) {
  auto recorder = Make();
  CallRecord call = Authorized();
  call.entry.session_id = "s1";
  call.entry.question_id = "q1";
  call.entry.generator = "model";
  call.entry.model = "gpt-5.2-mini";
  call.entry.prompt_tokens = 100;
  call.entry.completion_tokens = 20;
  call.entry.cost_micros = 345;
  call.entry.status = absl::StatusCode::kDeadlineExceeded;
  call.question = "How many dentals did we do last month?";
  recorder->Record(call);
  ASSERT_TRUE(recorder->Flush(kWait));

  std::vector<AuditEntry> trail = Trail();
  ASSERT_EQ(trail.size(), 1u);
  const AuditEntry& e = trail[0];
  EXPECT_EQ(e.id.size(), 16u);
  EXPECT_EQ(e.at, call.entry.at);
  EXPECT_EQ(e.duration, absl::Milliseconds(25));
  EXPECT_EQ(e.practice_id, "clinic");
  EXPECT_EQ(e.key_id, Sha256Hex(Sha256("the-clinic-key")).substr(0, 12));
  EXPECT_EQ(e.rpc, "Ask");
  EXPECT_EQ(e.session_id, "s1");
  EXPECT_EQ(e.question_id, "q1");
  EXPECT_EQ(e.generator, "model");
  EXPECT_EQ(e.model, "gpt-5.2-mini");
  EXPECT_EQ(e.prompt_tokens, 100);
  EXPECT_EQ(e.completion_tokens, 20);
  EXPECT_EQ(e.cost_micros, 345);
  EXPECT_EQ(e.status, absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(e.question, "");
  EXPECT_EQ(e.question_sha256, Sha256Hex(Sha256(call.question)));
  EXPECT_EQ(metrics_.written(), 1);
}

TEST_F(AuditRecorderTest, TextModeKeepsTheQuestionsTextToo) {
  AuditRecorder::Options options;
  options.questions = QuestionMode::kText;
  auto recorder = Make(options);
  CallRecord call = Authorized();
  call.question = "Revenue by vet?";
  recorder->Record(call);
  ASSERT_TRUE(recorder->Flush(kWait));
  std::vector<AuditEntry> trail = Trail();
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].question, "Revenue by vet?");
  EXPECT_EQ(trail[0].question_sha256, Sha256Hex(Sha256("Revenue by vet?")));
}

TEST_F(AuditRecorderTest, ARefusalKeepsNothingTheCallerChose) {
  AuditRecorder::Options options;
  options.questions = QuestionMode::kText;
  auto recorder = Make(options);
  CallRecord call = Refused();
  call.entry.session_id = "attacker-chosen";
  call.question = "attacker-chosen text";
  recorder->Record(call);
  ASSERT_TRUE(recorder->Flush(kWait));
  std::vector<AuditEntry> trail = Trail();
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].key_id, "");
  EXPECT_EQ(trail[0].status, absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(trail[0].session_id, "");
  EXPECT_EQ(trail[0].question, "");
  EXPECT_EQ(trail[0].question_sha256, "");
}

TEST_F(AuditRecorderTest, CapsClientSuppliedText) {
  AuditRecorder::Options options;
  options.questions = QuestionMode::kText;
  auto recorder = Make(options);
  CallRecord call = Authorized();
  call.entry.session_id = std::string(1000, 's');
  call.question = std::string(100000, 'q');
  recorder->Record(call);
  ASSERT_TRUE(recorder->Flush(kWait));
  std::vector<AuditEntry> trail = Trail();
  ASSERT_EQ(trail.size(), 1u);
  EXPECT_EQ(trail[0].session_id.size(), 64u);
  EXPECT_EQ(trail[0].question.size(), 8192u);
  // The hash is of the whole question.
  EXPECT_EQ(trail[0].question_sha256, Sha256Hex(Sha256(call.question)));
}

TEST_F(AuditRecorderTest, BatchesWhatPilesUpWhileAWriteIsInFlight) {
  AuditRecorder::Options options;
  options.max_batch = 4;
  auto recorder = Make(options);
  store_.Hold();
  recorder->Record(Authorized());
  store_.AwaitAppendsStarted(1);
  for (int i = 0; i < 10; ++i) recorder->Record(Authorized());
  store_.Release();
  ASSERT_TRUE(recorder->Flush(kWait));
  EXPECT_THAT(store_.batch_sizes(), ElementsAre(1, 4, 4, 2));
  EXPECT_EQ(Trail().size(), 11u);
  EXPECT_EQ(recorder->stats().batches, 4);
}

TEST_F(AuditRecorderTest, RecordNeverWaitsForAStuckStoreAndCountsWhatTheFullQueueDrops) {
  AuditRecorder::Options options;
  options.max_queued = 5;
  auto recorder = Make(options);
  store_.Hold();
  recorder->Record(Authorized());
  store_.AwaitAppendsStarted(1);
  // The store is stuck; Record returns at once, and past 5 waiting it drops.
  for (int i = 0; i < 8; ++i) recorder->Record(Authorized());
  EXPECT_EQ(recorder->stats().dropped_queue_full, 3);
  EXPECT_EQ(metrics_.dropped()["queue_full"], 3);
  EXPECT_FALSE(recorder->Flush(absl::ZeroDuration()));
  store_.Release();
  ASSERT_TRUE(recorder->Flush(kWait));
  EXPECT_EQ(Trail().size(), 6u);
  EXPECT_EQ(metrics_.written(), 6);
}

TEST_F(AuditRecorderTest, AFailedWriteIsCountedAndLoggedAtMostOncePerInterval) {
  auto recorder = Make();
  store_.FailWith(absl::UnavailableError("sqlite audit store: database is locked"));
  recorder->Record(Authorized());
  ASSERT_TRUE(recorder->Flush(kWait));
  recorder->Record(Authorized());
  recorder->Record(Authorized());
  ASSERT_TRUE(recorder->Flush(kWait));
  EXPECT_EQ(recorder->stats().dropped_write_failed, 3);
  EXPECT_EQ(metrics_.dropped()["write_failed"], 3);
  EXPECT_EQ(recorder->stats().failures_logged, 1);
  clock_.Advance(absl::Minutes(1));
  recorder->Record(Authorized());
  ASSERT_TRUE(recorder->Flush(kWait));
  EXPECT_EQ(recorder->stats().failures_logged, 2);
  // Writes that work again are written.
  store_.FailWith(absl::OkStatus());
  recorder->Record(Authorized());
  ASSERT_TRUE(recorder->Flush(kWait));
  EXPECT_EQ(Trail().size(), 1u);
}

TEST_F(AuditRecorderTest, RefusalsPastTheLimitAreCountedInTheNextOneRecorded) {
  AuditRecorder::Options options;
  options.refusals_per_minute = 2;
  options.refusal_burst = 3;
  auto recorder = Make(options);
  for (int i = 0; i < 10; ++i) recorder->Record(Refused());
  // Another practice has a bucket of its own; authorized calls have none.
  recorder->Record(Refused("other"));
  for (int i = 0; i < 5; ++i) recorder->Record(Authorized());
  ASSERT_TRUE(recorder->Flush(kWait));
  EXPECT_EQ(Trail().size(), 3u + 5u);
  EXPECT_EQ(Trail("other").size(), 1u);
  EXPECT_EQ(recorder->stats().dropped_refusal_limit, 7);
  EXPECT_EQ(metrics_.dropped()["refusal_limit"], 7);

  clock_.Advance(absl::Seconds(30));  // one token back
  recorder->Record(Refused());
  recorder->Record(Refused());
  ASSERT_TRUE(recorder->Flush(kWait));
  std::vector<AuditEntry> trail = Trail();
  ASSERT_EQ(trail.size(), 9u);
  int64_t suppressed = 0;
  for (const AuditEntry& e : trail) suppressed += e.suppressed_refusals;
  EXPECT_EQ(suppressed, 7);
  EXPECT_EQ(recorder->stats().dropped_refusal_limit, 8);
}

TEST_F(AuditRecorderTest, PurgeExpiredKeepsWhatIsWithinTheRetention) {
  AuditRecorder::Options options;
  options.retention = absl::Hours(24 * 400);
  auto recorder = Make(options);
  CallRecord old_call = Authorized();
  old_call.entry.at = clock_.Now() - absl::Hours(24 * 400) - absl::Seconds(1);
  CallRecord edge = Authorized();
  edge.entry.at = clock_.Now() - absl::Hours(24 * 400);
  recorder->Record(old_call);
  recorder->Record(edge);
  recorder->Record(Authorized());
  ASSERT_TRUE(recorder->Flush(kWait));
  EXPECT_THAT(recorder->PurgeExpired(), ::vet::testing::IsOkAndHolds(1));
  EXPECT_EQ(Trail().size(), 2u);
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(recorder->PurgeExpired(), ::vet::testing::IsOkAndHolds(1));
  EXPECT_EQ(Trail().size(), 1u);
}

TEST_F(AuditRecorderTest, ZeroRetentionKeepsEverythingForever) {
  AuditRecorder::Options options;
  options.retention = absl::ZeroDuration();
  auto recorder = Make(options);
  CallRecord ancient = Authorized();
  ancient.entry.at = clock_.Now() - absl::Hours(24 * 365 * 20);
  recorder->Record(ancient);
  ASSERT_TRUE(recorder->Flush(kWait));
  clock_.Advance(absl::Hours(24 * 365 * 20));
  EXPECT_THAT(recorder->PurgeExpired(), ::vet::testing::IsOkAndHolds(0));
  EXPECT_EQ(Trail().size(), 1u);
}

TEST_F(AuditRecorderTest, ManyThreadsRecordingLoseNothing) {
  auto recorder = Make();
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) recorder->Record(Authorized());
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(recorder->Flush(kWait));
  EXPECT_EQ(Trail().size(), 1000u);  // the Trail page's limit
  EXPECT_EQ(recorder->stats().written, 1600);
}

TEST_F(AuditRecorderTest, DestroyingTheRecorderWritesWhatIsQueued) {
  auto recorder = Make();
  store_.Hold();
  recorder->Record(Authorized());
  store_.AwaitAppendsStarted(1);
  for (int i = 0; i < 4; ++i) recorder->Record(Authorized());
  std::thread release([&] { store_.Release(); });
  recorder.reset();
  release.join();
  EXPECT_EQ(Trail().size(), 5u);
}

TEST(AuditOptionsTest, ParsesQuestionModesAndRefusesOthers) {
  EXPECT_THAT(ParseQuestionMode("hash"), ::vet::testing::IsOkAndHolds(QuestionMode::kHash));
  EXPECT_THAT(ParseQuestionMode("text"), ::vet::testing::IsOkAndHolds(QuestionMode::kText));
  EXPECT_THAT(ParseQuestionMode("plain"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--audit_questions")));
  FakeAuditStore store;
  FakeClock clock;
  AuditRecorder::Options options;
  options.retention = -absl::Hours(1);
  EXPECT_THAT(AuditRecorder::Create(options, store, clock).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--audit_retention_days")));
  options = {};
  options.max_queued = 0;
  EXPECT_THAT(AuditRecorder::Create(options, store, clock).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(AuditOptionsTest, KeyIdIsTheStartOfTheKeysSha256) {
  const Sha256Digest digest = Sha256("k");
  EXPECT_EQ(KeyId(digest), Sha256Hex(digest).substr(0, 12));
}

}  // namespace
}  // namespace vet::audit
