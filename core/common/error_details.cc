// The details as absl::Status payloads, one per kind, in a small text form:
// fields separated by U+001F and records by U+001E (stripped from the
// values, where they never belong).
#include "core/common/error_details.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace vet {
namespace {

constexpr char kReasonUrl[] = "type.vetanalytics/reason";
constexpr char kRetryUrl[] = "type.vetanalytics/retry_delay_ms";
constexpr char kViolationsUrl[] = "type.vetanalytics/violations";
constexpr char kUnit[] = "\x1f";
constexpr char kRecord[] = "\x1e";

std::string Clean(absl::string_view s) {
  return absl::StrReplaceAll(s, {{kUnit, " "}, {kRecord, " "}});
}

}  // namespace

absl::Status WithReason(absl::Status status, absl::string_view reason,
                        const std::map<std::string, std::string>& metadata) {
  if (status.ok()) return status;
  std::string text = Clean(reason);
  for (const auto& [key, value] : metadata) {
    absl::StrAppend(&text, kRecord, Clean(key), kUnit, Clean(value));
  }
  status.SetPayload(kReasonUrl, absl::Cord(text));
  return status;
}

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  if (status.ok()) return status;
  status.SetPayload(
      kRetryUrl,
      absl::Cord(absl::StrCat(absl::ToInt64Milliseconds(std::max(delay, absl::ZeroDuration())))));
  return status;
}

absl::Status WithViolations(absl::Status status, const std::vector<FieldViolation>& violations) {
  if (status.ok() || violations.empty()) return status;
  std::string text;
  if (absl::optional<absl::Cord> old = status.GetPayload(kViolationsUrl)) text = std::string(*old);
  for (const FieldViolation& v : violations) {
    if (!text.empty()) text += kRecord;
    absl::StrAppend(&text, Clean(v.field), kUnit, Clean(v.description));
  }
  status.SetPayload(kViolationsUrl, absl::Cord(text));
  return status;
}

ErrorDetails GetErrorDetails(const absl::Status& status) {
  ErrorDetails details;
  if (absl::optional<absl::Cord> reason = status.GetPayload(kReasonUrl)) {
    std::vector<std::string> parts = absl::StrSplit(std::string(*reason), kRecord);
    details.reason = parts[0];
    for (size_t i = 1; i < parts.size(); ++i) {
      std::pair<std::string, std::string> kv = absl::StrSplit(parts[i], absl::MaxSplits(kUnit, 1));
      details.metadata[kv.first] = kv.second;
    }
  }
  if (absl::optional<absl::Cord> retry = status.GetPayload(kRetryUrl)) {
    int64_t ms = 0;
    if (absl::SimpleAtoi(std::string(*retry), &ms)) details.retry_delay = absl::Milliseconds(ms);
  }
  if (absl::optional<absl::Cord> violations = status.GetPayload(kViolationsUrl)) {
    for (absl::string_view record : absl::StrSplit(std::string(*violations), kRecord)) {
      std::pair<std::string, std::string> fd = absl::StrSplit(record, absl::MaxSplits(kUnit, 1));
      details.violations.push_back({fd.first, fd.second});
    }
  }
  return details;
}

absl::Status Annotate(const absl::Status& status, absl::string_view prefix,
                      absl::string_view suffix) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(prefix, status.message(), suffix));
  status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

}  // namespace vet
