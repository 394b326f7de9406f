/**
 * Static checks of grammar rules, read from Ohm's parsing expressions (`grammar.rules[name].body`):
 * the facts that make the segment parser's pieces sound (src/parser/segments.ts).
 *
 * Input:  a grammar and a rule name: wordUnsafe(traceGrammar, 'fieldWord')
 * Output: the places in the rule's closure (the rule and every rule it applies) that break the
 *         fact, as `rule: expression` strings (readsPast: the rules applied on the way to it,
 *         `kernelHead > lead_host > hostTag > gap: " "`); [] when the fact holds
 *
 * - wordUnsafe: an expression that can match a space or a tab, or `end`, or `any`. A rule with
 *   none sees the same thing after a word whether the line goes on with a space or ends.
 * - readsPast: a way for the rule, matched from the start of a line whose first occurrence of
 *   `stop` (a keyword with no repeated character, such as TRACE:) is followed by a space or a
 *   tab, to take in that `stop` and then try something that can match a space or a tab, or
 *   `end`. A rule with none never looks past that keyword: what it gives depends on the text up
 *   to it alone. Lookaheads are followed as well (they read), and a negative lookahead of `stop`
 *   itself is understood: right after `~"TRACE:"`, or `~("TRACE:" ~tok)` (tok never a space),
 *   no TRACE: that a space follows can start.
 *
 * The last is a reachability search over an automaton built from the rule, on characters
 * abstracted to those of `stop`, space (space and tab) and anything else; it over-approximates
 * what Ohm can do (every alternative, every number of repetitions), so a rule it passes is safe
 * and a rule it fails may be only suspect.
 */
import {createRequire} from 'node:module';
import type * as ohm from 'ohm-js';

// The copy of Ohm the grammar bundle loads (its CommonJS build), so that `instanceof` holds.
const {pexprs} = createRequire(new URL('../../grammar/', import.meta.url))('ohm-js') as typeof ohm;

/** Ohm's parsing expressions with the fields the checks read (index.d.ts declares only the classes). */
type PExpr = ohm.PExpr & {obj?: string; from?: string; to?: string; expr?: PExpr; terms?: PExpr[]; factors?: PExpr[]; ruleName?: string; args?: PExpr[]};

function body(grammar: ohm.Grammar, rule: string): PExpr {
	const info = grammar.rules[rule];
	if (!info) throw new Error(`no rule ${rule}`);
	return info.body as PExpr;
}

function codeRange(e: PExpr): [number, number] {
	return [e.from!.codePointAt(0)!, e.to!.codePointAt(0)!];
}

/** Calls `visit` on every expression in the closure of `start` (found in rule `inRule`), with the name of the rule it is in. */
function walk(grammar: ohm.Grammar, start: PExpr, inRule: string, visit: (e: PExpr, inRule: string) => void): void {
	const seen = new Set<string>([inRule]);
	const go = (e: PExpr, rule: string): void => {
		visit(e, rule);
		if (e instanceof pexprs.Apply) {
			if (e.args && e.args.length > 0) throw new Error(`${rule}: parameterised rule ${e.ruleName} not supported`);
			if (e.ruleName === 'any' || e.ruleName === 'end' || seen.has(e.ruleName!)) return;
			seen.add(e.ruleName!);
			go(body(grammar, e.ruleName!), e.ruleName!);
		} else if (e instanceof pexprs.Alt) {
			for (const t of e.terms) go(t as PExpr, rule);
		} else if (e instanceof pexprs.Seq) {
			for (const f of e.factors) go(f as PExpr, rule);
		} else if (e instanceof pexprs.Iter || e instanceof pexprs.Not || e instanceof pexprs.Lookahead || e instanceof pexprs.Lex) {
			go(e.expr!, rule);
		}
	};
	go(start, inRule);
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09;

/** Expressions in the closure of `rule` that can match a space or a tab, or are `end` or `any`. */
export function wordUnsafe(grammar: ohm.Grammar, rule: string): string[] {
	return spaceTakers(grammar, body(grammar, rule), rule);
}

/** The same for an expression found in rule `inRule`. */
function spaceTakers(grammar: ohm.Grammar, start: PExpr, inRule: string): string[] {
	const bad: string[] = [];
	walk(grammar, start, inRule, (e, inRule) => {
		const at = `${inRule}: ${e.toString()}`;
		if (e instanceof pexprs.Terminal) {
			if ([...e.obj!].some(ch => isSpace(ch.codePointAt(0)!))) bad.push(at);
		} else if (e instanceof pexprs.Range) {
			const [lo, hi] = codeRange(e);
			if ((lo <= 0x20 && 0x20 <= hi) || (lo <= 0x09 && 0x09 <= hi)) bad.push(at);
		} else if (e instanceof pexprs.Apply) {
			if (e.ruleName === 'any' || e.ruleName === 'end') bad.push(at);
		} else if (e === pexprs.any || e === pexprs.end || e instanceof pexprs.UnicodeChar || e instanceof pexprs.CaseInsensitiveTerminal || e instanceof pexprs.Param) {
			bad.push(at);
		}
	});
	return bad;
}

// ---- readsPast: an automaton over abstract characters -----------------------------------------

type Edge =
	| {readonly kind: 'eps'; readonly to: number}
	/** `~stop`: no `stop` starts here. */
	| {readonly kind: 'guard'; readonly to: number}
	| {readonly kind: 'char'; readonly mask: number; readonly to: number; readonly at: string}
	| {readonly kind: 'end'; readonly to: number; readonly at: string};

export function readsPast(grammar: ohm.Grammar, rule: string, stop: string): string[] {
	const chars = [...stop];
	if (new Set(chars).size !== chars.length) throw new Error('readsPast: the keyword must not repeat a character');
	// Symbols: 0..n-1 the keyword's characters, n space or tab, n+1 anything else.
	const n = chars.length;
	const SPACE = n;
	const OTHER = n + 1;
	const ALL = (1 << (n + 2)) - 1;
	const symbolOf = (c: number): number => {
		const i = chars.findIndex(ch => ch.codePointAt(0) === c);
		return i >= 0 ? i : isSpace(c) ? SPACE : OTHER;
	};
	const rangeMask = (lo: number, hi: number): number => {
		let mask = 0;
		chars.forEach((ch, i) => {
			const c = ch.codePointAt(0)!;
			if (lo <= c && c <= hi) mask |= 1 << i;
		});
		if ((lo <= 0x20 && 0x20 <= hi) || (lo <= 0x09 && 0x09 <= hi)) mask |= 1 << SPACE;
		// Something in the range that is neither a keyword character nor a space or tab.
		for (let c = lo; c <= hi; c++) {
			if (symbolOf(c) === OTHER) {
				mask |= 1 << OTHER;
				break;
			}
		}
		return mask;
	};

	const edges: Edge[][] = [];
	const node = (): number => edges.push([]) - 1;
	const stack: string[] = [];

	/** Adds `e` from node `from` on; returns the node after it. */
	const build = (e: PExpr, from: number, inRule: string): number => {
		const at = `${[rule, ...stack].join(' > ')}: ${e.toString()}`;
		if (e instanceof pexprs.Terminal) {
			let cur = from;
			for (const ch of e.obj!) {
				const next = node();
				edges[cur]!.push({kind: 'char', mask: 1 << symbolOf(ch.codePointAt(0)!), to: next, at});
				cur = next;
			}
			return cur;
		}
		if (e instanceof pexprs.Range) {
			const next = node();
			edges[from]!.push({kind: 'char', mask: rangeMask(...codeRange(e)), to: next, at});
			return next;
		}
		if (e === pexprs.any || (e instanceof pexprs.Apply && e.ruleName === 'any')) {
			const next = node();
			edges[from]!.push({kind: 'char', mask: ALL, to: next, at});
			return next;
		}
		if (e === pexprs.end || (e instanceof pexprs.Apply && e.ruleName === 'end')) {
			const next = node();
			edges[from]!.push({kind: 'end', to: next, at});
			return next;
		}
		if (e instanceof pexprs.Apply) {
			if (e.args && e.args.length > 0) throw new Error(`${inRule}: parameterised rule ${e.ruleName} not supported`);
			if (stack.includes(e.ruleName!)) throw new Error(`readsPast: ${e.ruleName} is recursive`);
			stack.push(e.ruleName!);
			const out = build(body(grammar, e.ruleName!), from, e.ruleName!);
			stack.pop();
			return out;
		}
		if (e instanceof pexprs.Seq) {
			let cur = from;
			for (const f of e.factors) cur = build(f as PExpr, cur, inRule);
			return cur;
		}
		if (e instanceof pexprs.Alt) {
			const out = node();
			for (const t of e.terms) edges[build(t as PExpr, from, inRule)]!.push({kind: 'eps', to: out});
			return out;
		}
		if (e instanceof pexprs.Opt) {
			const out = build(e.expr!, from, inRule);
			edges[from]!.push({kind: 'eps', to: out});
			return out;
		}
		if (e instanceof pexprs.Star || e instanceof pexprs.Plus) {
			const loop = node();
			edges[from]!.push({kind: 'eps', to: loop});
			const back = build(e.expr!, loop, inRule);
			edges[back]!.push({kind: 'eps', to: loop});
			if (e instanceof pexprs.Star) return loop;
			const out = node();
			edges[back]!.push({kind: 'eps', to: out});
			return out;
		}
		if (e instanceof pexprs.Not || e instanceof pexprs.Lookahead) {
			// The lookahead reads (a path of its own that goes nowhere after it); the rule goes on from here.
			build(e.expr!, from, inRule);
			const out = node();
			const guard = e instanceof pexprs.Not && isGuard(e.expr!);
			edges[from]!.push({kind: guard ? 'guard' : 'eps', to: out});
			return out;
		}
		if (e instanceof pexprs.Lex) return build(e.expr!, from, inRule);
		throw new Error(`readsPast: ${at} not supported`);
	};

	/**
	 * `~stop`, or `~(stop ~X)` where X cannot match a space or a tab: either way no `stop` that a
	 * space or a tab follows starts here, and such is the `stop` the search is about.
	 */
	const isGuard = (e: PExpr): boolean => {
		const isStop = (t: PExpr): boolean => t instanceof pexprs.Terminal && (t as PExpr).obj === stop;
		if (isStop(e)) return true;
		if (!(e instanceof pexprs.Seq) || e.factors.length !== 2) return false;
		const [first, then] = e.factors as [PExpr, PExpr];
		return isStop(first) && then instanceof pexprs.Not && spaceTakers(grammar, then.expr!, rule).length === 0;
	};

	const start = node();
	build(body(grammar, rule), start, rule);

	// States: node, how much of `stop` the path has just read (n: all of it), whether no `stop`
	// may start at this position (a guard was just passed), and whether the `stop` being read
	// started at such a position (then it cannot be there: the path is dropped when it completes).
	const found = new Set<string>();
	const seen = new Set<string>();
	const queue: Array<[number, number, boolean, boolean]> = [[start, 0, false, false]];
	const push = (s: [number, number, boolean, boolean]): void => {
		const key = s.join(',');
		if (seen.has(key)) return;
		seen.add(key);
		queue.push(s);
	};
	while (queue.length > 0) {
		const [at, k, noStart, doomed] = queue.pop()!;
		for (const edge of edges[at]!) {
			if (edge.kind === 'eps') push([edge.to, k, noStart, doomed]);
			else if (edge.kind === 'guard') push([edge.to, k, true, doomed]);
			else if (edge.kind === 'end') {
				if (k === n) found.add(edge.at);
				else push([edge.to, k, noStart, doomed]);
			} else {
				for (let s = 0; s < n + 2; s++) {
					if (!(edge.mask & (1 << s))) continue;
					if (k === n) {
						// The character after the keyword is a space or a tab: only something that can match one reads on.
						if (s === SPACE) found.add(edge.at);
						continue;
					}
					// The keyword repeats no character: a mismatch can only restart it at its first character.
					const k2 = s === k ? k + 1 : s === 0 ? 1 : 0;
					const doomed2 = k2 === k + 1 && k > 0 ? doomed : k2 === 1 ? noStart : false;
					if (k2 === n && doomed2) continue;
					push([edge.to, k2, false, doomed2]);
				}
			}
		}
	}
	return [...found];
}
