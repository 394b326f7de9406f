#!/usr/bin/env node
/**
 * The nftables project's Python tests (tests/py/**\/*.t) as nft commands, for
 * scripts/conformance/nftables.sh.
 *
 * Input:  NFTABLES_SRC (a source tree). A .t file declares chains (`:input;type filter hook
 *         input priority 0`), tables (`*ip;test-ip4;input`), sets (`!set1 type ipv4_addr;ok`),
 *         set elements (`?set1 192.168.3.4;ok`) and rules (`tcp dport 22;ok`, `…;fail`; a leading
 *         `- ` disables a line).
 * Output: on stdout, one line per test file `# FILE`, then one line per command, tab-separated:
 *         kind (setup|rule), the .t line, the nft command. A rule is added to every table and
 *         chain the file names before it, as nft-test.py does; only rules whose expected result
 *         is ok are given.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {join, relative} from 'node:path';

const src = process.argv[2];
if (!src) {
	console.error('usage: nftables-py.mjs NFTABLES_SRC');
	process.exit(2);
}

function files(dir) {
	return readdirSync(dir)
		.sort()
		.flatMap(name => {
			const p = join(dir, name);
			return statSync(p).isDirectory() ? files(p) : p.endsWith('.t') ? [p] : [];
		});
}

const out = [];
for (const file of files(join(src, 'tests/py'))) {
	out.push(`# ${relative(src, file)}`);
	const chains = new Map();
	let tables = [];
	readFileSync(file, 'utf8')
		.split('\n')
		.forEach((raw, i) => {
			const line = raw.trim();
			if (line === '' || line.startsWith('#') || line.startsWith('- ')) return;
			const at = `${relative(src, file)}:${i + 1}`;
			if (line.startsWith(':')) {
				const [name, spec] = line.slice(1).split(';');
				chains.set(name, spec);
				return;
			}
			if (line.startsWith('*')) {
				const [family, table, list] = line.slice(1).split(';');
				tables.push({family, table, chains: (list ?? '').split(',').filter(Boolean)});
				out.push(`setup\t${at}\tadd table ${family} ${table}`);
				for (const c of (list ?? '').split(',').filter(Boolean)) {
					const spec = chains.get(c);
					out.push(`setup\t${at}\tadd chain ${family} ${table} ${c}${spec ? ` { ${spec}; }` : ''}`);
				}
				return;
			}
			const [body, result] = line.slice(line.startsWith('!') || line.startsWith('?') ? 1 : 0).split(';');
			if (result !== 'ok') return;
			if (line.startsWith('!')) {
				// !set1 type ipv4_addr [flags interval] [timeout 30s]
				const [, name, rest] = /^(\S+)\s+(.*)$/.exec(body) ?? [];
				if (!name) return;
				const props = rest.replace(/\b(type|typeof|flags|timeout|size|policy|counter|comment)\b/g, ';$1').replace(/^;/, '');
				for (const t of tables) out.push(`setup\t${at}\tadd ${/ : /.test(rest) ? 'map' : 'set'} ${t.family} ${t.table} ${name} { ${props}; }`);
				return;
			}
			if (line.startsWith('?')) {
				const [, name, elems] = /^(\S+)\s+(.*)$/.exec(body) ?? [];
				if (!name) return;
				for (const t of tables) out.push(`setup\t${at}\tadd element ${t.family} ${t.table} ${name} { ${elems} }`);
				return;
			}
			for (const t of tables) for (const c of t.chains) out.push(`rule\t${at}\tadd rule ${t.family} ${t.table} ${c} ${body}`);
		});
	tables = [];
}
process.stdout.write(`${out.join('\n')}\n`);
