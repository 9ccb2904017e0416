#include "core/pipeline/pipeline.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "core/budget/in_memory_budget_guard.h"
#include "core/codegen/testing/fake_code_generator.h"
#include "core/common/error_details.h"
#include "core/common/testing/fake_clock.h"
#include "core/data/practice_data.h"
#include "core/data/testing/fake_dataset_catalog.h"
#include "core/pipeline/artifact_chunks.h"
#include "core/sandbox/testing/fake_executor.h"
#include "core/session/in_memory_session_store.h"
#include "core/session/session_store.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/wait.h"

namespace vet::pipeline {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::IsOkAndHolds;
using ::vet::testing::StatusIs;
using ::vet::testing::WaitUntil;

class RecordingSink final : public EventSink {
 public:
  void Emit(const AskEvent& event) override {
    absl::MutexLock lock(&mu_);
    events_.push_back(event);
  }
  std::vector<AskEvent> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  // The payload kinds in order, by variant index.
  std::vector<size_t> kinds() {
    std::vector<size_t> out;
    for (const AskEvent& e : events()) out.push_back(e.payload.index());
    return out;
  }
  template <typename T>
  std::vector<T> OfType() {
    std::vector<T> out;
    for (const AskEvent& e : events()) {
      if (const T* t = absl::get_if<T>(&e.payload)) out.push_back(*t);
    }
    return out;
  }

 private:
  absl::Mutex mu_;
  std::vector<AskEvent> events_;
};

constexpr size_t kSession = 0, kBudget = 1, kCode = 2, kOutput = 3, kArtifact = 4, kRetry = 5,
                 kFinal = 6;

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest()
      : budget_({}, clock_),
        sessions_(clock_),
        pipeline_({}, {&sessions_, &budget_, &generator_, &executor_, &catalog_, &clock_}) {
    practice_.id = "clinic";
    practice_.api_key = "clinic-key";
    // A real folder: the pipeline resolves it once per question.
    practice_.data_dir = ::testing::TempDir();
    practice_.budget_limit_micros = 1'000'000;
  }

  absl::Status Ask(const std::string& question, const std::string& session_id = "",
                   const std::string& as_of = "2026-10-26") {
    return pipeline_.Ask(practice_, {question, session_id, as_of}, sink_, cancel_);
  }

  FakeClock clock_;
  budget::InMemoryBudgetGuard budget_;
  session::InMemorySessionStore sessions_;
  codegen::FakeCodeGenerator generator_;
  sandbox::FakeExecutor executor_;
  data::FakeDatasetCatalog catalog_;
  Pipeline pipeline_;
  Practice practice_;
  RecordingSink sink_;
  CancellationToken cancel_;
};

TEST_F(PipelineTest, StreamsStagesInOrderWithConsecutiveSeq) {
  generator_.Push(codegen::FakeCodeGenerator::Code("result = 42"));
  sandbox::ExecutionResult result = sandbox::FakeExecutor::Number(42, "The answer is 42.");
  result.charts.push_back({"chart_1.png", "image/png", "\x89PNG"});
  executor_.Push({{{sandbox::OutputStream::kStdout, "working\n"},
                   {sandbox::OutputStream::kStderr, "warning\n"}},
                  result});

  ASSERT_THAT(Ask("What was our revenue last month?"), IsOk());

  EXPECT_THAT(sink_.kinds(),
              ElementsAre(kSession, kBudget, kCode, kOutput, kOutput, kArtifact, kFinal));
  std::vector<AskEvent> events = sink_.events();
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].seq, static_cast<int64_t>(i + 1));
  auto started = sink_.OfType<SessionStartedEvent>().at(0);
  EXPECT_FALSE(started.resumed);
  EXPECT_EQ(started.turn, 1);
  EXPECT_EQ(started.as_of_date, "2026-10-26");
  EXPECT_EQ(started.question_id.size(), 32u);
  auto check = sink_.OfType<BudgetCheckEvent>().at(0);
  EXPECT_TRUE(check.allowed);
  EXPECT_EQ(check.limit_micros, 1'000'000);
  auto final_answer = sink_.OfType<FinalAnswerEvent>().at(0);
  EXPECT_EQ(final_answer.text, "The answer is 42.");
  EXPECT_EQ(final_answer.result.number, 42);
  EXPECT_EQ(final_answer.code, "result = 42");
  EXPECT_EQ(final_answer.attempts, 1);
  ASSERT_EQ(executor_.requests().size(), 1u);
  EXPECT_EQ(executor_.requests()[0].data_dir, *data::ResolveDataDir(::testing::TempDir()));
  EXPECT_EQ(generator_.requests()[0].as_of, absl::CivilDay(2026, 10, 26));
}

TEST_F(PipelineTest, RejectsBadRequestsBeforeAnyWork) {
  EXPECT_THAT(Ask("   "), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(Ask(std::string(2001, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 2000")));
  EXPECT_THAT(Ask("revenue", "", "2026-13-01"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("YYYY-MM-DD")));
  EXPECT_THAT(Ask("revenue", "", "26-10-2026"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'26-10-2026'")));
  EXPECT_THAT(Ask("revenue", "", "2026-02-30"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(sink_.events().empty());
  EXPECT_TRUE(executor_.requests().empty());
}

TEST_F(PipelineTest, EmptyAsOfMeansTodayInThePracticeTimeZone) {
  ASSERT_TRUE(absl::LoadTimeZone("Pacific/Auckland", &practice_.time_zone));
  // 2026-10-26 20:00 UTC is already the 27th in Auckland.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 10, 26, 20, 0, 0), absl::UTCTimeZone()));
  generator_.Push(codegen::FakeCodeGenerator::Code("result = 1"));
  executor_.Push({{}, sandbox::FakeExecutor::Number(1)});
  ASSERT_THAT(Ask("revenue", "", ""), IsOk());
  EXPECT_EQ(sink_.OfType<SessionStartedEvent>().at(0).as_of_date, "2026-10-27");
}

TEST_F(PipelineTest, UnknownSessionIsNotFound) {
  EXPECT_THAT(Ask("revenue", "0123456789abcdef0123456789abcdef"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no active session")));
  EXPECT_TRUE(sink_.events().empty());
}

TEST_F(PipelineTest, FollowUpResumesSessionAndSeesEarlierTurns) {
  generator_.Push(codegen::FakeCodeGenerator::Code("result = 1"));
  executor_.Push({{}, sandbox::FakeExecutor::Number(1)});
  ASSERT_THAT(Ask("revenue last month"), IsOk());
  std::string session_id = sink_.OfType<SessionStartedEvent>().at(0).session_id;

  RecordingSink second;
  generator_.Push(codegen::FakeCodeGenerator::Code("result = 2"));
  executor_.Push({{}, sandbox::FakeExecutor::Number(2)});
  ASSERT_THAT(pipeline_.Ask(practice_, {"and by vet?", session_id, "2026-10-26"}, second, cancel_),
              IsOk());
  auto started = second.OfType<SessionStartedEvent>().at(0);
  EXPECT_TRUE(started.resumed);
  EXPECT_EQ(started.session_id, session_id);
  EXPECT_EQ(started.turn, 2);
  ASSERT_EQ(generator_.requests().size(), 2u);
  ASSERT_EQ(generator_.requests()[1].history.size(), 1u);
  EXPECT_EQ(generator_.requests()[1].history[0].question, "revenue last month");
  auto stored = sessions_.Get("clinic", session_id);
  ASSERT_THAT(stored, IsOk());
  ASSERT_EQ(stored->turns.size(), 2u);
  EXPECT_EQ(stored->turns[1].code, "result = 2");
}

TEST_F(PipelineTest, BudgetDenialStopsBeforeCodeGenerationAndExecution) {
  generator_.estimate = {"fake-model", 2'000'000};  // more than the 1 USD limit
  EXPECT_THAT(Ask("revenue"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("resets at")));
  EXPECT_THAT(sink_.kinds(), ElementsAre(kSession, kBudget));
  auto check = sink_.OfType<BudgetCheckEvent>().at(0);
  EXPECT_FALSE(check.allowed);
  EXPECT_THAT(check.message, HasSubstr("$0.00 of its $1.00"));
  EXPECT_TRUE(generator_.requests().empty());
  EXPECT_TRUE(executor_.requests().empty());
}

TEST_F(PipelineTest, ModelCostIsCommittedAndTheRestReleased) {
  generator_.estimate = {"fake-model", 500'000};
  generator_.Push(codegen::FakeCodeGenerator::Code("result = 1", /*cost_micros=*/1234));
  executor_.Push({{}, sandbox::FakeExecutor::Number(1)});
  ASSERT_THAT(Ask("revenue"), IsOk());
  auto state = budget_.GetState(practice_);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->spent_micros, 1234);
  EXPECT_EQ(state->reserved_micros, 0);
  EXPECT_EQ(sink_.OfType<FinalAnswerEvent>().at(0).total_cost_micros, 1234);
}

TEST_F(PipelineTest, RepairsWithTheErrorWhenTheGeneratorCan) {
  generator_.can_repair = true;
  generator_.estimate = {"fake-model", 1000};
  generator_.Push(codegen::FakeCodeGenerator::Code("result = df['x']"));
  generator_.Push(codegen::FakeCodeGenerator::Code("result = 3"));
  executor_.Push({{}, sandbox::FakeExecutor::Raised("KeyError", "'x'", 1)});
  executor_.Push({{}, sandbox::FakeExecutor::Number(3)});
  ASSERT_THAT(Ask("revenue"), IsOk());
  EXPECT_THAT(sink_.kinds(), ElementsAre(kSession, kBudget, kCode, kRetry, kCode, kFinal));
  auto retry = sink_.OfType<RetryEvent>().at(0);
  EXPECT_EQ(retry.attempt, 2);
  EXPECT_THAT(retry.reason, HasSubstr("KeyError at line 1"));
  // 'x' is not a name of the schema, so it may be data: scrubbed.
  EXPECT_EQ(generator_.requests()[1].failure, "KeyError at line 1: '...'");
  EXPECT_EQ(generator_.requests()[1].failed_code, "result = df['x']");
  EXPECT_EQ(sink_.OfType<FinalAnswerEvent>().at(0).attempts, 2);
}

TEST_F(PipelineTest, CodeThatRaisesWithoutRepairIsReportedAsTheAnswer) {
  generator_.Push(codegen::FakeCodeGenerator::Code("1/0"));
  executor_.Push({{}, sandbox::FakeExecutor::Raised("ZeroDivisionError", "division by zero", 1)});
  ASSERT_THAT(Ask("revenue"), IsOk());
  auto final_answer = sink_.OfType<FinalAnswerEvent>().at(0);
  EXPECT_THAT(final_answer.text, HasSubstr("ZeroDivisionError at line 1"));
  EXPECT_EQ(final_answer.result.kind, ResultValue::Kind::kNone);
}

// The first question of a new session refused before anything ran leaves
// no session behind; in a session that exists, the refusal is a turn.
TEST_F(PipelineTest, AGeneratorDeclineLeavesNoNewSessionButIsATurnOfAnOldOne) {
  generator_.Push(absl::InvalidArgumentError("could not understand 'weather'"));
  absl::Status declined = Ask("what is the weather");
  EXPECT_THAT(declined, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("weather")));
  EXPECT_EQ(GetErrorDetails(declined).reason, "NOT_UNDERSTOOD");
  std::string session_id = sink_.OfType<SessionStartedEvent>().at(0).session_id;
  EXPECT_THAT(sessions_.Get("clinic", session_id), StatusIs(absl::StatusCode::kNotFound));
  auto listed = sessions_.List("clinic", 0, "");
  ASSERT_THAT(listed, IsOk());
  EXPECT_TRUE(listed->sessions.empty());

  auto existing = sessions_.Create("clinic");
  ASSERT_THAT(existing, IsOk());
  generator_.Push(absl::InvalidArgumentError("could not understand 'weather'"));
  EXPECT_THAT(Ask("what is the weather", existing->id),
              StatusIs(absl::StatusCode::kInvalidArgument));
  auto stored = sessions_.Get("clinic", existing->id);
  ASSERT_THAT(stored, IsOk());
  ASSERT_EQ(stored->turns.size(), 1u);
  EXPECT_EQ(stored->turns[0].status, absl::StatusCode::kInvalidArgument);
}

// A deployment with no model (the planner alone) never reads the personal
// values: there is nothing to hide them from.
TEST_F(PipelineTest, PersonalValuesAreReadOnlyForAGeneratorThatSendsTextOut) {
  generator_.Push(codegen::FakeCodeGenerator::Code("result = 1", 0));
  executor_.Push({{}, sandbox::FakeExecutor::Number(1)});
  generator_.sends_text_out = false;
  (void)Ask("revenue");
  EXPECT_EQ(catalog_.personal_reads.load(), 0);
  generator_.sends_text_out = true;
  generator_.Push(codegen::FakeCodeGenerator::Code("result = 1", 0));
  executor_.Push({{}, sandbox::FakeExecutor::Number(1)});
  (void)Ask("revenue");
  EXPECT_EQ(catalog_.personal_reads.load(), 1);
}

TEST_F(PipelineTest, PracticeWithoutADataFolderIsNotFound) {
  practice_.data_dir = ::testing::TempDir() + "/never-imported";
  EXPECT_THAT(Ask("revenue"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("import its exports first")));
}

TEST_F(PipelineTest, MissingDataIsNotFoundNamingThePractice) {
  catalog_.error = absl::NotFoundError("practice has no data yet");
  EXPECT_THAT(Ask("revenue"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("practice 'clinic' data")));
}

TEST_F(PipelineTest, SandboxFailureKeepsItsCode) {
  generator_.estimate = {"fake-model", 10'000};
  generator_.Push(codegen::FakeCodeGenerator::Code("while True: pass", 100));
  executor_.Push({{}, absl::DeadlineExceededError("ran longer than 30s")});
  EXPECT_THAT(Ask("revenue"),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("sandbox: ran longer")));
  auto state = budget_.GetState(practice_);
  EXPECT_EQ(state->spent_micros, 100);  // the model was paid for all the same
  EXPECT_EQ(state->reserved_micros, 0);
}

TEST_F(PipelineTest, CancellationStopsTheExecutionAndReleasesTheReservation) {
  generator_.estimate = {"fake-model", 10'000};
  generator_.Push(codegen::FakeCodeGenerator::Code("slow()"));
  executor_.block_until_cancelled = true;
  executor_.Push({{}, sandbox::FakeExecutor::Number(0)});
  absl::Status status;
  std::thread asker([&] { status = Ask("revenue"); });
  executor_.started.WaitForNotification();
  cancel_.Cancel();
  asker.join();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(budget_.GetState(practice_)->reserved_micros, 0);
  EXPECT_TRUE(sink_.OfType<FinalAnswerEvent>().empty());
}

TEST(DefaultAnswerTextTest, FormatsNumbersByUnit) {
  ResultValue v;
  v.kind = ResultValue::Kind::kNumber;
  v.number = 1234567.891;
  v.unit = "USD";
  EXPECT_EQ(DefaultAnswerText(v), "$1,234,567.89");
  v.unit = "percent";
  v.number = 12.345;
  EXPECT_EQ(DefaultAnswerText(v), "12.3%");
  v.unit = "";
  v.number = -1234;
  EXPECT_EQ(DefaultAnswerText(v), "-1,234.00");
  v.kind = ResultValue::Kind::kTable;
  v.table.total_rows = 3;
  EXPECT_EQ(DefaultAnswerText(v), "A table of 3 rows.");
}

}  // namespace
}  // namespace vet::pipeline

namespace vet::pipeline {
namespace {

TEST(ValidateAskRequestTest, CountsTheQuestionInCharactersAndRefusesInvalidUtf8) {
  const PipelineOptions options;  // at most 2000 characters
  const absl::Time now = absl::FromUnixSeconds(1790000000);
  std::string accented;
  for (int i = 0; i < 1999; ++i) accented += "\xC3\xA9";  // 3,998 bytes
  EXPECT_THAT(ValidateAskRequest({accented, "", ""}, options, now, absl::UTCTimeZone()), IsOk());
  accented += "\xC3\xA9\xC3\xA9";
  EXPECT_THAT(ValidateAskRequest({accented, "", ""}, options, now, absl::UTCTimeZone()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("question is 2001 characters long; at most 2000")));
  EXPECT_THAT(ValidateAskRequest({"revenue \xFF\xFE", "", ""}, options, now, absl::UTCTimeZone()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("question is not valid UTF-8 (from byte 8)")));
}

TEST(ScrubFailureMessageTest, KeepsSchemaNamesAndHidesOtherQuotedValues) {
  EXPECT_EQ(ScrubFailureMessage("'revenue'"), "'...'");
  EXPECT_EQ(ScrubFailureMessage("'amount'"), "'amount'");
  EXPECT_EQ(ScrubFailureMessage("\"['first_name'] not in index\" for 'Bella'"),
            "\"...\" for '...'");
  EXPECT_EQ(ScrubFailureMessage("could not convert string to float: 'abc"),
            "could not convert string to float: '...");
  EXPECT_EQ(ScrubFailureMessage("division by zero"), "division by zero");
}

// An executor whose first run waits until the test opens the gate.
class GatedExecutor final : public sandbox::Executor {
 public:
  absl::Notification first_started;
  absl::Notification gate;
  absl::StatusOr<sandbox::ExecutionResult> Execute(const sandbox::ExecutionRequest&,
                                                   sandbox::OutputSink&,
                                                   CancellationToken&) override {
    if (runs_.fetch_add(1) == 0) {
      first_started.Notify();
      gate.WaitForNotification();
    }
    return sandbox::FakeExecutor::Number(1);
  }

 private:
  std::atomic<int> runs_{0};
};

// Asks "revenue" on `first` and, while its execution is held at the gate,
// "and by vet?" on `second` on the same session; checks that the second
// waits, then lets both finish and checks the second saw the first's turn.
void ExpectTheSecondQuestionWaits(Pipeline& first, Pipeline& second, GatedExecutor& executor,
                                  const Practice& practice, const std::string& session_id,
                                  codegen::FakeCodeGenerator& generator) {
  generator.Push(codegen::FakeCodeGenerator::Code("result = 1"));
  generator.Push(codegen::FakeCodeGenerator::Code("result = 1"));
  RecordingSink first_sink, second_sink;
  CancellationToken first_cancel, second_cancel;
  std::thread first_thread([&] {
    EXPECT_THAT(
        first.Ask(practice, {"revenue", session_id, "2026-10-26"}, first_sink, first_cancel),
        IsOk());
  });
  ASSERT_TRUE(executor.first_started.WaitForNotificationWithTimeout(absl::Seconds(10)));
  std::thread second_thread([&] {
    EXPECT_THAT(
        second.Ask(practice, {"and by vet?", session_id, "2026-10-26"}, second_sink, second_cancel),
        IsOk());
  });
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_TRUE(second_sink.events().empty()) << "the second question waits for the first";
  EXPECT_EQ(generator.requests().size(), 1u);
  executor.gate.Notify();
  first_thread.join();
  second_thread.join();
  EXPECT_EQ(second_sink.OfType<SessionStartedEvent>().at(0).turn, 2);
  ASSERT_EQ(generator.requests().size(), 2u);
  ASSERT_EQ(generator.requests()[1].history.size(), 1u) << "it sees the first turn";
  EXPECT_EQ(generator.requests()[1].history[0].question, "revenue");
}

TEST_F(PipelineTest, TwoQuestionsOnOneSessionRunOneAfterTheOther) {
  GatedExecutor executor;
  Pipeline pipeline({}, {&sessions_, &budget_, &generator_, &executor, &catalog_, &clock_});
  auto session = sessions_.Create("clinic");
  ASSERT_THAT(session, IsOk());
  ASSERT_NO_FATAL_FAILURE(ExpectTheSecondQuestionWaits(pipeline, pipeline, executor, practice_,
                                                       session->id, generator_));
  auto stored = sessions_.Get("clinic", session->id);
  ASSERT_THAT(stored, IsOk());
  ASSERT_EQ(stored->turns.size(), 2u);
  EXPECT_EQ(stored->turns[0].question, "revenue");
  EXPECT_EQ(stored->turns[1].question, "and by vet?");
}

// Two servers (two Pipelines) sharing one session store: the claim in the
// store makes the second wait for the first, as SessionLocks does in one.
TEST_F(PipelineTest, QuestionsOnOneSessionWaitAcrossServersSharingTheStore) {
  GatedExecutor executor;
  Pipeline server_a({}, {&sessions_, &budget_, &generator_, &executor, &catalog_, &clock_});
  Pipeline server_b({}, {&sessions_, &budget_, &generator_, &executor, &catalog_, &clock_});
  auto session = sessions_.Create("clinic");
  ASSERT_THAT(session, IsOk());
  ASSERT_NO_FATAL_FAILURE(ExpectTheSecondQuestionWaits(server_a, server_b, executor, practice_,
                                                       session->id, generator_));
  // The claim was released: a third question goes straight through.
  generator_.Push(codegen::FakeCodeGenerator::Code("result = 1"));
  RecordingSink third_sink;
  EXPECT_THAT(
      server_a.Ask(practice_, {"and last year?", session->id, "2026-10-26"}, third_sink, cancel_),
      IsOk());
}

// A generator whose every call takes 8 minutes of the fake clock, and
// which checks whether another server could take the session meanwhile.
class SlowRepairingGenerator final : public codegen::CodeGenerator {
 public:
  SlowRepairingGenerator(FakeClock& clock, session::SessionStore& sessions)
      : clock_(clock), sessions_(sessions) {}
  codegen::CostEstimate Estimate(const codegen::CodeRequest&) const override {
    return {"fake-model", 1000};
  }
  bool CanRepair() const override { return true; }
  absl::StatusOr<codegen::GeneratedCode> Generate(const codegen::CodeRequest& request,
                                                  CancellationToken&) override {
    clock_.Advance(absl::Minutes(8));
    auto other = sessions_.TryClaim("clinic", session_id, "another-server", absl::Minutes(10));
    if (other.ok() && *other) taken_at_attempt = request.attempt;
    return codegen::FakeCodeGenerator::Code(request.attempt == 1 ? "result = df['x']"
                                                                 : "result = 1");
  }
  std::string session_id;
  int taken_at_attempt = 0;

 private:
  FakeClock& clock_;
  session::SessionStore& sessions_;
};

TEST_F(PipelineTest, ALongQuestionRenewsItsClaimOnTheSession) {
  auto session = sessions_.Create("clinic");
  ASSERT_THAT(session, IsOk());
  SlowRepairingGenerator generator(clock_, sessions_);
  generator.session_id = session->id;
  executor_.Push({{}, sandbox::FakeExecutor::Raised("KeyError", "'x'", 1)});
  executor_.Push({{}, sandbox::FakeExecutor::Number(1)});
  Pipeline pipeline({}, {&sessions_, &budget_, &generator, &executor_, &catalog_, &clock_});
  // Two attempts of 8 minutes each: past the 10-minute lease unless renewed.
  ASSERT_THAT(pipeline.Ask(practice_, {"revenue", session->id, "2026-10-26"}, sink_, cancel_),
              IsOk());
  EXPECT_EQ(sink_.OfType<FinalAnswerEvent>().at(0).attempts, 2);
  EXPECT_EQ(generator.taken_at_attempt, 0) << "no other server could take the session";
}

// A session store that counts refused claims, so a test knows a question is
// waiting for another server's claim rather than guessing with a sleep.
class ClaimCountingStore final : public session::SessionStore {
 public:
  explicit ClaimCountingStore(session::SessionStore* inner) : inner_(inner) {}
  int refused() const { return refused_.load(); }

  absl::StatusOr<session::SessionRecord> Create(const std::string& p) override {
    return inner_->Create(p);
  }
  absl::StatusOr<session::SessionRecord> Get(const std::string& p, const std::string& id) override {
    return inner_->Get(p, id);
  }
  absl::Status AppendTurn(const std::string& p, const std::string& id,
                          session::TurnRecord turn) override {
    return inner_->AppendTurn(p, id, std::move(turn));
  }
  absl::Status End(const std::string& p, const std::string& id) override {
    return inner_->End(p, id);
  }
  absl::StatusOr<session::SessionPage> List(const std::string& p, int size,
                                            const std::string& token) override {
    return inner_->List(p, size, token);
  }
  absl::StatusOr<bool> TryClaim(const std::string& p, const std::string& id,
                                const std::string& holder, absl::Duration lease) override {
    absl::StatusOr<bool> claimed = inner_->TryClaim(p, id, holder, lease);
    if (claimed.ok() && !*claimed) ++refused_;
    return claimed;
  }
  absl::Status ReleaseClaim(const std::string& id, const std::string& holder) override {
    return inner_->ReleaseClaim(id, holder);
  }
  absl::StatusOr<int> Purge() override { return inner_->Purge(); }
  absl::Status Discard(const std::string& p, const std::string& id) override {
    return inner_->Discard(p, id);
  }

 private:
  session::SessionStore* const inner_;
  std::atomic<int> refused_{0};
};

TEST_F(PipelineTest, WaitingForAnotherServersQuestionCanBeCancelled) {
  ClaimCountingStore sessions(&sessions_);
  Pipeline pipeline({}, {&sessions, &budget_, &generator_, &executor_, &catalog_, &clock_});
  auto session = sessions_.Create("clinic");
  ASSERT_THAT(session, IsOk());
  // Another server's question holds the session.
  ASSERT_THAT(sessions_.TryClaim("clinic", session->id, "elsewhere", absl::Minutes(10)),
              IsOkAndHolds(true));
  std::thread canceller([&] {
    // Cancelled once the question is seen waiting for that claim.
    WaitUntil([&] { return sessions.refused() > 0; }, absl::Seconds(30));
    cancel_.Cancel();
  });
  EXPECT_THAT(pipeline.Ask(practice_, {"revenue", session->id, "2026-10-26"}, sink_, cancel_),
              StatusIs(absl::StatusCode::kCancelled, HasSubstr("on another server")));
  canceller.join();
  EXPECT_GT(sessions.refused(), 0);
  EXPECT_TRUE(generator_.requests().empty());
}

// Spends `micros` of the practice's budget, as earlier questions would.
void Spend(budget::BudgetGuard& guard, const Practice& practice, int64_t micros) {
  auto r = guard.Reserve(practice, micros, "fake-model");
  ASSERT_THAT(r, IsOk());
  budget::Spend spend;
  spend.model = "fake-model";
  spend.micros = micros;
  ASSERT_THAT(guard.Commit(*r, spend), IsOk());
}

class PipelineBudgetTest : public PipelineTest {
 protected:
  PipelineBudgetTest() {
    auto pricing = budget::PricingTable::Parse(
        R"({"models": {"fake-model": {"input": 5, "output": 20},
                       "fake-mini": {"input": 0.5, "output": 2}},
            "downgrade": [{"from": ["fake-model"], "to": "fake-mini"}]})",
        "test");
    EXPECT_THAT(pricing, IsOk());
    pricing_ = *std::move(pricing);
  }
  absl::Status AskWith(PipelineOptions options, const std::string& question) {
    Pipeline pipeline(
        options, {&sessions_, &budget_, &generator_, &executor_, &catalog_, &clock_, &pricing_});
    return pipeline.Ask(practice_, {question, "", "2026-10-26"}, sink_, cancel_);
  }
  budget::PricingTable pricing_;
};

TEST_F(PipelineBudgetTest, PastTheSoftCapTheCheaperModelAnswersAndTheCheckSaysSo) {
  ASSERT_NO_FATAL_FAILURE(Spend(budget_, practice_, 850'000));  // soft cap: 800'000
  generator_.estimate = {"fake-model", 60'000};
  generator_.downgraded_micros = 6'000;
  generator_.Push(codegen::FakeCodeGenerator::Code("result = 1", /*cost_micros=*/700));
  executor_.Push({{}, sandbox::FakeExecutor::Number(1)});
  ASSERT_THAT(AskWith({}, "revenue"), IsOk());
  auto check = sink_.OfType<BudgetCheckEvent>().at(0);
  EXPECT_TRUE(check.allowed);
  EXPECT_TRUE(check.soft_cap_reached);
  EXPECT_EQ(check.model, "fake-mini");
  EXPECT_EQ(check.downgraded_from, "fake-model");
  EXPECT_EQ(check.estimate_micros, 6'000);
  EXPECT_THAT(check.message, HasSubstr("Past the soft cap ($0.85 of $1.00 spent): fake-mini "
                                       "answers instead of fake-model"));
  EXPECT_EQ(generator_.requests().at(0).model, "fake-mini");
  EXPECT_EQ(budget_.GetState(practice_)->spent_micros, 850'700);
}

TEST_F(PipelineBudgetTest, BelowTheSoftCapTheConfiguredModelAnswers) {
  ASSERT_NO_FATAL_FAILURE(Spend(budget_, practice_, 799'999));
  generator_.estimate = {"fake-model", 60'000};
  generator_.Push(codegen::FakeCodeGenerator::Code("result = 1", 700));
  executor_.Push({{}, sandbox::FakeExecutor::Number(1)});
  ASSERT_THAT(AskWith({}, "revenue"), IsOk());
  auto check = sink_.OfType<BudgetCheckEvent>().at(0);
  EXPECT_EQ(check.model, "fake-model");
  EXPECT_EQ(check.downgraded_from, "");
  EXPECT_EQ(generator_.requests().at(0).model, "");
}

TEST_F(PipelineBudgetTest, AtTheHardCapTheQuestionIsRefusedNamingSpendLimitAndReset) {
  ASSERT_NO_FATAL_FAILURE(Spend(budget_, practice_, 1'000'000));
  generator_.estimate = {"fake-model", 60'000};
  generator_.downgraded_micros = 6'000;
  const absl::Time resets = budget_.GetState(practice_)->resets_at;
  EXPECT_THAT(AskWith({}, "a question only a model can answer"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("has spent $1.00 of its $1.00 monthly budget")));
  EXPECT_THAT(sink_.kinds(), ElementsAre(kSession, kBudget));
  auto check = sink_.OfType<BudgetCheckEvent>().at(0);
  EXPECT_FALSE(check.allowed);
  EXPECT_TRUE(check.hard_cap_reached);
  EXPECT_EQ(check.resets_at, resets);
  EXPECT_EQ(check.model, "fake-mini") << "the downgraded model was refused too";
  EXPECT_THAT(check.message,
              HasSubstr(absl::StrCat("resets at ", absl::FormatTime("%Y-%m-%d %H:%M UTC", resets,
                                                                    absl::UTCTimeZone()))));
  EXPECT_TRUE(generator_.requests().empty());
}

TEST_F(PipelineBudgetTest, AtTheHardCapTheOfflinePlannerStillAnswersForFree) {
  ASSERT_NO_FATAL_FAILURE(Spend(budget_, practice_, 1'000'000));
  generator_.estimate = {"fake-model", 60'000};
  generator_.downgraded_micros = 6'000;
  generator_.can_answer_free = true;
  generator_.can_repair = true;
  generator_.Push(codegen::FakeCodeGenerator::Code("result = 5"));
  executor_.Push({{}, sandbox::FakeExecutor::Number(5)});
  PipelineOptions options;
  options.sandbox_micros_per_second = 1'000;
  ASSERT_THAT(AskWith(options, "revenue last month"), IsOk());
  EXPECT_THAT(sink_.kinds(), ElementsAre(kSession, kBudget, kCode, kFinal));
  auto check = sink_.OfType<BudgetCheckEvent>().at(0);
  EXPECT_TRUE(check.allowed);
  EXPECT_EQ(check.model, "planner");
  EXPECT_EQ(check.estimate_micros, 0);
  EXPECT_THAT(check.message, HasSubstr("The budget is used up ($1.00 spent of $1.00, $0.00 "
                                       "held by questions in flight; up to $0.11 was needed)"));
  EXPECT_THAT(check.message, HasSubstr("the offline planner answers this one at no cost"));
  EXPECT_TRUE(generator_.requests().at(0).free_only);
  EXPECT_EQ(budget_.GetState(practice_)->spent_micros, 1'000'000) << "nothing more was spent";
}

TEST_F(PipelineBudgetTest, SandboxTimeIsReservedForTheWorstCaseAndChargedAsUsed) {
  generator_.Push(codegen::FakeCodeGenerator::Code("result = 1"));
  sandbox::ExecutionResult result = sandbox::FakeExecutor::Number(1);
  result.elapsed = absl::Milliseconds(2500);
  executor_.Push({{}, result});
  PipelineOptions options;
  options.sandbox_micros_per_second = 1'000;  // $0.001 a second
  options.execution_timeout = absl::Seconds(30);
  ASSERT_THAT(AskWith(options, "revenue"), IsOk());
  auto check = sink_.OfType<BudgetCheckEvent>().at(0);
  EXPECT_EQ(check.estimate_micros, 30'000) << "30 s at the rate, one attempt";
  EXPECT_EQ(sink_.OfType<FinalAnswerEvent>().at(0).total_cost_micros, 2'500);
  auto state = budget_.GetState(practice_);
  EXPECT_EQ(state->spent_micros, 2'500);
  EXPECT_EQ(state->reserved_micros, 0);
}

TEST_F(PipelineBudgetTest, APlannerAnswerIsNotRepairedByAnUnreservedModelCall) {
  generator_.can_repair = true;  // a model is configured
  generator_.Push(codegen::FakeCodeGenerator::Code("result = df['x']"));
  executor_.Push({{}, sandbox::FakeExecutor::Raised("KeyError", "'x'", 1)});
  ASSERT_THAT(AskWith({}, "revenue"), IsOk());
  EXPECT_EQ(generator_.requests().size(), 1u);
  EXPECT_THAT(sink_.OfType<FinalAnswerEvent>().at(0).text, HasSubstr("could not be completed"));
}

// No event may be larger than a client accepts: a 2 MiB artifact (a chart,
// or result.csv) is emitted in parts (artifact_chunks.h).
TEST_F(PipelineTest, ALargeArtifactIsEmittedInPartsInOrder) {
  generator_.Push(codegen::FakeCodeGenerator::Code("result = 1"));
  sandbox::ExecutionResult result = sandbox::FakeExecutor::Number(1);
  std::string csv(size_t{2} << 20, 'c');
  csv[kArtifactChunkBytes] = 'X';  // the second part begins with it
  result.charts.push_back({"result.csv", "text/csv", csv});
  executor_.Push({{}, result});
  ASSERT_THAT(Ask("revenue"), IsOk());

  EXPECT_THAT(sink_.kinds(),
              ElementsAre(kSession, kBudget, kCode, kArtifact, kArtifact, kArtifact, kFinal));
  std::vector<ArtifactEvent> parts = sink_.OfType<ArtifactEvent>();
  std::string joined;
  for (const ArtifactEvent& part : parts) {
    EXPECT_EQ(part.name, "result.csv");
    EXPECT_EQ(part.offset, static_cast<int64_t>(joined.size()));
    EXPECT_EQ(part.total_bytes, static_cast<int64_t>(csv.size()));
    joined += part.data;
  }
  EXPECT_EQ(parts[1].data[0], 'X');
  EXPECT_EQ(joined, csv);
}

}  // namespace
}  // namespace vet::pipeline
