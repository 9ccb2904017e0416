// The pandas writer. Every program has the same skeleton so that its parts can
// be tested once: constants, formatting helpers, select(), measure(),
// measure_by(), then one of four bodies (a number, a breakdown, a number
// compared, a breakdown compared). Text that came from the question (period
// phrases, a staff name) only ever enters the program through PyStr().
#include "core/codegen/pandas_writer.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "core/codegen/semantic_layer.h"
#include "core/common/log.h"
#include "core/data/schema.h"

namespace vet::codegen {
namespace {

// Breakdown rows named in an answer; the table has them all.
constexpr int kAnswerRows = 8;
// Bars drawn; more would be unreadable.
constexpr int kChartRows = 20;

class Program {
 public:
  template <typename... Args>
  void Line(const Args&... args) {
    lines_.push_back(absl::StrCat(args...));
  }
  void Blank() { lines_.emplace_back(); }
  std::string Text() const { return absl::StrCat(absl::StrJoin(lines_, "\n"), "\n"); }

 private:
  std::vector<std::string> lines_;
};

std::string Lower(absl::string_view s) { return absl::AsciiStrToLower(s); }

std::string Plural(absl::string_view noun) {
  if (absl::EndsWith(noun, "species")) return std::string(noun);
  if (absl::EndsWith(noun, "y")) return absl::StrCat(noun.substr(0, noun.size() - 1), "ies");
  if (absl::EndsWith(noun, "s")) return absl::StrCat(noun, "es");
  return absl::StrCat(noun, "s");
}

// The clause's values as a sentence names them: "feline or canine".
std::string Values(const FilterClause& f) {
  const Attribute* a = FindAttribute(f.attribute);
  std::vector<std::string> values;
  values.reserve(f.values.size());
  for (const std::string& v : f.values) values.push_back(a != nullptr ? PhraseValue(*a, v) : v);
  return absl::StrJoin(values, " or ");
}

std::string PyList(const std::vector<std::string>& values) {
  std::vector<std::string> quoted;
  quoted.reserve(values.size());
  for (const std::string& v : values) quoted.push_back(PyStr(v));
  return absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
}

// The parts of a plan the writer needs, looked up once.
struct Parts {
  const QueryPlan& plan;
  const Metric& metric;
  Base base;
  std::string table;
  const Attribute* attribute = nullptr;  // a breakdown by an attribute
  const TimeGrain* grain = nullptr;      // a breakdown by time
  std::string key;                       // the breakdown column
  std::string key_display;               // "vet", "month"
  bool compared = false;
  // What the program reports: the metric, or its share (plan.share).
  std::string col;      // the result column: "revenue", "revenue_share"
  std::string display;  // "Revenue", "Share of revenue"
  std::string unit;     // "USD", "percent"
};

const Source& SourceOf(const Attribute& a, Base base) { return *a.sources[static_cast<int>(base)]; }

// Python for the attribute's value of each row of `df`.
std::string SourceExpr(const Attribute& a, Base base) {
  const Source& s = SourceOf(a, base);
  if (s.table.empty()) return absl::StrCat("df[", PyStr(s.column), "]", s.transform);
  return absl::StrCat("lookup(df[", PyStr(s.column), "], ", s.table, ", ", PyStr(s.key), ", ",
                      PyStr(s.value), ")");
}

std::string UnitLabel(absl::string_view unit) {
  if (unit == "percent") return "%";
  return std::string(unit);
}

std::string FilterText(const QueryPlan& plan) {
  std::vector<std::string> clauses;
  for (const FilterClause& f : plan.filters) {
    const Attribute& a = *FindAttribute(f.attribute);
    const std::string phrase =
        a.filter_phrase.empty() ? absl::StrCat("with ", a.display, " {}") : a.filter_phrase;
    clauses.push_back(absl::StrReplaceAll(phrase, {{"{}", Values(f)}}));
  }
  if (!plan.staff_name.empty()) {
    clauses.push_back(absl::StrCat("for staff named ", plan.staff_name));
  }
  if (clauses.empty()) return "";
  return absl::StrCat(" ", absl::StrJoin(clauses, " and "));
}

// `template_text` with each {component} as `prefix["component"]`.
std::string Substitute(absl::string_view template_text, const Metric& metric,
                       absl::string_view prefix) {
  std::vector<std::pair<std::string, std::string>> replacements;
  for (const Component& c : metric.components) {
    replacements.emplace_back(absl::StrCat("{", c.name, "}"),
                              absl::StrCat(prefix, "[", PyStr(c.name), "]"));
  }
  return absl::StrReplaceAll(template_text, replacements);
}

std::string ScaleTimes(int scale) { return scale == 1 ? "" : absl::StrCat(scale, " * "); }

std::string ChartTitle(const Parts& p) {
  std::string title = p.display;
  if (!p.key.empty()) absl::StrAppend(&title, " by ", p.key_display);
  absl::StrAppend(&title, FilterText(p.plan));
  if (p.plan.period) absl::StrAppend(&title, ", ", p.plan.period->Describe());
  if (p.compared) absl::StrAppend(&title, " vs ", p.plan.compare_period->Describe());
  return title;
}

// Whether the breakdown's values have names other than the stored ones.
bool NamesValues(const Parts& p) {
  return p.attribute != nullptr && p.attribute->names != ValueNames::kAsStored;
}

// display_names(keys): how the result table and the answer name the
// breakdown's values (issue 14: "Canine", "Dr. Patel", never a stored code).
// Applied to the result's key column once, so the table and the sentence
// built from it name each value the same way.
void WriteDisplayNames(Program& py, const Parts& p) {
  if (!NamesValues(p)) return;
  const Attribute& a = *p.attribute;
  py.Blank();
  py.Blank();
  if (a.names == ValueNames::kEnum) {
    std::vector<std::string> names;
    for (const std::string& v : a.values) {
      names.push_back(absl::StrCat(PyStr(v), ": ", PyStr(DisplayValue(a, v))));
    }
    py.Line("VALUE_NAMES = {", absl::StrJoin(names, ", "), "}");
    py.Blank();
    py.Blank();
    py.Line("def display_names(keys):");
    py.Line(
        "    \"\"\"Each value's display name; a value the schema does not list as it is.\"\"\"");
    py.Line("    return keys.map(lambda k: VALUE_NAMES.get(k, k))");
    return;
  }
  py.Line("def display_names(keys):");
  py.Line("    \"\"\"Staff as managers address them: \"Dr. <last name>\" for a veterinarian");
  py.Line("    (\"Dr. <full name>\" when two veterinarians share a last name), other");
  py.Line("    staff by full name. A name two people would share stays whole.\"\"\"");
  py.Line("    s = staff.dropna(subset=[\"full_name\"]).drop_duplicates(\"full_name\")");
  py.Line("    full = s[\"full_name\"].astype(str)");
  py.Line("    # The export may already say \"Dr\": not twice.");
  py.Line(
      "    bare = full.str.strip().str.replace(r\"^(?:dr\\.?|doctor)\\s+\", \"\", case=False, "
      "regex=True)");
  py.Line("    last = bare.str.split().str[-1]");
  py.Line(
      "    vet = s[\"role\"].eq(\"veterinarian\")  # role may be empty (an export without roles)");
  py.Line("    shared = last.where(vet).duplicated(keep=False) & vet");
  py.Line("    name = full.where(~vet, \"Dr. \" + last.where(~shared, bare))");
  py.Line("    name = name.where(name.notna() & ~name.duplicated(keep=False), full)");
  py.Line("    return keys.map(dict(zip(full, name))).fillna(keys)");
}

// "Ever": the placeholder start becomes the first day the metric's table
// has a date. A ranking of calendar buckets ranks whole ones only: the
// data's first month and the current one are cut short and would rank low
// for that alone; the explanation says what was left out.
void WriteAllTime(Program& py, const Parts& p) {
  const std::string date = PyStr(p.metric.date_column);
  py.Line("# \"Ever\": from the first day the data has to the as-of day.");
  py.Line("first = ", p.table, "[", date, "].min()");
  py.Line("start = max(start, first.normalize()) if pd.notna(first) else end");
  py.Line("left_out = []");
  if (p.plan.ranked && p.grain != nullptr && !p.grain->freq.empty()) {
    const std::string freq = PyStr(p.grain->freq);
    const std::string& unit = p.grain->id;
    py.Line("# Whole ", Plural(unit), " only: a ", unit,
            " the data covers in part would rank low for that alone.");
    py.Line("whole_start = start.to_period(", freq, ").start_time");
    py.Line("if whole_start < start:");
    py.Line("    whole_start = (start.to_period(", freq, ") + 1).start_time");
    py.Line("whole_end = end.to_period(", freq, ").end_time.normalize()");
    py.Line("if whole_end > end:");
    py.Line("    whole_end = (end.to_period(", freq, ") - 1).end_time.normalize()");
    py.Line("if whole_start <= whole_end:");
    py.Line("    if whole_start > start:");
    py.Line(
        "        left_out.append(f\"{start:%Y-%m-%d} to {whole_start - "
        "pd.Timedelta(days=1):%Y-%m-%d}"
        ", not a whole ",
        unit, "\")");
    py.Line("    if whole_end < end:");
    py.Line(
        "        left_out.append(f\"{whole_end + pd.Timedelta(days=1):%Y-%m-%d} to {end:%Y-%m-%d}"
        ", not yet a whole ",
        unit, "\")");
    py.Line("    start, end = whole_start, whole_end");
  }
  py.Line("period_text = f\"over all the data ({start:%Y-%m-%d} to {end:%Y-%m-%d})\"");
}

void WriteHeader(Program& py, const Parts& p) {
  py.Line("# ", SummarizePlan(p.plan));
  py.Line("# ", p.metric.display, ": ", p.metric.definition, ".");
  py.Line("# Written by the vet-analytics planner from the parse of the question.");
  py.Line("import numpy as np");
  py.Line("import pandas as pd");
  py.Blank();
  const QueryPlan& plan = p.plan;
  if (plan.period) {
    py.Line("# Days are whole: a row counts when start <= date < end + 1 day.");
    py.Line("start = pd.Timestamp(", PyStr(FormatDay(plan.period->start)), ")");
    py.Line("end = pd.Timestamp(", PyStr(FormatDay(plan.period->end)), ")");
    py.Line("period_text = ", PyStr(plan.period->Describe()));
    if (plan.period->form == PeriodForm::kAllTime) WriteAllTime(py, p);
  } else {
    py.Line("period_text = \"on file now\"");
  }
  if (plan.as_of) {
    py.Line("as_of = pd.Timestamp(", PyStr(FormatDay(*plan.as_of)), ")");
  }
  if (p.compared) {
    py.Line("prev_start = pd.Timestamp(", PyStr(FormatDay(plan.compare_period->start)), ")");
    py.Line("prev_end = pd.Timestamp(", PyStr(FormatDay(plan.compare_period->end)), ")");
    py.Line("prev_text = ", PyStr(plan.compare_period->Describe()));
  }
  if (p.metric.looks_back && plan.period) {
    py.Line("# The period each period asked about looks back to: first day, last day, phrase.");
    std::vector<std::pair<std::string, const Period*>> periods = {{"start", &*plan.period}};
    if (p.compared) periods.emplace_back("prev_start", &*plan.compare_period);
    std::vector<std::string> entries;
    for (const auto& [name, period] : periods) {
      const Period before = UnitBefore(*period);
      entries.push_back(absl::StrCat(name, ": (pd.Timestamp(", PyStr(FormatDay(before.start)),
                                     "), pd.Timestamp(", PyStr(FormatDay(before.end)), "), ",
                                     PyStr(before.Describe()), ")"));
    }
    py.Line("period_before = {", absl::StrJoin(entries, ", "), "}");
  }
  py.Line("filter_text = ", PyStr(FilterText(plan)));
  // A filter on an optional column the practice's export left empty (staff
  // roles from a system that exports none) would keep nothing and answer
  // zero: declined instead, saying why.
  for (const FilterClause& f : plan.filters) {
    const Attribute* a = FindAttribute(f.attribute);
    if (a == nullptr || !a->sources[static_cast<int>(p.base)].has_value()) continue;
    const Source& s = *a->sources[static_cast<int>(p.base)];
    // A value computed from the column (with or without an appointment)
    // means something even when the column is empty.
    if (!s.transform.empty()) continue;
    const std::string table = s.table.empty() ? p.table : s.table;
    const std::string column = s.table.empty() ? s.column : s.value;
    const data::TableSpec* spec = data::FindTable(table);
    const data::ColumnSpec* col = spec == nullptr ? nullptr : spec->FindColumn(column);
    if (col == nullptr || !col->optional) continue;
    py.Line("if ", table, "[", PyStr(column), "].isna().all():");
    py.Line("    decline = ",
            PyStr(absl::StrCat("The practice's data has no ", table, ".", column,
                               " values (its export had none), which ", "keeping only ", a->display,
                               " ", Values(f), " needs.")));
  }
  if (!plan.staff_name.empty()) {
    py.Line("staff_name = ", PyStr(plan.staff_name));
    py.Line("# A name that matches no one is declined, never answered with zero.");
    py.Line(
        "if not staff[\"full_name\"].str.contains(staff_name, case=False, regex=False, "
        "na=False).any():");
    py.Line("    names = sorted(staff[\"full_name\"].dropna().astype(str).unique())");
    py.Line("    decline = (f\"No staff member's name contains {staff_name!r}. The staff are: \"");
    py.Line(
        "               + \", \".join(names[:30]) + (\", ...\" if len(names) > 30 else \"\") "
        "+ \".\")");
  }
  py.Line("unit = ", PyStr(p.unit));
  py.Line("chart_title = ", PyStr(ChartTitle(p)));
  py.Blank();
  py.Blank();
  py.Line("def usd(v):");
  py.Line("    if pd.isna(v):");
  py.Line("        return \"n/a\"");
  py.Line("    return f\"-${-v:,.2f}\" if v < 0 else f\"${v:,.2f}\"");
  py.Blank();
  py.Blank();
  py.Line("def count(v):");
  py.Line("    if pd.isna(v):");
  py.Line("        return \"n/a\"");
  py.Line("    return f\"{v:,.0f}\" if float(v).is_integer() else f\"{v:,.2f}\"");
  py.Blank();
  py.Blank();
  py.Line("def pct(v):");
  py.Line("    return \"n/a\" if pd.isna(v) else f\"{v:.1f}%\"");
  py.Blank();
  py.Blank();
  auto formatter = [](absl::string_view unit) {
    return unit == "USD" ? "usd" : unit == "percent" ? "pct" : "count";
  };
  py.Line("fmt = ", formatter(p.unit));
  if (p.plan.share) py.Line("part_fmt = ", formatter(p.metric.unit));
  py.Blank();
  py.Blank();
  py.Line("def lookup(keys, table, key, column):");
  py.Line(
      "    \"\"\"table[column] for each id in keys (ids are unique in their "
      "table).\"\"\"");
  py.Line("    return keys.map(table.drop_duplicates(key).set_index(key)[column])");
  if (p.compared) {
    py.Blank();
    py.Blank();
    py.Line("def change(now, before):");
    py.Line(
        "    \"\"\"How `now` relates to `before`, ending in a "
        "preposition.\"\"\"");
    py.Line("    if pd.isna(now) or pd.isna(before):");
    py.Line("        return \"compared with\"");
    py.Line("    diff = now - before");
    py.Line("    if unit == \"percent\":");
    py.Line("        if abs(diff) < 0.05:");
    py.Line("            return \"unchanged from\"");
    py.Line(
        "        return f\"{'up' if diff > 0 else 'down'} {abs(diff):.1f} "
        "percentage points "
        "from\"");
    py.Line("    if diff == 0:");
    py.Line("        return \"unchanged from\"");
    py.Line("    if before == 0:");
    py.Line("        return \"up from\"");
    py.Line(
        "    return f\"{'up' if diff > 0 else 'down'} {abs(diff) / abs(before) "
        "* 100:.1f}% "
        "from\"");
  }
  if (plan.as_of) {
    py.Blank();
    py.Blank();
    py.Line("def window_start(months):");
    py.Line(
        "    \"\"\"The first day of the rolling `months` months ending on the as-of day.\"\"\"");
    py.Line("    return as_of - pd.DateOffset(months=months) + pd.Timedelta(days=1)");
    py.Blank();
    py.Blank();
    py.Line("# Completed appointments up to the as-of day: the visits (None when the");
    py.Line("# practice's export has no appointments).");
    py.Line("done = None");
    py.Line("if len(appointments):");
    py.Line("    done = appointments[(appointments[\"status\"] == \"completed\")");
    py.Line(
        "                        & (appointments[\"starts_at\"] < as_of + pd.Timedelta(days=1))]");
  }
  if (p.grain != nullptr) {
    py.Blank();
    py.Blank();
    py.Line("def name(x):");
    py.Line("    return ", p.grain->name);
  }
  WriteDisplayNames(py, p);
}

void WriteSelect(Program& py, const Parts& p) {
  const QueryPlan& plan = p.plan;
  const Metric& metric = p.metric;
  py.Blank();
  py.Blank();
  const std::string args = plan.period ? "start, end" : "";
  py.Line("def select(", args, "):");
  py.Line("    \"\"\"The ", p.table, " rows ", Lower(metric.display), " counts",
          plan.period ? ", from start to end" : "",
          p.key.empty() ? "" : absl::StrCat(", with their ", p.key_display), ".\"\"\"");
  if (plan.period) {
    py.Line("    day = ", p.table, "[", PyStr(metric.date_column), "]");
    py.Line("    df = ", p.table, "[(day >= start) & (day < end + pd.Timedelta(days=1))].copy()");
  } else {
    py.Line("    df = ", p.table, ".copy()");
  }
  for (const std::string& s : metric.prepare) py.Line("    ", s);
  if (p.attribute != nullptr) {
    py.Line("    df[", PyStr(p.key), "] = ", SourceExpr(*p.attribute, p.base), ".fillna(",
            PyStr(p.attribute->missing_label), ")");
  } else if (p.grain != nullptr) {
    py.Line("    df[", PyStr(p.key), "] = ",
            absl::StrReplaceAll(p.grain->bucket,
                                {{"{d}", absl::StrCat("df[", PyStr(metric.date_column), "]")}}));
  }
  std::vector<std::string> conditions;
  std::vector<std::string> said;
  auto add_clause = [&](const FilterClause& f) {
    const Attribute& a = *FindAttribute(f.attribute);
    const std::string column =
        p.attribute == &a ? absl::StrCat("df[", PyStr(p.key), "]") : SourceExpr(a, p.base);
    conditions.push_back(absl::StrCat(column, ".isin(", PyList(f.values), ")"));
    said.push_back(absl::StrCat(a.display, " ", Values(f)));
  };
  for (const FilterClause& f : metric.implied_filters) add_clause(f);
  // A share keeps every row and marks the part the question's filters name.
  const size_t kept = conditions.size();
  for (const FilterClause& f : plan.filters) add_clause(f);
  if (!plan.staff_name.empty()) {
    conditions.push_back(
        absl::StrCat(SourceExpr(*FindAttribute("vet"), p.base),
                     ".str.contains(staff_name, case=False, regex=False, na=False)"));
    said.push_back("staff whose name contains staff_name");
  }
  if (plan.share) {
    py.Line("    # The share's part: ", absl::StrJoin(said.begin() + kept, said.end(), "; "), ".");
    py.Line("    df[\"in_share\"] = (");
    for (size_t k = kept; k < conditions.size(); ++k) {
      py.Line("        ", k == kept ? "" : "& ", conditions[k]);
    }
    py.Line("    )");
    conditions.resize(kept);
    said.resize(kept);
  }
  if (!conditions.empty()) {
    py.Line("    # Keep ", absl::StrJoin(said, "; "), ".");
    py.Line("    df = df[");
    for (size_t k = 0; k < conditions.size(); ++k) {
      py.Line("        ", k == 0 ? "" : "& ", conditions[k]);
    }
    py.Line("    ]");
  }
  py.Line("    return df");
}

void WriteMeasures(Program& py, const Parts& p) {
  const Metric& metric = p.metric;
  py.Blank();
  py.Blank();
  const std::string suffix = p.plan.share ? "_of_rows" : "";
  py.Line("def measure", suffix, "(df):");
  py.Line("    \"\"\"", metric.display, " and its parts for the rows of df.\"\"\"");
  py.Line("    m = {");
  for (const Component& c : metric.components) {
    std::string expr;
    if (c.agg == "size") {
      expr = "len(df)";
    } else {
      expr = absl::StrCat("df[", PyStr(c.column), "].", c.agg, "()");
    }
    py.Line("        ", PyStr(c.name), ": ", expr, ",");
  }
  py.Line("    }");
  const std::string numerator = Substitute(metric.numerator, metric, "m");
  if (metric.denominator.empty()) {
    py.Line("    m[\"value\"] = ", ScaleTimes(metric.scale), numerator);
  } else {
    const std::string den = absl::StrCat("m[", PyStr(metric.denominator), "]");
    py.Line("    m[\"value\"] = ", ScaleTimes(metric.scale), "(", numerator, ") / ", den, " if ",
            den, " else np.nan");
  }
  py.Line("    return m");
  if (p.plan.share) {
    py.Blank();
    py.Blank();
    py.Line("def measure(df):");
    py.Line("    \"\"\"", p.display, ": the part in_share marks, in percent of all rows.\"\"\"");
    py.Line("    part = measure_of_rows(df[df[\"in_share\"]])[\"value\"]");
    py.Line("    whole = measure_of_rows(df)[\"value\"]");
    py.Line("    value = 100 * part / whole if whole else np.nan");
    py.Line("    return {\"part\": part, \"whole\": whole, \"value\": value}");
  }
  if (p.key.empty()) return;

  py.Blank();
  py.Blank();
  py.Line("def measure_by", suffix, "(df, key, keys=None):");
  py.Line("    \"\"\"", metric.display,
          " per value of df[key]; with keys, one row per key in that order "
          "(zero when "
          "absent).\"\"\"");
  py.Line("    t = df.groupby(key).agg(");
  for (const Component& c : metric.components) {
    py.Line("        ", c.name, "=(", PyStr(c.column), ", ", PyStr(c.agg), "),");
  }
  py.Line("    )");
  py.Line("    if keys is not None:");
  py.Line("        t = t.reindex(keys, fill_value=0)");
  py.Line("    t.index.name = key");
  const std::string vector_numerator = Substitute(metric.numerator, metric, "t");
  const std::string target = absl::StrCat("t[", PyStr(metric.id), "]");
  const std::string share_target = absl::StrCat("t[", PyStr(p.col), "]");
  if (metric.denominator.empty()) {
    if (vector_numerator != target || metric.scale != 1) {
      py.Line("    ", target, " = ", ScaleTimes(metric.scale), vector_numerator);
    }
  } else {
    py.Line("    ", target, " = ", ScaleTimes(metric.scale), "(", vector_numerator, ") / t[",
            PyStr(metric.denominator), "].replace(0, np.nan)");
  }
  py.Line("    return t");
  if (!p.plan.share) return;
  py.Blank();
  py.Blank();
  py.Line("def measure_by(df, key, keys=None):");
  py.Line("    \"\"\"", p.display, " per value of df[key].\"\"\"");
  py.Line("    whole = measure_by_of_rows(df, key, keys)");
  py.Line(
      "    t = measure_by_of_rows(df[df[\"in_share\"]], key, "
      "list(whole.index))");
  py.Line("    t[\"whole\"] = whole[", PyStr(metric.id), "]");
  py.Line("    ", share_target, " = 100 * ", target, " / t[\"whole\"].replace(0, np.nan)");
  py.Line("    return t");
}

// The metric's caveat, inside the `else:` of an answer; `m` must be the
// measure of all rows.
void WriteNote(Program& py, const Parts& p) {
  const Metric& metric = p.metric;
  // A share has only its part and whole (shares are of metrics without notes).
  if (metric.note.empty() || p.plan.share) return;
  py.Line("    if ", metric.note_when, ":");
  py.Line("        answer += f\"", metric.note, "\"");
}

// The fragment after a single number.
std::string Detail(const Parts& p) {
  if (p.plan.share) return " ({part_fmt(m['part'])} of {part_fmt(m['whole'])})";
  return p.metric.detail;
}

// "Revenue for feline patients last quarter (...)".
// Counts read as plurals: "New clients this year were 506".
absl::string_view Was(const Parts& p) { return p.unit == "count" ? " were " : " was "; }

std::string Opening(const Parts& p) {
  return absl::StrCat(p.display, "{filter_text} {period_text}");
}

// The start of a comparison's answer: "Revenue last month was $X, up 5.0%
// from $Y the month before." (or that neither period has data).
void WriteComparisonOpening(Program& py, const Parts& p) {
  py.Line("if df.empty and before.empty:");
  py.Line("    answer = f\"No ", p.metric.empty_noun,
          "{filter_text} {period_text} or {prev_text}.\"");
  py.Line("else:");
  py.Line("    answer = (f\"", Opening(p), Was(p), "{fmt(m['value'])}, \"");
  py.Line(
      "              f\"{change(m['value'], p['value'])} {fmt(p['value'])} "
      "{prev_text}.\")");
}

// A ranking ranks values: rows without one ("(no staff)" for walk-in sales)
// are not a contender.
void WriteDropMissing(Program& py, const Parts& p) {
  if (!p.plan.ranked || p.attribute == nullptr) return;
  py.Line("t = t.drop(index=[", PyStr(p.attribute->missing_label),
          "], errors=\"ignore\")  # rows without a ", p.key_display, " are not ranked");
}

bool GivesSeen(const Parts& p) { return !p.metric.seen_months.empty() && !p.plan.share; }

// A count on file by status also gives the same words read by visits
// ("active clients": those with a completed appointment in the last 12 and 18
// months), so the answer says which reading it used and what the other gives.
// After the answer of every shape, outside its `else:`.
void WriteSeen(Program& py, const Parts& p) {
  if (!GivesSeen(p)) return;
  const Metric& metric = p.metric;
  std::vector<std::string> months;
  for (int m : metric.seen_months) months.push_back(absl::StrCat(m));
  std::vector<std::string> status;
  for (const FilterClause& f : metric.implied_filters) {
    status.push_back(absl::StrCat(FindAttribute(f.attribute)->display, " ", Values(f)));
  }
  const std::string key = PyStr(metric.seen_key);
  py.Blank();
  py.Line("# The same words by visits: a completed appointment in the rolling months");
  py.Line("# up to the as-of day.");
  const std::string said = absl::StrCat("by status on file (", absl::StrJoin(status, "; "), ")");
  py.Line("notes = [", PyStr(absl::StrCat("Counted ", said, ", not by visits.")), "]");
  py.Line("if done is None:");
  py.Line("    answer += \" The data has no appointments to count by visits.\"");
  py.Line("else:");
  py.Line("    seen_rows = ", metric.seen_rows);
  py.Line("    by_visits = {k: int(seen_rows[", key,
          "].isin(done.loc[done[\"starts_at\"] >= ", "window_start(k), ", key, "]).sum())");
  py.Line("                 for k in [", absl::StrJoin(months, ", "), "]}");
  const std::string first = absl::StrCat(metric.seen_months[0]);
  py.Line("    answer += (f\" That counts ", said, "; by visits, {count(by_visits[", first,
          "])} \"");
  py.Line("               f\"", metric.seen_noun,
          "{filter_text} had a completed appointment in the last ", first, " months \"");
  py.Line("               f\"(since {window_start(", first, "):%Y-%m-%d})\"");
  py.Line("               + \"\".join(f\", {count(n)} in the last {k} months (since \"");
  py.Line("                         f\"{window_start(k):%Y-%m-%d})\"");
  py.Line("                         for k, n in list(by_visits.items())[1:]) + \".\")");
  py.Line("    notes += [f\"By visits: {count(n)} ", metric.seen_noun,
          "{filter_text} had a completed appointment in the last {k} months \"");
  py.Line("              f\"({window_start(k):%Y-%m-%d} to {as_of:%Y-%m-%d}).\"");
  py.Line("              for k, n in by_visits.items()]");
}

void WriteNumber(Program& py, const Parts& p) {
  const Metric& metric = p.metric;
  const std::string call = p.plan.period ? "select(start, end)" : "select()";
  py.Blank();
  py.Blank();
  py.Line("df = ", call);
  py.Line("m = measure(df)");
  py.Line("result = float(m[\"value\"]) if pd.notna(m[\"value\"]) else \"n/a\"");
  py.Line("if df.empty:");
  py.Line("    answer = f\"No ", metric.empty_noun, "{filter_text} {period_text}.\"");
  py.Line("else:");
  if (p.plan.period) {
    py.Line("    answer = f\"", Opening(p), Was(p), "{fmt(m['value'])}", Detail(p), ".\"");
  } else {
    py.Line("    answer = f\"", Opening(p), ": {fmt(m['value'])}", Detail(p), ".\"");
  }
  WriteNote(py, p);
  WriteSeen(py, p);
}

void WriteNumberCompared(Program& py, const Parts& p) {
  py.Blank();
  py.Blank();
  py.Line("df = select(start, end)");
  py.Line("before = select(prev_start, prev_end)");
  py.Line("m = measure(df)");
  py.Line("p = measure(before)");
  py.Line("result = pd.DataFrame({");
  py.Line(
      "    \"period\": [f\"{start:%Y-%m-%d} to {end:%Y-%m-%d}\", "
      "f\"{prev_start:%Y-%m-%d} to {prev_end:%Y-%m-%d}\"],");
  py.Line("    ", PyStr(p.col), ": [m[\"value\"], p[\"value\"]],");
  py.Line("})");
  WriteComparisonOpening(py, p);
  WriteNote(py, p);
  py.Blank();
  py.Line("import matplotlib.pyplot as plt  # only programs that draw pay for it");
  py.Line("fig, ax = plt.subplots(figsize=(7, 4.5))");
  py.Line("ax.bar(result[\"period\"], result[", PyStr(p.col), "].fillna(0))");
  py.Line("ax.set_title(chart_title)");
  py.Line("ax.set_xlabel(\"Period\")");
  py.Line("ax.set_ylabel(", PyStr(absl::StrCat(p.display, " (", UnitLabel(p.unit), ")")), ")");
  py.Line("fig.tight_layout()");
}

void WriteBreakdown(Program& py, const Parts& p) {
  const Metric& metric = p.metric;
  const QueryPlan& plan = p.plan;
  const std::string col = PyStr(p.col);
  const std::string key = PyStr(p.key);
  // Inside f-string expressions Python 3.11 needs the other quote.
  const std::string qcol = absl::StrCat("'", p.col, "'");
  const std::string qkey = absl::StrCat("'", p.key, "'");
  const bool line = p.grain != nullptr && p.grain->line_chart && !plan.ranked;
  const bool sorted = plan.ranked || p.grain == nullptr;
  py.Blank();
  py.Blank();
  py.Line("df = ", plan.period ? "select(start, end)" : "select()");
  py.Line("m = measure(df)");
  const FilterClause* named = nullptr;  // "Saturday vs Sunday": the values
  for (const FilterClause& f : plan.filters) {
    if (p.attribute != nullptr && f.attribute == p.attribute->id) named = &f;
  }
  if (p.grain != nullptr) {
    py.Line("keys = ", p.grain->keys);
    py.Line("t = measure_by(df, ", key, ", keys)");
  } else if (named != nullptr) {
    // Every value the question names has a row, zero when it has none.
    py.Line("t = measure_by(df, ", key, ", ", PyList(named->values), ")");
  } else {
    py.Line("t = measure_by(df, ", key, ")");
  }
  if (sorted) {
    // A stable sort on values rounded past any money or percentage: ties
    // (also those only float rounding tells apart) keep the breakdown's own
    // order (chronological, or by value), the same on every run.
    py.Line("t = t.loc[t[", col,
            "].round(6).sort_values(ascending=", plan.ascending ? "True" : "False",
            ", kind=\"mergesort\").index]");
  }
  WriteDropMissing(py, p);
  if (plan.ranked && plan.top_n > 0) py.Line("t = t.head(", plan.top_n, ")");
  py.Line("result = t[[", col, "]].reset_index()");
  if (NamesValues(p)) py.Line("result[", key, "] = display_names(result[", key, "])");
  py.Line("shown = result.dropna(subset=[", col, "])");
  py.Line("if df.empty or shown.empty:");
  py.Line("    answer = f\"No ", metric.empty_noun, "{filter_text} {period_text}.\"");
  py.Line("else:");
  const std::string named_key = p.grain != nullptr ? "name(k)" : "k";
  if (line) {
    py.Line("    answer = f\"", Opening(p), Was(p), "{fmt(m['value'])}\"");
    py.Line("    if len(shown) > 1:");
    py.Line("        first, last = shown.index[0], shown.index[-1]");
    py.Line("        answer += (f\", from {fmt(shown.loc[first, ", qcol, "])} ",
            p.grain->preposition, " {name(shown.loc[first, ", qkey, "])}\"");
    py.Line("                   f\" to {fmt(shown.loc[last, ", qcol, "])} ", p.grain->preposition,
            " {name(shown.loc[last, ", qkey, "])}\")");
    py.Line("    answer += \".\"");
    py.Line("    if len(shown) > 2:");
    py.Line("        peak = shown[", col, "].idxmax()");
    py.Line("        answer += (f\" The highest was {fmt(shown.loc[peak, ", qcol, "])} ",
            p.grain->preposition, " \"");
    py.Line("                   f\"{name(shown.loc[peak, ", qkey, "])}.\")");
  } else if (plan.ranked && plan.top_n == 0) {
    const bool counts = p.unit == "count";
    const std::string most = plan.ascending ? (counts ? "the fewest" : "the lowest")
                                            : (counts ? "the most" : "the highest");
    const std::string lead =
        p.grain != nullptr ? "name(shown[" + qkey + "].iloc[0])" : "shown[" + qkey + "].iloc[0]";
    const std::string second =
        p.grain != nullptr ? "name(shown[" + qkey + "].iloc[1])" : "shown[" + qkey + "].iloc[1]";
    py.Line("    answer = (f\"{", lead, "} had ", most, " ", Lower(p.display),
            "{filter_text} {period_text}: \"");
    py.Line("              f\"{fmt(shown[", qcol, "].iloc[0])}\")");
    py.Line("    if len(shown) > 1:");
    py.Line("        answer += f\", ahead of {", second, "} ({fmt(shown[", qcol, "].iloc[1])})\"");
    py.Line("    answer += \".\"");
  } else {
    // Hours and weekdays keep their order; the empty ones are left out of
    // the sentence (the table has them).
    const bool ordered = p.grain != nullptr && !plan.ranked;
    py.Line("    parts = [f\"{", named_key, "} {fmt(v)}\" for k, v in zip(shown[", key, "], shown[",
            col, "])", ordered ? " if v != 0" : "", "]");
    if (plan.ranked) {
      py.Line("    answer = (f\"", plan.ascending ? "Bottom" : "Top", " {len(parts)} ",
              Plural(p.key_display), " by ", Lower(p.display), "{filter_text} {period_text}: \"");
      py.Line(
          "              + \"; \".join(parts) + f\". In all: "
          "{fmt(m['value'])}.\")");
    } else {
      py.Line("    answer = f\"", Opening(p), plan.period ? Was(p) : ": ", "{fmt(m['value'])}. By ",
              p.key_display, ": \" + \"; \".join(parts[:", kAnswerRows, "])");
      py.Line("    answer += f\"; and {len(parts) - ", kAnswerRows, "} more.\" if len(parts) > ",
              kAnswerRows, " else \".\"");
    }
  }
  WriteNote(py, p);
  WriteSeen(py, p);
  py.Blank();
  py.Line("if not (df.empty or shown.empty):");
  const std::string ylabel = PyStr(absl::StrCat(p.display, " (", UnitLabel(p.unit), ")"));
  const std::string key_label = PyStr(
      absl::StrCat(absl::AsciiStrToUpper(p.key_display.substr(0, 1)), p.key_display.substr(1)));
  if (line) {
    py.Line("    import matplotlib.pyplot as plt  # only programs that draw pay for it");
    py.Line("    fig, ax = plt.subplots(figsize=(9, 4.5))");
    py.Line("    ax.plot(result[", key, "].astype(str), result[", col, "], marker=\"o\")");
    py.Line("    ax.xaxis.set_major_locator(plt.MaxNLocator(12, integer=True))");
    py.Line("    ax.tick_params(axis=\"x\", labelrotation=45)");
    py.Line("    ax.grid(True, alpha=0.3)");
    py.Line("    ax.set_xlabel(", key_label, ")");
    py.Line("    ax.set_ylabel(", ylabel, ")");
  } else if (p.grain != nullptr && !plan.ranked) {
    py.Line("    import matplotlib.pyplot as plt  # only programs that draw pay for it");
    py.Line("    fig, ax = plt.subplots(figsize=(9, 4.5))");
    py.Line("    ax.bar(result[", key, "].astype(str), result[", col, "].fillna(0))");
    py.Line("    ax.set_xlabel(", key_label, ")");
    py.Line("    ax.set_ylabel(", ylabel, ")");
  } else {
    py.Line("    bars = shown.head(", kChartRows, ").iloc[::-1]  # largest at the top");
    py.Line("    import matplotlib.pyplot as plt  # only programs that draw pay for it");
    py.Line("    fig, ax = plt.subplots(figsize=(9, 1.5 + 0.35 * len(bars)))");
    py.Line("    ax.barh(bars[", key, "].astype(str), bars[", col, "])");
    py.Line("    ax.set_xlabel(", ylabel, ")");
    py.Line("    ax.set_ylabel(", key_label, ")");
  }
  py.Line("    ax.set_title(chart_title)");
  py.Line("    fig.tight_layout()");
}

void WriteBreakdownCompared(Program& py, const Parts& p) {
  const QueryPlan& plan = p.plan;
  const std::string col = PyStr(p.col);
  const std::string prev_col = PyStr(absl::StrCat(p.col, "_previous"));
  const bool points = p.unit == "percent";
  const std::string change_col = PyStr(points ? "change_points" : "change_percent");
  const std::string key = PyStr(p.key);
  py.Blank();
  py.Blank();
  py.Line("df = select(start, end)");
  py.Line("before = select(prev_start, prev_end)");
  py.Line("m = measure(df)");
  py.Line("p = measure(before)");
  if (p.grain != nullptr) {
    py.Line("keys = ", p.grain->keys);
  } else {
    py.Line("keys = sorted(set(df[", key, "]) | set(before[", key, "]))");
  }
  py.Line("t = measure_by(df, ", key, ", keys)");
  py.Line("b = measure_by(before, ", key, ", keys)");
  py.Line("t[", prev_col, "] = b[", col, "]");
  if (points) {
    py.Line("t[", change_col, "] = t[", col, "] - b[", col, "]");
  } else {
    py.Line("t[", change_col, "] = 100 * (t[", col, "] - b[", col, "]) / b[", col,
            "].abs().replace(0, np.nan)");
  }
  if (plan.ranked || p.grain == nullptr) {
    // A stable sort on values rounded past any money or percentage: ties
    // (also those only float rounding tells apart) keep the breakdown's own
    // order (chronological, or by value), the same on every run.
    py.Line("t = t.loc[t[", col,
            "].round(6).sort_values(ascending=", plan.ascending ? "True" : "False",
            ", kind=\"mergesort\").index]");
  }
  WriteDropMissing(py, p);
  if (plan.ranked && plan.top_n > 0) py.Line("t = t.head(", plan.top_n, ")");
  py.Line("result = t[[", col, ", ", prev_col, ", ", change_col, "]].reset_index()");
  if (NamesValues(p)) py.Line("result[", key, "] = display_names(result[", key, "])");
  const std::string named_key = p.grain != nullptr ? "name(k)" : "k";
  WriteComparisonOpening(py, p);
  py.Line("    parts = [f\"{", named_key, "} {fmt(a)} ({change(a, z)} {fmt(z)})\"");
  py.Line("             for k, a, z in zip(result[", key, "], result[", col, "], result[", prev_col,
          "])]");
  py.Line("    answer += \" By ", p.key_display, ": \" + \"; \".join(parts[:", kAnswerRows, "])");
  py.Line("    answer += f\"; and {len(parts) - ", kAnswerRows, "} more.\" if len(parts) > ",
          kAnswerRows, " else \".\"");
  WriteNote(py, p);
  py.Blank();
  py.Line("if not result.empty:");
  py.Line("    bars = result.head(", kChartRows, ").iloc[::-1]  # first row at the top");
  py.Line("    y = np.arange(len(bars))");
  py.Line("    import matplotlib.pyplot as plt  # only programs that draw pay for it");
  py.Line("    fig, ax = plt.subplots(figsize=(9, 1.5 + 0.5 * len(bars)))");
  py.Line("    ax.barh(y + 0.2, bars[", col,
          "].fillna(0), height=0.4, label=f\"{start:%Y-%m-%d} to "
          "{end:%Y-%m-%d}\")");
  py.Line("    ax.barh(y - 0.2, bars[", prev_col,
          "].fillna(0), height=0.4, label=f\"{prev_start:%Y-%m-%d} to "
          "{prev_end:%Y-%m-%d}\")");
  py.Line("    ax.set_yticks(y)");
  py.Line("    ax.set_yticklabels(bars[", key, "].astype(str))");
  py.Line("    ax.set_xlabel(", PyStr(absl::StrCat(p.display, " (", UnitLabel(p.unit), ")")), ")");
  py.Line("    ax.legend()");
  py.Line("    ax.set_title(chart_title)");
  py.Line("    fig.tight_layout()");
}

}  // namespace

std::string PyStr(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

// The units of the result's columns and how the answer was computed, for
// the FinalAnswer's explanation (runner.py reads `units` and
// `explanation`). After the answer, so every shape has `df` (and `before`
// when compared).
void WriteExplanation(Program& py, const Parts& p) {
  const QueryPlan& plan = p.plan;
  const Metric& metric = p.metric;
  const std::string rows_noun = absl::StrReplaceAll(p.table, {{"_", " "}});
  py.Blank();
  py.Line("# What the answer counted, for its explanation.");
  std::vector<std::string> units;
  auto unit = [&units](absl::string_view column, absl::string_view u) {
    units.push_back(absl::StrCat(PyStr(column), ": ", PyStr(u)));
  };
  unit(p.col, p.unit);
  if (p.compared) {
    unit(absl::StrCat(p.col, "_previous"), p.unit);
    unit(p.unit == "percent" ? "change_points" : "change_percent",
         p.unit == "percent" ? "percentage points" : "percent");
  }
  if (p.grain != nullptr && p.grain->id == "month") unit(p.key, "month");
  py.Line("units = {", absl::StrJoin(units, ", "), "}");
  py.Line("explanation = {");
  py.Line("    \"metric\": ", PyStr(p.display), ",");
  py.Line("    \"definition\": ", PyStr(metric.definition), ",");
  if (plan.period) {
    // From the program's start and end: "ever" narrows them to the data.
    py.Line(
        "    \"period\": {\"start\": f\"{start:%Y-%m-%d}\", \"end\": f\"{end:%Y-%m-%d}\", "
        "\"text\": period_text},");
  }
  if (p.compared) {
    py.Line("    \"compared\": {\"start\": ", PyStr(FormatDay(plan.compare_period->start)),
            ", \"end\": ", PyStr(FormatDay(plan.compare_period->end)), ", \"text\": prev_text},");
  }
  std::vector<std::string> filters;
  for (const FilterClause& f : plan.filters) {
    filters.push_back(PyStr(absl::StrCat(plan.share ? "the share's part: " : "",
                                         FindAttribute(f.attribute)->display, " ", Values(f))));
  }
  if (!plan.staff_name.empty()) {
    filters.push_back(PyStr(absl::StrCat("staff whose name contains ", plan.staff_name)));
  }
  py.Line("    \"filters\": [", absl::StrJoin(filters, ", "), "],");
  if (p.compared) {
    py.Line("    \"counted\": f\"{len(df):,} ", rows_noun, " ({len(before):,} ", rows_noun,
            " {prev_text})\",");
  } else {
    py.Line("    \"counted\": f\"{len(df):,} ", rows_noun, "\",");
  }
  py.Line("    \"excluded\": [],");
  if (GivesSeen(p)) py.Line("    \"notes\": notes,");
  py.Line("}");
  if (plan.period && plan.period->form == PeriodForm::kAllTime) {
    py.Line("explanation[\"excluded\"] += left_out");
  }
  if (plan.ranked && p.attribute != nullptr) {
    py.Line("unranked = int((df[", PyStr(p.key), "] == ", PyStr(p.attribute->missing_label),
            ").sum())");
    py.Line("if unranked:");
    py.Line("    explanation[\"excluded\"].append(f\"{unranked:,} ", rows_noun, " without a ",
            p.key_display, ", not ranked\")");
  }
}

std::string WritePandas(const QueryPlan& plan) {
  const Metric* metric = FindMetric(plan.metric);
  VET_CHECK(metric != nullptr);
  Parts p{plan, *metric, metric->base, std::string(BaseTable(metric->base))};
  p.col = plan.share ? absl::StrCat(metric->id, "_share") : metric->id;
  p.display = plan.share ? absl::StrCat("Share of ", Lower(metric->display)) : metric->display;
  p.unit = plan.share ? "percent" : metric->unit;
  if (!plan.dimension.empty()) {
    p.attribute = FindAttribute(plan.dimension);
    p.grain = FindTimeGrain(plan.dimension);
    VET_CHECK(p.attribute != nullptr || p.grain != nullptr);
    VET_CHECK(DimensionApplies(*metric, plan.dimension));
    p.key = plan.dimension;
    p.key_display = p.attribute != nullptr ? p.attribute->display : p.grain->id;
  }
  VET_CHECK(plan.period.has_value() == !metric->date_column.empty());
  VET_CHECK(plan.as_of.has_value() == metric->uses_as_of);
  p.compared = plan.comparison != Comparison::kNone && plan.compare_period.has_value() &&
               plan.period.has_value();

  Program py;
  WriteHeader(py, p);
  WriteSelect(py, p);
  WriteMeasures(py, p);
  if (p.key.empty()) {
    if (p.compared) {
      WriteNumberCompared(py, p);
    } else {
      WriteNumber(py, p);
    }
  } else if (p.compared) {
    WriteBreakdownCompared(py, p);
  } else {
    WriteBreakdown(py, p);
  }
  WriteExplanation(py, p);
  // Every shape's answer may open with a value as the data stores it (an
  // item description in lower case): answers start with a capital.
  py.Blank();
  py.Line("answer = answer[:1].upper() + answer[1:]");
  return py.Text();
}

std::string SummarizePlan(const QueryPlan& plan) {
  std::string s = plan.metric;
  if (plan.share) s = absl::StrCat("share of ", s);
  if (plan.ranked) {
    s = absl::StrCat(plan.ascending ? "bottom " : "top ",
                     plan.top_n > 0 ? absl::StrCat(plan.top_n, " ") : "", plan.dimension, " by ",
                     plan.metric);
  } else if (!plan.dimension.empty()) {
    absl::StrAppend(&s, " by ", plan.dimension);
  }
  std::vector<std::string> where;
  for (const FilterClause& f : plan.filters) {
    where.push_back(absl::StrCat(f.attribute, "=", absl::StrJoin(f.values, "|")));
  }
  if (!plan.staff_name.empty()) where.push_back(absl::StrCat("staff~", plan.staff_name));
  if (!where.empty()) absl::StrAppend(&s, " where ", absl::StrJoin(where, ", "));
  if (plan.period) {
    absl::StrAppend(&s, ", ", FormatDay(plan.period->start), "..", FormatDay(plan.period->end));
  } else {
    absl::StrAppend(&s, ", now");
  }
  if (plan.comparison != Comparison::kNone && plan.compare_period) {
    absl::StrAppend(&s, " vs ", FormatDay(plan.compare_period->start), "..",
                    FormatDay(plan.compare_period->end));
  }
  return s;
}

std::vector<std::string> ColumnsRead(const QueryPlan& plan) {
  std::set<std::string> columns;
  const Metric* metric = FindMetric(plan.metric);
  if (metric == nullptr) return {};
  const std::string table(BaseTable(metric->base));
  columns.insert(metric->reads.begin(), metric->reads.end());
  auto add_attribute = [&](const std::string& id) {
    const Attribute* a = FindAttribute(id);
    if (a == nullptr || !a->sources[static_cast<int>(metric->base)]) return;
    const Source& s = SourceOf(*a, metric->base);
    columns.insert(absl::StrCat(table, ".", s.column));
    if (!s.table.empty()) {
      columns.insert(absl::StrCat(s.table, ".", s.key));
      columns.insert(absl::StrCat(s.table, ".", s.value));
    }
  };
  for (const FilterClause& f : metric->implied_filters) add_attribute(f.attribute);
  for (const FilterClause& f : plan.filters) add_attribute(f.attribute);
  if (!plan.staff_name.empty()) add_attribute("vet");
  add_attribute(plan.dimension);
  return {columns.begin(), columns.end()};
}

}  // namespace vet::codegen
