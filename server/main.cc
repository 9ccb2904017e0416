// vet-analytics-server: flags -> ServerOptions -> VetServer; SIGTERM/SIGINT
// drain in-flight questions and exit 0. The only code tests don't link.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "core/common/log.h"
#include "core/common/posix.h"
#include "core/common/version.h"
#include "core/telemetry/otel_config.h"
#include "server/config.h"
#include "server/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "gRPC address [VET_LISTEN]");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate chain of the gRPC listener; with --tls_key turns TLS on "
          "[VET_TLS_CERT]");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert; both or neither [VET_TLS_KEY]");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificates; clients must present a certificate signed by one "
          "(mutual TLS); needs --tls_cert [VET_TLS_CLIENT_CA]");
ABSL_FLAG(std::string, http_listen, "",
          "HTTP/JSON gateway and web console address, e.g. 127.0.0.1:8080; empty (the "
          "default) turns it off; plain HTTP (TLS: a proxy in front) [VET_HTTP_LISTEN]");
ABSL_FLAG(std::string, log_format, "text",
          "Log lines on stderr: text, or json (one object a line: time, level, practice, "
          "session, question_id, trace_id, message) [VET_LOG_FORMAT]");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464",
          "Prometheus /metrics address; empty disables [VET_METRICS_LISTEN]");
ABSL_FLAG(std::string, state_dir, "", "State directory [VET_STATE_DIR]");
ABSL_FLAG(std::string, practices, "", "Practices JSON file [VET_PRACTICES]");
ABSL_FLAG(bool, demo, false, "Serve the built-in demo practice 'demo' [VET_DEMO]");
ABSL_FLAG(std::string, demo_api_key, "demo-key", "API key of the demo practice [VET_DEMO_API_KEY]");
ABSL_FLAG(int64_t, demo_invoice_lines, 200000,
          "Approximate size of the generated demo data [VET_DEMO_INVOICE_LINES]");
ABSL_FLAG(int, worker_threads, 8,
          "Threads for the CPU-bound steps of questions [VET_WORKER_THREADS]");
ABSL_FLAG(int, max_queued, 64, "New questions that may wait for a worker thread [VET_MAX_QUEUED]");
ABSL_FLAG(int, max_streams, 1024,
          "Questions in progress at once, all practices; past it UNAVAILABLE [VET_MAX_STREAMS]");
ABSL_FLAG(int, max_streams_per_practice, 128,
          "Questions in progress at once for one practice; past it that practice gets "
          "RESOURCE_EXHAUSTED [VET_MAX_STREAMS_PER_PRACTICE]");
ABSL_FLAG(int, rate_limit, 0,
          "Questions one practice may start per minute; past it RESOURCE_EXHAUSTED with the "
          "wait; 0 turns it off [VET_RATE_LIMIT]");
ABSL_FLAG(int, rate_burst, 20,
          "Questions a practice may start at once under --rate_limit "
          "[VET_RATE_BURST]");
ABSL_FLAG(absl::Duration, budget_wait, absl::Seconds(5),
          "How long a question refused only by other questions' budget holds waits for "
          "them to settle [VET_BUDGET_WAIT]");
ABSL_FLAG(std::string, sandbox, "bwrap",
          "bwrap (isolated warm workers) or process (NO isolation, development "
          "only) [VET_SANDBOX]");
ABSL_FLAG(std::string, python, "/usr/bin/python3", "Sandbox interpreter [VET_PYTHON]");
ABSL_FLAG(std::string, bwrap, "/usr/bin/bwrap", "bubblewrap binary [VET_BWRAP]");
ABSL_FLAG(std::string, sandbox_user, "vet-sandbox",
          "Account the sandbox runs as when the server is root [VET_SANDBOX_USER]");
ABSL_FLAG(int, sandbox_workers, 8,
          "Warm sandbox workers at most, one per active practice [VET_SANDBOX_WORKERS]");
ABSL_FLAG(int64_t, sandbox_memory_mb, 4096,
          "Memory limit of one practice's sandbox worker, MiB [VET_SANDBOX_MEMORY_MB]");
ABSL_FLAG(absl::Duration, sandbox_idle, absl::Minutes(10),
          "A worker unused this long is stopped [VET_SANDBOX_IDLE]");
ABSL_FLAG(int, sandbox_worker_starts, 3,
          "Sandbox workers starting at once; more wait [VET_SANDBOX_WORKER_STARTS]");
ABSL_FLAG(absl::Duration, sandbox_timeout, absl::Seconds(30),
          "Wall-clock limit of one execution [VET_SANDBOX_TIMEOUT]");
ABSL_FLAG(int, max_concurrent_executions, 5,
          "Sandbox executions at once; more wait, each practice in turn "
          "[VET_MAX_CONCURRENT_EXECUTIONS]");
ABSL_FLAG(int, max_executions_per_practice, 3,
          "Sandbox executions of one practice at once, at most --max_concurrent_executions "
          "[VET_MAX_EXECUTIONS_PER_PRACTICE]");
ABSL_FLAG(int, max_queued_executions_per_practice, 128,
          "Sandbox executions of one practice that may wait; more are refused "
          "[VET_MAX_QUEUED_EXECUTIONS_PER_PRACTICE]");
ABSL_FLAG(int64_t, max_import_memory_mb, 2048,
          "Memory validating one import may hold, MiB; past it the import is refused "
          "[VET_MAX_IMPORT_MEMORY_MB]");
ABSL_FLAG(int64_t, data_cache_mb, 10240,
          "With VET_DATABASE_URL: MiB of practice data versions kept on this replica, least "
          "recently used removed beyond it [VET_DATA_CACHE_MB]");
ABSL_FLAG(int64_t, max_import_bytes, int64_t{1} << 30,
          "Largest accepted import, all tables together [VET_MAX_IMPORT_BYTES]");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(30),
          "How long SIGTERM waits for in-flight questions [VET_SHUTDOWN_GRACE]");
ABSL_FLAG(std::string, openai_base_url, "",
          "OpenAI-compatible API up to its version, e.g. http://127.0.0.1:11434/v1; "
          "empty: https://api.openai.com/v1 when OPENAI_API_KEY is set [OPENAI_BASE_URL]");
ABSL_FLAG(std::string, openai_model, "gpt-5.2-mini", "Model name [OPENAI_MODEL]");
ABSL_FLAG(std::string, planner, "first",
          "first (the offline planner answers what it can, the model the rest), "
          "fallback (the planner when the model is down) or off [VET_PLANNER]");
ABSL_FLAG(bool, model_stream, true, "Stream the model's reply [VET_MODEL_STREAM]");
ABSL_FLAG(absl::Duration, model_timeout, absl::Seconds(120),
          "One model call, connect to last byte [VET_MODEL_TIMEOUT]");
ABSL_FLAG(int, max_repairs, 2,
          "Corrected versions asked of the model when its code raises [VET_MAX_REPAIRS]");
ABSL_FLAG(double, budget_limit, 10.0, "Budget per period in USD [BUDGET_LIMIT]");
ABSL_FLAG(double, budget_soft_cap, 0.80, "Soft cap, fraction of the limit [BUDGET_SOFT_CAP]");
ABSL_FLAG(double, budget_hard_cap, 1.0, "Hard cap, fraction of the limit [BUDGET_HARD_CAP]");
ABSL_FLAG(std::string, budget_period, "month", "day or month [BUDGET_PERIOD]");
ABSL_FLAG(std::string, budget_store, "",
          "sqlite (<state_dir>/budget.sqlite3, survives restarts), postgres (VET_DATABASE_URL, "
          "shared by replicas) or memory; empty: postgres when VET_DATABASE_URL is set, else "
          "sqlite [VET_BUDGET_STORE]");
ABSL_FLAG(std::string, pricing_file, "",
          "JSON file of model prices and soft-cap downgrade rules; empty: the built-in "
          "table [VET_PRICING_FILE]");
ABSL_FLAG(absl::Duration, session_ttl, absl::Hours(24),
          "A session with no question for this long expires and is purged [VET_SESSION_TTL]");
ABSL_FLAG(std::string, audit_questions, "hash",
          "What the audit trail keeps of a question: hash (its SHA-256 only) or text "
          "[VET_AUDIT_QUESTIONS]");
ABSL_FLAG(int, audit_retention_days, 400,
          "Audit entries older than this many days are purged; 0 keeps them forever "
          "[VET_AUDIT_RETENTION_DAYS]");
ABSL_FLAG(int64_t, context_tokens, 2000,
          "Tokens of a session's earlier turns a model sees: the latest in full, older ones "
          "one line each [VET_CONTEXT_TOKENS]");
ABSL_FLAG(double, sandbox_cost_per_second, 0.0,
          "USD charged per second of sandbox execution [SANDBOX_COST_PER_SECOND]");

namespace {

// What a flag's value must look like, for the message about a bad one.
std::string Expected(const absl::CommandLineFlag& flag) {
  if (flag.IsOfType<bool>()) return "true or false";
  if (flag.IsOfType<double>()) return "a number";
  if (flag.IsOfType<absl::Duration>()) return "a duration like 30s";
  if (flag.IsOfType<int>() || flag.IsOfType<int64_t>()) return "an integer in range";
  return "a valid value";
}

// Sets each flag of this file from the environment (or .env) before the
// command line is parsed, so that the command line wins. A flag's variable
// is the one its help names last, in brackets ("... [VET_LISTEN]"): one
// place says it, for --help and for this. Each value is parsed as the flag's
// own type, so an out-of-range integer is refused rather than narrowed.
bool ApplyEnvironment(const std::map<std::string, std::string>& dotenv) {
  bool ok = true;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!absl::EndsWith(flag->Filename(), "server/main.cc")) continue;
    const std::string help = flag->Help();
    const size_t open = help.rfind('[');
    if (open == std::string::npos || help.back() != ']') continue;
    const std::string variable = help.substr(open + 1, help.size() - open - 2);
    std::string value;
    if (const char* v = std::getenv(variable.c_str())) {
      value = v;
    } else if (auto it = dotenv.find(variable); it != dotenv.end()) {
      value = it->second;
    } else {
      continue;
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      std::cerr << "vet-analytics-server: " << variable << "='" << value << "' is not "
                << Expected(*flag) << "\n";
      ok = false;
    }
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "answers plain-language questions about clinic data.\n"
      "Settings: flags override environment variables, which override .env\n"
      "(the file named by VET_ENV_FILE, default ./.env).\n"
      "  vet-analytics-server --demo");
  vet::ConfigureHelpAndVersion("vet-analytics-server", "server/main.cc");
  const char* env_file = std::getenv("VET_ENV_FILE");
  auto dotenv = vet::server::ReadDotEnv(env_file != nullptr ? env_file : ".env");
  if (!dotenv.ok()) {
    std::cerr << "vet-analytics-server: " << dotenv.status().message() << "\n";
    return 2;
  }
  if (!ApplyEnvironment(*dotenv)) return 2;

  // Not dumpable: other processes of the same user (a sandboxed program
  // among them) cannot read this process's memory or /proc/<pid>/environ,
  // where the API keys are. It also turns off core dumps, which would hold
  // the same secrets.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  // Block the signals before any thread starts so that only sigwait sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::ParseCommandLine(argc, argv);
  // First, so that every line (this process's first included) has the
  // chosen format; ValidateServerOptions names a bad value.
  const std::string log_format = absl::GetFlag(FLAGS_log_format);
  if (auto format = vet::ParseLogFormat(log_format); format.ok()) vet::SetLogFormat(*format);
  vet::LogInfo("vet-analytics-server ", vet::BuildVersion(), " (commit ", vet::BuildCommit(),
               ") starting");

  vet::server::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  options.http_listen = absl::GetFlag(FLAGS_http_listen);
  options.log_format = log_format;
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.state_dir = absl::GetFlag(FLAGS_state_dir);
  if (options.state_dir.empty()) options.state_dir = vet::server::DefaultStateDir();
  options.practices_file = absl::GetFlag(FLAGS_practices);
  options.demo = absl::GetFlag(FLAGS_demo);
  options.demo_api_key = absl::GetFlag(FLAGS_demo_api_key);
  options.demo_invoice_lines = absl::GetFlag(FLAGS_demo_invoice_lines);
  options.worker_threads = absl::GetFlag(FLAGS_worker_threads);
  options.max_queued = absl::GetFlag(FLAGS_max_queued);
  options.max_streams = absl::GetFlag(FLAGS_max_streams);
  options.max_streams_per_practice = absl::GetFlag(FLAGS_max_streams_per_practice);
  options.rate_limit = absl::GetFlag(FLAGS_rate_limit);
  options.rate_burst = absl::GetFlag(FLAGS_rate_burst);
  options.budget_wait = absl::GetFlag(FLAGS_budget_wait);
  options.sandbox = absl::GetFlag(FLAGS_sandbox);
  options.python = absl::GetFlag(FLAGS_python);
  options.bwrap = absl::GetFlag(FLAGS_bwrap);
  options.sandbox_user = absl::GetFlag(FLAGS_sandbox_user);
  options.sandbox_workers = absl::GetFlag(FLAGS_sandbox_workers);
  options.sandbox_memory_mb = absl::GetFlag(FLAGS_sandbox_memory_mb);
  options.sandbox_idle = absl::GetFlag(FLAGS_sandbox_idle);
  options.sandbox_worker_starts = absl::GetFlag(FLAGS_sandbox_worker_starts);
  options.sandbox_timeout = absl::GetFlag(FLAGS_sandbox_timeout);
  options.max_concurrent_executions = absl::GetFlag(FLAGS_max_concurrent_executions);
  options.max_executions_per_practice = absl::GetFlag(FLAGS_max_executions_per_practice);
  options.max_queued_executions_per_practice =
      absl::GetFlag(FLAGS_max_queued_executions_per_practice);
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  // The key only from the environment or .env: a flag would show in ps.
  if (const char* key = std::getenv("OPENAI_API_KEY")) {
    options.openai_api_key = key;
  } else if (auto it = dotenv->find("OPENAI_API_KEY"); it != dotenv->end()) {
    options.openai_api_key = it->second;
  }
  options.openai_base_url = absl::GetFlag(FLAGS_openai_base_url);
  options.openai_model = absl::GetFlag(FLAGS_openai_model);
  options.planner = absl::GetFlag(FLAGS_planner);
  options.model_stream = absl::GetFlag(FLAGS_model_stream);
  options.model_timeout = absl::GetFlag(FLAGS_model_timeout);
  options.max_repairs = absl::GetFlag(FLAGS_max_repairs);
  options.max_import_bytes = absl::GetFlag(FLAGS_max_import_bytes);
  options.max_import_memory_mb = absl::GetFlag(FLAGS_max_import_memory_mb);
  options.data_cache_mb = absl::GetFlag(FLAGS_data_cache_mb);
  auto limit = vet::server::DollarsToMicros(absl::GetFlag(FLAGS_budget_limit), 1e9,
                                            "--budget_limit (BUDGET_LIMIT)");
  if (!limit.ok()) {
    std::cerr << "vet-analytics-server: " << limit.status().message() << "\n";
    return 2;
  }
  options.budget.default_limit_micros = *limit;
  options.budget.soft_cap = absl::GetFlag(FLAGS_budget_soft_cap);
  options.budget.hard_cap = absl::GetFlag(FLAGS_budget_hard_cap);
  options.budget.period = absl::GetFlag(FLAGS_budget_period);
  options.budget_store = absl::GetFlag(FLAGS_budget_store);
  options.pricing_file = absl::GetFlag(FLAGS_pricing_file);
  options.session_ttl = absl::GetFlag(FLAGS_session_ttl);
  options.audit_questions = absl::GetFlag(FLAGS_audit_questions);
  options.audit_retention_days = absl::GetFlag(FLAGS_audit_retention_days);
  options.context_tokens = absl::GetFlag(FLAGS_context_tokens);
  // Like the API key, the database URL may hold a password: environment or
  // .env only, never a flag (visible in ps).
  if (const char* url = std::getenv("VET_DATABASE_URL")) {
    options.database_url = url;
  } else if (auto it = dotenv->find("VET_DATABASE_URL"); it != dotenv->end()) {
    options.database_url = it->second;
  }
  auto sandbox_cost =
      vet::server::DollarsToMicros(absl::GetFlag(FLAGS_sandbox_cost_per_second), 1000,
                                   "--sandbox_cost_per_second (SANDBOX_COST_PER_SECOND)");
  if (!sandbox_cost.ok()) {
    std::cerr << "vet-analytics-server: " << sandbox_cost.status().message() << "\n";
    return 2;
  }
  options.sandbox_micros_per_second = *sandbox_cost;
  // OpenTelemetry's own variables (environment, then .env), not flags: the
  // names every collector's documentation uses.
  auto tracing = vet::telemetry::TracingOptionsFromEnv(
      [&dotenv](const char* name) -> absl::optional<std::string> {
        if (const char* v = std::getenv(name)) return std::string(v);
        if (auto it = dotenv->find(name); it != dotenv->end()) return it->second;
        return absl::nullopt;
      });
  if (!tracing.ok()) {
    std::cerr << "vet-analytics-server: " << tracing.status().message() << "\n";
    return 2;
  }
  options.tracing = *std::move(tracing);

  auto server = vet::server::VetServer::Start(options);
  if (!server.ok()) {
    std::cerr << "vet-analytics-server: " << server.status().message() << "\n";
    return server.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  if (options.demo) {
    // The documented default key is printed; a key chosen by the operator is
    // a secret and is not.
    std::string key = options.demo_api_key == "demo-key"
                          ? "its API key is 'demo-key'"
                          : "its API key is the one set by --demo_api_key";
    vet::LogInfo("demo practice 'demo' is ready; ", key,
                 ". Try: vetctl ask \"What was our revenue trend last quarter?\"");
  }

  int sig = 0;
  // SIGHUP rereads the practices file (new practices, rotated keys); calls
  // in flight keep the practices they started with.
  while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
    absl::Status reloaded = (*server)->ReloadPractices();
    if (!reloaded.ok()) {
      vet::LogWarning("SIGHUP: kept the practices already loaded: ", reloaded.message());
    }
  }
  vet::LogInfo("received ", sig == SIGTERM ? "SIGTERM" : "SIGINT",
               "; finishing in-flight questions (up to ",
               absl::FormatDuration(options.shutdown_grace), ")");
  // A second signal while draining means "stop now".
  std::thread([signals] {
    int again = 0;
    while (sigwait(&signals, &again) == 0 && again == SIGHUP) {
    }
    vet::LogWarning("second signal; exiting without waiting for questions in flight");
    vet::ExitWithoutCleanup(1);
  }).detach();
  (*server)->Shutdown(options.shutdown_grace);
  server->reset();
  vet::LogInfo("stopped");
  return 0;
}
