// absl and gRPC number their codes identically (both follow
// google.rpc.Code), so the code maps by value. The details go in the
// standard place: a serialized google.rpc.Status, which gRPC sends as the
// `grpc-status-details-bin` trailer.
//
// Size: a client refuses trailers over its metadata limit (8 KiB by
// default), which would turn any error into a RESOURCE_EXHAUSTED of its
// own. The details (a google.rpc.Status, which repeats the message) stay
// under 4 KiB (base64 in the trailer: under 5.5 KiB); the message keeps
// whole lines up to 2 KiB, or 1 KiB when violations list the same problems
// in the details, both saying what they left out.
#include "server/grpc_status.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/error_details.h"
#include "core/common/log.h"
#include "core/common/redact.h"
#include "google/protobuf/duration.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace vet::server {
namespace {

constexpr size_t kMaxMessage = 2048;
constexpr size_t kMaxMessageBesideViolations = 1024;
constexpr size_t kMaxDetails = 4096;
constexpr size_t kMaxViolation = 400;
constexpr char kDomain[] = "vetanalytics.v1";

// The first bytes of `text`, at most `max`, cut at a character boundary.
std::string Prefix(absl::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  size_t end = max;
  // Back up over continuation bytes (10xxxxxx).
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

// Whole lines up to `max`; a single long line is cut with "...".
std::string CapMessage(const std::string& message, size_t max) {
  if (message.size() <= max) return message;
  constexpr absl::string_view kMore = "\n... (more in the error details)";
  const size_t budget = max - kMore.size();
  const size_t newline = message.rfind('\n', budget);
  if (newline != std::string::npos && newline > 0) {
    return absl::StrCat(message.substr(0, newline), kMore);
  }
  return absl::StrCat(Prefix(message, max - 3), "...");
}

// A reason for every error, for the codes whose callers set none.
std::string DefaultReason(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return reason::kInvalidRequest;
    case absl::StatusCode::kUnauthenticated:
      return reason::kApiKeyInvalid;
    case absl::StatusCode::kPermissionDenied:
      return reason::kPracticeNotAllowed;
    case absl::StatusCode::kCancelled:
      return reason::kCancelled;
    default:
      return absl::StatusCodeToString(code);  // "UNAVAILABLE", "INTERNAL", ...
  }
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // No path of the server reaches a client; the log keeps the whole.
  std::string message = WithoutPaths(status.message());
  if (message.size() != status.message().size()) {
    LogInfo("sent without its paths: ", absl::StatusCodeToString(status.code()), ": ",
            status.message().substr(0, kMaxMessage));
  }
  const ErrorDetails details = GetErrorDetails(status);
  message =
      CapMessage(message, details.violations.empty() ? kMaxMessage : kMaxMessageBesideViolations);

  google::rpc::Status rpc;
  rpc.set_code(static_cast<int>(status.code()));
  rpc.set_message(message);
  google::rpc::ErrorInfo info;
  info.set_reason(details.reason.empty() ? DefaultReason(status.code()) : details.reason);
  info.set_domain(kDomain);
  for (const auto& [key, value] : details.metadata) (*info.mutable_metadata())[key] = value;
  rpc.add_details()->PackFrom(info);
  if (details.retry_delay.has_value()) {
    google::rpc::RetryInfo retry;
    const int64_t ms = absl::ToInt64Milliseconds(*details.retry_delay);
    retry.mutable_retry_delay()->set_seconds(ms / 1000);
    retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(ms % 1000) * 1000000);
    rpc.add_details()->PackFrom(retry);
  }
  if (!details.violations.empty()) {
    google::rpc::BadRequest bad;
    size_t size = rpc.ByteSizeLong();
    size_t kept = 0;
    for (const FieldViolation& v : details.violations) {
      google::rpc::BadRequest::FieldViolation out;
      out.set_field(Prefix(WithoutPaths(v.field), 200));
      out.set_description(Prefix(WithoutPaths(v.description), kMaxViolation));
      // Room for this one and the closing "... and N more".
      if (size + out.ByteSizeLong() + 64 > kMaxDetails) break;
      size += out.ByteSizeLong() + 4;
      *bad.add_field_violations() = std::move(out);
      ++kept;
    }
    if (kept < details.violations.size()) {
      google::rpc::BadRequest::FieldViolation* more = bad.add_field_violations();
      more->set_description(
          absl::StrCat("... and ", details.violations.size() - kept, " more not listed here"));
    }
    rpc.add_details()->PackFrom(bad);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      rpc.SerializeAsString());
}

}  // namespace vet::server
