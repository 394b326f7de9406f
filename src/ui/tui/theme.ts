/**
 * How the interactive view looks: style functions that return Ink <Text> props, in the manner of
 * ink-ui's theme (`({isFocused}) => TextProps`). With colour off (NO_COLOR, --no-color, not a
 * colour terminal) they return no colours, only bold/inverse/dim, so nothing depends on colour.
 *
 * Input:  createTheme({color: true}).verdict('DROP')
 * Output: {color: 'red'}            (and {} with colour off)
 */
import {createContext, useContext} from 'react';
import type {TextProps} from 'ink';
import type {Severity} from '../../model/findings/types.js';
import type {Verdict} from '../../model/types.js';
import type {Tone} from './styled.js';

export interface Theme {
	/** Colours are used at all. */
	readonly color: boolean;
	/** A verdict, and a packet row, by verdict: ACCEPT green, DROP/REJECT red, the rest yellow. */
	verdict(v: Verdict): TextProps;
	/** The row under the cursor; `focused` when its pane has the keys. */
	selected(focused: boolean): TextProps;
	/** A tone of a laid-out line (graph, hops). */
	tone(t: Tone): TextProps;
	severity(s: Severity): TextProps;
	/** A tab in the title bar. */
	tab(active: boolean): TextProps;
	/** Column headings, section titles. */
	heading(): TextProps;
	/** The status bar. */
	status(): TextProps;
}

type Color = 'red' | 'green' | 'yellow' | 'cyan' | 'blue' | 'magenta' | 'gray';

export function createTheme(options: {readonly color: boolean}): Theme {
	const c = (color: Color, extra: TextProps = {}): TextProps => (options.color ? {color, ...extra} : extra);
	return {
		color: options.color,
		verdict(v) {
			if (v === 'ACCEPT') return c('green');
			if (v === 'DROP' || v === 'REJECT') return c('red', {bold: true});
			return c('yellow');
		},
		selected(focused) {
			return focused ? {inverse: true} : {bold: true};
		},
		tone(t) {
			switch (t) {
				case 'plain':
					return {};
				case 'dim':
					return {dimColor: true};
				case 'bold':
				case 'head':
					return {bold: true};
				case 'path':
				case 'headPath':
					return c('cyan', {bold: true});
				case 'mark':
					return c('magenta', {bold: true});
				case 'changed':
					return c('yellow', {bold: true});
				case 'ok':
					return c('green');
				case 'bad':
					return c('red', {bold: true});
				case 'warn':
					return c('yellow');
				case 'info':
					return c('blue');
			}
		},
		severity(s) {
			if (s === 'error') return c('red', {bold: true});
			if (s === 'warning') return c('yellow');
			return c('blue');
		},
		tab(active) {
			return active ? {inverse: true, bold: true} : {dimColor: true};
		},
		heading() {
			return {bold: true};
		},
		status() {
			return options.color ? {backgroundColor: 'blue', color: 'white'} : {inverse: true};
		},
	};
}

export const ThemeContext = createContext<Theme>(createTheme({color: false}));

export function useTheme(): Theme {
	return useContext(ThemeContext);
}
