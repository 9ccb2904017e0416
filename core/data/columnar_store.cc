// WriteColumnarDataset and DescribeColumnarDataset. Column files are written
// straight from the TypedTable's vectors (header, then the raw bytes), so
// writing costs one pass and no copy of the data.
#include "core/data/columnar_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "core/common/posix.h"
#include "core/common/status_macros.h"
#include "core/common/unique_fd.h"
#include "core/data/csv.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the .npy files are written as '<' (little-endian) raw memory");

namespace vet::data {
namespace {

constexpr char kFormatName[] = "vet-columnar";

absl::Status ErrnoError(int err, absl::string_view what, const std::string& path) {
  return ErrnoToStatus(err, absl::StrCat("columnar store: ", what, " ", path));
}

// Keeps a name from escaping its folder or clashing with the manifest.
bool IsSafeName(absl::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find('/') == absl::string_view::npos && name.find('\0') == absl::string_view::npos;
}

absl::Status SyncPath(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError(errno, "cannot open", path);
  if (::fsync(fd.get()) != 0) return ErrnoError(errno, "cannot sync", path);
  return absl::OkStatus();
}

// mkdir, then chmod: the umask must not make the folder unreadable to the
// sandbox's uid.
absl::Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0) {
    return ErrnoError(errno, "cannot create folder", path);
  }
  if (::chmod(path.c_str(), 0755) != 0) {
    return ErrnoError(errno, "cannot chmod", path);
  }
  return absl::OkStatus();
}

// `dir` made (with its parents) if missing; kFailedPrecondition if it exists
// and is not an empty folder.
absl::Status PrepareTargetDir(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("columnar store: ", dir, " exists and is not a folder"));
    }
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return ErrnoError(errno, "cannot list", dir);
    bool empty = true;
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
        empty = false;
        break;
      }
    }
    ::closedir(d);
    if (!empty) {
      return absl::FailedPreconditionError(absl::StrCat("columnar store: ", dir, " is not empty"));
    }
    if (::chmod(dir.c_str(), 0755) != 0) {
      return ErrnoError(errno, "cannot chmod", dir);
    }
    return absl::OkStatus();
  }
  if (errno != ENOENT) return ErrnoError(errno, "cannot stat", dir);
  size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    std::string parent = dir.substr(0, slash);
    if (::stat(parent.c_str(), &st) != 0) {
      if (errno != ENOENT) return ErrnoError(errno, "cannot stat", parent);
      VET_RETURN_IF_ERROR(PrepareTargetDir(parent));
    }
  }
  return MakeDir(dir);
}

struct Piece {
  const void* data;
  size_t size;
};

// A new file (it must not exist), mode 0644, written through a fixed
// buffer and synced before it is closed. Also a rapidjson output stream
// (Put, Flush), so that a dictionary's JSON of any size costs the buffer,
// not a copy of the dictionary. The first error sticks and Close() reports
// it.
class NewFile {
 public:
  typedef char Ch;

  explicit NewFile(std::string path)
      : path_(std::move(path)),
        fd_(::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) {
    if (!fd_.valid()) {
      status_ = ErrnoError(errno, "cannot create", path_);
    } else if (::fchmod(fd_.get(), 0644) != 0) {
      status_ = ErrnoError(errno, "cannot chmod", path_);
    }
  }
  NewFile(const NewFile&) = delete;
  NewFile& operator=(const NewFile&) = delete;

  void Put(char c) {
    buffer_.push_back(c);
    if (buffer_.size() >= kBufferBytes) Flush();
  }
  void Flush() {
    WriteRaw(buffer_.data(), buffer_.size());
    buffer_.clear();
  }
  // Large blocks (a column's values) go straight to the file.
  void Write(const void* data, size_t size) {
    Flush();
    WriteRaw(static_cast<const char*>(data), size);
  }
  absl::Status Close() {
    Flush();
    if (status_.ok() && ::fsync(fd_.get()) != 0) {
      status_ = ErrnoError(errno, "cannot sync", path_);
    }
    if (!fd_.Close() && status_.ok()) status_ = ErrnoError(errno, "cannot close", path_);
    return status_;
  }

 private:
  static constexpr size_t kBufferBytes = 1 << 20;

  void WriteRaw(const char* p, size_t left) {
    while (status_.ok() && left > 0) {
      ssize_t n = ::write(fd_.get(), p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        status_ = ErrnoError(errno, "cannot write", path_);
        return;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
  }

  const std::string path_;
  UniqueFd fd_;
  absl::Status status_;
  std::string buffer_;
};

absl::Status WriteNewFile(const std::string& path, const std::vector<Piece>& pieces) {
  NewFile file(path);
  for (const Piece& piece : pieces) file.Write(piece.data, piece.size);
  return file.Close();
}

// The NumPy format 1.0 preamble: magic, version, header length, and the
// header dict padded with spaces so that the data starts at a multiple of 64
// bytes (numpy's own alignment).
std::string NpyHeader(absl::string_view descr, int64_t rows) {
  std::string dict =
      absl::StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (", rows, ",), }");
  constexpr size_t kPreamble = 10;             // magic (6) + version (2) + length (2)
  size_t total = kPreamble + dict.size() + 1;  // + '\n'
  total = (total + 63) / 64 * 64;
  dict.append(total - kPreamble - dict.size() - 1, ' ');
  dict.push_back('\n');
  const uint16_t len = static_cast<uint16_t>(dict.size());
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(len & 0xff));
  out.push_back(static_cast<char>(len >> 8));
  out += dict;
  return out;
}

template <typename T>
absl::Status WriteNpy(const std::string& path, absl::string_view descr,
                      const std::vector<T>& values) {
  std::string header = NpyHeader(descr, static_cast<int64_t>(values.size()));
  return WriteNewFile(path,
                      {{header.data(), header.size()}, {values.data(), values.size() * sizeof(T)}});
}

std::string FormatDay(int64_t days) {
  return absl::FormatCivilTime(absl::CivilDay(1970, 1, 1) + days);
}

std::string FormatSecond(int64_t seconds) {
  return absl::FormatCivilTime(absl::CivilSecond(1970, 1, 1, 0, 0, 0) + seconds);
}

bool IsDictType(FieldType type) {
  return type == FieldType::kId || type == FieldType::kRef || type == FieldType::kEnum ||
         type == FieldType::kText;
}

bool IsIntType(FieldType type) {
  return type == FieldType::kInt || type == FieldType::kDate || type == FieldType::kDateTime;
}

absl::Status CheckColumn(const TypedTable& table, const TypedColumn& c) {
  const size_t rows = static_cast<size_t>(table.rows);
  auto bad = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("columnar store: ", table.name, ".", c.name, ": ", what));
  };
  if (!IsSafeName(c.name)) return bad("not a usable column name");
  if (!c.valid.empty() && c.valid.size() != rows) {
    return bad("valid has the wrong length");
  }
  if (IsIntType(c.type) && c.ints.size() != rows) {
    return bad("ints has the wrong length");
  }
  if (c.type == FieldType::kDecimal && c.numbers.size() != rows) {
    return bad("numbers has the wrong length");
  }
  if (IsDictType(c.type)) {
    if (c.codes.size() != rows) return bad("codes has the wrong length");
    const int64_t size = static_cast<int64_t>(c.dictionary.size());
    for (size_t i = 0; i < rows; ++i) {
      if (!c.valid.empty() && c.valid[i] == 0) continue;
      if (c.codes[i] < 0 || c.codes[i] >= size) {
        return bad(absl::StrCat("code out of the dictionary in row ", i));
      }
    }
  }
  return absl::OkStatus();
}

struct ColumnSummary {
  absl::string_view storage;
  bool has_nulls = false;
  std::string min_value;
  std::string max_value;
};

absl::StatusOr<ColumnSummary> WriteColumn(const TypedColumn& c, const std::string& table_dir) {
  ColumnSummary summary;
  const std::string base = absl::StrCat(table_dir, "/", c.name);
  for (uint8_t v : c.valid) {
    if (v == 0) {
      summary.has_nulls = true;
      break;
    }
  }
  auto is_valid = [&](size_t i) { return c.valid.empty() || c.valid[i] != 0; };
  if (IsIntType(c.type)) {
    summary.storage = "int64";
    VET_RETURN_IF_ERROR(WriteNpy(base + ".npy", "<i8", c.ints));
    if (c.type != FieldType::kInt) {
      bool any = false;
      int64_t lo = 0, hi = 0;
      for (size_t i = 0; i < c.ints.size(); ++i) {
        if (!is_valid(i)) continue;
        if (!any || c.ints[i] < lo) lo = c.ints[i];
        if (!any || c.ints[i] > hi) hi = c.ints[i];
        any = true;
      }
      if (any) {
        const bool date = c.type == FieldType::kDate;
        summary.min_value = date ? FormatDay(lo) : FormatSecond(lo);
        summary.max_value = date ? FormatDay(hi) : FormatSecond(hi);
      }
    }
  } else if (c.type == FieldType::kDecimal) {
    summary.storage = "float64";
    if (summary.has_nulls) {
      // NaN where null, whatever the vector held: the loader then needs no
      // mask for decimals.
      std::vector<double> numbers = c.numbers;
      for (size_t i = 0; i < numbers.size(); ++i) {
        if (!is_valid(i)) numbers[i] = std::nan("");
      }
      VET_RETURN_IF_ERROR(WriteNpy(base + ".npy", "<f8", numbers));
    } else {
      VET_RETURN_IF_ERROR(WriteNpy(base + ".npy", "<f8", c.numbers));
    }
  } else {
    summary.storage = "dict";
    if (summary.has_nulls) {
      std::vector<int32_t> codes = c.codes;
      for (size_t i = 0; i < codes.size(); ++i) {
        if (!is_valid(i)) codes[i] = -1;
      }
      VET_RETURN_IF_ERROR(WriteNpy(base + ".npy", "<i4", codes));
    } else {
      VET_RETURN_IF_ERROR(WriteNpy(base + ".npy", "<i4", c.codes));
    }
    // Bytes go through as given (no validation flag): the loader decodes
    // with errors="replace", as the CSV path does. Streamed: escaping can
    // make the JSON six times the dictionary's bytes.
    NewFile file(base + ".dict");
    rapidjson::Writer<NewFile> writer(file);
    writer.StartArray();
    for (const std::string& value : c.dictionary) {
      writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    }
    writer.EndArray();
    VET_RETURN_IF_ERROR(file.Close());
  }
  if (summary.has_nulls) {
    VET_RETURN_IF_ERROR(WriteNpy(base + ".valid.npy", "|u1", c.valid));
  }
  return summary;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("practice has no data yet: ", path, " missing"));
    }
    return ErrnoError(errno, "cannot open", path);
  }
  std::string content;
  char buf[64 << 10];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "cannot read", path);
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
  }
  return content;
}

}  // namespace

absl::Status WriteColumnarDataset(const std::vector<TypedTable>& tables, const std::string& dir) {
  // Check everything before the first byte is written.
  std::set<std::string> table_names;
  for (const TypedTable& table : tables) {
    if (!IsSafeName(table.name) || table.name == kColumnarManifestFile ||
        !table_names.insert(table.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("columnar store: table name '", table.name, "' is not usable"));
    }
    if (table.rows < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("columnar store: ", table.name, ": negative rows"));
    }
    std::set<std::string> column_names;
    for (const TypedColumn& c : table.columns) {
      // Column files are <name>.npy, <name>.dict and <name>.valid.npy: a
      // column named "x.valid" would collide with x's mask.
      if (!column_names.insert(c.name).second ||
          absl::string_view(c.name).find(".valid") != absl::string_view::npos) {
        return absl::InvalidArgumentError(absl::StrCat(
            "columnar store: ", table.name, ": column name '", c.name, "' is not usable"));
      }
      VET_RETURN_IF_ERROR(CheckColumn(table, c));
    }
  }

  VET_RETURN_IF_ERROR(PrepareTargetDir(dir));

  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> manifest(buffer);
  manifest.StartObject();
  manifest.Key("format");
  manifest.String(kFormatName);
  manifest.Key("format_version");
  manifest.Int(kColumnarFormatVersion);
  manifest.Key("schema_version");
  manifest.String(kSchemaVersion);
  manifest.Key("tables");
  manifest.StartArray();
  for (const TypedTable& table : tables) {
    const std::string table_dir = absl::StrCat(dir, "/", table.name);
    VET_RETURN_IF_ERROR(MakeDir(table_dir));
    manifest.StartObject();
    manifest.Key("name");
    manifest.String(table.name.c_str());
    manifest.Key("rows");
    manifest.Int64(table.rows);
    manifest.Key("columns");
    manifest.StartArray();
    for (const TypedColumn& c : table.columns) {
      VET_ASSIGN_OR_RETURN(ColumnSummary summary, WriteColumn(c, table_dir));
      const absl::string_view type = FieldTypeName(c.type);
      manifest.StartObject();
      manifest.Key("name");
      manifest.String(c.name.c_str());
      manifest.Key("type");
      manifest.String(type.data(), static_cast<rapidjson::SizeType>(type.size()));
      manifest.Key("storage");
      manifest.String(summary.storage.data(),
                      static_cast<rapidjson::SizeType>(summary.storage.size()));
      manifest.Key("has_nulls");
      manifest.Bool(summary.has_nulls);
      if (!summary.min_value.empty()) {
        manifest.Key("min");
        manifest.String(summary.min_value.c_str());
        manifest.Key("max");
        manifest.String(summary.max_value.c_str());
      }
      manifest.EndObject();
    }
    manifest.EndArray();
    manifest.EndObject();
    VET_RETURN_IF_ERROR(SyncPath(table_dir));
  }
  manifest.EndArray();
  manifest.EndObject();

  // Last, so that a folder with a manifest is a complete dataset.
  VET_RETURN_IF_ERROR(WriteFileAtomically(absl::StrCat(dir, "/", kColumnarManifestFile),
                                          absl::string_view(buffer.GetString(), buffer.GetSize())));
  return SyncPath(dir);
}

absl::StatusOr<DatasetDescription> DescribeColumnarDataset(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(absl::StrCat("practice has no data yet: ", dir, " missing"));
  }
  const std::string path = absl::StrCat(dir, "/", kColumnarManifestFile);
  VET_ASSIGN_OR_RETURN(std::string content, ReadWholeFile(path));
  auto malformed = [&](absl::string_view what) {
    return absl::DataLossError(absl::StrCat(path, ": ", what));
  };

  rapidjson::Document doc;
  doc.Parse(content.data(), content.size());
  if (doc.HasParseError()) {
    return malformed(absl::StrCat("not JSON: ", rapidjson::GetParseError_En(doc.GetParseError()),
                                  " at offset ", doc.GetErrorOffset()));
  }
  if (!doc.IsObject() || !doc.HasMember("format") || !doc["format"].IsString() ||
      std::strcmp(doc["format"].GetString(), kFormatName) != 0) {
    return malformed("not a columnar dataset manifest");
  }
  if (!doc.HasMember("format_version") || !doc["format_version"].IsInt() ||
      doc["format_version"].GetInt() != kColumnarFormatVersion) {
    return malformed(
        absl::StrCat("unsupported format_version (expected ", kColumnarFormatVersion, ")"));
  }
  if (!doc.HasMember("tables") || !doc["tables"].IsArray()) {
    return malformed("'tables' is not an array");
  }

  DatasetDescription dataset;
  if (doc.HasMember("schema_version") && doc["schema_version"].IsString()) {
    dataset.schema_version = doc["schema_version"].GetString();
  }
  for (const TableSpec& spec : CanonicalSchema()) {
    const rapidjson::Value* found = nullptr;
    for (const rapidjson::Value& t : doc["tables"].GetArray()) {
      if (!t.IsObject() || !t.HasMember("name") || !t["name"].IsString()) {
        return malformed("a table without a name");
      }
      if (spec.name == t["name"].GetString()) found = &t;
    }
    if (found == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("practice has no data yet: ", dir, "/", spec.name, " missing"));
    }
    const rapidjson::Value& t = *found;
    if (!t.HasMember("rows") || !t["rows"].IsInt64() || t["rows"].GetInt64() < 0 ||
        !t.HasMember("columns") || !t["columns"].IsArray()) {
      return malformed(absl::StrCat("table '", spec.name, "' lacks rows or columns"));
    }
    TableDescription desc;
    desc.name = spec.name;
    desc.description = spec.description;
    desc.row_count = t["rows"].GetInt64();
    for (const ColumnSpec& column : spec.columns) {
      ColumnDescription c;
      c.spec = column;
      c.present = false;
      for (const rapidjson::Value& m : t["columns"].GetArray()) {
        if (!m.IsObject() || !m.HasMember("name") || !m["name"].IsString()) {
          return malformed(absl::StrCat("table '", spec.name, "' has a column without a name"));
        }
        if (column.name != m["name"].GetString()) continue;
        c.present = true;
        if (m.HasMember("min") && m["min"].IsString() && m.HasMember("max") &&
            m["max"].IsString()) {
          c.min_value = m["min"].GetString();
          c.max_value = m["max"].GetString();
        }
      }
      desc.columns.push_back(std::move(c));
    }
    dataset.tables.push_back(std::move(desc));
  }
  return dataset;
}

}  // namespace vet::data
