/**
 * The filter line while typing after `/`: the draft, a cursor, how many packets it lets
 * through, and what in it could not be read.
 *
 * Output: `/ tcp port:443▏   12 of 56 packets`
 */
import {Text} from 'ink';
import {useTheme} from './theme.js';

export interface FilterBarProps {
	/** The filter as typed so far. */
	readonly draft: string;
	/** Packets the draft lets through. */
	readonly shown: number;
	/** Packets kept in all. */
	readonly total: number;
	/** Terms that could not be read. */
	readonly errors: readonly string[];
}

export function FilterBar({draft, shown, total, errors}: FilterBarProps) {
	const theme = useTheme();
	return (
		<Text wrap="truncate-end">
			<Text bold>/ </Text>
			{draft}
			<Text inverse> </Text>
			<Text dimColor>{`   ${shown} of ${total} packets · Enter apply · Esc cancel`}</Text>
			{errors.length > 0 ? <Text {...theme.tone('warn')}>{`   ${errors[0]}`}</Text> : null}
		</Text>
	);
}
