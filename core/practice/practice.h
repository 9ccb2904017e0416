// A practice (one clinic or clinic group's dataset) and the registry of the
// practices this server serves, loaded from the practices JSON file.
#ifndef VET_CORE_PRACTICE_PRACTICE_H_
#define VET_CORE_PRACTICE_PRACTICE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vet {

struct Practice {
  std::string id;
  std::string name;
  // The key clients present in `x-api-key`. Never logged.
  std::string api_key;
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

// Immutable after construction, so thread-safe.
class PracticeRegistry {
 public:
  // Parses a practices file:
  //   {"practices": [{"id": "...", "name": "...", "api_key": "...",
  //                   "time_zone": "Europe/London", "data_dir": "...",
  //                   "budget_limit_usd": 25.0, "budget_soft_cap": 0.8,
  //                   "budget_hard_cap": 1.0, "budget_period": "month"}]}
  // data_dir defaults to <state_dir>/practices/<id>/data; relative paths are
  // relative to the file's folder. Returns kInvalidArgument naming the entry
  // and field for a malformed file, duplicate ids or keys, or an unknown zone.
  static absl::StatusOr<std::unique_ptr<PracticeRegistry>> FromJson(
      absl::string_view json, absl::string_view base_dir,
      absl::string_view state_dir);
  static absl::StatusOr<std::unique_ptr<PracticeRegistry>> FromFile(
      const std::string& path, absl::string_view state_dir);
  static absl::StatusOr<std::unique_ptr<PracticeRegistry>> FromPractices(
      std::vector<Practice> practices);

  // kNotFound if unknown.
  absl::StatusOr<const Practice*> Find(absl::string_view id) const;

  // Checks that `api_key` may act for `practice_id`:
  //   kUnauthenticated  no key, or a key no practice has
  //   kNotFound         the practice does not exist
  //   kPermissionDenied the key belongs to another practice
  absl::StatusOr<const Practice*> Authorize(absl::string_view practice_id,
                                            absl::string_view api_key) const;

  const std::vector<Practice>& practices() const { return practices_; }

 private:
  explicit PracticeRegistry(std::vector<Practice> practices);
  std::vector<Practice> practices_;
  std::map<std::string, size_t, std::less<>> by_id_;
};

}  // namespace vet

#endif  // VET_CORE_PRACTICE_PRACTICE_H_
