// CsvReader is a byte-at-a-time state machine over a buffer, with a scanning
// fast path for unquoted fields (most of a table), and field bytes kept in
// one reused string so a record costs no allocation once buffers are warm.
#include "core/data/csv.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/common/posix.h"
#include "core/common/unique_fd.h"

namespace vet::data {
namespace {

inline bool IsFieldEnd(char c) { return c == ',' || c == '\n' || c == '\r'; }

absl::Status ErrnoStatus(int err, absl::string_view what, absl::string_view path) {
  return ErrnoToStatus(err, absl::StrCat(what, " ", path));
}

bool NeedsQuotes(absl::string_view field) {
  for (char c : field) {
    if (c == ',' || c == '"' || c == '\n' || c == '\r') return true;
  }
  return false;
}

}  // namespace

CsvReader::CsvReader(UniqueFd fd, std::string name, std::string content, Options options)
    : options_(options), name_(std::move(name)), fd_(std::move(fd)), content_(std::move(content)) {
  if (fd_.valid()) {
    buffer_.resize(options_.buffer_size < 4 ? 4 : options_.buffer_size);
    pos_ = end_ = buffer_.data();
  } else {
    pos_ = content_.data();
    end_ = content_.data() + content_.size();
    eof_ = true;  // nothing left to read beyond content_
  }
}

CsvReader::~CsvReader() = default;

absl::StatusOr<std::unique_ptr<CsvReader>> CsvReader::Open(const std::string& path,
                                                           Options options) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  return std::unique_ptr<CsvReader>(new CsvReader(UniqueFd(fd), path, "", options));
}

absl::StatusOr<std::unique_ptr<CsvReader>> CsvReader::Open(const std::string& path) {
  return Open(path, Options());
}

std::unique_ptr<CsvReader> CsvReader::FromString(std::string content, std::string name,
                                                 Options options) {
  return std::unique_ptr<CsvReader>(
      new CsvReader(UniqueFd(), std::move(name), std::move(content), options));
}

std::unique_ptr<CsvReader> CsvReader::FromString(std::string content, std::string name) {
  return FromString(std::move(content), std::move(name), Options());
}

absl::Status CsvReader::DataLossAt(int64_t line, absl::string_view message) const {
  return absl::DataLossError(absl::StrCat(name_, ":", line, ": ", message));
}

bool CsvReader::Fill() {
  if (eof_ || !error_.ok()) return false;
  while (true) {
    ssize_t n = ::read(fd_.get(), buffer_.data(), buffer_.size());
    if (n > 0) {
      pos_ = buffer_.data();
      end_ = pos_ + n;
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno == EINTR) continue;
    error_ = absl::InternalError(absl::StrCat("cannot read ", name_, ": ", std::strerror(errno)));
    return false;
  }
}

absl::Status CsvReader::CheckSize(int64_t field_line) const {
  // An empty field costs no bytes in record_ but its bookkeeping: counted,
  // or a line of commas would be free.
  if (record_.size() + ends_.size() * kFieldOverheadBytes <= options_.max_record_bytes) {
    return absl::OkStatus();
  }
  return DataLossAt(field_line, absl::StrCat("record longer than ", options_.max_record_bytes,
                                             " bytes (an unbalanced quote?)"));
}

absl::Status CsvReader::EndField() {
  if (ends_.size() >= options_.max_fields) {
    // Refused here, at the first field too many, without reading the rest:
    // a record of a billion commas costs what max_fields of them do.
    return DataLossAt(record_line_,
                      absl::StrCat("record has more than ", options_.max_fields,
                                   " fields, the limit (refused at field ", ends_.size() + 1, ")"));
  }
  ends_.push_back(record_.size());
  return CheckSize(record_line_);
}

absl::StatusOr<bool> CsvReader::Next() {
  fields_.clear();
  if (!started_) {
    started_ = true;
    // A UTF-8 byte order mark is tolerated at the very start only. The
    // buffer holds at least 4 bytes, so the first fill sees all of it.
    static constexpr char kBom[] = "\xEF\xBB\xBF";
    if (Peek() >= 0 && end_ - pos_ >= 3 && std::memcmp(pos_, kBom, 3) == 0) pos_ += 3;
  }
  while (true) {
    int c = Get();
    if (!error_.ok()) return error_;
    if (c < 0) return false;
    if (c == '\n') {
      ++line_;
      continue;
    }
    if (c == '\r') {
      if (Peek() == '\n') ++pos_;
      ++line_;
      continue;
    }
    absl::Status s = ParseRecord(c);
    if (!s.ok()) {
      // Sticky: a reader that failed stays failed.
      error_ = s;
      eof_ = true;
      pos_ = end_;
      return s;
    }
    return true;
  }
}

absl::Status CsvReader::ParseRecord(int c) {
  record_.clear();
  ends_.clear();
  record_line_ = line_;
  while (true) {
    const int64_t field_line = line_;
    if (c == '"') {
      while (true) {
        // Copy up to the next quote, counting the line breaks inside.
        const char* start = pos_;
        const char* quote = static_cast<const char*>(std::memchr(pos_, '"', end_ - pos_));
        const char* stop = quote == nullptr ? end_ : quote;
        for (const char* p = start; p < stop; ++p) {
          if (*p == '\n') ++line_;
        }
        record_.append(start, stop);
        pos_ = stop;
        if (quote != nullptr) {
          ++pos_;  // the quote
          if (Peek() == '"') {
            ++pos_;
            record_.push_back('"');
            continue;
          }
          if (!error_.ok()) return error_;
          break;
        }
        absl::Status size = CheckSize(field_line);
        if (!size.ok()) return size;
        if (!Fill()) {
          if (!error_.ok()) return error_;
          return DataLossAt(field_line, "unterminated quoted field");
        }
      }
      c = Get();
      if (c >= 0 && !IsFieldEnd(static_cast<char>(c))) {
        return DataLossAt(line_, "unexpected character after a closing quote");
      }
    } else {
      if (c >= 0 && !IsFieldEnd(static_cast<char>(c))) {
        record_.push_back(static_cast<char>(c));
        while (true) {
          const char* p = pos_;
          while (p < end_ && !IsFieldEnd(*p)) ++p;
          record_.append(pos_, p);
          pos_ = p;
          if (p < end_) break;
          absl::Status size = CheckSize(field_line);
          if (!size.ok()) return size;
          if (!Fill()) break;
        }
        c = Get();
      }
    }
    if (!error_.ok()) return error_;
    if (absl::Status s = EndField(); !s.ok()) return s;
    if (c == ',') {
      c = Get();
      continue;
    }
    if (c == '\r') {
      if (Peek() == '\n') ++pos_;
      ++line_;
    } else if (c == '\n') {
      ++line_;
    }
    break;
  }
  absl::Status size = CheckSize(record_line_);
  if (!size.ok()) return size;
  fields_.reserve(ends_.size());
  size_t begin = 0;
  for (size_t end : ends_) {
    fields_.emplace_back(record_.data() + begin, end - begin);
    begin = end;
  }
  return absl::OkStatus();
}

void AppendCsvField(absl::string_view field, std::string* out) {
  if (!NeedsQuotes(field)) {
    out->append(field.data(), field.size());
    return;
  }
  out->push_back('"');
  for (char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendCsvRecord(absl::Span<const absl::string_view> fields, std::string* out) {
  if (fields.size() == 1 && fields[0].empty()) {
    out->append("\"\"\n");
    return;
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendCsvField(fields[i], out);
  }
  out->push_back('\n');
}

void AppendCsvRecord(absl::Span<const std::string> fields, std::string* out) {
  std::vector<absl::string_view> views(fields.begin(), fields.end());
  AppendCsvRecord(absl::MakeConstSpan(views), out);
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view content) {
  std::string tmp = absl::StrCat(path, ".tmp.XXXXXX");
  UniqueFd fd(::mkstemp(tmp.data()));
  if (!fd.valid()) {
    return absl::InternalError(
        absl::StrCat("cannot create a temporary file for ", path, ": ", std::strerror(errno)));
  }
  auto fail = [&](absl::string_view what) {
    int err = errno;
    fd.reset();
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(err)));
  };
  // mkstemp makes the file 0600; the sandbox reads the data as another user.
  if (::fchmod(fd.get(), 0644) != 0) return fail("set the mode of");
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd.get(), p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail("sync");
  if (!fd.Close()) return fail("close");
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot rename into ", path, ": ", std::strerror(err)));
  }
  return absl::OkStatus();
}

}  // namespace vet::data
