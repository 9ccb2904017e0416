#include "core/practice/practice.h"

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
  EXPECT_THAT(ValidatePracticeId(""), StatusIs(absl::StatusCode::kInvalidArgument,
                                               HasSubstr("empty")));
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
                       HasSubstr("practices[0].api_key is missing")));
  EXPECT_THAT(PracticeRegistry::FromJson(
                  R"({"practices": [{"id": "a", "api_key": "12345678", "tz": "x"}]})", "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown field \"tz\"")));
  EXPECT_THAT(PracticeRegistry::FromJson(
                  R"({"practices": [{"id": "a", "api_key": "12345678", "time_zone": "Mars/Base"}]})",
                  "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Mars/Base")));
  EXPECT_THAT(PracticeRegistry::FromJson(
                  R"({"practices": [{"id": "a", "api_key": "12345678"},
                                    {"id": "a", "api_key": "87654321"}]})", "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("appears twice")));
  EXPECT_THAT(PracticeRegistry::FromJson(
                  R"({"practices": [{"id": "a", "api_key": "12345678"},
                                    {"id": "b", "api_key": "12345678"}]})", "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("same as another")));
  EXPECT_THAT(PracticeRegistry::FromJson(R"({"practices": [{"id": "a", "api_key": "short"}]})",
                                         "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least 8")));
}

TEST(PracticeRegistryTest, ReadsBudgetOverridesAndRejectsBadOnesNamingTheField) {
  auto registry = PracticeRegistry::FromJson(
      R"({"practices": [{"id": "a", "api_key": "12345678", "budget_limit_usd": 3,
                         "budget_soft_cap": 0.5, "budget_hard_cap": 1.2,
                         "budget_period": "day"}]})",
      "", "/s");
  ASSERT_THAT(registry, IsOk());
  const Practice& a = (*registry)->practices()[0];
  EXPECT_EQ(a.budget_limit_micros, 3'000'000);
  EXPECT_DOUBLE_EQ(a.budget_soft_cap, 0.5);
  EXPECT_DOUBLE_EQ(a.budget_hard_cap, 1.2);
  EXPECT_EQ(a.budget_period, "day");
  EXPECT_THAT(PracticeRegistry::FromJson(
                  R"({"practices": [{"id": "a", "api_key": "12345678", "budget_period": "week"}]})",
                  "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("practices[0].budget_period must be \"day\" or \"month\"")));
  EXPECT_THAT(PracticeRegistry::FromJson(
                  R"({"practices": [{"id": "a", "api_key": "12345678", "budget_soft_cap": 0}]})",
                  "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("practices[0].budget_soft_cap must be a fraction")));
  EXPECT_THAT(PracticeRegistry::FromJson(
                  R"({"practices": [{"id": "a", "api_key": "12345678", "budget_hard_cap": "1"}]})",
                  "", "/s"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("practices[0].budget_hard_cap must be a fraction")));
}

TEST(PracticeRegistryTest, AuthorizeDistinguishesMissingWrongAndForeignKeys) {
  auto registry = PracticeRegistry::FromJson(kTwoPractices, "", "/s");
  ASSERT_THAT(registry, IsOk());
  const PracticeRegistry& r = **registry;
  EXPECT_THAT(r.Authorize("north", "north-key-123"), IsOk());
  EXPECT_THAT(r.Authorize("north", ""),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("x-api-key")));
  EXPECT_THAT(r.Authorize("north", "guess"), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(r.Authorize("north", "south-key-456"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("north")));
  EXPECT_THAT(r.Authorize("west", "south-key-456"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("west")));
}

}  // namespace
}  // namespace vet
