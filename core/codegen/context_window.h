// The session's earlier turns as context for a model, within a token budget
// (VET_CONTEXT_TOKENS), like a sliding window: the most recent turns in
// full (question, what it computed, its code) within two thirds of the
// budget (the latest turn may use all of it), older ones compressed to one
// line each (question and the code's intent) in the rest, the oldest
// dropped when even their lines do not fit. Deterministic: the same turns and budget give the
// same text.
#ifndef VET_CORE_CODEGEN_CONTEXT_WINDOW_H_
#define VET_CORE_CODEGEN_CONTEXT_WINDOW_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/codegen/code_generator.h"

namespace vet::codegen {

// Tokens a text costs a model, estimated as one per 3 bytes (rounded up):
// generous for English and code, so a window never overruns its budget.
int64_t EstimateTokens(absl::string_view text);

struct ContextWindow {
  // Empty when there is no history or nothing fits.
  std::string text;
  int full_turns = 0;
  int compressed_turns = 0;
  int dropped_turns = 0;
  // EstimateTokens(text).
  int64_t tokens = 0;
};

// `history` is oldest first. A turn is shown in full only if every turn
// after it is too, so the window always ends with the latest turns.
ContextWindow BuildContextWindow(const std::vector<PriorTurn>& history, int64_t token_budget);

// One turn compressed to one line: "- <question> -> <intent>", where the
// intent is the turn's summary, else the code's first comment, else its
// size.
std::string CompressTurn(const PriorTurn& turn);

}  // namespace vet::codegen

#endif  // VET_CORE_CODEGEN_CONTEXT_WINDOW_H_
