// vetctl bench without gRPC: reading the mix and the practices, and turning
// the recorded calls into the report.
#include "clients/bench.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "clients/exit_codes.h"
#include "clients/format.h"

namespace vet::cli {
namespace {

using google::protobuf::Value;

absl::StatusOr<std::string> ReadFile(const std::string& flag,
                                     const std::string& path) {
  std::error_code error;
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": cannot read ", path));
  }
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

// A string field of a JSON object, or "" when missing or not a string.
std::string StringField(const google::protobuf::Struct& object,
                        const std::string& name) {
  const auto it = object.fields().find(name);
  if (it == object.fields().end() || !it->second.has_string_value()) return "";
  return it->second.string_value();
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// "412 ms", "1,204 ms", "0.8 ms": whole milliseconds from 10 ms up.
std::string FormatMs(absl::Duration d) {
  const double ms = Ms(d);
  if (ms < 10) return absl::StrCat(FormatDecimal(ms, 1), " ms");
  return absl::StrCat(FormatInteger(std::llround(ms)), " ms");
}

std::string FormatRate(double per_second) {
  return FormatDecimal(per_second, per_second < 100 ? 1 : 0);
}

std::string JsonMs(absl::Duration d) { return absl::StrFormat("%.1f", Ms(d)); }

std::string LatencyJson(const LatencySummary& s) {
  return absl::StrCat("{\"count\":", s.count, ",\"p50\":", JsonMs(s.p50),
                      ",\"p95\":", JsonMs(s.p95), ",\"p99\":", JsonMs(s.p99),
                      ",\"max\":", JsonMs(s.max), ",\"mean\":", JsonMs(s.mean),
                      "}");
}

double PerSecond(int64_t count, absl::Duration over) {
  const double seconds = absl::ToDoubleSeconds(over);
  return seconds > 0 ? static_cast<double>(count) / seconds : 0;
}

}  // namespace

std::vector<std::string> ParseQuestionLines(absl::string_view text) {
  std::vector<std::string> questions;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    questions.emplace_back(line);
  }
  return questions;
}

absl::StatusOr<std::vector<BenchTarget>> ParsePracticesJson(
    absl::string_view json) {
  google::protobuf::Struct root;
  if (const auto parsed = google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(json.data(), json.size()), &root);
      !parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a JSON object: ", std::string(parsed.message())));
  }
  const auto practices = root.fields().find("practices");
  if (practices == root.fields().end() || !practices->second.has_list_value()) {
    return absl::InvalidArgumentError("no \"practices\" list");
  }
  std::vector<BenchTarget> targets;
  int index = 0;
  for (const Value& entry : practices->second.list_value().values()) {
    ++index;
    if (!entry.has_struct_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("practice ", index, " is not an object"));
    }
    BenchTarget target;
    target.practice = StringField(entry.struct_value(), "id");
    target.api_key = StringField(entry.struct_value(), "api_key");
    if (target.practice.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("practice ", index, " has no \"id\""));
    }
    targets.push_back(std::move(target));
  }
  if (targets.empty()) {
    return absl::InvalidArgumentError("the \"practices\" list is empty");
  }
  return targets;
}

absl::StatusOr<BenchPlan> LoadBenchPlan(const BenchSettings& settings) {
  BenchPlan plan;
  plan.questions = settings.questions;
  if (!settings.questions_file.empty()) {
    absl::StatusOr<std::string> text =
        ReadFile("questions_file", settings.questions_file);
    if (!text.ok()) return text.status();
    std::vector<std::string> more = ParseQuestionLines(*text);
    if (more.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--questions_file: ", settings.questions_file,
                       " holds no question (one per line)"));
    }
    plan.questions.insert(plan.questions.end(), more.begin(), more.end());
  }
  if (plan.questions.empty()) {
    return absl::InvalidArgumentError(
        "bench needs a question: --question=Q or --questions_file=FILE");
  }
  plan.targets = settings.targets;
  if (!settings.practices_file.empty()) {
    absl::StatusOr<std::string> json =
        ReadFile("practices_file", settings.practices_file);
    if (!json.ok()) return json.status();
    absl::StatusOr<std::vector<BenchTarget>> targets =
        ParsePracticesJson(*json);
    if (!targets.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--practices_file: ", settings.practices_file, ": ",
                       targets.status().message()));
    }
    plan.targets = *std::move(targets);
  }
  if (plan.targets.empty()) {
    return absl::InvalidArgumentError("bench needs a practice: --practices");
  }
  return plan;
}

absl::Duration Percentile(const std::vector<absl::Duration>& sorted, double p) {
  if (sorted.empty()) return absl::ZeroDuration();
  // Nearest rank: the smallest value with at least p% of the set at or
  // below it.
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const size_t index = static_cast<size_t>(
      std::clamp(rank, 1.0, static_cast<double>(sorted.size())));
  return sorted[index - 1];
}

LatencySummary Summarize(std::vector<absl::Duration> durations) {
  LatencySummary summary;
  summary.count = static_cast<int64_t>(durations.size());
  if (durations.empty()) return summary;
  std::sort(durations.begin(), durations.end());
  summary.p50 = Percentile(durations, 50);
  summary.p95 = Percentile(durations, 95);
  summary.p99 = Percentile(durations, 99);
  summary.max = durations.back();
  absl::Duration total;
  for (absl::Duration d : durations) total += d;
  summary.mean = total / summary.count;
  return summary;
}

BenchRecorder::BenchRecorder(std::vector<BenchTarget> targets)
    : targets_(std::move(targets)) {}

void BenchRecorder::Record(BenchCall call) {
  if (call.code == grpc::StatusCode::OK) call.message.clear();
  absl::MutexLock lock(&mu_);
  calls_.push_back(std::move(call));
}

int64_t BenchRecorder::recorded() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(calls_.size());
}

BenchReport BenchRecorder::Report(BenchReport report,
                                  absl::Duration measured) const {
  absl::MutexLock lock(&mu_);
  report.measured = measured;
  report.questions = static_cast<int64_t>(calls_.size());
  std::vector<absl::Duration> latencies;
  std::vector<absl::Duration> first_events;
  std::vector<std::vector<absl::Duration>> by_target(targets_.size());
  std::vector<int64_t> questions_by_target(targets_.size());
  std::map<grpc::StatusCode, ErrorGroup> errors;
  for (const BenchCall& call : calls_) {
    const bool ok = call.code == grpc::StatusCode::OK;
    if (call.target < targets_.size()) {
      ++questions_by_target[call.target];
      if (ok) by_target[call.target].push_back(call.latency);
    }
    if (call.first_event.has_value()) first_events.push_back(*call.first_event);
    if (ok) {
      latencies.push_back(call.latency);
      continue;
    }
    ErrorGroup& group = errors[call.code];
    if (group.count++ == 0) {
      group.code = call.code;
      group.example = call.message;
    }
  }
  report.ok = static_cast<int64_t>(latencies.size());
  report.ok_per_second = PerSecond(report.ok, measured);
  report.latency = Summarize(std::move(latencies));
  report.first_event = Summarize(std::move(first_events));
  for (auto& [code, group] : errors) report.errors.push_back(std::move(group));
  std::stable_sort(report.errors.begin(), report.errors.end(),
                   [](const ErrorGroup& a, const ErrorGroup& b) {
                     return a.count > b.count;
                   });
  if (targets_.size() > 1) {
    for (size_t i = 0; i < targets_.size(); ++i) {
      BenchReport::PerPractice practice;
      practice.practice = targets_[i].practice;
      practice.questions = questions_by_target[i];
      practice.ok = static_cast<int64_t>(by_target[i].size());
      practice.ok_per_second = PerSecond(practice.ok, measured);
      practice.latency = Summarize(std::move(by_target[i]));
      report.practices.push_back(std::move(practice));
    }
  }
  return report;
}

std::string FormatBenchReport(const BenchReport& r) {
  const auto line = [](absl::string_view text) {
    return SanitizeForTerminal(text, /*keep_newlines=*/false);
  };
  std::string out = absl::StrCat(
      "bench    ", line(r.addr), ": ", r.streams,
      r.streams == 1 ? " stream" : " streams", ", ",
      FormatDecimal(absl::ToDoubleSeconds(r.duration), 1), " s after ",
      FormatDecimal(absl::ToDoubleSeconds(r.warmup), 1), " s of warm-up, ",
      r.distinct_questions,
      r.distinct_questions == 1 ? " question" : " distinct questions");
  if (r.max_questions > 0) {
    absl::StrAppend(&out, ", at most ", FormatInteger(r.max_questions));
  }
  if (!r.practices.empty()) {
    absl::StrAppend(&out, ", ", r.practices.size(), " practices");
  }
  absl::StrAppend(&out, "\n");
  if (r.interrupted)
    absl::StrAppend(&out, "         interrupted: the numbers so far\n");
  absl::StrAppend(&out, "answered ", FormatInteger(r.ok), " of ",
                  FormatInteger(r.questions), " questions in ",
                  FormatDecimal(absl::ToDoubleSeconds(r.measured), 1),
                  " s: ", FormatRate(r.ok_per_second), " questions/s\n");
  if (r.cancelled_at_end > 0) {
    absl::StrAppend(&out, "         ", FormatInteger(r.cancelled_at_end),
                    " still running at the end (cancelled, not counted)\n");
  }
  absl::StrAppend(&out, "latency  p50 ", FormatMs(r.latency.p50), "  p95 ",
                  FormatMs(r.latency.p95), "  p99 ", FormatMs(r.latency.p99),
                  "  max ", FormatMs(r.latency.max),
                  "  (answered questions)\n");
  absl::StrAppend(&out, "first    p50 ", FormatMs(r.first_event.p50), "  p95 ",
                  FormatMs(r.first_event.p95), "  (time to the first event)\n");
  if (r.errors.empty()) {
    absl::StrAppend(&out, "errors   none\n");
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const ErrorGroup& group : r.errors) {
      rows.push_back({StatusCodeName(group.code), FormatInteger(group.count),
                      line(group.example)});
    }
    absl::StrAppend(&out, "errors\n",
                    LayoutColumns(rows, {false, true, false}, "  "));
  }
  if (!r.practices.empty()) {
    std::vector<std::vector<std::string>> rows = {
        {"practice", "questions", "answered", "/s", "p50", "p95", "p99"}};
    for (const BenchReport::PerPractice& p : r.practices) {
      rows.push_back({line(p.practice), FormatInteger(p.questions),
                      FormatInteger(p.ok), FormatRate(p.ok_per_second),
                      FormatMs(p.latency.p50), FormatMs(p.latency.p95),
                      FormatMs(p.latency.p99)});
    }
    absl::StrAppend(
        &out, "by practice\n",
        LayoutColumns(rows, {false, true, true, true, true, true, true}, "  "));
  }
  return out;
}

std::string BenchReportJson(const BenchReport& r) {
  std::string out = absl::StrCat(
      "{\"addr\":", JsonQuote(r.addr), ",\"streams\":", r.streams,
      ",\"durationSeconds\":", absl::ToDoubleSeconds(r.duration),
      ",\"warmupSeconds\":", absl::ToDoubleSeconds(r.warmup),
      ",\"maxQuestions\":", r.max_questions,
      ",\"distinctQuestions\":", r.distinct_questions, ",\"measuredSeconds\":",
      absl::StrFormat("%.3f", absl::ToDoubleSeconds(r.measured)),
      ",\"questions\":", r.questions, ",\"ok\":", r.ok,
      ",\"questionsPerSecond\":", absl::StrFormat("%.2f", r.ok_per_second),
      ",\"latencyMs\":", LatencyJson(r.latency),
      ",\"firstEventMs\":", LatencyJson(r.first_event), ",\"errors\":[");
  for (size_t i = 0; i < r.errors.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ",",
                    "{\"code\":", JsonQuote(StatusCodeName(r.errors[i].code)),
                    ",\"count\":", r.errors[i].count,
                    ",\"example\":", JsonQuote(r.errors[i].example), "}");
  }
  absl::StrAppend(&out, "],\"cancelledAtEnd\":", r.cancelled_at_end,
                  ",\"interrupted\":", r.interrupted ? "true" : "false");
  if (!r.practices.empty()) {
    absl::StrAppend(&out, ",\"practices\":[");
    for (size_t i = 0; i < r.practices.size(); ++i) {
      const BenchReport::PerPractice& p = r.practices[i];
      absl::StrAppend(
          &out, i == 0 ? "" : ",", "{\"practice\":", JsonQuote(p.practice),
          ",\"questions\":", p.questions, ",\"ok\":", p.ok,
          ",\"questionsPerSecond\":", absl::StrFormat("%.2f", p.ok_per_second),
          ",\"latencyMs\":", LatencyJson(p.latency), "}");
    }
    absl::StrAppend(&out, "]");
  }
  absl::StrAppend(&out, "}\n");
  return out;
}

int BenchExitCode(const BenchReport& report) {
  if (report.interrupted) return kExitCancelled;
  if (report.ok > 0 || report.errors.empty()) return kExitOk;
  return ExitCodeFor(report.errors.front().code);
}

}  // namespace vet::cli
