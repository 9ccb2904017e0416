// The planner's parse and composed code, as tables and matrices. Pure C++:
// the programs are run by planner_exec_test.cc.
#include "core/codegen/planner.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/codegen/pandas_writer.h"
#include "core/codegen/question_parser.h"
#include "core/codegen/semantic_layer.h"
#include "core/codegen/tokenizer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::codegen {
namespace {

using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

const absl::CivilDay kAsOf(2026, 10, 26);

QueryPlan MustParse(absl::string_view question, const QueryPlan* previous = nullptr) {
  absl::StatusOr<QueryPlan> plan = ParseQuestion(question, kAsOf, previous);
  EXPECT_TRUE(plan.ok()) << question << ": " << plan.status();
  return plan.value_or(QueryPlan());
}

std::string Range(const QueryPlan& plan) {
  if (!plan.period) return "none";
  return absl::StrCat(FormatDay(plan.period->start), "..", FormatDay(plan.period->end));
}

std::string Filters(const QueryPlan& plan) {
  std::vector<std::string> parts;
  for (const FilterClause& f : plan.filters) {
    parts.push_back(absl::StrCat(f.attribute, "=", absl::StrJoin(f.values, "|")));
  }
  return absl::StrJoin(parts, ",");
}

CodeRequest Request(std::string question) {
  CodeRequest r;
  r.practice_id = "p1";
  r.question = std::move(question);
  r.as_of = kAsOf;
  return r;
}

absl::StatusOr<GeneratedCode> Generate(Planner& planner, const CodeRequest& request) {
  CancellationToken cancel;
  return planner.Generate(request, cancel);
}

TEST(PlannerTest, RevenueTrendLastQuarter) {
  Planner planner;
  absl::StatusOr<GeneratedCode> out =
      Generate(planner, Request("What was our revenue trend last quarter?"));
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(out->generator, "planner");
  EXPECT_EQ(out->model, "");
  EXPECT_EQ(out->cost_micros, 0);
  EXPECT_EQ(out->summary, "revenue by month, 2026-07-01..2026-09-30");
  EXPECT_THAT(out->code, HasSubstr("start = pd.Timestamp(\"2026-07-01\")"));
  EXPECT_THAT(out->code, HasSubstr("end = pd.Timestamp(\"2026-09-30\")"));
  EXPECT_THAT(out->code, HasSubstr("day = invoice_lines[\"invoiced_on\"]"));
  EXPECT_THAT(out->code, HasSubstr("(day >= start) & (day < end + pd.Timedelta(days=1))"));
  EXPECT_THAT(out->code, HasSubstr("df[\"month\"] = df[\"invoiced_on\"].dt.to_period(\"M\")"));
  EXPECT_THAT(out->code, HasSubstr("pd.period_range(start, end, freq=\"M\")"));
  EXPECT_THAT(out->code, HasSubstr("revenue=(\"amount\", \"sum\")"));
  EXPECT_THAT(out->code, HasSubstr("ax.plot("));
  EXPECT_THAT(out->code, HasSubstr("ax.set_title(chart_title)"));
  EXPECT_THAT(out->code, HasSubstr("ax.set_ylabel(\"Revenue (USD)\")"));
  EXPECT_THAT(out->code, HasSubstr("unit = \"USD\""));
  EXPECT_THAT(out->code, HasSubstr("period_text = \"last quarter (2026-07-01 to 2026-09-30)\""));
  EXPECT_THAT(out->code, HasSubstr("answer = "));
  EXPECT_THAT(out->code, HasSubstr("result = "));
  EXPECT_THAT(out->code, Not(HasSubstr("import os")));

  absl::StatusOr<QueryPlan> plan = DeserializePlan(out->plan);
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->metric, "revenue");
  EXPECT_EQ(plan->dimension, "month");
  EXPECT_EQ(Range(*plan), "2026-07-01..2026-09-30");
}

TEST(PlannerTest, EstimateIsFree) {
  Planner planner;
  const CostEstimate e = planner.Estimate(Request("revenue"));
  EXPECT_EQ(e.model, "planner");
  EXPECT_EQ(e.micros, 0);
}

struct ParseCase {
  const char* question;
  const char* metric;
  const char* dimension;
  const char* filters;
  const char* range;
};

const ParseCase kParseCases[] = {
    {"What was our revenue last month?", "revenue", "", "", "2026-09-01..2026-09-30"},
    {"How much did we make this year?", "revenue", "", "", "2026-01-01..2026-10-26"},
    {"Revenue", "revenue", "", "", "2026-01-01..2026-10-26"},
    {"total sales in 2025", "revenue", "", "", "2025-01-01..2025-12-31"},
    {"monthly revenue", "revenue", "month", "", "2025-11-01..2026-10-26"},
    {"revenue trend", "revenue", "month", "", "2025-11-01..2026-10-26"},
    {"revenue over time this month", "revenue", "week", "", "2026-10-01..2026-10-26"},
    {"revenue trend last week", "revenue", "day", "", "2026-10-19..2026-10-25"},
    {"weekly revenue last quarter", "revenue", "week", "", "2026-07-01..2026-09-30"},
    {"revenue by quarter in 2025", "revenue", "quarter", "", "2025-01-01..2025-12-31"},
    {"revenue per vet last month", "revenue", "vet", "", "2026-09-01..2026-09-30"},
    {"revenue by category YTD", "revenue", "category", "", "2026-01-01..2026-10-26"},
    {"revenue by species for Q3 2025", "revenue", "species", "", "2025-07-01..2025-09-30"},
    {"dental revenue last quarter", "revenue", "", "category=dental", "2026-07-01..2026-09-30"},
    {"revenue from cats and dogs in March", "revenue", "", "species=feline|canine",
     "2026-03-01..2026-03-31"},
    {"How many transactions did we have last week?", "transactions", "", "",
     "2026-10-19..2026-10-25"},
    {"number of invoices by vet this month", "transactions", "vet", "", "2026-10-01..2026-10-26"},
    {"visits with a charge in the last 30 days", "transactions", "", "", "2026-09-27..2026-10-26"},
    {"ATC by month this year", "average_transaction_charge", "month", "", "2026-01-01..2026-10-26"},
    {"average invoice for feline patients last year", "average_transaction_charge", "",
     "species=feline", "2025-01-01..2025-12-31"},
    {"average spend per visit last quarter", "average_transaction_charge", "", "",
     "2026-07-01..2026-09-30"},
    {"gross margin by category last month", "gross_margin", "category", "",
     "2026-09-01..2026-09-30"},
    {"margin % on pharmacy this year", "margin_percent", "", "category=pharmacy",
     "2026-01-01..2026-10-26"},
    {"profit margin by item in 2025", "margin_percent", "item", "", "2025-01-01..2025-12-31"},
    {"How many appointments last month?", "appointments", "", "", "2026-09-01..2026-09-30"},
    {"completed appointments by vet last week", "appointments", "vet",
     "appointment_status=completed", "2026-10-19..2026-10-25"},
    {"no-shows last month", "appointments", "", "appointment_status=no_show",
     "2026-09-01..2026-09-30"},
    {"emergencies by weekday this year", "appointments", "weekday", "appointment_type=emergency",
     "2026-01-01..2026-10-26"},
    {"dental appointments in Q3 2025", "appointments", "", "appointment_type=dental",
     "2025-07-01..2025-09-30"},
    {"no-show rate by vet last month", "no_show_rate", "vet", "", "2026-09-01..2026-09-30"},
    {"cancellation rate for dogs since 2025-01-01", "cancellation_rate", "", "species=canine",
     "2025-01-01..2026-10-26"},
    {"new clients per month in 2025", "new_clients", "month", "", "2025-01-01..2025-12-31"},
    {"how many new clients did we get last quarter", "new_clients", "", "",
     "2026-07-01..2026-09-30"},
    {"active clients", "active_clients", "", "", "none"},
    {"how many inactive clients do we have", "clients", "", "client_status=inactive", "none"},
    {"patients seen by species last month", "patients_seen", "species", "",
     "2026-09-01..2026-09-30"},
    {"How many cats did we see last month?", "patients_seen", "", "species=feline",
     "2026-09-01..2026-09-30"},
    {"items sold by category this quarter", "items_sold", "category", "", "2026-10-01..2026-10-26"},
    {"quantity of vaccines sold last year", "items_sold", "", "category=vaccine",
     "2025-01-01..2025-12-31"},
    {"vaccination appointments last month", "appointments", "", "appointment_type=vaccination",
     "2026-09-01..2026-09-30"},
    {"revenue by appointment type from 2025-01-01 to 2025-03-31", "revenue", "appointment_type", "",
     "2025-01-01..2025-03-31"},
    {"appointments by hour of day last month", "appointments", "hour", "",
     "2026-09-01..2026-09-30"},
    {"revenue for exotics by breed in 2025", "revenue", "breed",
     "species=rabbit|avian|reptile|rodent", "2025-01-01..2025-12-31"},
    {"What's our revenue by client status?", "revenue", "client_status", "",
     "2026-01-01..2026-10-26"},
    {"lab revenue for the past 3 months", "revenue", "", "category=laboratory",
     "2026-07-27..2026-10-26"},
    {"revenue daily last 7 days", "revenue", "day", "", "2026-10-20..2026-10-26"},
    {"revenue by year", "revenue", "year", "", "2022-01-01..2026-10-26"},
    {"Show me revenue by vet for last month", "revenue", "vet", "", "2026-09-01..2026-09-30"},
    {"How many dogs did we see last month?", "patients_seen", "", "species=canine",
     "2026-09-01..2026-09-30"},
    {"Which services bring in the most money?", "revenue", "item", "", "2026-01-01..2026-10-26"},
    {"Number of visits by vet this month", "transactions", "vet", "", "2026-10-01..2026-10-26"},
    {"top 3 vets by ATC last quarter", "average_transaction_charge", "vet", "role=veterinarian",
     "2026-07-01..2026-09-30"},
    {"How are we doing on revenue this month?", "revenue", "", "", "2026-10-01..2026-10-26"},
    {"What's our average transaction charge?", "average_transaction_charge", "", "",
     "2026-01-01..2026-10-26"},
    {"revenue from feline patients in Q1", "revenue", "", "species=feline",
     "2026-01-01..2026-03-31"},
    {"wellness exams by vet in the past 30 days", "appointments", "vet",
     "appointment_type=wellness", "2026-09-27..2026-10-26"},
    {"technician revenue year to date", "revenue", "", "role=technician", "2026-01-01..2026-10-26"},
};

TEST(PlannerTest, ParsesQuestionTable) {
  for (const ParseCase& c : kParseCases) {
    SCOPED_TRACE(c.question);
    const QueryPlan plan = MustParse(c.question);
    EXPECT_EQ(plan.metric, c.metric);
    EXPECT_EQ(plan.dimension, c.dimension);
    EXPECT_EQ(Filters(plan), c.filters);
    EXPECT_EQ(Range(plan), c.range);
  }
}

// Metric x dimension x filter, each as a phrase, composed into questions.
struct Phrase {
  const char* words;
  const char* id;
};

void ExpectComposed(const QueryPlan& plan, const std::string& code) {
  const Metric& metric = *FindMetric(plan.metric);
  const std::string table(BaseTable(metric.base));
  EXPECT_THAT(code, HasSubstr(absl::StrCat("df = ", table, "[")));
  EXPECT_THAT(code, HasSubstr(absl::StrCat("day = ", table, "[\"", metric.date_column, "\"]")));
  EXPECT_THAT(code, HasSubstr("[(day >= start) & (day < end + pd.Timedelta(days=1))]"));
  EXPECT_THAT(code, HasSubstr(absl::StrCat("unit = \"", metric.unit, "\"")));
  for (const Component& c : metric.components) {
    EXPECT_THAT(code, HasSubstr(absl::StrCat("\"", c.name, "\": ")));
  }
  if (!plan.dimension.empty()) {
    EXPECT_THAT(code, HasSubstr(absl::StrCat("df[\"", plan.dimension, "\"] = ")));
    EXPECT_THAT(code, HasSubstr(absl::StrCat("measure_by(df, \"", plan.dimension, "\"")));
    EXPECT_THAT(code, HasSubstr(absl::StrCat("result = t[[\"", metric.id, "\"]].reset_index()")));
    const TimeGrain* grain = FindTimeGrain(plan.dimension);
    if (grain != nullptr && grain->line_chart && !plan.ranked) {
      EXPECT_THAT(code, HasSubstr("ax.plot("));
    } else {
      EXPECT_THAT(code, AnyOf(HasSubstr("ax.barh("), HasSubstr("ax.bar(")));
    }
  } else {
    EXPECT_THAT(code, HasSubstr("result = float(m[\"value\"])"));
  }
  for (const FilterClause& f : plan.filters) {
    const Attribute& a = *FindAttribute(f.attribute);
    const Source& s = *a.sources[static_cast<int>(metric.base)];
    EXPECT_THAT(code,
                HasSubstr(absl::StrCat(".isin([\"", absl::StrJoin(f.values, "\", \""), "\"])")));
    EXPECT_THAT(code, HasSubstr(absl::StrCat("df[\"", s.column, "\"]")));
    if (!s.table.empty()) {
      EXPECT_THAT(code, HasSubstr(absl::StrCat("lookup(df[\"", s.column, "\"], ", s.table)));
    }
  }
  for (const FilterClause& f : metric.implied_filters) {
    EXPECT_THAT(code,
                HasSubstr(absl::StrCat(".isin([\"", absl::StrJoin(f.values, "\", \""), "\"])")));
  }
}

void RunMatrix(const std::vector<Phrase>& metrics, const std::vector<Phrase>& dimensions,
               const std::vector<Phrase>& filters, int* count) {
  Planner planner;
  for (const Phrase& m : metrics) {
    for (const Phrase& d : dimensions) {
      for (const Phrase& f : filters) {
        std::string q = m.words;
        if (*d.words) absl::StrAppend(&q, " by ", d.words);
        if (*f.words) absl::StrAppend(&q, " for ", f.words);
        absl::StrAppend(&q, " last quarter");
        SCOPED_TRACE(q);
        absl::StatusOr<GeneratedCode> out = Generate(planner, Request(q));
        ASSERT_THAT(out, IsOk());
        absl::StatusOr<QueryPlan> plan = DeserializePlan(out->plan);
        ASSERT_THAT(plan, IsOk());
        EXPECT_EQ(plan->metric, m.id);
        EXPECT_EQ(plan->dimension, d.id);
        EXPECT_EQ(Filters(*plan), f.id);
        EXPECT_EQ(Range(*plan), "2026-07-01..2026-09-30");
        ExpectComposed(*plan, out->code);
        ++*count;
      }
    }
  }
}

TEST(PlannerTest, InvoiceMetricMatrix) {
  int count = 0;
  RunMatrix({{"revenue", "revenue"},
             {"transactions", "transactions"},
             {"average transaction charge", "average_transaction_charge"},
             {"gross margin", "gross_margin"},
             {"margin %", "margin_percent"},
             {"items sold", "items_sold"}},
            {{"", ""},
             {"month", "month"},
             {"week", "week"},
             {"vet", "vet"},
             {"category", "category"},
             {"service", "item"},
             {"species", "species"},
             {"appointment type", "appointment_type"},
             {"day of the week", "weekday"}},
            {{"", ""},
             {"cats", "species=feline"},
             {"dentals", "category=dental"},
             {"emergencies", "appointment_type=emergency"},
             {"canine surgery", "species=canine,category=surgery"}},
            &count);
  EXPECT_EQ(count, 6 * 9 * 5);
}

TEST(PlannerTest, AppointmentMetricMatrix) {
  int count = 0;
  RunMatrix({{"appointments", "appointments"},
             {"no-show rate", "no_show_rate"},
             {"cancellation rate", "cancellation_rate"},
             {"patients seen", "patients_seen"}},
            {{"", ""},
             {"month", "month"},
             {"vet", "vet"},
             {"species", "species"},
             {"appointment type", "appointment_type"},
             {"weekday", "weekday"},
             {"hour of day", "hour"}},
            {{"", ""},
             {"dogs", "species=canine"},
             {"emergencies", "appointment_type=emergency"},
             {"rabbits and birds", "species=rabbit|avian"}},
            &count);
  EXPECT_EQ(count, 4 * 7 * 4);
}

TEST(PlannerTest, ClientMetricMatrix) {
  int count = 0;
  RunMatrix({{"new clients", "new_clients"}},
            {{"", ""}, {"month", "month"}, {"client status", "client_status"}},
            {{"", ""}, {"inactive", "client_status=inactive"}}, &count);
  EXPECT_EQ(count, 6);
}

TEST(PlannerTest, FilterWordsResolvePerTable) {
  // "dental" is an invoice category for revenue, an appointment type for
  // appointments.
  EXPECT_EQ(Filters(MustParse("dental revenue")), "category=dental");
  EXPECT_EQ(Filters(MustParse("dental appointments")), "appointment_type=dental");
  EXPECT_EQ(Filters(MustParse("surgery revenue")), "category=surgery");
  EXPECT_EQ(Filters(MustParse("surgeries booked last month")), "appointment_type=surgery");
  EXPECT_EQ(Filters(MustParse("vaccines revenue")), "category=vaccine");
  EXPECT_EQ(MustParse("emergencies last month").metric, "appointments");
  EXPECT_EQ(Filters(MustParse("revenue from kittens and puppies")), "species=feline|canine");
  EXPECT_EQ(Filters(MustParse("imaging and lab revenue")), "category=imaging|laboratory");
  EXPECT_EQ(Filters(MustParse("pharmacy, retail and diet revenue")),
            "category=pharmacy|retail|diet");
  EXPECT_EQ(Filters(MustParse("hospitalization revenue")), "category=hospitalization");
  EXPECT_EQ(Filters(MustParse("consultations revenue")), "category=consultation");
  EXPECT_EQ(Filters(MustParse("wellness appointments")), "appointment_type=wellness");
  EXPECT_EQ(Filters(MustParse("avian and reptile patients seen")), "species=avian|reptile");
}

TEST(PlannerTest, TopNAndWhich) {
  QueryPlan top = MustParse("top 5 services by revenue");
  EXPECT_EQ(top.metric, "revenue");
  EXPECT_EQ(top.dimension, "item");
  EXPECT_TRUE(top.ranked);
  EXPECT_FALSE(top.ascending);
  EXPECT_EQ(top.top_n, 5);
  EXPECT_EQ(Range(top), "2026-01-01..2026-10-26");
  EXPECT_THAT(WritePandas(top), AllOf(HasSubstr("t = t.head(5)"), HasSubstr("ascending=False"),
                                      HasSubstr("ax.barh(")));
  EXPECT_EQ(SummarizePlan(top), "top 5 item by revenue, 2026-01-01..2026-10-26");

  QueryPlan which = MustParse("Which vet had the most revenue last month?");
  EXPECT_EQ(which.dimension, "vet");
  EXPECT_TRUE(which.ranked);
  EXPECT_EQ(which.top_n, 0);
  EXPECT_THAT(WritePandas(which), HasSubstr("had the highest revenue"));

  QueryPlan bottom = MustParse("bottom 3 categories by gross margin in 2025");
  EXPECT_TRUE(bottom.ranked);
  EXPECT_TRUE(bottom.ascending);
  EXPECT_EQ(bottom.top_n, 3);
  EXPECT_THAT(WritePandas(bottom), HasSubstr("ascending=True"));

  QueryPlan busiest = MustParse("What is our busiest day of the week?");
  EXPECT_EQ(busiest.metric, "appointments");
  EXPECT_EQ(busiest.dimension, "weekday");
  EXPECT_TRUE(busiest.ranked);

  QueryPlan best_selling = MustParse("best selling products last quarter");
  EXPECT_EQ(best_selling.metric, "items_sold");
  EXPECT_EQ(best_selling.dimension, "item");

  QueryPlan who = MustParse("who saw the most patients last month");
  EXPECT_EQ(who.metric, "patients_seen");
  EXPECT_EQ(who.dimension, "vet");
  EXPECT_TRUE(who.ranked);

  EXPECT_EQ(MustParse("top services by revenue").top_n, 10);
}

TEST(PlannerTest, Comparisons) {
  QueryPlan yoy = MustParse("revenue this year compared to last year");
  EXPECT_EQ(yoy.comparison, Comparison::kSamePeriodLastYear);
  EXPECT_EQ(Range(yoy), "2026-01-01..2026-10-26");
  ASSERT_TRUE(yoy.compare_period);
  EXPECT_EQ(FormatDay(yoy.compare_period->start), "2025-01-01");
  EXPECT_EQ(FormatDay(yoy.compare_period->end), "2025-10-26");
  EXPECT_THAT(WritePandas(yoy), AllOf(HasSubstr("prev_start = pd.Timestamp(\"2025-01-01\")"),
                                      HasSubstr("before = select(prev_start, prev_end)"),
                                      HasSubstr("change(m['value'], p['value'])")));
  EXPECT_EQ(SummarizePlan(yoy), "revenue, 2026-01-01..2026-10-26 vs 2025-01-01..2025-10-26");

  QueryPlan previous = MustParse("revenue last quarter vs the previous period");
  EXPECT_EQ(previous.comparison, Comparison::kPreviousPeriod);
  EXPECT_EQ(FormatDay(previous.compare_period->start), "2026-04-01");
  EXPECT_EQ(FormatDay(previous.compare_period->end), "2026-06-30");

  QueryPlan mom = MustParse("appointments this month vs last month");
  EXPECT_EQ(mom.comparison, Comparison::kPreviousPeriod);
  EXPECT_EQ(FormatDay(mom.compare_period->start), "2026-09-01");
  EXPECT_EQ(FormatDay(mom.compare_period->end), "2026-09-26");

  QueryPlan explicit_years = MustParse("revenue in 2025 versus 2024");
  EXPECT_EQ(explicit_years.comparison, Comparison::kExplicit);
  EXPECT_EQ(Range(explicit_years), "2025-01-01..2025-12-31");
  EXPECT_EQ(FormatDay(explicit_years.compare_period->start), "2024-01-01");

  QueryPlan growth = MustParse("revenue growth");
  EXPECT_EQ(growth.comparison, Comparison::kSamePeriodLastYear);
  EXPECT_EQ(Range(growth), "2026-01-01..2026-10-26");

  QueryPlan yoy_by_vet = MustParse("revenue by vet year over year last quarter");
  EXPECT_EQ(yoy_by_vet.dimension, "vet");
  EXPECT_EQ(yoy_by_vet.comparison, Comparison::kSamePeriodLastYear);
  EXPECT_THAT(WritePandas(yoy_by_vet),
              AllOf(HasSubstr("\"revenue_previous\""), HasSubstr("\"change_percent\"")));

  // "the previous quarter" next to "last quarter" is the one before it, not
  // the same quarter again; and a period is never compared with itself.
  QueryPlan previous_named = MustParse("last qtr sales vs the previous quarter");
  EXPECT_EQ(previous_named.comparison, Comparison::kPreviousPeriod);
  EXPECT_EQ(Range(previous_named), "2026-07-01..2026-09-30");
  EXPECT_EQ(FormatDay(previous_named.compare_period->start), "2026-04-01");
  EXPECT_THAT(ParseQuestion("revenue in Q3 2026 vs Q3 2026", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("with the same days")));

  // "this year to date" is the year so far, not "this year" by date.
  QueryPlan ytd = MustParse("revenue this yr to date");
  EXPECT_EQ(Range(ytd), "2026-01-01..2026-10-26");
  EXPECT_EQ(ytd.dimension, "");

  QueryPlan before = MustParse("revenue last month compared to the month before");
  EXPECT_EQ(before.comparison, Comparison::kPreviousPeriod);
  EXPECT_EQ(FormatDay(before.compare_period->start), "2026-08-01");
  EXPECT_EQ(FormatDay(before.compare_period->end), "2026-08-31");

  QueryPlan billed = MustParse("What did Dr. Jones bill last month?");
  EXPECT_EQ(billed.metric, "revenue");
  EXPECT_EQ(billed.staff_name, "Jones");

  QueryPlan two_periods = MustParse("compare revenue this year and last year");
  EXPECT_EQ(two_periods.comparison, Comparison::kSamePeriodLastYear);

  QueryPlan rate = MustParse("no-show rate this quarter vs the same period last year");
  EXPECT_EQ(rate.comparison, Comparison::kSamePeriodLastYear);
  EXPECT_THAT(WritePandas(rate), HasSubstr("percentage points"));
}

// Issue 14: "X versus Y" between two values of one attribute is one figure
// per value, never one combined figure compared with last year.
TEST(PlannerTest, ComparingTwoFilterValuesGivesOneFigurePerValue) {
  for (const char* question :
       {"average invoice, cats versus dogs", "avg transaction value cats vs dogs",
        "compare revenue for dogs and cats", "surgery versus dental revenue last year",
        "How much did we make from dogs, and how much from cats, in 2025?"}) {
    SCOPED_TRACE(question);
    QueryPlan plan = MustParse(question);
    EXPECT_EQ(plan.comparison, Comparison::kNone);
    ASSERT_EQ(plan.filters.size(), 1u);
    EXPECT_EQ(plan.filters[0].values.size(), 2u);
    EXPECT_EQ(plan.dimension, plan.filters[0].attribute);
  }
  QueryPlan cats_dogs = MustParse("average invoice, cats versus dogs");
  EXPECT_EQ(cats_dogs.dimension, "species");
  EXPECT_EQ(Range(cats_dogs), "2026-01-01..2026-10-26");
  // One value is still a comparison across periods.
  EXPECT_EQ(MustParse("dog revenue vs last year").comparison, Comparison::kSamePeriodLastYear);
}

// Issue 14: words that change the meaning are used or the question is
// declined, never dropped.
TEST(PlannerTest, MeaningfulWordsAreUsedOrDeclinedNeverDropped) {
  // "invoice" as a verb is an amount; the noun a count.
  EXPECT_EQ(MustParse("how much did we invoice in 2024?").metric, "revenue");
  EXPECT_EQ(MustParse("number of invoices in 2024").metric, "transactions");
  // A money verb beats the count a filter word usually implies.
  EXPECT_EQ(MustParse("how much did wellness visits bring in during 2025?").metric, "revenue");
  EXPECT_EQ(MustParse("How much did we sell in medications last month?").metric, "revenue");
  EXPECT_EQ(MustParse("how many items did we sell last month").metric, "items_sold");
  // "ranked" ranks.
  QueryPlan ranked = MustParse("Vets ranked by revenue, 2025");
  EXPECT_TRUE(ranked.ranked);
  EXPECT_EQ(ranked.dimension, "vet");
  // "the diet category" names the value filtered on, not a breakdown.
  QueryPlan diet = MustParse("Gross margin % for the diet category in 2025");
  EXPECT_EQ(diet.dimension, "");
  EXPECT_EQ(MustParse("revenue by category for diets last quarter").dimension, "category");
  // What the planner cannot honour is declined with the reason.
  EXPECT_THAT(ParseQuestion("what should we charge for a dental cleaning?", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not advise")));
}

// Issue 14: "the highest/lowest period ever" ranks over all the data, to the
// as-of day; with no metric named, "best" and "worst" rank revenue.
TEST(PlannerTest, EverRanksOverAllTheData) {
  for (const char* question :
       {"What was our best month ever?", "Which month had the most revenue of all time?",
        "highest all-time revenue month", "best month for sales ever"}) {
    SCOPED_TRACE(question);
    const QueryPlan plan = MustParse(question);
    EXPECT_EQ(plan.metric, "revenue");
    EXPECT_EQ(plan.dimension, "month");
    EXPECT_TRUE(plan.ranked);
    EXPECT_FALSE(plan.ascending);
    ASSERT_TRUE(plan.period.has_value());
    EXPECT_EQ(plan.period->form, PeriodForm::kAllTime);
    EXPECT_EQ(plan.period->end, kAsOf);
    EXPECT_FALSE(plan.period_defaulted);
    absl::StatusOr<QueryPlan> round_trip = DeserializePlan(SerializePlan(plan));
    ASSERT_TRUE(round_trip.ok()) << round_trip.status();
    EXPECT_EQ(*round_trip, plan);
  }
  const QueryPlan lowest = MustParse("lowest revenue quarter of all time");
  EXPECT_EQ(lowest.dimension, "quarter");
  EXPECT_TRUE(lowest.ascending);
  EXPECT_EQ(MustParse("worst month ever").metric, "revenue");
  EXPECT_EQ(MustParse("busiest month ever").metric, "appointments");
  EXPECT_EQ(MustParse("total revenue ever").dimension, "");
  // The program narrows the placeholder start to the data's first day.
  absl::StatusOr<GeneratedCode> code = [] {
    Planner planner;
    return Generate(planner, Request("best month ever"));
  }();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_THAT(code->code, HasSubstr("first = invoice_lines[\"invoiced_on\"].min()"));

  EXPECT_THAT(ParseQuestion("revenue ever compared to last year", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no other period")));
  EXPECT_THAT(ParseQuestion("active clients ever", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("on file now")));
  EXPECT_THAT(ParseQuestion("best month ever in 2025", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than one period")));
  const QueryPlan ever = MustParse("best month ever");
  EXPECT_THAT(ParseQuestion("and the year before?", kAsOf, &ever),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("covers all the data")));
}

// Issue 14: bonding / client retention, the clients of the period before
// seen again in the period; it cannot be sliced (the period before is
// every client's).
TEST(PlannerTest, ClientRetentionLooksBackToThePeriodBefore) {
  for (const char* question : {"What was our client retention rate last year?",
                               "bonding rate for last year", "customer retention last year"}) {
    SCOPED_TRACE(question);
    const QueryPlan plan = MustParse(question);
    EXPECT_EQ(plan.metric, "client_retention_rate");
    EXPECT_EQ(Range(plan), "2025-01-01..2025-12-31");
  }
  Planner planner;
  absl::StatusOr<GeneratedCode> code = Generate(planner, Request("client retention this year"));
  ASSERT_TRUE(code.ok()) << code.status();
  // This year so far looks back to the whole of last year.
  EXPECT_THAT(code->code, HasSubstr("period_before = {start: (pd.Timestamp(\"2025-01-01\"), "
                                    "pd.Timestamp(\"2025-12-31\")"));
  code = Generate(planner, Request("client retention rate 2025 vs 2024"));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_THAT(code->code, HasSubstr("prev_start: (pd.Timestamp(\"2023-01-01\")"));
  EXPECT_THAT(ParseQuestion("retention rate by vet in 2025", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot be broken down")));
  EXPECT_THAT(ParseQuestion("client retention for dogs last year", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not apply")));
  EXPECT_THAT(ParseQuestion("client retention of all time", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("none before it")));
}

TEST(PlannerTest, ClientsWithAPeriodAreClientsSeen) {
  EXPECT_EQ(MustParse("How many clients did we see last quarter?").metric, "clients_seen");
  EXPECT_EQ(MustParse("clients seen over the last 6 months").metric, "clients_seen");
  EXPECT_EQ(MustParse("how many clients do we have").metric, "clients");
  // A verb naming another metric is not a visit: declined, never clients seen.
  EXPECT_THAT(ParseQuestion("how many clients signed up last quarter?", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("on file now")));
  // "Who" is a person, not a breakdown of clients by vet.
  EXPECT_THAT(ParseQuestion("Who is our best client?", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PlannerTest, NewPatientsAndVisitsPerPatient) {
  for (const char* question :
       {"new patients last quarter", "How many new pets did we see last quarter?",
        "first-time patients last quarter"}) {
    SCOPED_TRACE(question);
    const QueryPlan plan = MustParse(question);
    EXPECT_EQ(plan.metric, "new_patients");
    EXPECT_EQ(Range(plan), "2026-07-01..2026-09-30");
    EXPECT_FALSE(plan.as_of.has_value());
  }
  EXPECT_EQ(MustParse("new patients by species in 2025").dimension, "species");
  for (const char* question :
       {"visits per patient last quarter", "average visits per patient in 2025",
        "avg visits per pet this year"}) {
    SCOPED_TRACE(question);
    EXPECT_EQ(MustParse(question).metric, "visits_per_patient");
  }
  EXPECT_THAT(WritePandas(MustParse("new patients in 2025")),
              HasSubstr("df[\"new_patient\"] = df[\"patient_id\"].where("));
}

// "Dental appointments" is one filter on the appointment type: for invoice
// lines the whole visit's lines, whatever their category.
TEST(PlannerTest, AppointmentTypeBeforeAppointmentIsOneFilter) {
  const QueryPlan atc = MustParse("Average invoice for dental appointments in 2025");
  EXPECT_EQ(atc.metric, "average_transaction_charge");
  EXPECT_EQ(Filters(atc), "appointment_type=dental");
  const QueryPlan count = MustParse("dental appointments last month");
  EXPECT_EQ(count.metric, "appointments");
  EXPECT_EQ(Filters(count), "appointment_type=dental");
  // Alone, "dental" on invoice lines is still the category.
  EXPECT_EQ(Filters(MustParse("dental revenue in 2025")), "category=dental");
}

TEST(PlannerTest, AppointmentsPerVetPerWorkingDay) {
  for (const char* question : {"appointments per vet per working day in 2025",
                               "How many appointments per vet per day did we do in 2025?",
                               "daily appointments per vet, 2025"}) {
    SCOPED_TRACE(question);
    const QueryPlan plan = MustParse(question);
    EXPECT_EQ(plan.metric, "appointments_per_vet_day");
    EXPECT_EQ(plan.dimension, "");
  }
  EXPECT_EQ(MustParse("appointments per vet per day by vet in 2025").dimension, "vet");
  // "Appointments per vet" alone is still a breakdown of appointments.
  EXPECT_EQ(MustParse("appointments per vet in 2025").metric, "appointments");
  // Veterinarians only: technicians contradict it.
  EXPECT_THAT(ParseQuestion("appointments per vet per day for technicians in 2025", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PlannerTest, BookingLeadTime) {
  for (const char* question :
       {"What was the average booking lead time in 2025?", "lead time for appointments in 2025",
        "avg days between booking and appointment, 2025"}) {
    SCOPED_TRACE(question);
    const QueryPlan plan = MustParse(question);
    EXPECT_EQ(plan.metric, "booking_lead_time");
    EXPECT_EQ(Range(plan), "2025-01-01..2025-12-31");
  }
  EXPECT_EQ(Filters(MustParse("booking lead time for surgeries in 2025")),
            "appointment_type=surgery");
  EXPECT_THAT(WritePandas(MustParse("booking lead time in 2025")),
              HasSubstr("pd.to_datetime(df[\"booked_at\"])"));
}

TEST(PlannerTest, RevenuePerFteVet) {
  for (const char* question : {"Revenue per FTE vet in 2025", "2025 sales per FTE vet",
                               "what was 2025 revenue per full-time-equivalent veterinarian?"}) {
    SCOPED_TRACE(question);
    const QueryPlan plan = MustParse(question);
    EXPECT_EQ(plan.metric, "revenue_per_fte_vet");
    EXPECT_EQ(Range(plan), "2025-01-01..2025-12-31");
  }
  EXPECT_EQ(MustParse("revenue per FTE vet by category in 2025").dimension, "category");
  // The FTE is all the veterinarians': not per vet, role or time bucket.
  for (const char* question :
       {"revenue per FTE vet by vet in 2025", "revenue per FTE vet by month in 2025",
        "revenue per FTE vet for Dr. Smith in 2025"}) {
    SCOPED_TRACE(question);
    EXPECT_THAT(ParseQuestion(question, kAsOf), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  const QueryPlan plan = MustParse("Revenue per FTE vet in 2025");
  ASSERT_THAT(DeserializePlan(SerializePlan(plan)), IsOk());
  QueryPlan by_vet = plan;
  by_vet.dimension = "vet";
  EXPECT_THAT(DeserializePlan(SerializePlan(by_vet)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dimension does not apply")));
}

TEST(PlannerTest, WalkInAndDayOfWeekFilters) {
  for (const char* question : {"walk-in sales in 2025", "revenue without an appointment in 2025",
                               "2025 revenue not linked to any appointment"}) {
    SCOPED_TRACE(question);
    const QueryPlan plan = MustParse(question);
    EXPECT_EQ(plan.metric, "revenue");
    EXPECT_EQ(Filters(plan), "appointment_link=without_appointment");
  }
  EXPECT_THAT(WritePandas(MustParse("walk-in revenue last month")),
              HasSubstr("df[\"appointment_id\"].notna().map("));
  // Appointments always have one: the filter does not apply to them.
  EXPECT_THAT(ParseQuestion("appointments without an appointment last month", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not apply")));
  EXPECT_EQ(Filters(MustParse("Revenue on Saturdays in 2025")), "day_of_week=Saturday");
  EXPECT_EQ(Filters(MustParse("Saturday appts in 2025")), "day_of_week=Saturday");
  EXPECT_EQ(MustParse("Saturday appts in 2025").metric, "appointments");
  EXPECT_EQ(Filters(MustParse("weekend revenue this year")), "day_of_week=Saturday|Sunday");
  EXPECT_THAT(WritePandas(MustParse("revenue on Saturdays in 2025")),
              HasSubstr("df[\"invoiced_on\"].dt.day_name().isin([\"Saturday\"])"));
  // Two days compared: one figure each.
  EXPECT_EQ(MustParse("Saturday vs Sunday revenue in 2025").dimension, "day_of_week");
  // "By weekday" stays the time grain.
  EXPECT_EQ(MustParse("revenue by weekday in 2025").dimension, "weekday");
}

// Lapsed (last seen 18 to 36 months ago) and lapsing (14 to 18) patients are
// counts against the as-of day, never over a period.
TEST(PlannerTest, LapsedAndLapsingPatients) {
  for (const char* question : {"How many lapsed patients do we have?", "lapsed pets count",
                               "lapsed dogs", "how many of our patients have lapsed?"}) {
    SCOPED_TRACE(question);
    const QueryPlan plan = MustParse(question);
    EXPECT_EQ(plan.metric, "lapsed_patients");
    EXPECT_FALSE(plan.period.has_value());
    ASSERT_TRUE(plan.as_of.has_value());
    EXPECT_EQ(FormatDay(*plan.as_of), "2026-10-26");
  }
  EXPECT_EQ(Filters(MustParse("lapsed dogs")), "species=canine");
  EXPECT_EQ(MustParse("lapsed patients by species").dimension, "species");
  EXPECT_EQ(MustParse("how many lapsing patients are there").metric, "lapsing_patients");
  const std::string code = WritePandas(MustParse("lapsed patients"));
  EXPECT_THAT(code, HasSubstr("(df[\"last_visit\"] >= window_start(36)) & "
                              "(df[\"last_visit\"] < window_start(18))"));
  EXPECT_THAT(ParseQuestion("lapsed patients last month", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot be limited")));
  EXPECT_THAT(ParseQuestion("lapsed clients", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("one metric at a time")));
}

// "Active patients" are the patients' own status, not their clients'.
TEST(PlannerTest, ActivePatientsAreThePatientsOwnStatus) {
  for (const char* question : {"how many active patients do we have", "active pets",
                               "how many active animals are there"}) {
    SCOPED_TRACE(question);
    QueryPlan plan = MustParse(question);
    EXPECT_EQ(plan.metric, "patients");
    EXPECT_TRUE(plan.filters.empty());
    EXPECT_FALSE(plan.period.has_value());
  }
}

// Active patients and clients count by status, and their answers give the
// figures by visits too, counted back from the plan's as-of day.
TEST(PlannerTest, ActiveCountsCarryTheAsOfDayForTheirVisitFigures) {
  for (const char* question : {"active clients", "how many active patients do we have"}) {
    SCOPED_TRACE(question);
    const QueryPlan plan = MustParse(question);
    ASSERT_TRUE(plan.as_of.has_value());
    EXPECT_EQ(FormatDay(*plan.as_of), "2026-10-26");
    absl::StatusOr<QueryPlan> stored = DeserializePlan(SerializePlan(plan));
    ASSERT_THAT(stored, IsOk());
    EXPECT_EQ(*stored, plan);
    const std::string code = WritePandas(plan);
    EXPECT_THAT(code, HasSubstr("as_of = pd.Timestamp(\"2026-10-26\")"));
    EXPECT_THAT(code, HasSubstr("for k in [12, 18]"));
    EXPECT_THAT(code, HasSubstr("\"notes\": notes"));
  }
  // Metrics over a period have no as-of day in their plan.
  EXPECT_FALSE(MustParse("revenue last month").as_of.has_value());
  EXPECT_FALSE(MustParse("patients seen last month").as_of.has_value());
  // A stored plan must carry the as-of day exactly when its metric uses it.
  EXPECT_THAT(DeserializePlan("planner/v1;metric=active_clients"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DeserializePlan("planner/v1;metric=clients;as_of=2026-10-26"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(DeserializePlan("planner/v1;metric=active_clients;as_of=2026-13-01"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PlannerTest, StaffNameFilter) {
  const QueryPlan plan = MustParse("revenue for Dr. Smith last month");
  EXPECT_EQ(plan.staff_name, "Smith");
  const std::string code = WritePandas(plan);
  EXPECT_THAT(code, HasSubstr("staff_name = \"Smith\""));
  EXPECT_THAT(code, HasSubstr(".str.contains(staff_name, case=False, regex=False, na=False)"));
  EXPECT_THAT(code, HasSubstr("lookup(df[\"staff_id\"], staff, \"staff_id\", \"full_name\")"));
  EXPECT_EQ(MustParse("appointments for doctor Jane Doe by month").staff_name, "Jane Doe");
  EXPECT_EQ(MustParse("revenue by doctor last month").staff_name, "");
  EXPECT_THAT(ParseQuestion("new clients for Dr. Smith", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("per staff member")));
}

TEST(PlannerTest, DeclinesNamingUnknownWords) {
  absl::StatusOr<QueryPlan> plan =
      ParseQuestion("What was our revenue from the weather last month?", kAsOf);
  EXPECT_THAT(plan, StatusIs(absl::StatusCode::kInvalidArgument,
                             AllOf(HasSubstr("did not understand \"weather\""),
                                   HasSubstr("What was our revenue trend last quarter?"),
                                   HasSubstr("Top 5 services by revenue this year"),
                                   HasSubstr("No-show rate by vet last month"))));
  EXPECT_THAT(ParseQuestion("revenue by colour and mood", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"colour\", \"mood\"")));
  // Words that change the meaning are never stop words.
  EXPECT_THAT(ParseQuestion("revenue excluding cats", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"excluding\"")));
  EXPECT_THAT(ParseQuestion("average revenue per month", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"average\"")));
  EXPECT_THAT(ParseQuestion("revenue next month", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"next\"")));
}

TEST(PlannerTest, DeclinesWhatItCannotAnswer) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"how are you", "no metric"},
      {"", "no metric"},
      {"last month by vet", "no metric"},
      {"revenue and appointments last month", "one metric at a time"},
      {"revenue by vet by month", "one thing at a time"},
      {"revenue trend by vet", "not both"},
      {"active clients last year", "cannot be limited"},
      {"new clients for cats", "does not apply to new clients"},
      {"new clients by vet", "cannot be broken down"},
      {"revenue by hour", "cannot be broken down"},
      {"revenue in 2027", "after the as-of date"},
      {"revenue on 2026-02-30", "not a date"},
      {"revenue last month and last year", "more than one period"},
      {"top 5 revenue", "needs something to rank"},
      {"revenue trend this year vs last year", "not trends"},
      {"completed no-show rate", "already fixes"},
      {"the most and least revenue by vet", "highest and the lowest"},
  };
  for (const auto& [question, why] : cases) {
    EXPECT_THAT(ParseQuestion(question, kAsOf),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(why), HasSubstr("The planner answers questions such as"))))
        << question;
  }
}

TEST(PlannerTest, FollowUpsReuseThePreviousPlan) {
  Planner planner;
  absl::StatusOr<GeneratedCode> first = Generate(planner, Request("revenue for cats last quarter"));
  ASSERT_THAT(first, IsOk());
  auto follow = [&](const char* question) {
    CodeRequest r = Request(question);
    r.history.push_back(
        {"revenue for cats last quarter", first->code, first->summary, first->plan});
    return Generate(planner, r);
  };

  absl::StatusOr<GeneratedCode> by_vet = follow("and by vet?");
  ASSERT_THAT(by_vet, IsOk());
  EXPECT_EQ(by_vet->summary, "revenue by vet where species=feline, 2026-07-01..2026-09-30");

  absl::StatusOr<GeneratedCode> last_year = follow("what about last year?");
  ASSERT_THAT(last_year, IsOk());
  EXPECT_EQ(last_year->summary, "revenue where species=feline, 2025-01-01..2025-12-31");

  absl::StatusOr<GeneratedCode> dogs = follow("only dogs");
  ASSERT_THAT(dogs, IsOk());
  EXPECT_EQ(dogs->summary, "revenue where species=canine, 2026-07-01..2026-09-30");

  absl::StatusOr<GeneratedCode> dental = follow("just dentals");
  ASSERT_THAT(dental, IsOk());
  EXPECT_EQ(dental->summary,
            "revenue where species=feline, category=dental, 2026-07-01..2026-09-30");

  // A new metric starts afresh.
  absl::StatusOr<GeneratedCode> fresh = follow("appointments by vet");
  ASSERT_THAT(fresh, IsOk());
  EXPECT_EQ(fresh->summary, "appointments by vet, 2026-01-01..2026-10-26");

  // Nothing to change is no follow-up.
  EXPECT_THAT(follow("thanks"), StatusIs(absl::StatusCode::kInvalidArgument));

  // A model turn (no planner plan) gives nothing to follow.
  CodeRequest r = Request("and by vet?");
  r.history.push_back({"q", "code", "summary", "{\"model\":1}"});
  EXPECT_THAT(Generate(planner, r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no metric")));

  Planner no_follow_ups(Planner::Options{/*follow_ups=*/false});
  CodeRequest r2 = Request("and by vet?");
  r2.history.push_back({"q", first->code, first->summary, first->plan});
  EXPECT_THAT(Generate(no_follow_ups, r2), StatusIs(absl::StatusCode::kInvalidArgument));
}

// A conversation: each question parsed with the plan of the one before.
std::vector<QueryPlan> Converse(const std::vector<absl::string_view>& questions) {
  std::vector<QueryPlan> plans;
  plans.reserve(questions.size());
  for (absl::string_view q : questions) {
    plans.push_back(MustParse(q, plans.empty() ? nullptr : &plans.back()));
  }
  return plans;
}

// The follow-up patterns tests/planner/followups.json runs end to end, at
// parser level: what each turn reuses and what it changes.
TEST(PlannerFollowUpTest, ANewPeriodReplacesThePreviousOne) {
  const auto p =
      Converse({"revenue for cats last quarter", "what about last year?", "same for March"});
  EXPECT_TRUE(p[1].follow_up);
  EXPECT_EQ(p[1].metric, "revenue");
  EXPECT_EQ(Filters(p[1]), "species=feline");
  EXPECT_EQ(Range(p[1]), "2025-01-01..2025-12-31");
  EXPECT_EQ(Range(p[2]), "2026-03-01..2026-03-31");
  EXPECT_EQ(Filters(p[2]), "species=feline");
}

TEST(PlannerFollowUpTest, TheQuarterBeforeStepsBackAWholeUnit) {
  const auto p = Converse({"revenue last quarter", "and the quarter before?", "and before that?"});
  EXPECT_TRUE(p[1].follow_up);
  EXPECT_EQ(p[1].metric, "revenue");
  EXPECT_EQ(Range(p[1]), "2026-04-01..2026-06-30");
  EXPECT_FALSE(p[1].period_defaulted);
  EXPECT_EQ(p[1].period->phrase, "in Q2 2026");
  EXPECT_EQ(Range(p[2]), "2026-01-01..2026-03-31");
  // "This month" so far steps back to all of last month.
  const auto m = Converse({"appointments this month", "the month before?"});
  EXPECT_EQ(Range(m[1]), "2026-09-01..2026-09-30");
  // A rolling window steps back by its length.
  const auto r = Converse({"revenue in the last 30 days", "the period before"});
  EXPECT_EQ(Range(r[1]), "2026-08-28..2026-09-26");
}

TEST(PlannerFollowUpTest, TheYearBeforeIsTheSameUnitAYearEarlier) {
  const auto p = Converse({"revenue in Q3 2025", "the year before?"});
  EXPECT_EQ(Range(p[1]), "2024-07-01..2024-09-30");
  const auto y = Converse({"no-show rate in 2025", "and the year before that"});
  EXPECT_EQ(Range(y[1]), "2024-01-01..2024-12-31");
  EXPECT_EQ(y[1].metric, "no_show_rate");
}

TEST(PlannerFollowUpTest, AStepOfAnotherUnitIsDeclined) {
  const QueryPlan quarter = MustParse("revenue last quarter");
  EXPECT_THAT(ParseQuestion("and the month before?", kAsOf, &quarter),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("steps back by a month")));
  // Nothing to step back from.
  EXPECT_THAT(ParseQuestion("and the quarter before?", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no earlier answer")));
  EXPECT_THAT(ParseQuestion("revenue the quarter before", kAsOf, &quarter),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("starts afresh")));
  const QueryPlan clients = MustParse("active clients");
  EXPECT_THAT(ParseQuestion("and the year before?", kAsOf, &clients),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PlannerFollowUpTest, ABreakdownIsAddedOrReplaced) {
  const auto p = Converse(
      {"revenue last quarter", "and by vet?", "break that down by species", "by month instead"});
  for (size_t k = 1; k < p.size(); ++k) {
    EXPECT_TRUE(p[k].follow_up) << k;
    EXPECT_EQ(p[k].metric, "revenue") << k;
    EXPECT_EQ(Range(p[k]), "2026-07-01..2026-09-30") << k;
  }
  EXPECT_EQ(p[1].dimension, "vet");
  EXPECT_EQ(p[2].dimension, "species");
  EXPECT_EQ(p[3].dimension, "month");
  // A period the first question left to the default is defaulted afresh.
  const auto d = Converse({"revenue", "by month"});
  EXPECT_EQ(Range(d[0]), "2026-01-01..2026-10-26");
  EXPECT_EQ(d[1].dimension, "month");
  EXPECT_EQ(Range(d[1]), "2025-11-01..2026-10-26");
  EXPECT_TRUE(d[1].period_defaulted);
}

TEST(PlannerFollowUpTest, AFilterIsAddedOrReplacedAttributeByAttribute) {
  const auto p =
      Converse({"revenue last quarter", "only cats", "just dentals", "what about dogs?"});
  EXPECT_EQ(Filters(p[1]), "species=feline");
  EXPECT_EQ(Filters(p[2]), "species=feline,category=dental");
  EXPECT_EQ(Filters(p[3]), "species=canine,category=dental");
  for (size_t k = 1; k < p.size(); ++k) {
    EXPECT_EQ(p[k].metric, "revenue") << k;
    EXPECT_EQ(Range(p[k]), "2026-07-01..2026-09-30") << k;
  }
  // "dentals" restricts the appointment type of an appointment metric.
  const auto a = Converse({"appointments last month", "just dentals", "what about surgeries?"});
  EXPECT_EQ(a[1].metric, "appointments");
  EXPECT_EQ(Filters(a[1]), "appointment_type=dental");
  EXPECT_EQ(Filters(a[2]), "appointment_type=surgery");
}

TEST(PlannerFollowUpTest, AStaffNameIsAddedOrReplaced) {
  const auto p = Converse({"gross margin last quarter", "for Dr. Okafor", "what about Dr. Marsh?"});
  EXPECT_EQ(p[1].metric, "gross_margin");
  EXPECT_EQ(p[1].staff_name, "Okafor");
  EXPECT_EQ(p[2].staff_name, "Marsh");
  EXPECT_EQ(Range(p[2]), "2026-07-01..2026-09-30");
}

TEST(PlannerFollowUpTest, OverallDropsTheBreakdownAndAllAnimalsTheFilters) {
  const auto p = Converse({"revenue by vet for cats last month", "and overall?", "all animals"});
  EXPECT_TRUE(p[1].follow_up);
  EXPECT_EQ(p[1].dimension, "");
  EXPECT_EQ(Filters(p[1]), "species=feline");
  EXPECT_EQ(Range(p[1]), "2026-09-01..2026-09-30");
  EXPECT_EQ(Filters(p[2]), "");
  EXPECT_EQ(p[2].metric, "revenue");
  EXPECT_EQ(Range(p[2]), "2026-09-01..2026-09-30");
  // After a single number, "overall" drops its filters and staff name.
  const auto n = Converse({"revenue for Dr. Marsh for dogs in 2025", "and overall?"});
  EXPECT_EQ(Filters(n[1]), "");
  EXPECT_EQ(n[1].staff_name, "");
  EXPECT_EQ(Range(n[1]), "2025-01-01..2025-12-31");
  const auto w = Converse({"revenue by species last month", "without the breakdown"});
  EXPECT_EQ(w[1].dimension, "");
}

TEST(PlannerFollowUpTest, ARankingRanksThePreviousBreakdown) {
  const auto p =
      Converse({"revenue by vet last year", "top 3 only", "and the bottom 3?", "and overall?"});
  EXPECT_TRUE(p[1].ranked);
  EXPECT_EQ(p[1].top_n, 3);
  EXPECT_FALSE(p[1].ascending);
  EXPECT_EQ(p[1].dimension, "vet");
  // "vets" are veterinarians when ranked.
  EXPECT_EQ(Filters(p[1]), "role=veterinarian");
  EXPECT_TRUE(p[2].ascending);
  EXPECT_EQ(p[2].top_n, 3);
  // The total drops the rank and the filter the rank implied.
  EXPECT_FALSE(p[3].ranked);
  EXPECT_EQ(p[3].dimension, "");
  EXPECT_EQ(Filters(p[3]), "");
  // So does a new breakdown.
  const auto s = Converse({"which vet had the most revenue last year", "by species instead"});
  EXPECT_FALSE(s[1].ranked);
  EXPECT_EQ(s[1].dimension, "species");
  EXPECT_EQ(Filters(s[1]), "");
  const auto w = Converse({"revenue last year", "which vet had the most?"});
  EXPECT_TRUE(w[1].ranked);
  EXPECT_EQ(w[1].dimension, "vet");
  EXPECT_EQ(Range(w[1]), "2025-01-01..2025-12-31");
}

TEST(PlannerFollowUpTest, AComparisonComparesThePreviousQuestion) {
  const auto p = Converse({"revenue by category last quarter", "compared with the year before?"});
  EXPECT_EQ(p[1].dimension, "category");
  EXPECT_EQ(p[1].comparison, Comparison::kSamePeriodLastYear);
  EXPECT_EQ(FormatDay(p[1].compare_period->start), "2025-07-01");
  EXPECT_EQ(Range(p[1]), "2026-07-01..2026-09-30");
  const auto m = Converse({"appointments last month", "compared with the month before?"});
  EXPECT_EQ(m[1].comparison, Comparison::kPreviousPeriod);
  EXPECT_EQ(FormatDay(m[1].compare_period->start), "2026-08-01");
}

TEST(PlannerFollowUpTest, FollowUpsChainOnTheTurnBefore) {
  const auto p = Converse({"revenue last quarter", "and by vet?", "and last year?"});
  EXPECT_EQ(p[2].metric, "revenue");
  EXPECT_EQ(p[2].dimension, "vet");
  EXPECT_EQ(Range(p[2]), "2025-01-01..2025-12-31");
  // The plan a follow-up reads is the serialized one the session stored.
  absl::StatusOr<QueryPlan> stored = DeserializePlan(SerializePlan(p[1]));
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(MustParse("and last year?", &*stored), p[2]);
}

TEST(PlannerFollowUpTest, ANewQuestionIsNotAFollowUp) {
  const auto p = Converse({"revenue last quarter", "and by vet?", "No-show rate last month"});
  EXPECT_FALSE(p[2].follow_up);
  EXPECT_EQ(p[2].metric, "no_show_rate");
  EXPECT_EQ(p[2].dimension, "");
  EXPECT_EQ(Range(p[2]), "2026-09-01..2026-09-30");
  // Filter words that imply their own metric with a period ask afresh.
  EXPECT_FALSE(MustParse("emergencies this year", &p[1]).follow_up);
}

TEST(PlannerFollowUpTest, AFollowUpWithoutAPlannerTurnIsDeclinedSaying) {
  EXPECT_THAT(ParseQuestion("and by vet?", kAsOf, nullptr,
                            /*previous_unplanned=*/true),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not computed by the offline planner")));
  EXPECT_THAT(
      ParseQuestion("only cats", kAsOf),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no earlier answer in this session")));
  // Through the planner: the model's plan is no planner plan.
  Planner planner;
  CodeRequest r = Request("what about last year?");
  r.history.push_back({"q", "code", "summary", "{\"model\":1}"});
  EXPECT_THAT(Generate(planner, r), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("not computed by the offline planner")));
}

TEST(PlannerFollowUpTest, GibberishIsDeclinedNotGuessed) {
  const QueryPlan previous = MustParse("revenue last quarter");
  EXPECT_THAT(ParseQuestion("asdf qwerty zxcv", kAsOf, &previous),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("did not understand")));
  EXPECT_THAT(ParseQuestion("and by flurb?", kAsOf, &previous),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"flurb\"")));
  EXPECT_THAT(ParseQuestion("ok", kAsOf, &previous), StatusIs(absl::StatusCode::kInvalidArgument));
}

// The KPIs tests/planner/questions.json found missing or misread.
TEST(PlannerTest, DiscountsAreAMetric) {
  const QueryPlan plan = MustParse("How much did we give in discounts last year?");
  EXPECT_EQ(plan.metric, "discounts");
  EXPECT_EQ(Range(plan), "2025-01-01..2025-12-31");
  EXPECT_EQ(MustParse("Total discounts by vet in 2025").dimension, "vet");
  EXPECT_THAT(WritePandas(plan), HasSubstr("\"discounts\": df[\"discount\"].sum()"));
}

TEST(PlannerTest, ShareOfATotalKeepsAllRowsAndMarksThePart) {
  const QueryPlan plan = MustParse("What share of revenue came from pharmacy in 2025?");
  EXPECT_EQ(plan.metric, "revenue");
  EXPECT_TRUE(plan.share);
  EXPECT_EQ(Filters(plan), "category=pharmacy");
  EXPECT_EQ(Range(plan), "2025-01-01..2025-12-31");
  const std::string code = WritePandas(plan);
  EXPECT_THAT(code, HasSubstr("df[\"in_share\"] = ("));
  EXPECT_THAT(code, HasSubstr("unit = \"percent\""));
  EXPECT_EQ(SummarizePlan(plan),
            "share of revenue where category=pharmacy, 2025-01-01..2025-12-31");
  EXPECT_TRUE(MustParse("percentage of appointments for cats by vet").share);
  // A share needs its part, and a total to be part of.
  EXPECT_THAT(ParseQuestion("what share of revenue last year", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseQuestion("share of ATC from cats", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseQuestion("share of gross margin from cats", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PlannerTest, AShareDeclaredAsARateIsThatRate) {
  // Not no-shows over every appointment: the no-show rate leaves scheduled
  // ones out (DATA_SCHEMA.md).
  const QueryPlan plan = MustParse("What percentage of appointments were no-shows last month?");
  EXPECT_EQ(plan.metric, "no_show_rate");
  EXPECT_FALSE(plan.share);
  EXPECT_EQ(Filters(plan), "");
  EXPECT_EQ(MustParse("share of appointments cancelled in 2025").metric, "cancellation_rate");
}

TEST(PlannerTest, HarmlessVerbsAreAccountedFor) {
  const QueryPlan plan = MustParse("How much revenue came from vaccines last month");
  EXPECT_EQ(plan.metric, "revenue");
  EXPECT_EQ(Filters(plan), "category=vaccine");
}

TEST(PlannerTest, ProcedureWordsAloneCountThoseDone) {
  const QueryPlan surgeries = MustParse("How many surgeries did we do in 2025?");
  EXPECT_EQ(surgeries.metric, "completed_appointments");
  EXPECT_EQ(Filters(surgeries), "appointment_type=surgery");
  EXPECT_EQ(Filters(MustParse("dentals last month")), "appointment_type=dental");
  // Named with a metric they stay filters.
  EXPECT_EQ(MustParse("surgery appointments last quarter").metric, "appointments");
  EXPECT_EQ(Filters(MustParse("dental revenue in 2025")), "category=dental");
}

TEST(PlannerTest, AMetricNamingTheRowsOfAnotherIsOneMetric) {
  const QueryPlan plan = MustParse("No-show rate for dental appointments last year");
  EXPECT_EQ(plan.metric, "no_show_rate");
  EXPECT_EQ(Filters(plan), "appointment_type=dental");
  EXPECT_THAT(ParseQuestion("Revenue and appointments last month", kAsOf),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PlannerTest, UpcomingMeansAfterTheAsOfDay) {
  const QueryPlan plan = MustParse("How many upcoming appointments do we have?");
  EXPECT_EQ(plan.metric, "appointments");
  EXPECT_EQ(Filters(plan), "appointment_status=scheduled");
  EXPECT_EQ(Range(plan), "2026-10-27..2126-10-27");
  // Scheduled appointments lie ahead unless a period is named.
  EXPECT_EQ(Range(MustParse("scheduled appointments by vet")), "2026-10-27..2126-10-27");
  EXPECT_EQ(Range(MustParse("scheduled appointments last month")), "2026-09-01..2026-09-30");
  for (const char* q : {"upcoming appointments last month", "upcoming appointments by month",
                        "upcoming appointments compared to last year", "upcoming revenue"}) {
    EXPECT_THAT(ParseQuestion(q, kAsOf), StatusIs(absl::StatusCode::kInvalidArgument)) << q;
  }
}

TEST(PlannerTest, RankingsByVetRankVeterinariansWithAValue) {
  const QueryPlan plan = MustParse("Which vet had the lowest revenue in 2025?");
  EXPECT_TRUE(plan.ranked);
  EXPECT_EQ(Filters(plan), "role=veterinarian");
  EXPECT_THAT(WritePandas(plan),
              HasSubstr("t = t.drop(index=[\"(no staff)\"], errors=\"ignore\")"));
  // A breakdown lists everyone; a named role replaces the default.
  EXPECT_EQ(Filters(MustParse("revenue by vet in 2025")), "");
  EXPECT_EQ(Filters(MustParse("which vet had the most technician revenue")), "role=technician");
  EXPECT_THAT(WritePandas(MustParse("top 5 breeds by patients seen")),
              HasSubstr("t.drop(index=[\"(unknown)\"]"));
}

TEST(PlannerTest, PatientsOnFileAndPatientsSeen) {
  const QueryPlan plan = MustParse("How many patients do we have by species?");
  EXPECT_EQ(plan.metric, "patients");
  EXPECT_EQ(plan.dimension, "species");
  EXPECT_EQ(Range(plan), "none");
  EXPECT_THAT(WritePandas(plan), HasSubstr("df = patients.copy()"));
  // A period, a time breakdown or "see" means patients seen.
  EXPECT_EQ(MustParse("patients last month").metric, "patients_seen");
  EXPECT_EQ(MustParse("patients by month").metric, "patients_seen");
  EXPECT_EQ(MustParse("How many patients did we see?").metric, "patients_seen");
  EXPECT_EQ(MustParse("unique patients this year").metric, "patients_seen");
  // So do breakdowns and filters only visits have.
  EXPECT_EQ(MustParse("patients by vet").metric, "patients_seen");
  EXPECT_EQ(MustParse("dental patients").metric, "patients_seen");
  EXPECT_EQ(MustParse("patients for Dr. Smith").metric, "patients_seen");
  EXPECT_EQ(MustParse("patients by breed").metric, "patients");
}

TEST(PlannerTest, RepairAttemptsStopThePipeline) {
  Planner planner;
  CodeRequest r = Request("revenue last month");
  r.attempt = 2;
  r.failed_code = "x";
  r.failure = "KeyError: 'amount'";
  EXPECT_THAT(Generate(planner, r),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("the planner's code failed: KeyError: 'amount'")));
  r.failure = std::string(5000, 'x');
  absl::StatusOr<GeneratedCode> out = Generate(planner, r);
  EXPECT_LT(out.status().message().size(), 400u);
}

TEST(PlannerTest, HonoursCancellation) {
  Planner planner;
  CancellationToken cancel;
  cancel.Cancel();
  EXPECT_THAT(planner.Generate(Request("revenue"), cancel), StatusIs(absl::StatusCode::kCancelled));
}

TEST(PlannerTest, DeclinesOverlongQuestions) {
  Planner planner;
  EXPECT_THAT(Generate(planner, Request(std::string(2001, 'a'))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too long")));
}

data::DatasetDescription Dataset(bool with_unit_cost) {
  data::DatasetDescription d;
  auto table = [&d](const char* name, const std::vector<const char*>& columns) {
    data::TableDescription t;
    t.name = name;
    t.row_count = 100;
    for (const char* c : columns) {
      data::ColumnDescription col;
      col.spec.name = c;
      col.spec.type = data::FieldType::kText;
      t.columns.push_back(col);
    }
    d.tables.push_back(t);
  };
  table("clients", {"client_id", "created_on", "status"});
  table("patients", {"patient_id", "client_id", "species", "breed", "sex"});
  table("staff", {"staff_id", "full_name", "role"});
  table("appointments",
        {"appointment_id", "patient_id", "client_id", "staff_id", "starts_at", "type", "status"});
  std::vector<const char*> lines = {"invoice_id",  "line_no",  "invoiced_on",    "client_id",
                                    "patient_id",  "staff_id", "appointment_id", "item_code",
                                    "description", "category", "quantity",       "unit_price",
                                    "discount",    "amount"};
  if (with_unit_cost) lines.push_back("unit_cost");
  table("invoice_lines", lines);
  return d;
}

TEST(PlannerTest, ChecksColumnsAgainstTheDataset) {
  Planner planner;
  const data::DatasetDescription full = Dataset(/*with_unit_cost=*/true);
  const data::DatasetDescription no_cost = Dataset(/*with_unit_cost=*/false);
  CodeRequest r = Request("gross margin by species last month");
  r.dataset = &full;
  EXPECT_THAT(Generate(planner, r), IsOk());
  r.dataset = &no_cost;
  EXPECT_THAT(Generate(planner, r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invoice_lines.unit_cost")));
  r.question = "revenue by species for Dr. Smith";
  EXPECT_THAT(Generate(planner, r), IsOk());
  EXPECT_THAT(
      ColumnsRead(MustParse("revenue by species for Dr. Smith")),
      ElementsAre("invoice_lines.amount", "invoice_lines.invoiced_on", "invoice_lines.patient_id",
                  "invoice_lines.staff_id", "patients.patient_id", "patients.species",
                  "staff.full_name", "staff.staff_id"));
}

// A practice system that exports no appointments (ezyVet's invoice report)
// imports an empty appointments table: questions that need appointments are
// declined saying why; the rest are answered.
// A practice system that exports no staff roles (ezyVet's invoice report)
// leaves staff.role empty: "which vet" would keep no one and answer zero,
// so the program declines instead; a value computed from an empty column
// (walk-in sales: no appointment) is still answered.
TEST(PlannerTest, AFilterOnAnOptionalColumnTheExportLeftEmptyIsDeclined) {
  const std::string which_vet = WritePandas(MustParse("which vet had the most revenue last month"));
  EXPECT_THAT(which_vet, AllOf(HasSubstr("if staff[\"role\"].isna().all():"),
                               HasSubstr("decline = \"The practice's data has no staff.role "
                                         "values (its export had none)")));
  EXPECT_THAT(WritePandas(MustParse("revenue without an appointment last month")),
              Not(HasSubstr("isna().all()")));
  EXPECT_THAT(WritePandas(MustParse("revenue last month")), Not(HasSubstr("decline =")));
}

TEST(PlannerTest, DeclinesWhatAnEmptyTableOrAMissingColumnCannotAnswer) {
  Planner planner;
  data::DatasetDescription d = Dataset(/*with_unit_cost=*/true);
  for (data::TableDescription& t : d.tables) {
    if (t.name == "appointments") t.row_count = 0;
  }
  CodeRequest r = Request("no-show rate last month");
  r.dataset = &d;
  EXPECT_THAT(Generate(planner, r),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("The practice's data has no appointments (its export had none)")));
  r.question = "revenue by species last month";
  EXPECT_THAT(Generate(planner, r), IsOk());

  // A column the export left out is described as not present.
  for (data::TableDescription& t : d.tables) {
    for (data::ColumnDescription& c : t.columns) {
      if (t.name == "invoice_lines" && c.spec.name == "unit_cost") c.present = false;
    }
  }
  r.question = "gross margin last month";
  EXPECT_THAT(Generate(planner, r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("invoice_lines.unit_cost")));
}

TEST(PlannerTest, PlansRoundTrip) {
  for (const char* q :
       {"What was our revenue trend last quarter?", "top 5 services by revenue for cats and dogs",
        "revenue by vet this year compared to last year", "no-show rate for Dr. O'Neil in March",
        "active clients", "inactive clients", "revenue from 2025-01-01 to 2025-03-31",
        "cancellation rate by weekday ytd vs previous period",
        "share of revenue from pharmacy by vet in 2025", "upcoming appointments",
        "patients by species"}) {
    SCOPED_TRACE(q);
    const QueryPlan plan = MustParse(q);
    const std::string text = SerializePlan(plan);
    EXPECT_TRUE(absl::StartsWith(text, "planner/v1;")) << text;
    absl::StatusOr<QueryPlan> back = DeserializePlan(text);
    ASSERT_THAT(back, IsOk());
    EXPECT_TRUE(*back == plan) << text << "\n" << SerializePlan(*back);
  }
  for (const char* bad : {"", "planner/v2;metric=revenue", "planner/v1", "planner/v1;metric=x",
                          "planner/v1;metric=revenue;filter=species:dragon",
                          "planner/v1;metric=revenue;period=2026-01-01|2025-01-01|year|current|x",
                          "planner/v1;metric=revenue;staff=a\"b", "{\"metric\":\"revenue\"}",
                          "planner/v1;metric=active_clients;"
                          "period=2026-01-01|2026-10-26|year|current|this year",
                          "planner/v1;metric=revenue",
                          "planner/v1;metric=new_clients;dimension=vet;"
                          "period=2026-01-01|2026-10-26|year|current|this year",
                          "planner/v1;metric=new_clients;filter=species:feline;"
                          "period=2026-01-01|2026-10-26|year|current|this year",
                          "planner/v1;metric=clients;rank=desc,3",
                          "planner/v1;metric=no_show_rate;share=1;"
                          "period=2026-01-01|2026-10-26|year|current|this year"}) {
    EXPECT_THAT(DeserializePlan(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(PlannerTest, QuestionTextNeverReachesCodeUnquoted) {
  // Only declared words, ISO days and name letters get into the program, and
  // only through Python string literals.
  const QueryPlan plan = MustParse("revenue for Dr. O'Neil since 2025-01-01");
  const std::string code = WritePandas(plan);
  EXPECT_THAT(code, HasSubstr("staff_name = \"O'Neil\""));
  // Punctuation never survives the tokenizer; what is left is a quoted name.
  const QueryPlan odd = MustParse("revenue for Dr. \"); import os; (\"");
  EXPECT_EQ(odd.staff_name, "import os");
  EXPECT_THAT(WritePandas(odd),
              AllOf(HasSubstr("staff_name = \"import os\""), Not(HasSubstr("\nimport os"))));
  EXPECT_EQ(PyStr("a\"b\\c\n"), "\"a\\\"b\\\\c\\x0a\"");
}

TEST(PlannerTest, SemanticLayerIsConsistent) {
  EXPECT_THAT(AmbiguousPhrases(), IsEmpty());
  for (const Metric& m : Metrics()) {
    SCOPED_TRACE(m.id);
    EXPECT_FALSE(m.synonyms.empty());
    EXPECT_THAT(std::vector<std::string>({"USD", "percent", "count", "days"}),
                ::testing::Contains(m.unit));
    EXPECT_FALSE(m.components.empty());
    for (const FilterClause& f : m.implied_filters) EXPECT_NE(FindAttribute(f.attribute), nullptr);
    // Every synonym parses back to its metric.
    for (const std::string& s : m.synonyms) {
      absl::StatusOr<QueryPlan> plan = ParseQuestion(s, kAsOf);
      ASSERT_THAT(plan, IsOk()) << s;
      EXPECT_EQ(plan->metric, m.id) << s;
    }
  }
  for (const FilterWord& w : FilterWords()) {
    for (const FilterClause& c : w.candidates) {
      const Attribute* a = FindAttribute(c.attribute);
      ASSERT_NE(a, nullptr) << c.attribute;
      for (const std::string& v : c.values) {
        EXPECT_THAT(a->values, ::testing::Contains(v)) << c.attribute;
      }
    }
  }
  EXPECT_THAT(MetricDefinitionsForPrompt(),
              HasSubstr("- no_show_rate (percent): 100 * no_show / (completed + no_show + "
                        "cancelled)"));
  EXPECT_EQ(ExampleQuestions().size(), 3u);
}

TEST(PlannerTest, ExampleQuestionsParse) {
  for (const std::string& q : ExampleQuestions()) {
    EXPECT_THAT(ParseQuestion(q, kAsOf), IsOk()) << q;
  }
}

TEST(TokenizerTest, NormalisesWords) {
  std::vector<std::string> texts =
      WordTexts(Tokenize("What's Dr. O'Neil's avg no-show % for the last three months?"));
  EXPECT_THAT(texts, ElementsAre("what", "dr", "oneil", "average", "no", "show", "percent", "for",
                                 "the", "last", "3", "months"));
  const std::vector<Word> words = Tokenize("since 2025-01-01, Dr. Smith");
  ASSERT_EQ(words.size(), 4u);
  EXPECT_EQ(words[1].text, "2025-01-01");
  EXPECT_EQ(words[3].original, "Smith");
  EXPECT_THAT(WordTexts(Tokenize("what\xE2\x80\x99s up")), ElementsAre("what", "up"));
  EXPECT_THAT(Tokenize(" ?! "), IsEmpty());
}

}  // namespace
}  // namespace vet::codegen
