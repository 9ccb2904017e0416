// Parsing the pricing file and the cost arithmetic.
#include "core/budget/pricing.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace vet::budget {
namespace internal {
absl::string_view DefaultPricingJson();
}  // namespace internal

namespace {

constexpr double kMaxUsdPerMtok = 10000;

absl::Status Invalid(absl::string_view source, absl::string_view where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("pricing file ", source, ": ", where, " ", what));
}

}  // namespace

absl::string_view PricingTable::DefaultJson() { return internal::DefaultPricingJson(); }

const PricingTable& PricingTable::Default() {
  static const PricingTable* const kDefault = [] {
    auto table = Parse(DefaultJson(), "(built in)");
    // The built-in file is checked by the tests; a broken one is a build bug.
    if (!table.ok()) std::abort();
    return new PricingTable(*std::move(table));
  }();
  return *kDefault;
}

absl::StatusOr<PricingTable> PricingTable::Parse(absl::string_view json, absl::string_view source) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("pricing file ", source, " is not valid JSON at offset ", doc.GetErrorOffset(),
                     ": ", rapidjson::GetParseError_En(doc.GetParseError())));
  }
  if (!doc.IsObject()) return Invalid(source, "the top level", "must be an object");
  PricingTable table;
  table.source_ = std::string(source);
  for (const auto& member : doc.GetObject()) {
    absl::string_view name(member.name.GetString(), member.name.GetStringLength());
    if (name != "models" && name != "downgrade" && name != "_comment") {
      return Invalid(source, absl::StrCat("field \"", name, "\""),
                     "is unknown (expected \"models\" and \"downgrade\")");
    }
  }
  if (!doc.HasMember("models") || !doc["models"].IsObject() || doc["models"].MemberCount() == 0) {
    return Invalid(source, "\"models\"", "must be an object with at least one model");
  }
  for (const auto& m : doc["models"].GetObject()) {
    const std::string model(m.name.GetString(), m.name.GetStringLength());
    const std::string where = absl::StrCat("models.\"", model, "\"");
    if (model.empty()) return Invalid(source, "models", "has an empty model name");
    if (!m.value.IsObject()) {
      return Invalid(source, where, "must be an object {\"input\": ..., \"output\": ...}");
    }
    ModelPrice price;
    bool has_cached = false;
    for (const auto& f : m.value.GetObject()) {
      absl::string_view field(f.name.GetString(), f.name.GetStringLength());
      int64_t* out = field == "input"          ? &price.input
                     : field == "cached_input" ? &price.cached_input
                     : field == "output"       ? &price.output
                                               : nullptr;
      if (out == nullptr) {
        return Invalid(source, absl::StrCat(where, ".", field),
                       "is unknown (expected input, cached_input, output)");
      }
      if (!f.value.IsNumber() || !(f.value.GetDouble() >= 0) ||
          f.value.GetDouble() > kMaxUsdPerMtok) {
        return Invalid(source, absl::StrCat(where, ".", field),
                       "must be a number of USD per million tokens from 0 to 10000");
      }
      *out = std::llround(f.value.GetDouble() * 1e6);
      has_cached = has_cached || field == "cached_input";
    }
    if (!m.value.HasMember("input") || !m.value.HasMember("output")) {
      return Invalid(source, where, "needs both \"input\" and \"output\" prices");
    }
    if (!has_cached) price.cached_input = price.input;
    table.models_.emplace(model, price);
  }
  if (doc.HasMember("downgrade")) {
    const auto& rules = doc["downgrade"];
    if (!rules.IsArray()) return Invalid(source, "\"downgrade\"", "must be an array of rules");
    std::set<std::string> seen;
    for (rapidjson::SizeType i = 0; i < rules.Size(); ++i) {
      const std::string where = absl::StrCat("downgrade[", i, "]");
      const auto& r = rules[i];
      if (!r.IsObject() || !r.HasMember("from") || !r.HasMember("to") || !r["from"].IsArray() ||
          !r["to"].IsString() || r.MemberCount() != 2) {
        return Invalid(source, where,
                       "must be {\"from\": [models], \"to\": model} and nothing else");
      }
      DowngradeRule rule;
      rule.to = r["to"].GetString();
      if (table.Find(rule.to) == nullptr) {
        return Invalid(source, absl::StrCat(where, ".to"),
                       absl::StrCat("names \"", rule.to, "\", which has no price in \"models\""));
      }
      for (const auto& from : r["from"].GetArray()) {
        if (!from.IsString())
          return Invalid(source, absl::StrCat(where, ".from"), "must hold model names");
        std::string model = from.GetString();
        if (model == rule.to) {
          return Invalid(source, absl::StrCat(where, ".from"),
                         absl::StrCat("downgrades \"", model, "\" to itself"));
        }
        if (!seen.insert(model).second) {
          return Invalid(
              source, absl::StrCat(where, ".from"),
              absl::StrCat("names \"", model, "\", which an earlier rule already names"));
        }
        rule.from.push_back(std::move(model));
      }
      table.downgrades_.push_back(std::move(rule));
    }
  }
  return table;
}

absl::StatusOr<PricingTable> PricingTable::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read pricing file ", path));
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

const ModelPrice* PricingTable::Find(absl::string_view model) const {
  auto it = models_.find(model);
  return it == models_.end() ? nullptr : &it->second;
}

absl::Status PricingTable::Require(absl::string_view model) const {
  if (Find(model) != nullptr) return absl::OkStatus();
  std::vector<std::string> known;
  for (const auto& [name, price] : models_) known.push_back(name);
  return absl::InvalidArgumentError(
      absl::StrCat("model '", model, "' has no price in the pricing file ", source_,
                   ", so its spend could not be counted. Add it to a pricing file (--pricing_file, "
                   "VET_PRICING_FILE; use 0 for a free local model). Priced models: ",
                   absl::StrJoin(known, ", ")));
}

int64_t PricingTable::CostMicros(absl::string_view model, int64_t prompt, int64_t cached,
                                 int64_t completion) const {
  ModelPrice price;
  if (const ModelPrice* p = Find(model)) {
    price = *p;
  } else {
    for (const auto& [name, p] : models_) {
      price.input = std::max(price.input, p.input);
      price.cached_input = std::max(price.cached_input, p.cached_input);
      price.output = std::max(price.output, p.output);
    }
  }
  prompt = std::max<int64_t>(0, prompt);
  cached = std::clamp<int64_t>(cached, 0, prompt);
  completion = std::max<int64_t>(0, completion);
  // Rounded up per part: the ledger never under-counts.
  auto micros = [](int64_t tokens, int64_t per_mtok) {
    return (tokens * per_mtok + 999'999) / 1'000'000;
  };
  return micros(prompt - cached, price.input) + micros(cached, price.cached_input) +
         micros(completion, price.output);
}

std::string PricingTable::DowngradeAtSoftCap(absl::string_view model) const {
  for (const DowngradeRule& rule : downgrades_) {
    if (std::find(rule.from.begin(), rule.from.end(), model) != rule.from.end()) return rule.to;
  }
  return "";
}

int64_t SandboxCostMicros(absl::Duration elapsed, int64_t micros_per_second) {
  if (micros_per_second <= 0 || elapsed <= absl::ZeroDuration()) return 0;
  const int64_t us = absl::ToInt64Microseconds(elapsed);
  // micros_per_second * us / 1e6, rounded up, without overflow for any
  // realistic rate (a rate of $1000/s over a day fits easily).
  return (micros_per_second * us + 999'999) / 1'000'000;
}

}  // namespace vet::budget
