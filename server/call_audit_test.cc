// CallAudit: what an entry says for an authorized Ask (from its events), a
// refusal for a practice the server serves, and a call that names none.
#include "server/call_audit.h"

#include <memory>
#include <vector>

#include "core/audit/in_memory_audit_store.h"
#include "core/common/testing/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::server {
namespace {

using ::vet::testing::IsOk;

constexpr absl::Duration kWait = absl::Seconds(30);

class CallAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Practice clinic;
    clinic.id = "clinic";
    clinic.api_key = "clinic-key-0001";
    clinic.data_dir = "/nonexistent/clinic";
    auto practices = PracticeRegistry::FromPractices({clinic});
    ASSERT_THAT(practices, IsOk());
    practices_ = std::move(practices).value();
    auto recorder = audit::AuditRecorder::Create({}, store_, clock_);
    ASSERT_THAT(recorder, IsOk());
    recorder_ = std::move(recorder).value();
  }

  std::vector<audit::AuditEntry> Trail() {
    EXPECT_TRUE(recorder_->Flush(kWait));
    auto page = store_.List("clinic", absl::InfinitePast(), 0, "");
    EXPECT_THAT(page, IsOk());
    return page.ok() ? page->entries : std::vector<audit::AuditEntry>{};
  }

  pipeline::AskEvent Event(pipeline::EventPayload payload) {
    pipeline::AskEvent e;
    e.payload = std::move(payload);
    return e;
  }

  FakeClock clock_;
  audit::InMemoryAuditStore store_;
  std::unique_ptr<PracticeRegistry> practices_;
  std::unique_ptr<audit::AuditRecorder> recorder_;
};

TEST_F(CallAuditTest, AnAskIsRecordedFromItsEventsWithTheKeysId) {
  CallAudit call(recorder_.get(), *practices_, clock_, "Ask");
  const absl::Time started = clock_.Now();
  call.Authorized("clinic", practices_->Authorize("clinic", "clinic-key-0001"));
  call.SetQuestion("Revenue last month?");
  call.Observe(Event(pipeline::SessionStartedEvent{"sess", false, 1, "2026-12-01", "qid"}));
  pipeline::BudgetCheckEvent check;
  check.model = "gpt-5.2-mini";
  call.Observe(Event(check));
  pipeline::CodeGeneratedEvent first;
  first.generator = "model";
  first.model = "gpt-5.2-mini";
  first.prompt_tokens = 100;
  first.completion_tokens = 10;
  first.cost_micros = 50;
  call.Observe(Event(first));
  first.prompt_tokens = 120;
  first.completion_tokens = 12;
  first.cost_micros = 60;
  call.Observe(Event(first));
  pipeline::FinalAnswerEvent answer;
  answer.total_cost_micros = 170;  // with sandbox time
  call.Observe(Event(answer));
  clock_.Advance(absl::Milliseconds(1500));
  call.Finish(absl::OkStatus());
  call.Finish(absl::InternalError("only the first Finish counts"));

  std::vector<audit::AuditEntry> trail = Trail();
  ASSERT_EQ(trail.size(), 1u);
  const audit::AuditEntry& e = trail[0];
  EXPECT_EQ(e.at, started);
  EXPECT_EQ(e.duration, absl::Milliseconds(1500));
  EXPECT_EQ(e.rpc, "Ask");
  EXPECT_EQ(e.key_id, Sha256Hex(Sha256("clinic-key-0001")).substr(0, 12));
  EXPECT_EQ(e.session_id, "sess");
  EXPECT_EQ(e.question_id, "qid");
  EXPECT_EQ(e.generator, "model");
  EXPECT_EQ(e.model, "gpt-5.2-mini");
  EXPECT_EQ(e.prompt_tokens, 220);
  EXPECT_EQ(e.completion_tokens, 22);
  EXPECT_EQ(e.cost_micros, 170);
  EXPECT_EQ(e.status, absl::StatusCode::kOk);
  EXPECT_EQ(e.question_sha256, Sha256Hex(Sha256("Revenue last month?")));
  EXPECT_EQ(e.question, "");
}

TEST_F(CallAuditTest, ARefusalForAServedPracticeIsRecordedWithoutAKeyId) {
  for (const char* key : {"", "wrong-key-000", "clinic-key-0001 "}) {
    CallAudit call(recorder_.get(), *practices_, clock_, "GetBudget");
    auto refused = practices_->Authorize("clinic", key);
    ASSERT_FALSE(refused.ok());
    call.Authorized("clinic", refused);
    call.SetSession("caller-chosen");
    call.Finish(refused.status());
  }
  std::vector<audit::AuditEntry> trail = Trail();
  ASSERT_EQ(trail.size(), 3u);
  for (const audit::AuditEntry& e : trail) {
    EXPECT_EQ(e.practice_id, "clinic");
    EXPECT_EQ(e.key_id, "");
    EXPECT_EQ(e.session_id, "");
    EXPECT_EQ(e.status, absl::StatusCode::kUnauthenticated);
  }
}

TEST_F(CallAuditTest, CallsNamingNoServedPracticeAreCountedNotRecorded) {
  for (const char* practice : {"nobody", "NOT VALID", ""}) {
    CallAudit call(recorder_.get(), *practices_, clock_, "Ask");
    call.Authorized(practice, practices_->Authorize(practice, "clinic-key-0001"));
    call.Finish(absl::PermissionDeniedError("no"));
  }
  // An import stream that ended before its header named any practice.
  CallAudit import(recorder_.get(), *practices_, clock_, "ImportDataset");
  import.Finish(absl::InvalidArgumentError("no header"));
  EXPECT_TRUE(Trail().empty());
  EXPECT_EQ(recorder_->stats().unattributed, 4);
}

TEST_F(CallAuditTest, WithoutARecorderNothingHappens) {
  CallAudit call(nullptr, *practices_, clock_, "Ask");
  call.Authorized("clinic", practices_->Authorize("clinic", "clinic-key-0001"));
  call.Finish(absl::OkStatus());
  EXPECT_TRUE(Trail().empty());
}

}  // namespace
}  // namespace vet::server
