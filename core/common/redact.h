// Messages that leave the server for a client carry no filesystem path of
// the server (where its state lives says more than a client needs); the
// full message stays in the server's log.
#ifndef VET_CORE_COMMON_REDACT_H_
#define VET_CORE_COMMON_REDACT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace vet {

// `message` with every absolute path (a '/' starting a word, with at least
// two segments: "/srv/vet/practices/a/staging/1/clients.csv") replaced by
// its last segment ("clients.csv"), which is what a person needs to find
// the problem in what they sent. Other text is unchanged.
std::string WithoutPaths(absl::string_view message);

}  // namespace vet

#endif  // VET_CORE_COMMON_REDACT_H_
