#!/usr/bin/env bash
# Builds the iptables conformance corpus: every rule of the iptables project's extension tests
# (extensions/*.t) loaded into a real kernel with iptables-legacy and iptables-nft, IPv4 and
# IPv6, then saved by the real tools. What it writes (testdata/conformance/iptables/):
#
#   legacy-ipv4.save legacy-ipv6.save nft-ipv4.save nft-ipv6.save   iptables-*-save / ip6tables-*-save
#   nft-list-ruleset.nft nft-list-ruleset-a.nft nft-list-ruleset.json  `nft [-a|-j] list ruleset` of
#                                                                    the iptables-nft tables (xt compat)
#   refused.tsv   each rule a tool or the kernel refused: backend, family, test, table, chain, rule, error
#   README.md     upstream commit, licence note, tool and kernel versions, counts
#
# Usage: sudo scripts/conformance/iptables.sh IPTABLES_SRC [UPSTREAM_COMMIT]
#   IPTABLES_SRC: an iptables source tree (extensions/*.t), e.g.
#     git -C iptables.git archive v1.8.9 extensions COPYING | tar -x -C /tmp/ipt
#   UPSTREAM_COMMIT: the commit the tree is from (recorded in README.md; `git rev-parse` when
#     IPTABLES_SRC is a git work tree).
#
# Real-kernel work happens only in two network namespaces this script creates (tw-conf-legacy,
# tw-conf-nft), deleted on exit by a trap; the root namespace's firewall is never touched.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
src=${1:?usage: iptables.sh IPTABLES_SRC [UPSTREAM_COMMIT]}
src=$(cd "$src" && pwd)
commit=${2:-$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)}
out="$repo/testdata/conformance/iptables"

[ "$(id -u)" = 0 ] || { echo "conformance: needs root (network namespaces)" >&2; exit 1; }
ls "$src"/extensions/*.t >/dev/null 2>&1 || { echo "conformance: no extensions/*.t under $src" >&2; exit 1; }

namespaces=()
tmp=$(mktemp -d)
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null || echo "conformance: could not delete netns $ns" >&2; done
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$out"
: > "$tmp/refused.tsv"
summary=()
nftnotes=()

for backend in legacy nft; do
	ns="tw-conf-$backend"
	ip netns del "$ns" 2>/dev/null || true
	ip netns add "$ns"
	namespaces+=("$ns")
	ip -n "$ns" link set lo up
	node "$here/iptables-rules.mjs" "$src" "$backend" > "$tmp/$backend.rules"
	# One shell in the namespace runs every command: one `ip netns exec`, not one per rule.
	# Each rule line: family, table, chain, test, rule (shell words, as iptables-test.py runs them).
	ip netns exec "$ns" env BACKEND="$backend" bash -c '
		set -u
		while IFS=$'"'"'\t'"'"' read -r family table chain test rule; do
			if [ "$family" = 6 ]; then cmd=ip6tables-$BACKEND; else cmd=iptables-$BACKEND; fi
			if err=$(eval "$cmd -w -t $table -A $chain $rule" 2>&1); then
				printf "ok\t%s\t%s\n" "$family" "$test"
			else
				printf "refused\t%s\t%s\t%s\t%s\t%s\t%s\n" "$family" "$test" "$table" "$chain" "$rule" "$(printf %s "$err" | head -n 1 | tr "\t" " ")"
			fi
		done
	' < "$tmp/$backend.rules" > "$tmp/$backend.results" 2>> "$tmp/stderr.log"
	for family in 4 6; do
		if [ "$family" = 6 ]; then save=ip6tables-$backend-save; name=ipv6; else save=iptables-$backend-save; name=ipv4; fi
		ip netns exec "$ns" "$save" > "$out/$backend-$name.save" 2>> "$tmp/stderr.log"
		tried=$(awk -F'\t' -v f="$family" '$2 == f' "$tmp/$backend.results" | wc -l)
		loaded=$(awk -F'\t' -v f="$family" '$1 == "ok" && $2 == f' "$tmp/$backend.results" | wc -l)
		saved=$(grep -c '^-A ' "$out/$backend-$name.save" || true)
		summary+=("| $backend | $name | $tried | $loaded | $saved |")
	done
	awk -F'\t' -v b="$backend" 'BEGIN {OFS = "\t"} $1 == "refused" {print b, $2, $3, $4, $5, $6, $7}' "$tmp/$backend.results" >> "$tmp/refused.tsv"
	if [ "$backend" = nft ]; then
		# nft reads the iptables-nft tables too (xt compat expressions); it may fail on some of
		# them: say so in the README instead of keeping a cut listing.
		for form in "list-ruleset.nft:" "list-ruleset-a.nft:-a" "list-ruleset.json:-j"; do
			file=$out/nft-${form%%:*}
			if ip netns exec "$ns" nft ${form#*:} list ruleset > "$file" 2>> "$tmp/stderr.log"; then
				nftnotes+=("- \`nft ${form#*:} list ruleset\`: $(wc -l < "$file") lines")
			else
				rc=$?
				rm -f "$file"
				nftnotes+=("- \`nft ${form#*:} list ruleset\` failed on these tables (exit status $rc${rc:+$([ "$rc" = 139 ] && echo ', segmentation fault')}): not kept")
			fi
		done
	fi
done

{
	printf 'backend\tfamily\ttest\ttable\tchain\trule\terror\n'
	cat "$tmp/refused.tsv"
} > "$out/refused.tsv"

cat > "$out/README.md" <<README
# iptables conformance corpus

Every rule of the iptables project's own extension tests (\`extensions/*.t\`, the rules whose
expected result for the backend is OK or NOMATCH) loaded into a real kernel with
iptables-legacy and iptables-nft, IPv4 and IPv6, and saved by the real tools. tracewatch must read
every line of these dumps without a problem, and structure nearly every rule
(test/conformance-iptables.test.ts prints the figures).

Generated by \`scripts/conformance/iptables.sh\` in network namespaces \`tw-conf-legacy\` and
\`tw-conf-nft\`, on $(date -u +%Y-%m-%d).

- Upstream: iptables, git://git.netfilter.org/iptables, commit \`$commit\`
  (the test files are read from that tree and not kept here).
- Tools: $(iptables-legacy --version), $(iptables-nft --version), $(nft --version)
- Kernel: Linux $(uname -r)

## Licence

The dumps are output of the iptables tools run on rules written in the iptables project's test
files, which are part of iptables and licensed under the GNU General Public License, version 2
(GPL-2.0-only; https://www.netfilter.org/projects/iptables/, file COPYING in the iptables source).
They are kept here, with this note, as test data; no copy of the upstream tree is kept.

## Counts

| backend | family | rules tried | loaded | \`-A\` lines saved |
|---|---|---:|---:|---:|
$(printf '%s\n' "${summary[@]}")

libxt_* and iptables.t are loaded in both families (iptables-test.py runs them with iptables
only); what one family refuses (an IPv4 address given to ip6tables, an IPv4-only module) is
listed in \`refused.tsv\` with the tool's first line of error. libarpt_* and libebt_* are
arptables and ebtables tests and are left out. \`@nfct\`/\`@nfacct\` setup lines are not run.

## nft's view of the iptables-nft tables

$(printf '%s\n' "${nftnotes[@]}")
README
echo "conformance: wrote $out" >&2
printf '%s\n' "${summary[@]}" >&2
