// Which spans are recorded: OpenTelemetry's built-in samplers, chosen by
// OTEL_TRACES_SAMPLER (always_on, always_off, traceidratio,
// parentbased_always_on, parentbased_always_off, parentbased_traceidratio)
// with OTEL_TRACES_SAMPLER_ARG the ratio.
#ifndef VET_CORE_TELEMETRY_SAMPLER_H_
#define VET_CORE_TELEMETRY_SAMPLER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/common/trace_context.h"

namespace vet::telemetry {

// A value type; thread-safe to share.
class Sampler {
 public:
  enum class Root { kAlwaysOn, kAlwaysOff, kTraceIdRatio };

  // always_on.
  Sampler() = default;
  Sampler(Root root, double ratio, bool parent_based)
      : root_(root), ratio_(ratio), parent_based_(parent_based) {}

  // From OTEL_TRACES_SAMPLER's value ("" is the default,
  // parentbased_always_on) and OTEL_TRACES_SAMPLER_ARG's ("" is 1.0).
  // kInvalidArgument for an unknown sampler or a ratio outside [0, 1].
  static absl::StatusOr<Sampler> Parse(absl::string_view name, absl::string_view arg);

  // Whether a span of trace `trace_id` whose parent is `parent` is
  // recorded. Parent-based samplers follow the parent's sampled flag when
  // there is a parent (parent.parent_id non-empty), and the root sampler
  // otherwise. traceidratio is deterministic in the trace id (its last 16
  // hex digits, as OpenTelemetry's SDKs read them), so every span of a
  // trace gets the same answer.
  bool ShouldSample(const TraceContext& parent, absl::string_view trace_id) const;

  // "parentbased_traceidratio{0.25}" and the like, for the start-up log.
  std::string Describe() const;

 private:
  bool RootDecision(absl::string_view trace_id) const;

  Root root_ = Root::kAlwaysOn;
  double ratio_ = 1.0;
  bool parent_based_ = false;
};

}  // namespace vet::telemetry

#endif  // VET_CORE_TELEMETRY_SAMPLER_H_
