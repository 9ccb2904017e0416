// A BudgetGuard kept in PostgreSQL: spend survives restarts of the server
// and of the database, and any number of replicas on any number of hosts
// share one budget. Every decision is one conditional statement inside one
// transaction, so spent + reserved never passes the hard cap however many
// replicas and threads race. Mirrors SqliteBudgetGuard's semantics.
#ifndef VET_CORE_BUDGET_POSTGRES_BUDGET_GUARD_H_
#define VET_CORE_BUDGET_POSTGRES_BUDGET_GUARD_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/budget/budget_guard.h"
#include "core/budget/budget_rules.h"
#include "core/common/clock.h"
#include "core/storage/postgres.h"

namespace vet::budget {

struct PostgresBudgetOptions {
  // A reservation not committed or released within this time is taken to
  // belong to a crashed replica and is released by the next sweep. Longer
  // than the slowest question (model calls plus sandbox) may take.
  absl::Duration reservation_ttl = absl::Minutes(10);
  // Connections to the database; at most this many budget operations of
  // this guard run at once, the others wait for a free connection.
  int pool_size = 4;
};

// Schema (in the connection's search_path, normally "public"; times are
// BIGINT Unix microseconds, money BIGINT micro-dollars, as in SQLite):
//   schema_version(version)
//   budget_periods(practice_id, period_start, time_zone, spent, reserved)
//     PRIMARY KEY (practice_id, period_start)
//   reservations(id PRIMARY KEY, practice_id, period_start, micros, model,
//                expires_at)
//   ledger(id BIGINT IDENTITY, practice_id, period_start, kind, model,
//          prompt_tokens, cached_prompt_tokens, completion_tokens,
//          sandbox_millis, micros, question_id, reservation_id, at)
// The ledger is append-only ('reserve' | 'commit' | 'release' | 'expire'):
// a trigger raises on UPDATE, DELETE and TRUNCATE, and a unique index lets a
// reservation be settled ('commit' or 'release') at most once. Spend by
// model is summed from its 'commit' rows. The schema is created on first
// Open, under a transaction-scoped advisory lock so that replicas starting
// together do not race; the role needs CREATE on the schema for that first
// Open only.
//
// Thread-safe: a pool of connections (PostgresBudgetOptions::pool_size).
//
// Codes: kResourceExhausted when a reservation would pass the hard cap
// (naming spent, limit and the reset time); kInvalidArgument for negative
// amounts; kFailedPrecondition when releasing or committing a reservation
// that is already settled; kUnavailable when the database cannot be reached
// or transactions kept conflicting (retry later); kInternal for other
// database errors.
class PostgresBudgetGuard final : public BudgetGuard {
 public:
  static constexpr int kSchemaVersion = 1;

  // Connects to `url` (postgres://user:password@host:port/database), creates
  // the schema if missing and sweeps expired reservations. Returns
  // kInvalidArgument for bad options or a malformed URL, kUnavailable naming
  // host, port and database (never the password) when the database cannot
  // be reached, and kFailedPrecondition when it holds a newer schema
  // version. `clock` must outlive the guard.
  static absl::StatusOr<std::unique_ptr<PostgresBudgetGuard>> Open(const std::string& url,
                                                                   BudgetOptions options,
                                                                   const Clock& clock,
                                                                   PostgresBudgetOptions pg = {});

  PostgresBudgetGuard(const PostgresBudgetGuard&) = delete;
  PostgresBudgetGuard& operator=(const PostgresBudgetGuard&) = delete;

  // Holds that expired but were not swept yet are not counted as reserved.
  absl::StatusOr<BudgetState> GetState(const Practice& practice) override;
  absl::StatusOr<BudgetState> GetTotals(const Practice& practice) override;

  // Sweeps expired reservations, then holds `micros` in one transaction.
  // A reservation of 0 is granted without touching the database.
  absl::StatusOr<Reservation> Reserve(const Practice& practice, int64_t micros,
                                      const std::string& model) override;

  // Adds spend.micros to the practice's period at the time of the commit
  // (reservation.period in reservation.time_zone) and releases the hold. A
  // reservation that expired (or is unknown here) still has its spend
  // recorded, and its hold is not subtracted twice. Committing a
  // reservation already committed or released returns kFailedPrecondition
  // and records nothing.
  absl::Status Commit(const Reservation& reservation, const Spend& spend) override;

  // kFailedPrecondition if the reservation is not open (already settled or
  // expired). Releasing a reservation of 0 is always OK.
  absl::Status Release(const Reservation& reservation) override;

 private:
  // GetState, with or without the sums by model.
  absl::StatusOr<BudgetState> ReadState(const Practice& practice, bool by_model);
  PostgresBudgetGuard(std::unique_ptr<storage::PostgresPool> pool, BudgetOptions options,
                      PostgresBudgetOptions pg, const Clock& clock);

  absl::Status InitSchema();

  const BudgetOptions options_;
  const PostgresBudgetOptions pg_options_;
  const Clock& clock_;
  const std::unique_ptr<storage::PostgresPool> pool_;
};

}  // namespace vet::budget

#endif  // VET_CORE_BUDGET_POSTGRES_BUDGET_GUARD_H_
