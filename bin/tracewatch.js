#!/usr/bin/env node
// Runs the compiled build (dist/, made by `npm run build`, which `npm ci` runs), or the TypeScript
// sources directly when there is no build (tsx). The collector is paced first (src/cli/collector.ts).
import {existsSync} from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(built) && !process.env.TRACEWATCH_FROM_SOURCE) {
	(await import('../dist/cli/collector.js')).paceCollector();
	await import(built.href);
} else {
	const {register} = await import('tsx/esm/api');
	register();
	(await import('../src/cli/collector.ts')).paceCollector();
	await import('../src/cli/main.ts');
}
