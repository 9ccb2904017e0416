#include "core/common/log.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace vet {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const absl::Time kTime = absl::FromUnixMillis(1796385600123);  // 2026-12-04T12:00:00.123Z

LogContext QuestionContext() {
  return LogContext{"demo", "s-123", "q-456", "4bf92f3577b34da6a3ce929d0e0e4736"};
}

TEST(LogFormatTest, ParsesTextAndJsonAndNamesTheChoicesOtherwise) {
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  auto bad = ParseLogFormat("yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("text or json"));
}

TEST(LogFormatTest, TextLineWithoutContextIsTimeLevelMessage) {
  EXPECT_EQ(FormatLogLine(LogFormat::kText, LogLevel::kWarning, kTime, nullptr, "hello"),
            "2026-12-04T12:00:00.123Z WARN hello\n");
}

TEST(LogFormatTest, TextLineCarriesTheContext) {
  LogContext c = QuestionContext();
  EXPECT_EQ(FormatLogLine(LogFormat::kText, LogLevel::kInfo, kTime, &c, "hello"),
            "2026-12-04T12:00:00.123Z INFO [practice=demo session=s-123 question=q-456 "
            "trace=4bf92f3577b34da6a3ce929d0e0e4736] hello\n");
}

TEST(LogFormatTest, JsonLineIsOneObjectWithEveryField) {
  LogContext c = QuestionContext();
  std::string line = FormatLogLine(LogFormat::kJson, LogLevel::kError, kTime, &c,
                                   "a \"quoted\"\nline\twith \\ and \x01");
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size() - 1);
  ASSERT_FALSE(doc.HasParseError()) << line;
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["time"].GetString(), "2026-12-04T12:00:00.123Z");
  EXPECT_STREQ(doc["level"].GetString(), "ERROR");
  EXPECT_STREQ(doc["practice"].GetString(), "demo");
  EXPECT_STREQ(doc["session"].GetString(), "s-123");
  EXPECT_STREQ(doc["question_id"].GetString(), "q-456");
  EXPECT_STREQ(doc["trace_id"].GetString(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(std::string(doc["message"].GetString(), doc["message"].GetStringLength()),
            "a \"quoted\"\nline\twith \\ and \x01");
}

TEST(LogFormatTest, JsonLineLeavesOutEmptyContextFields) {
  std::string line = FormatLogLine(LogFormat::kJson, LogLevel::kInfo, kTime, nullptr, "up");
  EXPECT_EQ(line,
            "{\"time\":\"2026-12-04T12:00:00.123Z\",\"level\":\"INFO\",\"message\":\"up\"}\n");
}

TEST(LogFormatTest, JsonLineReplacesInvalidUtf8) {
  std::string line =
      FormatLogLine(LogFormat::kJson, LogLevel::kInfo, kTime, nullptr, "caf\xC3\xA9 \xFF\xFE end");
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size() - 1);
  ASSERT_FALSE(doc.HasParseError()) << line;
  EXPECT_STREQ(doc["message"].GetString(), "caf\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD end");
}

TEST(ScopedLogContextTest, SetsTheContextForTheScopeAndRestoresTheOuterOne) {
  EXPECT_EQ(CurrentLogContext(), nullptr);
  {
    ScopedLogContext outer(std::make_shared<LogContext>(QuestionContext()));
    ASSERT_NE(CurrentLogContext(), nullptr);
    EXPECT_EQ(CurrentLogContext()->practice, "demo");
    {
      auto inner_context = std::make_shared<LogContext>();
      inner_context->practice = "north";
      ScopedLogContext inner(inner_context);
      EXPECT_EQ(CurrentLogContext()->practice, "north");
    }
    EXPECT_EQ(CurrentLogContext()->practice, "demo");
  }
  EXPECT_EQ(CurrentLogContext(), nullptr);
}

}  // namespace
}  // namespace vet
