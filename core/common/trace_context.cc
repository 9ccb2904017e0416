// traceparent parsing and formatting, by the spec's grammar.
#include "core/common/trace_context.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vet {
namespace {

bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool AllZero(absl::string_view s) { return s.find_first_not_of('0') == absl::string_view::npos; }

int HexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

}  // namespace

absl::optional<TraceContext> ParseTraceparent(absl::string_view header) {
  // 2 + 1 + 32 + 1 + 16 + 1 + 2 characters in version 00.
  constexpr size_t kSize = 55;
  if (header.size() < kSize) return absl::nullopt;
  const absl::string_view version = header.substr(0, 2);
  if (!IsLowerHex(version) || version == "ff") return absl::nullopt;
  // Version 00 is exactly its four fields; a later version may add fields
  // after another '-', which are ignored (the spec's forward compatibility).
  if (version == "00" ? header.size() != kSize : header.size() > kSize && header[kSize] != '-') {
    return absl::nullopt;
  }
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') return absl::nullopt;
  const absl::string_view trace_id = header.substr(3, 32);
  const absl::string_view parent_id = header.substr(36, 16);
  const absl::string_view flags = header.substr(53, 2);
  if (!IsLowerHex(trace_id) || !IsLowerHex(parent_id) || !IsLowerHex(flags)) {
    return absl::nullopt;
  }
  if (AllZero(trace_id) || AllZero(parent_id)) return absl::nullopt;
  TraceContext context;
  context.trace_id = std::string(trace_id);
  context.parent_id = std::string(parent_id);
  context.flags = static_cast<uint8_t>(HexValue(flags[0]) * 16 + HexValue(flags[1]));
  return context;
}

std::string FormatTraceparent(const TraceContext& context) {
  return absl::StrFormat("00-%s-%s-%02x", context.trace_id, context.parent_id, context.flags);
}

}  // namespace vet
