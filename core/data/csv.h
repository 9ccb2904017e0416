// RFC 4180 CSV: a streaming reader that reports the physical line each record
// starts on (for error messages), and writer helpers that quote only when a
// field needs it. The format of every table a practice exports.
#ifndef VET_CORE_DATA_CSV_H_
#define VET_CORE_DATA_CSV_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/common/unique_fd.h"

namespace vet::data {

// Reads records one at a time from a file (through a fixed-size buffer, so
// memory does not grow with the file) or from a string.
//
// Accepts: fields separated by commas; records ended by LF, CRLF or a lone
// CR; fields in double quotes holding commas, line breaks and doubled quotes
// (""); a UTF-8 byte order mark at the very start. Empty lines are skipped
// (as pandas does), so a record is never empty. A quote inside an unquoted
// field is kept as a literal character. Fields are not trimmed.
//
// Errors are kDataLoss with "<name>:<line>: <what>", where <line> is the
// 1-based physical line the offending record or field starts on (inside
// quoted fields only LF counts as a line break):
// an unterminated quoted field, a character after a closing quote, a record
// over Options::max_record_bytes, a record with more than Options::max_fields
// fields (refused at the first field past the limit: the rest of the record
// is not read). Messages never contain field values. A read error is
// kInternal.
//
// Memory: whatever the input's shape (one endless record, millions of empty
// fields, a quoted field with a million line breaks), a reader holds at most
// its buffer plus twice max_record_bytes (a growing string's capacity may
// reach twice its size), so by default under 33 MiB; a record's bookkeeping
// (kFieldOverheadBytes per field) counts toward max_record_bytes, not only
// its field bytes.
//
// Not thread-safe; one reader per thread.
class CsvReader {
 public:
  struct Options {
    // Bytes read from the file at a time (at least 4).
    size_t buffer_size = 64 << 10;
    // A longer record is an error, so that a stray quote cannot make the
    // reader hold the rest of a large file in memory. Counts the field bytes
    // and kFieldOverheadBytes per field.
    size_t max_record_bytes = 16 << 20;
    // A record with more fields is an error. Readers of a known table set
    // it to what the table can have (import_validator.h); this default only
    // keeps a record of commas from costing more than its bytes.
    size_t max_fields = 4096;
  };

  // What the reader keeps per field besides its bytes: its end offset and
  // its string_view.
  static constexpr size_t kFieldOverheadBytes = sizeof(size_t) + sizeof(absl::string_view);

  // Opens `path`. kNotFound if it does not exist, kPermissionDenied if it
  // cannot be read for lack of permission, kInternal for other failures.
  static absl::StatusOr<std::unique_ptr<CsvReader>> Open(const std::string& path, Options options);
  static absl::StatusOr<std::unique_ptr<CsvReader>> Open(const std::string& path);

  // Reads `content`; `name` stands for the file in error messages.
  static std::unique_ptr<CsvReader> FromString(std::string content, std::string name,
                                               Options options);
  static std::unique_ptr<CsvReader> FromString(std::string content, std::string name);

  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next record. Returns true when one was read (see fields()),
  // false at the end of the input, or an error as described above; after an
  // error or the end, further calls return the same.
  absl::StatusOr<bool> Next();

  // The fields of the record Next() read; valid until the next call to
  // Next().
  const std::vector<absl::string_view>& fields() const { return fields_; }

  // The 1-based physical line the current record starts on.
  int64_t line() const { return record_line_; }

  // The path, or the name given to FromString().
  const std::string& name() const { return name_; }

  // kDataLoss "<name>:<line>: <message>" for the current record, for callers
  // that find a record does not fit their schema.
  absl::Status DataLossAt(int64_t line, absl::string_view message) const;

 private:
  CsvReader(UniqueFd fd, std::string name, std::string content, Options options);

  // Refills the buffer; false at the end of input or on error (error_ set).
  bool Fill();
  // The next byte, or -1 at the end of input.
  int Get() {
    if (pos_ == end_ && !Fill()) return -1;
    return static_cast<unsigned char>(*pos_++);
  }
  int Peek() {
    if (pos_ == end_ && !Fill()) return -1;
    return static_cast<unsigned char>(*pos_);
  }
  absl::Status ParseRecord(int c);
  absl::Status CheckSize(int64_t field_line) const;
  // Ends the current field, or refuses the record past max_fields.
  absl::Status EndField();

  const Options options_;
  const std::string name_;
  UniqueFd fd_;  // none when reading from content_
  std::string content_;
  std::string buffer_;
  const char* pos_ = nullptr;
  const char* end_ = nullptr;
  bool started_ = false;
  bool eof_ = false;
  absl::Status error_;

  int64_t line_ = 1;  // the line of the next unread byte
  int64_t record_line_ = 0;
  std::string record_;        // the current record's field bytes, concatenated
  std::vector<size_t> ends_;  // end offset of each field in record_
  std::vector<absl::string_view> fields_;
};

// Appends `field` to `*out`, in double quotes (inner quotes doubled) only
// when it holds a comma, a double quote, CR or LF.
void AppendCsvField(absl::string_view field, std::string* out);

// Appends the fields, comma-separated, and a LF. A record of one empty field
// is written as "" so that it does not read back as an (ignored) empty line.
void AppendCsvRecord(absl::Span<const absl::string_view> fields, std::string* out);
void AppendCsvRecord(absl::Span<const std::string> fields, std::string* out);

// Replaces `path` with `content` atomically: writes a temporary file beside
// it (mode 0644), syncs it and renames it over `path`, so readers see the old
// file or the new one, never part of one. Returns kInternal naming the path on
// an I/O failure; the temporary file is then removed.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view content);

}  // namespace vet::data

#endif  // VET_CORE_DATA_CSV_H_
