#!/usr/bin/env node
// Runs the compiled build (dist/, made by `npm run build`, which `npm ci` runs), or the TypeScript
// sources directly when there is no build (tsx).
import {existsSync} from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(built) && !process.env.TRACEWATCH_FROM_SOURCE) {
	await import(built.href);
} else {
	const {register} = await import('tsx/esm/api');
	register();
	await import('../src/cli/main.ts');
}
