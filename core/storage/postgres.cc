// The libpq layer. Errors are mapped once, here: what the caller should do
// next decides the code (retry the transaction, try later, or give up).
#include "core/storage/postgres.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/common/log.h"
#include "core/common/status_macros.h"

namespace vet::storage {
namespace {

std::string Describe(PGconn* conn) {
  if (conn == nullptr) return "(no connection)";
  const char* host = PQhost(conn);
  const char* port = PQport(conn);
  const char* db = PQdb(conn);
  return absl::StrCat(host ? host : "", ":", port ? port : "", "/", db ? db : "");
}

// libpq's message on one line: it ends in a newline and indents hints
// ("\n\tIs the server running ...").
std::string Trim(const char* message) {
  std::string m = absl::StrReplaceAll(message ? message : "", {{"\n\t", " "}, {"\n", " "}});
  while (!m.empty() && m.back() == ' ') m.pop_back();
  return m;
}

// The password a URL or key=value string carries, to scrub it from any
// message libpq builds; "" when there is none.
std::string PasswordIn(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  PQfreemem(error);
  if (options == nullptr) return "";
  std::string password;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string(o->keyword) == "password" && o->val != nullptr) {
      password = o->val;
    }
  }
  PQconninfoFree(options);
  return password;
}

std::string Scrub(std::string message, const std::string& password) {
  if (password.empty()) return message;
  return absl::StrReplaceAll(message, {{password, "****"}});
}

// Server notices ("relation ... already exists, skipping") are not errors;
// libpq's default prints them to stderr.
void IgnoreNotice(void*, const char*) {}

bool Retriable(absl::string_view sqlstate) {
  // serialization_failure, deadlock_detected.
  return sqlstate == "40001" || sqlstate == "40P01";
}

}  // namespace

PgParam::PgParam(int64_t v) : value_(absl::StrCat(v)) {}
PgParam::PgParam(int v) : value_(absl::StrCat(v)) {}
PgParam::PgParam(absl::string_view v) : value_(std::string(v)) {}
PgParam::PgParam(const std::string& v) : value_(v) {}
PgParam::PgParam(const char* v) : value_(std::string(v)) {}
PgParam::PgParam(std::nullopt_t) {}
PgParam PgParam::Bytes(absl::string_view bytes) {
  PgParam p(bytes);
  p.binary_ = true;
  return p;
}

PgResult::PgResult(pg_result* result) : result_(result) {}
PgResult::~PgResult() { PQclear(result_); }
PgResult::PgResult(PgResult&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}
int PgResult::rows() const { return PQntuples(result_); }
int64_t PgResult::affected() const {
  int64_t n = 0;
  return absl::SimpleAtoi(PQcmdTuples(result_), &n) ? n : 0;
}
bool PgResult::IsNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }
std::string PgResult::Text(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column), PQgetlength(result_, row, column));
}
std::string PgResult::Bytes(int row, int column) const {
  if (IsNull(row, column)) return "";
  size_t length = 0;
  unsigned char* bytes = PQunescapeBytea(
      reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row, column)), &length);
  VET_CHECK(bytes != nullptr);  // only out of memory
  std::string out(reinterpret_cast<const char*>(bytes), length);
  PQfreemem(bytes);
  return out;
}
int64_t PgResult::Int(int row, int column) const {
  if (IsNull(row, column)) return 0;
  int64_t v = 0;
  VET_CHECK(absl::SimpleAtoi(PQgetvalue(result_, row, column), &v));
  return v;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::ok() const { return PQstatus(conn_) == CONNECTION_OK; }

bool PgConnection::InFailedTransaction() const {
  return PQtransactionStatus(conn_) == PQTRANS_INERROR;
}

std::string PgConnection::Describe() const { return storage::Describe(conn_); }

absl::Status PgConnection::Reset() {
  PQreset(conn_);
  if (ok()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "postgres ", Describe(), ": reconnecting failed: ", Trim(PQerrorMessage(conn_))));
}

absl::StatusOr<PgResult> PgConnection::Exec(absl::string_view sql,
                                            std::initializer_list<PgParam> params) {
  return Exec(sql, std::vector<PgParam>(params));
}

absl::StatusOr<PgResult> PgConnection::Exec(absl::string_view sql,
                                            const std::vector<PgParam>& params) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  values.reserve(params.size());
  for (const PgParam& p : params) {
    values.push_back(p.value() ? p.value()->data() : nullptr);
    lengths.push_back(p.value() ? static_cast<int>(p.value()->size()) : 0);
    formats.push_back(p.binary() ? 1 : 0);
  }
  const std::string query(sql);
  PgResult result(PQexecParams(conn_, query.c_str(), static_cast<int>(values.size()),
                               /*paramTypes=*/nullptr, values.data(), lengths.data(),
                               formats.data(), /*resultFormat=*/0));
  ExecStatusType status = PQresultStatus(result.result_);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    return result;
  }
  if (result.result_ == nullptr || PQstatus(conn_) == CONNECTION_BAD) {
    return absl::UnavailableError(
        absl::StrCat("postgres ", Describe(), ": connection lost: ", Trim(PQerrorMessage(conn_))));
  }
  const char* state = PQresultErrorField(result.result_, PG_DIAG_SQLSTATE);
  const std::string sqlstate = state ? state : "";
  const char* primary = PQresultErrorField(result.result_, PG_DIAG_MESSAGE_PRIMARY);
  std::string message =
      absl::StrCat("postgres: ", primary ? primary : Trim(PQresultErrorMessage(result.result_)),
                   " (SQLSTATE ", sqlstate, ")");
  if (Retriable(sqlstate)) return absl::AbortedError(message);
  if (sqlstate == "23505") return absl::AlreadyExistsError(message);
  // Class 08 (connection exception) and 57P0x (the server is shutting
  // down or restarting): try again later.
  if (sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P0", 0) == 0) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

namespace {

absl::Status CheckUrl(const std::string& url) {
  {
    char* error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &error);
    // libpq's parse error may quote the string, password and all.
    PQfreemem(error);
    if (parsed == nullptr) {
      return absl::InvalidArgumentError(
          "malformed PostgreSQL URL (expected "
          "postgres://user:password@host:port/database)");
    }
    PQconninfoFree(parsed);
  }
  return absl::OkStatus();
}

// A new connection, or kUnavailable naming where (never the password).
absl::StatusOr<PGconn*> Connect(const std::string& url, const PostgresOptions& options) {
  const std::string timeout =
      absl::StrCat(std::max<int64_t>(1, absl::ToInt64Seconds(options.connect_timeout)));
  // Keywords after "dbname" would override the URL; connect_timeout comes
  // first so that a timeout in the URL wins.
  const char* const keywords[] = {"connect_timeout", "dbname", nullptr};
  const char* const values[] = {timeout.c_str(), url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) {
    return absl::ResourceExhaustedError("libpq could not allocate a connection");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    absl::Status s =
        absl::UnavailableError(Scrub(absl::StrCat("cannot connect to postgres ", Describe(conn),
                                                  ": ", Trim(PQerrorMessage(conn))),
                                     PasswordIn(url)));
    PQfinish(conn);
    return s;
  }
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  return conn;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresPool>> PostgresPool::Create(const std::string& url,
                                                                   PostgresOptions options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError("postgres pool_size must be at least 1");
  }
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError("postgres max_attempts must be at least 1");
  }
  VET_RETURN_IF_ERROR(CheckUrl(url));
  std::vector<std::unique_ptr<PgConnection>> connections;
  std::string description;
  for (int i = 0; i < options.pool_size; ++i) {
    VET_ASSIGN_OR_RETURN(PGconn * conn, Connect(url, options));
    std::unique_ptr<PgConnection> c(new PgConnection(conn));
    description = c->Describe();
    connections.push_back(std::move(c));
  }
  return std::unique_ptr<PostgresPool>(
      new PostgresPool(options, std::move(description), std::move(connections)));
}

PostgresPool::PostgresPool(PostgresOptions options, std::string description,
                           std::vector<std::unique_ptr<PgConnection>> connections)
    : options_(options),
      description_(std::move(description)),
      connections_(std::move(connections)) {
  for (const auto& c : connections_) free_.push_back(c.get());
}

PostgresPool::~PostgresPool() {
  absl::MutexLock lock(&mu_);
  VET_CHECK(free_.size() == connections_.size());
}

PostgresPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), conn_(std::exchange(other.conn_, nullptr)) {}

PostgresPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Return(conn_);
}

absl::StatusOr<PostgresPool::Lease> PostgresPool::Acquire() {
  PgConnection* conn = nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto has_free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !free_.empty(); };
    mu_.Await(absl::Condition(&has_free));
    conn = free_.back();
    free_.pop_back();
  }
  Lease lease(this, conn);
  // A server restart breaks every pooled connection; libpq only notices on
  // the next use, which Transact handles. Here: one already known broken.
  if (!conn->ok()) VET_RETURN_IF_ERROR(conn->Reset());
  return lease;
}

void PostgresPool::Return(PgConnection* conn) {
  // A caller that returned mid-transaction must not hand it to the next.
  PGTransactionStatusType t = PQtransactionStatus(conn->conn_);
  if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR) {
    PQclear(PQexec(conn->conn_, "ROLLBACK"));
  }
  absl::MutexLock lock(&mu_);
  free_.push_back(conn);
}

absl::StatusOr<PgTransaction> PgTransaction::Begin(PgConnection& conn, PostgresPool::Mode mode) {
  const char* begin = mode == PostgresPool::Mode::kReadSnapshot
                          ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                          : "BEGIN";
  absl::StatusOr<PgResult> r = conn.Exec(begin);
  if (!r.ok() && !conn.ok()) {
    // The server went away since this connection's last use (a restart or
    // failover). Nothing has run yet, so reconnecting once is safe.
    VET_RETURN_IF_ERROR(conn.Reset());
    r = conn.Exec(begin);
  }
  if (!r.ok()) return r.status();
  return PgTransaction(&conn);
}

PgTransaction::PgTransaction(PgTransaction&& other) noexcept
    : conn_(std::exchange(other.conn_, nullptr)) {}

PgTransaction::~PgTransaction() {
  if (conn_ != nullptr && conn_->ok()) conn_->Exec("ROLLBACK").IgnoreError();
}

absl::Status PgTransaction::Commit() {
  PgConnection* conn = std::exchange(conn_, nullptr);
  // COMMIT of a transaction a failed statement aborted "succeeds" as a
  // ROLLBACK; report it as the failure it is.
  const bool failed = conn->InFailedTransaction();
  absl::StatusOr<PgResult> r = conn->Exec(failed ? "ROLLBACK" : "COMMIT");
  if (failed && r.ok()) {
    return absl::InternalError("postgres: transaction was aborted by an earlier error");
  }
  return r.status();
}

absl::Status PostgresPool::Transact(const std::function<absl::Status(PgConnection&)>& body,
                                    Mode mode) {
  absl::Status last;
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    VET_ASSIGN_OR_RETURN(Lease conn, Acquire());
    last = [&]() -> absl::Status {
      VET_ASSIGN_OR_RETURN(PgTransaction txn, PgTransaction::Begin(*conn, mode));
      VET_RETURN_IF_ERROR(body(*conn));
      return txn.Commit();
    }();
    if (last.code() != absl::StatusCode::kAborted) return last;
  }
  return absl::UnavailableError(absl::StrCat("postgres ", description_,
                                             ": transaction still conflicting after ",
                                             options_.max_attempts, " attempts: ", last.message()));
}

absl::StatusOr<std::unique_ptr<PgListener>> PgListener::Create(const std::string& url,
                                                               const std::string& channel,
                                                               PostgresOptions options) {
  VET_RETURN_IF_ERROR(CheckUrl(url));
  if (channel.empty() || !std::all_of(channel.begin(), channel.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
      })) {
    return absl::InvalidArgumentError(
        absl::StrCat("postgres channel '", channel, "' must be letters, digits and '_'"));
  }
  std::unique_ptr<PgListener> listener(new PgListener(url, channel, options));
  VET_RETURN_IF_ERROR(listener->Connect());
  return listener;
}

PgListener::~PgListener() {
  if (conn_ != nullptr) PQfinish(conn_);
}

absl::Status PgListener::Connect() {
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  VET_ASSIGN_OR_RETURN(PGconn * conn, storage::Connect(url_, options_));
  PgConnection listen(conn);  // finishes the connection if LISTEN fails
  VET_RETURN_IF_ERROR(listen.Exec(absl::StrCat("LISTEN ", channel_)).status());
  conn_ = std::exchange(listen.conn_, nullptr);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> PgListener::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    if (absl::Status s = Connect(); !s.ok()) {
      absl::SleepFor(deadline - absl::Now());
      return s;
    }
  }
  std::vector<std::string> payloads;
  while (true) {
    if (PQconsumeInput(conn_) == 0) {
      absl::Status s = absl::UnavailableError(
          absl::StrCat("postgres ", storage::Describe(conn_),
                       ": listening connection lost: ", Trim(PQerrorMessage(conn_))));
      PQfinish(conn_);
      conn_ = nullptr;
      if (!payloads.empty()) return payloads;
      absl::SleepFor(deadline - absl::Now());
      return s;
    }
    while (PGnotify* n = PQnotifies(conn_)) {
      payloads.emplace_back(n->extra != nullptr ? n->extra : "");
      PQfreemem(n);
    }
    const absl::Duration left = deadline - absl::Now();
    if (!payloads.empty() || left <= absl::ZeroDuration()) return payloads;
    pollfd fd{PQsocket(conn_), POLLIN, 0};
    const int ms = static_cast<int>(std::min<int64_t>(
        absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))), 1 << 30));
    if (::poll(&fd, 1, ms) < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
    }
  }
}

}  // namespace vet::storage
