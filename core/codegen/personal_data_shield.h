// Keeps the values of a practice's personal columns (client names, e-mails,
// phones, postal codes, animal names: the schema's personal marks) from ever
// reaching a model. Every text the model path sends (the question, the
// session's earlier turns, the code that failed and its error) goes through
// Redaction::Hide first, which replaces each personal value found in it by a
// placeholder such as <client_last_name_1>; the model writes code with the
// placeholder in a string literal, and Redaction::Reveal puts the real value
// back into that code before it runs in the sandbox. The model sees the
// question's shape ("How much did <client_first_name_1> <client_last_name_1>
// spend last year?"), never the person.
//
// What counts as appearing, case-insensitively:
//   - a value as a whole word or words, whatever separates its words
//     ("Olivia  Ashbury", "olivia.ashbury.12@example.com", "DEMO 03");
//   - a value inside a longer word, when the word is made of values (and
//     digits) alone ("OliviaAshbury", "ashbury12"), or when the value is at
//     least 5 characters long ("xxOliviaxx");
//   - a phone number's digits however they are written ("+1 (555) 123-4567",
//     "5551234567"), as soon as 7 or more of them appear in a row;
//   - the words of an e-mail's local part ("jsmith1987 at gmail dot com").
// Not treated as personal, because they identify no one alone and hiding them
// would change what questions mean: values under 2 characters; and single
// words the product's own language uses: month and weekday names, the
// schema's table, column and enum names, the words the planner understands
// ("max", "price", "bill"), years (1900-2100) and numbers under 5 digits.
// A value of several words is always hidden (a client called "May Price").
// docs/SECURITY.md says what this does not stop (a model told to encode what
// it reads: the sandbox's output only reaches the model as a repair error of
// 300 characters, hidden like the rest).
#ifndef VET_CORE_CODEGEN_PERSONAL_DATA_SHIELD_H_
#define VET_CORE_CODEGEN_PERSONAL_DATA_SHIELD_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "core/data/personal_values.h"

namespace vet::codegen {

// Immutable once built; thread-safe.
class PersonalDataShield {
 public:
  explicit PersonalDataShield(const std::vector<data::PersonalColumn>& columns);

  // One shield per set of values, built on first use and shared while the
  // values are alive (one dataset version); nullptr for nullptr.
  static std::shared_ptr<const PersonalDataShield> For(
      const std::shared_ptr<const std::vector<data::PersonalColumn>>& values);

  // Distinct values indexed (after the exceptions above).
  size_t size() const { return entries_.size(); }

  // The hiding of one request: a value gets the same placeholder in every
  // text of the request (numbered per kind in order of first appearance),
  // and Reveal knows only the placeholders this request handed out.
  // Thread-compatible.
  class Redaction {
   public:
    // A null shield hides nothing.
    explicit Redaction(std::shared_ptr<const PersonalDataShield> shield);

    // Prose: a question, a summary, an error message.
    std::string Hide(absl::string_view text);
    // Python: hides inside string literals and comments only, so that a pet
    // called Max never turns `.max()` into a placeholder.
    std::string HideInCode(absl::string_view code);
    // The placeholders of this request in `code` replaced by their values,
    // written as the spot needs: escaped inside a string literal (braces
    // doubled in an f-string), a quoted literal in code, as is in a comment.
    std::string Reveal(absl::string_view code) const;

    // Distinct values hidden so far.
    size_t hidden() const { return placeholder_of_.size(); }

   private:
    const std::string& PlaceholderFor(int entry);

    std::shared_ptr<const PersonalDataShield> shield_;
    absl::flat_hash_map<int, std::string> placeholder_of_;
    absl::flat_hash_map<std::string, int> entry_of_;
    std::vector<int> next_number_;  // per label
  };

 private:
  struct Entry {
    std::string value;  // as stored
    int label = 0;      // index into labels_
  };
  struct Sequence {
    std::vector<std::string> words;
    int entry = 0;
  };
  // Replacement of text[begin, end) by entry's placeholder.
  struct Match {
    size_t begin = 0;
    size_t end = 0;
    int entry = 0;
  };

  int AddEntry(absl::string_view value, int label);
  void IndexValue(absl::string_view value, int label, bool email, bool phone);
  // Every match in `text`, in order, not overlapping.
  std::vector<Match> Find(absl::string_view text) const;
  void FindPhones(absl::string_view text, std::vector<Match>& out) const;
  // A word that is not a value: the values inside it.
  void FindInsideWord(size_t begin, absl::string_view lower, std::vector<Match>& out) const;

  std::vector<std::string> labels_;  // "client_first_name"
  std::vector<Entry> entries_;
  absl::flat_hash_map<std::string, int> entry_by_value_;  // lower-case words joined by ' '
  absl::flat_hash_map<std::string, int> words_;           // one-word values
  absl::flat_hash_map<std::string, std::vector<Sequence>> sequences_;  // by first word
  absl::flat_hash_map<std::string, int> phone_digits_;  // 7+ trailing digits of a phone
  size_t longest_word_ = 0;
  size_t longest_phone_ = 0;
};

}  // namespace vet::codegen

#endif  // VET_CORE_CODEGEN_PERSONAL_DATA_SHIELD_H_
