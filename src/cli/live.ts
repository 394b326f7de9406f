/** `tracewatch live`: not yet available in this build. */
import {UsageError} from './io.js';

export async function live(_argv: string[]): Promise<number> {
	throw new UsageError('"live" is not available in this build yet');
}
