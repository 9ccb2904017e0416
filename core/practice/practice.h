// A practice (one clinic or clinic group's dataset) and the registry of the
// practices this server serves, loaded from the practices JSON file.
#ifndef VET_CORE_PRACTICE_PRACTICE_H_
#define VET_CORE_PRACTICE_PRACTICE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/common/sha256.h"

namespace vet {

struct Practice {
  std::string id;
  std::string name;
  // The key clients present in `x-api-key`, when a Practice is built in code
  // (tests, the demo practice). The registry keeps only its SHA-256 and
  // clears this field. Never logged.
  std::string api_key;
  // The SHA-256 of the key: set from the file's api_key_sha256, or computed
  // by the registry from api_key. All zeros when unset.
  Sha256Digest api_key_sha256{};
  std::string time_zone_name = "UTC";
  absl::TimeZone time_zone = absl::UTCTimeZone();
  // Folder holding the practice's tables: a symlink to the current version
  // when the service manages it, or a folder of CSV files set by the operator.
  std::string data_dir;
  // The folder the service manages for this practice (data_dir's parent,
  // with its versions and staging); empty when data_dir was set explicitly,
  // and then the practice's data cannot be imported through the API.
  std::string data_root;
  // Budget overrides; each unset one takes the server's default.
  // Per period in micro-dollars; -1 means the server default.
  int64_t budget_limit_micros = -1;
  // Fractions of the limit; -1 means the server default.
  double budget_soft_cap = -1;
  double budget_hard_cap = -1;
  // "day" or "month"; empty means the server default.
  std::string budget_period;
};

// Practice ids: 1 to 64 of [a-z0-9_-], starting with a letter or digit.
// Returns kInvalidArgument saying what is wrong.
absl::Status ValidatePracticeId(absl::string_view id);

// The practices this server serves. Each load makes an immutable snapshot;
// Replace() swaps in another registry's snapshot (a reload of the file) while
// callers keep using the snapshot they were given: a Practice handle from
// Find() or Authorize() keeps its whole snapshot alive, so a call that
// started before a reload finishes with the practice it started with.
// Thread-safe.
class PracticeRegistry {
 public:
  // Parses a practices file:
  //   {"practices": [{"id": "...", "name": "...", "api_key_sha256": "<hex>",
  //                   "time_zone": "Europe/London", "data_dir": "...",
  //                   "budget_limit_usd": 25.0, "budget_soft_cap": 0.8,
  //                   "budget_hard_cap": 1.0, "budget_period": "month"}]}
  // Each practice has exactly one of api_key_sha256 (64 hex digits: the
  // SHA-256 of the key, as `vetctl new-key` prints it) and api_key (the key
  // itself; kept for old files, hashed on load).
  // data_dir defaults to <state_dir>/practices/<id>/data; relative paths are
  // relative to the file's folder. Returns kInvalidArgument naming the entry
  // and field for a malformed file, duplicate ids or keys, or an unknown zone.
  static absl::StatusOr<std::unique_ptr<PracticeRegistry>> FromJson(absl::string_view json,
                                                                    absl::string_view base_dir,
                                                                    absl::string_view state_dir);
  static absl::StatusOr<std::unique_ptr<PracticeRegistry>> FromFile(const std::string& path,
                                                                    absl::string_view state_dir);
  // Each practice needs api_key (at least 8 characters) or a non-zero
  // api_key_sha256; api_key is hashed and cleared.
  static absl::StatusOr<std::unique_ptr<PracticeRegistry>> FromPractices(
      std::vector<Practice> practices);

  // kNotFound if unknown. The handle keeps the practice valid across
  // Replace().
  absl::StatusOr<std::shared_ptr<const Practice>> Find(absl::string_view id) const;

  // Checks that `api_key` may act for `practice_id`, comparing its SHA-256
  // with every practice's in constant time:
  //   kUnauthenticated  no key, or a key no practice has
  //   kPermissionDenied the key is not valid for `practice_id`: the same
  //                     code and message whether that practice is another
  //                     one or does not exist, so a key holder cannot probe
  //                     which practices exist.
  // The handle keeps the practice valid across Replace().
  absl::StatusOr<std::shared_ptr<const Practice>> Authorize(absl::string_view practice_id,
                                                            absl::string_view api_key) const;

  // A copy of the current practices (keys hashed).
  std::vector<Practice> practices() const;

  // Serves `next`'s practices from now on. Handles already given out stay
  // valid. `next` must not be used after.
  void Replace(PracticeRegistry& next);

 private:
  struct Snapshot {
    std::vector<Practice> practices;
    std::map<std::string, size_t, std::less<>> by_id;
  };
  explicit PracticeRegistry(std::vector<Practice> practices);
  std::shared_ptr<const Snapshot> snapshot() const;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
};

}  // namespace vet

#endif  // VET_CORE_PRACTICE_PRACTICE_H_
