#!/usr/bin/env bash
# Builds the nftables conformance corpus: every ruleset dump of the nftables project's shell
# tests (tests/shell/testcases/**/dumps/*.nft) loaded into a real kernel with `nft -f`, one at a
# time in a fresh ruleset, and listed by the real tool. What it writes
# (testdata/conformance/nftables/):
#
#   list-ruleset.nft     `nft list ruleset` of every dump the kernel took, each after a line
#                        `# tests/shell/testcases/…/dumps/NAME.nft`
#   list-ruleset-a.nft   the same with `nft -a`
#   list-ruleset.ndjson  `nft -j list ruleset`, one JSON document per line, in the same order
#   refused.tsv          each dump nft or the kernel refused: the dump, nft's first line of error
#   py-list-ruleset.nft, py-list-ruleset-a.nft, py-list-ruleset.ndjson, py-refused.tsv
#                        the same for the Python tests (tests/py/**/*.t): every rule expected ok
#                        added to its file's tables and chains, each file's ruleset listed
#   README.md            upstream commit, licence note, tool and kernel versions, counts
#
# Usage: sudo scripts/conformance/nftables.sh NFTABLES_SRC [UPSTREAM_COMMIT]
#   NFTABLES_SRC: an nftables source tree (tests/shell/testcases, tests/py), e.g.
#     git clone git://git.netfilter.org/nftables
#   UPSTREAM_COMMIT: the commit the tree is from (`git rev-parse` when NFTABLES_SRC is a work tree).
#
# Real-kernel work happens only in one network namespace this script creates (tw-conf-nftables),
# deleted on exit by a trap; the root namespace's firewall is never touched.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
src=${1:?usage: nftables.sh NFTABLES_SRC [UPSTREAM_COMMIT]}
src=$(cd "$src" && pwd)
commit=${2:-$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)}
out="$repo/testdata/conformance/nftables"
ns=tw-conf-nftables

[ "$(id -u)" = 0 ] || { echo "conformance: needs root (network namespaces)" >&2; exit 1; }
ls "$src"/tests/shell/testcases/*/dumps/*.nft >/dev/null 2>&1 || { echo "conformance: no tests/shell/testcases/*/dumps/*.nft under $src" >&2; exit 1; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	ip netns del "$ns" 2>/dev/null || true
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns del "$ns" 2>/dev/null || true
ip netns add "$ns"
ip -n "$ns" link set lo up
# Devices some dumps name (netdev and flowtable tests).
for dev in dummy0 dummy1 eth0 eth1; do ip -n "$ns" link add "$dev" type veth peer name "${dev}p" 2>/dev/null && ip -n "$ns" link set "$dev" up || true; done

mkdir -p "$out"
: > "$out/list-ruleset.nft"; : > "$out/list-ruleset-a.nft"; : > "$out/list-ruleset.ndjson"; : > "$out/refused.tsv"
tried=0; loaded=0
cd "$src"
for f in tests/shell/testcases/*/dumps/*.nft; do
	tried=$((tried + 1))
	ip netns exec "$ns" nft flush ruleset
	if ! err=$(ip netns exec "$ns" nft -f "$f" 2>&1); then
		printf '%s\t%s\n' "$f" "$(printf '%s' "$err" | head -1 | tr '\t' ' ')" >> "$out/refused.tsv"
		continue
	fi
	listing=$(ip netns exec "$ns" nft list ruleset)
	[ -n "$listing" ] || { printf '%s\t%s\n' "$f" "(empty ruleset)" >> "$out/refused.tsv"; continue; }
	loaded=$((loaded + 1))
	{ echo "# $f"; printf '%s\n' "$listing"; } >> "$out/list-ruleset.nft"
	{ echo "# $f"; ip netns exec "$ns" nft -a list ruleset; } >> "$out/list-ruleset-a.nft"
	ip netns exec "$ns" nft -j list ruleset >> "$out/list-ruleset.ndjson"
done
ip netns exec "$ns" nft flush ruleset

# The Python tests (tests/py/**/*.t): each file's tables, chains and sets, then every rule whose
# expected result is ok, added one by one as nft-test.py adds them; the ruleset listed after each file.
py_tried=0; py_loaded=0
if ls "$src"/tests/py/*/*.t >/dev/null 2>&1; then
	node "$here/nftables-py.mjs" "$src" > "$out/.py-commands"
	: > "$out/py-list-ruleset.nft"; : > "$out/py-list-ruleset-a.nft"; : > "$out/py-list-ruleset.ndjson"; : > "$out/py-refused.tsv"
	ip netns exec "$ns" env OUT="$out" bash -c '
		set -u
		tried=0; loaded=0; file=""
		flush_file() {
			[ -n "$file" ] || return 0
			if [ -n "$(nft list ruleset)" ]; then
				{ echo "# $file"; nft list ruleset; } >> "$OUT/py-list-ruleset.nft"
				{ echo "# $file"; nft -a list ruleset; } >> "$OUT/py-list-ruleset-a.nft"
				nft -j list ruleset >> "$OUT/py-list-ruleset.ndjson" 2>/dev/null
			fi
			nft flush ruleset
		}
		while IFS=$'"'"'	'"'"' read -r kind at cmd; do
			case $kind in
			"# "*) flush_file; file=${kind#\# } ;;
			setup) nft -f - <<< "$cmd" 2>/dev/null || true ;;
			rule)
				tried=$((tried + 1))
				if err=$(nft -f - <<< "$cmd" 2>&1); then loaded=$((loaded + 1)); else printf "%s\t%s\t%s\n" "$at" "$cmd" "$(printf "%s" "$err" | grep -m1 Error | tr "\t" " ")" >> "$OUT/py-refused.tsv"; fi ;;
			esac
		done < "$OUT/.py-commands"
		flush_file
		echo "$tried $loaded" > "$OUT/.py-counts"
	'
	read -r py_tried py_loaded < "$out/.py-counts"
	rm -f "$out/.py-commands" "$out/.py-counts"
fi

cat > "$out/README.md" <<MD
# nftables conformance corpus

Every ruleset dump of the nftables project's shell tests (\`tests/shell/testcases/**/dumps/*.nft\`)
loaded into a real kernel with \`nft -f\` (one at a time, each into an empty ruleset) and listed
by the real tool: \`list-ruleset.nft\` (\`nft list ruleset\`), \`list-ruleset-a.nft\` (\`nft -a list
ruleset\`), \`list-ruleset.ndjson\` (\`nft -j list ruleset\`, one document per dump). Each listing
in the .nft files follows a line \`# tests/shell/testcases/…\` naming its dump. What this kernel or
this nft refused is in \`refused.tsv\` with nft's first line of error.
tracewatch must read every listing without a problem (test/conformance-nftables.test.ts prints
how many rules it structures fully, and what is still text).

Generated by \`scripts/conformance/nftables.sh\` in network namespace \`$ns\` on $(date -u +%F).

- Upstream: nftables test suite, commit \`$commit\` ($(sed -n 's/^AC_INIT(\[nftables\], \[\([^]]*\)\].*/nftables \1/p' configure.ac 2>/dev/null || echo nftables)); the test files are read from that tree and not kept here.
- Tools: $(ip netns exec "$ns" nft --version)
- Kernel: Linux $(uname -r)

## Licence

The listings are output of nft run on rulesets written in the nftables project's test files,
which are part of nftables and licensed under the GNU General Public License, version 2
(GPL-2.0-only; https://www.netfilter.org/projects/nftables/, file COPYING in the nftables source).
They are kept here, with this note, as test data; no copy of the upstream tree is kept.

## Counts

| dumps tried | loaded and listed | refused |
|---:|---:|---:|
| $tried | $loaded | $((tried - loaded)) |

## The Python tests (tests/py)

Every rule of \`tests/py/**/*.t\` whose expected result is \`ok\`, added with \`nft add rule\` to each
table and chain its file declares (as nft-test.py does, sets and elements first), then each file's
ruleset listed: \`py-list-ruleset.nft\`, \`py-list-ruleset-a.nft\` (each after \`# tests/py/…\`) and
\`py-list-ruleset.ndjson\`. Rules this kernel or nft refused are in \`py-refused.tsv\` (the .t line,
the command, nft's error).

| rules tried | added |
|---:|---:|
| $py_tried | $py_loaded |
MD
echo "nftables conformance: $loaded of $tried dumps loaded and listed; $py_loaded of $py_tried Python-test rules added ($out)"
