// Tracing settings from OpenTelemetry's standard environment variables, and
// the tracer they make. Tracing is off (a null tracer: no queue, no thread,
// no connection) unless an endpoint is set.
//
//   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  the traces URL, used as given
//   OTEL_EXPORTER_OTLP_ENDPOINT         the collector's base URL; "/v1/traces"
//                                       is appended
//   OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL
//                                       unset or http/json (the only one)
//   OTEL_EXPORTER_OTLP_TIMEOUT          one export's limit, ms (10000)
//   OTEL_SERVICE_NAME                   service.name (vet-analytics)
//   OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG   sampler.h
//   OTEL_TRACES_EXPORTER                otlp (default) or none (off)
//   OTEL_SDK_DISABLED                   true turns tracing off
//   OTEL_BSP_SCHEDULE_DELAY (ms, 2000), OTEL_BSP_MAX_QUEUE_SIZE (2048),
//   OTEL_BSP_MAX_EXPORT_BATCH_SIZE (512)           batch_tracer.h
#ifndef VET_CORE_TELEMETRY_OTEL_CONFIG_H_
#define VET_CORE_TELEMETRY_OTEL_CONFIG_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/optional.h"
#include "core/common/clock.h"
#include "core/telemetry/batch_tracer.h"
#include "core/telemetry/sampler.h"

namespace vet::telemetry {

struct TracingOptions {
  // The whole traces URL; empty: tracing off.
  std::string endpoint;
  std::string service_name = "vet-analytics";
  // The spec's default.
  Sampler sampler = Sampler(Sampler::Root::kAlwaysOn, 1.0, /*parent_based=*/true);
  size_t max_queue = 2048;
  size_t max_batch = 512;
  absl::Duration schedule_delay = absl::Seconds(2);
  absl::Duration export_timeout = absl::Seconds(10);
};

// A variable's value, nullopt when it is not set (the environment, then a
// .env file, in the server).
using EnvLookup = std::function<absl::optional<std::string>(const char* name)>;

// kInvalidArgument naming the variable whose value is wrong.
absl::StatusOr<TracingOptions> TracingOptionsFromEnv(const EnvLookup& lookup);

// The tracer `options` ask for: nullptr when tracing is off (callers use
// NullTracer()), else a BatchTracer exporting over OTLP/HTTP JSON with
// `service_version` in its resource. `clock` must outlive it.
// kInvalidArgument for an endpoint that is not an http(s) URL.
absl::StatusOr<std::unique_ptr<BatchTracer>> MakeTracer(
    const TracingOptions& options, const std::string& service_version, const Clock& clock,
    std::function<void(absl::string_view reason, int64_t spans)> on_dropped);

}  // namespace vet::telemetry

#endif  // VET_CORE_TELEMETRY_OTEL_CONFIG_H_
