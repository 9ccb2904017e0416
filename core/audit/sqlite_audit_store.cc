// SqliteAuditStore. A batch is one BEGIN IMMEDIATE transaction of prepared
// INSERTs: one fsync for the whole batch, which is what makes batching in
// AuditRecorder pay.
#include "core/audit/sqlite_audit_store.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/audit/store_common.h"
#include "core/common/status_macros.h"

namespace vet::audit {
namespace {

using ::vet::storage::SqliteStatement;
using ::vet::storage::SqliteTransaction;

// How long a write waits for another process's transaction on the file.
constexpr absl::Duration kBusyTimeout = absl::Seconds(5);

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS audit_log (
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  rpc TEXT NOT NULL,
  session_id TEXT NOT NULL,
  question_id TEXT NOT NULL,
  generator TEXT NOT NULL,
  model TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  cost_micros INTEGER NOT NULL,
  status INTEGER NOT NULL,
  duration_micros INTEGER NOT NULL,
  question TEXT NOT NULL,
  question_sha256 TEXT NOT NULL,
  suppressed_refusals INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_practice ON audit_log (practice_id, at DESC, id DESC);
CREATE INDEX IF NOT EXISTS audit_by_at ON audit_log (at);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
)sql";

constexpr char kColumns[] =
    "id, practice_id, at, key_id, rpc, session_id, question_id, generator, model,"
    " prompt_tokens, completion_tokens, cost_micros, status, duration_micros, question,"
    " question_sha256, suppressed_refusals";

AuditEntry ReadEntry(const SqliteStatement& row) {
  AuditEntry e;
  e.id = row.Text(0);
  e.practice_id = row.Text(1);
  e.at = absl::FromUnixMicros(row.Int(2));
  e.key_id = row.Text(3);
  e.rpc = row.Text(4);
  e.session_id = row.Text(5);
  e.question_id = row.Text(6);
  e.generator = row.Text(7);
  e.model = row.Text(8);
  e.prompt_tokens = row.Int(9);
  e.completion_tokens = row.Int(10);
  e.cost_micros = row.Int(11);
  e.status = static_cast<absl::StatusCode>(row.Int(12));
  e.duration = absl::Microseconds(row.Int(13));
  e.question = row.Text(14);
  e.question_sha256 = row.Text(15);
  e.suppressed_refusals = row.Int(16);
  return e;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteAuditStore>> SqliteAuditStore::Open(const std::string& path) {
  storage::SqliteOptions storage_options;
  storage_options.name = "audit";
  storage_options.busy_timeout = kBusyTimeout;
  VET_ASSIGN_OR_RETURN(std::unique_ptr<storage::SqliteDatabase> db,
                       storage::SqliteDatabase::Open(path, storage_options));
  std::unique_ptr<SqliteAuditStore> store(new SqliteAuditStore(std::move(db)));
  absl::Status s;
  {
    absl::MutexLock lock(&store->mu_);
    s = store->InitSchema();
  }
  if (!s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open audit database '", path, "': ", s.message()));
  }
  return store;
}

SqliteAuditStore::SqliteAuditStore(std::unique_ptr<storage::SqliteDatabase> db)
    : db_(std::move(db)) {}

SqliteAuditStore::~SqliteAuditStore() = default;

absl::Status SqliteAuditStore::InitSchema() {
  return storage::MigrateSchema(*db_, kSchemaVersion, [this](int64_t found) -> absl::Status {
    mu_.AssertHeld();
    if (found == kSchemaVersion) return absl::OkStatus();
    return db_->Exec(kSchema);
  });
}

absl::Status SqliteAuditStore::Append(const std::vector<AuditEntry>& entries) {
  VET_RETURN_IF_ERROR(internal::ValidateBatch(entries));
  if (entries.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  VET_ASSIGN_OR_RETURN(auto txn, SqliteTransaction::Begin(*db_, SqliteTransaction::Mode::kWrite));
  const std::string insert =
      absl::StrCat("INSERT INTO audit_log (", kColumns,
                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const AuditEntry& e : entries) {
    VET_RETURN_IF_ERROR(SqliteStatement(*db_, insert.c_str())
                            .Bind(e.id)
                            .Bind(e.practice_id)
                            .Bind(absl::ToUnixMicros(e.at))
                            .Bind(e.key_id)
                            .Bind(e.rpc)
                            .Bind(e.session_id)
                            .Bind(e.question_id)
                            .Bind(e.generator)
                            .Bind(e.model)
                            .Bind(e.prompt_tokens)
                            .Bind(e.completion_tokens)
                            .Bind(e.cost_micros)
                            .Bind(static_cast<int64_t>(e.status))
                            .Bind(absl::ToInt64Microseconds(e.duration))
                            .Bind(e.question)
                            .Bind(e.question_sha256)
                            .Bind(e.suppressed_refusals)
                            .Run());
  }
  return txn.Commit();
}

absl::StatusOr<AuditPage> SqliteAuditStore::List(const std::string& practice_id, absl::Time since,
                                                 int page_size, const std::string& page_token) {
  VET_ASSIGN_OR_RETURN(const internal::ListRequest request,
                       internal::ParseListRequest(since, page_size, page_token));
  const std::optional<internal::PageKey>& after = request.after;
  const std::string sql = absl::StrCat("SELECT ", kColumns,
                                       " FROM audit_log WHERE practice_id = ?1 AND at >= ?2"
                                       "   AND (?3 = 0 OR at < ?4 OR (at = ?4 AND id < ?5))"
                                       " ORDER BY at DESC, id DESC LIMIT ?6");
  absl::MutexLock lock(&mu_);
  // One row more than the page, to know whether there is a next page.
  SqliteStatement list(*db_, sql.c_str());
  list.Bind(practice_id)
      .Bind(request.since_micros)
      .Bind(int64_t{after.has_value() ? 1 : 0})
      .Bind(after.has_value() ? after->at_micros : int64_t{0})
      .Bind(after.has_value() ? after->id : std::string())
      .Bind(int64_t{request.page_size} + 1);
  AuditPage page;
  while (true) {
    VET_ASSIGN_OR_RETURN(bool row, list.Step());
    if (!row) break;
    if (static_cast<int>(page.entries.size()) == request.page_size) {
      page.next_page_token = internal::NextPageToken(page.entries.back());
      VET_RETURN_IF_ERROR(list.Run());
      break;
    }
    page.entries.push_back(ReadEntry(list));
  }
  return page;
}

absl::StatusOr<int64_t> SqliteAuditStore::PurgeBefore(absl::Time before) {
  absl::MutexLock lock(&mu_);
  SqliteStatement purge(*db_, "DELETE FROM audit_log WHERE at < ? RETURNING 1");
  purge.Bind(absl::ToUnixMicros(before));
  int64_t removed = 0;
  while (true) {
    VET_ASSIGN_OR_RETURN(bool row, purge.Step());
    if (!row) break;
    ++removed;
  }
  return removed;
}

}  // namespace vet::audit
