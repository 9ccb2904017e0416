// The planner: parse, check against the practice's dataset, write pandas.
#include "core/codegen/planner.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/codegen/pandas_writer.h"
#include "core/codegen/semantic_layer.h"

namespace vet::codegen {
namespace {

// A failure message is the sandbox's, scrubbed; a status keeps only its start.
constexpr size_t kMaxFailureChars = 300;

bool HasColumn(const data::DatasetDescription& dataset, absl::string_view table,
               absl::string_view column) {
  for (const data::TableDescription& t : dataset.tables) {
    if (t.name != table) continue;
    for (const data::ColumnDescription& c : t.columns) {
      if (c.spec.name == column) return c.present;
    }
  }
  return false;
}

// A table the plan reads must have rows (a practice system that exports no
// appointments imports an empty appointments table), and each column it
// reads must be in the export (an optional column may be left out).
absl::Status CheckDataset(const QueryPlan& plan, const data::DatasetDescription& dataset) {
  std::vector<std::string> missing;
  std::vector<std::string> empty_tables;
  for (const std::string& name : ColumnsRead(plan)) {
    std::pair<std::string, std::string> tc = absl::StrSplit(name, absl::MaxSplits('.', 1));
    const data::TableDescription* table = dataset.FindTable(tc.first);
    if (table != nullptr && table->row_count == 0) {
      if (std::find(empty_tables.begin(), empty_tables.end(), tc.first) == empty_tables.end())
        empty_tables.push_back(tc.first);
    } else if (!HasColumn(dataset, tc.first, tc.second)) {
      missing.push_back(name);
    }
  }
  if (!empty_tables.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("The practice's data has no ", absl::StrJoin(empty_tables, " or "),
                     " (its export had none), which ", SummarizePlan(plan), " needs."));
  }
  if (missing.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("The practice's data has no ",
                                                 absl::StrJoin(missing, ", "), ", which ",
                                                 SummarizePlan(plan), " needs."));
}

}  // namespace

CostEstimate Planner::Estimate(const CodeRequest& request) const {
  return CostEstimate{"planner", 0};
}

absl::StatusOr<QueryPlan> Planner::Plan(const CodeRequest& request) const {
  if (request.question.size() > options_.max_question_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("The question is too long for the planner (", request.question.size(),
                     " bytes; it reads up to ", options_.max_question_bytes, ")."));
  }
  absl::optional<QueryPlan> previous;
  bool previous_unplanned = false;
  if (options_.follow_ups && !request.history.empty()) {
    absl::StatusOr<QueryPlan> p = DeserializePlan(request.history.back().plan);
    // A turn the model answered has no planner plan: then there is nothing to
    // follow up on, which is not an error, but a follow-up is told why.
    if (p.ok()) {
      previous = *std::move(p);
    } else {
      previous_unplanned = true;
    }
  }
  return ParseQuestion(request.question, request.as_of, previous ? &*previous : nullptr,
                       previous_unplanned);
}

absl::StatusOr<GeneratedCode> Planner::Generate(const CodeRequest& request,
                                                CancellationToken& cancel) {
  if (absl::Status s = cancel.Check("codegen"); !s.ok()) return s;
  if (request.attempt > 1) {
    std::string failure = request.failure.substr(0, kMaxFailureChars);
    if (failure.size() < request.failure.size()) failure += "...";
    return absl::FailedPreconditionError(
        absl::StrCat("the planner's code failed: ", failure.empty() ? "no details" : failure));
  }
  absl::StatusOr<QueryPlan> plan = Plan(request);
  if (!plan.ok()) return plan.status();
  if (request.dataset != nullptr) {
    if (absl::Status s = CheckDataset(*plan, *request.dataset); !s.ok()) return s;
  }
  GeneratedCode out;
  out.code = WritePandas(*plan);
  out.generator = "planner";
  out.summary = SummarizePlan(*plan);
  out.plan = SerializePlan(*plan);
  return out;
}

}  // namespace vet::codegen
