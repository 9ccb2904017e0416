// What model calls and sandbox time cost, and which cheaper model answers
// once a practice passes its soft cap. Loaded from a JSON pricing file
// (pricing/default_pricing.json is built in):
//   {"models": {"gpt-5.2-mini": {"input": 0.25, "cached_input": 0.025,
//                                "output": 2.00}, ...},
//    "downgrade": [{"from": ["gpt-5.2"], "to": "gpt-5.2-mini"}]}
// Prices are USD per million tokens and are held as integer micro-dollars
// per million tokens; a cost is rounded up per part, so the ledger never
// under-counts. "cached_input" may be left out (then it is "input").
#ifndef VET_CORE_BUDGET_PRICING_H_
#define VET_CORE_BUDGET_PRICING_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace vet::budget {

struct ModelPrice {
  // Micro-dollars per million tokens.
  int64_t input = 0;
  int64_t cached_input = 0;
  int64_t output = 0;
};

struct DowngradeRule {
  std::vector<std::string> from;
  std::string to;
};

// Immutable after loading, so thread-safe.
class PricingTable {
 public:
  // The built-in defaults.
  static const PricingTable& Default();
  static absl::string_view DefaultJson();

  // Parses a pricing file's text. `source` names it in errors, which say
  // which entry and field is wrong (kInvalidArgument): a price that is not
  // a number from 0 to 10000, an unknown field, a rule whose target has no
  // price or that lists a model twice.
  static absl::StatusOr<PricingTable> Parse(absl::string_view json, absl::string_view source);
  // Reads and parses `path`; kNotFound when it cannot be read.
  static absl::StatusOr<PricingTable> FromFile(const std::string& path);

  // Nullptr for a model without a price.
  const ModelPrice* Find(absl::string_view model) const;

  // OK, or kInvalidArgument saying that `model` has no price in the table
  // (so its spend cannot be counted) and how to add one.
  absl::Status Require(absl::string_view model) const;

  // Micro-dollars for one call; `cached` is the part of `prompt` billed at
  // the cached rate. Unknown models are refused by Require at start-up;
  // here they cost the most expensive price of the table, never nothing.
  int64_t CostMicros(absl::string_view model, int64_t prompt, int64_t cached,
                     int64_t completion) const;

  // The model to use instead of `model` once the soft cap is reached, or
  // "" when no rule names it.
  std::string DowngradeAtSoftCap(absl::string_view model) const;

  const std::string& source() const { return source_; }
  const std::map<std::string, ModelPrice, std::less<>>& models() const { return models_; }
  const std::vector<DowngradeRule>& downgrades() const { return downgrades_; }

 private:
  std::string source_;
  std::map<std::string, ModelPrice, std::less<>> models_;
  std::vector<DowngradeRule> downgrades_;
};

// Micro-dollars for `elapsed` of sandbox time at `micros_per_second`,
// rounded up to the micro-dollar.
int64_t SandboxCostMicros(absl::Duration elapsed, int64_t micros_per_second);

}  // namespace vet::budget

#endif  // VET_CORE_BUDGET_PRICING_H_
