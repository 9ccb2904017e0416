// CSV writing for the demo generator (core/data/demo_generator.cc), without
// locale or allocation surprises: every byte is decided here, so the same
// options give the same files on every platform. Internal to the generator.
#ifndef VET_CORE_DATA_DEMO_CSV_H_
#define VET_CORE_DATA_DEMO_CSV_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "core/data/csv.h"
#include "core/data/schema.h"

namespace vet::data::demo {

inline void AppendPadded(int64_t v, int width, std::string* out) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (int i = n; i < width; ++i) out->push_back('0');
  while (n > 0) out->push_back(buf[--n]);
}

inline void AppendDay(absl::CivilDay d, std::string* out) {
  AppendPadded(d.year(), 4, out);
  out->push_back('-');
  AppendPadded(d.month(), 2, out);
  out->push_back('-');
  AppendPadded(d.day(), 2, out);
}

inline void AppendDateTime(absl::CivilDay d, int minute_of_day, std::string* out) {
  AppendDay(d, out);
  out->push_back('T');
  AppendPadded(minute_of_day / 60, 2, out);
  out->push_back(':');
  AppendPadded(minute_of_day % 60, 2, out);
}

// Cents as a decimal with two places: -1234 -> "-12.34".
inline void AppendCents(int64_t cents, std::string* out) {
  if (cents < 0) {
    out->push_back('-');
    cents = -cents;
  }
  AppendPadded(cents / 100, 1, out);
  out->push_back('.');
  AppendPadded(cents % 100, 2, out);
}

// Thousandths as a short decimal: 2000 -> "2", 1500 -> "1.5", -250 -> "-0.25".
inline void AppendMilli(int64_t milli, std::string* out) {
  if (milli < 0) {
    out->push_back('-');
    milli = -milli;
  }
  AppendPadded(milli / 1000, 1, out);
  int64_t frac = milli % 1000;
  if (frac == 0) return;
  int width = 3;
  while (frac % 10 == 0) {
    frac /= 10;
    --width;
  }
  out->push_back('.');
  AppendPadded(frac, width, out);
}

inline std::string Id(absl::string_view prefix, int64_t n, int width) {
  std::string s(prefix);
  AppendPadded(n, width, &s);
  return s;
}

// One CSV record, field by field.
class Row {
 public:
  explicit Row(std::string* out) : out_(out) {}
  ~Row() { out_->push_back('\n'); }
  Row& Text(absl::string_view v) {
    Sep();
    AppendCsvField(v, out_);
    return *this;
  }
  Row& Int(int64_t v) {
    Sep();
    if (v < 0) {
      out_->push_back('-');
      v = -v;
    }
    AppendPadded(v, 1, out_);
    return *this;
  }
  Row& Day(absl::CivilDay d) {
    Sep();
    AppendDay(d, out_);
    return *this;
  }
  Row& DateTime(absl::CivilDay d, int minute) {
    Sep();
    AppendDateTime(d, minute, out_);
    return *this;
  }
  Row& Cents(int64_t c) {
    Sep();
    AppendCents(c, out_);
    return *this;
  }
  Row& Milli(int64_t m) {
    Sep();
    AppendMilli(m, out_);
    return *this;
  }

 private:
  void Sep() {
    if (!first_) out_->push_back(',');
    first_ = false;
  }
  std::string* out_;
  bool first_ = true;
};

inline void AppendHeader(const char* table, std::string* out) {
  const TableSpec* spec = FindTable(table);
  Row row(out);
  for (const ColumnSpec& c : spec->columns) row.Text(c.name);
}

}  // namespace vet::data::demo

#endif  // VET_CORE_DATA_DEMO_CSV_H_
