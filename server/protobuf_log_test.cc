#include "server/protobuf_log.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vet::server::internal {
namespace {

using ::testing::HasSubstr;

TEST(ProtobufLogTest, InvalidUtf8RefusalsAreSummarisedAtMostOnceAMinute) {
  const std::string kLine =
      "String field 'vetanalytics.v1.AskRequest.question' contains invalid UTF-8 data when "
      "parsing a protocol buffer.";
  absl::Time now = absl::FromUnixSeconds(1790000000);
  EXPECT_THAT(HandleProtobufLog(2, kLine, now), HasSubstr("1 request(s) refused"));
  // A flood within the minute writes nothing.
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(HandleProtobufLog(2, kLine, now + absl::Seconds(i % 59)), "");
  }
  EXPECT_THAT(HandleProtobufLog(2, kLine, now + absl::Minutes(1)),
              HasSubstr("1001 request(s) refused"));
  // Anything else passes through.
  EXPECT_THAT(HandleProtobufLog(2, "something else", now), HasSubstr("something else"));
}

}  // namespace
}  // namespace vet::server::internal
