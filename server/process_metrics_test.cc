#include "server/process_metrics.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <map>
#include <string>

#include "gtest/gtest.h"

namespace vet::server {
namespace {

TEST(ProcStatTest, CountsFieldsFromTheLastParenthesisOfTheName) {
  // A command name with a space and a ')' of its own.
  const std::string text =
      "4242 (vet a) b) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 9 0 "
      "987654 123456789 3000 18446744073709551615\n";
  auto stat = ParseProcStat(text);
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_EQ(stat->utime_ticks, 250);
  EXPECT_EQ(stat->stime_ticks, 75);
  EXPECT_EQ(stat->start_ticks, 987654);
  EXPECT_EQ(stat->vsize_bytes, 123456789);
  EXPECT_EQ(stat->rss_pages, 3000);
  EXPECT_FALSE(ParseProcStat("4242 (short) S 1 2 3").ok());
  EXPECT_FALSE(ParseProcStat("no name at all").ok());
}

TEST(ProcStatTest, ReadsTheBootTime) {
  auto boot = ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1764800000\nprocesses 9\n");
  ASSERT_TRUE(boot.ok());
  EXPECT_EQ(*boot, 1764800000);
  EXPECT_FALSE(ParseBootTime("cpu 1 2 3\n").ok());
}

std::map<std::string, double> Collected() {
  std::map<std::string, double> values;
  for (const prometheus::MetricFamily& family : ProcessCollector().Collect()) {
    EXPECT_EQ(family.metric.size(), 1u) << family.name;
    values[family.name] = family.type == prometheus::MetricType::Counter
                              ? family.metric[0].counter.value
                              : family.metric[0].gauge.value;
  }
  return values;
}

TEST(ProcessCollectorTest, ReportsThisProcessPlausibly) {
  // Some CPU to count.
  volatile double x = 0;
  for (int i = 0; i < 20'000'000; ++i) x += i;
  EXPECT_GT(x, 0);
  std::map<std::string, double> before = Collected();
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_start_time_seconds",
                           "process_open_fds", "process_max_fds"}) {
    EXPECT_TRUE(before.count(name)) << name;
  }
  EXPECT_GT(before["process_cpu_seconds_total"], 0);
  EXPECT_GT(before["process_resident_memory_bytes"], 1 << 20);
  EXPECT_GE(before["process_virtual_memory_bytes"], before["process_resident_memory_bytes"]);
  // Started within the last hour, not in the future.
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(before["process_start_time_seconds"], now + 1);
  EXPECT_GT(before["process_start_time_seconds"], now - 3600);
  EXPECT_GE(before["process_open_fds"], 3);
  EXPECT_LE(before["process_open_fds"], before["process_max_fds"]);

  // Two more descriptors are counted.
  int a = ::open("/dev/null", O_RDONLY);
  int b = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_EQ(Collected()["process_open_fds"], before["process_open_fds"] + 2);
  ::close(a);
  ::close(b);
}

}  // namespace
}  // namespace vet::server
