// .env parsing and option validation. Kept free of gRPC so it compiles fast.
#include "server/config.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/audit/audit_recorder.h"
#include "core/common/log.h"
#include "core/common/pem_file.h"
#include "core/common/status_macros.h"

namespace vet::server {

std::string DefaultStateDir() {
  const char* xdg = std::getenv("XDG_STATE_HOME");
  if (xdg != nullptr && xdg[0] != '\0') return absl::StrCat(xdg, "/vet-analytics");
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') {
    return absl::StrCat(home, "/.local/state/vet-analytics");
  }
  return "./vet-analytics-state";
}

absl::StatusOr<std::map<std::string, std::string>> ParseDotEnv(absl::string_view text) {
  std::map<std::string, std::string> out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    if (absl::ConsumePrefix(&line, "export ")) line = absl::StripLeadingAsciiWhitespace(line);
    size_t eq = line.find('=');
    if (eq == absl::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(".env line ", line_no, ": expected KEY=VALUE"));
    }
    std::string key(absl::StripTrailingAsciiWhitespace(line.substr(0, eq)));
    for (char c : key) {
      if (!absl::ascii_isalnum(c) && c != '_') {
        return absl::InvalidArgumentError(
            absl::StrCat(".env line ", line_no, ": '", key, "' is not a variable name"));
      }
    }
    absl::string_view value = absl::StripLeadingAsciiWhitespace(line.substr(eq + 1));
    if (!value.empty() && (value[0] == '"' || value[0] == '\'')) {
      char quote = value[0];
      size_t close = value.find(quote, 1);
      if (close == absl::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat(".env line ", line_no, ": unterminated quote"));
      }
      value = value.substr(1, close - 1);
    } else {
      // An unquoted value ends at a comment.
      size_t hash = value.find(" #");
      if (hash != absl::string_view::npos) value = value.substr(0, hash);
      value = absl::StripTrailingAsciiWhitespace(value);
    }
    out[key] = std::string(value);
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> ReadDotEnv(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::map<std::string, std::string>{};
  std::stringstream buf;
  buf << in.rdbuf();
  auto parsed = ParseDotEnv(buf.str());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", parsed.status().message()));
  }
  return parsed;
}

std::string BudgetStoreOf(const ServerOptions& options) {
  if (!options.budget_store.empty()) return options.budget_store;
  return options.database_url.empty() ? "sqlite" : "postgres";
}

bool ModelConfigured(const ServerOptions& options) {
  return !options.openai_api_key.empty() || !options.openai_base_url.empty();
}

bool TlsEnabled(const ServerOptions& options) {
  return !options.tls_cert.empty() && !options.tls_key.empty();
}

namespace {

// Which TLS settings go together; reads nothing.
absl::Status CheckTlsCombination(const ServerOptions& o) {
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return absl::InvalidArgumentError(
        o.tls_cert.empty() ? absl::StrCat("--tls_key (VET_TLS_KEY) '", o.tls_key,
                                          "' needs --tls_cert (VET_TLS_CERT): give both or neither")
                           : absl::StrCat("--tls_cert (VET_TLS_CERT) '", o.tls_cert,
                                          "' needs --tls_key (VET_TLS_KEY): give both or neither"));
  }
  if (!TlsEnabled(o) && !o.tls_client_ca.empty()) {
    return absl::InvalidArgumentError(
        "--tls_client_ca (VET_TLS_CLIENT_CA) needs --tls_cert and --tls_key");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TlsFiles> ReadTlsFiles(const ServerOptions& o) {
  VET_RETURN_IF_ERROR(CheckTlsCombination(o));
  TlsFiles files;
  if (!TlsEnabled(o)) return files;
  VET_ASSIGN_OR_RETURN(files.cert_chain, ReadPemFile("--tls_cert (VET_TLS_CERT)", o.tls_cert));
  VET_ASSIGN_OR_RETURN(files.private_key, ReadPemFile("--tls_key (VET_TLS_KEY)", o.tls_key));
  if (!o.tls_client_ca.empty()) {
    VET_ASSIGN_OR_RETURN(files.client_ca,
                         ReadPemFile("--tls_client_ca (VET_TLS_CLIENT_CA)", o.tls_client_ca));
  }
  return files;
}

absl::Status ValidateServerOptions(const ServerOptions& o) {
  if (o.listen.empty() || o.listen.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen '", o.listen, "' must be HOST:PORT, e.g. 127.0.0.1:50051"));
  }
  if (!o.metrics_listen.empty() && o.metrics_listen.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--metrics_listen '", o.metrics_listen,
                                                   "' must be HOST:PORT, or empty to disable"));
  }
  if (o.state_dir.empty()) return absl::InvalidArgumentError("--state_dir is empty");
  if (!ParseLogFormat(o.log_format).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--log_format (VET_LOG_FORMAT) '", o.log_format,
        "' must be text (one readable line a message) or json (one JSON object a line)"));
  }
  if (!o.demo && o.practices_file.empty()) {
    return absl::InvalidArgumentError(
        "no practices to serve: pass --demo for the demo practice or --practices FILE");
  }
  if (o.worker_threads < 1 || o.worker_threads > 512) {
    return absl::InvalidArgumentError("--worker_threads must be between 1 and 512");
  }
  if (o.max_queued < 0) return absl::InvalidArgumentError("--max_queued must be >= 0");
  if (o.max_streams < 1) return absl::InvalidArgumentError("--max_streams must be at least 1");
  if (o.max_streams_per_practice < 1 || o.max_streams_per_practice > o.max_streams) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max_streams_per_practice must be between 1 and --max_streams (", o.max_streams, ")"));
  }
  if (o.rate_limit < 0) {
    return absl::InvalidArgumentError("--rate_limit must be >= 0 (0 turns it off)");
  }
  if (o.rate_burst < 1) return absl::InvalidArgumentError("--rate_burst must be at least 1");
  if (o.budget_wait < absl::ZeroDuration() || o.budget_wait > absl::Minutes(5)) {
    return absl::InvalidArgumentError("--budget_wait must be between 0s and 5m");
  }
  if (o.data_cache_mb < 1 || o.data_cache_mb > (int64_t{1} << 30)) {
    return absl::InvalidArgumentError(
        "--data_cache_mb (VET_DATA_CACHE_MB) must be between 1 and 1073741824");
  }
  if (o.data_poll < absl::Milliseconds(10)) {
    return absl::InvalidArgumentError("data_poll must be at least 10ms");
  }
  if (o.max_import_memory_mb < 64) {
    return absl::InvalidArgumentError("--max_import_memory_mb must be at least 64");
  }
  if (o.max_import_bytes < 1024) {
    return absl::InvalidArgumentError("--max_import_bytes must be at least 1024");
  }
  if (o.max_concurrent_executions < 1) {
    return absl::InvalidArgumentError("--max_concurrent_executions must be at least 1");
  }
  if (o.max_executions_per_practice < 1 ||
      o.max_executions_per_practice > o.max_concurrent_executions) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max_executions_per_practice (", o.max_executions_per_practice,
        ") must be between 1 and --max_concurrent_executions (", o.max_concurrent_executions, ")"));
  }
  if (o.max_queued_executions_per_practice < 1) {
    return absl::InvalidArgumentError("--max_queued_executions_per_practice must be at least 1");
  }
  if (o.sandbox_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--sandbox_timeout must be positive");
  }
  if (o.planner != "first" && o.planner != "fallback" && o.planner != "off") {
    return absl::InvalidArgumentError(
        absl::StrCat("--planner (VET_PLANNER) '", o.planner, "' must be first, fallback or off"));
  }
  if (o.planner == "off" && !ModelConfigured(o)) {
    return absl::InvalidArgumentError(
        "--planner=off (VET_PLANNER) needs a model: set OPENAI_API_KEY, or "
        "OPENAI_BASE_URL for a local server");
  }
  if (o.max_repairs < 0 || o.max_repairs > 5) {
    return absl::InvalidArgumentError("--max_repairs must be between 0 and 5");
  }
  if (o.model_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--model_timeout must be positive");
  }
  if (o.openai_model.empty()) {
    return absl::InvalidArgumentError("--openai_model (OPENAI_MODEL) is empty");
  }
  const std::string store = BudgetStoreOf(o);
  if (store != "sqlite" && store != "postgres" && store != "memory") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--budget_store (VET_BUDGET_STORE) '", o.budget_store,
        "' must be sqlite (durable, the default), postgres (VET_DATABASE_URL) or memory"));
  }
  if (store == "postgres" && o.database_url.empty()) {
    return absl::InvalidArgumentError(
        "--budget_store=postgres needs VET_DATABASE_URL (postgres://user:password@host:port/db)");
  }
  if (!o.database_url.empty() && !absl::StartsWith(o.database_url, "postgres://") &&
      !absl::StartsWith(o.database_url, "postgresql://")) {
    return absl::InvalidArgumentError(
        "VET_DATABASE_URL must start with postgres:// or postgresql://");
  }
  if (o.session_ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError("--session_ttl (VET_SESSION_TTL) must be at least 1s");
  }
  if (o.session_sweep <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--session_sweep must be positive");
  }
  VET_RETURN_IF_ERROR(audit::ParseQuestionMode(o.audit_questions).status());
  if (o.audit_retention_days < 0 || o.audit_retention_days > 36500) {
    return absl::InvalidArgumentError(
        "--audit_retention_days (VET_AUDIT_RETENTION_DAYS) must be between 0 (keep forever) "
        "and 36500");
  }
  if (o.context_tokens < 0 || o.context_tokens > 200'000) {
    return absl::InvalidArgumentError(
        "--context_tokens (VET_CONTEXT_TOKENS) must be between 0 and 200000");
  }
  if (o.sandbox_micros_per_second < 0 || o.sandbox_micros_per_second > 1'000'000'000) {
    return absl::InvalidArgumentError(
        "SANDBOX_COST_PER_SECOND must be a number of USD between 0 and 1000");
  }
  if (o.sandbox != "bwrap" && o.sandbox != "process") {
    return absl::InvalidArgumentError(
        absl::StrCat("--sandbox '", o.sandbox,
                     "' must be bwrap (isolated, the default) or process (no isolation)"));
  }
  if (o.sandbox_workers < 1 || o.sandbox_workers > 1024) {
    return absl::InvalidArgumentError("--sandbox_workers must be between 1 and 1024");
  }
  if (o.sandbox_memory_mb < 128) {
    return absl::InvalidArgumentError("--sandbox_memory_mb must be at least 128");
  }
  if (o.sandbox_idle <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--sandbox_idle must be positive");
  }
  if (o.sandbox_worker_starts < 1) {
    return absl::InvalidArgumentError("--sandbox_worker_starts must be at least 1");
  }
  if (o.demo && o.demo_api_key.size() < 8) {
    return absl::InvalidArgumentError("--demo_api_key must be at least 8 characters");
  }
  if (o.demo_invoice_lines < 100 || o.demo_invoice_lines > 20'000'000) {
    return absl::InvalidArgumentError("--demo_invoice_lines must be between 100 and 20000000");
  }
  if (!o.http_listen.empty() && o.http_listen.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--http_listen '", o.http_listen, "' must be HOST:PORT, e.g. 127.0.0.1:8080, or empty"));
  }
  if (o.http_threads < 2 || o.http_max_streams < 1 || o.http_max_streams >= o.http_threads) {
    return absl::InvalidArgumentError(
        "the HTTP gateway needs 1 <= http_max_streams < http_threads");
  }
  if (o.http_max_body_bytes < 1024 || o.http_write_timeout <= absl::ZeroDuration() ||
      o.http_keepalive <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "the HTTP gateway needs http_max_body_bytes >= 1024 and positive timeouts");
  }
  VET_RETURN_IF_ERROR(CheckTlsCombination(o));
  return budget::ValidateBudgetOptions(o.budget);
}

absl::StatusOr<int64_t> DollarsToMicros(double usd, double max_usd, absl::string_view setting) {
  if (!std::isfinite(usd) || usd < 0 || usd > max_usd) {
    return absl::InvalidArgumentError(absl::StrCat(
        setting, " must be a number of USD between 0 and ", absl::StrFormat("%.0f", max_usd)));
  }
  return std::llround(usd * 1e6);
}

}  // namespace vet::server
