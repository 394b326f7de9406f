/**
 * The interactive view (Ink): sets up the terminal, renders the App over the store until the
 * user quits (or input ends, with --exit-at-end or without a terminal for keys), and always puts
 * the terminal back: raw mode off, cursor shown, the alternate screen left, on q, Ctrl-C, end of
 * input, an exception, SIGTERM/SIGHUP/SIGINT and process exit alike.
 *
 * Keys: from process.stdin when it is a terminal (a FILE is replayed); from /dev/tty when stdin
 * carries the trace (`dmesg -w | tracewatch`); with no controlling terminal (ENXIO: setsid,
 * cron, a container without a tty) there are no keys: the status bar says so and the view ends
 * with the input.
 */
// First: React chooses its build when it is loaded (production unless NODE_ENV says otherwise).
// The imports are static so the view is loaded when the caller imports this module, before it
// starts reading: a fast input would otherwise hold up the loading of a few hundred modules.
// No JSX in this file: the JSX runtime import would be hoisted above the line below.
import '../ui/tui/production-react.js';
import {openSync, writeSync} from 'node:fs';
import {PassThrough} from 'node:stream';
import {ReadStream} from 'node:tty';
import {createElement} from 'react';
import {render} from 'ink';
import type {TraceStore} from '../model/store.js';
import {App} from '../ui/tui/app.js';
import {visible} from '../ui/visible.js';
import {useColor} from './terminal.js';

export interface TuiOptions {
	/** Quit when the input ends. */
	readonly exitAtEnd: boolean;
	readonly title: string;
	/** Aborted when the caller stops reading; the view then closes. */
	readonly signal: AbortSignal;
	/** Use colours; by default as for text output (terminal, NO_COLOR, FORCE_COLOR, --color/--no-color). */
	readonly color?: boolean;
}

const ENTER_ALT_SCREEN = '\u001B[?1049h\u001B[H\u001B[2J';
const LEAVE_ALT_SCREEN = '\u001B[?1049l';
const SHOW_CURSOR = '\u001B[?25h';
const SIGNALS = ['SIGTERM', 'SIGHUP', 'SIGINT'] as const;

interface Keys {
	/** The stream keys come from, when there is one. */
	readonly stream?: NodeJS.ReadStream;
	/** We opened it (/dev/tty) and must close it. */
	readonly owned: boolean;
	/** Why there are no keys. */
	readonly reason?: string;
}

/** Where keys come from: stdin when it is a terminal, else /dev/tty, else nowhere. */
export function openKeys(): Keys {
	if (process.stdin.isTTY) return {stream: process.stdin, owned: false};
	try {
		const fd = openSync('/dev/tty', 'r');
		const stream = new ReadStream(fd) as unknown as NodeJS.ReadStream;
		return {stream, owned: true};
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		return {owned: false, reason: code === 'ENXIO' || code === 'ENOENT' ? 'no terminal' : `cannot open /dev/tty (${code ?? (error as Error).message})`};
	}
}

function colorFromArgs(): boolean {
	if (process.argv.includes('--no-color')) return false;
	if (process.argv.includes('--color')) return true;
	return useColor(process.stdout);
}

/** Renders the store until the user quits (or input ends with exitAtEnd). */
export async function runTui(store: TraceStore, options: TuiOptions): Promise<void> {
	// A caller that handles these signals itself (`live` removes its TRACE rules) decides how the
	// process ends; otherwise the process dies of the signal once the terminal is restored.
	// (Counted before Ink registers its own exit handlers.)
	const handledByCaller = new Set<NodeJS.Signals>(SIGNALS.filter(s => process.listenerCount(s) > 0));
	const stdout = process.stdout;
	const keys = openKeys();
	const hasKeys = keys.stream !== undefined;
	// Without keys the user cannot quit: end with the input, and leave the last frame on screen.
	const exitAtEnd = options.exitAtEnd || !hasKeys;
	const useAltScreen = hasKeys && Boolean(stdout.isTTY);
	const write = (s: string) => {
		try {
			writeSync(1, s);
		} catch {
			// stdout is gone: nothing to restore.
		}
	};

	let altScreen = false;
	if (useAltScreen) {
		write(ENTER_ALT_SCREEN);
		altScreen = true;
	}
	const noKeysInput = new PassThrough() as unknown as NodeJS.ReadStream;
	const instance = render(
		createElement(App, {
			source: store,
			title: visible(options.title),
			keys: hasKeys,
			...(keys.reason ? {noKeysReason: keys.reason} : {}),
			exitAtEnd,
			color: options.color ?? colorFromArgs(),
		}),
		{stdout, stdin: keys.stream ?? noKeysInput, stderr: process.stderr, exitOnCtrlC: true, patchConsole: true, maxFps: 20},
	);

	const restore = () => {
		if (keys.owned && keys.stream) {
			try {
				(keys.stream as unknown as ReadStream).setRawMode(false);
			} catch {
				// Already closed.
			}
			keys.stream.destroy();
		}
		if (altScreen) {
			altScreen = false;
			write(SHOW_CURSOR + LEAVE_ALT_SCREEN);
		}
	};
	// Last resort: the process exits while the view is up (an uncaught exception elsewhere).
	const onExit = () => {
		instance.unmount();
		restore();
	};
	let signalled: NodeJS.Signals | undefined;
	const onSignal = (signal: NodeJS.Signals) => {
		signalled ??= signal;
		instance.unmount();
	};
	const onAbort = () => instance.unmount();
	process.on('exit', onExit);
	for (const s of SIGNALS) process.on(s, onSignal);
	options.signal.addEventListener('abort', onAbort, {once: true});

	try {
		await instance.waitUntilExit();
	} finally {
		process.off('exit', onExit);
		for (const s of SIGNALS) process.off(s, onSignal);
		options.signal.removeEventListener('abort', onAbort);
		const usedAltScreen = altScreen;
		restore();
		noKeysInput.destroy();
		if (usedAltScreen) {
			const s = store.getSnapshot();
			write(
				`tracewatch: ${s.completed} packet(s) from ${s.linesRead} line(s)${s.unparsedCount ? `, ${s.unparsedCount} unparsed` : ''}${s.dropped ? ` (${s.dropped} older not kept)` : ''}${s.ended ? '' : ', input not finished'}\n`,
			);
		}
	}
	// Killed while the view was up: the terminal is restored; now die of the same signal. Other
	// listeners (Ink's signal-exit) would turn the signal into a normal exit with status 0 if the
	// event loop emptied first: remove them so the default action applies.
	if (signalled && !handledByCaller.has(signalled)) {
		process.removeAllListeners(signalled);
		process.kill(process.pid, signalled);
	}
}

