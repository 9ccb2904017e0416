// SqliteBudgetGuard: the check-and-reserve is a single conditional UPDATE
// (`... WHERE spent + reserved + :r <= :cap RETURNING ...`), so the database,
// not application code, decides; no read-then-decide race on one replica or
// many. Every change appends to the ledger in the same transaction.
#include "core/budget/sqlite_budget_guard.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/common/random.h"
#include "core/common/status_macros.h"
#include "core/storage/sqlite.h"

namespace vet::budget {
namespace {

using ::vet::storage::SqliteStatement;
using ::vet::storage::SqliteTransaction;

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS budget_periods (
  practice_id TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  time_zone TEXT NOT NULL,
  spent INTEGER NOT NULL DEFAULT 0,
  reserved INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (practice_id, period_start)
);
CREATE TABLE IF NOT EXISTS reservations (
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  micros INTEGER NOT NULL,
  model TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS reservations_by_expiry ON reservations (expires_at);
CREATE TABLE IF NOT EXISTS ledger (
  id INTEGER PRIMARY KEY,
  practice_id TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('reserve', 'commit', 'release', 'expire')),
  model TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cached_prompt_tokens INTEGER NOT NULL DEFAULT 0,
  sandbox_millis INTEGER NOT NULL DEFAULT 0,
  micros INTEGER NOT NULL,
  question_id TEXT NOT NULL DEFAULT '',
  reservation_id TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_by_period
  ON ledger (practice_id, period_start, kind);
CREATE INDEX IF NOT EXISTS ledger_by_reservation ON ledger (reservation_id, kind);
CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON ledger
  BEGIN SELECT RAISE(ABORT, 'the budget ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON ledger
  BEGIN SELECT RAISE(ABORT, 'the budget ledger is append-only'); END;
)sql";

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteBudgetGuard>> SqliteBudgetGuard::Open(
    const std::string& path, BudgetOptions options, const Clock& clock,
    SqliteBudgetOptions sqlite_options) {
  VET_RETURN_IF_ERROR(ValidateBudgetOptions(options));
  if (sqlite_options.reservation_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("reservation_ttl must be positive");
  }
  storage::SqliteOptions storage_options;
  storage_options.name = "budget";
  storage_options.busy_timeout = sqlite_options.busy_timeout;
  VET_ASSIGN_OR_RETURN(std::unique_ptr<storage::SqliteDatabase> db,
                       storage::SqliteDatabase::Open(path, storage_options));
  std::unique_ptr<SqliteBudgetGuard> guard(
      new SqliteBudgetGuard(path, std::move(db), std::move(options), sqlite_options, clock));
  absl::Status s;
  {
    absl::MutexLock lock(&guard->mu_);
    s = guard->InitSchema();
    if (s.ok()) {
      auto txn = SqliteTransaction::Begin(*guard->db_);
      s = txn.status();
      if (s.ok()) s = guard->SweepExpired(clock.Now());
      if (s.ok()) s = txn->Commit();
    }
  }
  if (!s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open budget database '", path, "': ", s.message()));
  }
  return guard;
}

SqliteBudgetGuard::SqliteBudgetGuard(std::string path, std::unique_ptr<storage::SqliteDatabase> db,
                                     BudgetOptions options, SqliteBudgetOptions sqlite_options,
                                     const Clock& clock)
    : path_(std::move(path)),
      options_(std::move(options)),
      sqlite_options_(sqlite_options),
      clock_(clock),
      db_(std::move(db)) {}

SqliteBudgetGuard::~SqliteBudgetGuard() = default;

absl::Status SqliteBudgetGuard::InitSchema() {
  return storage::MigrateSchema(*db_, kSchemaVersion, [this](int64_t found) -> absl::Status {
    mu_.AssertHeld();
    if (found == 1) {
      // Version 2 added the cached-token and sandbox-time columns.
      VET_RETURN_IF_ERROR(
          db_->Exec("ALTER TABLE ledger"
                    " ADD COLUMN cached_prompt_tokens INTEGER NOT NULL DEFAULT 0;"
                    "ALTER TABLE ledger"
                    " ADD COLUMN sandbox_millis INTEGER NOT NULL DEFAULT 0;"));
    }
    return db_->Exec(kSchema);
  });
}

absl::Status SqliteBudgetGuard::SweepExpired(absl::Time now) {
  const int64_t at = Micros(now);
  // Set-based, in the caller's transaction: record, give back, then delete.
  VET_RETURN_IF_ERROR(
      SqliteStatement(*db_,
                      "INSERT INTO ledger (practice_id, period_start, kind, model, micros,"
                      " reservation_id, at)"
                      " SELECT practice_id, period_start, 'expire', model, micros, id, ?"
                      " FROM reservations WHERE expires_at < ?")
          .Bind(at)
          .Bind(at)
          .Run());
  VET_RETURN_IF_ERROR(SqliteStatement(*db_,
                                      "UPDATE budget_periods SET reserved = reserved - ("
                                      "  SELECT COALESCE(SUM(r.micros), 0) FROM reservations r"
                                      "  WHERE r.practice_id = budget_periods.practice_id"
                                      "    AND r.period_start = budget_periods.period_start"
                                      "    AND r.expires_at < ?1)"
                                      " WHERE EXISTS (SELECT 1 FROM reservations r"
                                      "  WHERE r.practice_id = budget_periods.practice_id"
                                      "    AND r.period_start = budget_periods.period_start"
                                      "    AND r.expires_at < ?1)")
                          .Bind(at)
                          .Run());
  return SqliteStatement(*db_, "DELETE FROM reservations WHERE expires_at < ?").Bind(at).Run();
}

BudgetState SqliteBudgetGuard::StateOf(const Practice& practice, const PeriodBounds& bounds,
                                       int64_t spent, int64_t reserved) const {
  return ComputeBudgetState(practice, options_, bounds, spent, reserved);
}

absl::StatusOr<BudgetState> SqliteBudgetGuard::GetState(const Practice& practice) {
  return ReadState(practice, /*by_model=*/true);
}

absl::StatusOr<BudgetState> SqliteBudgetGuard::GetTotals(const Practice& practice) {
  return ReadState(practice, /*by_model=*/false);
}

absl::StatusOr<BudgetState> SqliteBudgetGuard::ReadState(const Practice& practice, bool by_model) {
  PeriodBounds bounds =
      PeriodAt(clock_.Now(), OptionsFor(options_, practice).period, practice.time_zone);
  const int64_t period = Micros(bounds.start);
  absl::MutexLock lock(&mu_);
  // A read transaction, so the totals and the per-model sums are one snapshot.
  // It ends when this function returns, after the statements below are
  // finalized (rolled back: it wrote nothing).
  VET_ASSIGN_OR_RETURN(SqliteTransaction snapshot,
                       SqliteTransaction::Begin(*db_, SqliteTransaction::Mode::kRead));
  SqliteStatement totals(*db_,
                         "SELECT spent, reserved FROM budget_periods"
                         " WHERE practice_id = ? AND period_start = ?");
  totals.Bind(practice.id).Bind(period);
  VET_ASSIGN_OR_RETURN(bool row, totals.Step());
  // Holds that have expired but were not swept yet (a sweep needs a write
  // transaction; the next Reserve makes it) are not counted as reserved.
  SqliteStatement expired(*db_,
                          "SELECT COALESCE(SUM(micros), 0) FROM reservations"
                          " WHERE practice_id = ? AND period_start = ? AND expires_at < ?");
  expired.Bind(practice.id).Bind(period).Bind(Micros(clock_.Now()));
  VET_ASSIGN_OR_RETURN(bool has_expired, expired.Step());
  const int64_t stale = has_expired ? expired.Int(0) : 0;
  BudgetState state = StateOf(practice, bounds, row ? totals.Int(0) : 0,
                              row ? std::max<int64_t>(0, totals.Int(1) - stale) : 0);
  if (!by_model) return state;
  SqliteStatement models(*db_,
                         "SELECT model, SUM(micros) FROM ledger"
                         " WHERE practice_id = ? AND period_start = ? AND kind = 'commit'"
                         "   AND micros > 0 GROUP BY model");
  models.Bind(practice.id).Bind(period);
  while (true) {
    VET_ASSIGN_OR_RETURN(bool more, models.Step());
    if (!more) break;
    state.spent_by_model_micros[models.Text(0)] = models.Int(1);
  }
  return state;
}

absl::StatusOr<Reservation> SqliteBudgetGuard::Reserve(const Practice& practice, int64_t micros,
                                                       const std::string& model) {
  if (micros < 0) {
    return absl::InvalidArgumentError("a reservation cannot be negative");
  }
  const absl::Time now = clock_.Now();
  const Reservation r = NewReservation(practice, options_, micros, model);
  const PeriodBounds bounds = PeriodAt(now, r.period, practice.time_zone);
  const int64_t period = Micros(bounds.start);

  absl::MutexLock lock(&mu_);
  if (micros == 0) return r;

  VET_ASSIGN_OR_RETURN(auto txn, SqliteTransaction::Begin(*db_));
  VET_RETURN_IF_ERROR(SweepExpired(now));
  VET_RETURN_IF_ERROR(SqliteStatement(*db_,
                                      "INSERT OR IGNORE INTO budget_periods"
                                      " (practice_id, period_start, time_zone) VALUES (?, ?, ?)")
                          .Bind(practice.id)
                          .Bind(period)
                          .Bind(practice.time_zone.name())
                          .Run());
  BudgetState limits = StateOf(practice, bounds, 0, 0);
  const int64_t cap = CapMicros(limits.limit_micros, limits.hard_cap);
  SqliteStatement hold(*db_,
                       "UPDATE budget_periods SET reserved = reserved + ?1"
                       " WHERE practice_id = ?2 AND period_start = ?3"
                       "   AND spent + reserved + ?1 <= ?4"
                       " RETURNING spent, reserved");
  hold.Bind(micros).Bind(practice.id).Bind(period).Bind(cap);
  VET_ASSIGN_OR_RETURN(bool granted, hold.Step());
  VET_RETURN_IF_ERROR(hold.Run());
  if (!granted) {
    int64_t spent = 0, reserved = 0;
    {
      SqliteStatement totals(*db_,
                             "SELECT spent, reserved FROM budget_periods"
                             " WHERE practice_id = ? AND period_start = ?");
      totals.Bind(practice.id).Bind(period);
      VET_ASSIGN_OR_RETURN(bool row, totals.Step());
      if (row) {
        spent = totals.Int(0);
        reserved = totals.Int(1);
      }
    }
    BudgetState s = StateOf(practice, bounds, spent, reserved);
    // Keep the sweep's work even though this reservation is denied.
    VET_RETURN_IF_ERROR(txn.Commit());
    return BudgetDenied(practice, s, micros);
  }
  VET_RETURN_IF_ERROR(SqliteStatement(*db_,
                                      "INSERT INTO reservations"
                                      " (id, practice_id, period_start, micros, model, expires_at)"
                                      " VALUES (?, ?, ?, ?, ?, ?)")
                          .Bind(r.id)
                          .Bind(practice.id)
                          .Bind(period)
                          .Bind(micros)
                          .Bind(model)
                          .Bind(Micros(now + sqlite_options_.reservation_ttl))
                          .Run());
  VET_RETURN_IF_ERROR(
      SqliteStatement(*db_,
                      "INSERT INTO ledger (practice_id, period_start, kind, model, micros,"
                      " reservation_id, at) VALUES (?, ?, 'reserve', ?, ?, ?, ?)")
          .Bind(practice.id)
          .Bind(period)
          .Bind(model)
          .Bind(micros)
          .Bind(r.id)
          .Bind(Micros(now))
          .Run());
  VET_RETURN_IF_ERROR(txn.Commit());
  return r;
}

absl::Status SqliteBudgetGuard::Commit(const Reservation& reservation, const Spend& spend) {
  if (spend.micros < 0) return absl::InvalidArgumentError("spend cannot be negative");
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  VET_ASSIGN_OR_RETURN(auto txn, SqliteTransaction::Begin(*db_));
  {
    SqliteStatement committed(*db_,
                              "SELECT 1 FROM ledger WHERE reservation_id = ?"
                              " AND kind IN ('commit', 'release') LIMIT 1");
    committed.Bind(reservation.id);
    VET_ASSIGN_OR_RETURN(bool already, committed.Step());
    if (already) {
      return absl::FailedPreconditionError(absl::StrCat(
          "reservation ", reservation.id, " is already settled (committed or released)"));
    }
  }
  SqliteStatement take(*db_,
                       "DELETE FROM reservations WHERE id = ?"
                       " RETURNING practice_id, period_start, micros");
  take.Bind(reservation.id);
  VET_ASSIGN_OR_RETURN(bool open, take.Step());
  std::string practice_id = open ? take.Text(0) : reservation.practice_id;
  if (open) {
    // The hold comes out of the period it was taken in.
    int64_t held_period = take.Int(1);
    int64_t held = take.Int(2);
    VET_RETURN_IF_ERROR(take.Run());
    VET_RETURN_IF_ERROR(SqliteStatement(*db_,
                                        "UPDATE budget_periods SET reserved = reserved - ?"
                                        " WHERE practice_id = ? AND period_start = ?")
                            .Bind(held)
                            .Bind(practice_id)
                            .Bind(held_period)
                            .Run());
  }
  // An expired or unknown reservation still spent money: record it, in the
  // period the spend happened in.
  const absl::TimeZone tz = reservation.time_zone;
  const int64_t period = Micros(PeriodAt(now, reservation.period, tz).start);
  VET_RETURN_IF_ERROR(SqliteStatement(*db_,
                                      "INSERT OR IGNORE INTO budget_periods"
                                      " (practice_id, period_start, time_zone) VALUES (?, ?, ?)")
                          .Bind(practice_id)
                          .Bind(period)
                          .Bind(tz.name())
                          .Run());
  VET_RETURN_IF_ERROR(SqliteStatement(*db_,
                                      "UPDATE budget_periods SET spent = spent + ?"
                                      " WHERE practice_id = ? AND period_start = ?")
                          .Bind(spend.micros)
                          .Bind(practice_id)
                          .Bind(period)
                          .Run());
  VET_RETURN_IF_ERROR(SqliteStatement(*db_,
                                      "INSERT INTO ledger (practice_id, period_start, kind, model,"
                                      " prompt_tokens, cached_prompt_tokens, completion_tokens,"
                                      " sandbox_millis, micros, question_id, reservation_id, at)"
                                      " VALUES (?, ?, 'commit', ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                          .Bind(practice_id)
                          .Bind(period)
                          .Bind(spend.model)
                          .Bind(spend.prompt_tokens)
                          .Bind(spend.cached_prompt_tokens)
                          .Bind(spend.completion_tokens)
                          .Bind(spend.sandbox_millis)
                          .Bind(spend.micros)
                          .Bind(spend.question_id)
                          .Bind(reservation.id)
                          .Bind(Micros(now))
                          .Run());
  return txn.Commit();
}

absl::Status SqliteBudgetGuard::Release(const Reservation& reservation) {
  if (reservation.micros == 0) return absl::OkStatus();
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  VET_ASSIGN_OR_RETURN(auto txn, SqliteTransaction::Begin(*db_));
  SqliteStatement take(*db_,
                       "DELETE FROM reservations WHERE id = ?"
                       " RETURNING practice_id, period_start, micros, model");
  take.Bind(reservation.id);
  VET_ASSIGN_OR_RETURN(bool open, take.Step());
  if (!open) {
    return absl::FailedPreconditionError(
        absl::StrCat("reservation ", reservation.id, " is not open (already settled or expired)"));
  }
  std::string practice_id = take.Text(0);
  int64_t period = take.Int(1);
  int64_t held = take.Int(2);
  std::string model = take.Text(3);
  VET_RETURN_IF_ERROR(take.Run());
  VET_RETURN_IF_ERROR(SqliteStatement(*db_,
                                      "UPDATE budget_periods SET reserved = reserved - ?"
                                      " WHERE practice_id = ? AND period_start = ?")
                          .Bind(held)
                          .Bind(practice_id)
                          .Bind(period)
                          .Run());
  VET_RETURN_IF_ERROR(
      SqliteStatement(*db_,
                      "INSERT INTO ledger (practice_id, period_start, kind, model, micros,"
                      " reservation_id, at) VALUES (?, ?, 'release', ?, ?, ?, ?)")
          .Bind(practice_id)
          .Bind(period)
          .Bind(model)
          .Bind(held)
          .Bind(reservation.id)
          .Bind(Micros(now))
          .Run());
  return txn.Commit();
}

}  // namespace vet::budget
