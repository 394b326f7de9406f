/**
 * The terminal's size, following resizes, with a cleanup on unmount.
 *
 * Input:  Ink's stdout (a TTY: `columns`/`rows`; the test renderer has `columns` only)
 * Output: {columns, rows}; 80×24 when the stream does not say
 */
import {useEffect, useState} from 'react';
import {useStdout} from 'ink';

export interface TerminalSize {
	/** Columns (cells per line). */
	readonly columns: number;
	/** Lines; the view uses rows − 1 of them. */
	readonly rows: number;
}

export function useTerminalSize(override?: TerminalSize): TerminalSize {
	const {stdout} = useStdout();
	const read = (): TerminalSize => ({columns: stdout.columns || 80, rows: stdout.rows || 24});
	const [size, setSize] = useState<TerminalSize>(read);
	useEffect(() => {
		if (override) return;
		const onResize = () => setSize(read());
		stdout.on('resize', onResize);
		return () => {
			stdout.off('resize', onResize);
		};
	}, [stdout, override]);
	return override ?? size;
}
