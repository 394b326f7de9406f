/**
 * Addresses as rules name them.
 *
 * Input:  ruleMatchesAddress(['-s', '198.19.88.0/24', '-j', 'TRACE'], 'src', '198.19.88.69')
 * Output: true
 */
import {inCidr} from '../netfilter/addr.js';

export {inCidr, isPrivate, parseAddr} from '../netfilter/addr.js';

/**
 * A matched rule's `-s`/`-d` condition (with `!` negation) as it applies to an address.
 * @deprecated Read the rule's structure instead: addressMatch(rule, 'src' | 'dst', addr) in
 * rule-query.ts. Kept, reading words, until findings/trace.ts is switched over.
 */
export function ruleMatchesAddress(args: readonly string[], flag: 'src' | 'dst', addr: string): boolean | undefined {
	const names = flag === 'src' ? ['-s', '--source', '--src'] : ['-d', '--destination', '--dst'];
	for (let i = 0; i < args.length; i++) {
		if (!names.includes(args[i]!)) continue;
		const negated = args[i - 1] === '!';
		const value = args[i + 1] ?? '';
		const hit = value.split(',').some(c => inCidr(addr, c));
		return negated ? !hit : hit;
	}
	return undefined;
}
