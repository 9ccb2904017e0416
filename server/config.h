// Server configuration: ServerOptions with defaults, and the layering of
// sources: command-line flags override environment variables, which
// override the .env file, which overrides the defaults.
#ifndef VET_SERVER_CONFIG_H_
#define VET_SERVER_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/budget/budget_rules.h"
#include "core/telemetry/otel_config.h"

namespace vet::server {

struct ServerOptions {
  // gRPC address; port 0 picks a free port (see VetServer::port()).
  std::string listen = "127.0.0.1:50051";
  // TLS on the gRPC listener: PEM files of the certificate chain and its
  // private key (both or neither; neither serves plaintext). With
  // tls_client_ca, clients must also present a certificate signed by one of
  // its CAs (mutual TLS). The metrics listener stays plain HTTP.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  // Log lines on stderr: "text" (time, level, [context], message) or
  // "json" (one object a line; core/common/log.h).
  std::string log_format = "text";
  // Prometheus text at http://<metrics_listen>/metrics; empty disables.
  std::string metrics_listen = "127.0.0.1:9464";
  // The HTTP/JSON gateway and web console (server/http_gateway.h):
  // "host:port", empty (the default) turns it off. Plain HTTP, also when
  // the gRPC listener speaks TLS (a proxy in front terminates TLS). The rest are not flags (tests
  // set them): request threads, event streams at once (fewer than the
  // threads), the largest body, how long a write may wait for a client
  // that does not read, and the idle time before an SSE keep-alive comment.
  std::string http_listen;
  int http_threads = 64;
  int http_max_streams = 48;
  int64_t http_max_body_bytes = 64 << 10;
  absl::Duration http_write_timeout = absl::Seconds(30);
  absl::Duration http_keepalive = absl::Seconds(10);
  // Per-practice data and the stores live here.
  std::string state_dir;
  // JSON file of practices (see core/practice/practice.h); may be empty with demo.
  std::string practices_file;
  // Serve the built-in demo practice "demo".
  bool demo = false;
  std::string demo_api_key = "demo-key";
  int64_t demo_invoice_lines = 200000;
  // Threads for the CPU-bound steps of questions, and the new questions
  // that may wait for one. A question waiting on a model, a queue or a
  // timer holds none (core/pipeline/pipeline.h).
  int worker_threads = 8;
  int max_queued = 64;
  // Questions in progress at once: in all (past it: UNAVAILABLE) and per
  // practice (past it: RESOURCE_EXHAUSTED for that practice only);
  // core/pipeline/admission.h.
  int max_streams = 1024;
  int max_streams_per_practice = 128;
  // Questions one practice may start per minute, in bursts of rate_burst
  // (a token bucket); 0 turns the limit off.
  int rate_limit = 0;
  int rate_burst = 20;
  // How long a question refused only by other questions' budget holds
  // waits for them to settle.
  absl::Duration budget_wait = absl::Seconds(5);
  // A client that does not read its Ask events (AnalyticsService::Deps):
  // cancelled past this many bytes waiting, or this long after its
  // question ended. Not flags: tests set them.
  int64_t max_buffered_event_bytes = int64_t{64} << 20;
  absl::Duration stalled_stream_limit = absl::Minutes(2);
  // The sandbox: "bwrap" (isolated warm workers, core/sandbox/
  // zygote_executor.h) or "process" (a plain interpreter per question, NO
  // isolation: for development on machines without user namespaces).
  std::string sandbox = "bwrap";
  std::string python = "/usr/bin/python3";
  std::string bwrap = "/usr/bin/bwrap";
  // The account the sandbox runs as when the server runs as root.
  std::string sandbox_user = "vet-sandbox";
  absl::Duration sandbox_timeout = absl::Seconds(30);
  // Sandbox admission (core/sandbox/fair_scheduler.h): executions at once in
  // all, at once for one practice (3 of 5 keeps two slots for the other
  // practices), and waiting for one practice before its questions are
  // refused (RESOURCE_EXHAUSTED) rather than queued.
  int max_concurrent_executions = 5;
  int max_executions_per_practice = 3;
  int max_queued_executions_per_practice = 128;
  // Warm workers: at most this many (one per practice), each within this
  // much memory (its cgroup), stopped after this long unused, and at most
  // this many starting at once.
  int sandbox_workers = 8;
  int64_t sandbox_memory_mb = 4096;
  absl::Duration sandbox_idle = absl::Minutes(10);
  int sandbox_worker_starts = 3;
  // Code generation. A model is configured when an API key or a base URL is
  // given (a local server may need no key); the key comes only from the
  // environment (OPENAI_API_KEY) or .env, never from a flag.
  std::string openai_api_key;
  std::string openai_base_url;  // empty: https://api.openai.com/v1
  std::string openai_model = "gpt-5.2-mini";
  // "first", "fallback" or "off" (core/codegen/routing_generator.h).
  std::string planner = "first";
  bool model_stream = true;
  absl::Duration model_timeout = absl::Seconds(120);
  // Corrected versions asked of the model when its code raises.
  int max_repairs = 2;
  // Largest import (all five CSV files together).
  int64_t max_import_bytes = int64_t{1} << 30;
  // What validating one import may hold in memory (MiB); imports are
  // validated one at a time, so this bounds the server's import memory.
  int64_t max_import_memory_mb = 2048;
  // With database_url: dataset versions this replica keeps locally, all
  // practices together (MiB); least recently used ones beyond it are
  // removed and fetched again when asked for.
  int64_t data_cache_mb = 10240;
  // With database_url: how often every practice's current dataset version
  // is read in case an announcement (NOTIFY) was lost.
  absl::Duration data_poll = absl::Seconds(10);
  // How long SIGTERM waits for in-flight questions before cancelling them.
  absl::Duration shutdown_grace = absl::Seconds(30);
  budget::BudgetOptions budget;
  // Where spend is kept: "sqlite" (<state_dir>/budget.sqlite3, durable),
  // "postgres" (database_url; several replicas share one budget) or
  // "memory" (lost on restart; tests). Empty: postgres when database_url is
  // set, else sqlite.
  std::string budget_store;
  // postgres://user:password@host:port/database (VET_DATABASE_URL, env or
  // .env only: it may hold a password).
  std::string database_url;
  // Model prices and the soft cap's downgrade rules (core/budget/pricing.h);
  // empty: the built-in table.
  std::string pricing_file;
  // Sessions: kept in the same kind of store as the budget (sqlite:
  // <state_dir>/sessions.sqlite3; postgres: the same database; memory).
  // A session with no turn for this long expires and is purged.
  absl::Duration session_ttl = absl::Hours(24);
  // How often expired and ended sessions are purged.
  absl::Duration session_sweep = absl::Minutes(5);
  // The audit trail (core/audit): an entry per call, kept in the same kind
  // of store as the budget (sqlite: <state_dir>/audit.sqlite3; postgres:
  // the same database; memory). "hash" keeps each question's SHA-256 only;
  // "text" keeps its text too.
  std::string audit_questions = "hash";
  // Entries older than this many days are purged, at start-up and every
  // session_sweep; 0 keeps them forever.
  int audit_retention_days = 400;
  // Tokens of a session's earlier turns a model sees (context_window.h).
  int64_t context_tokens = 2000;
  // What a second of sandbox execution costs, in micro-dollars
  // (SANDBOX_COST_PER_SECOND is in USD); 0: free.
  int64_t sandbox_micros_per_second = 0;
  // OpenTelemetry traces (OTEL_* variables, env or .env;
  // core/telemetry/otel_config.h): off unless an endpoint is set.
  telemetry::TracingOptions tracing;
};

// The default state directory: $XDG_STATE_HOME/vet-analytics, else
// $HOME/.local/state/vet-analytics, else ./vet-analytics-state.
std::string DefaultStateDir();

// Whether the options name a model to call.
bool ModelConfigured(const ServerOptions& options);

// The budget store the options choose: budget_store, else "postgres" when a
// database URL is set, else "sqlite".
std::string BudgetStoreOf(const ServerOptions& options);

// Parses a .env file: KEY=VALUE lines, '#' comments, optional `export `,
// values optionally in single or double quotes. Returns kInvalidArgument
// naming the line for anything else.
absl::StatusOr<std::map<std::string, std::string>> ParseDotEnv(absl::string_view text);

// Reads `path`; a missing file is an empty map.
absl::StatusOr<std::map<std::string, std::string>> ReadDotEnv(const std::string& path);

// Checks ranges and combinations: kInvalidArgument naming the setting.
// Reads no file (the TLS files: ReadTlsFiles).
absl::Status ValidateServerOptions(const ServerOptions& options);

// A dollar amount given as a number (a flag or its variable) in integer
// micro-dollars, rounded to the nearest. kInvalidArgument naming `setting`
// ("--budget_limit (BUDGET_LIMIT)") unless it is finite and between 0 and
// `max_usd`.
absl::StatusOr<int64_t> DollarsToMicros(double usd, double max_usd, absl::string_view setting);

// The PEM contents of the TLS files the options name.
struct TlsFiles {
  std::string cert_chain;
  std::string private_key;
  std::string client_ca;  // empty: no client certificate is asked for
};

// Reads options.tls_cert, tls_key and tls_client_ca, once, at start-up
// (VetServer::Start); all empty when TLS is off. Returns kInvalidArgument
// naming the flag (and the file) when only one of cert and key is set, a
// client CA is set without them, or a file cannot be read or is empty; the
// message never holds a file's contents.
absl::StatusOr<TlsFiles> ReadTlsFiles(const ServerOptions& options);

// Whether the options turn TLS on (both tls_cert and tls_key are set).
bool TlsEnabled(const ServerOptions& options);

}  // namespace vet::server

#endif  // VET_SERVER_CONFIG_H_
