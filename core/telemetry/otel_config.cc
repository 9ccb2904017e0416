// The variables' names and defaults are OpenTelemetry's
// (specification/configuration/sdk-environment-variables.md), except the
// schedule delay: 2 s rather than 5 s, so a question's spans reach the
// collector while someone is still looking at it.
#include "core/telemetry/otel_config.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/telemetry/otlp_http_exporter.h"

namespace vet::telemetry {
namespace {

// A positive integer variable, or kInvalidArgument.
absl::Status ReadPositive(const EnvLookup& lookup, const char* name, int64_t max, int64_t* out) {
  absl::optional<std::string> v = lookup(name);
  if (!v.has_value() || absl::StripAsciiWhitespace(*v).empty()) return absl::OkStatus();
  int64_t n = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*v), &n) || n <= 0 || n > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, "='", v->substr(0, 40), "' is not an integer from 1 to ", max));
  }
  *out = n;
  return absl::OkStatus();
}

std::string Value(const EnvLookup& lookup, const char* name) {
  absl::optional<std::string> v = lookup(name);
  return v.has_value() ? std::string(absl::StripAsciiWhitespace(*v)) : std::string();
}

}  // namespace

absl::StatusOr<TracingOptions> TracingOptionsFromEnv(const EnvLookup& lookup) {
  TracingOptions options;
  if (std::string name = Value(lookup, "OTEL_SERVICE_NAME"); !name.empty()) {
    options.service_name = name;
  }
  auto sampler = Sampler::Parse(Value(lookup, "OTEL_TRACES_SAMPLER"),
                                Value(lookup, "OTEL_TRACES_SAMPLER_ARG"));
  if (!sampler.ok()) return sampler.status();
  options.sampler = *sampler;
  for (const char* name : {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"}) {
    const std::string protocol = Value(lookup, name);
    if (!protocol.empty() && protocol != "http/json") {
      return absl::InvalidArgumentError(
          absl::StrCat(name, "='", protocol.substr(0, 40),
                       "' is not supported: this server exports OTLP over http/json only"));
    }
  }
  int64_t n = static_cast<int64_t>(options.max_queue);
  if (auto s = ReadPositive(lookup, "OTEL_BSP_MAX_QUEUE_SIZE", 1 << 20, &n); !s.ok()) return s;
  options.max_queue = static_cast<size_t>(n);
  n = static_cast<int64_t>(options.max_batch);
  if (auto s = ReadPositive(lookup, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 1 << 20, &n); !s.ok()) {
    return s;
  }
  options.max_batch = static_cast<size_t>(n);
  n = absl::ToInt64Milliseconds(options.schedule_delay);
  if (auto s = ReadPositive(lookup, "OTEL_BSP_SCHEDULE_DELAY", 3600000, &n); !s.ok()) return s;
  options.schedule_delay = absl::Milliseconds(n);
  n = absl::ToInt64Milliseconds(options.export_timeout);
  if (auto s = ReadPositive(lookup, "OTEL_EXPORTER_OTLP_TIMEOUT", 600000, &n); !s.ok()) return s;
  options.export_timeout = absl::Milliseconds(n);

  const std::string exporter = absl::AsciiStrToLower(Value(lookup, "OTEL_TRACES_EXPORTER"));
  if (!exporter.empty() && exporter != "otlp" && exporter != "none") {
    return absl::InvalidArgumentError(
        absl::StrCat("OTEL_TRACES_EXPORTER='", exporter.substr(0, 40), "' is not otlp or none"));
  }
  const std::string disabled = absl::AsciiStrToLower(Value(lookup, "OTEL_SDK_DISABLED"));
  if (exporter == "none" || disabled == "true") return options;

  if (std::string traces = Value(lookup, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); !traces.empty()) {
    options.endpoint = traces;
  } else if (std::string base = Value(lookup, "OTEL_EXPORTER_OTLP_ENDPOINT"); !base.empty()) {
    absl::string_view trimmed = base;
    while (absl::ConsumeSuffix(&trimmed, "/")) {
    }
    options.endpoint = absl::StrCat(trimmed, "/v1/traces");
  }
  return options;
}

absl::StatusOr<std::unique_ptr<BatchTracer>> MakeTracer(
    const TracingOptions& options, const std::string& service_version, const Clock& clock,
    std::function<void(absl::string_view reason, int64_t spans)> on_dropped) {
  if (options.endpoint.empty()) return std::unique_ptr<BatchTracer>();
  OtlpHttpExporter::Options exporter_options;
  exporter_options.endpoint = options.endpoint;
  exporter_options.resource.service_name = options.service_name;
  exporter_options.resource.service_version = service_version;
  auto exporter = OtlpHttpExporter::Create(std::move(exporter_options));
  if (!exporter.ok()) return exporter.status();
  BatchTracer::Options tracer_options;
  tracer_options.sampler = options.sampler;
  tracer_options.max_queue = options.max_queue;
  tracer_options.max_batch = options.max_batch;
  tracer_options.schedule_delay = options.schedule_delay;
  tracer_options.export_timeout = options.export_timeout;
  tracer_options.on_dropped = std::move(on_dropped);
  return std::make_unique<BatchTracer>(std::move(tracer_options), *std::move(exporter), clock);
}

}  // namespace vet::telemetry
