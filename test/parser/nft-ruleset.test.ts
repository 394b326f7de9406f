/**
 * Native nftables rulesets (`nft list ruleset`, with and without handles) read into the rule
 * model, on real listings: the captures of testdata/nft-rulesets/ (firewalld-, kube-proxy- and
 * Docker-style tables loaded into a kernel and listed by nft 1.0.6) and the listings of
 * testdata/formats/rules/ (an inet table, a bridge table, iptables-nft's own tables).
 *
 * Input:  the listings; Output: tables by family and name, base chains with hook, priority and
 *         policy, rules with handles, matches and targets, sets and maps with their elements.
 */
import {describe, expect, it} from 'vitest';
import {notUnderstood} from '../../src/parser/rule-data.js';
import {parseRuleset, type Chain, type Rule, type Ruleset} from '../../src/parser/ruleset.js';
import {read} from '../support/replay.js';

const CAPTURES = ['firewalld', 'kube-proxy', 'docker'];
const LISTINGS = [
	...CAPTURES.flatMap(n => [`testdata/nft-rulesets/${n}/ruleset.nft`, `testdata/nft-rulesets/${n}/ruleset-a.nft`]),
	...['firewalld', 'kube-proxy'].flatMap(n => ['s', 'n', 'nn', 'y'].map(o => `testdata/nft-rulesets/${n}/ruleset-${o}.nft`)),
	'testdata/formats/rules/nft-inet-list-ruleset-a.nft',
	'testdata/formats/rules/nft-inet-input.nft',
	'testdata/formats/rules/nft-bridge-list-ruleset-a.nft',
	'testdata/formats/rules/nft-bridge-input.nft',
	'testdata/formats/rules/xtmon-nft-list-ruleset-a.nft',
	'testdata/formats/rules/xtmon-nft-list-ruleset-a-end.nft',
];

function load(path: string): Ruleset {
	return parseRuleset(read(path), path);
}

function chain(rs: Ruleset, table: string, name: string): Chain {
	const c = rs.tables.get(table)?.chains.get(name);
	if (!c) throw new Error(`${rs.path}: no chain ${table} ${name}`);
	return c;
}

function allRules(rs: Ruleset): Rule[] {
	return [...rs.tables.values()].flatMap(t => [...t.chains.values()].flatMap(c => c.rules));
}

describe('nft list ruleset: every real listing reads without a problem', () => {
	it.each(LISTINGS)('%s', path => {
		const rs = load(path);
		expect(rs.problems).toEqual([]);
		expect(rs.format).toBe('nft');
		expect(rs.backend).toBe('nft');
		expect(allRules(rs).length).toBeGreaterThan(0);
	});

	it('how many rules are fully structured, and what is still text (printed)', () => {
		let total = 0;
		let full = 0;
		const text: string[] = [];
		for (const path of LISTINGS) {
			for (const r of allRules(load(path))) {
				total++;
				const missing = notUnderstood(r.parsed);
				if (missing.length === 0) full++;
				else text.push(`  ${path}:${r.line} ${r.text}  [${missing.join('; ')}]`);
			}
		}
		console.log(`nft listings: ${full}/${total} rules fully structured (${((100 * full) / total).toFixed(1)} %)\n${text.join('\n')}`);
		// What is left is iptables-nft's xt expressions, whose options nft does not print.
		expect(text.every(t => t.includes('xt match') || t.includes('xt target'))).toBe(true);
		expect(full / total).toBeGreaterThanOrEqual(0.9);
	});

	it('nft list ruleset and nft -a list ruleset give the same rules; only -a has handles', () => {
		for (const n of CAPTURES) {
			const plain = allRules(load(`testdata/nft-rulesets/${n}/ruleset.nft`));
			const handles = allRules(load(`testdata/nft-rulesets/${n}/ruleset-a.nft`));
			expect(handles.map(r => `${r.chain} ${r.pos} ${r.text.replace(/packets \d+ bytes \d+/, '')}`)).toEqual(plain.map(r => `${r.chain} ${r.pos} ${r.text.replace(/packets \d+ bytes \d+/, '')}`));
			expect(plain.every(r => r.handle === undefined)).toBe(true);
			expect(handles.every(r => typeof r.handle === 'number')).toBe(true);
		}
	});
});

describe('nft -s, -n, -nn and -y listings read into the same structure', () => {
	it.each(['firewalld', 'kube-proxy'])('%s: numeric conntrack states and status, numeric priorities, no counters', n => {
		const plain = load(`testdata/nft-rulesets/${n}/ruleset.nft`);
		const shape = (rs: Ruleset) => allRules(rs).map(r => JSON.stringify(r.parsed.matches.filter(m => m.module === 'conntrack').map(m => m.options.map(o => o.value))));
		for (const o of ['n', 'nn']) expect(shape(load(`testdata/nft-rulesets/${n}/ruleset-${o}.nft`)), o).toEqual(shape(plain));
		const stateless = load(`testdata/nft-rulesets/${n}/ruleset-s.nft`);
		expect(allRules(stateless).length).toBe(allRules(plain).length);
		expect(allRules(stateless).every(r => r.counters === undefined)).toBe(true);
		const prio = (rs: Ruleset) => [...rs.tables.values()].flatMap(t => [...t.chains.values()].flatMap(c => (c.nft ? [`${c.name} ${c.nft.priority}`] : [])));
		expect(prio(load(`testdata/nft-rulesets/${n}/ruleset-y.nft`))).toEqual(prio(plain));
	});
});

describe('kube-proxy nftables mode: what the model holds', () => {
	const rs = load('testdata/nft-rulesets/kube-proxy/ruleset-a.nft');

	it('tables by family and name; base chains with type, hook, priority (names and numbers) and policy', () => {
		expect([...rs.tables.keys()]).toEqual(['ip kube-proxy', 'ip tw-trace']);
		expect(rs.family).toBe('ipv4');
		expect(chain(rs, 'ip kube-proxy', 'nat-postrouting')).toMatchObject({builtin: true, policy: 'ACCEPT', nft: {type: 'nat', hook: 'postrouting', priority: 100, priorityText: 'srcnat'}});
		expect(chain(rs, 'ip kube-proxy', 'filter-prerouting').nft).toMatchObject({hook: 'prerouting', priority: -110, priorityText: 'dstnat - 10'});
		expect(chain(rs, 'ip kube-proxy', 'filter-output-post-dnat').nft).toMatchObject({hook: 'output', priority: -90});
		expect(chain(rs, 'ip kube-proxy', 'services')).toMatchObject({builtin: false});
		expect(chain(rs, 'ip kube-proxy', 'services').nft).toBeUndefined();
	});

	it('sets and verdict maps with their elements and the chains they name', () => {
		const sets = rs.tables.get('ip kube-proxy')!.sets!;
		expect(sets.get('cluster-ips')).toMatchObject({map: false, type: 'ipv4_addr', comment: 'Active ClusterIPs'});
		expect(sets.get('cluster-ips')!.elements.map(e => e.text).sort()).toEqual(['198.19.101.20', '198.19.96.1', '198.19.96.10']);
		const services = sets.get('service-ips')!;
		expect(services).toMatchObject({map: true, type: 'ipv4_addr . inet_proto . inet_service : verdict'});
		expect(services.elements.map(e => e.chain).sort()).toEqual(['service-2QRHZV4L-default/kubernetes/tcp/https', 'service-AS2KJYAD-kube-system/kube-dns/tcp/dns-tcp', 'service-FY5PMXPG-kube-system/kube-dns/udp/dns']);
		// The element's comment comes before the colon in nft's output.
		expect(sets.get('no-endpoint-services')!.elements).toEqual([{text: '198.19.101.20 . tcp . 80 comment "default/legacy-web:http" : goto reject-chain', chain: 'reject-chain'}]);
	});

	it('rules: handles, selectors read as iptables matches, NAT, marks, verdict maps, numgen', () => {
		const [mark, pick] = chain(rs, 'ip kube-proxy', 'service-2QRHZV4L-default/kubernetes/tcp/https').rules as [Rule, Rule];
		expect(mark.handle).toBeTypeOf('number');
		expect(mark.syntax).toBe('nft');
		expect(mark.parsed.matches.map(m => [m.module, m.options.map(o => [o.flag, o.name, o.negated])])).toEqual([
			['basic', [['ip daddr', '-d', false], ['ip saddr', '-s', true]]],
			['tcp', [['tcp dport', '--dport', false]]],
		]);
		expect(mark.parsed.target).toMatchObject({name: 'mark-for-masquerade', kind: 'chain', walk: 'jump'});
		expect(pick.parsed.target).toMatchObject({name: 'vmap', kind: 'map', chains: ['endpoint-GTK6MW7G-default/kubernetes/tcp/https__198.18.1.50/6443']});
		const [, dnat] = chain(rs, 'ip kube-proxy', 'endpoint-GTK6MW7G-default/kubernetes/tcp/https__198.18.1.50/6443').rules as [Rule, Rule];
		expect(dnat.parsed.target).toMatchObject({name: 'DNAT', walk: 'ends', options: [{name: '--to-destination', value: {kind: 'nat', nat: {minAddr: '198.18.1.50', minPort: 6443}}}]});
		const [ret, xor, masq] = chain(rs, 'ip kube-proxy', 'masquerading').rules as [Rule, Rule, Rule];
		expect(ret.parsed.matches[0]!.options[0]!.value).toEqual({kind: 'mark', mark: {value: 0, mask: 0x4000}});
		expect(ret.parsed.target?.name).toBe('RETURN');
		expect(xor.parsed.target).toMatchObject({name: 'MARK', walk: 'continues', options: [{name: '--xor-mark', value: {kind: 'mark', mark: {value: 0x4000}}}]});
		expect(masq.parsed.target).toMatchObject({name: 'MASQUERADE', options: [{name: '--random-fully', value: {kind: 'flag'}}]});
		const [dns] = chain(rs, 'ip kube-proxy', 'services').rules as [Rule];
		expect(dns.parsed.target).toMatchObject({kind: 'map', map: 'service-ips'});
		expect(dns.parsed.sets).toEqual(['service-ips']);
	});
});

describe('firewalld and Docker styles, iptables-nft tables', () => {
	it('inet table: ct state sets, interface names, reject with icmpx, a zone dispatch by goto', () => {
		const rs = load('testdata/nft-rulesets/firewalld/ruleset.nft');
		expect(rs.family).toBe('unknown');
		const [est, , lo, , , reject] = chain(rs, 'inet firewalld', 'filter_INPUT').rules as Rule[];
		expect(est!.parsed.matches[0]).toMatchObject({module: 'conntrack', options: [{name: '--ctstate', value: {kind: 'list', items: ['ESTABLISHED', 'RELATED']}}]});
		expect(lo!.parsed.matches[0]!.options[0]!.value).toEqual({kind: 'iface', iface: {text: 'lo', name: 'lo', wildcard: false}});
		expect(reject!.parsed.target).toMatchObject({name: 'REJECT', options: [{name: '--reject-with', value: {kind: 'word', word: 'icmpx-admin-prohibited'}}]});
		expect(chain(rs, 'inet firewalld', 'filter_INPUT').nft).toMatchObject({priority: 10, priorityText: 'filter + 10'});
		expect(chain(rs, 'inet firewalld', 'filter_INPUT_ZONES').rules.map(r => [r.parsed.target?.name, r.goto])).toEqual([
			['filter_IN_internal', true],
			['filter_IN_public', true],
			['filter_IN_public', true],
		]);
		const helper = chain(rs, 'inet firewalld', 'filter_IN_internal_allow').rules[2]!;
		expect(helper.parsed.target).toMatchObject({name: 'CT', options: [{name: '--helper', value: {kind: 'word', word: 'helper-netbios-ns-udp'}}]});
	});

	it('Docker: fib address types, negated interfaces, a DNAT with its comment, counters', () => {
		const rs = load('testdata/nft-rulesets/docker/ruleset.nft');
		const [dnat] = chain(rs, 'ip docker-bridges', 'nat-prerouting-and-output').rules as [Rule];
		expect(dnat.counters).toEqual({packets: 1, bytes: 60});
		expect(dnat.parsed.matches.map(m => m.module)).toEqual(['basic', 'tcp', 'comment']);
		expect(dnat.parsed.matches[0]!.options[0]).toMatchObject({name: '-i', negated: true});
		expect(dnat.parsed.target).toMatchObject({name: 'DNAT', options: [{value: {kind: 'nat', nat: {minAddr: '198.19.0.2', minPort: 80}}}]});
		expect(chain(rs, 'ip docker-bridges', 'nat-PREROUTING').rules[0]!.parsed.matches[0]).toMatchObject({module: 'addrtype', options: [{name: '--dst-type', value: {kind: 'list', items: ['LOCAL']}}]});
	});

	it("iptables-nft's tables in an nft listing: xt matches are kept and said to hide their options", () => {
		const rs = load('testdata/formats/rules/xtmon-nft-list-ruleset-a.nft');
		const table = rs.tables.get('ip filter')!;
		expect(table.iptablesNft).toBe(true);
		const recent = chain(rs, 'ip filter', 'INPUT').rules[1]!;
		expect(recent.parsed.matches.find(m => m.module === 'recent')).toMatchObject({hidden: true});
		expect(notUnderstood(recent.parsed)).toEqual(["xt match recent: its options are not in nft's listing (iptables-nft-save prints them)"]);
		expect(chain(rs, 'ip filter', 'INPUT').rules[0]!.parsed.target).toMatchObject({name: 'TW-CHAIN', kind: 'chain'});
	});
});

describe('nft -j list ruleset reads into the same model', () => {
	it.each([...CAPTURES, 'kube-proxy-broken'])('%s: the same tables, chains, base chain declarations, sets and rules (text and structure) as nft -a list ruleset', n => {
		const json = load(`testdata/nft-rulesets/${n}/ruleset.json`);
		const text = load(`testdata/nft-rulesets/${n}/ruleset-a.nft`);
		expect(json.problems).toEqual([]);
		expect(json.format).toBe('nft-json');
		expect([...json.tables.keys()]).toEqual([...text.tables.keys()]);
		const chains = (rs: Ruleset) => [...rs.tables.values()].flatMap(t => [...t.chains.values()].map(c => [c.name, c.handle, c.policy, c.nft?.hook, c.nft?.priority, c.nft?.type]));
		expect(chains(json).sort()).toEqual(chains(text).sort());
		const rules = (rs: Ruleset) =>
			allRules(rs)
				.map(r => [r.chain, r.pos, r.handle, r.text.replace(/packets \d+ bytes \d+/, ''), JSON.stringify(r.parsed, (k, v) => (typeof v === 'bigint' ? String(v) : k === 'words' || k === 'values' ? undefined : v))].join(' '))
				.sort();
		expect(rules(json)).toEqual(rules(text));
		const sets = (rs: Ruleset) => [...rs.tables.values()].flatMap(t => [...(t.sets?.values() ?? [])].map(s => [s.name, s.map, s.type, s.elements.map(e => e.chain ?? '').sort().join(',')]));
		expect(sets(json).sort()).toEqual(sets(text).sort());
	});
});

describe("what nft's own statements do to the walk (src/netfilter/nft.ts, with the kernel source)", () => {
	const py = read('testdata/conformance/nftables/py-list-ruleset.nft')
		.split(/^(?=# tests\/py\/)/m)
		.flatMap(p => allRules(parseRuleset(p, 'py')));
	const first = (re: RegExp) => py.find(r => re.test(r.text))!;

	it('fwd ends the walk (NF_STOLEN); dup, tproxy and a field set go on; each is understood', () => {
		expect(first(/^fwd to "lo"$/).parsed.target).toMatchObject({name: 'FWD', walk: 'ends', terminates: true});
		expect(first(/^dup to 192\.168\.2\.1 device "lo"$/).parsed.target).toMatchObject({name: 'DUP', walk: 'continues', inert: true});
		expect(first(/tproxy ip to 192\.0\.2\.1:50080$/).parsed.target).toMatchObject({name: 'TPROXY', walk: 'continues', options: [{name: '--on-ip'}, {name: '--on-port', value: {kind: 'number', number: 50080}}]});
		expect(first(/^iif "lo" ip dscp set af23$/).parsed.target).toMatchObject({name: 'MANGLE', walk: 'continues', inert: false, options: [{name: 'set', value: {kind: 'word', word: 'af23'}}]});
		for (const re of [/^fwd to "lo"$/, /^dup to 192\.168\.2\.1 device "lo"$/, /^iif "lo" ip dscp set af23$/]) expect(notUnderstood(first(re).parsed)).toEqual([]);
	});
});

describe('damaged listings never throw', () => {
	/** A fixed sequence of pseudo-random numbers: the same mutations on every run. */
	function random(seed: number): () => number {
		let x = seed;
		return () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
	}

	it('lines of the conformance listings cut, with characters that mean something to nft put in: problems, not exceptions', () => {
		const rnd = random(7);
		const lines = read('testdata/conformance/nftables/py-list-ruleset-a.nft').split('\n');
		let problems = 0;
		for (let n = 0; n < 400; n++) {
			const start = Math.floor(rnd() * (lines.length - 30));
			const damaged = lines.slice(start, start + 30).map(l => {
				if (rnd() > 0.3 || l.length < 3) return l;
				const i = Math.floor(rnd() * l.length);
				return rnd() < 0.5 ? l.slice(0, i) + l.slice(i + 1 + Math.floor(rnd() * 8)) : l.slice(0, i) + ['{', '}', '"', ':', ' . ', '@', '!=', ',', '#'][Math.floor(rnd() * 9)] + l.slice(i);
			});
			const rs = parseRuleset(['table ip t {', '\tchain c {', ...damaged].join('\n'), 'damaged.nft');
			problems += rs.problems.length;
		}
		expect(problems).toBeGreaterThan(0);
	});

	it('nft -j documents with values replaced by null or text: problems, not exceptions', () => {
		const rnd = random(11);
		const docs = read('testdata/conformance/nftables/list-ruleset.ndjson').split('\n').filter(Boolean);
		let problems = 0;
		for (let n = 0; n < 150; n++) {
			const damage = (o: unknown): unknown => {
				if (Array.isArray(o)) return o.map(damage);
				if (o && typeof o === 'object') return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, rnd() < 0.05 ? (rnd() < 0.5 ? null : 'x y') : damage(v)]));
				return o;
			};
			problems += parseRuleset(JSON.stringify(damage(JSON.parse(docs[Math.floor(rnd() * docs.length)]!))), 'damaged.json').problems.length;
		}
		expect(problems).toBeGreaterThan(0);
	});
});

describe('what does not read is kept, never an error', () => {
	it('a statement tracewatch does not read stays as text, and the line still loads', () => {
		// `flow add @ft`: offload to a flowtable.
		const edited = read('testdata/nft-rulesets/firewalld/ruleset.nft').replace('tcp dport 9090 accept', 'tcp dport 9090 flow add @ft accept');
		const rs = parseRuleset(edited, 'edited.nft');
		expect(rs.problems).toEqual([]);
		const rule = chain(rs, 'inet firewalld', 'filter_IN_public_allow').rules[2]!;
		expect(rule.parsed.unread).toEqual(['flow add @ft']);
		expect(notUnderstood(rule.parsed)).toEqual(['statement flow add @ft']);
		expect(rule.parsed.target?.name).toBe('ACCEPT');
	});

	it('a line that is no nft syntax is a problem with its line, and the rest loads', () => {
		const text = read('testdata/nft-rulesets/docker/ruleset.nft').replace('\tchain raw-PREROUTING {', '\tchain raw-PREROUTING {\n\t\t}{ stray');
		const rs = parseRuleset(text, 'cut.nft');
		expect(rs.problems).toHaveLength(1);
		expect(rs.problems[0]).toMatchObject({line: expect.any(Number), message: expect.stringMatching(/^not an nft ruleset line/)});
		expect(allRules(rs).length).toBe(allRules(load('testdata/nft-rulesets/docker/ruleset.nft')).length);
	});
});

describe('a file as written: define variables are substituted as nft substitutes them', () => {
	const text = [
		'define trusted = { 198.18.5.0/24, 198.18.6.1 }',
		'define web_ports = { 80, 443 }',
		'define lan = "eth1"',
		'define all_ports = { $web_ports, 8443 }',
		'table inet filter {',
		'\tchain input {',
		'\t\ttype filter hook input priority filter; policy drop;',
		'\t\tiifname $lan ip saddr $trusted tcp dport $web_ports accept',
		'\t\tip saddr $trusted tcp dport $all_ports counter accept',
		'\t}',
		'}',
		'',
	].join('\n');

	const json = (x: unknown) => JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

	it('the rule is structured from the values; its text keeps the variables', () => {
		const rs = parseRuleset(text, 'filter.nft');
		expect(rs.problems).toEqual([]);
		const [first, second] = rs.tables.get('inet filter')!.chains.get('input')!.rules;
		expect(first!.text).toBe('iifname $lan ip saddr $trusted tcp dport $web_ports accept');
		expect(notUnderstood(first!.parsed)).toEqual([]);
		expect(json(first!.parsed)).toContain('198.18.6.1');
		expect(json(first!.parsed)).toContain('eth1');
		expect(json(first!.parsed)).toContain('443');
		// A define that uses another one.
		expect(json(second!.parsed)).toContain('8443');
		expect(json(second!.parsed)).toContain('443');
		expect(notUnderstood(second!.parsed)).toEqual([]);
	});
});
