// Reading the google.rpc.Status details a server error carries, for tests
// that check what a program would act on: the reason, the retry delay, the
// field violations.
#ifndef VET_TESTS_TESTING_ERROR_DETAILS_H_
#define VET_TESTS_TESTING_ERROR_DETAILS_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/status.h"

namespace vet::testing {

struct ReceivedDetails {
  bool parsed = false;
  std::string reason;
  std::string domain;
  std::map<std::string, std::string> metadata;
  double retry_seconds = -1;                                    // -1: no RetryInfo
  std::vector<std::pair<std::string, std::string>> violations;  // field, description
};

inline ReceivedDetails DetailsOf(const grpc::Status& status) {
  ReceivedDetails out;
  google::rpc::Status rpc;
  if (status.error_details().empty() || !rpc.ParseFromString(status.error_details())) return out;
  out.parsed = rpc.code() == static_cast<int>(status.error_code()) &&
               rpc.message() == status.error_message();
  for (const google::protobuf::Any& any : rpc.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::RetryInfo retry;
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&info)) {
      out.reason = info.reason();
      out.domain = info.domain();
      out.metadata.insert(info.metadata().begin(), info.metadata().end());
    } else if (any.UnpackTo(&retry)) {
      out.retry_seconds = retry.retry_delay().seconds() + retry.retry_delay().nanos() / 1e9;
    } else if (any.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) {
        out.violations.emplace_back(v.field(), v.description());
      }
    }
  }
  return out;
}

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_ERROR_DETAILS_H_
