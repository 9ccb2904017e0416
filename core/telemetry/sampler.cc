// The samplers of the OpenTelemetry SDK specification (trace/sdk.md,
// "Built-in samplers").
#include "core/telemetry/sampler.h"

#include <cstdint>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace vet::telemetry {

absl::StatusOr<Sampler> Sampler::Parse(absl::string_view name, absl::string_view arg) {
  std::string n = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
  if (n.empty()) n = "parentbased_always_on";
  double ratio = 1.0;
  arg = absl::StripAsciiWhitespace(arg);
  if (!arg.empty() && (!absl::SimpleAtod(arg, &ratio) || !(ratio >= 0.0 && ratio <= 1.0))) {
    return absl::InvalidArgumentError(absl::StrCat("OTEL_TRACES_SAMPLER_ARG='", arg.substr(0, 40),
                                                   "' is not a ratio between 0 and 1"));
  }
  absl::string_view rest = n;
  const bool parent_based = absl::ConsumePrefix(&rest, "parentbased_");
  Root root;
  if (rest == "always_on") {
    root = Root::kAlwaysOn;
  } else if (rest == "always_off") {
    root = Root::kAlwaysOff;
  } else if (rest == "traceidratio") {
    root = Root::kTraceIdRatio;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("OTEL_TRACES_SAMPLER='", name.substr(0, 40),
                     "' is not always_on, always_off, traceidratio, parentbased_always_on, "
                     "parentbased_always_off or parentbased_traceidratio"));
  }
  return Sampler(root, ratio, parent_based);
}

bool Sampler::ShouldSample(const TraceContext& parent, absl::string_view trace_id) const {
  if (parent_based_ && !parent.parent_id.empty()) return (parent.flags & 1) != 0;
  return RootDecision(trace_id);
}

bool Sampler::RootDecision(absl::string_view trace_id) const {
  switch (root_) {
    case Root::kAlwaysOn:
      return true;
    case Root::kAlwaysOff:
      return false;
    case Root::kTraceIdRatio:
      break;
  }
  if (ratio_ >= 1.0) return true;
  if (ratio_ <= 0.0) return false;
  // The trace id's last 8 bytes as a number below 2^63, compared with the
  // ratio's share of that range.
  uint64_t low = 0;
  if (trace_id.size() != 32 || !absl::SimpleHexAtoi(trace_id.substr(16), &low)) {
    return false;
  }
  low >>= 1;
  const double bound = ratio_ * static_cast<double>(std::numeric_limits<int64_t>::max());
  return static_cast<double>(low) < bound;
}

std::string Sampler::Describe() const {
  const char* root = root_ == Root::kAlwaysOn    ? "always_on"
                     : root_ == Root::kAlwaysOff ? "always_off"
                                                 : "traceidratio";
  return absl::StrCat(parent_based_ ? "parentbased_" : "", root,
                      root_ == Root::kTraceIdRatio ? absl::StrCat("{", ratio_, "}") : "");
}

}  // namespace vet::telemetry
