/**
 * A real terminal for end-to-end tests: a tmux server on its own socket, one shell per session,
 * keys sent with send-keys and the screen read with capture-pane. Waits are driven by the
 * terminal's own events: a control-mode client (`tmux -C`) attached to each session reports
 * every piece of output the pane gets (`%output`), and the screen is read again only then, until
 * it shows what is awaited or the deadline passes (the error shows the last screen).
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {EventEmitter} from 'node:events';
import {rmSync} from 'node:fs';
import {timedOut} from '../support/wait.js';

export interface Terminal {
	/** Types text (literally) and, unless `enter` is false, presses Enter. */
	type(text: string, enter?: boolean): void;
	/** Presses keys by tmux name: `Enter`, `Escape`, `Tab`, `C-c`, `q`, … */
	keys(...keys: string[]): void;
	/** The screen as text (`escapes`: with colours and attributes). */
	screen(escapes?: boolean): string;
	/** Waits until `test(screen)` holds, reading the screen when the pane gets output; throws with the last screen after `timeoutMs`. */
	waitFor(test: (screen: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
	/** A tmux format value of the pane, e.g. `#{alternate_on}`. */
	format(f: string): string;
	resize(columns: number, rows: number): void;
	/** Process id of the shell in the pane. */
	readonly shellPid: number;
}

export const PROMPT = 'tw-prompt$ ';

/** Whether tmux can be run here, and why not. */
export function tmuxAvailable(): {ok: boolean; reason: string} {
	const r = spawnSync('tmux', ['-V'], {encoding: 'utf8'});
	if (r.error || r.status !== 0) return {ok: false, reason: `tmux is not installed (${r.error?.message ?? r.stderr.trim()})`};
	return {ok: true, reason: r.stdout.trim()};
}

/** The environment the terminal runs in: no CI (Ink would print only the last frame), no colour settings from the test runner. */
export function terminalEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
	const env: NodeJS.ProcessEnv = {};
	for (const [k, v] of Object.entries(process.env)) {
		if (['CI', 'CONTINUOUS_INTEGRATION', 'NO_COLOR', 'FORCE_COLOR', 'TMUX', 'TMUX_PANE', 'NODE_OPTIONS'].includes(k) || k.startsWith('VITEST') || k === 'NODE_ENV') continue;
		env[k] = v;
	}
	return {...env, TERM: 'xterm-256color', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', ...extra};
}

export class TmuxServer {
	readonly socket = `tw-test-${process.pid}-${Date.now().toString(36)}`;
	private windows = 0;
	private readonly clients: ChildProcess[] = [];

	constructor(private readonly cwd: string) {}

	run(args: readonly string[]): string {
		const r = spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {encoding: 'utf8', env: terminalEnv(), timeout: 10_000});
		if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr || r.error?.message}`);
		return r.stdout;
	}

	/**
	 * A control-mode client on session `name`: emits 'output' whenever a pane of the session
	 * gets output. It has no size of its own, so the window keeps the size it was given.
	 */
	private watch(name: string): EventEmitter {
		const events = new EventEmitter();
		events.setMaxListeners(Infinity);
		const client = spawn('tmux', ['-L', this.socket, '-f', '/dev/null', '-C', 'attach-session', '-t', name], {env: terminalEnv(), stdio: ['pipe', 'pipe', 'ignore']});
		this.clients.push(client);
		let pending = '';
		client.stdout.setEncoding('utf8').on('data', (chunk: string) => {
			pending += chunk;
			const lines = pending.split('\n');
			pending = lines.pop()!;
			if (lines.some(l => l.startsWith('%output ') || l.startsWith('%extended-output ') || l.startsWith('%layout-change '))) events.emit('output');
		});
		return events;
	}

	/** Opens a shell in a new session of the given size, with a known prompt, in the repository. */
	async open(columns: number, rows: number): Promise<Terminal> {
		const name = `t${++this.windows}`;
		this.run(['new-session', '-d', '-s', name, '-x', String(columns), '-y', String(rows), '-c', this.cwd, `env PS1='${PROMPT}' bash --norc --noprofile`]);
		this.run(['set-option', '-t', name, 'status', 'off']);
		const target = `${name}:0.0`;
		const output = this.watch(name);
		const term: Terminal = {
			type: (text, enter = true) => {
				this.run(['send-keys', '-t', target, '-l', text]);
				if (enter) this.run(['send-keys', '-t', target, 'Enter']);
			},
			keys: (...keys) => {
				for (const k of keys) this.run(['send-keys', '-t', target, k]);
			},
			screen: (escapes = false) => this.run(['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', target]),
			format: f => this.run(['display-message', '-p', '-t', target, f]).trim(),
			resize: (c, r) => {
				this.run(['resize-window', '-t', name, '-x', String(c), '-y', String(r)]);
			},
			waitFor: (test, what, timeoutMs = 30_000) =>
				new Promise<string>((resolve, reject) => {
					let screen = '';
					let finished = false;
					let queued = false;
					const check = () => {
						if (finished) return;
						screen = term.screen();
						if (test(screen)) done();
					};
					// Output comes in bursts (a frame is many writes): the screen is read once per turn of the event loop.
					const onOutput = () => {
						if (queued) return;
						queued = true;
						setImmediate(() => {
							queued = false;
							check();
						});
					};
					const timer = setTimeout(() => done(timedOut({what, show: () => screen}, timeoutMs)), timeoutMs);
					function done(error?: Error) {
						finished = true;
						clearTimeout(timer);
						output.off('output', onOutput);
						if (error) reject(error);
						else resolve(screen);
					}
					output.on('output', onOutput);
					// The screen now (what is awaited may have been drawn before the wait began), then after each output.
					check();
				}),
			shellPid: 0,
		};
		(term as {shellPid: number}).shellPid = Number(this.run(['display-message', '-p', '-t', target, '#{pane_pid}']).trim());
		// The status line is off, so the pane is the whole window.
		await term.waitFor(s => s.includes(PROMPT.trim()), 'the shell prompt');
		term.type('clear');
		await term.waitFor(s => s.trim() === PROMPT.trim(), 'a clear screen');
		return term;
	}

	/** Stops the server (by its pid too, should kill-server fail) and removes its socket file (tmux leaves it behind). */
	kill(): void {
		for (const c of this.clients.splice(0)) c.kill();
		const info = spawnSync('tmux', ['-L', this.socket, 'display-message', '-p', '#{pid} #{socket_path}'], {encoding: 'utf8', env: terminalEnv(), timeout: 10_000}).stdout?.trim() ?? '';
		const [pid, path] = [Number(info.split(' ')[0]), info.slice(info.indexOf(' ') + 1)];
		spawnSync('tmux', ['-L', this.socket, 'kill-server'], {env: terminalEnv(), timeout: 10_000});
		if (pid > 0) {
			try {
				process.kill(pid, 'SIGKILL'); // gone already after kill-server, as a rule
			} catch {
				// gone
			}
		}
		if (path && info.includes(' ')) rmSync(path, {force: true});
	}
}

/** The pid of the shell's child (the command running in the foreground), if any. */
export function childOf(pid: number): number | undefined {
	const r = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], {encoding: 'utf8'});
	const child = r.stdout.trim().split(/\s+/).filter(Boolean).map(Number)[0];
	return child && Number.isFinite(child) ? child : undefined;
}
