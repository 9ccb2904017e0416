#include "server/config.h"

#include <stdlib.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "core/practice/practice.h"
#include "core/telemetry/otel_config.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet::server {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::vet::testing::IsOk;
using ::vet::testing::IsOkAndHolds;
using ::vet::testing::StatusIs;

TEST(DotEnvTest, ParsesCommentsExportAndQuotes) {
  auto env = ParseDotEnv(
      "# settings\n"
      "BUDGET_LIMIT=25.0\n"
      "export VET_LISTEN = 0.0.0.0:50051\n"
      "OPENAI_MODEL=\"gpt-5.2-mini\"\n"
      "VET_DEMO=true # serve the demo\n"
      "EMPTY=\n"
      "SINGLE='a # not a comment'\n");
  ASSERT_THAT(env, IsOk());
  EXPECT_EQ(env->at("BUDGET_LIMIT"), "25.0");
  EXPECT_EQ(env->at("VET_LISTEN"), "0.0.0.0:50051");
  EXPECT_EQ(env->at("OPENAI_MODEL"), "gpt-5.2-mini");
  EXPECT_EQ(env->at("VET_DEMO"), "true");
  EXPECT_EQ(env->at("EMPTY"), "");
  EXPECT_EQ(env->at("SINGLE"), "a # not a comment");
}

TEST(DotEnvTest, RejectsMalformedLinesNamingTheLine) {
  EXPECT_THAT(ParseDotEnv("A=1\nnot a setting\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("line 2")));
  EXPECT_THAT(ParseDotEnv("A B=1\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a variable name")));
  EXPECT_THAT(ParseDotEnv("A=\"open\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unterminated")));
}

TEST(DotEnvTest, MissingFileIsEmpty) {
  auto env = ReadDotEnv("/nonexistent/.env");
  ASSERT_THAT(env, IsOk());
  EXPECT_TRUE(env->empty());
}

TEST(ServerOptionsTest, RequiresPracticesAndSaneValues) {
  ServerOptions o;
  o.state_dir = "/tmp/x";
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--demo")));
  o.demo = true;
  EXPECT_THAT(ValidateServerOptions(o), IsOk());
  o.listen = "50051";
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("HOST:PORT")));
  o.listen = "127.0.0.1:0";
  o.worker_threads = 0;
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--worker_threads")));
  o.worker_threads = 4;
  o.budget.period = "year";
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("BUDGET_PERIOD")));
}

TEST(ServerOptionsTest, AdmissionBoundsAreChecked) {
  ServerOptions o;
  o.state_dir = "/tmp/x";
  o.demo = true;
  o.max_streams = 0;
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--max_streams must")));
  o.max_streams = 100;
  o.max_streams_per_practice = 101;
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--max_streams_per_practice must be between 1 and "
                                 "--max_streams (100)")));
  o.max_streams_per_practice = 100;
  EXPECT_THAT(ValidateServerOptions(o), IsOk());
  o.budget_wait = absl::Seconds(-1);
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--budget_wait")));
  o.budget_wait = absl::Seconds(5);
  o.rate_limit = -1;
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--rate_limit")));
  o.rate_limit = 60;
  o.rate_burst = 0;
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--rate_burst")));
  o.rate_burst = 10;
  o.max_import_memory_mb = 10;
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--max_import_memory_mb")));
}

TEST(ServerOptionsTest, ModelAndSandboxSettingsAreChecked) {
  ServerOptions o;
  o.state_dir = "/tmp/x";
  o.demo = true;
  o.planner = "sometimes";
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("VET_PLANNER")));
  o.planner = "off";
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs a model")));
  o.openai_base_url = "http://127.0.0.1:11434/v1";
  EXPECT_THAT(ValidateServerOptions(o), IsOk());
  o.max_repairs = 9;
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--max_repairs")));
  o.max_repairs = 2;
  o.sandbox = "docker";
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--sandbox")));
}

TEST(ServerOptionsTest, SandboxAdmissionLimitsAreChecked) {
  ServerOptions o;
  o.state_dir = "/tmp/x";
  o.demo = true;
  EXPECT_THAT(ValidateServerOptions(o), IsOk());
  o.max_concurrent_executions = 2;  // below the per-practice default of 3
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--max_executions_per_practice (3) must be between 1 and "
                                 "--max_concurrent_executions (2)")));
  o.max_executions_per_practice = 2;
  EXPECT_THAT(ValidateServerOptions(o), IsOk());
  o.max_queued_executions_per_practice = 0;
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--max_queued_executions_per_practice")));
}

TEST(ServerOptionsTest, BudgetStoreFollowsTheDatabaseUrlAndIsChecked) {
  ServerOptions o;
  o.state_dir = "/tmp/x";
  o.demo = true;
  EXPECT_EQ(BudgetStoreOf(o), "sqlite");
  o.database_url = "postgres://vet@127.0.0.1:5432/vet";
  EXPECT_EQ(BudgetStoreOf(o), "postgres");
  EXPECT_THAT(ValidateServerOptions(o), IsOk());
  o.budget_store = "memory";
  EXPECT_EQ(BudgetStoreOf(o), "memory");
  o.budget_store = "redis";
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("VET_BUDGET_STORE")));
  o.budget_store = "postgres";
  o.database_url = "";
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs VET_DATABASE_URL")));
  o.database_url = "mysql://x";
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("postgres://")));
  o.budget_store = "";
  o.database_url = "";
  o.sandbox_micros_per_second = -1;
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("SANDBOX_COST_PER_SECOND")));
}

// A file under the test's temporary directory holding `text`.
std::string WriteTempFile(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/config_test_" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

TEST(ServerOptionsTest, AuditSettingsAreCheckedNamingTheFlag) {
  ServerOptions o;
  o.state_dir = "/tmp/x";
  o.demo = true;
  // The defaults: questions hashed, 400 days kept.
  EXPECT_EQ(o.audit_questions, "hash");
  EXPECT_EQ(o.audit_retention_days, 400);
  o.audit_questions = "text";
  EXPECT_THAT(ValidateServerOptions(o), IsOk());
  o.audit_questions = "plain";
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--audit_questions")));
  o.audit_questions = "hash";
  o.audit_retention_days = 0;  // forever
  EXPECT_THAT(ValidateServerOptions(o), IsOk());
  for (int days : {-1, 36501}) {
    o.audit_retention_days = days;
    EXPECT_THAT(ValidateServerOptions(o),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--audit_retention_days")))
        << days;
  }
}

TEST(ServerOptionsTest, LogFormatIsTextOrJsonAndABadOneNamesTheFlagAndTheChoices) {
  ServerOptions o;
  o.state_dir = "/tmp/x";
  o.demo = true;
  EXPECT_EQ(o.log_format, "text");
  EXPECT_THAT(ValidateServerOptions(o), IsOk());
  o.log_format = "json";
  EXPECT_THAT(ValidateServerOptions(o), IsOk());
  for (const char* bad : {"JSON", "logfmt", ""}) {
    o.log_format = bad;
    EXPECT_THAT(ValidateServerOptions(o), StatusIs(absl::StatusCode::kInvalidArgument,
                                                   AllOf(HasSubstr("--log_format (VET_LOG_FORMAT)"),
                                                         HasSubstr(absl::StrCat("'", bad, "'")),
                                                         HasSubstr("text"), HasSubstr("json"))))
        << bad;
  }
}

TEST(ServerOptionsTest, TlsNeedsBothCertAndKeyAndNamesTheFlag) {
  ServerOptions o;
  o.state_dir = "/tmp/x";
  o.demo = true;
  const std::string cert = WriteTempFile("cert.pem", "-----BEGIN CERTIFICATE-----\n");
  const std::string key = WriteTempFile("key.pem", "SECRET-KEY-MATERIAL\n");
  o.tls_cert = cert;
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_cert"), HasSubstr(cert), HasSubstr("--tls_key"))));
  o.tls_cert = "";
  o.tls_key = key;
  EXPECT_THAT(
      ValidateServerOptions(o),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("--tls_key"), HasSubstr("--tls_cert"), Not(HasSubstr("SECRET")))));
  o.tls_cert = cert;
  EXPECT_THAT(ValidateServerOptions(o), IsOk());
  EXPECT_TRUE(TlsEnabled(o));
  EXPECT_THAT(ReadTlsFiles(o), IsOk());
}

TEST(ReadTlsFilesTest, UnreadableFilesAreRefusedNamingFlagAndFile) {
  ServerOptions o;
  o.state_dir = "/tmp/x";
  o.demo = true;
  const std::string cert = WriteTempFile("cert2.pem", "-----BEGIN CERTIFICATE-----\n");
  const std::string key = WriteTempFile("key2.pem", "SECRET-KEY-MATERIAL\n");
  o.tls_cert = "/nonexistent/cert.pem";
  o.tls_key = key;
  EXPECT_THAT(ReadTlsFiles(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_cert"), HasSubstr("/nonexistent/cert.pem"))));
  o.tls_cert = cert;
  o.tls_key = "/nonexistent/key.pem";
  EXPECT_THAT(ReadTlsFiles(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_key"), HasSubstr("/nonexistent/key.pem"))));
  o.tls_key = WriteTempFile("empty.pem", "");
  EXPECT_THAT(ReadTlsFiles(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_key"), HasSubstr("empty"))));
  o.tls_key = key;
  o.tls_client_ca = "/nonexistent/ca.pem";
  EXPECT_THAT(ReadTlsFiles(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_client_ca"), HasSubstr("/nonexistent/ca.pem"),
                             Not(HasSubstr("SECRET")))));
  o.tls_client_ca = cert;
  auto files = ReadTlsFiles(o);
  ASSERT_THAT(files, IsOk());
  EXPECT_EQ(files->private_key, "SECRET-KEY-MATERIAL\n");
  EXPECT_EQ(files->client_ca, "-----BEGIN CERTIFICATE-----\n");
}

TEST(ServerOptionsTest, ClientCaNeedsTls) {
  ServerOptions o;
  o.state_dir = "/tmp/x";
  o.demo = true;
  o.tls_client_ca = WriteTempFile("ca3.pem", "-----BEGIN CERTIFICATE-----\n");
  EXPECT_THAT(ValidateServerOptions(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls_client_ca")));
  EXPECT_THAT(ReadTlsFiles(o),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls_client_ca")));
}

TEST(DotEnvTest, TheExampleFileParses) {
  auto env = ReadDotEnv(std::string(VET_SOURCE_DIR) + "/.env.example");
  ASSERT_THAT(env, IsOk());
  EXPECT_EQ(env->at("VET_SANDBOX"), "bwrap");
  EXPECT_EQ(env->at("VET_PLANNER"), "first");
  EXPECT_EQ(env->count("OPENAI_API_KEY"), 0u) << "the example must not set a key";
  EXPECT_EQ(env->at("VET_TLS_CERT"), "") << "plaintext unless a certificate is given";
  // Its tracing settings are valid, and leave tracing off.
  auto tracing =
      telemetry::TracingOptionsFromEnv([&env](const char* name) -> absl::optional<std::string> {
        auto it = env->find(name);
        if (it == env->end()) return absl::nullopt;
        return it->second;
      });
  ASSERT_THAT(tracing, IsOk());
  EXPECT_EQ(tracing->endpoint, "") << "traces are off unless an endpoint is set";
  EXPECT_EQ(tracing->service_name, "vet-analytics");
}

TEST(ExampleFilesTest, TheExamplePracticesFileParsesWithItsBudgetOverrides) {
  auto registry = PracticeRegistry::FromFile(
      std::string(VET_SOURCE_DIR) + "/deploy/practices.example.json", "/var/lib/vet");
  ASSERT_THAT(registry, IsOk());
  auto hillcrest = (*registry)->Find("hillcrest");
  ASSERT_THAT(hillcrest, IsOk());
  EXPECT_EQ((*hillcrest)->budget_period, "day");
  EXPECT_THAT(budget::ValidateBudgetOptions(budget::OptionsFor({}, **hillcrest)), IsOk());
}

TEST(DollarsToMicrosTest, RoundsToTheMicroDollarAndRefusesWhatIsNotAnAmount) {
  EXPECT_THAT(DollarsToMicros(10.0, 1e9, "--budget_limit"), IsOkAndHolds(10'000'000));
  EXPECT_THAT(DollarsToMicros(0.0000015, 1e9, "--budget_limit"), IsOkAndHolds(2));
  EXPECT_THAT(DollarsToMicros(0, 1000, "--x"), IsOkAndHolds(0));
  for (double bad : {-0.01, 1e12, std::nan(""), HUGE_VAL}) {
    EXPECT_THAT(DollarsToMicros(bad, 1e9, "--budget_limit (BUDGET_LIMIT)"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("--budget_limit (BUDGET_LIMIT) must be a number of USD between "
                                   "0 and 1000000000")))
        << bad;
  }
}

// Every setting out of its range is refused on its own, naming the flag (or
// variable) to change, so an operator can fix a bad deployment from the
// message alone.
TEST(ServerOptionsTest, EachSettingOutOfRangeIsRefusedNamingIt) {
  ServerOptions valid;
  valid.state_dir = "/tmp/x";
  valid.demo = true;
  ASSERT_THAT(ValidateServerOptions(valid), IsOk());
  const struct {
    const char* names;  // what the message must say
    std::function<void(ServerOptions&)> breaks;
  } kCases[] = {
      {"--metrics_listen 'metrics'", [](ServerOptions& o) { o.metrics_listen = "metrics"; }},
      {"--data_cache_mb (VET_DATA_CACHE_MB)", [](ServerOptions& o) { o.data_cache_mb = 0; }},
      {"data_poll must be at least 10ms",
       [](ServerOptions& o) { o.data_poll = absl::Milliseconds(1); }},
      {"--max_import_bytes", [](ServerOptions& o) { o.max_import_bytes = 10; }},
      {"--max_concurrent_executions", [](ServerOptions& o) { o.max_concurrent_executions = 0; }},
      {"--sandbox_timeout", [](ServerOptions& o) { o.sandbox_timeout = absl::ZeroDuration(); }},
      {"--model_timeout", [](ServerOptions& o) { o.model_timeout = -absl::Seconds(1); }},
      {"--openai_model (OPENAI_MODEL)", [](ServerOptions& o) { o.openai_model.clear(); }},
      {"--session_ttl (VET_SESSION_TTL)",
       [](ServerOptions& o) { o.session_ttl = absl::Milliseconds(500); }},
      {"--session_sweep", [](ServerOptions& o) { o.session_sweep = absl::ZeroDuration(); }},
      {"--context_tokens (VET_CONTEXT_TOKENS)", [](ServerOptions& o) { o.context_tokens = -1; }},
      {"--sandbox_workers", [](ServerOptions& o) { o.sandbox_workers = 0; }},
      {"--sandbox_memory_mb", [](ServerOptions& o) { o.sandbox_memory_mb = 64; }},
      {"--sandbox_idle", [](ServerOptions& o) { o.sandbox_idle = absl::ZeroDuration(); }},
      {"--sandbox_worker_starts", [](ServerOptions& o) { o.sandbox_worker_starts = 0; }},
      {"--demo_api_key", [](ServerOptions& o) { o.demo_api_key = "short"; }},
      {"--demo_invoice_lines", [](ServerOptions& o) { o.demo_invoice_lines = 99; }},
      {"--http_listen '8080'", [](ServerOptions& o) { o.http_listen = "8080"; }},
      {"http_max_streams < http_threads",
       [](ServerOptions& o) { o.http_max_streams = o.http_threads; }},
      {"http_max_body_bytes >= 1024", [](ServerOptions& o) { o.http_max_body_bytes = 100; }},
      {"positive timeouts", [](ServerOptions& o) { o.http_write_timeout = absl::ZeroDuration(); }},
  };
  for (const auto& c : kCases) {
    ServerOptions o = valid;
    c.breaks(o);
    EXPECT_THAT(ValidateServerOptions(o),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.names)))
        << c.names;
  }
}

// The state directory when none is given: XDG's state home, else the
// user's, else the working directory.
TEST(ServerOptionsTest, TheDefaultStateDirectoryFollowsXdgThenHome) {
  const char* xdg = std::getenv("XDG_STATE_HOME");
  const char* home = std::getenv("HOME");
  const std::string saved_xdg = xdg != nullptr ? xdg : "";
  const std::string saved_home = home != nullptr ? home : "";
  ::setenv("XDG_STATE_HOME", "/srv/state", 1);
  ::setenv("HOME", "/home/manager", 1);
  EXPECT_EQ(DefaultStateDir(), "/srv/state/vet-analytics");
  ::setenv("XDG_STATE_HOME", "", 1);
  EXPECT_EQ(DefaultStateDir(), "/home/manager/.local/state/vet-analytics");
  ::unsetenv("HOME");
  EXPECT_EQ(DefaultStateDir(), "./vet-analytics-state");
  if (xdg != nullptr) {
    ::setenv("XDG_STATE_HOME", saved_xdg.c_str(), 1);
  } else {
    ::unsetenv("XDG_STATE_HOME");
  }
  if (home != nullptr) ::setenv("HOME", saved_home.c_str(), 1);
}

}  // namespace
}  // namespace vet::server
