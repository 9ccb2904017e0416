// Runs the planner's programs for a broad set of questions in one
// /usr/bin/python3 (Debian's, with pandas) against the fixture tables in
// testdata/, loaded the way the sandbox loads them: each program in a fresh
// namespace holding the five DataFrames. Checks that every program sets
// `result`, `unit` and `answer` without raising or warning, and for some
// questions the exact value against a hand computation (testdata/README.md).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/codegen/pandas_writer.h"
#include "core/codegen/period.h"
#include "core/codegen/planner.h"
#include "core/codegen/question_parser.h"
#include "core/codegen/semantic_layer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "tests/testing/status_matchers.h"

namespace vet::codegen {
namespace {

using ::testing::HasSubstr;

constexpr char kPython[] = "/usr/bin/python3";

// Loads the tables as the sandbox does and runs every program in codes_dir,
// printing one JSON object per program.
constexpr char kDriver[] = R"PY(
import glob, json, math, os, sys, traceback, warnings
os.environ.setdefault("MPLBACKEND", "Agg")
import matplotlib
matplotlib.use("Agg")
import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

data_dir, codes_dir = sys.argv[1], sys.argv[2]
if sys.argv[3:] == ["fast"]:
    # Text layout is most of a chart's cost and none of the program's logic.
    matplotlib.figure.Figure.tight_layout = lambda self, *a, **k: None
SCHEMA = {
    "clients": (["client_id"], ["created_on"]),
    "patients": (["patient_id", "client_id"], ["birth_date"]),
    "staff": (["staff_id"], ["hired_on"]),
    "appointments": (["appointment_id", "patient_id", "client_id", "staff_id"],
                     ["starts_at", "booked_at"]),
    "invoice_lines": (["invoice_id", "client_id", "patient_id", "staff_id", "appointment_id",
                       "item_code"], ["invoiced_on"]),
}
DECIMALS = ["quantity", "unit_price", "discount", "amount", "unit_cost", "fte"]
tables = {}
for name, (ids, dates) in SCHEMA.items():
    df = pd.read_csv(os.path.join(data_dir, name + ".csv"), dtype={c: str for c in ids})
    for c in dates:
        df[c] = pd.to_datetime(df[c])
    for c in DECIMALS:
        if c in df.columns:
            df[c] = df[c].astype(float)
    tables[name] = df


def plain(v):
    if isinstance(v, (np.generic,)):
        v = v.item()
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, (pd.Timestamp,)):
        return v.isoformat()
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    return str(v)


for path in sorted(glob.glob(os.path.join(codes_dir, "*.py"))):
    case = os.path.basename(path)[:-3]
    out = {"id": case, "ok": False}
    with open(path) as f:
        code = f.read()
    ns = {k: v.copy() for k, v in tables.items()}
    ns["plt"] = plt
    ns["__name__"] = "__main__"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(compile(code, case + ".py", "exec"), ns)
        out["warnings"] = [str(w.message)[:200] for w in caught]
        r = ns.get("result", "<unset>")
        if isinstance(r, pd.DataFrame):
            out["kind"] = "table"
            out["columns"] = [str(c) for c in r.columns]
            out["rows"] = [[plain(v) for v in row] for row in r.itertuples(index=False)]
        elif isinstance(r, str):
            out["kind"] = "text"
            out["text"] = r
        elif isinstance(r, (int, float, np.number)):
            out["kind"] = "number"
            out["number"] = plain(r)
        else:
            out["kind"] = "other:" + type(r).__name__
        out["answer"] = ns.get("answer")
        out["unit"] = ns.get("unit")
        out["figures"] = len(plt.get_fignums())
        out["ok"] = True
    except Exception:
        out["error"] = traceback.format_exc()[-2000:]
    finally:
        plt.close("all")
    for k in [k for k in ns if k not in ("plt", "__builtins__")]:
        ns.pop(k)
    print(json.dumps(out), flush=True)
)PY";

struct Check {
  const char* question;
  // For a single number: its value; for a table: the value in its last column
  // of the row whose first column is `row` ("" = first row). NaN = no check.
  double value = std::nan("");
  const char* row = "";
  int rows = -1;            // expected table rows, -1 = no check
  int figures = -1;         // expected charts, -1 = no check
  const char* answer = "";  // a substring of the answer
};

const double kNoCheck = std::nan("");

// as_of 2026-10-26. Hand computations are in testdata/README.md.
const std::vector<Check>& Checks() {
  static const auto* checks = new std::vector<Check>{
      // Single numbers, checked by hand.
      {"What was our revenue last quarter?", 1910.0, "", -1, 0,
       "Revenue last quarter (2026-07-01 to 2026-09-30) was $1,910.00."},
      {"revenue last month", 752.5},
      {"revenue last year", 1053.0},
      {"How much did we make this year?", 3265.0},
      {"transactions last quarter", 11.0, "", -1, -1, "were 11"},
      {"average transaction charge last quarter", 1910.0 / 11, "", -1, -1, "over 11 invoices"},
      {"gross margin last quarter", 1549.0, "", -1, -1, "count as zero cost"},
      {"margin % last quarter", 100.0 * 1549 / 1910},
      {"dental revenue last quarter", 300.0},
      {"revenue from cats last quarter", 325.0, "", -1, -1, "for feline patients"},
      {"revenue for Dr. Smith last quarter", 720.0, "", -1, -1, "for staff named Smith"},
      {"no-show rate last month", 20.0, "", -1, -1, "(1 of 5 completed"},
      {"no-show rate last quarter", 100.0 * 2 / 12},
      {"cancellation rate last quarter", 100.0 * 2 / 12},
      {"appointments last quarter", 12.0},
      {"completed appointments last quarter", 8.0},
      {"patients seen last quarter", 5.0},
      {"new clients last quarter", 3.0},
      {"active clients", 10.0, "", -1, -1, "Active clients on file now: 10."},
      // By visits too: completed appointments from 2025-10-27 (12 months) or
      // 2025-04-27 (18 months): every client but C03 (a no-show) and C09 (a
      // cancellation); every living patient but P04 and P10.
      {"active clients", 10.0, "", -1, -1,
       "That counts by status on file (client status active); by visits, 10 "
       "clients had a completed appointment in the last 12 months (since "
       "2025-10-27), 10 in the last 18 months (since 2025-04-27)."},
      {"active patients", 14.0, "", -1, -1,
       "by visits, 12 living patients had a completed appointment in the last "
       "12 months (since 2025-10-27), 12 in the last 18 months"},
      {"active patients for dogs", 5.0, "", -1, -1,
       "by visits, 5 living patients for canine patients had"},
      {"inactive clients", 2.0},
      // Every living patient was seen within 18 months of 2026-10-26 (the
      // fixture starts in 2025), so none is lapsed or lapsing.
      {"lapsed patients", 0.0, "", -1, -1,
       "Lapsed patients on file now: 0 (of 14 living patients: last completed "
       "appointment from 2023-10-27 to before 2025-04-27)."},
      {"lapsing patients", 0.0, "", -1, -1, "from 2025-04-27 to before 2025-08-27"},
      {"lapsed patients by species", kNoCheck, "", -1, 1},
      // Q3 2026: 8 completed appointments of S1 and S2, each on its own day.
      {"appointments per vet per working day last quarter", 1.0, "", -1, -1,
       "(8 completed appointments over 8 vet working days)"},
      {"appointments per vet per day by vet last quarter", 1.0, "Dr. Smith", 2, 1},
      // A20..A31 less A27 (no booked_at): 2,705 hours over 11 appointments.
      {"booking lead time last quarter", 2705.0 / 24 / 11, "", -1, -1,
       "10.25 days (the average over 11 appointments with a booking time). "
       "Left out: 1 of 12 appointments, without a booking time."},
      {"lead time by vet last quarter", kNoCheck, "", 2, 1},
      // Veterinarians S1 (1.0) and S2 (0.8), both hired before 2025.
      {"revenue per FTE vet last quarter", 1910.0 / 1.8, "", -1, -1,
       "($1,910.00 over 1.80 veterinarian FTE)"},
      {"revenue per FTE vet last year", 1053.0 / 1.8},
      {"revenue per FTE vet by category last quarter", 460.0 / 1.8, "Consultation", -1, 1},
      // Walk-in sales have no appointment: I23 30 + I26 80 last quarter.
      {"walk-in revenue last quarter", 110.0, "", -1, -1,
       "Revenue without an appointment last quarter"},
      {"revenue without an appointment last quarter", 110.0},
      {"revenue with vs without an appointment last quarter", 1800.0, "With an appointment", 2, 1,
       "By appointment link: With an appointment $1,800.00"},
      // Days of the week: this year Monday 280, Friday 222.50, no weekends.
      {"revenue on Mondays this year", 280.0, "", -1, -1, "on Monday"},
      {"Monday vs Friday revenue this year", 222.5, "Friday", 2, 1},
      {"weekend revenue this year", 0.0, "", -1, -1, "No invoices on Saturday or Sunday this year"},
      {"Wednesday appointments last quarter", kNoCheck},
      // First completed visits: Q3 2026 P09 (A22) and P11 (A25); this year
      // also P08 (A10), P14 (A15), P12 (A32), P13 (A33).
      {"new patients last quarter", 2.0},
      {"new patients this year", 6.0},
      {"new patients by month this year", 2.0, "2026-10", 10, 1},
      // Q3 2026: 8 completed appointments of P01 P02 P09 P05 P11.
      {"visits per patient last quarter", 1.6, "", -1, -1,
       "(8 completed appointments of 5 patients)"},
      {"items sold last quarter", 20.0},
      // The KPIs tests/planner/questions.json found missing or misread.
      {"discounts last quarter", 55.0},
      {"What share of revenue came from dentals last quarter?", 100.0 * 300 / 1910, "", -1, -1,
       "($300.00 of $1,910.00)"},
      {"share of revenue from dental by vet last quarter", kNoCheck, "", -1, 1},
      {"What percentage of appointments were no-shows last quarter?", 100.0 * 2 / 12},
      {"No-show rate for dental appointments this year", 50.0},
      {"How many surgeries did we do this year?", 2.0},
      {"dentals this year", 1.0},
      {"How many upcoming appointments do we have?", 2.0, "", -1, -1, "from 2026-10-27 on"},
      {"How many patients do we have?", 14.0},
      {"patients by species", 5.0, "Canine", -1, 1, "By species: Canine 5; Feline 4"},
      {"emergencies last quarter", 1.0},
      {"revenue from exotics this year", 230.0},
      {"revenue from 2025-01-01 to 2025-03-31", 124.0},
      {"revenue in Q3 2025", 344.0 + 250.0 + 75.0},
      // Empty periods answer gracefully.
      {"revenue in 2024", 0.0, "", -1, -1, "No invoices in 2024"},
      {"no-show rate in 2024", kNoCheck, "", -1, -1, "No completed, no-show or cancelled"},
      {"revenue from reptiles last month", 0.0, "", -1, -1, "No invoices for reptile patients"},
      {"revenue for Dr. Nobody last month", 0.0},
      {"revenue by month in 2024", kNoCheck, "", 12, 0, "No invoices"},
      {"top 5 services by revenue in 2024", kNoCheck, "", 0, 0, "No invoices"},
      // Trends: a line per month, zero-filled.
      {"What was our revenue trend last quarter?", 415.0, "2026-07", 3, 1,
       "from $415.00 in July 2026 to $752.50 in September 2026"},
      {"revenue by month this year", 752.5, "2026-09", 10, 1},
      {"weekly revenue last quarter", kNoCheck, "", 14, 1},
      {"revenue by quarter in 2025", 669.0, "2025Q3", 4, 1},
      {"revenue by year", 1053.0, "2025", 5, 1},
      {"daily revenue in the last 7 days", 75.0, "2026-10-26", 7, 1},
      {"revenue trend", kNoCheck, "", 12, 1},
      {"ATC by month this year", 742.5 / 3, "2026-08", 10, 1},
      {"completed appointments by month this year", 3.0, "2026-09", 10, 1},
      {"new clients by month in 2025", 1.0, "2025-11", 12, 1},
      // Breakdowns: bars.
      // Veterinarians as "Dr. <last name>" in the table and the answer alike.
      {"revenue by vet last quarter", 1080.0, "Dr. Jones", 3, 1,
       "By vet: Dr. Jones $1,080.00; Dr. Smith $720.00; (no staff) $110.00."},
      {"revenue by category last quarter", 460.0, "Consultation", -1, 1},
      {"revenue by species last quarter", 110.0, "(no patient)", -1, 1},
      {"revenue by breed this year", 625.0, "(unknown)", -1, 1},
      {"revenue by appointment type last quarter", 110.0, "(no appointment)", -1, 1},
      {"revenue by client status last year", 135.0, "Inactive", 2, 1},
      {"revenue by staff role this year", kNoCheck, "", -1, 1},
      {"revenue by weekday this year", kNoCheck, "", 7, 1},
      {"average invoice by vet last quarter", 720.0 / 5, "Dr. Smith", 3, 1},
      {"margin % by category last quarter", kNoCheck, "", -1, 1},
      {"gross margin by item in 2025", kNoCheck, "", -1, 1},
      {"appointments by vet last month", 3.0, "Dr. Smith", 2, 1},
      {"no-show rate by vet last quarter", 100.0 * 2 / 5, "Dr. Jones", 2, 1},
      {"cancellation rate by appointment type this year", kNoCheck, "", -1, 1},
      {"appointments by hour of day this year", kNoCheck, "", 24, 1},
      {"no-shows by species this year", kNoCheck, "", -1, 1},
      // Stored codes never reach the answer: "no_show" reads "no-show".
      {"no-shows last quarter", 2.0, "", -1, -1, "with status no-show last quarter"},
      {"appointments by status last quarter", 2.0, "No-show", -1, 1, "No-show 2"},
      {"patients seen by species last quarter", 2.0, "Canine", -1, 1},
      {"new clients by client status this year", kNoCheck, "", -1, 1},
      {"clients by status", 10.0, "Active", 2, 1},
      {"items sold by category last quarter", kNoCheck, "", -1, 1},
      {"lab and imaging revenue by month last quarter", 200.0, "2026-09", 3, 1},
      // Rankings.
      {"top 5 services by revenue this year", 600.0, "Dental cleaning", 5, 1,
       "Top 5 items by revenue"},
      // Veterinarians only: not technician Carol White, not walk-in sales.
      {"Which vet had the most revenue last quarter?", 1080.0, "", 2, 1,
       "Dr. Jones had the highest revenue for veterinarian staff last "
       "quarter (2026-07-01 to 2026-09-30): $1,080.00, ahead of Dr. Smith"},
      {"bottom 3 categories by gross margin in 2025", kNoCheck, "", 3, 1},
      {"What is our busiest day of the week?", kNoCheck, "", 7, 1, "had the most appointments"},
      {"best selling products this year", kNoCheck, "", -1, 1},
      {"who saw the most patients last quarter", kNoCheck, "", 2, 1},
      {"which month had the highest revenue this year", 752.5, "", 10, 1,
       "September 2026 had the highest revenue"},
      // "Ever": from the first invoice (2025-01-08) to the as-of day; a
      // ranking of months ranks the 20 whole ones (not January 2025 nor
      // October 2026, both cut short).
      {"total revenue ever", 1053.0 + 3265.0, "", -1, 0,
       "Revenue over all the data (2025-01-08 to 2026-10-26) was $4,318.00."},
      {"which month had the highest revenue ever", 752.5, "", 20, 1,
       "September 2026 had the highest revenue over all the data (2025-02-01 to 2026-09-30): "
       "$752.50"},
      {"lowest revenue quarter of all time", kNoCheck, "", 6, 1,
       "had the lowest revenue over all the data (2025-04-01 to 2026-09-30)"},
      // Comparisons.
      {"revenue this year compared to last year", 973.0, "2025-01-01 to 2025-10-26", 2, 1,
       "up 235.6% from $973.00 in the same period last year"},
      {"revenue last quarter vs the previous period", 580.0, "2026-04-01 to 2026-06-30", 2, 1},
      {"appointments this month vs last month", kNoCheck, "", 2, 1},
      {"revenue in 2025 versus 2024", 0.0, "2024-01-01 to 2024-12-31", 2, 1, "up from $0.00"},
      {"no-show rate this quarter vs the same period last year", kNoCheck, "", 2, 1},
      {"new clients growth", kNoCheck, "", 2, 1},
      {"revenue by vet this year vs last year", kNoCheck, "", 3, 1},
      {"cancellation rate by weekday ytd vs previous period", kNoCheck, "", 7, 1},
  };
  return *checks;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exists(const char* path) { return std::ifstream(path).good(); }

// The last-column value of the row whose first cell is `row` (or the first
// row), NaN if there is none or it is null.
double TableValue(const rapidjson::Value& rows, absl::string_view row) {
  for (const auto& r : rows.GetArray()) {
    const auto& cells = r.GetArray();
    if (cells.Empty()) continue;
    const bool match = row.empty() || (cells[0].IsString() && cells[0].GetString() == row);
    if (!match) continue;
    const auto& last = cells[cells.Size() - 1];
    return last.IsNumber() ? last.GetDouble() : std::nan("");
  }
  return std::nan("");
}

// Runs `programs` in one Python process against the fixture; returns one
// parsed JSON object per program, in order.
// `fast` skips the charts' text layout.
std::vector<rapidjson::Document> RunPrograms(const std::vector<std::string>& programs,
                                             bool fast = false) {
  std::vector<rapidjson::Document> results;
  const std::string dir = absl::StrCat(::testing::TempDir(), "planner_exec_", getpid());
  const std::string codes = absl::StrCat(dir, "/codes");
  EXPECT_EQ(std::system(absl::StrCat("rm -rf '", dir, "' && mkdir -p '", codes, "'").c_str()), 0);
  for (size_t i = 0; i < programs.size(); ++i) {
    // Zero-padded so the driver's sorted order is the order of `programs`.
    std::string name = absl::StrCat(i);
    name.insert(0, 4 - std::min<size_t>(4, name.size()), '0');
    std::ofstream(absl::StrCat(codes, "/", name, ".py")) << programs[i];
  }
  std::ofstream(absl::StrCat(dir, "/driver.py")) << kDriver;
  const std::string command =
      absl::StrCat(kPython, " '", dir, "/driver.py' '", VET_CODEGEN_TESTDATA, "' '", codes, "'",
                   fast ? " fast" : "", " > '", dir, "/out.jsonl' 2> '", dir, "/err.txt'");
  const int rc = std::system(command.c_str());
  EXPECT_EQ(rc, 0) << ReadFile(absl::StrCat(dir, "/err.txt"));
  const std::vector<std::string> lines =
      absl::StrSplit(ReadFile(absl::StrCat(dir, "/out.jsonl")), '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), programs.size()) << ReadFile(absl::StrCat(dir, "/err.txt"));
  for (const std::string& line : lines) {
    results.emplace_back();
    results.back().Parse(line.c_str());
    EXPECT_FALSE(results.back().HasParseError()) << line;
  }
  // VET_KEEP_PLANNER_EXEC=1 keeps the programs and their output to read.
  if (std::getenv("VET_KEEP_PLANNER_EXEC") == nullptr) {
    std::system(absl::StrCat("rm -rf '", dir, "'").c_str());
  } else {
    std::printf("kept %s\n", dir.c_str());
  }
  return results;
}

std::string Dump(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return buffer.GetString();
}

// Checks what every program must do; false (with a failure) if it raised.
bool RanCleanly(const rapidjson::Document& doc) {
  if (!doc.IsObject() || !doc.HasMember("ok")) {
    ADD_FAILURE() << "no result";
    return false;
  }
  if (!doc["ok"].GetBool()) {
    ADD_FAILURE() << doc["error"].GetString();
    return false;
  }
  EXPECT_TRUE(doc["answer"].IsString() && doc["answer"].GetStringLength() > 0) << Dump(doc);
  EXPECT_TRUE(doc["unit"].IsString()) << Dump(doc);
  EXPECT_EQ(doc["warnings"].Size(), 0u) << Dump(doc);
  const std::string kind = doc["kind"].GetString();
  EXPECT_TRUE(kind == "number" || kind == "table" || kind == "text") << Dump(doc);
  return true;
}

TEST(PlannerExecTest, QuestionsRunAgainstTheFixture) {
  if (!Exists(kPython)) GTEST_SKIP() << kPython << " is not installed";
  Planner planner;
  const std::vector<Check>& checks = Checks();
  ASSERT_GE(checks.size(), 40u);
  std::vector<std::string> programs;
  for (const Check& c : checks) {
    CodeRequest request;
    request.practice_id = "fixture";
    request.question = c.question;
    request.as_of = absl::CivilDay(2026, 10, 26);
    CancellationToken cancel;
    absl::StatusOr<GeneratedCode> out = planner.Generate(request, cancel);
    ASSERT_TRUE(out.ok()) << c.question << ": " << out.status();
    programs.push_back(out->code);
  }
  const std::vector<rapidjson::Document> results = RunPrograms(programs);
  ASSERT_EQ(results.size(), checks.size());
  for (size_t i = 0; i < checks.size(); ++i) {
    const Check& c = checks[i];
    const rapidjson::Document& doc = results[i];
    SCOPED_TRACE(absl::StrCat(i, ": ", c.question));
    if (!RanCleanly(doc)) continue;
    const std::string answer = doc["answer"].GetString();
    EXPECT_THAT(answer, HasSubstr(c.answer));
    if (c.figures >= 0) {
      EXPECT_EQ(doc["figures"].GetInt(), c.figures) << answer;
    }
    const std::string kind = doc["kind"].GetString();
    if (kind == "table") {
      const auto& rows = doc["rows"];
      if (c.rows >= 0) {
        EXPECT_EQ(static_cast<int>(rows.Size()), c.rows) << answer;
      }
      if (!std::isnan(c.value)) {
        EXPECT_NEAR(TableValue(rows, c.row), c.value, 1e-6) << Dump(doc);
      }
    } else if (kind == "number") {
      if (!std::isnan(c.value)) {
        EXPECT_NEAR(doc["number"].GetDouble(), c.value, 1e-6) << answer;
      }
    } else {
      EXPECT_TRUE(std::isnan(c.value)) << "expected a number, got " << Dump(doc);
    }
  }
}

// A veterinarian is "Dr. <last name>", unless another veterinarian has the
// same last name (then "Dr. <full name>"); without roles in the export
// (ezyVet's), everyone keeps the full name as stored.
TEST(PlannerExecTest, StaffAreNamedAsManagersAddressThem) {
  if (!Exists(kPython)) GTEST_SKIP() << kPython << " is not installed";
  Planner planner;
  CodeRequest request;
  request.practice_id = "fixture";
  request.question = "revenue by vet last quarter";
  request.as_of = absl::CivilDay(2026, 10, 26);
  CancellationToken cancel;
  absl::StatusOr<GeneratedCode> out = planner.Generate(request, cancel);
  ASSERT_TRUE(out.ok()) << out.status();
  const std::string another_smith =
      "staff = pd.concat([staff, pd.DataFrame([{\"staff_id\": \"S9\", "
      "\"full_name\": \"Carl Smith\", \"role\": \"veterinarian\"}])], "
      "ignore_index=True)\n";
  const std::string no_roles = "staff[\"role\"] = np.nan\n";
  const std::vector<rapidjson::Document> results = RunPrograms(
      {out->code,
       absl::StrCat("import numpy as np\nimport pandas as pd\n", another_smith, out->code),
       absl::StrCat("import numpy as np\n", no_roles, out->code)});
  ASSERT_EQ(results.size(), 3u);
  for (const rapidjson::Document& doc : results) ASSERT_TRUE(RanCleanly(doc));
  EXPECT_NEAR(TableValue(results[0]["rows"], "Dr. Jones"), 1080.0, 1e-6);
  EXPECT_THAT(results[0]["answer"].GetString(),
              HasSubstr("By vet: Dr. Jones $1,080.00; Dr. Smith"));
  EXPECT_NEAR(TableValue(results[1]["rows"], "Dr. Alice Smith"), 720.0, 1e-6) << Dump(results[1]);
  EXPECT_THAT(results[1]["answer"].GetString(), HasSubstr("; Dr. Alice Smith $720.00"));
  EXPECT_NEAR(TableValue(results[2]["rows"], "Dr. Bob Jones"), 1080.0, 1e-6) << Dump(results[2]);
}

// Every metric by every dimension it applies to, plain, as a top 3 and
// compared with the same period last year: the writer's whole matrix.
TEST(PlannerExecTest, EveryMetricByEveryDimensionRuns) {
  if (!Exists(kPython)) GTEST_SKIP() << kPython << " is not installed";
  const absl::CivilDay as_of(2026, 10, 26);
  std::vector<std::string> dimensions = {""};
  for (const Attribute& a : Attributes()) dimensions.push_back(a.id);
  for (const TimeGrain& g : TimeGrains()) dimensions.push_back(g.id);
  std::vector<std::string> programs;
  std::vector<std::string> names;
  for (const Metric& metric : Metrics()) {
    for (const std::string& dimension : dimensions) {
      if (!dimension.empty() && !DimensionApplies(metric, dimension)) continue;
      const TimeGrain* grain = FindTimeGrain(dimension);
      for (int variant = 0; variant < 3; ++variant) {
        QueryPlan plan;
        plan.metric = metric.id;
        plan.dimension = dimension;
        if (!metric.date_column.empty()) {
          absl::StatusOr<Period> period = ParsePeriod("last quarter", as_of);
          ASSERT_TRUE(period.ok());
          plan.period = *period;
        }
        if (metric.uses_as_of) plan.as_of = as_of;
        if (variant == 1) {
          if (dimension.empty()) continue;
          plan.ranked = true;
          plan.top_n = 3;
        }
        if (variant == 2) {
          if (!plan.period || (grain != nullptr && grain->line_chart)) continue;
          plan.comparison = Comparison::kSamePeriodLastYear;
          plan.compare_period = SamePeriodLastYear(*plan.period);
        }
        programs.push_back(WritePandas(plan));
        names.push_back(SummarizePlan(plan));
      }
    }
  }
  ASSERT_GE(programs.size(), 200u);
  const std::vector<rapidjson::Document> results = RunPrograms(programs, /*fast=*/true);
  ASSERT_EQ(results.size(), programs.size());
  for (size_t i = 0; i < results.size(); ++i) {
    SCOPED_TRACE(names[i]);
    RanCleanly(results[i]);
  }
}

}  // namespace
}  // namespace vet::codegen
