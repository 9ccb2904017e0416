// WithoutPaths: one pass, a path being a run of path characters that starts
// with '/' where a word starts.
#include "core/common/redact.h"

namespace vet {
namespace {

bool PathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
         c == '.' || c == '_' || c == '-' || c == '+' || c == '@' || c == '~' || c == '%' ||
         c == '=' || c == ',';
}

// Where a path may start: the message's start or after a separator, so
// that "and/or" and "3/4" are left alone.
bool StartsWord(absl::string_view text, size_t i) {
  if (i == 0) return true;
  const char p = text[i - 1];
  return p == ' ' || p == '\t' || p == '\n' || p == '\'' || p == '"' || p == '(' || p == '[' ||
         p == '=' || p == ':' || p == ',';
}

}  // namespace

std::string WithoutPaths(absl::string_view message) {
  std::string out;
  out.reserve(message.size());
  size_t i = 0;
  while (i < message.size()) {
    if (message[i] != '/' || !StartsWord(message, i)) {
      out.push_back(message[i++]);
      continue;
    }
    // "scheme://host": a URL, not a path.
    if (i + 1 < message.size() && message[i + 1] == '/') {
      out.append("//");
      i += 2;
      continue;
    }
    size_t end = i;
    int slashes = 0;
    while (end < message.size() && PathChar(message[end])) {
      if (message[end] == '/') ++slashes;
      ++end;
    }
    // A trailing '.' or ',' ends the sentence, not the path.
    while (end > i && (message[end - 1] == '.' || message[end - 1] == ',')) --end;
    absl::string_view path = message.substr(i, end - i);
    if (slashes < 2 || path.size() < 3) {
      out.append(path.data(), path.size());
    } else {
      absl::string_view last = path;
      while (!last.empty() && last.back() == '/') last.remove_suffix(1);
      last = last.substr(last.rfind('/') + 1);
      out.append(last.empty() ? "..." : std::string(last));
    }
    i = end;
  }
  return out;
}

}  // namespace vet
