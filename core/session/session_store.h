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

struct SessionOptions {
  // A session with no turn for longer than this has expired (VET_SESSION_TTL):
  // it is NOT_FOUND, and Purge removes it (an ended one too).
  absl::Duration ttl = absl::Hours(24);
};

// Thread-safe. Stores: in memory (tests), SQLite (the default, beside the
// budget in the state directory) and PostgreSQL (replicas, the budget's
// database). Every store behaves the same; one test suite runs on all three.
class SessionStore {
 public:
  virtual ~SessionStore() = default;

  // A new session with an unguessable id (128 random bits or more).
  virtual absl::StatusOr<SessionRecord> Create(const std::string& practice_id) = 0;

  // The session with its turns, also once ended (`ended`), until it is
  // purged. kNotFound when the id is unknown, expired, or belongs to another
  // practice (the message never says which: SessionNotFound).
  virtual absl::StatusOr<SessionRecord> Get(const std::string& practice_id,
                                            const std::string& session_id) = 0;

  // Appends a turn (its number is assigned) and marks the session active.
  // kNotFound as for Get, and for an ended session.
  virtual absl::Status AppendTurn(const std::string& practice_id, const std::string& session_id,
                                  TurnRecord turn) = 0;

  // Ends the session: no more turns; it stays readable until purged. OK
  // also when it had ended already (safe to retry); kNotFound as for Get.
  virtual absl::Status End(const std::string& practice_id, const std::string& session_id) = 0;

  // The practice's sessions not yet expired, ended ones included, most
  // recently active first (ties by id), with their turns. page_size 0 means 20; more
  // than 100 is kInvalidArgument. The page token is opaque and keyset-based
  // (the last session's activity time and id), so a page stays correct while
  // other sessions are created or ended; kInvalidArgument for a token this
  // store did not issue.
  virtual absl::StatusOr<SessionPage> List(const std::string& practice_id, int page_size,
                                           const std::string& page_token) = 0;

  // Claims the session for one question, for every server that shares the
  // store, until ReleaseClaim or until `lease` has passed (so the claim of a
  // server that crashed lapses). Returns false while another holder's claim
  // is in force (the caller waits and tries again); true when `holder` has
  // it, also when it had it already. kNotFound as for Get, and once ended.
  virtual absl::StatusOr<bool> TryClaim(const std::string& practice_id,
                                        const std::string& session_id, const std::string& holder,
                                        absl::Duration lease) = 0;

  // Gives up `holder`'s claim; OK also when it holds none.
  virtual absl::Status ReleaseClaim(const std::string& session_id, const std::string& holder) = 0;

  // Deletes the sessions expired (no turn for longer than the TTL, ended or
  // not), with their turns. Returns how many sessions were removed. The
  // server calls it periodically.
  virtual absl::StatusOr<int> Purge() = 0;
  // Deletes one session of the practice that has no turns (one created for
  // a question that was refused before it ran, so that it leaves nothing
  // behind). OK when there is no such session, and when it has turns (then
  // it is kept).
  virtual absl::Status Discard(const std::string& practice_id, const std::string& session_id) = 0;
};

// The NOT_FOUND status every store returns for an unknown, ended, expired or
// foreign session, so that none of them leaks which it was.
absl::Status SessionNotFound(const std::string& session_id);

}  // namespace vet::session

#endif  // VET_CORE_SESSION_SESSION_STORE_H_
