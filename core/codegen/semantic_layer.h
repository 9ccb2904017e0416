// The planner's semantic layer: the practice KPIs (metrics), what they can be
// broken down by (attributes and time grains), the filter words that map to
// the schema's enum values, and the cue and stop words of questions. Declared
// once, as tables, following DATA_SCHEMA.md ("Definitions the planner and the
// prompt use"); the question parser reads words against these tables and the
// pandas writer composes code from them, so every combination is covered by
// construction. MetricDefinitionsForPrompt() gives the same definitions to a
// model so both paths agree on what "revenue" or "no-show rate" means.
//
// All functions return references to immutable process-wide tables built on
// first use; thread-safe.
#ifndef VET_CORE_CODEGEN_SEMANTIC_LAYER_H_
#define VET_CORE_CODEGEN_SEMANTIC_LAYER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"

namespace vet::codegen {

// The tables a metric counts rows of.
enum class Base { kInvoiceLines = 0, kAppointments = 1, kClients = 2, kPatients = 3 };
inline constexpr int kBaseCount = 4;

// "invoice_lines", "appointments", "clients", "patients".
absl::string_view BaseTable(Base base);

// One aggregate a metric is computed from.
struct Component {
  std::string name;    // "invoices": a key of the measure and a column of a breakdown
  std::string column;  // "invoice_id"
  std::string agg;     // "sum", "nunique" or "size"
};

// An attribute restricted to some of its values.
struct FilterClause {
  std::string attribute;  // Attribute::id
  std::vector<std::string> values;
};

struct Metric {
  std::string id;       // "revenue": also the result column
  std::string display;  // "Revenue": starts answers
  std::vector<std::string> synonyms;
  Base base = Base::kInvoiceLines;
  // The date the period filters and time grains use; "" for a count of what is
  // on file now ("active clients"), which takes no period.
  std::string date_column;
  // One line for code comments and prompts.
  std::string definition;
  // Python statements on `df` (the period's rows) adding helper columns.
  std::vector<std::string> prepare;
  std::vector<Component> components;
  // value = scale * numerator / denominator, `{name}` standing for a component;
  // no denominator means value = scale * numerator.
  std::string numerator;
  std::string denominator;
  int scale = 1;
  std::string unit;  // "USD", "percent", "count" or "days"
  // Rows the metric counts at all ("no-show rate" looks only at completed,
  // no-show and cancelled appointments).
  std::vector<FilterClause> implied_filters;
  // "invoices": "No invoices in March 2026."
  std::string empty_noun;
  // Python f-string fragment after a single number, may use m["<component>"]:
  // " (12 of 160 appointments)".
  std::string detail;
  // Python f-string sentence appended to every answer when the Python
  // condition `note_when` holds; both may use m[...].
  std::string note;
  std::string note_when;
  // "table.column" the code reads, for checks against a practice's dataset.
  std::vector<std::string> reads;
  // Metrics whose words may name the rows this one is computed over, so that
  // naming both is still one metric: "no-show rate for dental appointments".
  std::vector<std::string> row_metrics;
  // For a count of what is on file now: the dated metric the same words mean
  // when the question names a period, a time breakdown or a verb implying it
  // ("patients" on file; "patients last month", "patients we saw": seen).
  std::string dated_alternative;
  // "What percentage of <share_of> were <share_filter>" means this metric
  // (a no-show rate, not no-shows over all appointments).
  std::string share_of;
  absl::optional<FilterClause> share_filter;
  // Counted against the as-of day rather than over a period ("lapsed
  // patients": last seen 18 to 36 months before it). The program then has
  // `as_of` (a pd.Timestamp), window_start(months) (the first day of the
  // rolling `months` months ending on the as-of day) and `done` (the
  // completed appointments starting up to the as-of day), which `prepare`
  // and `seen_rows` may use.
  bool uses_as_of = false;
  // For a count on file by status ("active clients"), the same words read by
  // visits: every answer also gives how many of `seen_rows` (Python: "df",
  // the metric's rows, or a whole table) had a completed appointment in each
  // of the last `seen_months` rolling months, matched on `seen_key`, and
  // names them `seen_noun`. Needs uses_as_of.
  // Attribute and time grain ids that neither break this metric down nor
  // filter it, though its table has them: revenue per FTE vet divides by all
  // the veterinarians' FTE, so "by vet" or "for Dr. Smith" would be wrong.
  std::vector<std::string> not_by;
  std::vector<int> seen_months;
  // Compares the period with the one before it (UnitBefore(), period.h):
  // the program has `period_before[start]`, (first day, last day, phrase)
  // of that period, which `prepare` and `detail` may use.
  bool looks_back = false;
  std::string seen_rows;
  std::string seen_key;
  std::string seen_noun;
};

// How an attribute's value is found for the rows of one base table: the
// column itself, or a lookup through an id into another table.
struct Source {
  std::string column;  // of the base table: "category", or an id like "patient_id"
  std::string table;   // "" when `column` holds the value; else "patients"
  std::string key;     // "patient_id"
  std::string value;   // "species"
  // Python applied to the column's values when the attribute is computed
  // from them (a table-less source only): ".dt.day_name().str.lower()".
  std::string transform;
};

// How answers and result tables name an attribute's values (issue 14:
// display names, never raw stored values).
enum class ValueNames {
  kAsStored,  // free text shown as the export has it: item descriptions, breeds
  kEnum,      // the schema's enum values: DisplayValue()
  // Staff full names, as managers address them: "Dr. <last name>" for a
  // veterinarian (the full name when two veterinarians share a last name),
  // other staff by their full name; worked out from the staff table.
  kStaff,
};

// A breakdown and filter dimension other than time.
struct Attribute {
  std::string id;       // "species": the result column and the filter key
  std::string display;  // "species"
  // Breakdown phrases: "by species", "per vet".
  std::vector<std::string> synonyms;
  // Indexed by Base; nullopt where the attribute does not apply.
  absl::optional<Source> sources[kBaseCount];
  // The schema's enum values, lower case (a computed attribute's own values:
  // weekday names); empty for free text.
  std::vector<std::string> values;
  // Whether each value (with "_" read as a space) is a filter word itself.
  bool value_words = false;
  ValueNames names = ValueNames::kAsStored;
  // kEnum: names that are not the value capitalised with "_" read as a
  // space ("no_show" -> "No-show").
  std::vector<std::pair<std::string, std::string>> value_names;
  // kEnum: the names are proper nouns ("Saturday") and keep their capital
  // inside a sentence; others read in lower case there ("for feline
  // patients", "with status no-show").
  bool proper_names = false;
  // Label of rows without a value ("walk-in sales have no vet").
  std::string missing_label = "(none)";
  // How answers name a filter on it, "{}" standing for the values joined by
  // "or": "for {} patients" -> "for feline or canine patients".
  std::string filter_phrase;
  // Filters a ranking by this attribute implies unless the question restricts
  // the same attribute: "which vet had the most" ranks veterinarians only.
  // A ranking never ranks the rows without a value (missing_label).
  std::vector<FilterClause> rank_filters;
  // Values whose rows lie after the as-of day (a scheduled appointment): a
  // question restricted to them that names no period covers the days after
  // the as-of day rather than the default period.
  std::vector<std::string> future_values;
};

// A time breakdown: month, week, ...
struct TimeGrain {
  std::string id;  // "month": the result column
  std::vector<std::string> synonyms;
  // Python: the bucket of each row from datetime Series `{d}`.
  std::string bucket;
  // Python: every bucket of [start, end], in order; may use start and end.
  std::string keys;
  // Python expression naming bucket `x`: "July 2026", "the week of 2026-10-19".
  std::string name;
  // Reads before the name after a value: "$40.00 in July 2026", "on Monday".
  std::string preposition;
  // A line chart (a trend) rather than bars (weekday, hour of day).
  bool line_chart = true;
  // Needs a time of day (appointments.starts_at), not just a date.
  bool needs_time_of_day = false;
  // The pandas frequency of a calendar bucket ("M"); "" for a grain that is
  // not a stretch of days (weekday, hour).
  std::string freq;
};

// A filter word: one or more phrases that restrict an attribute. The first
// candidate whose attribute applies to the metric's table wins ("dental" is an
// invoice category for revenue and an appointment type for appointments).
struct FilterWord {
  std::vector<std::string> phrases;
  std::vector<FilterClause> candidates;
  // The metric a question means when it names none ("no-shows last month").
  std::string implied_metric;
  // The word also names the period after the as-of day ("upcoming").
  bool upcoming = false;
};

enum class CueKind {
  kStop,         // carries no meaning for the parse: "what", "was", "our"
  kTrend,        // "trend", "over time": a time breakdown
  kRankHighest,  // "most", "highest", "top"
  kRankLowest,   // "least", "lowest", "bottom"
  kCompare,      // "growth", "change", "vs" without a named period
  kHint,         // a verb implying a metric when none is named: "earned", "saw"
  kShare,        // "share", "percentage": the part of a total the filters keep
  kUnsupported,  // a word whose meaning the planner cannot honour: declined
  // Follow-ups only (no meaning in a question of its own):
  kOverall,  // "overall", "without the breakdown": drop the breakdown
  kAllRows,  // "all animals", "without the filter": drop the filters
};

struct Cue {
  std::vector<std::string> phrases;
  CueKind kind = CueKind::kStop;
  // kHint, and ranks such as "busiest" (appointments).
  std::string implied_metric;
  // Rank cues: rows to keep (0 keeps all: "which vet had the most").
  int count = 0;
  // kUnsupported: why the question is declined.
  std::string reason;
};

const std::vector<Metric>& Metrics();
const std::vector<Attribute>& Attributes();
const std::vector<TimeGrain>& TimeGrains();
const std::vector<FilterWord>& FilterWords();
const std::vector<Cue>& Cues();

// How a result table and an answer's list of values name `value` of
// `attribute` (a kEnum attribute's declared value): "Canine", "No-show",
// "With an appointment". Any other value, and every value of an attribute
// that is not kEnum, is returned as it is.
std::string DisplayValue(const Attribute& attribute, absl::string_view value);

// The same name inside a sentence: lower case unless proper_names ("for
// feline patients", "on Saturday").
std::string PhraseValue(const Attribute& attribute, absl::string_view value);

// nullptr when unknown.
const Metric* FindMetric(absl::string_view id);
const Attribute* FindAttribute(absl::string_view id);
const TimeGrain* FindTimeGrain(absl::string_view id);

// Whether `attribute` (an Attribute id) applies to `metric`'s rows, as a
// filter or a breakdown: it has a source for the metric's table and is not in
// its not_by.
bool AttributeApplies(const Metric& metric, absl::string_view attribute);

// Whether `dimension` (an Attribute or TimeGrain id) can break `metric` down.
bool DimensionApplies(const Metric& metric, absl::string_view dimension);

// The metric definitions, one "- id (unit): definition" line each, for a
// model's prompt.
std::string MetricDefinitionsForPrompt();

// Questions the planner answers, shown when it declines one.
const std::vector<std::string>& ExampleQuestions();

}  // namespace vet::codegen

#endif  // VET_CORE_CODEGEN_SEMANTIC_LAYER_H_
