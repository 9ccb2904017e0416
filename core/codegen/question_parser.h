// Parses a practice manager's question into a QueryPlan: metric x dimension x
// filters x period (x comparison, x top-N), reading every word against the
// semantic layer's declarations (semantic_layer.h) and the period grammar
// (period.h). A word nothing accounts for means the planner does not
// understand the question, and it says so rather than guess.
#ifndef VET_CORE_CODEGEN_QUESTION_PARSER_H_
#define VET_CORE_CODEGEN_QUESTION_PARSER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/types/optional.h"
#include "core/codegen/period.h"
#include "core/codegen/semantic_layer.h"

namespace vet::codegen {

enum class Comparison {
  kNone,
  kSamePeriodLastYear,  // "compared to last year", "growth", "yoy"
  kPreviousPeriod,      // "vs the previous period", "this month vs last month"
  kExplicit,            // "2025 vs 2024"
};

struct QueryPlan {
  std::string metric;  // Metric::id
  // An Attribute or TimeGrain id; "" for a single number.
  std::string dimension;
  // The question's filters, resolved for the metric's table, one clause per
  // attribute. The metric's implied filters are not repeated here.
  std::vector<FilterClause> filters;
  // "Smith" for "Dr. Smith": kept rows have a staff full_name containing it,
  // case-insensitively. Letters, spaces, "-" and "'" only.
  std::string staff_name;
  // nullopt for a metric without a date (active clients).
  absl::optional<Period> period;
  // The day a metric that uses_as_of counts against (lapsed patients, active
  // patients and the figures by visits); nullopt for every other metric.
  absl::optional<absl::CivilDay> as_of;
  // The question named no period; a default applies.
  bool period_defaulted = false;
  // Rows sorted by value; top_n > 0 keeps that many (0 keeps all).
  bool ranked = false;
  bool ascending = false;
  int top_n = 0;
  Comparison comparison = Comparison::kNone;
  absl::optional<Period> compare_period;
  // The metric came from the previous turn's plan.
  bool follow_up = false;
  // "What share of revenue came from pharmacy": the value is 100 * the
  // metric over the rows the filters (and staff name) keep / the metric over
  // all rows of the period; the filters then keep no rows out. Only for
  // totals (no denominator, no scale, no note).
  bool share = false;
};

bool operator==(const QueryPlan& a, const QueryPlan& b);

// Parses `question`, resolving periods against `as_of`. `previous` is the
// plan of the session's previous turn (may be null): a question that names no
// metric but changes only the period, breakdown or filters reuses its metric
// and the rest. Follow-ups:
//   - period: "what about last year?", "same for March" replace it; "and the
//     quarter before?", "the year before", "before that" step back from it
//     (a calendar unit to the whole unit before, or the same unit a year
//     earlier); a period the previous question left to the default is
//     defaulted afresh for a new breakdown;
//   - breakdown: "and by vet?", "by month instead" replace it; "and
//     overall?", "without the breakdown" drop it (after a single number,
//     "overall" drops the filters instead);
//   - filters: "only cats", "just dentals", "what about dogs?", "for Dr. X"
//     replace the filter on that attribute and keep the others; "all
//     animals", "without the filter" drop them all;
//   - ranking: "top 3 only", "and the lowest?" rank the previous breakdown;
//     comparison: "compared with the year before?".
// A question that names a metric starts afresh. `previous_unplanned` says the
// session's previous turn exists but has no planner plan (a model answered
// it): a follow-up is then declined saying so.
// Returns kInvalidArgument naming the words not understood, or why the
// combination cannot be answered, with example questions that work.
absl::StatusOr<QueryPlan> ParseQuestion(absl::string_view question, absl::CivilDay as_of,
                                        const QueryPlan* previous = nullptr,
                                        bool previous_unplanned = false);

// A compact "key=value;..." form for GeneratedCode::plan, starting
// "planner/v1;". DeserializePlan returns kInvalidArgument for anything that
// SerializePlan did not write.
std::string SerializePlan(const QueryPlan& plan);
absl::StatusOr<QueryPlan> DeserializePlan(absl::string_view text);

// Phrases declared with two different meanings in the semantic layer (should
// be empty; a test keeps it so).
std::vector<std::string> AmbiguousPhrases();

}  // namespace vet::codegen

#endif  // VET_CORE_CODEGEN_QUESTION_PARSER_H_
