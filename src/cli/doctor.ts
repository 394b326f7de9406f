/** `tracewatch doctor`: not yet available in this build. */
import {UsageError} from './io.js';

export async function doctor(_argv: string[]): Promise<number> {
	throw new UsageError('"doctor" is not available in this build yet');
}
