// DatasetStore in PostgreSQL (VET_DATABASE_URL), the store replicas share.
//
// A version's files are bytea rows of at most 1 MiB (dataset_chunks), not
// large objects: rows belong to their version (ON DELETE CASCADE removes a
// pruned version whole, where large objects would be orphaned unless
// unlinked one by one), are written in the publishing transaction with the
// version row and the current-version pointer (a replica sees a version
// complete or not at all), need no lo_* privileges, and go through pg_dump
// and replication like every other table. A chunk at a time keeps memory
// flat on both sides.
//
// Publishing sends NOTIFY vet_datasets with the practice id in the same
// transaction, so replicas hear of it only once it is committed.
#ifndef VET_CORE_DATA_POSTGRES_DATASET_STORE_H_
#define VET_CORE_DATA_POSTGRES_DATASET_STORE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/data/dataset_store.h"
#include "core/storage/postgres.h"

namespace vet::data {

class PostgresDatasetStore final : public DatasetStore {
 public:
  // Connects (a pool of 2 for transfers and a listening connection) and
  // creates the tables if needed. kUnavailable when the database cannot be
  // reached; kFailedPrecondition when its dataset schema is newer than this
  // build's.
  static absl::StatusOr<std::unique_ptr<PostgresDatasetStore>> Open(const std::string& url);

  absl::Status Publish(const std::string& practice, const std::string& version,
                       const std::string& dir, int keep_versions) override;
  absl::StatusOr<std::string> Current(const std::string& practice) override;
  absl::StatusOr<std::map<std::string, std::string>> CurrentAll() override;
  absl::StatusOr<std::vector<StoredFile>> Files(const std::string& practice,
                                                const std::string& version) override;
  absl::Status Fetch(const std::string& practice, const std::string& version,
                     const std::string& dest) override;
  absl::StatusOr<std::vector<std::string>> WaitForChanges(absl::Duration timeout) override;

  // Largest chunk row, bytes.
  static constexpr int kChunkBytes = 1 << 20;

 private:
  PostgresDatasetStore(std::unique_ptr<storage::PostgresPool> pool,
                       std::unique_ptr<storage::PgListener> listener)
      : pool_(std::move(pool)), listener_(std::move(listener)) {}
  absl::Status InitSchema();

  const std::unique_ptr<storage::PostgresPool> pool_;
  const std::unique_ptr<storage::PgListener> listener_;
};

}  // namespace vet::data

#endif  // VET_CORE_DATA_POSTGRES_DATASET_STORE_H_
