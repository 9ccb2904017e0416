// `vetctl import --preset` end to end: vendor exports written by the test
// (an ezyVet Invoice Lines Report; the Covetrus conversion files) are
// converted and uploaded by vetctl's Run to the real server on loopback,
// and the planner then answers a question with the figure the test
// computes from the vendor files themselves.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/args.h"
#include "clients/vetctl.h"
#include "core/common/log.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "vetanalytics/v1/analytics.grpc.pb.h"

namespace vet {
namespace {

namespace v1 = ::vetanalytics::v1;
using ::testing::HasSubstr;

constexpr char kKey[] = "riverside-key-for-presets";
constexpr char kLakesideKey[] = "lakeside-key-for-presets";
// The practice's day: "last month" is March 2026.
constexpr char kAsOf[] = "2026-04-15";

class PresetImportIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    SetLogQuiet(true);
    root_ = new std::string(absl::StrCat(::testing::TempDir(), "/vet-preset-import-", getpid()));
    std::filesystem::create_directories(*root_);
    std::ofstream(*root_ + "/practices.json")
        << R"({"practices": [{"id": "riverside", "api_key": ")" << kKey
        << R"(", "time_zone": "Pacific/Auckland"}, {"id": "lakeside", "api_key": ")" << kLakesideKey
        << R"(", "time_zone": "America/Chicago"}]})";
    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.metrics_listen = "";
    options.state_dir = *root_ + "/state";
    options.practices_file = *root_ + "/practices.json";
    options.worker_threads = 2;
    options.budget_store = "memory";
    options.sandbox = "process";
    auto started = server::VetServer::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = started->release();
  }

  static void TearDownTestSuite() {
    delete server_;
    std::filesystem::remove_all(*root_);
    delete root_;
  }

  std::string Addr() const { return absl::StrCat("127.0.0.1:", server_->port()); }

  std::string Dir(const std::string& name) {
    std::string dir = absl::StrCat(*root_, "/", name);
    std::filesystem::create_directories(dir);
    return dir;
  }

  struct VetctlResult {
    int exit_code;
    std::string out;
    std::string err;
  };

  VetctlResult Import(const std::string& practice, const std::string& preset,
                      const std::string& dir) {
    cli::FlagValues flags;
    flags.addr = Addr();
    flags.api_key = practice == "lakeside" ? kLakesideKey : kKey;
    flags.practice = practice;
    flags.preset = preset;
    flags.as_of = kAsOf;
    flags.timeout = "60";
    auto inv = cli::ParseInvocation({"import", dir}, flags, cli::Environment());
    EXPECT_TRUE(inv.ok()) << inv.status();
    if (!inv.ok()) return {-1, "", ""};
    std::ostringstream out, err;
    cli::CallCanceller canceller;
    const int code = cli::Run(*inv, cli::Console{out, err}, canceller);
    return {code, out.str(), err.str()};
  }

  grpc::Status Ask(const std::string& practice, const std::string& question,
                   v1::FinalAnswer* answer) {
    auto stub = v1::AnalyticsService::NewStub(
        grpc::CreateChannel(Addr(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.AddMetadata("x-api-key", practice == "lakeside" ? kLakesideKey : kKey);
    v1::AskRequest request;
    request.set_practice_id(practice);
    request.set_question(question);
    request.set_as_of_date(kAsOf);
    auto reader = stub->Ask(&context, request);
    v1::AskEvent event;
    while (reader->Read(&event)) {
      if (event.has_final_answer()) *answer = event.final_answer();
    }
    return reader->Finish();
  }

  static server::VetServer* server_;
  static std::string* root_;
};

server::VetServer* PresetImportIntegrationTest::server_ = nullptr;
std::string* PresetImportIntegrationTest::root_ = nullptr;

TEST_F(PresetImportIntegrationTest, EzyvetReportImportsAndAnswersLastMonthsRevenue) {
  // Three months of invoices, two lines each; day-first dates; a euro
  // discount column; money with a currency symbol and thousands separators.
  std::string report =
      "\xEF\xBB\xBFInvoice #,Invoice Date,Invoice Line ID,Client Contact Code,"
      "First Name,Last Name,Email,Animal Code,Pet Name,Species,Breed,"
      "Staff Member ID,Staff Member,Product Code,Product Name,Product Group,"
      "Qty,Standard Price(incl),Discount(\xE2\x82\xAC),Total Invoiced (excl),"
      "Total Invoiced (incl),Product Cost,Department\r\n";
  int64_t march_cents = 0;
  int line_id = 0;
  for (int i = 0; i < 45; ++i) {
    const int month = 1 + i / 15;
    const int day = 1 + (i * 2) % 28;
    const int client = i % 7;
    const int64_t consult = 6500 + 125 * i;             // cents, excl
    const int64_t vaccine = 2 * (2150 + 40 * i) - 300;  // 2 units, 3.00 off
    const std::string date = absl::StrFormat("%02d/%02d/2026", day, month);
    auto money = [](int64_t cents) {
      if (cents < 100000) {
        return absl::StrFormat("\xE2\x82\xAC%d.%02d", cents / 100, cents % 100);
      }
      return absl::StrFormat("\"\xE2\x82\xAC%d,%03d.%02d\"", cents / 100000, (cents / 100) % 1000,
                             cents % 100);
    };
    absl::StrAppend(&report, "INV", 1000 + i, ",", date, ",", ++line_id, ",C", client, ",Ann",
                    client, ",Lee,,A", client, ",Pet", client, ",",
                    client % 2 ? "Feline" : "Canine", ",,S", i % 3, ",Dr ", i % 3,
                    ",CONS,Consultation,Consultations,1,0,0.00,", money(consult), ",0,10,Main\r\n");
    absl::StrAppend(&report, "INV", 1000 + i, ",", date, ",", ++line_id, ",C", client, ",Ann",
                    client, ",Lee,,A", client, ",Pet", client, ",",
                    client % 2 ? "Feline" : "Canine", ",,S", i % 3, ",Dr ", i % 3,
                    ",VAC,Vaccine,Vaccinations,2,0,3.00,", money(vaccine), ",0,5,Main\r\n");
    if (month == 3) march_cents += consult + vaccine;
  }
  const std::string dir = Dir("ezyvet");
  std::ofstream(dir + "/Invoice Lines Report Q1.csv", std::ios::binary) << report;
  std::ofstream(dir + "/README.txt") << "exported from ezyVet\n";

  VetctlResult imported = Import("riverside", "ezyvet", dir);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_THAT(imported.out, HasSubstr("preset ezyvet: read 1 file, ignored 1"));
  EXPECT_THAT(imported.out, HasSubstr("imported riverside"));
  EXPECT_THAT(imported.out, HasSubstr("invoice_lines  90  rows"));

  v1::FinalAnswer answer;
  grpc::Status asked = Ask("riverside", "What was our revenue last month?", &answer);
  ASSERT_TRUE(asked.ok()) << asked.error_message();
  EXPECT_NEAR(answer.result().number(), march_cents / 100.0, 0.005) << answer.text();

  // The report has no appointments and no staff roles: questions that need
  // them are declined saying why, never answered with zero.
  v1::FinalAnswer declined;
  grpc::Status no_appointments = Ask("riverside", "How many appointments last month?", &declined);
  EXPECT_EQ(no_appointments.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(no_appointments.error_message(),
              HasSubstr("The practice's data has no appointments (its export had none)"));
  grpc::Status no_roles = Ask("riverside", "Which vet had the most revenue last month?", &declined);
  EXPECT_EQ(no_roles.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(no_roles.error_message(), HasSubstr("has no staff.role values"));
}

TEST_F(PresetImportIntegrationTest, CovetrusFilesImportAndAnswerLastMonthsAppointments) {
  std::string clients = "AccountId,LastName,FirstName,Zip\r\n";
  std::string patients =
      "ClientAccountId,AccountId,Name,Species,Breed,DOB,DOD,flgDeceased,"
      "flgInactive\r\n";
  for (int c = 0; c < 6; ++c) {
    absl::StrAppend(&clients, 100 + c, ",Lee", c, ",Ann", c, ",6060", c, "\r\n");
    absl::StrAppend(&patients, 100 + c, ",", 200 + c, ",Pet", c, ",", c % 2 ? "CAT" : "Canine",
                    ",,0", 1 + c, "/15/2018,,0,0\r\n");
  }
  std::string appointments =
      "AppointmentId,ClientAccountId,PatientAccounttId,ApptType,StartDateTime,"
      "ApptLength,ApptStatus,Resource\r\n";
  const char* types[] = {"Annual Exam", "Vaccination", "Sick Visit", "Recheck", "Dental Cleaning"};
  const char* statuses[] = {"Completed", "No Show", "Cancelled", "Completed"};
  int march = 0;
  for (int i = 0; i < 40; ++i) {
    const int month = 2 + i % 3;  // February to April
    const int day = 1 + i % 14;   // April's stay before the as-of day
    const int c = i % 6;
    absl::StrAppend(&appointments, 5000 + i, ",", 100 + c, ",", 200 + c, ",", types[i % 5], ",",
                    absl::StrFormat("%d/%d/2026 %d:%02d %s", month, day, 1 + i % 11, (i * 5) % 60,
                                    i % 2 ? "PM" : "AM"),
                    ",", 15 + 5 * (i % 4), ",", statuses[i % 4], ",DR ", i % 2 ? "JONES" : "SMITH",
                    "\r\n");
    if (month == 3) ++march;
  }
  const std::string dir = Dir("covetrus");
  std::ofstream(dir + "/Client.CSV", std::ios::binary) << clients;
  std::ofstream(dir + "/Patient.CSV", std::ios::binary) << patients;
  std::ofstream(dir + "/Appointment.CSV", std::ios::binary) << appointments;
  std::ofstream(dir + "/Service.CSV", std::ios::binary)
      << "Code,Description,Category,Price,Cost\r\nEXAM,Exam,Professional,55,0\r\n";

  VetctlResult imported = Import("lakeside", "covetrus", dir);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_THAT(imported.out, HasSubstr("preset covetrus: read 4 files, ignored 0"));
  EXPECT_THAT(imported.out, HasSubstr("invoice_lines: the conversion files have no sales"));
  EXPECT_THAT(imported.out, HasSubstr("imported lakeside"));

  v1::FinalAnswer answer;
  grpc::Status asked = Ask("lakeside", "How many appointments did we have last month?", &answer);
  ASSERT_TRUE(asked.ok()) << asked.error_message();
  EXPECT_EQ(answer.result().number(), march) << answer.text();
}

}  // namespace
}  // namespace vet
