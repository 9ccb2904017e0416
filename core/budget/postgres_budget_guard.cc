// PostgresBudgetGuard: the check-and-reserve is one INSERT ... ON CONFLICT DO
// UPDATE ... WHERE spent + reserved + $r <= $cap, so the database decides
// atomically, not application code. Every change appends to the ledger in
// the same transaction. READ COMMITTED is enough: each decision re-reads the
// row it locks; the rare deadlock between sweeps is retried by
// PostgresPool::Transact.
#include "core/budget/postgres_budget_guard.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/random.h"
#include "core/common/status_macros.h"

namespace vet::budget {
namespace {

using storage::PgConnection;
using storage::PgResult;
using storage::PostgresPool;

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

// pg_advisory_xact_lock key serializing schema creation across replicas:
// "vet_budg" in ASCII.
constexpr int64_t kSchemaLockKey = 0x7665745f62756467;

// One statement each: PQexecParams runs a single statement at a time.
constexpr const char* kSchema[] = {
    R"sql(CREATE TABLE IF NOT EXISTS budget_periods (
  practice_id TEXT NOT NULL,
  period_start BIGINT NOT NULL,
  time_zone TEXT NOT NULL,
  spent BIGINT NOT NULL DEFAULT 0,
  reserved BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (practice_id, period_start)))sql",
    R"sql(CREATE TABLE IF NOT EXISTS reservations (
  id TEXT PRIMARY KEY,
  practice_id TEXT NOT NULL,
  period_start BIGINT NOT NULL,
  micros BIGINT NOT NULL,
  model TEXT NOT NULL,
  expires_at BIGINT NOT NULL))sql",
    "CREATE INDEX IF NOT EXISTS reservations_by_expiry ON reservations (expires_at)",
    R"sql(CREATE TABLE IF NOT EXISTS ledger (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  practice_id TEXT NOT NULL,
  period_start BIGINT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('reserve', 'commit', 'release', 'expire')),
  model TEXT NOT NULL,
  prompt_tokens BIGINT NOT NULL DEFAULT 0,
  cached_prompt_tokens BIGINT NOT NULL DEFAULT 0,
  completion_tokens BIGINT NOT NULL DEFAULT 0,
  sandbox_millis BIGINT NOT NULL DEFAULT 0,
  micros BIGINT NOT NULL,
  question_id TEXT NOT NULL DEFAULT '',
  reservation_id TEXT NOT NULL,
  at BIGINT NOT NULL))sql",
    "CREATE INDEX IF NOT EXISTS ledger_by_period"
    " ON ledger (practice_id, period_start, kind)",
    // A reservation is settled at most once, even by racing replicas.
    "CREATE UNIQUE INDEX IF NOT EXISTS ledger_settled_once"
    " ON ledger (reservation_id) WHERE kind IN ('commit', 'release')",
    R"sql(CREATE OR REPLACE FUNCTION budget_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the budget ledger is append-only'
    USING ERRCODE = 'restrict_violation';
END $$)sql",
    "CREATE OR REPLACE TRIGGER ledger_no_update_or_delete"
    " BEFORE UPDATE OR DELETE ON ledger"
    " FOR EACH ROW EXECUTE FUNCTION budget_ledger_append_only()",
    "CREATE OR REPLACE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger"
    " FOR EACH STATEMENT EXECUTE FUNCTION budget_ledger_append_only()",
};

// Releases every reservation that expired before $1, in the caller's
// transaction: deletes it, gives its hold back to its period and records an
// 'expire' row. One statement; a reservation a concurrent transaction
// settles or sweeps first is skipped (DELETE re-checks the locked row).
constexpr char kSweep[] = R"sql(
WITH expired AS (
  DELETE FROM reservations WHERE expires_at < $1::bigint
  RETURNING id, practice_id, period_start, micros, model),
totals AS (
  SELECT practice_id, period_start, SUM(micros) AS micros
  FROM expired GROUP BY practice_id, period_start),
unhold AS (
  UPDATE budget_periods b SET reserved = b.reserved - t.micros
  FROM totals t
  WHERE b.practice_id = t.practice_id AND b.period_start = t.period_start)
INSERT INTO ledger (practice_id, period_start, kind, model, micros,
                    reservation_id, at)
SELECT practice_id, period_start, 'expire', model, micros, id, $1::bigint
FROM expired)sql";

absl::Status Sweep(PgConnection& conn, absl::Time now) {
  return conn.Exec(kSweep, {Micros(now)}).status();
}

// The hold: creates the period's row or adds to it, only while spent +
// reserved + $4 stays within the cap $5; the reservation and its ledger row
// are written by the same statement, from the granted row only. Returns one
// row (spent, reserved) when granted, none when denied.
constexpr char kHold[] = R"sql(
WITH hold AS (
  INSERT INTO budget_periods AS b (practice_id, period_start, time_zone, reserved)
  SELECT $1::text, $2::bigint, $3::text, $4::bigint WHERE $4::bigint <= $5::bigint
  ON CONFLICT (practice_id, period_start) DO UPDATE
    SET reserved = b.reserved + EXCLUDED.reserved
    WHERE b.spent + b.reserved + EXCLUDED.reserved <= $5::bigint
  RETURNING b.spent, b.reserved),
held AS (
  INSERT INTO reservations (id, practice_id, period_start, micros, model, expires_at)
  SELECT $6::text, $1::text, $2::bigint, $4::bigint, $7::text, $8::bigint FROM hold),
logged AS (
  INSERT INTO ledger (practice_id, period_start, kind, model, micros,
                      reservation_id, at)
  SELECT $1::text, $2::bigint, 'reserve', $7::text, $4::bigint, $6::text, $9::bigint
  FROM hold)
SELECT spent, reserved FROM hold)sql";

// Takes reservation $1 out of reservations and its hold out of the period it
// was taken in. Touches nothing when it is not open.
constexpr char kUnhold[] = R"sql(
WITH held AS (
  DELETE FROM reservations WHERE id = $1::text
  RETURNING practice_id, period_start, micros)
UPDATE budget_periods b SET reserved = b.reserved - held.micros
FROM held
WHERE b.practice_id = held.practice_id AND b.period_start = held.period_start)sql";

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresBudgetGuard>> PostgresBudgetGuard::Open(
    const std::string& url, BudgetOptions options, const Clock& clock, PostgresBudgetOptions pg) {
  VET_RETURN_IF_ERROR(ValidateBudgetOptions(options));
  if (pg.reservation_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("reservation_ttl must be positive");
  }
  if (pg.pool_size < 1) {
    return absl::InvalidArgumentError("pool_size must be at least 1");
  }
  storage::PostgresOptions pool_options;
  pool_options.pool_size = pg.pool_size;
  absl::StatusOr<std::unique_ptr<PostgresPool>> pool = PostgresPool::Create(url, pool_options);
  if (!pool.ok()) {
    return absl::Status(pool.status().code(),
                        absl::StrCat("budget store: ", pool.status().message()));
  }
  std::unique_ptr<PostgresBudgetGuard> guard(
      new PostgresBudgetGuard(std::move(pool).value(), std::move(options), pg, clock));
  absl::Status s = guard->InitSchema();
  if (s.ok()) {
    s = guard->pool_->Transact([&](PgConnection& conn) { return Sweep(conn, clock.Now()); });
  }
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("cannot open the budget store in postgres ",
                                               guard->pool_->description(), ": ", s.message()));
  }
  return guard;
}

PostgresBudgetGuard::PostgresBudgetGuard(std::unique_ptr<PostgresPool> pool, BudgetOptions options,
                                         PostgresBudgetOptions pg, const Clock& clock)
    : options_(std::move(options)), pg_options_(pg), clock_(clock), pool_(std::move(pool)) {}

absl::Status PostgresBudgetGuard::InitSchema() {
  return pool_->Transact([](PgConnection& conn) -> absl::Status {
    // Replicas starting together: the first creates, the others wait here
    // and then find the version row.
    VET_RETURN_IF_ERROR(
        conn.Exec("SELECT pg_advisory_xact_lock($1::bigint)", {kSchemaLockKey}).status());
    VET_RETURN_IF_ERROR(conn.Exec("CREATE TABLE IF NOT EXISTS schema_version"
                                  " (version INTEGER NOT NULL)")
                            .status());
    VET_ASSIGN_OR_RETURN(PgResult read,
                         conn.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
    const int64_t version = read.Int(0, 0);
    if (version > kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the database has budget schema version ", version, "; this build understands up to ",
          kSchemaVersion, ". Run a newer server, or restore the previous database."));
    }
    if (version == kSchemaVersion) return absl::OkStatus();
    for (const char* statement : kSchema) {
      VET_RETURN_IF_ERROR(conn.Exec(statement).status());
    }
    return conn.Exec("INSERT INTO schema_version (version) VALUES ($1::integer)", {kSchemaVersion})
        .status();
  });
}

absl::StatusOr<BudgetState> PostgresBudgetGuard::GetState(const Practice& practice) {
  return ReadState(practice, /*by_model=*/true);
}

absl::StatusOr<BudgetState> PostgresBudgetGuard::GetTotals(const Practice& practice) {
  return ReadState(practice, /*by_model=*/false);
}

absl::StatusOr<BudgetState> PostgresBudgetGuard::ReadState(const Practice& practice,
                                                           bool by_model) {
  const absl::Time now = clock_.Now();
  const PeriodBounds bounds =
      PeriodAt(now, OptionsFor(options_, practice).period, practice.time_zone);
  const int64_t period = Micros(bounds.start);
  BudgetState state;
  // One snapshot, so the totals and the per-model sums agree.
  VET_RETURN_IF_ERROR(pool_->Transact(
      [&](PgConnection& conn) -> absl::Status {
        // Holds that have expired but were not swept yet (a sweep needs a
        // write transaction; the next Reserve makes it) are not counted.
        VET_ASSIGN_OR_RETURN(
            PgResult totals,
            conn.Exec("SELECT p.spent, p.reserved,"
                      "  (SELECT COALESCE(SUM(micros), 0)::bigint FROM reservations"
                      "   WHERE practice_id = $1::text AND period_start = $2::bigint"
                      "     AND expires_at < $3::bigint)"
                      " FROM (SELECT 1) AS one LEFT JOIN budget_periods p"
                      "  ON p.practice_id = $1::text AND p.period_start = $2::bigint",
                      {practice.id, period, Micros(now)}));
        const bool row = !totals.IsNull(0, 0);
        const int64_t stale = totals.Int(0, 2);
        state = ComputeBudgetState(practice, options_, bounds, row ? totals.Int(0, 0) : 0,
                                   row ? std::max<int64_t>(0, totals.Int(0, 1) - stale) : 0);
        if (!by_model) return absl::OkStatus();
        VET_ASSIGN_OR_RETURN(PgResult models,
                             conn.Exec("SELECT model, SUM(micros)::bigint FROM ledger"
                                       " WHERE practice_id = $1::text AND period_start = $2::bigint"
                                       "   AND kind = 'commit' AND micros > 0 GROUP BY model",
                                       {practice.id, period}));
        for (int i = 0; i < models.rows(); ++i) {
          state.spent_by_model_micros[models.Text(i, 0)] = models.Int(i, 1);
        }
        return absl::OkStatus();
      },
      PostgresPool::Mode::kReadSnapshot));
  return state;
}

absl::StatusOr<Reservation> PostgresBudgetGuard::Reserve(const Practice& practice, int64_t micros,
                                                         const std::string& model) {
  if (micros < 0) {
    return absl::InvalidArgumentError("a reservation cannot be negative");
  }
  const absl::Time now = clock_.Now();
  const Reservation r = NewReservation(practice, options_, micros, model);
  const PeriodBounds bounds = PeriodAt(now, r.period, practice.time_zone);
  const int64_t period = Micros(bounds.start);
  if (micros == 0) return r;

  const BudgetState limits = ComputeBudgetState(practice, options_, bounds, 0, 0);
  const int64_t cap = CapMicros(limits.limit_micros, limits.hard_cap);
  bool granted = false;
  int64_t spent = 0, reserved = 0;
  VET_RETURN_IF_ERROR(pool_->Transact([&](PgConnection& conn) -> absl::Status {
    VET_RETURN_IF_ERROR(Sweep(conn, now));
    VET_ASSIGN_OR_RETURN(
        PgResult hold,
        conn.Exec(kHold, {practice.id, period, practice.time_zone.name(), micros, cap, r.id, model,
                          Micros(now + pg_options_.reservation_ttl), Micros(now)}));
    granted = hold.rows() == 1;
    if (granted) return absl::OkStatus();
    // Denied: read the totals for the message. The sweep's work is kept.
    VET_ASSIGN_OR_RETURN(PgResult totals,
                         conn.Exec("SELECT spent, reserved FROM budget_periods"
                                   " WHERE practice_id = $1::text AND period_start = $2::bigint",
                                   {practice.id, period}));
    spent = totals.rows() == 1 ? totals.Int(0, 0) : 0;
    reserved = totals.rows() == 1 ? totals.Int(0, 1) : 0;
    return absl::OkStatus();
  }));
  if (!granted) {
    return BudgetDenied(practice, ComputeBudgetState(practice, options_, bounds, spent, reserved),
                        micros);
  }
  return r;
}

absl::Status PostgresBudgetGuard::Commit(const Reservation& reservation, const Spend& spend) {
  if (spend.micros < 0) {
    return absl::InvalidArgumentError("spend cannot be negative");
  }
  const absl::Time now = clock_.Now();
  // The spend counts in the period it happens in, in the time zone the
  // reservation was taken in.
  const absl::TimeZone tz = reservation.time_zone;
  const int64_t period = Micros(PeriodAt(now, reservation.period, tz).start);
  return pool_->Transact([&](PgConnection& conn) -> absl::Status {
    // Lock order (reservation row, then ledger, then period rows) matches
    // Release and the sweep.
    VET_RETURN_IF_ERROR(conn.Exec(kUnhold, {reservation.id}).status());
    // The unique index ledger_settled_once refuses a second settlement,
    // also from a replica committing at the same moment. An expired or
    // unknown reservation still spent money: it is recorded.
    VET_ASSIGN_OR_RETURN(
        PgResult settled,
        conn.Exec("INSERT INTO ledger (practice_id, period_start, kind, model,"
                  " prompt_tokens, cached_prompt_tokens, completion_tokens,"
                  " sandbox_millis, micros, question_id, reservation_id, at)"
                  " VALUES ($1::text, $2::bigint, 'commit', $3::text, $4::bigint,"
                  "  $5::bigint, $6::bigint, $7::bigint, $8::bigint, $9::text,"
                  "  $10::text, $11::bigint)"
                  " ON CONFLICT (reservation_id) WHERE kind IN ('commit', 'release')"
                  " DO NOTHING RETURNING id",
                  {reservation.practice_id, period, spend.model, spend.prompt_tokens,
                   spend.cached_prompt_tokens, spend.completion_tokens, spend.sandbox_millis,
                   spend.micros, spend.question_id, reservation.id, Micros(now)}));
    if (settled.rows() == 0) {
      // A settled reservation has no row, so the unhold above changed
      // nothing; Transact rolls back all the same.
      return absl::FailedPreconditionError(absl::StrCat(
          "reservation ", reservation.id, " is already settled (committed or released)"));
    }
    return conn
        .Exec(
            "INSERT INTO budget_periods AS b"
            " (practice_id, period_start, time_zone, spent)"
            " VALUES ($1::text, $2::bigint, $3::text, $4::bigint)"
            " ON CONFLICT (practice_id, period_start) DO UPDATE"
            " SET spent = b.spent + EXCLUDED.spent",
            {reservation.practice_id, period, tz.name(), spend.micros})
        .status();
  });
}

absl::Status PostgresBudgetGuard::Release(const Reservation& reservation) {
  if (reservation.micros == 0) return absl::OkStatus();
  const absl::Time now = clock_.Now();
  bool open = false;
  VET_RETURN_IF_ERROR(pool_->Transact([&](PgConnection& conn) -> absl::Status {
    VET_ASSIGN_OR_RETURN(PgResult released, conn.Exec(R"sql(
WITH held AS (
  DELETE FROM reservations WHERE id = $1::text
  RETURNING practice_id, period_start, micros, model),
unhold AS (
  UPDATE budget_periods b SET reserved = b.reserved - h.micros FROM held h
  WHERE b.practice_id = h.practice_id AND b.period_start = h.period_start)
INSERT INTO ledger (practice_id, period_start, kind, model, micros,
                    reservation_id, at)
SELECT practice_id, period_start, 'release', model, micros, $1::text, $2::bigint
FROM held RETURNING id)sql",
                                                      {reservation.id, Micros(now)}));
    open = released.rows() == 1;
    return absl::OkStatus();
  }));
  if (!open) {
    return absl::FailedPreconditionError(
        absl::StrCat("reservation ", reservation.id, " is not open (already settled or expired)"));
  }
  return absl::OkStatus();
}

}  // namespace vet::budget
