// Wiring: every component built from ServerOptions (components.h).
#include "server/components.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "core/audit/in_memory_audit_store.h"
#include "core/audit/postgres_audit_store.h"
#include "core/audit/sqlite_audit_store.h"
#include "core/budget/in_memory_budget_guard.h"
#include "core/budget/postgres_budget_guard.h"
#include "core/budget/sqlite_budget_guard.h"
#include "core/codegen/model/openai_client.h"
#include "core/codegen/model_generator.h"
#include "core/codegen/planner.h"
#include "core/codegen/routing_generator.h"
#include "core/common/log.h"
#include "core/common/status_macros.h"
#include "core/common/version.h"
#include "core/data/demo_generator.h"
#include "core/data/postgres_dataset_store.h"
#include "core/data/practice_data.h"
#include "core/data/replicated_datasets.h"
#include "core/data/schema.h"
#include "core/sandbox/fair_scheduler.h"
#include "core/sandbox/subprocess_executor.h"
#include "core/sandbox/zygote_executor.h"
#include "core/session/in_memory_session_store.h"
#include "core/session/postgres_session_store.h"
#include "core/session/sqlite_session_store.h"
#include "core/telemetry/otel_config.h"
#include "server/instrumented_budget_guard.h"
#include "server/instrumented_executor.h"

namespace vet::server {

constexpr char kDemoPracticeId[] = "demo";

namespace {

absl::Status MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create directory ", path, ": ", ec.message()));
  }
  return absl::OkStatus();
}

// The demo practice's data: generated once (deterministically, up to today)
// as CSV exports and imported through the same validation and columnar
// store as any practice's.
absl::StatusOr<Practice> PrepareDemoPractice(const ServerOptions& options,
                                             data::DatasetStore* shared,
                                             data::DatasetSource& source) {
  Practice demo;
  demo.id = kDemoPracticeId;
  demo.name = "Riverside Veterinary Clinic (demo)";
  demo.api_key = options.demo_api_key;
  demo.time_zone_name = "America/Chicago";
  if (!absl::LoadTimeZone(demo.time_zone_name, &demo.time_zone)) {
    return absl::FailedPreconditionError("time zone America/Chicago is missing: install tzdata");
  }
  demo.data_root = absl::StrCat(options.state_dir, "/practices/demo");
  demo.data_dir = absl::StrCat(demo.data_root, "/data");
  VET_RETURN_IF_ERROR(MakeDirs(demo.data_root));
  struct stat st;
  if (::stat(demo.data_dir.c_str(), &st) == 0) return demo;
  if (shared != nullptr) {
    // Another replica made (or an import replaced) the demo data: this one
    // fetches that on the first question, like any practice's.
    VET_ASSIGN_OR_RETURN(std::string version, shared->Current(demo.id));
    if (!version.empty()) return demo;
  }

  data::DemoOptions demo_options;
  demo_options.end_day = absl::ToCivilDay(absl::Now(), demo.time_zone);
  demo_options.invoice_lines = options.demo_invoice_lines;
  LogInfo("generating demo data (", options.demo_invoice_lines,
          " invoice lines) for practice demo");
  const std::string exports = absl::StrCat(demo.data_root, "/demo-exports");
  VET_RETURN_IF_ERROR(data::WriteDemoDataset(demo_options, exports));
  data::ImportLimits limits;
  limits.max_bytes = std::numeric_limits<int64_t>::max();
  VET_ASSIGN_OR_RETURN(auto staging, data::ImportStaging::Create(demo.data_root, limits));
  for (const data::TableSpec& table : data::CanonicalSchema()) {
    std::ifstream in(absl::StrCat(exports, "/", table.name, ".csv"), std::ios::binary);
    std::string chunk(1 << 20, '\0');
    while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
      VET_RETURN_IF_ERROR(
          staging->Append(table.name, absl::string_view(chunk.data(), in.gcount())));
    }
  }
  VET_RETURN_IF_ERROR(staging->Finish());
  VET_RETURN_IF_ERROR(data::CommitImport(*staging, "", demo_options.end_day,
                                         [&](const std::string& version, const std::string& dir) {
                                           return source.Publish(demo.id, version, dir);
                                         })
                          .status());
  std::error_code ec;
  std::filesystem::remove_all(exports, ec);
  return demo;
}

absl::StatusOr<std::unique_ptr<PracticeRegistry>> LoadPractices(const ServerOptions& options,
                                                                data::DatasetStore* shared,
                                                                data::DatasetSource& source) {
  std::vector<Practice> practices;
  if (!options.practices_file.empty()) {
    VET_ASSIGN_OR_RETURN(auto from_file,
                         PracticeRegistry::FromFile(options.practices_file, options.state_dir));
    practices = from_file->practices();
  }
  if (options.demo) {
    for (const Practice& p : practices) {
      if (p.id == kDemoPracticeId) {
        return absl::InvalidArgumentError(
            "--demo adds practice 'demo', but the practices file has one too");
      }
    }
    VET_ASSIGN_OR_RETURN(Practice demo, PrepareDemoPractice(options, shared, source));
    practices.push_back(std::move(demo));
  }
  return PracticeRegistry::FromPractices(std::move(practices));
}

// Each practice's budget overrides combined with the server's defaults.
absl::Status ValidatePracticeBudgets(const ServerOptions& options,
                                     const PracticeRegistry& practices) {
  for (const Practice& p : practices.practices()) {
    absl::Status valid = budget::ValidateBudgetOptions(budget::OptionsFor(options.budget, p));
    if (!valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("practice '", p.id, "' budget: ", valid.message()));
    }
  }
  return absl::OkStatus();
}

// Every practice's series at zero (Metrics::AddPractice): spend under the
// planner and the configured model, and the model the soft cap moves it to.
void AddPracticeSeries(const ServerOptions& options, const budget::PricingTable& pricing,
                       const PracticeRegistry& practices, Metrics& metrics) {
  std::vector<std::string> models = {"planner"};
  std::vector<std::pair<std::string, std::string>> downgrades;
  if (ModelConfigured(options)) {
    models.push_back(options.openai_model);
    const std::string cheaper = pricing.DowngradeAtSoftCap(options.openai_model);
    if (!cheaper.empty()) {
      models.push_back(cheaper);
      downgrades.emplace_back(options.openai_model, cheaper);
    }
  }
  for (const Practice& p : practices.practices()) metrics.AddPractice(p.id, models, downgrades);
}

absl::StatusOr<std::unique_ptr<codegen::CodeGenerator>> MakeGenerator(
    const ServerOptions& options, const budget::PricingTable& pricing, telemetry::Tracer* tracer) {
  VET_ASSIGN_OR_RETURN(codegen::PlannerMode mode, codegen::ParsePlannerMode(options.planner));
  std::unique_ptr<codegen::CodeGenerator> model;
  if (ModelConfigured(options)) {
    codegen::OpenAiClient::Options client_options;
    if (!options.openai_base_url.empty()) client_options.base_url = options.openai_base_url;
    client_options.api_key = options.openai_api_key;
    client_options.request_timeout = options.model_timeout;
    VET_ASSIGN_OR_RETURN(auto client, codegen::OpenAiClient::Create(client_options));
    codegen::ModelCodeGenerator::Options model_options;
    model_options.model = options.openai_model;
    model_options.stream = options.model_stream;
    model_options.pricing = &pricing;
    model_options.context_tokens = options.context_tokens;
    model_options.tracer = tracer;
    LogInfo("codegen: model ", options.openai_model, " at ", client->endpoint(),
            options.openai_api_key.empty() ? " (no API key)" : "",
            "; offline planner: ", options.planner);
    model = std::make_unique<codegen::ModelCodeGenerator>(model_options, std::move(client));
  } else {
    LogInfo(
        "codegen: no model configured (OPENAI_API_KEY, OPENAI_BASE_URL): the "
        "offline planner answers alone, at no cost");
  }
  return std::unique_ptr<codegen::CodeGenerator>(new codegen::RoutingCodeGenerator(
      mode, std::make_unique<codegen::Planner>(), std::move(model)));
}

absl::StatusOr<std::unique_ptr<sandbox::Executor>> MakeExecutor(const ServerOptions& options) {
  if (options.sandbox == "process") {
    LogWarning(
        "sandbox: --sandbox=process runs generated code WITHOUT isolation: it "
        "can read what the server can read and reach the network. Use it only "
        "for development on a machine where bubblewrap cannot run.");
    sandbox::SubprocessExecutor::Options exec_options;
    exec_options.python_path = options.python;
    exec_options.tables = data::DateColumnsByTable();
    return sandbox::SubprocessExecutor::Create(exec_options);
  }
  sandbox::ZygoteExecutor::Options exec_options;
  exec_options.bwrap_path = options.bwrap;
  exec_options.python_path = options.python;
  exec_options.sandbox_user = options.sandbox_user;
  exec_options.tables = data::DateColumnsByTable();
  exec_options.cpu_weight_executions = options.max_concurrent_executions;
  exec_options.max_workers = options.sandbox_workers;
  exec_options.memory_bytes = options.sandbox_memory_mb << 20;
  exec_options.idle_timeout = options.sandbox_idle;
  exec_options.max_starting = options.sandbox_worker_starts;
  auto executor = sandbox::ZygoteExecutor::Create(exec_options);
  if (!executor.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(executor.status().message(),
                     " (--sandbox=process runs without isolation, for development only)"));
  }
  return executor;
}

// The audit trail, in the same kind of store as the budget and sessions.
absl::StatusOr<std::unique_ptr<audit::AuditStore>> OpenAuditStore(const ServerOptions& options,
                                                                  const std::string& store) {
  if (store == "memory") return std::make_unique<audit::InMemoryAuditStore>();
  if (store == "postgres") {
    VET_ASSIGN_OR_RETURN(auto pg, audit::PostgresAuditStore::Open(options.database_url));
    return std::unique_ptr<audit::AuditStore>(std::move(pg));
  }
  VET_ASSIGN_OR_RETURN(auto sqlite,
                       audit::SqliteAuditStore::Open(options.state_dir + "/audit.sqlite3"));
  return std::unique_ptr<audit::AuditStore>(std::move(sqlite));
}

}  // namespace

std::string PracticeIds(const PracticeRegistry& practices) {
  std::string ids;
  for (const Practice& p : practices.practices()) {
    absl::StrAppend(&ids, ids.empty() ? "" : ", ", p.id);
  }
  return ids;
}

absl::StatusOr<std::unique_ptr<Components>> BuildComponents(const ServerOptions& options,
                                                            const Clock& clock) {
  auto components = std::make_unique<Components>();
  Components& s = *components;
  s.options = options;
  s.clock = &clock;
  VET_RETURN_IF_ERROR(MakeDirs(options.state_dir));
  // Practice data: for the service's user only. (The folder is the
  // service's own; the state directory itself may be shared, so it is left
  // as the operator made it.)
  const std::string practices_dir = absl::StrCat(options.state_dir, "/practices");
  VET_RETURN_IF_ERROR(MakeDirs(practices_dir));
  if (::chmod(practices_dir.c_str(), 0700) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot restrict ", practices_dir, " to its owner: ", std::strerror(errno)));
  }

  s.metrics = std::make_unique<Metrics>();
  s.metrics->AddCollector(&s.process_metrics);
  if (!options.metrics_listen.empty()) {
    try {
      s.exposer = std::make_unique<prometheus::Exposer>(options.metrics_listen);
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat("cannot serve metrics on ", options.metrics_listen, ": ", e.what()));
    }
    s.exposer->RegisterCollectable(s.metrics->collectable());
    std::vector<int> ports = s.exposer->GetListeningPorts();
    s.metrics_port = ports.empty() ? 0 : ports[0];
  }
  VET_ASSIGN_OR_RETURN(
      s.tracer,
      telemetry::MakeTracer(options.tracing, BuildVersion(), clock,
                            [metrics = s.metrics.get()](absl::string_view reason, int64_t spans) {
                              metrics->RecordSpansDropped(reason, spans);
                            }));
  if (s.tracer != nullptr) {
    LogInfo("traces: OTLP/HTTP JSON to ", options.tracing.endpoint, " as ",
            options.tracing.service_name, ", sampler ", options.tracing.sampler.Describe());
  }

  if (!options.database_url.empty()) {
    // Replicas share practice data through the database: an import through
    // any of them serves on all (core/data/replicated_datasets.h).
    VET_ASSIGN_OR_RETURN(s.dataset_store, data::PostgresDatasetStore::Open(options.database_url));
    data::ReplicatedDatasetsOptions shared;
    shared.practices_dir = practices_dir;
    shared.cache_bytes = options.data_cache_mb << 20;
    shared.poll_interval = options.data_poll;
    auto replicated = std::make_unique<data::ReplicatedDatasets>(s.dataset_store.get(), shared);
    s.dataset_metrics = std::make_unique<DatasetCacheCollector>(replicated.get());
    s.data = std::move(replicated);
    LogInfo("practice data: shared through PostgreSQL, ", options.data_cache_mb,
            " MiB cached here");
  } else {
    s.data = std::make_unique<data::LocalDatasetSource>();
    s.dataset_metrics = std::make_unique<DatasetCacheCollector>(nullptr);
  }
  s.metrics->AddCollector(s.dataset_metrics.get());
  VET_ASSIGN_OR_RETURN(s.practices, LoadPractices(options, s.dataset_store.get(), *s.data));
  for (const Practice& p : s.practices->practices()) {
    if (!p.data_root.empty()) data::RemoveAbandonedUploads(p.data_root);
  }
  VET_RETURN_IF_ERROR(ValidatePracticeBudgets(options, *s.practices));
  const std::string budget_store = BudgetStoreOf(options);
  if (budget_store == "memory") {
    s.budget = std::make_unique<budget::InMemoryBudgetGuard>(options.budget, clock);
  } else if (budget_store == "postgres") {
    VET_ASSIGN_OR_RETURN(
        s.budget, budget::PostgresBudgetGuard::Open(options.database_url, options.budget, clock));
    LogInfo("budget: spend kept in PostgreSQL");
  } else {
    const std::string path = options.state_dir + "/budget.sqlite3";
    VET_ASSIGN_OR_RETURN(s.budget, budget::SqliteBudgetGuard::Open(path, options.budget, clock));
    LogInfo("budget: spend kept in ", path);
  }
  // Sessions live in the same kind of store as the budget.
  session::SessionOptions session_options;
  session_options.ttl = options.session_ttl;
  if (budget_store == "memory") {
    s.sessions = std::make_unique<session::InMemorySessionStore>(clock, session_options);
  } else if (budget_store == "postgres") {
    VET_ASSIGN_OR_RETURN(s.sessions, session::PostgresSessionStore::Open(options.database_url,
                                                                         clock, session_options));
  } else {
    VET_ASSIGN_OR_RETURN(s.sessions,
                         session::SqliteSessionStore::Open(options.state_dir + "/sessions.sqlite3",
                                                           clock, session_options));
  }
  VET_ASSIGN_OR_RETURN(s.audit_store, OpenAuditStore(options, budget_store));
  {
    audit::AuditRecorder::Options audit_options;
    // Validated by ValidateServerOptions.
    audit_options.questions = *audit::ParseQuestionMode(options.audit_questions);
    audit_options.retention = absl::Hours(24) * options.audit_retention_days;
    VET_ASSIGN_OR_RETURN(s.audit, audit::AuditRecorder::Create(audit_options, *s.audit_store, clock,
                                                               &s.metrics->audit()));
  }
  s.sweeper = std::thread([&s, interval = options.session_sweep] {
    // Expired sessions and audit entries past the retention, now and then
    // every `interval`.
    do {
      SweepOnce(s).IgnoreError();
    } while (!s.stop_sweeper.WaitForNotificationWithTimeout(interval));
  });
  s.budget =
      std::make_unique<InstrumentedBudgetGuard>(std::move(s.budget), *s.practices, *s.metrics);
  s.datasets = std::make_unique<data::CachingDatasetCatalog>();
  if (options.pricing_file.empty()) {
    s.pricing = std::make_unique<budget::PricingTable>(budget::PricingTable::Default());
  } else {
    auto pricing = budget::PricingTable::FromFile(options.pricing_file);
    if (!pricing.ok()) {
      // A missing pricing file is a configuration error like a bad one.
      return absl::InvalidArgumentError(pricing.status().message());
    }
    s.pricing = std::make_unique<budget::PricingTable>(*std::move(pricing));
  }
  if (ModelConfigured(options)) {
    // Never count a model as free because nobody priced it.
    VET_RETURN_IF_ERROR(s.pricing->Require(options.openai_model));
  }
  VET_ASSIGN_OR_RETURN(s.generator, MakeGenerator(options, *s.pricing, s.tracer.get()));
  AddPracticeSeries(options, *s.pricing, *s.practices, *s.metrics);

  VET_ASSIGN_OR_RETURN(std::unique_ptr<sandbox::Executor> inner, MakeExecutor(options));
  sandbox::FairScheduler::Options scheduler_options;
  scheduler_options.max_concurrent = options.max_concurrent_executions;
  scheduler_options.max_running_per_practice = options.max_executions_per_practice;
  scheduler_options.max_queued_per_practice = options.max_queued_executions_per_practice;
  VET_ASSIGN_OR_RETURN(std::unique_ptr<sandbox::FairScheduler> scheduler,
                       sandbox::FairScheduler::Create(scheduler_options, std::move(inner), clock));
  s.executor = InstrumentExecutor(std::move(scheduler), *s.metrics);

  pipeline::PipelineOptions pipeline_options;
  pipeline_options.execution_timeout = options.sandbox_timeout;
  pipeline_options.max_attempts = 1 + options.max_repairs;
  pipeline_options.sandbox_micros_per_second = options.sandbox_micros_per_second;
  pipeline_options.budget_wait = options.budget_wait;
  s.pool = std::make_unique<WorkerPool>(
      WorkerPool::Options{options.worker_threads, static_cast<size_t>(options.max_queued)});
  s.pipeline = std::make_unique<pipeline::Pipeline>(
      pipeline_options,
      pipeline::Pipeline::Deps{s.sessions.get(), s.budget.get(), s.generator.get(),
                               s.executor.get(), s.datasets.get(), &clock, s.pricing.get(),
                               s.pool.get(), s.data.get(), s.tracer.get()});
  s.admission = std::make_unique<pipeline::QuestionAdmission>(
      pipeline::QuestionAdmission::Options{options.max_streams, options.max_streams_per_practice,
                                           options.rate_limit, options.rate_burst},
      clock);
  s.import_pool =
      std::make_unique<WorkerPool>(WorkerPool::Options{/*threads=*/1, /*max_queued=*/1024});
  return components;
}

Components::~Components() {
  import_pool.reset();
  pool.reset();
  if (dataset_metrics != nullptr) metrics->RemoveCollector(dataset_metrics.get());
  if (sweeper.joinable()) {
    stop_sweeper.Notify();
    sweeper.join();
  }
}

absl::Status ReloadPractices(Components& c) {
  // One reload at a time, so that two cannot finish out of order.
  absl::MutexLock lock(&c.reload_mu);
  absl::StatusOr<std::unique_ptr<PracticeRegistry>> next =
      LoadPractices(c.options, c.dataset_store.get(), *c.data);
  if (!next.ok()) return next.status();
  VET_RETURN_IF_ERROR(ValidatePracticeBudgets(c.options, **next));
  c.practices->Replace(**next);
  AddPracticeSeries(c.options, *c.pricing, *c.practices, *c.metrics);
  LogInfo("practices reloaded; practices: ", PracticeIds(*c.practices));
  return absl::OkStatus();
}

absl::StatusOr<int> SweepOnce(Components& c) {
  auto purged = c.sessions->Purge();
  if (!purged.ok()) {
    LogWarning("sessions: purge failed: ", purged.status().ToString());
  } else if (*purged > 0) {
    LogInfo("sessions: purged ", *purged, " expired");
  }
  auto expired = c.audit->PurgeExpired();
  if (!expired.ok()) {
    LogWarning("audit: purge failed: ", expired.status().ToString());
  } else if (*expired > 0) {
    LogInfo("audit: purged ", *expired, " entries older than the retention");
  }
  return purged;
}

}  // namespace vet::server
