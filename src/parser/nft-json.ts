/**
 * parseNftJson: `nft -j list ruleset` → Ruleset, the same model `nft list ruleset` gives.
 *
 * Input:  {"nftables":[{"metainfo":…}, {"table":{"family":"ip","name":"kube-proxy","handle":1}},
 *          {"chain":{"family":"ip","table":"kube-proxy","name":"nat-postrouting","handle":8,"type":"nat","hook":"postrouting","prio":100,"policy":"accept"}},
 *          {"rule":{"family":"ip","table":"kube-proxy","chain":"masquerading","handle":53,"expr":[{"masquerade":{"flags":"fully-random"}}]}}, …]}
 * Output: tables, chains and sets as parseNftRuleset makes them; each rule with the text nft list
 *         would print (`masquerade fully-random`), read by the NftRuleset grammar into its structure.
 *
 * JSON is read with JSON.parse. Each rule's expressions are written back as nft's text syntax
 * (the syntax nft documents for them in libnftables-json(5)), and that text is read by the same
 * grammar as a listing: one definition of the rule syntax, and the same rule text for joins and
 * diffs. An expression this printer does not know is written as a word of its own (`json:tproxy`),
 * which the rule keeps as a statement it does not read. `line` of a table, chain, set or rule is
 * its 1-based index in the `nftables` array.
 */
import {nftRulesetGrammar} from './grammar.js';
import {assembleNftRule, nftRule} from './nft-rule.js';
import type {Chain, NftSet, Ruleset, RulesetProblem, Table} from './ruleset.js';
import {nftRulesetSemantics} from './semantics/nft-ruleset.js';
import type {NftStatement} from './semantics/to-nft-line.js';

type Json = null | boolean | number | string | Json[] | {[key: string]: Json};
type Obj = {[key: string]: Json};

function isObj(x: Json | undefined): x is Obj {
	return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Does the text look like `nft -j list ruleset`? */
export function looksLikeNftJson(text: string): boolean {
	return /^\s*\{\s*"nftables"\s*:/.test(text.slice(0, 200));
}

/** Meta keys nft prints without `meta` (meta_key_is_unqualified in nftables src/meta.c). */
const UNQUALIFIED = new Set(['iif', 'oif', 'iifname', 'oifname', 'iifgroup', 'oifgroup']);
/** Selectors whose values are strings nft prints quoted. */
const QUOTED = new Set(['iifname', 'oifname', 'ibrname', 'obrname', 'ibriport', 'obriport', 'iif', 'oif']);
/** Selectors whose values nft prints in hexadecimal (marks). */
const HEX = new Set(['meta mark', 'ct mark', 'mark']);

const hex8 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** An expression as nft prints it; `hint` is the selector it is compared with (for quoting and hex). */
function expr(e: Json | undefined, hint = ''): string {
	if (e === null || e === undefined) return '';
	if (typeof e === 'number') return HEX.has(hint) ? hex8(e) : String(e);
	if (typeof e === 'string') return e.startsWith('@') || (!QUOTED.has(hint.replace(/^meta /, '')) && !hint.startsWith('osf') && !/\s/.test(e)) ? e : `"${e}"`;
	if (typeof e === 'boolean') return String(e);
	if (Array.isArray(e)) return e.map(x => expr(x, hint)).join(',');
	const [key] = Object.keys(e);
	const v = e[key!];
	switch (key) {
		case 'payload': {
			const p = v as Obj;
			return p['protocol'] !== undefined ? `${String(p['protocol'])} ${String(p['field'])}` : `@${String(p['base'])},${String(p['offset'])},${String(p['len'])}`;
		}
		case 'meta': {
			const k = String((v as Obj)['key']);
			return UNQUALIFIED.has(k) ? k : `meta ${k}`;
		}
		case 'ct': {
			const c = v as Obj;
			return ['ct', c['dir'], c['family'], c['key']].filter(x => x !== undefined).map(String).join(' ');
		}
		case 'fib': {
			const f = v as Obj;
			const flags = Array.isArray(f['flags']) ? f['flags'].map(String) : [String(f['flags'])];
			return `fib ${flags.join(' . ')} ${String(f['result'])}`;
		}
		case 'numgen': {
			const n = v as Obj;
			return `numgen ${String(n['mode'])} mod ${String(n['mod'])}${n['offset'] ? ` offset ${String(n['offset'])}` : ''}`;
		}
		case 'prefix': {
			const p = v as Obj;
			return `${expr(p['addr'], hint)}/${String(p['len'])}`;
		}
		case 'exthdr': {
			const x = v as Obj;
			const name = String(x['name']);
			return x['field'] === undefined ? `exthdr ${name}` : `${name} ${String(x['field'])}`;
		}
		case 'sctp chunk':
		case 'tcp option': {
			const x = v as Obj;
			return `${key} ${String(x['name'])}${x['field'] === undefined ? '' : ` ${String(x['field'])}`}`;
		}
		case 'rt': {
			const x = v as Obj;
			return `rt${x['family'] ? ` ${String(x['family'])}` : ''} ${String(x['key'])}`;
		}
		case 'socket':
			return `socket ${String((v as Obj)['key'])}`;
		case 'jhash':
		case 'symhash': {
			const x = v as Obj;
			const seed = x['seed'] === undefined ? '' : ` seed 0x${Number(x['seed']).toString(16)}`;
			const offset = x['offset'] === undefined ? '' : ` offset ${String(x['offset'])}`;
			return `${key}${x['expr'] === undefined ? '' : ` ${expr(x['expr'])}`} mod ${String(x['mod'])}${seed}${offset}`;
		}
		case 'range':
			return (v as Json[]).map(x => expr(x, hint)).join('-');
		case 'set':
			// Elements; a map's are [key, value] pairs, a verdict map's values verdicts.
			return Array.isArray(v) ? `{ ${v.map(x => (Array.isArray(x) && x.length === 2 ? `${expr(x[0], hint)} : ${isObj(x[1]) && isVerdict(x[1]) ? statement(x[1]) : expr(x[1])}` : expr(x, hint))).join(', ')} }` : `{ ${expr(v, hint)} }`;
		case 'map': {
			const m = v as Obj;
			const key = expr(m['key']);
			return `${key} map ${expr(m['data'], key)}`;
		}
		case 'osf': {
			const x = v as Obj;
			return `osf${x['ttl'] ? ` ttl ${String(x['ttl'])}` : ''} ${String(x['key'])}`;
		}
		case 'ipsec': {
			const x = v as Obj;
			return `ipsec ${String(x['dir'])}${x['spnum'] ? ` spnum ${String(x['spnum'])}` : ''} ${String(x['key'])}`;
		}
		case 'concat':
			return (v as Json[]).map(x => expr(x, hint)).join(' . ');
		case '&':
		case '|':
		case '^':
		case '<<':
		case '>>': {
			const [a, b] = v as Json[];
			const left = expr(a, hint);
			// A mask is printed like the value it masks (a mark in hexadecimal); a shift is a count.
			return `${left} ${key} ${expr(b, key === '<<' || key === '>>' ? '' : left)}`;
		}
		case 'elem': {
			const el = v as Obj;
			return `${expr(el['val'], hint)}${el['comment'] !== undefined ? ` comment "${String(el['comment'])}"` : ''}`;
		}
		default:
			return `json:${key}`;
	}
}

const VERDICTS = ['accept', 'drop', 'return', 'continue', 'queue', 'jump', 'goto'];

function isVerdict(o: Obj): boolean {
	return VERDICTS.includes(Object.keys(o)[0] ?? '');
}

function limitText(o: Obj): string {
	const unit = o['rate_unit'] && o['rate_unit'] !== 'packets' ? ` ${String(o['rate_unit'])}` : '';
	const burst = o['burst'] ? ` burst ${String(o['burst'])} ${String(o['burst_unit'] ?? 'packets')}` : '';
	return `limit rate${o['inv'] ? ' over' : ''} ${String(o['rate'])}${unit}/${String(o['per'])}${burst}`;
}

/** One statement as nft prints it. */
function statement(e: Json): string {
	// nft writes a statement it has no JSON form for as its text.
	if (typeof e === 'string') return e.replace(/\s+/g, ' ').trim();
	if (!isObj(e)) return `json:${typeof e}`;
	const [key] = Object.keys(e);
	const v = e[key!];
	const o = isObj(v) ? v : {};
	switch (key) {
		case 'match': {
			const left = expr(o['left']);
			const binop = isObj(o['left']) && ['&', '|', '^'].includes(Object.keys(o['left'])[0] ?? '');
			// The selector the value is compared with: of `meta mark & 0x4000`, meta mark.
			const selector = binop ? expr(((o['left'] as Obj)[Object.keys(o['left'] as Obj)[0]!] as Json[])[0]) : left;
			const right = expr(o['right'], selector);
			const op = String(o['op']);
			// `exthdr hbh exists`, `sctp chunk asconf missing`: a header's presence is a boolean.
			if (typeof o['right'] === 'boolean') return `${left} ${o['right'] ? 'exists' : 'missing'}`;
			return op === '==' && !binop ? `${left} ${right}` : op === 'in' ? `${left} ${right}` : `${left} ${op} ${right}`;
		}
		case 'accept':
		case 'drop':
		case 'return':
		case 'continue':
			return key;
		case 'jump':
		case 'goto':
			return `${key} ${String(o['target'])}`;
		case 'counter':
			if (typeof v === 'string') return `counter name "${v}"`;
			return isObj(v) && o['packets'] !== undefined ? `counter packets ${String(o['packets'])} bytes ${String(o['bytes'])}` : 'counter';
		case 'quota':
		case 'limit':
		case 'ct helper':
			// A named object, or one a map picks (`quota name ip saddr map { … }`).
			if (typeof v === 'string') return key === 'ct helper' ? `ct helper set "${v}"` : `${key} name "${v}"`;
			if (isObj(o['map'])) return key === 'ct helper' ? `ct helper set ${expr(o)}` : `${key} name ${expr(o)}`;
			if (key === 'quota') return `quota ${o['inv'] ? 'over ' : ''}${String(o['val'])} ${String(o['val_unit'] ?? 'bytes')}`;
			if (key === 'ct helper') return `json:${key}`;
			return limitText(o);
		case 'set':
		case 'map':
			// `add @meter { ip saddr limit rate 10/second }`: a set or map updated from the packet path.
			if (typeof o['op'] === 'string') return `${o['op']} ${String(o['set'])} { ${expr(o['elem'])}${o['data'] === undefined ? '' : ` : ${expr(o['data'])}`} }`;
			return `json:${key}`;
		case 'dnat':
		case 'snat': {
			const fam = o['family'] ? ` ${String(o['family'])}` : '';
			const addr = o['addr'] === undefined ? '' : expr(o['addr']);
			const port = o['port'] === undefined ? '' : `:${expr(o['port'])}`;
			// The netmap flag is nft's `prefix` keyword (`snat ip prefix to ip saddr map { … }`).
			const all = o['flags'] === undefined ? [] : (Array.isArray(o['flags']) ? o['flags'] : [o['flags']]).map(String);
			const prefix = all.includes('netmap') ? ' prefix' : '';
			const flags = all.filter(f => f !== 'netmap').map(f => ` ${f}`).join('');
			return `${key}${fam}${prefix} to ${addr.includes(':') && port ? `[${addr}]` : addr}${port}${flags}`;
		}
		case 'masquerade':
		case 'redirect': {
			const port = o['port'] === undefined ? '' : ` to :${expr(o['port'])}`;
			const flags = o['flags'] === undefined ? '' : ` ${expr(o['flags'])}`;
			return `${key}${port}${flags}`;
		}
		case 'reject': {
			const type = o['type'] === undefined ? undefined : String(o['type']);
			const what = o['expr'] === undefined ? undefined : String(o['expr']);
			if (type === 'tcp reset') return 'reject with tcp reset';
			if (!type || what === 'port-unreachable') return 'reject';
			return `reject with ${type} ${what ?? ''}`.trim();
		}
		case 'log': {
			const parts = ['log'];
			if (o['prefix'] !== undefined) parts.push(`prefix "${String(o['prefix'])}"`);
			if (o['level'] !== undefined) parts.push(`level ${String(o['level'])}`);
			if (o['group'] !== undefined) parts.push(`group ${String(o['group'])}`);
			return parts.join(' ');
		}
		case 'mangle': {
			const k = expr(o['key']);
			return `${k} set ${expr(o['value'], k)}`;
		}
		case 'vmap': {
			const data = o['data'];
			const key = expr(o['key']);
			const map = typeof data === 'string' ? data : isObj(data) && Array.isArray(data['set']) ? `{ ${data['set'].map(x => (Array.isArray(x) ? `${expr(x[0], key)} : ${statement(x[1] ?? null)}` : expr(x, key))).join(', ')} }` : expr(data, key);
			return `${key} vmap ${map}`;
		}
		case 'xt':
			return `xt ${String(o['type'])} ${String(o['name'])}`;
		case 'notrack':
			return 'notrack';
		case 'tproxy': {
			const addr = o['addr'] === undefined ? '' : expr(o['addr']);
			const port = o['port'] === undefined ? '' : `:${expr(o['port'])}`;
			return `tproxy${o['family'] ? ` ${String(o['family'])}` : ''} to ${addr.includes(':') && addr ? `[${addr}]` : addr}${port}`;
		}
		case 'synproxy': {
			const flags = o['flags'] === undefined ? [] : (Array.isArray(o['flags']) ? o['flags'] : [o['flags']]).map(String);
			return ['synproxy', ...(o['mss'] === undefined ? [] : [`mss ${String(o['mss'])}`]), ...(o['wscale'] === undefined ? [] : [`wscale ${String(o['wscale'])}`]), ...flags].join(' ');
		}
		case 'dup':
		case 'fwd': {
			const addr = o['addr'] === undefined ? '' : expr(o['addr']);
			const dev = o['dev'] === undefined ? '' : expr(o['dev'], 'oifname');
			if (!addr) return `${key} to ${dev}`;
			return `${key}${o['family'] ? ` ${String(o['family'])}` : ''} to ${addr}${dev ? ` device ${dev}` : ''}`;
		}
		case 'ct count':
			return `ct count ${o['inv'] ? 'over ' : ''}${String(o['val'])}`;
		case 'ct helper':
			return `ct helper set "${String(v)}"`;
		default:
			return `json:${key}`;
	}
}

/** The rule's text as `nft list ruleset` prints it, and its statements read by the grammar. */
function ruleText(r: Obj): string {
	const exprs = Array.isArray(r['expr']) ? r['expr'] : [];
	const parts = exprs.map(statement);
	if (r['comment'] !== undefined) parts.push(`comment "${String(r['comment'])}"`);
	return parts.join(' ');
}

export function parseNftJson(text: string, path: string): Ruleset {
	const problems: RulesetProblem[] = [];
	const tables = new Map<string, Table>();
	let doc: Json;
	try {
		doc = JSON.parse(text) as Json;
	} catch (error) {
		problems.push({line: 1, message: `not nft -j output: ${(error as Error).message}`});
		return {path, family: 'unknown', backend: 'nft', format: 'nft-json', tables, legacyTablesPresent: false, problems, lines: text.split('\n').length};
	}
	const items = isObj(doc) && Array.isArray(doc['nftables']) ? doc['nftables'] : [];
	const tableOf = (family: string, name: string, line: number): Table => {
		const key = `${family} ${name}`;
		let t = tables.get(key);
		if (!t) tables.set(key, (t = {name, family, chains: new Map(), committed: true, line, sets: new Map()}));
		return t;
	};
	items.forEach((item, i) => {
		try {
			readItem(item, i + 1);
		} catch (error) {
			// An object not of the shape nft -j writes (a hand-edited or cut file): a problem, and the rest loads.
			problems.push({line: i + 1, message: `object ${i + 1} of "nftables" is not what nft -j writes: ${(error as Error).message}`});
		}
	});
	function readItem(item: Json, line: number): void {
		if (!isObj(item)) return;
		const [kind] = Object.keys(item);
		const o = item[kind!];
		if (!isObj(o)) return;
		const family = String(o['family'] ?? 'ip');
		switch (kind) {
			case 'table': {
				const t = tableOf(family, String(o['name']), line);
				if (typeof o['handle'] === 'number') (t as {handle?: number}).handle = o['handle'];
				break;
			}
			case 'chain': {
				const t = tableOf(family, String(o['table']), line);
				const name = String(o['name']);
				const c: Chain = t.chains.get(name) ?? {table: t.name, name, builtin: false, rules: []};
				c.declaredAt ??= line;
				if (typeof o['handle'] === 'number') c.handle = o['handle'];
				if (o['hook'] !== undefined) {
					const prio = typeof o['prio'] === 'number' ? o['prio'] : undefined;
					c.nft = {type: String(o['type'] ?? 'filter'), hook: String(o['hook']), ...(o['dev'] !== undefined ? {device: String(o['dev'])} : {}), ...(prio === undefined ? {} : {priority: prio}), priorityText: String(o['prio'] ?? '')};
					(c as {builtin: boolean}).builtin = true;
					c.policy = String(o['policy'] ?? 'accept').toUpperCase();
				}
				t.chains.set(name, c);
				break;
			}
			case 'set':
			case 'map': {
				const t = tableOf(family, String(o['table']), line);
				const type = Array.isArray(o['type']) ? o['type'].map(String).join(' . ') : o['type'] === undefined ? undefined : String(o['type']);
				const set: NftSet = {
					name: String(o['name']),
					map: kind === 'map',
					...(type ? {type: kind === 'map' ? `${type} : ${String(o['map'])}` : type} : {}),
					flags: Array.isArray(o['flags']) ? o['flags'].map(String) : o['flags'] === undefined ? [] : [String(o['flags'])],
					elements: (Array.isArray(o['elem']) ? o['elem'] : []).map(el => {
						if (Array.isArray(el) && el.length === 2 && isObj(el[1])) {
							const verdict = el[1];
							const target = isObj(verdict['goto']) ? verdict['goto']['target'] : isObj(verdict['jump']) ? verdict['jump']['target'] : undefined;
							return {text: `${expr(el[0])} : ${statement(verdict)}`, ...(target === undefined ? {} : {chain: String(target)})};
						}
						return {text: expr(el)};
					}),
					line,
					...(typeof o['handle'] === 'number' ? {handle: o['handle']} : {}),
					...(o['comment'] !== undefined ? {comment: String(o['comment'])} : {}),
				};
				t.sets!.set(set.name, set);
				break;
			}
			case 'rule': {
				const t = tableOf(family, String(o['table']), line);
				const name = String(o['chain']);
				let c = t.chains.get(name);
				if (!c) t.chains.set(name, (c = {table: t.name, name, builtin: false, rules: []}));
				const text = ruleText(o);
				const m = nftRulesetGrammar.match(text, 'nftStatements');
				if (m.failed()) {
					problems.push({line, message: `rule ${c.rules.length + 1} of ${family} ${t.name} ${name} (handle ${String(o['handle'])}) is not nft syntax once written back: ${text}`});
					return;
				}
				const {rule, counters} = assembleNftRule(nftRulesetSemantics(m)['statements']() as NftStatement[]);
				if (rule.matches.some(x => x.hidden) || rule.target?.hidden) t.iptablesNft = true;
				const r = nftRule(t.name, {name, rules: c.rules}, text, rule, counters, line, typeof o['handle'] === 'number' ? o['handle'] : undefined);
				c.rules.push(r);
				break;
			}
		}
	}
	const families = new Set([...tables.values()].map(t => t.family));
	const family = families.size === 1 && families.has('ip') ? 'ipv4' : families.size === 1 && families.has('ip6') ? 'ipv6' : 'unknown';
	return {path, family, backend: 'nft', format: 'nft-json', tables, legacyTablesPresent: false, problems, lines: text.split('\n').length};
}
