// What sharing practice data through PostgreSQL costs (docs/BENCHMARKS.md
// "Shared practice data"): one demo dataset imported on replica A and
// published, then fetched by replica B on its first question (fetch,
// SHA-256 check, rename, swap), then checked again by B after a restart
// (no fetch), against a baseline measured in the same run: copying the
// version folder on the local disk. A throwaway PostgreSQL 15 on loopback.
// Usage: shared_data_bench <invoice_lines> <work_dir>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/data/demo_generator.h"
#include "core/data/postgres_dataset_store.h"
#include "core/data/practice_data.h"
#include "core/data/replicated_datasets.h"
#include "core/data/schema.h"
#include "tests/testing/postgres_server.h"

namespace vet::data {
namespace {

constexpr absl::CivilDay kEndDay(2026, 11, 25);

int Fail(absl::string_view what, const absl::Status& status) {
  std::printf("%s failed: %s\n", std::string(what).c_str(), status.ToString().c_str());
  return 1;
}

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

int64_t FolderBytes(const std::string& dir) {
  int64_t bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) bytes += static_cast<int64_t>(e.file_size());
  }
  return bytes;
}

int Run(int64_t lines, const std::string& work) {
  std::filesystem::remove_all(work);
  const std::string exports = work + "/exports";
  DemoOptions demo;
  demo.end_day = kEndDay;
  demo.invoice_lines = lines;
  if (absl::Status s = WriteDemoDataset(demo, exports); !s.ok()) return Fail("demo data", s);

  auto postgres = testing::PostgresServer::Start();
  if (!postgres.ok()) return Fail("postgres", postgres.status());
  auto database = (*postgres)->CreateDatabase();
  if (!database.ok()) return Fail("database", database.status());
  const std::string url = (*postgres)->url(*database);
  auto store_a = PostgresDatasetStore::Open(url);
  auto store_b = PostgresDatasetStore::Open(url);
  if (!store_a.ok()) return Fail("store", store_a.status());
  if (!store_b.ok()) return Fail("store", store_b.status());
  ReplicatedDatasetsOptions options;
  options.poll_interval = absl::Hours(1);
  options.practices_dir = work + "/a";
  auto a = std::make_unique<ReplicatedDatasets>(store_a->get(), options);

  // Replica A: the import (validation and columnar write) and, inside it,
  // the publish.
  const std::string root_a = work + "/a/north";
  std::filesystem::create_directories(root_a);
  auto staging = ImportStaging::Create(root_a, ImportLimits{});
  if (!staging.ok()) return Fail("staging", staging.status());
  for (const TableSpec& t : CanonicalSchema()) {
    std::ifstream in(absl::StrCat(exports, "/", t.name, ".csv"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (absl::Status s = (*staging)->Append(t.name, bytes); !s.ok()) return Fail("append", s);
  }
  if (absl::Status s = (*staging)->Finish(); !s.ok()) return Fail("finish", s);
  absl::Duration publish_time;
  const absl::Time import_start = absl::Now();
  auto outcome =
      CommitImport(**staging, "", kEndDay, [&](const std::string& version, const std::string& dir) {
        const absl::Time t = absl::Now();
        absl::Status s = a->Publish("north", version, dir);
        publish_time = absl::Now() - t;
        return s;
      });
  const absl::Duration import_time = absl::Now() - import_start;
  if (!outcome.ok()) return Fail("import", outcome.status());
  const std::string version_dir = absl::StrCat(root_a, "/versions/", outcome->version);
  const int64_t bytes = FolderBytes(version_dir);

  // Baseline: the same folder copied on the local disk.
  const absl::Time copy_start = absl::Now();
  std::filesystem::copy(version_dir, work + "/copy", std::filesystem::copy_options::recursive);
  const absl::Duration copy_time = absl::Now() - copy_start;

  // Replica B: its first question fetches and checks the version.
  options.practices_dir = work + "/b";
  auto b = std::make_unique<ReplicatedDatasets>(store_b->get(), options);
  const std::string root_b = work + "/b/north";
  const absl::Time fetch_start = absl::Now();
  auto lease = b->Lease("north", root_b, root_b + "/data");
  const absl::Duration fetch_time = absl::Now() - fetch_start;
  if (!lease.ok()) return Fail("fetch", lease.status());
  // Its next question: served from the copy.
  const absl::Time warm_start = absl::Now();
  for (int i = 0; i < 1000; ++i) {
    auto again = b->Lease("north", root_b, root_b + "/data");
    if (!again.ok()) return Fail("lease", again.status());
  }
  const absl::Duration warm_time = (absl::Now() - warm_start) / 1000;
  lease = absl::InternalError("released");
  // B restarts: its copy is checked against the digests, not fetched.
  b.reset();
  b = std::make_unique<ReplicatedDatasets>(store_b->get(), options);
  const absl::Time check_start = absl::Now();
  auto checked = b->Lease("north", root_b, root_b + "/data");
  const absl::Duration check_time = absl::Now() - check_start;
  if (!checked.ok()) return Fail("check", checked.status());
  if (b->stats().fetched != 0) return Fail("check", absl::InternalError("fetched again"));

  std::printf("invoice lines:             %lld\n", static_cast<long long>(lines));
  std::printf("version (columnar):        %.1f MiB\n", bytes / 1048576.0);
  std::printf("import on A (total):       %8.1f ms\n", Ms(import_time));
  std::printf("  of which publish:        %8.1f ms  (%.0f MiB/s)\n", Ms(publish_time),
              bytes / 1048576.0 / absl::ToDoubleSeconds(publish_time));
  std::printf("first question on B:       %8.1f ms  fetch + SHA-256 check + swap (%.0f MiB/s)\n",
              Ms(fetch_time), bytes / 1048576.0 / absl::ToDoubleSeconds(fetch_time));
  std::printf("baseline: local copy:      %8.1f ms\n", Ms(copy_time));
  std::printf("B after a restart:         %8.1f ms  check only, no fetch\n", Ms(check_time));
  std::printf("B's later questions:       %8.3f ms  per lease\n", Ms(warm_time));
  std::filesystem::remove_all(work);
  return 0;
}

}  // namespace
}  // namespace vet::data

int main(int argc, char** argv) {
  int64_t lines = 0;
  if (argc != 3 || !absl::SimpleAtoi(argv[1], &lines) || lines <= 0) {
    std::fprintf(stderr, "usage: shared_data_bench <invoice_lines> <work_dir>\n");
    return 2;
  }
  return vet::data::Run(lines, argv[2]);
}
