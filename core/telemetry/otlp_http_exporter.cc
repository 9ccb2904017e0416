// One blocking curl transfer per batch on the tracer's own thread: the
// thread does nothing else, so nothing waits on it.
#include "core/telemetry/otlp_http_exporter.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace vet::telemetry {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Reply {
  std::string body;
  size_t max_bytes = 0;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* reply = static_cast<Reply*>(user);
  const size_t n = size * count;
  // The body only explains a failure: keep its start, read the rest away.
  const size_t room = reply->max_bytes - std::min(reply->max_bytes, reply->body.size());
  reply->body.append(data, std::min(n, room));
  return n;
}

}  // namespace

absl::StatusOr<std::unique_ptr<OtlpHttpExporter>> OtlpHttpExporter::Create(Options options) {
  if (!absl::StartsWith(options.endpoint, "http://") &&
      !absl::StartsWith(options.endpoint, "https://")) {
    return absl::InvalidArgumentError(absl::StrCat("the OTLP traces endpoint '",
                                                   options.endpoint.substr(0, 200),
                                                   "' is not an http:// or https:// URL"));
  }
  GlobalInit();
  auto exporter = std::unique_ptr<OtlpHttpExporter>(new OtlpHttpExporter(std::move(options)));
  if (exporter->easy_ == nullptr) {
    return absl::InternalError("the OTLP exporter could not create a curl handle");
  }
  return exporter;
}

OtlpHttpExporter::OtlpHttpExporter(Options options)
    : options_(std::move(options)), easy_(curl_easy_init()) {}

OtlpHttpExporter::~OtlpHttpExporter() {
  if (easy_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(easy_));
}

absl::Status OtlpHttpExporter::Export(const std::vector<SpanData>& spans, absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError("no time left to export spans");
  }
  const std::string body = EncodeExportRequest(options_.resource, spans);
  CURL* easy = static_cast<CURL*>(easy_);
  curl_easy_reset(easy);
  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  // No "Expect: 100-continue" round trip for a large batch.
  headers = curl_slist_append(headers, "Expect:");
  Reply reply;
  reply.max_bytes = options_.max_response_bytes;
  char error[CURL_ERROR_SIZE] = {0};
  // At least a millisecond: curl reads 0 as "no limit".
  const long total_ms = std::max<long>(1, static_cast<long>(absl::ToInt64Milliseconds(left)));
  const long connect_ms = std::min<long>(
      total_ms,
      std::max<long>(1, static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout))));
  curl_easy_setopt(easy, CURLOPT_URL, options_.endpoint.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, total_ms);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "vet-analytics");
  const CURLcode rc = curl_easy_perform(easy);
  long http = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http);
  curl_slist_free_all(headers);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return absl::DeadlineExceededError(
        absl::StrCat("the OTLP receiver at ", options_.endpoint, " did not answer in time"));
  }
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("the OTLP receiver at ", options_.endpoint,
                     " could not be reached: ", error[0] != 0 ? error : curl_easy_strerror(rc)));
  }
  if (http < 200 || http > 299) {
    return absl::UnavailableError(absl::StrCat("the OTLP receiver at ", options_.endpoint,
                                               " answered HTTP ", http, ": ",
                                               reply.body.substr(0, 200)));
  }
  return absl::OkStatus();
}

}  // namespace vet::telemetry
