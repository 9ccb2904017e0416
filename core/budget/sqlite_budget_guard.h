// A BudgetGuard kept in a SQLite file: spend survives restarts and kill -9,
// and several processes (replicas on one host) can share the file. Every
// decision is one conditional write inside one transaction, so spent +
// reserved never passes the hard cap however many guards and threads race.
#ifndef VET_CORE_BUDGET_SQLITE_BUDGET_GUARD_H_
#define VET_CORE_BUDGET_SQLITE_BUDGET_GUARD_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/budget/budget_guard.h"
#include "core/budget/in_memory_budget_guard.h"
#include "core/common/clock.h"
#include "core/storage/sqlite.h"

namespace vet::budget {

struct SqliteBudgetOptions {
  // A reservation not committed or released within this time is taken to
  // belong to a crashed process and is released by the next sweep. Longer
  // than the slowest question (model calls plus sandbox) may take.
  absl::Duration reservation_ttl = absl::Minutes(10);
  // How long a write waits for another process's transaction on the file.
  absl::Duration busy_timeout = absl::Seconds(5);
};

// Schema (times are Unix microseconds, money micro-dollars):
//   schema_version(version)
//   budget_periods(practice_id, period_start, time_zone, spent, reserved)
//   reservations(id, practice_id, period_start, micros, model, expires_at)
//   ledger(id, practice_id, period_start, kind, model, prompt_tokens,
//          completion_tokens, cached_prompt_tokens, sandbox_millis, micros,
//          question_id, reservation_id, at)   (version 1 lacked the cached
//          and sandbox columns; Open adds them)
// The ledger is append-only ('reserve' | 'commit' | 'release' | 'expire');
// spend by model is summed from its 'commit' rows.
//
// Thread-safe: one connection behind a mutex. Several processes may open the
// same file; they coordinate through SQLite's locks (WAL, BEGIN IMMEDIATE).
//
// Codes: kResourceExhausted when a reservation would pass the hard cap
// (naming spent, limit and the reset time); kInvalidArgument for negative
// amounts; kFailedPrecondition when releasing or committing a reservation
// that is already settled; kUnavailable when the file stayed locked by
// another process past busy_timeout; kInternal for other SQLite errors.
class SqliteBudgetGuard final : public BudgetGuard {
 public:
  static constexpr int kSchemaVersion = 2;

  // Opens or creates the database at `path` (journal_mode=WAL,
  // synchronous=FULL, so a committed spend survives a crash of the process
  // or the machine), creates the schema if missing and sweeps expired
  // reservations. Returns kInvalidArgument for bad `options`, and
  // kFailedPrecondition naming the path and SQLite's message when the file
  // cannot be opened or was written by a newer schema version. `clock` must
  // outlive the guard.
  static absl::StatusOr<std::unique_ptr<SqliteBudgetGuard>> Open(
      const std::string& path, BudgetOptions options, const Clock& clock,
      SqliteBudgetOptions sqlite_options = {});

  ~SqliteBudgetGuard() override;
  SqliteBudgetGuard(const SqliteBudgetGuard&) = delete;
  SqliteBudgetGuard& operator=(const SqliteBudgetGuard&) = delete;

  absl::StatusOr<BudgetState> GetState(const Practice& practice) override;
  absl::StatusOr<BudgetState> GetTotals(const Practice& practice) override;

  // Sweeps expired reservations, then holds `micros` in one transaction.
  // A reservation of 0 is granted without touching the file.
  absl::StatusOr<Reservation> Reserve(const Practice& practice, int64_t micros,
                                      const std::string& model) override;

  // Adds spend.micros to the current period of the practice and releases
  // the hold. A reservation that expired (or is unknown here) still has its
  // spend recorded, and its hold is not subtracted twice. Committing a
  // reservation already committed or released returns kFailedPrecondition
  // and records nothing.
  absl::Status Commit(const Reservation& reservation, const Spend& spend) override;

  // kFailedPrecondition if the reservation is not open (already settled or
  // expired). Releasing a reservation of 0 is always OK.
  absl::Status Release(const Reservation& reservation) override;

 private:
  // GetState, with or without the sums by model.
  absl::StatusOr<BudgetState> ReadState(const Practice& practice, bool by_model);
  SqliteBudgetGuard(std::string path, std::unique_ptr<storage::SqliteDatabase> db,
                    BudgetOptions options, SqliteBudgetOptions sqlite_options, const Clock& clock);

  absl::Status InitSchema() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Releases reservations whose expires_at is before `now`. Call inside a
  // write transaction.
  absl::Status SweepExpired(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  BudgetState StateOf(const Practice& practice, const PeriodBounds& bounds, int64_t spent,
                      int64_t reserved) const;

  const std::string path_;
  const BudgetOptions options_;
  const SqliteBudgetOptions sqlite_options_;
  const Clock& clock_;
  absl::Mutex mu_;
  const std::unique_ptr<storage::SqliteDatabase> db_ ABSL_PT_GUARDED_BY(mu_);
};

}  // namespace vet::budget

#endif  // VET_CORE_BUDGET_SQLITE_BUDGET_GUARD_H_
