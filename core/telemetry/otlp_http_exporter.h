// A SpanExporter speaking OTLP/HTTP with the JSON encoding (otlp_json.h):
// one POST of Content-Type application/json to the traces endpoint per
// batch, on libcurl, with a kept-alive connection. opentelemetry-cpp is not
// packaged in Debian 12; this is the part of it the service needs.
#ifndef VET_CORE_TELEMETRY_OTLP_HTTP_EXPORTER_H_
#define VET_CORE_TELEMETRY_OTLP_HTTP_EXPORTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/telemetry/otlp_json.h"
#include "core/telemetry/span_exporter.h"

namespace vet::telemetry {

class OtlpHttpExporter final : public SpanExporter {
 public:
  struct Options {
    // The whole URL spans are posted to: "http://collector:4318/v1/traces".
    std::string endpoint;
    OtlpResource resource;
    // Connecting is limited to this as well as to the export's deadline.
    absl::Duration connect_timeout = absl::Seconds(2);
    // Largest reply body read (a collector answers {} or a partialSuccess).
    size_t max_response_bytes = 64 << 10;
  };

  // kInvalidArgument for an endpoint that is not http(s)://...
  static absl::StatusOr<std::unique_ptr<OtlpHttpExporter>> Create(Options options);
  ~OtlpHttpExporter() override;

  // Not thread-safe (one tracer thread calls it). OK for a 2xx reply;
  // kUnavailable for another status or a connection failure (the message
  // names which), kDeadlineExceeded when `deadline` passed first.
  absl::Status Export(const std::vector<SpanData>& spans, absl::Time deadline) override;

 private:
  explicit OtlpHttpExporter(Options options);
  const Options options_;
  // The curl easy handle, reused so the connection is kept alive.
  void* easy_ = nullptr;
};

}  // namespace vet::telemetry

#endif  // VET_CORE_TELEMETRY_OTLP_HTTP_EXPORTER_H_
