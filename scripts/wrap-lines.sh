#!/usr/bin/env bash
# wrap-lines.sh — real captures hard-wrapped as a terminal, an e-mail or a paste site wraps them,
# for the tests of joining wrapped lines (test/parser/wrapped.test.ts).
#
# Usage: scripts/wrap-lines.sh OUTDIR CAPTURE...
#
# For each CAPTURE (a kernel log file), writes to OUTDIR, named after the capture's directory:
#   NAME.fold80.log     `fold -w 80`: cut every 80 characters, inside words (a terminal, a paste site)
#   NAME.fold80s.log    `fold -s -w 80`: cut after the last space within 80 characters, which stays
#                       at the end of the line
#   NAME.wrap72.log     `fold -s -w 72`, then the space at each break taken away (an e-mail client
#                       wrapping at a word: the space is not kept on either line)
# Nothing else is changed: joining each file's lines back gives the capture's lines.

set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
out=$1; shift
mkdir -p "$out"
for f in "$@"; do
  name=$(basename "$(dirname "$f")")-$(basename "$f" .log)
  fold -w 80 "$f" >"$out/$name.fold80.log"
  fold -s -w 80 "$f" >"$out/$name.fold80s.log"
  fold -s -w 72 "$f" | sed 's/ $//' >"$out/$name.wrap72.log"
done
