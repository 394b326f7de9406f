#!/usr/bin/env node
// Runs the compiled build (dist/, made by `npm run build`, which `npm ci` runs), or the TypeScript
// sources directly when there is no build (tsx).
import {spawn} from 'node:child_process';
import {existsSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

const args = process.argv.slice(2);

/**
 * Reading an endless stream (stdin, not JSON, not the interactive view) tracewatch keeps a
 * bounded window of packets, but V8 lets its heap grow far beyond what is live before it collects.
 * A heap limit keeps such a process small for days; it is set by starting Node again with it.
 */
function streamsStdin(argv) {
	if (process.stdout.isTTY) return false;
	const valued = new Set(['--rules', '--format', '--window', '--keep']);
	let format;
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (i === 0 && a === 'replay') continue;
		if (i === 0 && /^[a-z]/.test(a)) return false; // another command
		if (a === '-h' || a === '--help' || a === '--version') return false;
		if (a.startsWith('--format=')) format = a.slice(9);
		else if (valued.has(a)) {
			if (a === '--format') format = argv[i + 1];
			i++;
		} else if (a === '-f' || a === '--follow') continue;
		else if (!a.startsWith('-') || a === '-') {
			if (a !== '-') return false; // a FILE
		}
	}
	return format !== 'json';
}

const limited = process.execArgv.some(a => a.startsWith('--max-old-space-size')) || (process.env.NODE_OPTIONS ?? '').includes('max-old-space-size');
if (!limited && streamsStdin(args)) {
	const child = spawn(process.execPath, [...process.execArgv, '--max-old-space-size=80', '--max-semi-space-size=4', fileURLToPath(import.meta.url), ...args], {stdio: 'inherit'});
	// Ctrl-C reaches both processes (one process group): the child stops, this one waits for it.
	process.on('SIGINT', () => {});
	for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
	child.on('exit', (code, signal) => {
		if (signal) {
			process.removeAllListeners(signal);
			process.kill(process.pid, signal);
		} else process.exit(code ?? 1);
	});
} else {
	const built = new URL('../dist/cli/main.js', import.meta.url);
	if (existsSync(built) && !process.env.TRACEWATCH_FROM_SOURCE) {
		await import(built.href);
	} else {
		const {register} = await import('tsx/esm/api');
		register();
		await import('../src/cli/main.ts');
	}
}
