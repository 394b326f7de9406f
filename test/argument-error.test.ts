/**
 * A mistyped option gets a suggestion only when there is a different option to suggest:
 * `replay --proto tcp` once answered "unknown option --proto: did you mean --proto?".
 */
import {parseArgs} from 'node:util';
import {describe, expect, it} from 'vitest';
import {argumentError} from '../src/cli/terminal.js';

function errorFor(args: string[], options: readonly string[]): string {
	try {
		parseArgs({args, options: Object.fromEntries(options.filter(o => args.every(a => a !== `--${o}`)).map(o => [o, {type: 'string'}]))});
	} catch (error) {
		return argumentError(error, options).message;
	}
	throw new Error('parseArgs took the option');
}

describe('suggestions for an unknown option', () => {
	it('never suggests the option that was refused', () => {
		expect(errorFor(['--proto', 'tcp'], ['rules', 'format', 'proto'])).toBe('unknown option --proto');
	});

	it('suggests a close, different option', () => {
		expect(errorFor(['--rule', 'x'], ['rules', 'format'])).toBe('unknown option --rule: did you mean --rules?');
	});
});
