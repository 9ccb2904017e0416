// Reading the PEM files TLS settings name (the server's --tls_cert,
// --tls_key and --tls_client_ca; vetctl's --ca_cert, --client_cert and
// --client_key): whole, checked, and never quoted in a message.
#ifndef VET_CORE_COMMON_PEM_FILE_H_
#define VET_CORE_COMMON_PEM_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vet {

// The whole of the file at `path`. Returns kInvalidArgument naming
// `setting` (as the user wrote it, e.g. "--tls_key (VET_TLS_KEY)") and
// `path` when the file cannot be read, is not a regular file, or is empty.
// The message never holds the file's contents: a private key must not reach
// a terminal or a log. Does not parse the PEM (gRPC does, when it is used).
absl::StatusOr<std::string> ReadPemFile(absl::string_view setting, const std::string& path);

}  // namespace vet

#endif  // VET_CORE_COMMON_PEM_FILE_H_
