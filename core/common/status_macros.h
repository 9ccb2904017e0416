// Status propagation macros for absl::Status / absl::StatusOr. Prefixed with
// VET_ because protobuf 3.21 already defines the unprefixed names.
#ifndef VET_CORE_COMMON_STATUS_MACROS_H_
#define VET_CORE_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define VET_STATUS_CONCAT_INNER_(a, b) a##b
#define VET_STATUS_CONCAT_(a, b) VET_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if it is not OK.
#define VET_RETURN_IF_ERROR(expr)              \
  do {                                         \
    const ::absl::Status vet_status_ = (expr); \
    if (!vet_status_.ok()) return vet_status_; \
  } while (0)

// VET_ASSIGN_OR_RETURN(auto x, FunctionReturningStatusOr());
#define VET_ASSIGN_OR_RETURN(lhs, rexpr) \
  VET_ASSIGN_OR_RETURN_IMPL_(VET_STATUS_CONCAT_(vet_statusor_, __LINE__), lhs, rexpr)

#define VET_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  if (!statusor.ok()) return statusor.status();          \
  lhs = std::move(statusor).value()

#endif  // VET_CORE_COMMON_STATUS_MACROS_H_
