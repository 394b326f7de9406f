/** `tracewatch rules`: not yet available in this build. */
import {UsageError} from './io.js';

export async function rules(_argv: string[]): Promise<number> {
	throw new UsageError('"rules" is not available in this build yet');
}
