// Multi-turn sessions: each belongs to one practice and keeps its turns so a
// follow-up question is understood in context.
#ifndef VET_CORE_SESSION_SESSION_STORE_H_
#define VET_CORE_SESSION_SESSION_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace vet::session {

struct TurnRecord {
  int number = 0;
  std::string question;
  std::string as_of_date;
  std::string code;
  std::string answer;
  // What the code computed, no values beyond what the answer shows.
  std::string summary;
  // The code generator's state for follow-ups.
  std::string plan;
  absl::StatusCode status = absl::StatusCode::kOk;
  int64_t cost_micros = 0;
  absl::Time asked_at;
};

struct SessionRecord {
  std::string id;
  std::string practice_id;
  absl::Time created_at;
  absl::Time last_active_at;
  bool ended = false;
  std::vector<TurnRecord> turns;
};

struct SessionPage {
  std::vector<SessionRecord> sessions;
  std::string next_page_token;
};

// Thread-safe.
class SessionStore {
 public:
  virtual ~SessionStore() = default;

  // A new session with an unguessable id (128 random bits or more).
  virtual absl::StatusOr<SessionRecord> Create(const std::string& practice_id) = 0;

  // kNotFound when the id is unknown, ended, or belongs to another practice
  // (the message never says which).
  virtual absl::StatusOr<SessionRecord> Get(const std::string& practice_id,
                                            const std::string& session_id) = 0;

  // Appends a turn (its number is assigned) and marks the session active.
  virtual absl::Status AppendTurn(const std::string& practice_id,
                                  const std::string& session_id,
                                  TurnRecord turn) = 0;

  // kNotFound as for Get.
  virtual absl::Status End(const std::string& practice_id,
                           const std::string& session_id) = 0;

  // Most recently active first. kInvalidArgument for a bad page token.
  virtual absl::StatusOr<SessionPage> List(const std::string& practice_id,
                                           int page_size,
                                           const std::string& page_token) = 0;
};

}  // namespace vet::session

#endif  // VET_CORE_SESSION_SESSION_STORE_H_
