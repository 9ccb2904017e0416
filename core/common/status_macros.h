// Status propagation macros for absl::Status / absl::StatusOr. Prefixed with
// VET_ because protobuf 3.21 already defines the unprefixed names.
#ifndef VET_CORE_COMMON_STATUS_MACROS_H_
#define VET_CORE_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define VET_STATUS_CONCAT_INNER_(a, b) a##b
#define VET_STATUS_CONCAT_(a, b) VET_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function if it is not OK. The local
// is not const, so the return moves it rather than copying.
#define VET_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status vet_status_ = (expr);       \
    if (!vet_status_.ok()) return vet_status_; \
  } while (0)

// VET_ASSIGN_OR_RETURN(auto x, FunctionReturningStatusOr());
#define VET_ASSIGN_OR_RETURN(lhs, rexpr) VET_ASSIGN_OR_RETURN_IMPL_(__LINE__, lhs, rexpr)

// The StatusOr local is named for the line (`line` is __LINE__, expanded),
// so two uses in one scope do not collide. No parentheses around `lhs`: it
// is a declaration (`auto x`), which they would break.
#define VET_STATUSOR_(line) VET_STATUS_CONCAT_(vet_statusor_, line)
#define VET_ASSIGN_OR_RETURN_IMPL_(line, lhs, rexpr)                             \
  auto VET_STATUSOR_(line) = (rexpr);                                            \
  if (!VET_STATUSOR_(line).ok()) return std::move(VET_STATUSOR_(line)).status(); \
  lhs = std::move(VET_STATUSOR_(line)).value()  // NOLINT(bugprone-macro-parentheses): a declaration

#endif  // VET_CORE_COMMON_STATUS_MACROS_H_
