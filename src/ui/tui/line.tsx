/**
 * One screen line from styled segments: the shared leaf of every view. Never wraps; Ink cuts
 * it at the edge, so a view's height is exactly its number of lines.
 */
import {Text} from 'ink';
import type {StyledLine} from './styled.js';
import {useTheme} from './theme.js';

export interface LineProps {
	/** The segments, left to right. */
	readonly segs: StyledLine;
}

export function Line({segs}: LineProps) {
	const theme = useTheme();
	if (segs.length === 0) return <Text> </Text>;
	return (
		<Text wrap="truncate-end">
			{segs.map((s, i) => (
				<Text key={i} {...theme.tone(s.tone)}>
					{s.text}
				</Text>
			))}
		</Text>
	);
}
