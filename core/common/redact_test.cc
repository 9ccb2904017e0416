#include "core/common/redact.h"

#include "gtest/gtest.h"

namespace vet {
namespace {

TEST(WithoutPathsTest, KeepsOnlyTheLastSegmentOfAServerPath) {
  EXPECT_EQ(WithoutPaths("clients line 2: /srv/vet/state/practices/alpha/staging/8f3a/"
                         "clients.csv:2: record longer than 16 MiB"),
            "clients line 2: clients.csv:2: record longer than 16 MiB");
  EXPECT_EQ(WithoutPaths("the practice has no data yet (/var/lib/vet/practices/riverside/data "
                         "does not exist); import its exports first"),
            "the practice has no data yet (data does not exist); import its exports first");
  EXPECT_EQ(WithoutPaths("cannot open '/a/b/manifest.json'."), "cannot open 'manifest.json'.");
  EXPECT_EQ(WithoutPaths("columnar store: /tmp/x/ is not empty"), "columnar store: x is not empty");
}

TEST(WithoutPathsTest, LeavesOtherSlashesAlone) {
  for (const char* text :
       {"revenue and/or visits", "3/4 of the year", "2026/10/26",
        "http://127.0.0.1:11434/v1 could not be reached", "/ alone", "ratio 1/2", "no path here"}) {
    EXPECT_EQ(WithoutPaths(text), text);
  }
}

}  // namespace
}  // namespace vet
