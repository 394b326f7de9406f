/** `tracewatch diff`: not yet available in this build. */
import {UsageError} from './io.js';

export async function diff(_argv: string[]): Promise<number> {
	throw new UsageError('"diff" is not available in this build yet');
}
