#!/usr/bin/env bash
# clang-format on the C++ lines a change touched (git clang-format), in the
# house style (.clang-format; clients/.clang-format for vetctl).
#   scripts/format.sh [BASE]          formats the changed lines since BASE
#                                      (default: the merge base with main)
#   scripts/format.sh --check [BASE]  changes nothing; exits 1 and shows the
#                                      diff when a changed line is not formatted
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
base=${1:-$(git merge-base HEAD main 2>/dev/null || echo HEAD~1)}
formatter=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$formatter" ]; then
  echo "format: clang-format is not installed (apt-get install clang-format)" >&2
  exit 2
fi
if [ "$check" = 1 ]; then
  out=$(git clang-format --binary "$formatter" --diff "$base" -- '*.cc' '*.h' || true)
  if [ -z "$out" ] || echo "$out" | grep -q "^no modified files\|^clang-format did not modify"; then
    echo "format: the changed lines since $base are formatted"
    exit 0
  fi
  echo "$out"
  echo "format: run scripts/format.sh $base to format them" >&2
  exit 1
fi
git clang-format --binary "$formatter" "$base" -- '*.cc' '*.h'
