/**
 * The interactive view (Ink). Placeholder until the TUI lands: explains and falls back.
 */
import type {TraceStore} from '../model/store.js';

export interface TuiOptions {
	/** Quit when the input ends. */
	readonly exitAtEnd: boolean;
	readonly title: string;
	/** Aborted when the caller stops reading. */
	readonly signal: AbortSignal;
}

/** Renders the store until the user quits (or input ends with exitAtEnd). */
export async function runTui(_store: TraceStore, _options: TuiOptions): Promise<void> {
	throw new Error('the interactive view is not available in this build; use --format text');
}
