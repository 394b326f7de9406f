/**
 * Interface names in rules: iptables writes a trailing `+` for "any name that starts with this"
 * (`-i cali+`), nft a trailing `*` (`iifname "cali*"`); `!` negation is the rule's business.
 *
 * Input:  ifaceMatches('cali+', 'cali1a2b3c4d5e6')
 * Output: true
 */

/** Does the interface pattern of a rule (`eth0`, `cali+`, `veth*`) match the interface `name`? */
export function ifaceMatches(pattern: string, name: string): boolean {
	if (pattern.endsWith('+') || pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
	return pattern === name;
}

/** Is the pattern a prefix wildcard (`cali+`, `veth*`)? */
export function isIfaceWildcard(pattern: string): boolean {
	return pattern.endsWith('+') || pattern.endsWith('*');
}
