// Fuzz target: the planner's question parser (core/codegen/question_parser.h)
// on a question alone and as a follow-up to a fixed first question, and the
// plan's serialised form read back.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "core/codegen/question_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view question(reinterpret_cast<const char*>(data), size);
  const absl::CivilDay as_of(2024, 6, 30);
  static const vet::codegen::QueryPlan* const previous = [&] {
    auto plan = vet::codegen::ParseQuestion("revenue by month last year", as_of);
    return plan.ok() ? new vet::codegen::QueryPlan(*plan) : nullptr;
  }();
  auto plan = vet::codegen::ParseQuestion(question, as_of);
  if (plan.ok()) {
    auto back = vet::codegen::DeserializePlan(vet::codegen::SerializePlan(*plan));
    if (!back.ok()) __builtin_trap();  // what SerializePlan writes must read back
  }
  if (previous != nullptr) (void)vet::codegen::ParseQuestion(question, as_of, previous);
  (void)vet::codegen::DeserializePlan(question);
  return 0;
}
