// Splits a question into the words the planner reasons about: lower case,
// punctuation dropped, ISO dates kept whole, "%" as "percent", small number
// words as digits. Each word keeps its original spelling for names
// ("Dr. O'Neil" -> "dr", "oneil" / "O'Neil").
#ifndef VET_CORE_CODEGEN_TOKENIZER_H_
#define VET_CORE_CODEGEN_TOKENIZER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace vet::codegen {

struct Word {
  // Normalised: lower case ASCII, "avg" -> "average", "three" -> "3".
  std::string text;
  // As written in the question, without surrounding punctuation.
  std::string original;
};

// Never fails; an empty or all-punctuation question gives no words. Bytes
// outside ASCII are kept inside words (so an unknown word stays one word).
std::vector<Word> Tokenize(absl::string_view question);

// The `text` of each word.
std::vector<std::string> WordTexts(const std::vector<Word>& words);

}  // namespace vet::codegen

#endif  // VET_CORE_CODEGEN_TOKENIZER_H_
