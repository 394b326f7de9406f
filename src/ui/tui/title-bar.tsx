/**
 * The top line: the program and what it reads, and the views as tabs (the current one inverse),
 * with the number of findings.
 *
 * Output: ` tracewatch  trace.log              1 packets  2 detail  3 graph  4 findings 2 `
 */
import {Box, Text} from 'ink';
import {truncateMiddle, width as cells} from './format.js';
import {VIEWS, type View} from './use-app-state.js';
import {useTheme} from './theme.js';

export interface TitleBarProps {
	/** What is read: file names or `(stdin)`. */
	readonly title: string;
	/** The view on screen (its tab is inverse). */
	readonly view: View;
	/** Number of findings, shown on their tab. */
	readonly findings: number;
	/** Terminal columns. */
	readonly width: number;
}

export function tabLabel(view: View, findings: number): string {
	const n = VIEWS.indexOf(view) + 1;
	return view === 'findings' ? `${n} findings ${findings}` : `${n} ${view}`;
}

export function TitleBar({title, view, findings, width}: TitleBarProps) {
	const theme = useTheme();
	const tabs = VIEWS.map(v => ` ${tabLabel(v, findings)} `);
	const tabsWidth = tabs.reduce((a, t) => a + cells(t), 0) + 1;
	const name = ' tracewatch ';
	const room = Math.max(0, width - cells(name) - tabsWidth - 1);
	const shown = room >= 4 ? ` ${shortTitle(title, room - 1)}` : '';
	const gap = Math.max(0, width - cells(name) - cells(shown) - tabsWidth);
	return (
		<Box height={1} width={width}>
			<Text wrap="truncate-end">
				<Text bold>{name}</Text>
				<Text dimColor>{shown}</Text>
				{' '.repeat(gap)}
				{VIEWS.map((v, i) => (
					<Text key={v} {...theme.tab(v === view)}>
						{tabs[i]}
					</Text>
				))}
			</Text>
		</Box>
	);
}

/**
 * The title made to fit: whole; else each path by its last two parts
 * (`testdata/dmesg/wifi-no-reply/dmesg-T.log` → `wifi-no-reply/dmesg-T.log`); else by its file
 * name; else the file name cut in the middle.
 */
export function shortTitle(title: string, room: number): string {
	if (cells(title) <= room) return title;
	let short = title;
	for (const keep of [2, 1]) {
		short = title
			.split(' ')
			.map(p => p.split('/').slice(-keep).join('/'))
			.join(' ');
		if (cells(short) <= room) return short;
	}
	return truncateMiddle(short, room);
}
