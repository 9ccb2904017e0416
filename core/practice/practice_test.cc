#include "core/practice/practice.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/sha256.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace vet {
namespace {

using ::testing::HasSubstr;
using ::vet::testing::IsOk;
using ::vet::testing::StatusIs;

constexpr char kTwoPractices[] = R"({"practices": [
  {"id": "north", "name": "North Vets", "api_key": "north-key-123",
   "time_zone": "Europe/London", "budget_limit_usd": 25.5},
  {"id": "south", "api_key": "south-key-456", "data_dir": "/srv/south"}]})";

TEST(PracticeIdTest, AcceptsLowerCaseIdsAndNamesTheBadCharacter) {
  EXPECT_THAT(ValidatePracticeId("demo"), IsOk());
  EXPECT_THAT(ValidatePracticeId("clinic-7_b"), IsOk());
  EXPECT_THAT(ValidatePracticeId(""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(ValidatePracticeId("Demo"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'D' at position 1")));
  EXPECT_THAT(ValidatePracticeId("-x"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidatePracticeId(std::string(65, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 64")));
}

TEST(PracticeRegistryTest, ParsesFileWithDefaults) {
  auto registry = PracticeRegistry::FromJson(kTwoPractices, "/etc/vet", "/var/lib/vet");
  ASSERT_THAT(registry, IsOk());
  auto north = (*registry)->Find("north");
  ASSERT_THAT(north, IsOk());
  EXPECT_EQ((*north)->name, "North Vets");
  EXPECT_EQ((*north)->data_dir, "/var/lib/vet/practices/north/data");
  EXPECT_EQ((*north)->data_root, "/var/lib/vet/practices/north");
  EXPECT_EQ((*north)->budget_limit_micros, 25500000);
  EXPECT_EQ((*north)->time_zone_name, "Europe/London");
  auto south = (*registry)->Find("south");
  ASSERT_THAT(south, IsOk());
  EXPECT_EQ((*south)->name, "south");
  EXPECT_EQ((*south)->data_dir, "/srv/south");
  EXPECT_TRUE((*south)->data_root.empty()) << "an operator's folder is not imported into";
  EXPECT_EQ((*south)->budget_limit_micros, -1);
}

TEST(PracticeRegistryTest, RejectsMalformedFilesNamingTheEntry) {
  EXPECT_THAT(PracticeRegistry::FromJson("{", "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not valid JSON")));
  EXPECT_THAT(PracticeRegistry::FromJson(R"({"practices": [{"id": "a"}]})", "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("practices[0] (practice 'a').api_key_sha256 is missing")));
  EXPECT_THAT(PracticeRegistry::FromJson(
                  R"({"practices": [{"id": "a", "api_key": "12345678", "tz": "x"}]})", "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown field \"tz\"")));
  EXPECT_THAT(
      PracticeRegistry::FromJson(
          R"({"practices": [{"id": "a", "api_key": "12345678", "time_zone": "Mars/Base"}]})", "",
          "/s"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Mars/Base")));
  EXPECT_THAT(PracticeRegistry::FromJson(
                  R"({"practices": [{"id": "a", "api_key": "12345678"},
                                    {"id": "a", "api_key": "87654321"}]})",
                  "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("appears twice")));
  EXPECT_THAT(PracticeRegistry::FromJson(
                  R"({"practices": [{"id": "a", "api_key": "12345678"},
                                    {"id": "b", "api_key": "12345678"}]})",
                  "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("same as another")));
  EXPECT_THAT(PracticeRegistry::FromJson(
                  R"({"practices": [{"id": "a", "api_key": "12345678"},
                                    {"id": "b", "api_key_sha256":
                    "ef797c8118f02dfb649607dd5d3f8c7623048c9c063d532cc95c5ed7a898a64f"}]})",
                  "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("practice 'b': its key is the same as another")))
      << "a hashed key that another practice has in clear is still a duplicate";
  EXPECT_THAT(
      PracticeRegistry::FromJson(R"({"practices": [{"id": "a", "api_key": "short"}]})", "", "/s"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least 8")));
}

TEST(PracticeRegistryTest, ReadsBudgetOverridesAndRejectsBadOnesNamingTheField) {
  auto registry = PracticeRegistry::FromJson(
      R"({"practices": [{"id": "a", "api_key": "12345678", "budget_limit_usd": 3,
                         "budget_soft_cap": 0.5, "budget_hard_cap": 1.2,
                         "budget_period": "day"}]})",
      "", "/s");
  ASSERT_THAT(registry, IsOk());
  // practices() returns a copy: keep it, not a reference into the temporary.
  const std::vector<Practice> practices = (*registry)->practices();
  const Practice& a = practices[0];
  EXPECT_EQ(a.budget_limit_micros, 3'000'000);
  EXPECT_DOUBLE_EQ(a.budget_soft_cap, 0.5);
  EXPECT_DOUBLE_EQ(a.budget_hard_cap, 1.2);
  EXPECT_EQ(a.budget_period, "day");
  EXPECT_THAT(PracticeRegistry::FromJson(
                  R"({"practices": [{"id": "a", "api_key": "12345678", "budget_period": "week"}]})",
                  "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("practices[0].budget_period must be \"day\" or \"month\"")));
  EXPECT_THAT(
      PracticeRegistry::FromJson(
          R"({"practices": [{"id": "a", "api_key": "12345678", "budget_soft_cap": 0}]})", "", "/s"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("practices[0].budget_soft_cap must be a fraction")));
  EXPECT_THAT(PracticeRegistry::FromJson(
                  R"({"practices": [{"id": "a", "api_key": "12345678", "budget_hard_cap": "1"}]})",
                  "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("practices[0].budget_hard_cap must be a fraction")));
}

TEST(PracticeRegistryTest, AuthorizeAnswersForeignAndUnknownPracticesAlike) {
  auto registry = PracticeRegistry::FromJson(kTwoPractices, "", "/s");
  ASSERT_THAT(registry, IsOk());
  const PracticeRegistry& r = **registry;
  EXPECT_THAT(r.Authorize("north", "north-key-123"), IsOk());
  EXPECT_THAT(r.Authorize("north", ""),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("x-api-key")));
  EXPECT_THAT(r.Authorize("north", "guess"), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(r.Authorize("north", "south-key-456"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       ::testing::Eq("the API key is not valid for practice 'north'")));
  EXPECT_THAT(r.Authorize("west", "south-key-456"),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       ::testing::Eq("the API key is not valid for practice 'west'")))
      << "an unknown practice must look like another practice's";
}

constexpr char kHashedKey[] = "hashed-key-0001";

std::string HashedEntry(const std::string& id, const std::string& key) {
  return absl::StrCat(R"({"id": ")", id, R"(", "api_key_sha256": ")", Sha256Hex(Sha256(key)),
                      R"("})");
}

std::string File(const std::vector<std::string>& entries) {
  return absl::StrCat(R"({"practices": [)", absl::StrJoin(entries, ","), "]}");
}

TEST(PracticeRegistryTest, AuthorizesKeysStoredHashed) {
  auto registry = PracticeRegistry::FromJson(
      File({HashedEntry("north", kHashedKey), HashedEntry("south", "south-key-456")}), "", "/s");
  ASSERT_THAT(registry, IsOk());
  auto north = (*registry)->Authorize("north", kHashedKey);
  ASSERT_THAT(north, IsOk());
  EXPECT_EQ((*north)->id, "north");
  EXPECT_TRUE((*north)->api_key.empty());
  EXPECT_THAT((*registry)->Authorize("north", "hashed-key-0002"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT((*registry)->Authorize("north", "south-key-456"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // Upper-case hex is the same digest.
  std::string upper = Sha256Hex(Sha256(kHashedKey));
  for (char& c : upper) c = absl::ascii_toupper(c);
  auto upper_registry = PracticeRegistry::FromJson(
      absl::StrCat(R"({"practices": [{"id": "a", "api_key_sha256": ")", upper, R"("}]})"), "",
      "/s");
  ASSERT_THAT(upper_registry, IsOk());
  EXPECT_THAT((*upper_registry)->Authorize("a", kHashedKey), IsOk());
}

TEST(PracticeRegistryTest, KeepsOnlyTheHashOfKeysGivenInClear) {
  auto registry = PracticeRegistry::FromJson(kTwoPractices, "", "/s");
  ASSERT_THAT(registry, IsOk());
  for (const Practice& p : (*registry)->practices()) {
    EXPECT_TRUE(p.api_key.empty()) << p.id;
    EXPECT_NE(p.api_key_sha256, Sha256Digest{}) << p.id;
  }
}

TEST(PracticeRegistryTest, RefusesBothOrNeitherKeyFieldAndBadHexNamingThePractice) {
  const std::string hex = Sha256Hex(Sha256(kHashedKey));
  EXPECT_THAT(
      PracticeRegistry::FromJson(absl::StrCat(R"({"practices": [{"id": "a", "api_key": "12345678",
                                                  "api_key_sha256": ")",
                                              hex, R"("}]})"),
                                 "", "/s"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("practices[0] (practice 'a') has both api_key and "
                         "api_key_sha256")));
  EXPECT_THAT(PracticeRegistry::FromJson(R"({"practices": [{"id": "a", "name": "A"}]})", "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("practices[0] (practice 'a').api_key_sha256 is missing")));
  EXPECT_THAT(PracticeRegistry::FromJson(
                  R"({"practices": [{"id": "a", "api_key_sha256": "abc123"}]})", "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("practices[0] (practice 'a').api_key_sha256 must be 64 hex "
                                 "digits")));
  std::string bad = hex;
  bad[63] = 'z';
  EXPECT_THAT(
      PracticeRegistry::FromJson(
          absl::StrCat(R"({"practices": [{"id": "a", "api_key_sha256": ")", bad, R"("}]})"), "",
          "/s"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("api_key_sha256 must be 64 hex digits (a SHA-256); character 64")));
  EXPECT_THAT(
      PracticeRegistry::FromJson(R"({"practices": [{"id": "a", "api_key_sha256": 7}]})", "", "/s"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("practices[0].api_key_sha256 must be a string")));
}

absl::StatusOr<std::unique_ptr<PracticeRegistry>> Registry(
    const std::vector<std::string>& entries) {
  return PracticeRegistry::FromJson(File(entries), "", "/s");
}

TEST(PracticeRegistryTest, ReplaceServesNewAndRotatedKeysAndRefusesRemovedPractices) {
  auto registry =
      Registry({HashedEntry("north", "north-key-old"), HashedEntry("south", "south-key-456")});
  ASSERT_THAT(registry, IsOk());
  auto next =
      Registry({HashedEntry("north", "north-key-new"), HashedEntry("east", "east-key-789")});
  ASSERT_THAT(next, IsOk());
  (*registry)->Replace(**next);
  const PracticeRegistry& r = **registry;
  EXPECT_THAT(r.Authorize("north", "north-key-new"), IsOk());
  EXPECT_THAT(r.Authorize("north", "north-key-old"), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(r.Authorize("east", "east-key-789"), IsOk());
  EXPECT_THAT(r.Authorize("south", "south-key-456"), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(r.Find("south"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_EQ(r.practices().size(), 2u);
}

TEST(PracticeRegistryTest, HandleHeldAcrossReplaceStaysValid) {
  auto registry = PracticeRegistry::FromJson(kTwoPractices, "", "/s");
  ASSERT_THAT(registry, IsOk());
  auto held = (*registry)->Authorize("north", "north-key-123");
  ASSERT_THAT(held, IsOk());
  std::weak_ptr<const Practice> watch = *held;
  {
    auto next = Registry({HashedEntry("east", "east-key-789")});
    ASSERT_THAT(next, IsOk());
    (*registry)->Replace(**next);
  }
  // The old snapshot lives on for the call holding it (a stream in flight).
  ASSERT_FALSE(watch.expired());
  EXPECT_EQ((*held)->id, "north");
  EXPECT_EQ((*held)->name, "North Vets");
  EXPECT_EQ((*held)->time_zone_name, "Europe/London");
  EXPECT_THAT((*registry)->Find("north"), StatusIs(absl::StatusCode::kNotFound));
  held = absl::UnknownError("released");
  EXPECT_TRUE(watch.expired()) << "the old snapshot is freed with its last handle";
}

TEST(PracticeRegistryTest, CallsDuringReplaceSeeOneSnapshotOrTheOther) {
  auto registry = Registry({HashedEntry("north", "north-key-aaa")});
  ASSERT_THAT(registry, IsOk());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> callers;
  callers.reserve(3);
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back([&, t] {
      const std::string key = t % 2 == 0 ? "north-key-aaa" : "north-key-bbb";
      while (!stop.load()) {
        auto practice = (*registry)->Authorize("north", key);
        if (practice.ok()) {
          // The handle's practice is whole: the one that key belongs to.
          if ((*practice)->id != "north" || (*practice)->api_key_sha256 != Sha256(key)) ++bad;
        } else if (practice.status().code() != absl::StatusCode::kUnauthenticated) {
          ++bad;
        }
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    auto next = Registry({HashedEntry("north", i % 2 == 0 ? "north-key-bbb" : "north-key-aaa")});
    if (!next.ok()) {
      ADD_FAILURE() << next.status();  // and still join the callers
      break;
    }
    (*registry)->Replace(**next);
  }
  stop = true;
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(PracticeRegistryTest, FailedReloadLeavesTheRegistryAsItWas) {
  // What a server does on SIGHUP with a malformed file: the parse fails,
  // nothing is replaced.
  auto registry = PracticeRegistry::FromJson(kTwoPractices, "", "/s");
  ASSERT_THAT(registry, IsOk());
  auto next = PracticeRegistry::FromJson(R"({"practices": [{"id": "north"}]})", "", "/s");
  ASSERT_FALSE(next.ok());
  EXPECT_THAT((*registry)->Authorize("north", "north-key-123"), IsOk());
  EXPECT_THAT((*registry)->Authorize("south", "south-key-456"), IsOk());
}

}  // namespace
}  // namespace vet
