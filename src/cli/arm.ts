/** `tracewatch arm` / `disarm`: not yet available in this build. */
import {UsageError} from './io.js';

export async function arm(_argv: string[]): Promise<number> {
	throw new UsageError('"arm" is not available in this build yet');
}

export async function disarm(_argv: string[]): Promise<number> {
	throw new UsageError('"disarm" is not available in this build yet');
}
