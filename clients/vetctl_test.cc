// Unit tests of vetctl's testable part: exit codes, formatting, argument
// parsing, both Ask printers, and chat's line grammar and plain reader. No
// network; see vetctl_rpc_test.cc for the calls against a fake server on
// loopback.
#include "clients/vetctl.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "clients/args.h"
#include "clients/ask_printer.h"
#include "clients/chat.h"
#include "clients/exit_codes.h"
#include "clients/format.h"
#include "clients/line_editor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "vetanalytics/v1/analytics.pb.h"

// Flags for CheckFlagArgs to find in the registry (vetctl's own live in
// main.cc, which tests do not link).
ABSL_FLAG(int, cli_test_int, 0, "test");
ABSL_FLAG(bool, cli_test_bool, false, "test");
ABSL_FLAG(std::string, cli_test_string, "", "test");
ABSL_FLAG(std::optional<int>, cli_test_optional_int, std::nullopt, "test");
ABSL_FLAG(std::optional<double>, cli_test_optional_double, std::nullopt,
          "test");

namespace vet::cli {
namespace {

namespace v1 = ::vetanalytics::v1;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::vet::testing::IsOkAndHolds;
using ::vet::testing::StatusIs;

// --- Exit codes ------------------------------------------------------------

TEST(ExitCodeTest, MapsEveryStatusCode) {
  const struct {
    grpc::StatusCode code;
    int exit_code;
    const char* name;
  } kCases[] = {
      {grpc::StatusCode::OK, 0, "OK"},
      {grpc::StatusCode::CANCELLED, 9, "CANCELLED"},
      {grpc::StatusCode::UNKNOWN, 1, "UNKNOWN"},
      {grpc::StatusCode::INVALID_ARGUMENT, 3, "INVALID_ARGUMENT"},
      {grpc::StatusCode::DEADLINE_EXCEEDED, 7, "DEADLINE_EXCEEDED"},
      {grpc::StatusCode::NOT_FOUND, 5, "NOT_FOUND"},
      {grpc::StatusCode::ALREADY_EXISTS, 1, "ALREADY_EXISTS"},
      {grpc::StatusCode::PERMISSION_DENIED, 4, "PERMISSION_DENIED"},
      {grpc::StatusCode::RESOURCE_EXHAUSTED, 6, "RESOURCE_EXHAUSTED"},
      {grpc::StatusCode::FAILED_PRECONDITION, 1, "FAILED_PRECONDITION"},
      {grpc::StatusCode::ABORTED, 1, "ABORTED"},
      {grpc::StatusCode::OUT_OF_RANGE, 1, "OUT_OF_RANGE"},
      {grpc::StatusCode::UNIMPLEMENTED, 1, "UNIMPLEMENTED"},
      {grpc::StatusCode::INTERNAL, 1, "INTERNAL"},
      {grpc::StatusCode::UNAVAILABLE, 8, "UNAVAILABLE"},
      {grpc::StatusCode::DATA_LOSS, 1, "DATA_LOSS"},
      {grpc::StatusCode::UNAUTHENTICATED, 4, "UNAUTHENTICATED"},
  };
  for (const auto& c : kCases) {
    EXPECT_EQ(ExitCodeFor(c.code), c.exit_code) << c.name;
    EXPECT_EQ(StatusCodeName(c.code), c.name);
  }
  EXPECT_EQ(ExitCodeFor(static_cast<grpc::StatusCode>(42)), kExitError);
  EXPECT_EQ(StatusCodeName(static_cast<grpc::StatusCode>(42)), "CODE_42");
}

TEST(FormatErrorTest, HumanLineNamesTheCode) {
  EXPECT_EQ(FormatError("NOT_FOUND", "no session s-1", /*json=*/false,
                        /*color=*/false),
            "vetctl: NOT_FOUND: no session s-1\n");
}

TEST(FormatErrorTest, JsonLineParsesBack) {
  const std::string line =
      FormatError("INVALID_ARGUMENT", "bad \"date\"\n\x01 é", /*json=*/true,
                  /*color=*/false);
  ASSERT_EQ(line.back(), '\n');
  google::protobuf::Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &parsed).ok())
      << line;
  EXPECT_EQ(parsed.fields().at("code").string_value(), "INVALID_ARGUMENT");
  EXPECT_EQ(parsed.fields().at("message").string_value(),
            "bad \"date\"\n\x01 é");
}

TEST(FormatErrorTest, MultiLineMessageKeepsItsLinesIndented) {
  EXPECT_EQ(FormatError("INVALID_ARGUMENT",
                        "2 problems:\nclients.csv:3: bad date\n"
                        "staff.csv: missing column \"role\"\n",
                        /*json=*/false, /*color=*/false),
            "vetctl: INVALID_ARGUMENT: 2 problems:\n"
            "  clients.csv:3: bad date\n"
            "  staff.csv: missing column \"role\"\n");
}

TEST(FormatImportReportTest, ShowsVersionRowsAndWarnings) {
  v1::ImportReport report;
  report.set_practice_id("riverside");
  report.set_dataset_version("ds-9f2c");
  report.set_unchanged(true);
  auto add = [&report](const char* table, int64_t rows) {
    v1::TableRows* entry = report.add_tables();
    entry->set_table(table);
    entry->set_rows(rows);
  };
  add("clients", 1200);
  add("invoice_lines", 200000);
  add("staff", 1);
  report.add_warnings("3 appointments have no patient");
  EXPECT_EQ(FormatImportReport(report, FormatOptions()),
            "imported riverside, version ds-9f2c (unchanged)\n"
            "  clients          1,200  rows\n"
            "  invoice_lines  200,000  rows\n"
            "  staff                1  row\n"
            "⚠ 3 appointments have no patient\n");
  report.set_unchanged(false);
  EXPECT_THAT(FormatImportReport(report, FormatOptions()),
              Not(HasSubstr("unchanged")));
}

TEST(FormatErrorTest, UsageErrorPointsToHelp) {
  EXPECT_EQ(
      FormatUsageError("missing subcommand", /*json=*/false, /*color=*/false),
      "vetctl: missing subcommand\nRun 'vetctl help' for usage.\n");
  EXPECT_EQ(
      FormatUsageError("missing subcommand", /*json=*/true, /*color=*/false),
      "{\"code\":\"USAGE\",\"message\":\"missing subcommand\"}\n");
}

// --- Money and numbers -----------------------------------------------------

TEST(FormatMoneyTest, RoundsToCentsAndMarksFractionsOfACent) {
  EXPECT_EQ(FormatMoney(0), "$0.00");
  EXPECT_EQ(FormatMoney(1), "<$0.01");
  EXPECT_EQ(FormatMoney(4'999), "<$0.01");
  EXPECT_EQ(FormatMoney(5'000), "$0.01");
  EXPECT_EQ(FormatMoney(10'000), "$0.01");
  EXPECT_EQ(FormatMoney(999'999), "$1.00");
  EXPECT_EQ(FormatMoney(50'000'000), "$50.00");
  EXPECT_EQ(FormatMoney(1'234'560'000), "$1,234.56");
  EXPECT_EQ(FormatMoney(1'234'565'000), "$1,234.57");
  EXPECT_EQ(FormatMoney(1'000'000'000'000), "$1,000,000.00");
  EXPECT_EQ(FormatMoney(-3'000'000), "-$3.00");
  EXPECT_EQ(FormatMoney(-1), ">-$0.01");
  EXPECT_EQ(FormatMoney(std::numeric_limits<int64_t>::max()),
            "$9,223,372,036,854.78");
  EXPECT_EQ(FormatMoney(std::numeric_limits<int64_t>::min()),
            "-$9,223,372,036,854.78");
}

TEST(FormatNumberTest, UsesTheUnit) {
  EXPECT_EQ(FormatNumber(1234.56, "USD"), "$1,234.56");
  EXPECT_EQ(FormatNumber(-0.5, "USD"), "-$0.50");
  EXPECT_EQ(FormatNumber(0.001, "USD"), "<$0.01");
  EXPECT_EQ(FormatNumber(12.345, "percent"), "12.3%");
  EXPECT_EQ(FormatNumber(1234, "count"), "1,234");
  EXPECT_EQ(FormatNumber(1234567, ""), "1,234,567");
  EXPECT_EQ(FormatNumber(1234.5, ""), "1,234.50");
  EXPECT_EQ(FormatNumber(0.0345, ""), "0.0345");
  EXPECT_EQ(FormatNumber(3.25, "days"), "3.25 days");
}

TEST(FormatNumberTest, IntegersAndDecimals) {
  EXPECT_EQ(FormatInteger(0), "0");
  EXPECT_EQ(FormatInteger(999), "999");
  EXPECT_EQ(FormatInteger(-1234567), "-1,234,567");
  EXPECT_EQ(FormatDecimal(1234.567, 2), "1,234.57");
  EXPECT_EQ(FormatDecimal(-0.001, 2), "0.00");
  EXPECT_EQ(FormatDecimal(std::numeric_limits<double>::quiet_NaN(), 2), "NaN");
  EXPECT_EQ(FormatDecimal(-std::numeric_limits<double>::infinity(), 2), "-∞");
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KB");
}

TEST(SanitizeTest, NeutralizesTerminalControls) {
  EXPECT_EQ(SanitizeForTerminal("a\033[2Jb\x7f", true), "a^[[2Jb^?");
  EXPECT_EQ(SanitizeForTerminal("line1\r\nline2\ttab", true),
            "line1\nline2\ttab");
  EXPECT_EQ(SanitizeForTerminal("line1\nline2\ttab", false), "line1 line2 tab");
  EXPECT_EQ(SanitizeForTerminal("x\xC2\x9B"
                                "1m",
                                true),
            "x?1m");
  EXPECT_EQ(SanitizeForTerminal("Bäckström — ok", true), "Bäckström — ok");
  EXPECT_EQ(DisplayWidth("Bäckström"), 9u);
  EXPECT_EQ(DisplayWidth(Paint(true, Style::kBold, "abc")), 3u);
}

// --- Tables ----------------------------------------------------------------

v1::Column MakeColumn(const std::string& name, v1::Column::Type type) {
  v1::Column column;
  column.set_name(name);
  column.set_type(type);
  return column;
}

v1::Table SpeciesTable() {
  v1::Table table;
  *table.add_columns() = MakeColumn("species", v1::Column::TEXT);
  *table.add_columns() = MakeColumn("visits", v1::Column::INTEGER);
  *table.add_columns() = MakeColumn("revenue", v1::Column::NUMBER);
  v1::Row* dog = table.add_rows();
  dog->add_cells()->set_text("dog");
  dog->add_cells()->set_integer(1234);
  dog->add_cells()->set_number(12345.5);
  v1::Row* cat = table.add_rows();
  cat->add_cells()->set_text("cat");
  cat->add_cells();  // null
  cat->add_cells()->set_number(99.25);
  v1::Row* unknown = table.add_rows();
  unknown->add_cells();  // null
  unknown->add_cells()->set_integer(7);
  unknown->add_cells();  // null
  table.set_total_rows(3);
  return table;
}

TEST(FormatTableTest, AlignsColumnsAndShowsNulls) {
  EXPECT_EQ(FormatTable(SpeciesTable(), FormatOptions()),
            "species  visits    revenue\n"
            "-------  ------  ---------\n"
            "dog       1,234  12,345.50\n"
            "cat           —      99.25\n"
            "—             7          —\n");
}

TEST(FormatTableTest, WholeNumbersHaveNoDecimalsAndBoolsReadYesNo) {
  v1::Table table;
  *table.add_columns() = MakeColumn("month", v1::Column::DATE);
  *table.add_columns() = MakeColumn("n", v1::Column::NUMBER);
  *table.add_columns() = MakeColumn("insured", v1::Column::BOOL);
  v1::Row* row = table.add_rows();
  row->add_cells()->set_text("2026-07-01");
  row->add_cells()->set_number(1500);
  row->add_cells()->set_bool_(true);
  v1::Row* short_row = table.add_rows();  // Fewer cells than columns.
  short_row->add_cells()->set_text("2026-08-01");
  EXPECT_EQ(FormatTable(table, FormatOptions()),
            "month           n  insured\n"
            "----------  -----  -------\n"
            "2026-07-01  1,500  yes\n"
            "2026-08-01      —  —\n");
}

TEST(FormatTableTest, CapsRowsAndCountsTheRest) {
  v1::Table table;
  *table.add_columns() = MakeColumn("i", v1::Column::INTEGER);
  for (int i = 0; i < 60; ++i) table.add_rows()->add_cells()->set_integer(i);
  table.set_total_rows(60);
  std::string text = FormatTable(table, FormatOptions());
  std::vector<std::string> lines =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u + 50u + 1u);
  EXPECT_EQ(lines.back(), "... 10 more rows");

  // The server capped the table at 60 of 1,000 rows.
  table.set_total_rows(1000);
  text = FormatTable(table, FormatOptions());
  EXPECT_THAT(text, HasSubstr("\n... 950 more rows\n"));
}

TEST(FormatTableTest, TextCellsStayOnOneLineAndAreCut) {
  v1::Table table;
  *table.add_columns() = MakeColumn("note", v1::Column::TEXT);
  table.add_rows()->add_cells()->set_text("two\nlines \033[31mred");
  table.add_rows()->add_cells()->set_text(std::string(100, 'x'));
  FormatOptions options;
  options.max_cell_width = 10;
  const std::string text = FormatTable(table, options);
  EXPECT_THAT(text, HasSubstr("two lines…\n"));
  EXPECT_THAT(text, HasSubstr("xxxxxxxxx…\n"));
  EXPECT_THAT(text, Not(HasSubstr("\033")));
}

TEST(FormatResultTest, NumberTextAndTable) {
  v1::Result number;
  number.set_number(1234.5);
  number.set_unit("USD");
  EXPECT_EQ(FormatResult(number, FormatOptions()), "$1,234.50\n");
  v1::Result text;
  text.set_text("Mostly dogs.");
  EXPECT_EQ(FormatResult(text, FormatOptions()), "Mostly dogs.\n");
  v1::Result table;
  *table.mutable_table() = SpeciesTable();
  EXPECT_EQ(FormatResult(table, FormatOptions()),
            FormatTable(SpeciesTable(), FormatOptions()));
  EXPECT_EQ(FormatResult(v1::Result(), FormatOptions()), "");
}

// --- Other responses -------------------------------------------------------

TEST(FormatBudgetTest, ShowsMoneyCapsAndModels) {
  v1::Budget budget;
  budget.set_practice_id("demo");
  budget.set_limit_micros(50'000'000);
  budget.set_spent_micros(41'000'000);
  budget.set_remaining_micros(9'000'000);
  budget.set_soft_cap(0.8);
  budget.set_hard_cap(1.0);
  budget.set_soft_cap_reached(true);
  budget.set_period("month");
  budget.mutable_period_start()->set_seconds(1'788'220'800);  // 2026-09-01
  (*budget.mutable_spent_by_model_micros())["gpt-4o-mini"] = 40'000'000;
  (*budget.mutable_spent_by_model_micros())["planner"] = 1'000'000;
  const std::string text = FormatBudget(budget, FormatOptions());
  EXPECT_THAT(
      text,
      HasSubstr("budget of demo, this month (since 2026-09-01 00:00 UTC"));
  EXPECT_THAT(text, HasSubstr("  limit      $50.00\n"));
  EXPECT_THAT(text, HasSubstr("  spent      $41.00   82%\n"));
  EXPECT_THAT(text, HasSubstr("  soft cap   $40.00   80%  reached\n"));
  EXPECT_THAT(text, HasSubstr("  hard cap   $50.00  100%\n"));
  EXPECT_THAT(text,
              HasSubstr("    gpt-4o-mini  $40.00\n    planner       $1.00\n"));
}

TEST(FormatSessionListTest, OneAlignedRowPerSession) {
  v1::ListSessionsResponse response;
  v1::Session* a = response.add_sessions();
  a->set_session_id("s-1");
  a->set_total_cost_micros(12'340'000);
  a->add_turns()->set_question("How many dogs?");
  v1::Session* b = response.add_sessions();
  b->set_session_id("s-22");
  b->set_ended(true);
  response.set_next_page_token("tok");
  const std::string text = FormatSessionList(response, FormatOptions());
  EXPECT_THAT(
      text,
      HasSubstr(
          "SESSION  LAST ACTIVE  TURNS    COST  STATE   FIRST QUESTION\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "s-1      —                1  $12.34  active  How many dogs?\n"));
  EXPECT_THAT(text, HasSubstr("s-22     —                0   $0.00  ended\n"));
  EXPECT_THAT(text, HasSubstr("more: vetctl sessions --page_token=tok\n"));
  EXPECT_EQ(FormatSessionList(v1::ListSessionsResponse(), FormatOptions()),
            "no sessions\n");
}

TEST(FormatAuditListTest, OneRowPerCallWithTheQuestionsHashOrText) {
  v1::ListAuditResponse response;
  v1::AuditEntry* ask = response.add_entries();
  ask->set_rpc("Ask");
  ask->set_status("OK");
  ask->set_key_id("0123456789ab");
  ask->set_session_id("5f0c4e1d2b3a4968");
  ask->set_generator("model");
  ask->set_model("gpt-5.2-mini");
  ask->set_prompt_tokens(1000);
  ask->set_completion_tokens(234);
  ask->set_cost_micros(1'250'000);
  ask->set_duration_ms(1500);
  ask->set_question_sha256(std::string(64, 'e'));
  v1::AuditEntry* refused = response.add_entries();
  refused->set_rpc("GetBudget");
  refused->set_status("PERMISSION_DENIED");
  refused->set_suppressed_refusals(12);
  refused->set_duration_ms(0);
  v1::AuditEntry* planner = response.add_entries();
  planner->set_rpc("Ask");
  planner->set_status("OK");
  planner->set_key_id("0123456789ab");
  planner->set_generator("planner");
  planner->set_model("planner");
  planner->set_question("How many\ndogs?");
  planner->set_duration_ms(25);
  response.set_next_page_token("tok");
  const std::string text =
      FormatAuditList(response, FormatOptions(), /*since=*/"24h");
  const std::vector<std::string> lines = absl::StrSplit(text, '\n');
  ASSERT_GE(lines.size(), 5u);
  EXPECT_EQ(lines[0],
            "TIME  CALL       STATUS                           KEY           "
            "SESSION   BY            TOKENS   COST      TOOK  QUESTION");
  EXPECT_EQ(lines[1],
            "—     Ask        OK                               0123456789ab  "
            "5f0c4e1d  gpt-5.2-mini   1,234  $1.25  1,500 ms  "
            "sha256:eeeeeeeeeeee");
  EXPECT_EQ(lines[2],
            "—     GetBudget  PERMISSION_DENIED (+12 refused)  -             "
            "                                           0 ms");
  EXPECT_THAT(lines[3], HasSubstr("planner"));
  EXPECT_THAT(lines[3], HasSubstr("How many dogs?"));
  EXPECT_EQ(lines[4], "more: vetctl audit --since=24h --page_token=tok");
  EXPECT_EQ(FormatAuditList(v1::ListAuditResponse(), FormatOptions()),
            "no audit entries\n");
}

TEST(ResolveSinceTest, DatesTimesAndDurationsAgo) {
  const absl::Time now = absl::FromUnixSeconds(1796083200);  // 2026-12-01 UTC
  absl::TimeZone chicago;
  ASSERT_TRUE(absl::LoadTimeZone("America/Chicago", &chicago));
  EXPECT_THAT(ResolveSince("2026-11-30", now, absl::UTCTimeZone()),
              IsOkAndHolds(now - absl::Hours(24)));
  // A date is midnight where vetctl runs.
  EXPECT_THAT(ResolveSince("2026-11-30", now, chicago),
              IsOkAndHolds(now - absl::Hours(24) + absl::Hours(6)));
  EXPECT_THAT(ResolveSince("2026-11-30T12:00:00Z", now, chicago),
              IsOkAndHolds(now - absl::Hours(12)));
  EXPECT_THAT(ResolveSince("24h", now, chicago),
              IsOkAndHolds(now - absl::Hours(24)));
  EXPECT_THAT(ResolveSince("90m", now, chicago),
              IsOkAndHolds(now - absl::Minutes(90)));
  EXPECT_THAT(ResolveSince("7d", now, chicago),
              IsOkAndHolds(now - absl::Hours(24 * 7)));
  for (const char* bad :
       {"yesterday", "2026-13-01", "-1h", "1x", "d", "2026-12-02", "inf"}) {
    EXPECT_THAT(
        ResolveSince(bad, now, absl::UTCTimeZone()),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--since")))
        << bad;
  }
}

TEST(FormatSessionTest, ShowsTurns) {
  v1::Session session;
  session.set_session_id("s-1");
  session.set_practice_id("demo");
  v1::Turn* turn = session.add_turns();
  turn->set_number(1);
  turn->set_question("How many dogs?");
  turn->set_answer("There are 12 dogs.\nMostly labradors.");
  turn->set_status("OK");
  turn->set_code("result = 12");
  const std::string text = FormatSession(session, FormatOptions());
  EXPECT_THAT(text, HasSubstr("session s-1 · practice demo · active\n"));
  EXPECT_THAT(text, HasSubstr("turn 1 · — · OK · $0.00\n"));
  EXPECT_THAT(text, HasSubstr("  Q  How many dogs?\n"));
  EXPECT_THAT(text,
              HasSubstr("  A  There are 12 dogs.\n     Mostly labradors.\n"));
  EXPECT_THAT(text, HasSubstr("  code\n      result = 12\n"));
}

TEST(FormatDatasetTest, ListsColumnsWithoutRows) {
  v1::DatasetDescription dataset;
  dataset.set_practice_id("demo");
  dataset.set_time_zone("Europe/London");
  v1::TableDescription* table = dataset.add_tables();
  table->set_name("patients");
  table->set_row_count(1200);
  v1::ColumnDescription* species = table->add_columns();
  species->set_name("species");
  species->set_type("enum");
  species->add_allowed_values("dog");
  species->add_allowed_values("cat");
  v1::ColumnDescription* owner = table->add_columns();
  owner->set_name("owner_id");
  owner->set_type("ref");
  owner->set_references("owners");
  owner->set_personal(true);
  const std::string text = FormatDataset(dataset, FormatOptions());
  EXPECT_THAT(text, HasSubstr("dataset of demo · time zone Europe/London\n"));
  EXPECT_THAT(text, HasSubstr("patients  1,200 rows\n"));
  EXPECT_THAT(text, HasSubstr("  species   enum  one of dog, cat\n"));
  EXPECT_THAT(text, HasSubstr("  owner_id  ref   → owners · personal\n"));
}

// --- Arguments -------------------------------------------------------------

absl::StatusOr<Invocation> Parse(const std::vector<std::string>& args,
                                 const FlagValues& flags = FlagValues(),
                                 const Environment& env = Environment()) {
  return ParseInvocation(args, flags, env);
}

TEST(ParseInvocationTest, RejectsBadUsage) {
  EXPECT_EQ(Parse({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(Parse({"frobnicate"}).status().message()),
              HasSubstr("unknown subcommand \"frobnicate\""));
  EXPECT_THAT(std::string(Parse({"ask"}).status().message()),
              HasSubstr("ask needs a question"));
  EXPECT_FALSE(Parse({"ask", "  "}).ok());
  EXPECT_THAT(std::string(Parse({"session"}).status().message()),
              HasSubstr("session needs a session id"));
  EXPECT_FALSE(Parse({"end-session"}).ok());
  EXPECT_FALSE(Parse({"session", "a", "b"}).ok());
  EXPECT_THAT(std::string(Parse({"budget", "now"}).status().message()),
              HasSubstr("budget takes no arguments"));
  EXPECT_FALSE(Parse({"sessions", "x"}).ok());
  FlagValues disagree;
  disagree.session = "s-2";
  EXPECT_FALSE(Parse({"session", "s-1"}, disagree).ok());
  FlagValues zero_timeout;
  zero_timeout.timeout = "0";
  EXPECT_THAT(std::string(Parse({"budget"}, zero_timeout).status().message()),
              HasSubstr("--timeout"));
}

TEST(ParseTimeoutTest, SecondsWholeOrFractionalAndDurationsWithTheirUnit) {
  EXPECT_EQ(*ParseTimeout("90"), absl::Seconds(90));
  EXPECT_EQ(*ParseTimeout("2.5"), absl::Milliseconds(2500));
  EXPECT_EQ(*ParseTimeout("0.001"), absl::Milliseconds(1));
  EXPECT_EQ(*ParseTimeout("1500ms"), absl::Milliseconds(1500));
  EXPECT_EQ(*ParseTimeout("1m30s"), absl::Seconds(90));
  for (const char* bad :
       {"0", "-1", "abc", "", "2x", "25h", "inf", "nan", "1e9", "0s"}) {
    EXPECT_THAT(std::string(ParseTimeout(bad).status().message()),
                HasSubstr("--timeout must be a positive number of seconds"))
        << bad;
  }
}

TEST(ParseInvocationTest, CodeViewIsOneOfFourAndSummaryByDefault) {
  FlagValues flags;
  auto inv = Parse({"ask", "revenue"}, flags);
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->code, CodeView::kSummary);
  flags.code = "full";
  EXPECT_EQ(Parse({"ask", "revenue"}, flags)->code, CodeView::kFull);
  flags.code = "hide";
  EXPECT_EQ(Parse({"ask", "revenue"}, flags)->code, CodeView::kHide);
  flags.code = "all";
  EXPECT_THAT(
      std::string(Parse({"ask", "revenue"}, flags).status().message()),
      HasSubstr("--code must be hide, summary, show or full, got \"all\""));
  FlagValues fractional;
  fractional.timeout = "2.5";
  EXPECT_EQ(Parse({"budget"}, fractional)->timeout, absl::Milliseconds(2500));
}

TEST(ParseInvocationTest, AuditTakesSinceAndPagesAndNoArguments) {
  FlagValues flags;
  flags.since = "24h";
  flags.page_size = 50;
  flags.page_token = "tok";
  absl::StatusOr<Invocation> inv = Parse({"audit"}, flags);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kAudit);
  EXPECT_EQ(inv->since, "24h");
  EXPECT_EQ(inv->page_size, 50);
  EXPECT_EQ(inv->page_token, "tok");
  EXPECT_THAT(std::string(Parse({"audit", "x"}).status().message()),
              HasSubstr("audit takes no arguments"));
  flags.since = "last week";
  EXPECT_THAT(std::string(Parse({"audit"}, flags).status().message()),
              HasSubstr("--since"));
}

TEST(ParseInvocationTest, ChecksAsOfDates) {
  for (const char* bad :
       {"2026-13-01", "2026-02-30", "2025-02-29", "26-01-01", "2026-1-01",
        "2026/01/01", "yesterday", "2026-01-01x"}) {
    FlagValues flags;
    flags.as_of = bad;
    const auto inv = Parse({"ask", "q"}, flags);
    EXPECT_EQ(inv.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(inv.status().message()), HasSubstr("--as_of"))
        << bad;
  }
  FlagValues leap;
  leap.as_of = "2024-02-29";
  const auto inv = Parse({"ask", "q"}, leap);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->as_of, "2024-02-29");
}

TEST(ParseInvocationTest, JoinsQuestionWordsAndDefaultsToTheDemo) {
  const auto inv = Parse({"ask", "how", "many", "dogs?"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kAsk);
  EXPECT_EQ(inv->question, "how many dogs?");
  EXPECT_EQ(inv->addr, "127.0.0.1:50051");
  EXPECT_EQ(inv->practice, "demo");
  EXPECT_EQ(inv->api_key, "demo-key");
  EXPECT_EQ(inv->out_dir, "vetctl-artifacts");
  EXPECT_EQ(inv->timeout, absl::Seconds(120));
  EXPECT_TRUE(inv->color_allowed);
  EXPECT_FALSE(inv->json);
}

TEST(ParseInvocationTest, FlagsBeatEnvironmentBeatsDefaults) {
  Environment env;
  env.vet_addr = "env:1";
  env.vet_practice = "env-practice";
  env.vet_api_key = "env-key";
  env.no_color = true;
  auto inv = Parse({"budget"}, FlagValues(), env);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->addr, "env:1");
  EXPECT_EQ(inv->practice, "env-practice");
  EXPECT_EQ(inv->api_key, "env-key");
  EXPECT_FALSE(inv->color_allowed);

  FlagValues flags;
  flags.addr = "flag:2";
  flags.practice = "flag-practice";
  flags.api_key = "flag-key";
  flags.timeout = "5";
  flags.json = true;
  inv = Parse({"budget"}, flags, env);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->addr, "flag:2");
  EXPECT_EQ(inv->practice, "flag-practice");
  EXPECT_EQ(inv->api_key, "flag-key");
  EXPECT_EQ(inv->timeout, absl::Seconds(5));
  EXPECT_TRUE(inv->json);
}

TEST(ParseInvocationTest, PlaintextUnlessTlsIsAskedFor) {
  auto inv = Parse({"budget"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_FALSE(inv->tls.enabled);

  FlagValues tls;
  tls.tls = true;
  inv = Parse({"budget"}, tls);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_TRUE(inv->tls.enabled);
  EXPECT_EQ(inv->tls.ca_cert, "") << "the system's roots";

  Environment env;
  env.vet_tls = true;
  inv = Parse({"budget"}, FlagValues(), env);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_TRUE(inv->tls.enabled);
}

TEST(ParseInvocationTest, ACaCertImpliesTlsAndTheFlagBeatsTheEnvironment) {
  Environment env;
  env.vet_ca_cert = "/env/ca.pem";
  auto inv = Parse({"budget"}, FlagValues(), env);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_TRUE(inv->tls.enabled);
  EXPECT_EQ(inv->tls.ca_cert, "/env/ca.pem");

  FlagValues flags;
  flags.ca_cert = "/flag/ca.pem";
  inv = Parse({"budget"}, flags, env);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->tls.ca_cert, "/flag/ca.pem");
}

TEST(ParseInvocationTest, ClientCertAndKeyComeTogether) {
  FlagValues cert_only;
  cert_only.client_cert = "/c.pem";
  EXPECT_THAT(std::string(Parse({"budget"}, cert_only).status().message()),
              HasSubstr("--client_cert needs --client_key"));
  FlagValues key_only;
  key_only.client_key = "/k.pem";
  EXPECT_THAT(std::string(Parse({"budget"}, key_only).status().message()),
              HasSubstr("--client_key needs --client_cert"));
  FlagValues both = cert_only;
  both.client_key = "/k.pem";
  const auto inv = Parse({"budget"}, both);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_TRUE(inv->tls.enabled);
  EXPECT_EQ(inv->tls.client_cert, "/c.pem");
  EXPECT_EQ(inv->tls.client_key, "/k.pem");
}

TEST(ParseInvocationTest, OnlyTheDemoPracticeGetsTheDemoKey) {
  FlagValues flags;
  flags.practice = "riverside";
  const auto inv = Parse({"budget"}, flags);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->api_key, "");
}

TEST(ParseInvocationTest, SessionIdFromOperandOrFlag) {
  auto inv = Parse({"end-session", "s-1"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kEndSession);
  EXPECT_EQ(inv->session_id, "s-1");
  FlagValues flags;
  flags.session = "s-2";
  inv = Parse({"session"}, flags);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->session_id, "s-2");
  inv = Parse({"ask", "and cats?"}, flags);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->session_id, "s-2");
}

TEST(ParseInvocationTest, ImportAndDemoDataTakeOneDirectory) {
  for (const char* name : {"import", "demo-data"}) {
    EXPECT_THAT(std::string(Parse({name}).status().message()),
                HasSubstr(absl::StrCat(name, " needs a directory")));
    EXPECT_FALSE(Parse({name, ""}).ok());
    EXPECT_THAT(std::string(Parse({name, "a", "b"}).status().message()),
                HasSubstr(absl::StrCat(name, " takes one directory")));
  }
  FlagValues flags;
  flags.mapping = "mapping.json";
  flags.as_of = "2026-09-30";
  auto inv = Parse({"import", "exports"}, flags);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kImport);
  EXPECT_EQ(inv->dir, "exports");
  EXPECT_EQ(inv->mapping_file, "mapping.json");
  EXPECT_EQ(inv->as_of, "2026-09-30");
  inv = Parse({"demo-data", "out"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kDemoData);
  EXPECT_EQ(inv->dir, "out");
}

TEST(ParseInvocationTest, ImportTakesAPresetButNotWithAMapping) {
  FlagValues flags;
  flags.preset = "ezyvet";
  auto inv = Parse({"import", "exports"}, flags);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->preset, "ezyvet");
  flags.mapping = "mapping.json";
  EXPECT_THAT(
      std::string(Parse({"import", "exports"}, flags).status().message()),
      HasSubstr("--preset and --mapping do not go together"));
}

TEST(NewKeyTest, ParsesPracticeAndRefusesOperandsAndBadIds) {
  auto inv = Parse({"new-key"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kNewKey);
  EXPECT_EQ(inv->new_key_practice, "");
  FlagValues flags;
  flags.practice = "north";
  inv = Parse({"new-key"}, flags);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->new_key_practice, "north");
  EXPECT_THAT(Parse({"new-key", "north"}).status().message(),
              HasSubstr("takes no arguments"));
  flags.practice = "North\"";
  EXPECT_THAT(Parse({"new-key"}, flags).status().message(),
              HasSubstr("--practice"));
}

TEST(NewKeyTest, PrintsTheKeyThenTheEntryWithItsSha256) {
  // printf %s 12345678 | sha256sum
  EXPECT_EQ(
      FormatNewKey("12345678", "north"),
      "12345678\n"
      R"({"id": "north", "api_key_sha256": )"
      R"("ef797c8118f02dfb649607dd5d3f8c7623048c9c063d532cc95c5ed7a898a64f"})"
      "\n");
  EXPECT_EQ(
      FormatNewKey("12345678", ""),
      "12345678\n"
      R"("api_key_sha256": "ef797c8118f02dfb649607dd5d3f8c7623048c9c063d532cc95c5ed7a898a64f")"
      "\n");
}

TEST(NewKeyTest, EachRunPrintsAFresh256BitKeyWithoutACall) {
  FlagValues flags;
  flags.practice = "north";
  flags.addr = "127.0.0.1:1";  // nothing listens there: new-key must not call
  auto inv = Parse({"new-key"}, flags);
  ASSERT_TRUE(inv.ok()) << inv.status();
  std::vector<std::string> keys;
  for (int i = 0; i < 2; ++i) {
    std::ostringstream out, err;
    CallCanceller canceller;
    ASSERT_EQ(vet::cli::Run(*inv, Console{out, err}, canceller), kExitOk)
        << err.str();
    std::vector<std::string> lines =
        absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size(), 2u) << out.str();
    EXPECT_EQ(lines[0].size(), 64u) << "32 random bytes in hex";
    EXPECT_EQ(lines[0].find_first_not_of("0123456789abcdef"),
              std::string::npos);
    EXPECT_EQ(out.str(), FormatNewKey(lines[0], "north"));
    EXPECT_THAT(err.str(), HasSubstr("SIGHUP"));
    keys.push_back(lines[0]);
  }
  EXPECT_NE(keys[0], keys[1]);
}

TEST(ParseInvocationTest, ImportWaitsLongerUnlessTimeoutIsGiven) {
  auto inv = Parse({"import", "exports"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->timeout, absl::Seconds(600));
  FlagValues flags;
  flags.timeout = "120";
  inv = Parse({"import", "exports"}, flags);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->timeout, absl::Seconds(120));
  inv = Parse({"budget"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->timeout, absl::Seconds(120));
}

TEST(ParseInvocationTest, DemoDataChecksLines) {
  auto inv = Parse({"demo-data", "out"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->invoice_lines, 200000);
  FlagValues flags;
  for (int64_t good : {int64_t{1}, int64_t{1000}, int64_t{20000000}}) {
    flags.lines = good;
    inv = Parse({"demo-data", "out"}, flags);
    ASSERT_TRUE(inv.ok()) << inv.status();
    EXPECT_EQ(inv->invoice_lines, good);
  }
  for (int64_t bad : {int64_t{0}, int64_t{-5}, int64_t{20000001}}) {
    flags.lines = bad;
    EXPECT_THAT(
        std::string(Parse({"demo-data", "out"}, flags).status().message()),
        HasSubstr("--lines must be between 1 and 20000000"))
        << bad;
  }
}

TEST(ParseInvocationTest, BenchDefaultsToEightStreamsOnThePractice) {
  const auto inv = Parse({"bench", "how", "many", "dogs?"});
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_EQ(inv->command, Command::kBench);
  EXPECT_EQ(inv->bench.streams, 8);
  EXPECT_EQ(inv->bench.duration, absl::Seconds(10));
  EXPECT_EQ(inv->bench.warmup, absl::Seconds(2));
  EXPECT_EQ(inv->bench.max_questions, 0);
  EXPECT_THAT(inv->bench.questions, ::testing::ElementsAre("how many dogs?"));
  EXPECT_THAT(inv->bench.targets,
              ::testing::ElementsAre(BenchTarget{"demo", "demo-key"}));
}

TEST(ParseInvocationTest, BenchTakesEveryQuestionAndItsSettings) {
  FlagValues flags;
  flags.questions = {"revenue, last month?", "no-shows?"};
  flags.streams = 256;
  flags.duration_seconds = 0.5;
  flags.warmup_seconds = 0;
  flags.max_questions = 30;
  flags.practices_file = "practices.json";
  const auto inv = Parse({"bench", "first"}, flags);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_THAT(
      inv->bench.questions,
      ::testing::ElementsAre("first", "revenue, last month?", "no-shows?"));
  EXPECT_EQ(inv->bench.streams, 256);
  EXPECT_EQ(inv->bench.duration, absl::Milliseconds(500));
  EXPECT_EQ(inv->bench.warmup, absl::ZeroDuration());
  EXPECT_EQ(inv->bench.max_questions, 30);
  EXPECT_EQ(inv->bench.practices_file, "practices.json");
  // The practices come from the file, read when the bench starts.
  EXPECT_TRUE(inv->bench.targets.empty());

  FlagValues file_only;
  file_only.questions_file = "questions.txt";
  const auto from_file = Parse({"bench"}, file_only);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_TRUE(from_file->bench.questions.empty());
  EXPECT_EQ(from_file->bench.questions_file, "questions.txt");
}

TEST(ParseInvocationTest, BenchPracticesListGivesEachItsKey) {
  FlagValues flags;
  flags.questions = {"q"};
  flags.practices = "riverside:key-r, demo ,hillcrest";
  auto inv = Parse({"bench"}, flags);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_THAT(inv->bench.targets,
              ::testing::ElementsAre(BenchTarget{"riverside", "key-r"},
                                     BenchTarget{"demo", "demo-key"},
                                     BenchTarget{"hillcrest", ""}));
  Environment env;
  env.vet_api_key = "env-key";
  inv = Parse({"bench"}, flags, env);
  ASSERT_TRUE(inv.ok()) << inv.status();
  EXPECT_THAT(inv->bench.targets,
              ::testing::ElementsAre(BenchTarget{"riverside", "key-r"},
                                     BenchTarget{"demo", "env-key"},
                                     BenchTarget{"hillcrest", "env-key"}));
}

TEST(ParseInvocationTest, BenchBadValuesNameTheFlag) {
  const auto message = [](FlagValues flags) {
    if (flags.questions.empty()) flags.questions = {"q"};
    return std::string(Parse({"bench"}, flags).status().message());
  };
  FlagValues flags;
  for (int bad : {0, -1, 10001}) {
    flags = FlagValues();
    flags.streams = bad;
    EXPECT_THAT(message(flags), HasSubstr("--streams must be between 1 and "
                                          "10000, got "))
        << bad;
  }
  for (double bad : {0.0, -1.0, 86401.0, std::nan("")}) {
    flags = FlagValues();
    flags.duration_seconds = bad;
    EXPECT_THAT(message(flags), HasSubstr("--duration must be")) << bad;
  }
  flags = FlagValues();
  flags.warmup_seconds = -0.5;
  EXPECT_THAT(message(flags), HasSubstr("--warmup must be"));
  flags = FlagValues();
  flags.max_questions = -1;
  EXPECT_THAT(message(flags),
              HasSubstr("--max_questions must not be negative"));
  for (const char* bad : {"a,,b", ",", "a:", ":key"}) {
    flags = FlagValues();
    flags.practices = bad;
    EXPECT_THAT(message(flags), HasSubstr("--practices")) << bad;
  }
  flags = FlagValues();
  flags.practices = "a";
  flags.practices_file = "p.json";
  EXPECT_THAT(message(flags), HasSubstr("--practices and --practices_file"));
  flags = FlagValues();
  flags.questions = {"q", "  "};
  EXPECT_THAT(message(flags), HasSubstr("--question must not be empty"));

  EXPECT_THAT(std::string(Parse({"bench"}).status().message()),
              HasSubstr("bench needs a question"));
}

TEST(FlagOccurrencesTest, CollectsEveryValueOfARepeatedFlagInOrder) {
  std::vector<std::string> args = {
      "vetctl", "bench",       "--question=a, b",    "--question",
      "c d",    "-question=e", "--questions_file=f", "--question_x=g",
      "--",     "--question=h"};
  std::vector<char*> argv;
  argv.reserve(args.size());
  for (std::string& arg : args) argv.push_back(arg.data());
  EXPECT_THAT(FlagOccurrences(argv, "question"),
              ::testing::ElementsAre("a, b", "c d", "e"));
  EXPECT_TRUE(FlagOccurrences(argv, "streams").empty());
}

TEST(DemoDataTest, WritesTheFiveExportsAndListsThem) {
  const std::string dir = (std::filesystem::path(::testing::TempDir()) /
                           "vetctl_demo_data_test" / "nested")
                              .string();
  std::filesystem::remove_all(dir);
  FlagValues flags;
  flags.lines = 300;
  const auto inv = Parse({"demo-data", dir}, flags);
  ASSERT_TRUE(inv.ok()) << inv.status();
  std::ostringstream out, err;
  CallCanceller canceller;
  EXPECT_EQ(vet::cli::Run(*inv, Console{out, err}, canceller), 0);
  EXPECT_EQ(err.str(), "");
  for (const char* table : kImportTables) {
    const std::string name = absl::StrCat(table, ".csv");
    const std::filesystem::path path = std::filesystem::path(dir) / name;
    ASSERT_TRUE(std::filesystem::is_regular_file(path)) << path;
    EXPECT_GT(std::filesystem::file_size(path), 0u) << path;
    EXPECT_THAT(out.str(), HasSubstr(absl::StrCat("  ", name)));
  }
  EXPECT_THAT(out.str(), HasSubstr("about 300 invoice lines"));
}

absl::Status Check(std::vector<std::string> args) {
  args.insert(args.begin(), "vetctl");
  std::vector<char*> argv;
  argv.reserve(args.size());
  for (std::string& arg : args) argv.push_back(arg.data());
  return CheckFlagArgs(argv);
}

TEST(CheckFlagArgsTest, AcceptsKnownFlagsInEveryForm) {
  EXPECT_TRUE(Check({"ask", "q", "--cli_test_int=5"}).ok());
  EXPECT_TRUE(Check({"--cli_test_int", "5", "ask", "q"}).ok());
  EXPECT_TRUE(Check({"-cli_test_string=x", "budget"}).ok());
  EXPECT_TRUE(Check({"--cli_test_bool", "budget"}).ok());
  EXPECT_TRUE(Check({"--nocli_test_bool", "budget"}).ok());
  EXPECT_TRUE(Check({"--cli_test_bool=false"}).ok());
  EXPECT_TRUE(Check({"ask", "--", "--not-a-flag"}).ok());
  EXPECT_TRUE(Check({"ask", "-"}).ok());
  EXPECT_TRUE(Check({"--help"}).ok());
  EXPECT_TRUE(Check({"--flagfile", "some-file", "budget"}).ok());
  EXPECT_TRUE(Check({"--cli_test_optional_int=7", "budget"}).ok());
  EXPECT_TRUE(Check({"--cli_test_optional_int=", "budget"}).ok());
  EXPECT_TRUE(Check({"--cli_test_optional_double=0.5", "bench"}).ok());
  // Checking leaves the flag as it was.
  EXPECT_EQ(absl::GetFlag(FLAGS_cli_test_int), 0);
}

TEST(CheckFlagArgsTest, RejectsUnknownFlagsAndBadValues) {
  EXPECT_THAT(std::string(Check({"ask", "q", "--bogus"}).message()),
              HasSubstr("unknown flag --bogus"));
  EXPECT_FALSE(Check({"--cli_test_int=abc"}).ok());
  EXPECT_FALSE(Check({"--cli_test_int", "abc"}).ok());
  EXPECT_THAT(std::string(Check({"budget", "--cli_test_int"}).message()),
              HasSubstr("needs a value"));
  EXPECT_FALSE(Check({"--cli_test_bool=maybe"}).ok());
  EXPECT_FALSE(Check({"--nocli_test_int"}).ok());
  EXPECT_FALSE(Check({"--cli_test_optional_int=soon"}).ok());
  EXPECT_THAT(
      std::string(Check({"bench", "--cli_test_optional_double=10s"}).message()),
      HasSubstr("--cli_test_optional_double: invalid value \"10s\""));
  EXPECT_EQ(absl::GetFlag(FLAGS_cli_test_int), 0);
}

// --- Ask printers ----------------------------------------------------------

std::vector<v1::AskEvent> SampleStream() {
  std::vector<v1::AskEvent> events;
  auto add = [&events]() -> v1::AskEvent& {
    v1::AskEvent& event = events.emplace_back();
    event.set_seq(static_cast<int64_t>(events.size()));
    event.mutable_timestamp()->set_seconds(1'790'000'000 + event.seq());
    return event;
  };
  v1::SessionStarted* started = add().mutable_session_started();
  started->set_session_id("s-42");
  started->set_turn(1);
  started->set_as_of_date("2026-09-30");
  v1::BudgetCheck* budget = add().mutable_budget_check();
  budget->set_allowed(true);
  budget->set_spent_micros(41'000'000);
  budget->set_limit_micros(50'000'000);
  budget->set_remaining_micros(9'000'000);
  budget->set_soft_cap_reached(true);
  budget->set_model("gpt-4o-mini");
  v1::CodeGenerated* code = add().mutable_code_generated();
  code->set_attempt(1);
  code->set_code(
      "import pandas as pd\nresult = visits.groupby('species').size()");
  code->set_generator("model");
  code->set_model("gpt-4o-mini");
  code->set_prompt_tokens(1200);
  code->set_completion_tokens(80);
  code->set_cost_micros(240);
  code->set_summary("visits by species");
  v1::ExecutionOutput* out = add().mutable_execution_output();
  out->set_stream(v1::ExecutionOutput::STDOUT);
  out->set_text("rows: 3\n");
  v1::ExecutionOutput* warn1 = add().mutable_execution_output();
  warn1->set_stream(v1::ExecutionOutput::STDERR);
  warn1->set_text("Future");
  v1::ExecutionOutput* warn2 = add().mutable_execution_output();
  warn2->set_stream(v1::ExecutionOutput::STDERR);
  warn2->set_text("Warning: x\n\033[2Jcleared?\n");
  v1::Artifact* artifact = add().mutable_artifact();
  artifact->set_name("../chart");
  artifact->set_mime_type("image/png");
  artifact->set_data(std::string("\x89PNG\r\n\x1a\n\0\xff", 10));
  v1::Retry* retry = add().mutable_retry();
  retry->set_attempt(2);
  retry->set_reason("KeyError: 'amount'");
  v1::FinalAnswer* answer = add().mutable_final_answer();
  answer->set_text("Dogs had the most visits.");
  *answer->mutable_result()->mutable_table() = SpeciesTable();
  answer->set_total_cost_micros(12'340'000);
  answer->set_attempts(2);
  return events;
}

TEST(JsonAskPrinterTest, OneParseableLinePerEvent) {
  const std::vector<v1::AskEvent> events = SampleStream();
  std::ostringstream out;
  JsonAskPrinter printer(out);
  printer.Start();
  for (const v1::AskEvent& event : events) printer.OnEvent(event);
  printer.Finish();

  const std::string text = out.str();
  ASSERT_EQ(text.back(), '\n');
  const std::vector<std::string> lines =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), events.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    v1::AskEvent parsed;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(lines[i], &parsed).ok())
        << lines[i];
    EXPECT_TRUE(
        google::protobuf::util::MessageDifferencer::Equals(parsed, events[i]))
        << lines[i];
  }
  // The standard mapping: lowerCamelCase, int64 as strings, bytes as base64.
  EXPECT_THAT(lines[0],
              HasSubstr("\"sessionStarted\":{\"sessionId\":\"s-42\""));
  EXPECT_THAT(lines[1], HasSubstr("\"spentMicros\":\"41000000\""));
  EXPECT_THAT(lines[6], HasSubstr("\"data\":\"iVBORw0KGgoA/w==\""));
}

class HumanAskPrinterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    out_dir_ = std::filesystem::path(::testing::TempDir()) /
               ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(out_dir_);
  }

  std::string Print(const std::vector<v1::AskEvent>& events, bool color,
                    CodeView code = CodeView::kFull) {
    HumanAskOptions options;
    options.format.color = color;
    options.code = code;
    options.out_dir = out_dir_.string();
    std::ostringstream out;
    HumanAskPrinter printer(options, out, err_);
    printer.Start();
    for (const v1::AskEvent& event : events) printer.OnEvent(event);
    printer.Finish();
    return out.str();
  }

  std::filesystem::path out_dir_;
  std::ostringstream err_;
};

TEST_F(HumanAskPrinterTest, TheCodeIsASummaryLineUnlessAskedFor) {
  std::vector<v1::AskEvent> events(1);
  v1::CodeGenerated* code = events[0].mutable_code_generated();
  code->set_attempt(1);
  code->set_generator("planner");
  code->set_summary("revenue by month");
  std::string program;
  for (int i = 1; i <= 20; ++i)
    absl::StrAppend(&program, "x", i, " = ", i, "\n");
  code->set_code(program);
  const std::string summary = Print(events, false, CodeView::kSummary);
  EXPECT_THAT(
      summary,
      HasSubstr("         revenue by month\n"
                "         20 lines of Python (--code=full prints them)\n"));
  EXPECT_THAT(summary, Not(HasSubstr("x1 = 1")));
  const std::string hidden = Print(events, false, CodeView::kHide);
  EXPECT_THAT(hidden, HasSubstr("code     attempt 1"));
  EXPECT_THAT(hidden, Not(HasSubstr("revenue by month")));
  const std::string shown = Print(events, false, CodeView::kShow);
  EXPECT_THAT(shown,
              HasSubstr("    x12 = 12\n    ... 8 more lines (--code=full)\n"));
  EXPECT_THAT(shown, Not(HasSubstr("x13 = 13")));
  EXPECT_THAT(Print(events, false, CodeView::kFull),
              HasSubstr("    x20 = 20\n"));
}

TEST_F(HumanAskPrinterTest, ShowsEveryStage) {
  const std::string text = Print(SampleStream(), /*color=*/false);
  EXPECT_THAT(text, HasSubstr("session  s-42 · new · as of 2026-09-30\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "budget   $41.00 spent of $50.00 · $9.00 left · model gpt-4o-mini\n"
          "         ⚠ soft cap reached\n"));
  EXPECT_THAT(text,
              HasSubstr("code     attempt 1 · model gpt-4o-mini · 1,200 + 80 "
                        "tokens · <$0.01\n"
                        "         visits by species\n"
                        "    import pandas as pd\n"
                        "    result = visits.groupby('species').size()\n"));
  EXPECT_THAT(
      text,
      HasSubstr("output\nrows: 3\n! FutureWarning: x\n! ^[[2Jcleared?\n"));
  EXPECT_THAT(text, HasSubstr("retry    attempt 2: KeyError: 'amount'\n"));
  EXPECT_THAT(text, HasSubstr("answer   Dogs had the most visits.\n\n"
                              "  species  visits    revenue\n"));
  EXPECT_THAT(text, HasSubstr("cost     $12.34 · 2 attempts\n"));
  EXPECT_THAT(text, HasSubstr("follow up: vetctl ask --session=s-42"));
  EXPECT_THAT(text, Not(HasSubstr("\033")));
  EXPECT_EQ(err_.str(), "");
}

TEST_F(HumanAskPrinterTest, SavesArtifactsUnderTheSession) {
  const std::string text = Print(SampleStream(), /*color=*/false);
  const std::filesystem::path path = out_dir_ / "s-42" / "chart.png";
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "artifact ../chart (image/png, 10 B) saved to ",
                        path.string(), "\n")));
  std::ifstream file(path, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(file)),
                         std::istreambuf_iterator<char>());
  EXPECT_EQ(data, std::string("\x89PNG\r\n\x1a\n\0\xff", 10));
}

TEST_F(HumanAskPrinterTest, ColorsOnlyWhenAsked) {
  EXPECT_THAT(Print(SampleStream(), /*color=*/true),
              AllOf(HasSubstr("\033[33m⚠ soft cap reached\033[0m"),
                    HasSubstr("\033[31m! \033[0m")));
}

TEST_F(HumanAskPrinterTest, ShowsARefusedBudget) {
  v1::AskEvent event;
  v1::BudgetCheck* budget = event.mutable_budget_check();
  budget->set_allowed(false);
  budget->set_limit_micros(50'000'000);
  budget->set_spent_micros(50'000'000);
  budget->set_message("The monthly budget is spent.");
  EXPECT_EQ(Print({event}, /*color=*/false),
            "budget   refused · $50.00 spent of $50.00 · $0.00 left\n"
            "         The monthly budget is spent.\n");
}

TEST_F(HumanAskPrinterTest, ShowsADowngradedModel) {
  v1::AskEvent event;
  v1::BudgetCheck* budget = event.mutable_budget_check();
  budget->set_allowed(true);
  budget->set_limit_micros(10'000'000);
  budget->set_spent_micros(8'500'000);
  budget->set_remaining_micros(1'500'000);
  budget->set_soft_cap_reached(true);
  budget->set_model("gpt-5.2-mini");
  budget->set_downgraded_from("gpt-5.2");
  budget->set_message(
      "Past the soft cap: gpt-5.2-mini answers instead of gpt-5.2.");
  EXPECT_EQ(Print({event}, /*color=*/false),
            "budget   $8.50 spent of $10.00 · $1.50 left · model gpt-5.2-mini "
            "(instead of "
            "gpt-5.2)\n"
            "         ⚠ soft cap reached: Past the soft cap: gpt-5.2-mini "
            "answers instead of "
            "gpt-5.2.\n");
}

// An artifact in parts, as the server sends one larger than a message.
std::vector<v1::AskEvent> ArtifactParts(const std::string& name,
                                        const std::string& data,
                                        size_t part_bytes) {
  std::vector<v1::AskEvent> events;
  for (size_t offset = 0; offset < data.size(); offset += part_bytes) {
    v1::Artifact* part = events.emplace_back().mutable_artifact();
    part->set_name(name);
    part->set_mime_type("text/csv");
    part->set_data(data.substr(offset, part_bytes));
    part->set_offset(static_cast<int64_t>(offset));
    part->set_total_bytes(static_cast<int64_t>(data.size()));
  }
  return events;
}

TEST(ArtifactAssemblerTest, PutsPartsTogetherAndPassesAWholeOneThrough) {
  ArtifactAssembler assembler;
  const std::string data = "day,revenue\r\n2026-01-01,10\r\n2026-01-02,12\r\n";
  std::vector<v1::AskEvent> parts = ArtifactParts("result.csv", data, 10);
  ASSERT_EQ(parts.size(), 5u);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    ArtifactAssembler::Added added = assembler.Add(parts[i].artifact());
    EXPECT_FALSE(added.artifact.has_value());
    EXPECT_EQ(added.incomplete, "");
    ASSERT_NE(assembler.pending(), nullptr);
  }
  ArtifactAssembler::Added added = assembler.Add(parts.back().artifact());
  ASSERT_TRUE(added.artifact.has_value());
  EXPECT_EQ(added.artifact->data(), data);
  EXPECT_EQ(added.artifact->name(), "result.csv");
  EXPECT_EQ(added.artifact->total_bytes(), static_cast<int64_t>(data.size()));
  EXPECT_EQ(assembler.pending(), nullptr);

  v1::Artifact old_server;  // no offset or total: whole
  old_server.set_name("chart_1.png");
  old_server.set_data("png");
  added = assembler.Add(old_server);
  ASSERT_TRUE(added.artifact.has_value());
  EXPECT_EQ(added.artifact->data(), "png");
}

TEST(ArtifactAssemblerTest, AMissingPartLeavesTheArtifactIncomplete) {
  ArtifactAssembler assembler;
  std::vector<v1::AskEvent> parts =
      ArtifactParts("result.csv", std::string(30, 'x'), 10);
  EXPECT_FALSE(assembler.Add(parts[0].artifact()).artifact.has_value());
  ArtifactAssembler::Added added =
      assembler.Add(parts[2].artifact());  // 1 is missing
  EXPECT_EQ(added.incomplete, "result.csv");
  EXPECT_FALSE(added.artifact.has_value());
  EXPECT_EQ(assembler.pending(), nullptr);

  // A new artifact starting ends the one before.
  EXPECT_FALSE(assembler.Add(parts[0].artifact()).artifact.has_value());
  v1::Artifact chart;
  chart.set_name("chart_1.png");
  chart.set_data("png");
  chart.set_total_bytes(3);
  added = assembler.Add(chart);
  EXPECT_EQ(added.incomplete, "result.csv");
  ASSERT_TRUE(added.artifact.has_value());
  EXPECT_EQ(added.artifact->name(), "chart_1.png");
}

TEST_F(HumanAskPrinterTest,
       SavesAnArtifactFromItsPartsAndSaysWhereTheWholeTableIs) {
  std::string csv = "\xEF\xBB\xBFn,note\r\n";
  for (int i = 0; i < 48213; ++i) absl::StrAppend(&csv, i, ",note ", i, "\r\n");
  std::vector<v1::AskEvent> events = {SampleStream()[0]};  // the session
  for (v1::AskEvent& part : ArtifactParts("result.csv", csv, 100000)) {
    events.push_back(part);
  }
  v1::Table* table = events.emplace_back()
                         .mutable_final_answer()
                         ->mutable_result()
                         ->mutable_table();
  table->add_columns()->set_name("n");
  for (int i = 0; i < 3; ++i) table->add_rows()->add_cells()->set_integer(i);
  table->set_total_rows(48213);
  table->set_truncated(true);
  table->set_included_rows(3);
  table->set_csv_artifact("result.csv");
  table->set_csv_rows(48213);

  const std::string text = Print(events, /*color=*/false);
  const std::filesystem::path path = out_dir_ / "s-42" / "result.csv";
  EXPECT_THAT(text, HasSubstr(absl::StrCat("artifact result.csv (text/csv, ")));
  EXPECT_THAT(
      text,
      HasSubstr(absl::StrCat(
          "showing 3 of 48,213 rows; the whole table: ", path.string(), "\n")));
  std::ifstream file(path, std::ios::binary);
  const std::string saved((std::istreambuf_iterator<char>(file)),
                          std::istreambuf_iterator<char>());
  EXPECT_EQ(saved, csv);
  EXPECT_EQ(err_.str(), "");
}

TEST_F(HumanAskPrinterTest, SaysWhenTheCsvHoldsOnlyTheFirstRowsOrIsMissing) {
  std::vector<v1::AskEvent> events =
      ArtifactParts("result.csv", "n\r\n0\r\n", 100);
  v1::Table* table = events.emplace_back()
                         .mutable_final_answer()
                         ->mutable_result()
                         ->mutable_table();
  table->add_columns()->set_name("n");
  table->add_rows()->add_cells()->set_integer(0);
  table->set_total_rows(250000);
  table->set_truncated(true);
  table->set_csv_artifact("result.csv");
  table->set_csv_rows(100000);
  EXPECT_THAT(Print(events, /*color=*/false),
              HasSubstr("showing 1 of 250,000 rows; the whole table: "));
  EXPECT_THAT(Print(events, /*color=*/false),
              HasSubstr(" (its first 100,000 rows: the most a CSV holds)\n"));

  // A part lost on the way: the table is still shown, without the path.
  events.erase(events.begin());
  v1::Artifact* tail =
      events.insert(events.begin(), v1::AskEvent())->mutable_artifact();
  tail->set_name("result.csv");
  tail->set_offset(5);
  tail->set_total_bytes(10);
  tail->set_data("abcde");
  EXPECT_THAT(Print(events, /*color=*/false),
              AllOf(HasSubstr("showing 1 of 250,000 rows\n"),
                    Not(HasSubstr("whole table"))));
  EXPECT_THAT(err_.str(),
              HasSubstr("the artifact result.csv arrived incomplete"));
}

// Under the answer, "how": what the figure is and over what, one fact a
// line, with the warnings that bear on trusting it first.
TEST_F(HumanAskPrinterTest, ExplainsTheAnswerUnderItWarningsFirst) {
  v1::AskEvent event;
  v1::FinalAnswer* answer = event.mutable_final_answer();
  answer->set_text("Revenue last month was $1,234.56.");
  answer->mutable_result()->set_text("Revenue last month was $1,234.56.");
  answer->set_attempts(1);
  v1::Explanation* how = answer->mutable_explanation();
  how->set_metric("Revenue");
  how->set_definition("sum of invoice_lines.amount by invoiced_on");
  how->mutable_period()->set_text("last month (2026-09-01 to 2026-09-30)");
  how->mutable_compared()->set_start_date("2026-08-01");
  how->mutable_compared()->set_end_date("2026-08-31");
  how->add_filters("species canine");
  how->add_filters("vet Patel");
  how->set_counted("1,234 invoices");
  how->add_excluded("3 invoice lines without a vet");
  how->add_notes("seen in the last 12 months: 5,210");
  how->add_warnings("the as-of date is after the data's last invoice");
  EXPECT_EQ(
      Print({event}, /*color=*/false),
      "\n"
      "answer   Revenue last month was $1,234.56.\n"
      "\n"
      "how      warning: the as-of date is after the data's last invoice\n"
      "         Revenue: sum of invoice_lines.amount by invoiced_on\n"
      "         period: last month (2026-09-01 to 2026-09-30)\n"
      "         compared with: 2026-08-01 to 2026-08-31\n"
      "         only: species canine; vet Patel\n"
      "         counted: 1,234 invoices\n"
      "         left out: 3 invoice lines without a vet\n"
      "         seen in the last 12 months: 5,210\n"
      "\n"
      "cost     $0.00 · 1 attempt\n");
}

TEST_F(HumanAskPrinterTest, ATextResultOtherThanTheSentenceIsShownUnderIt) {
  v1::AskEvent event;
  event.mutable_final_answer()->set_text("The busiest vet last month:");
  event.mutable_final_answer()->mutable_result()->set_text("Dr Patel");
  EXPECT_THAT(Print({event}, /*color=*/false),
              HasSubstr("answer   The busiest vet last month:\n"
                        "         Dr Patel\n"));
}

TEST_F(HumanAskPrinterTest, AnArtifactWithoutAnExtensionGetsOneForItsType) {
  std::vector<v1::AskEvent> events(4);
  events[0].mutable_session_started()->set_session_id("s-5");
  const std::vector<std::pair<std::string, std::string>> artifacts = {
      {"by_month", "text/csv"},
      {"report", "application/pdf"},
      {"notes", "application/x-unknown"}};
  for (size_t i = 0; i < artifacts.size(); ++i) {
    events[i + 1].mutable_artifact()->set_name(artifacts[i].first);
    events[i + 1].mutable_artifact()->set_mime_type(artifacts[i].second);
    events[i + 1].mutable_artifact()->set_data("x");
  }
  const std::string text = Print(events, /*color=*/false);
  for (const char* file : {"by_month.csv", "report.pdf", "notes"}) {
    const std::filesystem::path path = out_dir_ / "s-5" / file;
    EXPECT_TRUE(std::filesystem::is_regular_file(path)) << path;
    EXPECT_THAT(text,
                HasSubstr(absl::StrCat(" saved to ", path.string(), "\n")));
  }
}

// The answer still comes; the artifact is named as not saved, and why goes
// to stderr.
TEST_F(HumanAskPrinterTest, AnArtifactThatCannotBeSavedIsSaidToBeNotSaved) {
  std::filesystem::create_directories(out_dir_.parent_path());
  std::ofstream(out_dir_) << "a file where the folder would go";
  std::vector<v1::AskEvent> events(3);
  events[0].mutable_session_started()->set_session_id("s-6");
  events[1].mutable_artifact()->set_name("chart.png");
  events[1].mutable_artifact()->set_mime_type("image/png");
  events[1].mutable_artifact()->set_data("png");
  events[2].mutable_final_answer()->set_text("Done.");
  const std::string text = Print(events, /*color=*/false);
  EXPECT_THAT(text,
              HasSubstr("artifact chart.png (image/png, 3 B) not saved\n"));
  EXPECT_THAT(text, HasSubstr("answer   Done.\n"));
  EXPECT_THAT(err_.str(),
              HasSubstr(absl::StrCat("vetctl: warning: cannot create ",
                                     (out_dir_ / "s-6").string())));
  std::filesystem::remove(out_dir_);
}

TEST_F(HumanAskPrinterTest, AnArtifactCutShortIsNotSavedAndSaysHowMuchCame) {
  std::vector<v1::AskEvent> events(2);
  events[0].mutable_session_started()->set_session_id("s-7");
  v1::Artifact* part = events[1].mutable_artifact();
  part->set_name("result.csv");
  part->set_mime_type("text/csv");
  part->set_data(std::string(1000, 'x'));
  part->set_offset(0);
  part->set_total_bytes(3000);
  Print(events, /*color=*/false);
  EXPECT_EQ(err_.str(),
            "vetctl: warning: the artifact result.csv is incomplete (1000 B of "
            "2.9 KB received) and was not saved\n");
  EXPECT_FALSE(std::filesystem::exists(out_dir_ / "s-7" / "result.csv"));
}

TEST(HumanAskPrinterProgressTest, SpinnerWaitsForAnUnfinishedLine) {
  HumanAskOptions options;
  options.progress = true;
  std::ostringstream out, err;
  HumanAskPrinter printer(options, out, err);
  printer.Start();
  v1::AskEvent event;
  event.mutable_execution_output()->set_stream(v1::ExecutionOutput::STDOUT);
  event.mutable_execution_output()->set_text("50% done");
  printer.OnEvent(event);
  // Erased for the output and not drawn again over "50% done".
  EXPECT_THAT(err.str(), ::testing::EndsWith("\r\033[2K"));
  event.mutable_execution_output()->set_text(", 100% done\n");
  printer.OnEvent(event);
  // The line is complete: the spinner is back.
  EXPECT_THAT(err.str(), Not(::testing::EndsWith("\r\033[2K")));
  printer.Finish();
  EXPECT_THAT(err.str(), ::testing::EndsWith("\r\033[2K"));
  EXPECT_EQ(out.str(), "\noutput\n50% done, 100% done\n");
}

TEST(SafeFileNameTest, KeepsArtifactsInTheirDirectory) {
  EXPECT_EQ(SafeFileName("chart.png"), "chart.png");
  EXPECT_EQ(SafeFileName("../../etc/passwd"), "passwd");
  EXPECT_EQ(SafeFileName("..\\x.png"), "x.png");
  EXPECT_EQ(SafeFileName(".hidden"), "hidden");
  EXPECT_EQ(SafeFileName(".."), "artifact");
  EXPECT_EQ(SafeFileName(""), "artifact");
  EXPECT_EQ(SafeFileName("revenue by month.png"), "revenue_by_month.png");
  EXPECT_EQ(SafeFileName(std::string(300, 'a')).size(), 100u);
}

TEST(ProgressLineTest, DrawsAndErasesOnlyWhenEnabled) {
  std::ostringstream err;
  {
    // A frame of an hour: the thread never redraws during the test.
    ProgressLine progress(err, /*enabled=*/true, absl::Hours(1));
    progress.Show("running…");
    progress.Hide();
    progress.Hide();
    progress.Stop();
    progress.Show("after stop");
  }
  EXPECT_EQ(err.str(), "\r\033[2K⠋ running…\r\033[2K");

  std::ostringstream quiet;
  ProgressLine disabled(quiet, /*enabled=*/false);
  disabled.Show("running…");
  disabled.Stop();
  EXPECT_EQ(quiet.str(), "");
}

// --- chat --------------------------------------------------------------------

TEST(ParseInvocationTest, ChatTakesASessionAndNoQuestion) {
  FlagValues flags;
  flags.session = "s-1";
  const auto inv = Parse({"chat"}, flags);
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->command, Command::kChat);
  EXPECT_EQ(inv->session_id, "s-1");
  EXPECT_EQ(inv->timeout, absl::Seconds(kDefaultTimeoutSeconds));
  EXPECT_THAT(std::string(Parse({"chat", "how", "many"}).status().message()),
              HasSubstr("chat takes no arguments"));
  EXPECT_THAT(kUsage, HasSubstr("vetctl chat [--session=ID]"));
}

TEST(ParseChatLineTest, QuestionsCommandsAndTheRest) {
  EXPECT_EQ(ParseChatLine("").command, ChatCommand::kEmpty);
  EXPECT_EQ(ParseChatLine(" \t ").command, ChatCommand::kEmpty);
  const ChatLine question = ParseChatLine("  how many dogs? ");
  EXPECT_EQ(question.command, ChatCommand::kQuestion);
  EXPECT_EQ(question.text, "how many dogs?");
  // A slash inside a question is not a command.
  EXPECT_EQ(ParseChatLine("revenue per visit / per client").command,
            ChatCommand::kQuestion);
  EXPECT_EQ(ParseChatLine("/help").command, ChatCommand::kHelp);
  EXPECT_EQ(ParseChatLine("/?").command, ChatCommand::kHelp);
  EXPECT_EQ(ParseChatLine(" /session ").command, ChatCommand::kSession);
  EXPECT_EQ(ParseChatLine("/new").command, ChatCommand::kNew);
  EXPECT_EQ(ParseChatLine("/history").command, ChatCommand::kHistory);
  EXPECT_EQ(ParseChatLine("/budget").command, ChatCommand::kBudget);
  EXPECT_EQ(ParseChatLine("/end").command, ChatCommand::kEnd);
  EXPECT_EQ(ParseChatLine("/quit").command, ChatCommand::kQuit);
  EXPECT_EQ(ParseChatLine("/exit").command, ChatCommand::kQuit);
  for (const char* unknown : {"/frobnicate", "/QUIT", "/end now", "/"}) {
    const ChatLine line = ParseChatLine(unknown);
    EXPECT_EQ(line.command, ChatCommand::kUnknown) << unknown;
    EXPECT_EQ(line.text, unknown);
  }
}

TEST(ChatPromptTest, ShowsTheNextTurnWhenKnown) {
  EXPECT_EQ(ChatPrompt("demo", 3), "demo #3> ");
  EXPECT_EQ(ChatPrompt("demo", 0), "demo> ");
}

TEST(ChatHelpTest, ListsEveryCommand) {
  for (const char* command :
       {"/help", "/session", "/new", "/history", "/budget", "/end", "/quit",
        "/exit", "Ctrl-D", "Ctrl-C"}) {
    EXPECT_THAT(kChatHelp, HasSubstr(command));
  }
}

TEST(FdLineReaderTest, ReadsLinesUntilTheEndAndCanBeInterrupted) {
  absl::StatusOr<std::unique_ptr<WakePipe>> wake = WakePipe::Create();
  ASSERT_TRUE(wake.ok());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const std::string script = "one\r\n\ntwo\nlast";
  ASSERT_EQ(write(fds[1], script.data(), script.size()),
            static_cast<ssize_t>(script.size()));
  FdLineReader reader(fds[0], **wake);
  using S = LineReader::Status;
  LineReader::Result result = reader.ReadLine("ignored> ");
  EXPECT_EQ(result.status, S::kLine);
  EXPECT_EQ(result.line, "one");
  EXPECT_EQ(reader.ReadLine("").line, "");
  EXPECT_EQ(reader.ReadLine("").line, "two");
  // The writer is still open: the reader waits, and Ctrl-C wakes it.
  (*wake)->Notify();
  EXPECT_EQ(reader.ReadLine("").status, S::kInterrupted);
  close(fds[1]);
  result = reader.ReadLine("");
  EXPECT_EQ(result.status, S::kLine);
  EXPECT_EQ(result.line, "last");
  EXPECT_EQ(reader.ReadLine("").status, S::kEof);
  EXPECT_EQ(reader.ReadLine("").status, S::kEof);
  EXPECT_FALSE(reader.interactive());
  close(fds[0]);
}

// Sets or unsets an environment variable for one test, and puts it back.
class ScopedEnv {
 public:
  explicit ScopedEnv(const char* name) : name_(name) {
    const char* value = getenv(name);
    if (value != nullptr) saved_ = value;
  }
  ~ScopedEnv() {
    if (saved_.has_value()) {
      setenv(name_, saved_->c_str(), /*overwrite=*/1);
    } else {
      unsetenv(name_);
    }
  }
  void Set(const char* value) { setenv(name_, value, /*overwrite=*/1); }
  void Unset() { unsetenv(name_); }

 private:
  const char* const name_;
  std::optional<std::string> saved_;
};

// Where chat keeps its history: the XDG state folder when it is absolute
// (the spec ignores a relative one), else under HOME, else nowhere.
TEST(DefaultChatHistoryFileTest, XdgStateHomeThenHomeElseNone) {
  ScopedEnv xdg("XDG_STATE_HOME");
  ScopedEnv home("HOME");
  xdg.Set("/var/state");
  home.Set("/home/ann");
  EXPECT_EQ(DefaultChatHistoryFile(), "/var/state/vet-analytics/chat_history");
  xdg.Set("state");
  EXPECT_EQ(DefaultChatHistoryFile(),
            "/home/ann/.local/state/vet-analytics/chat_history");
  xdg.Unset();
  EXPECT_EQ(DefaultChatHistoryFile(),
            "/home/ann/.local/state/vet-analytics/chat_history");
  home.Set("");
  EXPECT_EQ(DefaultChatHistoryFile(), "");
  home.Unset();
  EXPECT_EQ(DefaultChatHistoryFile(), "");
}

}  // namespace
}  // namespace vet::cli
