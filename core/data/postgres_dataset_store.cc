// The dataset tables and their transactions. Every statement names the
// practice: one practice's rows are never read for another.
#include "core/data/postgres_dataset_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/posix.h"
#include "core/common/sha256.h"
#include "core/common/status_macros.h"
#include "core/common/unique_fd.h"

namespace vet::data {
namespace {

using storage::PgConnection;
using storage::PgParam;
using storage::PgResult;
using storage::PostgresPool;

// pg_advisory_xact_lock key serializing schema creation across replicas:
// "vet_data" in ASCII.
constexpr int64_t kSchemaLockKey = 0x7665745f64617461;
constexpr int64_t kSchemaVersion = 1;
constexpr const char* kChannel = "vet_datasets";

constexpr const char* kSchema[] = {
    R"sql(CREATE TABLE IF NOT EXISTS dataset_versions (
      practice TEXT NOT NULL,
      version TEXT NOT NULL,
      bytes BIGINT NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (practice, version)))sql",
    R"sql(CREATE TABLE IF NOT EXISTS dataset_files (
      practice TEXT NOT NULL,
      version TEXT NOT NULL,
      path TEXT NOT NULL,
      size BIGINT NOT NULL,
      sha256 TEXT NOT NULL,
      PRIMARY KEY (practice, version, path),
      FOREIGN KEY (practice, version) REFERENCES dataset_versions ON DELETE CASCADE))sql",
    R"sql(CREATE TABLE IF NOT EXISTS dataset_chunks (
      practice TEXT NOT NULL,
      version TEXT NOT NULL,
      path TEXT NOT NULL,
      seq INTEGER NOT NULL,
      data BYTEA NOT NULL,
      PRIMARY KEY (practice, version, path, seq),
      FOREIGN KEY (practice, version, path) REFERENCES dataset_files ON DELETE CASCADE))sql",
    // The columnar files are mostly numbers that pglz barely shrinks:
    // storing them uncompressed saves the CPU on both sides.
    "ALTER TABLE dataset_chunks ALTER COLUMN data SET STORAGE EXTERNAL",
    R"sql(CREATE TABLE IF NOT EXISTS practice_datasets (
      practice TEXT PRIMARY KEY,
      version TEXT NOT NULL,
      updated_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
      FOREIGN KEY (practice, version) REFERENCES dataset_versions))sql",
};

absl::Status Errno(absl::string_view what, const std::string& path) {
  return ErrnoToStatus(errno, absl::StrCat(what, " ", path));
}

// Uploads one file's bytes as chunk rows.
absl::Status UploadFile(PgConnection& conn, const std::string& practice, const std::string& version,
                        const std::string& dir, const StoredFile& file) {
  VET_RETURN_IF_ERROR(conn.Exec("INSERT INTO dataset_files (practice, version, path, size, sha256)"
                                " VALUES ($1, $2, $3, $4::bigint, $5)",
                                {practice, version, file.path, file.size, file.sha256})
                          .status());
  const std::string full = absl::StrCat(dir, "/", file.path);
  UniqueFd fd(::open(full.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Errno("cannot read", full);
  std::string buf(PostgresDatasetStore::kChunkBytes, '\0');
  int seq = 0;
  int64_t sent = 0;
  while (true) {
    size_t filled = 0;
    while (filled < buf.size()) {
      ssize_t n = ::read(fd.get(), buf.data() + filled, buf.size() - filled);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("cannot read", full);
      if (n == 0) break;
      filled += n;
    }
    if (filled == 0) break;
    VET_RETURN_IF_ERROR(conn.Exec("INSERT INTO dataset_chunks (practice, version, path, seq, data)"
                                  " VALUES ($1, $2, $3, $4::integer, $5)",
                                  {practice, version, file.path, seq,
                                   PgParam::Bytes(absl::string_view(buf.data(), filled))})
                            .status());
    ++seq;
    sent += filled;
    if (filled < buf.size()) break;
  }
  if (sent != file.size) {
    return absl::FailedPreconditionError(absl::StrCat(full, " changed while it was being stored"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<StoredFile>> ReadFiles(PgConnection& conn, const std::string& practice,
                                                  const std::string& version) {
  VET_ASSIGN_OR_RETURN(
      PgResult found,
      conn.Exec("SELECT 1 FROM dataset_versions WHERE practice = $1 AND version = $2",
                {practice, version}));
  if (found.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("dataset version ", version, " of practice '", practice,
                                            "' is not in the shared store"));
  }
  VET_ASSIGN_OR_RETURN(PgResult rows,
                       conn.Exec("SELECT path, size, sha256 FROM dataset_files"
                                 " WHERE practice = $1 AND version = $2 ORDER BY path",
                                 {practice, version}));
  std::vector<StoredFile> files;
  files.reserve(rows.rows());
  for (int i = 0; i < rows.rows(); ++i) {
    files.push_back({rows.Text(i, 0), rows.Int(i, 1), rows.Text(i, 2)});
  }
  return files;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresDatasetStore>> PostgresDatasetStore::Open(
    const std::string& url) {
  storage::PostgresOptions options;
  options.pool_size = 2;
  VET_ASSIGN_OR_RETURN(auto pool, PostgresPool::Create(url, options));
  VET_ASSIGN_OR_RETURN(auto listener, storage::PgListener::Create(url, kChannel, options));
  std::unique_ptr<PostgresDatasetStore> store(
      new PostgresDatasetStore(std::move(pool), std::move(listener)));
  VET_RETURN_IF_ERROR(store->InitSchema());
  return store;
}

absl::Status PostgresDatasetStore::InitSchema() {
  return pool_->Transact([](PgConnection& conn) -> absl::Status {
    VET_RETURN_IF_ERROR(
        conn.Exec("SELECT pg_advisory_xact_lock($1::bigint)", {kSchemaLockKey}).status());
    VET_RETURN_IF_ERROR(conn.Exec("CREATE TABLE IF NOT EXISTS dataset_schema_version"
                                  " (version INTEGER NOT NULL)")
                            .status());
    VET_ASSIGN_OR_RETURN(PgResult read,
                         conn.Exec("SELECT COALESCE(MAX(version), 0) FROM dataset_schema_version"));
    const int64_t version = read.Int(0, 0);
    if (version > kSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the database has dataset schema version ", version, "; this build understands up to ",
          kSchemaVersion, ". Run a newer server, or restore the previous database."));
    }
    if (version == kSchemaVersion) return absl::OkStatus();
    for (const char* statement : kSchema) VET_RETURN_IF_ERROR(conn.Exec(statement).status());
    return conn
        .Exec("INSERT INTO dataset_schema_version (version) VALUES ($1::integer)", {kSchemaVersion})
        .status();
  });
}

absl::Status PostgresDatasetStore::Publish(const std::string& practice, const std::string& version,
                                           const std::string& dir, int keep_versions) {
  // Digests first, outside the transaction: reading a large version must
  // not hold locks.
  VET_ASSIGN_OR_RETURN(std::vector<StoredFile> files, ListVersionFiles(dir));
  int64_t bytes = 0;
  for (const StoredFile& f : files) bytes += f.size;
  return pool_->Transact([&](PgConnection& conn) -> absl::Status {
    // Two replicas publishing the same version: the second waits on the
    // first's row, then finds it and uploads nothing.
    VET_ASSIGN_OR_RETURN(
        PgResult inserted,
        conn.Exec("INSERT INTO dataset_versions (practice, version, bytes)"
                  " VALUES ($1, $2, $3::bigint) ON CONFLICT DO NOTHING RETURNING 1",
                  {practice, version, bytes}));
    if (inserted.rows() == 1) {
      for (const StoredFile& file : files) {
        VET_RETURN_IF_ERROR(UploadFile(conn, practice, version, dir, file));
      }
    } else {
      // Marks it the newest, for pruning, like a fresh one.
      VET_RETURN_IF_ERROR(conn.Exec("UPDATE dataset_versions SET created_at = clock_timestamp()"
                                    " WHERE practice = $1 AND version = $2",
                                    {practice, version})
                              .status());
    }
    VET_ASSIGN_OR_RETURN(
        PgResult moved,
        conn.Exec("INSERT INTO practice_datasets (practice, version) VALUES ($1, $2)"
                  " ON CONFLICT (practice) DO UPDATE SET version = EXCLUDED.version,"
                  " updated_at = clock_timestamp()"
                  " WHERE practice_datasets.version <> EXCLUDED.version RETURNING 1",
                  {practice, version}));
    if (moved.rows() == 1) {
      VET_RETURN_IF_ERROR(conn.Exec("SELECT pg_notify($1, $2)", {kChannel, practice}).status());
    }
    return conn
        .Exec(
            "DELETE FROM dataset_versions WHERE practice = $1 AND version <> $2 AND version NOT IN"
            " (SELECT version FROM dataset_versions WHERE practice = $1"
            "  ORDER BY created_at DESC LIMIT $3::integer)",
            {practice, version, std::max(1, keep_versions)})
        .status();
  });
}

absl::StatusOr<std::string> PostgresDatasetStore::Current(const std::string& practice) {
  std::string version;
  VET_RETURN_IF_ERROR(pool_->Transact(
      [&](PgConnection& conn) -> absl::Status {
        VET_ASSIGN_OR_RETURN(
            PgResult r,
            conn.Exec("SELECT version FROM practice_datasets WHERE practice = $1", {practice}));
        if (r.rows() == 1) version = r.Text(0, 0);
        return absl::OkStatus();
      },
      PostgresPool::Mode::kReadSnapshot));
  return version;
}

absl::StatusOr<std::map<std::string, std::string>> PostgresDatasetStore::CurrentAll() {
  std::map<std::string, std::string> current;
  VET_RETURN_IF_ERROR(pool_->Transact(
      [&](PgConnection& conn) -> absl::Status {
        current.clear();
        VET_ASSIGN_OR_RETURN(PgResult r,
                             conn.Exec("SELECT practice, version FROM practice_datasets"));
        for (int i = 0; i < r.rows(); ++i) current[r.Text(i, 0)] = r.Text(i, 1);
        return absl::OkStatus();
      },
      PostgresPool::Mode::kReadSnapshot));
  return current;
}

absl::StatusOr<std::vector<StoredFile>> PostgresDatasetStore::Files(const std::string& practice,
                                                                    const std::string& version) {
  std::vector<StoredFile> files;
  VET_RETURN_IF_ERROR(pool_->Transact(
      [&](PgConnection& conn) -> absl::Status {
        VET_ASSIGN_OR_RETURN(files, ReadFiles(conn, practice, version));
        return absl::OkStatus();
      },
      PostgresPool::Mode::kReadSnapshot));
  return files;
}

absl::Status PostgresDatasetStore::Fetch(const std::string& practice, const std::string& version,
                                         const std::string& dest) {
  // One snapshot for the whole version: pruning it meanwhile does not take
  // rows away half-way.
  return pool_->Transact(
      [&](PgConnection& conn) -> absl::Status {
        VET_ASSIGN_OR_RETURN(std::vector<StoredFile> files, ReadFiles(conn, practice, version));
        for (const StoredFile& file : files) {
          const std::filesystem::path path = std::filesystem::path(dest) / file.path;
          std::error_code ec;
          std::filesystem::create_directories(path.parent_path(), ec);
          if (ec) {
            return absl::InternalError(
                absl::StrCat("cannot create ", path.parent_path().string(), ": ", ec.message()));
          }
          UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
          if (!fd.valid()) return Errno("cannot create", path.string());
          Sha256Hasher hasher;
          int64_t got = 0;
          const int64_t chunks = (file.size + kChunkBytes - 1) / kChunkBytes;
          for (int64_t seq = 0; seq < chunks; ++seq) {
            VET_ASSIGN_OR_RETURN(PgResult r,
                                 conn.Exec("SELECT data FROM dataset_chunks WHERE practice = $1 AND"
                                           " version = $2 AND path = $3 AND seq = $4::integer",
                                           {practice, version, file.path, seq}));
            if (r.rows() != 1) break;
            const std::string bytes = r.Bytes(0, 0);
            hasher.Update(bytes);
            got += static_cast<int64_t>(bytes.size());
            absl::string_view left(bytes);
            while (!left.empty()) {
              ssize_t n = ::write(fd.get(), left.data(), left.size());
              if (n < 0 && errno == EINTR) continue;
              if (n < 0) return Errno("cannot write", path.string());
              left.remove_prefix(n);
            }
          }
          if (!fd.Close()) return Errno("cannot write", path.string());
          const std::string sha = Sha256Hex(hasher.Final());
          if (got != file.size || sha != file.sha256) {
            return absl::DataLossError(absl::StrCat(
                "dataset version ", version, " of practice '", practice, "': ", file.path,
                " arrived with ", got, " bytes, sha256 ", sha.substr(0, 12), "; the store says ",
                file.size, " bytes, sha256 ", file.sha256.substr(0, 12)));
          }
        }
        return absl::OkStatus();
      },
      PostgresPool::Mode::kReadSnapshot);
}

absl::StatusOr<std::vector<std::string>> PostgresDatasetStore::WaitForChanges(
    absl::Duration timeout) {
  return listener_->Wait(timeout);
}

}  // namespace vet::data
