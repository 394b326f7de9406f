#!/usr/bin/env node
/**
 * Lists the rules of the iptables project's extension tests (extensions/*.t) that a backend
 * should load: what scripts/conformance/iptables.sh feeds to the real tools.
 *
 * Input:  node scripts/conformance/iptables-rules.mjs IPTABLES_SRC legacy|nft
 *         (IPTABLES_SRC: a source tree with extensions/*.t, e.g. a `git archive` of iptables)
 * Output: one rule per line, tab-separated: family (4 or 6), table, chain, test file:line, and
 *         the rule's words as the test writes them (shell words), e.g.
 *         4	raw	PREROUTING	libxt_CT.t:3	-j CT --notrack
 *
 * The .t format (iptables-test.py): `*table` and `:CHAIN,CHAIN` lines set where the following
 * rules go; each test is `RULE;SAVED;RESULT[;VARIANT[;ALT_RESULT]]`. A rule is listed when its
 * result for this backend is OK or NOMATCH (it loads; only its saved form differs): a result
 * scoped to the other variant is inverted, or replaced by ALT_RESULT, as iptables-test.py's
 * variant_res() does. libipt_* files are IPv4 tests, libip6t_* IPv6, libxt_* and iptables.t
 * both (iptables-test.py runs libxt_* with iptables only; the corpus loads them with ip6tables
 * too, and keeps what the kernel accepts). libarpt_* and libebt_* (arptables, ebtables) are not
 * iptables-save formats and are left out. `@command` lines (nfct, nfacct) are not run: rules
 * that need what they create are refused by the kernel and counted as refused.
 */
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';

const [src, backend] = process.argv.slice(2);
if (!src || (backend !== 'legacy' && backend !== 'nft')) {
	console.error('usage: iptables-rules.mjs IPTABLES_SRC legacy|nft');
	process.exit(2);
}
const variant = backend === 'nft' ? 'NFT' : 'LEGACY';
const inverse = {OK: 'FAIL', FAIL: 'OK', NOMATCH: 'OK'};

function result(fields) {
	const [, , res, scope, alt] = fields;
	const r = (res ?? '').trim();
	if (!scope) return r;
	if (scope.trim() === variant) return r;
	return alt ? alt.trim() : inverse[r];
}

const dir = join(src, 'extensions');
for (const file of readdirSync(dir).filter(f => f.endsWith('.t')).sort()) {
	const families = file.startsWith('libipt_') ? [4] : file.startsWith('libip6t_') ? [6] : file.startsWith('libxt_') || file === 'iptables.t' ? [4, 6] : [];
	if (families.length === 0) continue;
	let table = 'filter';
	let chains = [];
	readFileSync(join(dir, file), 'utf8')
		.split('\n')
		.forEach((line, i) => {
			if (line === '' || line.startsWith('#') || line.startsWith('@') || line.startsWith('%')) return;
			if (line.startsWith('*')) {
				table = line.slice(1).trim();
				return;
			}
			if (line.startsWith(':')) {
				chains = line.slice(1).trim().split(',');
				return;
			}
			const fields = line.split(';');
			const r = result(fields);
			if (r !== 'OK' && r !== 'NOMATCH') return;
			for (const family of families) for (const chain of chains) console.log([family, table, chain, `${file}:${i + 1}`, fields[0]].join('\t'));
		});
}
