#include "tests/testing/personal_data_check.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/data/schema.h"
#include "rapidjson/document.h"

namespace vet::testing {
namespace {

bool IsWordByte(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool ContainsWord(absl::string_view haystack, absl::string_view word) {
  for (size_t at = haystack.find(word); at != absl::string_view::npos;
       at = haystack.find(word, at + 1)) {
    const bool left = at == 0 || !IsWordByte(haystack[at - 1]);
    const size_t end = at + word.size();
    const bool right = end == haystack.size() || !IsWordByte(haystack[end]);
    if (left && right) return true;
  }
  return false;
}

std::string Digits(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) out.push_back(c);
  }
  return out;
}

// `text` with the separators a phone number is written with removed, so
// that "+1 (555) 123-4567" reads "15551234567".
std::string WithoutPhoneSeparators(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '+' || c == '/') continue;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::vector<PersonalValue> ReadPersonalValuesOf(const std::string& data_dir) {
  std::vector<PersonalValue> out;
  for (const data::TableSpec& table : data::CanonicalSchema()) {
    for (const data::ColumnSpec& column : table.columns) {
      if (!column.personal) continue;
      std::ifstream in(absl::StrCat(data_dir, "/", table.name, "/", column.name, ".dict"));
      if (!in) continue;
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      rapidjson::Document doc;
      doc.Parse(text.c_str(), text.size());
      if (doc.HasParseError() || !doc.IsArray()) continue;
      for (const auto& v : doc.GetArray()) {
        if (v.IsString()) {
          out.push_back({absl::StrCat(table.name, ".", column.name), v.GetString()});
        }
      }
    }
  }
  return out;
}

std::vector<std::string> PersonalValuesIn(absl::string_view bytes,
                                          const std::vector<PersonalValue>& values) {
  const std::string lower = absl::AsciiStrToLower(bytes);
  const std::string compact = WithoutPhoneSeparators(lower);
  absl::flat_hash_set<std::string> seen;
  std::vector<std::string> found;
  for (const PersonalValue& v : values) {
    const std::string value = absl::AsciiStrToLower(absl::StripAsciiWhitespace(v.value));
    if (value.size() < 2) continue;
    bool present = value.size() >= 5 ? absl::StrContains(lower, value) : ContainsWord(lower, value);
    if (!present && absl::EndsWith(v.column, ".phone")) {
      const std::string digits = Digits(value);
      if (digits.size() >= 10)
        present = absl::StrContains(compact, digits.substr(digits.size() - 10));
    }
    std::string entry = absl::StrCat(v.column, "=", v.value);
    if (present && seen.insert(entry).second) found.push_back(std::move(entry));
  }
  return found;
}

std::vector<std::string> PersonalValuesOfAnyPracticeIn(absl::string_view bytes,
                                                       const std::string& state_dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& practice : std::filesystem::directory_iterator(state_dir + "/practices", ec)) {
    const std::string data = practice.path().string() + "/data";
    for (std::string& f : PersonalValuesIn(bytes, ReadPersonalValuesOf(data))) {
      found.push_back(absl::StrCat(practice.path().filename().string(), ": ", f));
    }
  }
  return found;
}

}  // namespace vet::testing
