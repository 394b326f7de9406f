/**
 * iptables commands a finding or a difference suggests, quoted for a POSIX shell.
 *
 * Input:  ruleCommand('ipv4', 'raw', '-D', 'PREROUTING', ['-s', '198.19.88.0/24', '-j', 'TRACE'])
 * Output: iptables -t raw -D PREROUTING -s 198.19.88.0/24 -j TRACE
 * A rule is deleted by its specification, not its position: positions shift after each delete,
 * so a list of `-D CHAIN N` commands run in order removes the wrong rules.
 */
import type {Rule} from '../parser/ruleset.js';

/** A word as a POSIX shell reads it back: bare when safe, else in single quotes. */
export function shellQuote(word: string): string {
	if (word !== '' && /^[\w@%+=:,./-]+$/.test(word)) return word;
	return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function ruleCommand(family: string, table: string, verb: string, chain: string, args: readonly string[]): string {
	return [family === 'ipv6' ? 'ip6tables' : 'iptables', '-t', table, verb, chain, ...args.map(shellQuote)].join(' ');
}

/** A rule's specification as `-D`/`-C`/`-I` take it: its matches, target and target options as written (no counters). */
export function ruleSpec(rule: Pick<Rule, 'parsed'>): string[] {
	return rule.parsed.pieces.flatMap(p => (p.piece === 'target' ? [p.goto ? '-g' : '-j', p.name] : p.words));
}
