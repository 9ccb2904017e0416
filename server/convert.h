// Conversions from core's plain structs to vetanalytics.v1 messages.
#ifndef VET_SERVER_CONVERT_H_
#define VET_SERVER_CONVERT_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/audit/audit_store.h"
#include "core/budget/budget_guard.h"
#include "core/data/dataset.h"
#include "core/pipeline/events.h"
#include "core/session/session_store.h"
#include "google/protobuf/timestamp.pb.h"
#include "vetanalytics/v1/analytics.pb.h"

namespace vet::server {

void ToProto(absl::Time time, google::protobuf::Timestamp* out);
// A request's timestamp. kInvalidArgument naming `field` when it is not a
// valid google.protobuf.Timestamp (seconds within 0001-01-01..9999-12-31,
// nanos within 0..999,999,999).
absl::StatusOr<absl::Time> FromProto(const google::protobuf::Timestamp& ts,
                                     absl::string_view field);
void ToProto(const audit::AuditEntry& entry, vetanalytics::v1::AuditEntry* out);
// The result is at most kMaxAskEventBytes (BoundAskEvent in event_bound.h).
void ToProto(const pipeline::AskEvent& event, vetanalytics::v1::AskEvent* out);
void ToProto(const ResultValue& result, vetanalytics::v1::Result* out);
void ToProto(const Explanation& explanation, vetanalytics::v1::Explanation* out);
void ToProto(const budget::BudgetState& state, vetanalytics::v1::Budget* out);
void ToProto(const data::DatasetDescription& dataset, vetanalytics::v1::DatasetDescription* out);
// With turns unless `summary_only`.
void ToProto(const session::SessionRecord& record, bool summary_only,
             vetanalytics::v1::Session* out);

}  // namespace vet::server

#endif  // VET_SERVER_CONVERT_H_
