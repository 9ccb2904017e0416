// Unit tests of vetctl bench's part without gRPC: the question and practices
// files, percentiles, the grouping of errors, the report and its JSON, and
// the exit code. The load itself is tested in vetctl_rpc_test.cc.
#include "clients/bench.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "clients/args.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vet::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string WriteTemp(const std::string& name, const std::string& content) {
  std::string path =
      (std::filesystem::path(::testing::TempDir()) / name).string();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(ParseQuestionLinesTest, OneQuestionPerLineSkippingBlanksAndComments) {
  EXPECT_THAT(ParseQuestionLines("How many dogs?\n\n  # a comment\n"
                                 "  Revenue last month?  \r\nlast"),
              ElementsAre("How many dogs?", "Revenue last month?", "last"));
  EXPECT_TRUE(ParseQuestionLines("\n# only comments\n").empty());
}

TEST(ParsePracticesJsonTest, ReadsIdsAndKeysAsTheServerFileHasThem) {
  const auto targets = ParsePracticesJson(R"({"practices": [
      {"id": "riverside", "name": "Riverside", "api_key": "key-1",
       "budget_limit_usd": 25.0},
      {"id": "hillcrest", "api_key": "key-2", "data_dir": "/srv/h"}]})");
  ASSERT_TRUE(targets.ok()) << targets.status();
  EXPECT_THAT(*targets, ElementsAre(BenchTarget{"riverside", "key-1"},
                                    BenchTarget{"hillcrest", "key-2"}));
}

TEST(ParsePracticesJsonTest, RefusesWhatIsNotAPracticesFile) {
  EXPECT_THAT(std::string(ParsePracticesJson("{not json").status().message()),
              HasSubstr("not a JSON object"));
  EXPECT_THAT(std::string(ParsePracticesJson("{}").status().message()),
              HasSubstr("no \"practices\" list"));
  EXPECT_THAT(
      std::string(
          ParsePracticesJson(R"({"practices": []})").status().message()),
      HasSubstr("empty"));
  EXPECT_THAT(
      std::string(ParsePracticesJson(
                      R"({"practices": [{"id": "a"}, {"api_key": "k"}]})")
                      .status()
                      .message()),
      HasSubstr("practice 2 has no \"id\""));
}

TEST(LoadBenchPlanTest, AddsTheQuestionsFileToTheFlagsQuestions) {
  BenchSettings settings;
  settings.questions = {"from the flag"};
  settings.questions_file = WriteTemp("questions.txt", "one\n# two\nthree\n");
  settings.targets = {{"demo", "demo-key"}};
  const auto plan = LoadBenchPlan(settings);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->questions, ElementsAre("from the flag", "one", "three"));
  EXPECT_THAT(plan->targets, ElementsAre(BenchTarget{"demo", "demo-key"}));
}

TEST(LoadBenchPlanTest, PracticesFileGivesTheTargets) {
  BenchSettings settings;
  settings.questions = {"q"};
  settings.practices_file = WriteTemp(
      "practices.json",
      R"({"practices": [{"id": "a", "api_key": "ka"}, {"id": "b", "api_key": "kb"}]})");
  const auto plan = LoadBenchPlan(settings);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->targets,
              ElementsAre(BenchTarget{"a", "ka"}, BenchTarget{"b", "kb"}));
}

TEST(LoadBenchPlanTest, FileErrorsNameTheFlag) {
  BenchSettings missing;
  missing.questions_file = "/nonexistent/questions.txt";
  missing.targets = {{"demo", "demo-key"}};
  EXPECT_THAT(std::string(LoadBenchPlan(missing).status().message()),
              HasSubstr("--questions_file: cannot read /nonexistent"));

  BenchSettings empty = missing;
  empty.questions_file = WriteTemp("empty.txt", "\n# nothing\n");
  EXPECT_THAT(std::string(LoadBenchPlan(empty).status().message()),
              HasSubstr("--questions_file: "));

  BenchSettings bad_practices;
  bad_practices.questions = {"q"};
  bad_practices.practices_file = WriteTemp("bad.json", R"({"practices": 3})");
  const absl::Status status = LoadBenchPlan(bad_practices).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("--practices_file: "));
}

TEST(PercentileTest, NearestRank) {
  std::vector<absl::Duration> values;
  for (int i = 1; i <= 100; ++i) values.push_back(absl::Milliseconds(i));
  EXPECT_EQ(Percentile(values, 50), absl::Milliseconds(50));
  EXPECT_EQ(Percentile(values, 95), absl::Milliseconds(95));
  EXPECT_EQ(Percentile(values, 99), absl::Milliseconds(99));
  EXPECT_EQ(Percentile(values, 100), absl::Milliseconds(100));
  EXPECT_EQ(Percentile({absl::Seconds(3)}, 99), absl::Seconds(3));
  EXPECT_EQ(Percentile({}, 50), absl::ZeroDuration());

  const LatencySummary summary = Summarize(
      {absl::Milliseconds(30), absl::Milliseconds(10), absl::Milliseconds(20)});
  EXPECT_EQ(summary.count, 3);
  EXPECT_EQ(summary.p50, absl::Milliseconds(20));
  EXPECT_EQ(summary.max, absl::Milliseconds(30));
  EXPECT_EQ(summary.mean, absl::Milliseconds(20));
}

BenchCall Call(size_t target, grpc::StatusCode code, int ms,
               std::string message = "") {
  BenchCall call;
  call.target = target;
  call.code = code;
  call.message = std::move(message);
  call.latency = absl::Milliseconds(ms);
  call.first_event = absl::Milliseconds(1);
  return call;
}

BenchReport SampleReport() {
  BenchRecorder recorder({{"a", "ka"}, {"b", "kb"}});
  recorder.Record(Call(0, grpc::StatusCode::OK, 100));
  recorder.Record(Call(1, grpc::StatusCode::OK, 300));
  recorder.Record(Call(0, grpc::StatusCode::UNAVAILABLE, 5, "busy: first"));
  recorder.Record(Call(1, grpc::StatusCode::UNAVAILABLE, 5, "busy: second"));
  recorder.Record(
      Call(0, grpc::StatusCode::RESOURCE_EXHAUSTED, 2, "budget \"spent\""));
  BenchCall no_event = Call(1, grpc::StatusCode::OK, 200);
  no_event.first_event.reset();
  recorder.Record(no_event);
  BenchReport settings;
  settings.addr = "127.0.0.1:1";
  settings.streams = 4;
  settings.duration = absl::Seconds(2);
  settings.warmup = absl::Seconds(1);
  settings.distinct_questions = 2;
  settings.cancelled_at_end = 3;
  return recorder.Report(settings, absl::Seconds(2));
}

TEST(BenchRecorderTest,
     GroupsErrorsByCodeMostFrequentFirstWithTheFirstMessage) {
  const BenchReport report = SampleReport();
  EXPECT_EQ(report.questions, 6);
  EXPECT_EQ(report.ok, 3);
  EXPECT_DOUBLE_EQ(report.ok_per_second, 1.5);
  EXPECT_EQ(report.latency.count, 3);
  EXPECT_EQ(report.latency.p50, absl::Milliseconds(200));
  EXPECT_EQ(report.first_event.count, 5);
  ASSERT_EQ(report.errors.size(), 2u);
  EXPECT_EQ(report.errors[0].code, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(report.errors[0].count, 2);
  EXPECT_EQ(report.errors[0].example, "busy: first");
  EXPECT_EQ(report.errors[1].code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(report.errors[1].count, 1);
  ASSERT_EQ(report.practices.size(), 2u);
  EXPECT_EQ(report.practices[0].practice, "a");
  EXPECT_EQ(report.practices[0].questions, 3);
  EXPECT_EQ(report.practices[0].ok, 1);
  EXPECT_EQ(report.practices[1].questions, 3);
  EXPECT_EQ(report.practices[1].ok, 2);
  EXPECT_EQ(report.practices[1].latency.p95, absl::Milliseconds(300));
}

TEST(BenchRecorderTest, OnePracticeHasNoBreakdown) {
  BenchRecorder recorder(std::vector<BenchTarget>{{"demo", "demo-key"}});
  recorder.Record(Call(0, grpc::StatusCode::OK, 10));
  EXPECT_EQ(recorder.recorded(), 1);
  EXPECT_TRUE(
      recorder.Report(BenchReport(), absl::Seconds(1)).practices.empty());
}

TEST(BenchReportTest, ForPeopleShowsRateLatencyErrorsAndPractices) {
  const std::string text = FormatBenchReport(SampleReport());
  EXPECT_THAT(text, HasSubstr("127.0.0.1:1: 4 streams, 2.0 s after 1.0 s of "
                              "warm-up, 2 distinct questions, 2 practices\n"));
  EXPECT_THAT(text, HasSubstr("answered 3 of 6 questions in 2.0 s: 1.5 "
                              "questions/s\n"));
  EXPECT_THAT(text, HasSubstr("3 still running at the end"));
  EXPECT_THAT(text, HasSubstr("latency  p50 200 ms  p95 300 ms  p99 300 ms"));
  EXPECT_THAT(text, HasSubstr("first    p50 1.0 ms"));
  EXPECT_THAT(text, HasSubstr("  UNAVAILABLE         2  busy: first\n"));
  EXPECT_THAT(text, HasSubstr("  RESOURCE_EXHAUSTED  1  budget \"spent\"\n"));
  EXPECT_THAT(text, HasSubstr("by practice\n"));
}

TEST(BenchReportTest, JsonIsOneObjectThatParses) {
  const std::string json = BenchReportJson(SampleReport());
  ASSERT_EQ(json.back(), '\n');
  EXPECT_EQ(json.find('\n'), json.size() - 1);
  google::protobuf::Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok())
      << json;
  const auto& f = parsed.fields();
  EXPECT_EQ(f.at("questions").number_value(), 6);
  EXPECT_EQ(f.at("ok").number_value(), 3);
  EXPECT_EQ(f.at("questionsPerSecond").number_value(), 1.5);
  EXPECT_EQ(f.at("cancelledAtEnd").number_value(), 3);
  EXPECT_EQ(f.at("latencyMs").struct_value().fields().at("p50").number_value(),
            200);
  EXPECT_EQ(
      f.at("firstEventMs").struct_value().fields().at("p95").number_value(), 1);
  const auto& errors = f.at("errors").list_value().values();
  ASSERT_EQ(errors.size(), 2);
  EXPECT_EQ(errors[0].struct_value().fields().at("code").string_value(),
            "UNAVAILABLE");
  EXPECT_EQ(errors[0].struct_value().fields().at("count").number_value(), 2);
  EXPECT_EQ(errors[1].struct_value().fields().at("example").string_value(),
            "budget \"spent\"");
  EXPECT_EQ(f.at("practices").list_value().values_size(), 2);
}

TEST(BenchExitCodeTest, ZeroWhenAnythingWasAnsweredElseTheCommonestError) {
  EXPECT_EQ(BenchExitCode(SampleReport()), 0);
  EXPECT_EQ(BenchExitCode(BenchReport()), 0);
  BenchReport refused;
  refused.errors = {{grpc::StatusCode::PERMISSION_DENIED, 5, "wrong key"},
                    {grpc::StatusCode::UNAVAILABLE, 1, "busy"}};
  EXPECT_EQ(BenchExitCode(refused), 4);
  BenchReport interrupted = SampleReport();
  interrupted.interrupted = true;
  EXPECT_EQ(BenchExitCode(interrupted), 9);
}

}  // namespace
}  // namespace vet::cli
