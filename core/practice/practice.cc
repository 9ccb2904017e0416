// PracticeRegistry: parsing the practices file and authorising API keys.
#include "core/practice/practice.h"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/common/error_details.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace vet {
namespace {

std::string JoinPath(absl::string_view a, absl::string_view b) {
  if (a.empty() || absl::StartsWith(b, "/")) return std::string(b);
  return absl::StrCat(a, absl::EndsWith(a, "/") ? "" : "/", b);
}

}  // namespace

absl::Status ValidatePracticeId(absl::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("practice_id is empty");
  if (id.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("practice_id is ", id.size(), " characters; at most 64"));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool ok = absl::ascii_islower(c) || absl::ascii_isdigit(c) || (i > 0 && (c == '-' || c == '_'));
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("practice_id has '", std::string(1, c), "' at position ", i + 1,
                       "; use lower-case letters, digits, '-' and '_', starting with a "
                       "letter or digit"));
    }
  }
  return absl::OkStatus();
}

PracticeRegistry::PracticeRegistry(std::vector<Practice> practices) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->practices = std::move(practices);
  for (size_t i = 0; i < snapshot->practices.size(); ++i) {
    snapshot->by_id.emplace(snapshot->practices[i].id, i);
  }
  snapshot_ = std::move(snapshot);
}

std::shared_ptr<const PracticeRegistry::Snapshot> PracticeRegistry::snapshot() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

std::vector<Practice> PracticeRegistry::practices() const { return snapshot()->practices; }

void PracticeRegistry::Replace(PracticeRegistry& next) {
  std::shared_ptr<const Snapshot> incoming = next.snapshot();
  std::shared_ptr<const Snapshot> outgoing;
  {
    absl::MutexLock lock(&mu_);
    outgoing = std::exchange(snapshot_, std::move(incoming));
  }
  // `outgoing` is released here, outside the lock; if no call holds it, the
  // old practices are freed now, else when the last such call ends.
}

absl::StatusOr<std::unique_ptr<PracticeRegistry>> PracticeRegistry::FromPractices(
    std::vector<Practice> practices) {
  std::map<std::string, int> ids;
  std::map<Sha256Digest, int> keys;
  for (size_t i = 0; i < practices.size(); ++i) {
    Practice& p = practices[i];
    absl::Status id_ok = ValidatePracticeId(p.id);
    if (!id_ok.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("practice #", i + 1, ": ", id_ok.message()));
    }
    if (!ids.emplace(p.id, i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("practice #", i + 1, ": id '", p.id, "' appears twice"));
    }
    const bool has_hash = p.api_key_sha256 != Sha256Digest{};
    if (has_hash == !p.api_key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("practice '", p.id, "': ",
                       has_hash ? "has both api_key and api_key_sha256; keep only api_key_sha256"
                                : "has no key: set api_key_sha256 (`vetctl new-key` prints one)"));
    }
    if (!has_hash) {
      if (p.api_key.size() < 8) {
        return absl::InvalidArgumentError(
            absl::StrCat("practice '", p.id, "': api_key must be at least 8 characters"));
      }
      p.api_key_sha256 = Sha256(p.api_key);
      // Only the hash is kept in memory.
      p.api_key.clear();
    }
    if (!keys.emplace(p.api_key_sha256, i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("practice '", p.id, "': its key is the same as another practice's"));
    }
    if (!absl::LoadTimeZone(p.time_zone_name, &p.time_zone)) {
      return absl::InvalidArgumentError(
          absl::StrCat("practice '", p.id, "': unknown time_zone '", p.time_zone_name,
                       "' (use an IANA name such as Europe/London; is tzdata installed?)"));
    }
    if (p.data_dir.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("practice '", p.id, "': data_dir is empty"));
    }
  }
  return std::unique_ptr<PracticeRegistry>(new PracticeRegistry(std::move(practices)));
}

absl::StatusOr<std::unique_ptr<PracticeRegistry>> PracticeRegistry::FromJson(
    absl::string_view json, absl::string_view base_dir, absl::string_view state_dir) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("practices file is not valid JSON at offset ", doc.GetErrorOffset(), ": ",
                     rapidjson::GetParseError_En(doc.GetParseError())));
  }
  if (!doc.IsObject() || !doc.HasMember("practices") || !doc["practices"].IsArray()) {
    return absl::InvalidArgumentError(
        "practices file must be an object with a \"practices\" array");
  }
  std::vector<Practice> practices;
  const auto& arr = doc["practices"];
  for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
    const auto& e = arr[i];
    std::string where = absl::StrCat("practices[", i, "]");
    if (!e.IsObject()) {
      return absl::InvalidArgumentError(absl::StrCat(where, " is not an object"));
    }
    Practice p;
    auto get_string = [&](const char* field, std::string* out, bool required) -> absl::Status {
      if (!e.HasMember(field)) {
        if (required) {
          return absl::InvalidArgumentError(absl::StrCat(where, ".", field, " is missing"));
        }
        return absl::OkStatus();
      }
      if (!e[field].IsString()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".", field, " must be a string"));
      }
      *out = e[field].GetString();
      return absl::OkStatus();
    };
    for (auto& m : e.GetObject()) {
      static const char* kKnown[] = {"id",
                                     "name",
                                     "api_key",
                                     "api_key_sha256",
                                     "time_zone",
                                     "data_dir",
                                     "budget_limit_usd",
                                     "budget_soft_cap",
                                     "budget_hard_cap",
                                     "budget_period"};
      bool known = false;
      for (const char* k : kKnown) known = known || m.name.GetString() == absl::string_view(k);
      if (!known) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, " has unknown field \"", m.name.GetString(), "\""));
      }
    }
    absl::Status s = get_string("id", &p.id, true);
    if (s.ok()) s = get_string("name", &p.name, false);
    if (s.ok()) s = get_string("api_key", &p.api_key, false);
    std::string key_hex;
    if (s.ok()) s = get_string("api_key_sha256", &key_hex, false);
    if (s.ok()) s = get_string("time_zone", &p.time_zone_name, false);
    if (s.ok()) s = get_string("data_dir", &p.data_dir, false);
    if (s.ok()) s = get_string("budget_period", &p.budget_period, false);
    if (!s.ok()) return s;
    const std::string practice = absl::StrCat(where, " (practice '", p.id, "')");
    if (e.HasMember("api_key") == e.HasMember("api_key_sha256")) {
      return absl::InvalidArgumentError(absl::StrCat(
          practice, e.HasMember("api_key")
                        ? " has both api_key and api_key_sha256; keep only api_key_sha256"
                        : ".api_key_sha256 is missing (`vetctl new-key` prints one)"));
    }
    if (e.HasMember("api_key_sha256")) {
      auto digest = ParseSha256Hex(key_hex);
      if (!digest.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(practice, ".api_key_sha256 ", digest.status().message()));
      }
      p.api_key_sha256 = *digest;
    }
    if (p.name.empty()) p.name = p.id;
    if (p.data_dir.empty()) {
      p.data_root = JoinPath(state_dir, absl::StrCat("practices/", p.id));
      p.data_dir = absl::StrCat(p.data_root, "/data");
    } else {
      p.data_dir = JoinPath(base_dir, p.data_dir);
    }
    if (e.HasMember("budget_limit_usd")) {
      const auto& v = e["budget_limit_usd"];
      if (!v.IsNumber() || v.GetDouble() < 0 || v.GetDouble() > 1e9) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ".budget_limit_usd must be a number between 0 and 1e9"));
      }
      p.budget_limit_micros = static_cast<int64_t>(std::llround(v.GetDouble() * 1e6));
    }
    for (auto [field, out] :
         {std::pair<const char*, double*>{"budget_soft_cap", &p.budget_soft_cap},
          {"budget_hard_cap", &p.budget_hard_cap}}) {
      if (!e.HasMember(field)) continue;
      const auto& v = e[field];
      if (!v.IsNumber() || !(v.GetDouble() > 0) || v.GetDouble() > 10) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ".", field, " must be a fraction of the limit above 0 and at most 10"));
      }
      *out = v.GetDouble();
    }
    if (!p.budget_period.empty() && p.budget_period != "day" && p.budget_period != "month") {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ".budget_period must be \"day\" or \"month\"; got \"", p.budget_period, "\""));
    }
    practices.push_back(std::move(p));
  }
  return FromPractices(std::move(practices));
}

absl::StatusOr<std::unique_ptr<PracticeRegistry>> PracticeRegistry::FromFile(
    const std::string& path, absl::string_view state_dir) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read practices file ", path));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string dir =
      path.find('/') == std::string::npos ? std::string(".") : path.substr(0, path.rfind('/'));
  auto registry = FromJson(buf.str(), dir, state_dir);
  if (!registry.ok()) {
    return absl::Status(registry.status().code(),
                        absl::StrCat(path, ": ", registry.status().message()));
  }
  return registry;
}

absl::StatusOr<std::shared_ptr<const Practice>> PracticeRegistry::Find(absl::string_view id) const {
  std::shared_ptr<const Snapshot> snapshot = this->snapshot();
  auto it = snapshot->by_id.find(id);
  if (it == snapshot->by_id.end()) {
    return absl::NotFoundError(absl::StrCat("no practice with id '", id, "'"));
  }
  // Shares the snapshot's ownership: the practice lives as long as the handle.
  const Practice* practice = &snapshot->practices[it->second];
  return std::shared_ptr<const Practice>(snapshot, practice);
}

absl::StatusOr<std::shared_ptr<const Practice>> PracticeRegistry::Authorize(
    absl::string_view practice_id, absl::string_view api_key) const {
  if (api_key.empty()) {
    return WithReason(absl::UnauthenticatedError(
                          "no API key: send the practice's key in the x-api-key metadata header"),
                      reason::kApiKeyInvalid);
  }
  std::shared_ptr<const Snapshot> snapshot = this->snapshot();
  const Sha256Digest presented = Sha256(api_key);
  const Practice* owner = nullptr;
  for (const Practice& p : snapshot->practices) {
    // Compare against every key so the time taken does not depend on which.
    if (DigestsEqual(p.api_key_sha256, presented)) owner = &p;
  }
  if (owner == nullptr) {
    return WithReason(absl::UnauthenticatedError("the API key is not valid for any practice"),
                      reason::kApiKeyInvalid);
  }
  // One answer whether `practice_id` is another practice or none, so that a
  // key cannot be used to learn which practices exist.
  if (owner->id != practice_id) {
    return WithReason(absl::PermissionDeniedError(absl::StrCat(
                          "the API key is not valid for practice '", practice_id, "'")),
                      reason::kPracticeNotAllowed);
  }
  return std::shared_ptr<const Practice>(snapshot, owner);
}

}  // namespace vet
