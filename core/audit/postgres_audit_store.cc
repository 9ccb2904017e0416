// PostgresAuditStore. A batch is one transaction of multi-row INSERTs (a
// round trip per kRowsPerInsert entries, not per entry).
#include "core/audit/postgres_audit_store.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/audit/store_common.h"
#include "core/common/status_macros.h"

namespace vet::audit {
namespace {

using storage::PgConnection;
using storage::PgParam;
using storage::PgResult;
using storage::PostgresPool;

// pg_advisory_xact_lock key serializing schema creation across replicas:
// "vet_audi" in ASCII (the budget's is "vet_budg", the sessions' "vet_sess").
constexpr int64_t kSchemaLockKey = 0x7665745f61756469;

// 17 parameters a row: 100 rows stay far below PostgreSQL's 65535
// parameters a statement.
constexpr size_t kRowsPerInsert = 100;
constexpr int kColumnCount = 17;

// One statement each: PQexecParams runs a single statement at a time.
constexpr const char* kSchema[] = {
    R"sql(CREATE TABLE IF NOT EXISTS audit_log (
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  at BIGINT NOT NULL,
  key_id TEXT NOT NULL,
  rpc TEXT NOT NULL,
  session_id TEXT NOT NULL,
  question_id TEXT NOT NULL,
  generator TEXT NOT NULL,
  model TEXT NOT NULL,
  prompt_tokens BIGINT NOT NULL,
  completion_tokens BIGINT NOT NULL,
  cost_micros BIGINT NOT NULL,
  status INTEGER NOT NULL,
  duration_micros BIGINT NOT NULL,
  question TEXT NOT NULL,
  question_sha256 TEXT NOT NULL,
  suppressed_refusals BIGINT NOT NULL))sql",
    "CREATE INDEX IF NOT EXISTS audit_by_practice ON audit_log (practice_id, at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS audit_by_at ON audit_log (at)",
    R"sql(CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END
$$)sql",
    "CREATE OR REPLACE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
    " FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
};

constexpr char kColumns[] =
    "id, practice_id, at, key_id, rpc, session_id, question_id, generator, model,"
    " prompt_tokens, completion_tokens, cost_micros, status, duration_micros, question,"
    " question_sha256, suppressed_refusals";

// The placeholders of one row, with the casts libpq's text parameters need.
std::string RowPlaceholders(int first) {
  static constexpr const char* kTypes[kColumnCount] = {
      "text",   "text",   "bigint", "text",    "text",   "text", "text", "text",  "text",
      "bigint", "bigint", "bigint", "integer", "bigint", "text", "text", "bigint"};
  std::string row = "(";
  for (int i = 0; i < kColumnCount; ++i) {
    absl::StrAppend(&row, i == 0 ? "" : ", ", "$", first + i, "::", kTypes[i]);
  }
  return row + ")";
}

void AddParams(const AuditEntry& e, std::vector<PgParam>& params) {
  params.insert(params.end(), {e.id, e.practice_id, absl::ToUnixMicros(e.at), e.key_id, e.rpc,
                               e.session_id, e.question_id, e.generator, e.model, e.prompt_tokens,
                               e.completion_tokens, e.cost_micros, static_cast<int64_t>(e.status),
                               absl::ToInt64Microseconds(e.duration), e.question, e.question_sha256,
                               e.suppressed_refusals});
}

AuditEntry ReadEntry(const PgResult& rows, int row) {
  AuditEntry e;
  e.id = rows.Text(row, 0);
  e.practice_id = rows.Text(row, 1);
  e.at = absl::FromUnixMicros(rows.Int(row, 2));
  e.key_id = rows.Text(row, 3);
  e.rpc = rows.Text(row, 4);
  e.session_id = rows.Text(row, 5);
  e.question_id = rows.Text(row, 6);
  e.generator = rows.Text(row, 7);
  e.model = rows.Text(row, 8);
  e.prompt_tokens = rows.Int(row, 9);
  e.completion_tokens = rows.Int(row, 10);
  e.cost_micros = rows.Int(row, 11);
  e.status = static_cast<absl::StatusCode>(rows.Int(row, 12));
  e.duration = absl::Microseconds(rows.Int(row, 13));
  e.question = rows.Text(row, 14);
  e.question_sha256 = rows.Text(row, 15);
  e.suppressed_refusals = rows.Int(row, 16);
  return e;
}

absl::Status WithContext(const absl::Status& s) {
  if (s.ok() || s.code() == absl::StatusCode::kInvalidArgument) return s;
  return absl::Status(s.code(), absl::StrCat("postgres audit store: ", s.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresAuditStore>> PostgresAuditStore::Open(const std::string& url,
                                                                             int pool_size) {
  if (pool_size < 1) return absl::InvalidArgumentError("pool_size must be at least 1");
  storage::PostgresOptions pool_options;
  pool_options.pool_size = pool_size;
  absl::StatusOr<std::unique_ptr<PostgresPool>> pool = PostgresPool::Create(url, pool_options);
  if (!pool.ok()) {
    return absl::Status(pool.status().code(),
                        absl::StrCat("audit store: ", pool.status().message()));
  }
  std::unique_ptr<PostgresAuditStore> store(new PostgresAuditStore(std::move(pool).value()));
  absl::Status s = store->InitSchema();
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("cannot open the audit store in postgres ",
                                               store->pool_->description(), ": ", s.message()));
  }
  return store;
}

PostgresAuditStore::PostgresAuditStore(std::unique_ptr<PostgresPool> pool)
    : pool_(std::move(pool)) {}

absl::Status PostgresAuditStore::InitSchema() {
  return pool_->Transact([](PgConnection& conn) -> absl::Status {
    // Replicas starting together: the first creates, the others wait here
    // and then find the version row.
    VET_RETURN_IF_ERROR(
        conn.Exec("SELECT pg_advisory_xact_lock($1::bigint)", {kSchemaLockKey}).status());
    VET_RETURN_IF_ERROR(
        conn.Exec("CREATE TABLE IF NOT EXISTS audit_schema_version (version INTEGER NOT NULL)")
            .status());
    VET_ASSIGN_OR_RETURN(PgResult read,
                         conn.Exec("SELECT COALESCE(MAX(version), 0) FROM audit_schema_version"));
    const int64_t version = read.Int(0, 0);
    if (version > kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the database has audit schema version ", version, "; this build understands up to ",
          kSchemaVersion, ". Run a newer server, or restore the previous database."));
    }
    if (version == kSchemaVersion) return absl::OkStatus();
    for (const char* statement : kSchema) {
      VET_RETURN_IF_ERROR(conn.Exec(statement).status());
    }
    return conn
        .Exec("INSERT INTO audit_schema_version (version) VALUES ($1::integer)", {kSchemaVersion})
        .status();
  });
}

absl::Status PostgresAuditStore::Append(const std::vector<AuditEntry>& entries) {
  VET_RETURN_IF_ERROR(internal::ValidateBatch(entries));
  if (entries.empty()) return absl::OkStatus();
  return WithContext(pool_->Transact([&](PgConnection& conn) -> absl::Status {
    for (size_t start = 0; start < entries.size(); start += kRowsPerInsert) {
      const size_t end = std::min(entries.size(), start + kRowsPerInsert);
      std::string sql = absl::StrCat("INSERT INTO audit_log (", kColumns, ") VALUES ");
      std::vector<PgParam> params;
      params.reserve((end - start) * kColumnCount);
      for (size_t i = start; i < end; ++i) {
        absl::StrAppend(&sql, i == start ? "" : ", ",
                        RowPlaceholders(static_cast<int>((i - start) * kColumnCount) + 1));
        AddParams(entries[i], params);
      }
      VET_RETURN_IF_ERROR(conn.Exec(sql, params).status());
    }
    return absl::OkStatus();
  }));
}

absl::StatusOr<AuditPage> PostgresAuditStore::List(const std::string& practice_id, absl::Time since,
                                                   int page_size, const std::string& page_token) {
  VET_ASSIGN_OR_RETURN(const internal::ListRequest request,
                       internal::ParseListRequest(since, page_size, page_token));
  const std::optional<internal::PageKey>& after = request.after;
  AuditPage page;
  VET_RETURN_IF_ERROR(WithContext(pool_->Transact(
      [&](PgConnection& conn) -> absl::Status {
        page = AuditPage();
        // One row more than the page, to know whether there is a next page.
        VET_ASSIGN_OR_RETURN(
            PgResult rows,
            conn.Exec(
                absl::StrCat("SELECT ", kColumns,
                             " FROM audit_log WHERE practice_id = $1::text"
                             "   AND at >= $2::bigint"
                             "   AND (NOT $3::boolean OR at < $4::bigint"
                             "        OR (at = $4::bigint AND id < $5::text))"
                             " ORDER BY at DESC, id DESC LIMIT $6::bigint"),
                {practice_id, request.since_micros, after.has_value() ? "true" : "false",
                 after.has_value() ? after->at_micros : int64_t{0},
                 after.has_value() ? after->id : std::string(), int64_t{request.page_size} + 1}));
        for (int i = 0; i < rows.rows() && i < request.page_size; ++i) {
          page.entries.push_back(ReadEntry(rows, i));
        }
        if (rows.rows() > request.page_size) {
          page.next_page_token = internal::NextPageToken(page.entries.back());
        }
        return absl::OkStatus();
      },
      PostgresPool::Mode::kReadSnapshot)));
  return page;
}

absl::StatusOr<int64_t> PostgresAuditStore::PurgeBefore(absl::Time before) {
  int64_t removed = 0;
  VET_RETURN_IF_ERROR(WithContext(pool_->Transact([&](PgConnection& conn) -> absl::Status {
    VET_ASSIGN_OR_RETURN(PgResult result, conn.Exec("DELETE FROM audit_log WHERE at < $1::bigint",
                                                    {absl::ToUnixMicros(before)}));
    removed = result.affected();
    return absl::OkStatus();
  })));
  return removed;
}

}  // namespace vet::audit
