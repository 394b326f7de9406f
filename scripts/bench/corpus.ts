/**
 * A realistic synthetic trace corpus for the benchmark, built from the real captures in
 * testdata/: many packets through Calico + kube-proxy sized rulesets, plus the other scenarios
 * (ICMP errors, IPv6, DNAT/MASQUERADE, local output) for variety.
 *
 * Input:  testdata/dmesg/<scenario>/dmesg.log (dmesg-T.log for node-*), testdata/nft/<scenario>/{xtables-monitor,nft-monitor}.log
 * Output: an endless, time-ordered stream of lines in one form:
 *   dmesg    [ 3341.290254] TRACE: raw:PREROUTING:policy:4 IN=cali1a2b3c4d5e6 …
 *   dmesg-T  [Sun Nov 22 05:35:21 2026] TRACE: …
 *   journal  Nov 22 05:35:21.290254 node-1 kernel: TRACE: …            (journalctl -k -o short-precise)
 *   kernlog  Nov 22 05:35:21 node-1 kernel: [ 3341.290254] TRACE: …    (RFC 3164 with the kernel's stamp)
 *   central  kernlog lines of 50 hosts (node-01 … node-50) merged by wall time, as a central
 *            rsyslog writes them: each host its own conversations and its own boot time (its
 *            kernel stamps differ from the others' by whole minutes); hosts' conversations
 *            repeat the same addresses and IP IDs, which must never make one packet
 *   xtables-monitor, nft-monitor  as the tools print them
 *
 * Each copy of a capture is another conversation: IP IDs, ephemeral ports, TCP SEQ/ACK, ICMP
 * ids, trace ids and the client pod's address (within 198.18.0.0/15) are rewritten
 * consistently within the copy, and log time moves on, with about two conversations in flight
 * at once, so packet grouping and the parser's caches see the repetition a real log has
 * (a packet's lines share their fields; hop words repeat; stamps and ids do not).
 * About 2 % of kernel-form lines are unrelated kernel and syslog messages.
 */
import {readdirSync, readFileSync, existsSync} from 'node:fs';
import {join} from 'node:path';

export const FORMS = ['dmesg', 'dmesg-T', 'journal', 'kernlog', 'central', 'xtables-monitor', 'nft-monitor'] as const;
export type Form = (typeof FORMS)[number];

/** Scenarios with Calico + kube-proxy rulesets (about 210 rules): most of the corpus. */
const BIG = new Set(['wifi-masquerade', 'wifi-no-reply', 'node-broken', 'node-working']);
const BIG_WEIGHT = 4;

/** Deterministic PRNG (mulberry32), so every run reads the same corpus. */
export function rng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
	};
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const CTIME_MONTHS: Record<string, number> = Object.fromEntries(MONTHS.map((m, i) => [m, i]));

interface KernelRecord {
	/** Seconds since the start of the capture. */
	readonly t: number;
	/** The kernel's text after its stamp: `TRACE: raw:PREROUTING:policy:4 IN=…`. */
	readonly msg: string;
}

interface Template<T> {
	readonly name: string;
	readonly weight: number;
	readonly items: readonly T[];
	readonly span: number;
}

function scenarios(root: string, sub: string): string[] {
	const dir = join(root, 'testdata', sub);
	return readdirSync(dir, {withFileTypes: true})
		.filter(d => d.isDirectory())
		.map(d => d.name)
		.sort();
}

/** The templates of a checkout, read once (the central form starts 50 streams from them). */
const kernelTemplates = new Map<string, Array<Template<KernelRecord>>>();

function loadKernelTemplates(root: string): Array<Template<KernelRecord>> {
	const known = kernelTemplates.get(root);
	if (known) return known;
	const out: Array<Template<KernelRecord>> = [];
	kernelTemplates.set(root, out);
	for (const name of scenarios(root, 'dmesg')) {
		const dir = join(root, 'testdata', 'dmesg', name);
		const raw = join(dir, 'dmesg.log');
		const ctime = join(dir, 'dmesg-T.log');
		const records: KernelRecord[] = [];
		if (existsSync(raw)) {
			let t0: number | undefined;
			for (const line of readFileSync(raw, 'utf8').split('\n')) {
				const m = /^\[\s*(\d+\.\d+)\] (.*)$/.exec(line);
				if (!m) continue;
				const t = Number(m[1]);
				t0 ??= t;
				records.push({t: t - t0, msg: m[2]!});
			}
		} else if (existsSync(ctime)) {
			// dmesg -T keeps whole seconds only: spread each second's lines 15 µs apart.
			let t0: number | undefined;
			let last = -1;
			for (const line of readFileSync(ctime, 'utf8').split('\n')) {
				const m = /^\[\w+ (\w+) +(\d+) (\d\d):(\d\d):(\d\d) (\d{4})\] (.*)$/.exec(line);
				if (!m) continue;
				const wall = Date.UTC(Number(m[6]), CTIME_MONTHS[m[1]!]!, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) / 1000;
				t0 ??= wall;
				const t = Math.max(wall - t0, last + 0.000015);
				last = t;
				records.push({t, msg: m[7]!});
			}
		}
		if (records.length === 0) continue;
		out.push({name, weight: BIG.has(name) ? BIG_WEIGHT : 1, items: records, span: records.at(-1)!.t});
	}
	return out;
}

function loadMonitorTemplates(root: string, file: 'xtables-monitor.log' | 'nft-monitor.log'): Array<Template<string>> {
	const out: Array<Template<string>> = [];
	for (const name of scenarios(root, 'nft')) {
		const path = join(root, 'testdata', 'nft', name, file);
		if (!existsSync(path)) continue;
		const lines = readFileSync(path, 'utf8')
			.split('\n')
			.filter(l => l.trim() !== '');
		if (lines.length > 0) out.push({name, weight: BIG.has(name) ? BIG_WEIGHT : 1, items: lines, span: 0});
	}
	return out;
}

/** How one copy of a capture differs from the original. */
class Rewrite {
	private readonly idShift: number;
	private readonly portShift: number;
	private readonly seqShift: number;
	private readonly traceXor: number;
	private readonly pod88: string;
	private readonly pod72: string;
	private readonly icmpShift: number;

	constructor(copy: number) {
		this.idShift = (copy * 7919) % 65_536;
		this.portShift = (copy * 1237) % 28_000;
		this.seqShift = (copy * 2_654_435_761) % 4_294_967_296;
		this.icmpShift = copy % 65_536;
		this.traceXor = Math.imul(copy + 1, 0x9e3779b1) >>> 0;
		// The client pods, within their node's /26 (skipping kube-dns at .70 and .3).
		this.pod88 = `198.19.88.${71 + (copy % 56)}`;
		this.pod72 = `198.19.72.${5 + (copy % 56)}`;
	}

	id(v: string): string {
		return String((Number(v) + this.idShift) % 65_536);
	}

	/** Ephemeral ports (≥ 32768) move; service and node ports stay, so rules keep matching. */
	port(v: string): string {
		const p = Number(v);
		return p >= 32_768 ? String(32_768 + ((p - 32_768 + this.portShift) % 28_000)) : v;
	}

	seq(v: string): string {
		const n = Number(v);
		return n === 0 ? v : String((n + this.seqShift) % 4_294_967_296);
	}

	icmpSeq(v: string): string {
		return String((Number(v) + this.icmpShift) % 65_536);
	}

	traceId(v: string): string {
		return ((Number.parseInt(v, 16) ^ this.traceXor) >>> 0).toString(16).padStart(v.length, '0');
	}

	address(text: string): string {
		return text.replace(/\b198\.19\.88\.69\b/g, this.pod88).replace(/\b198\.19\.72\.5\b/g, this.pod72);
	}

	kernel(msg: string): string {
		const tcp = msg.includes('PROTO=TCP');
		let s = msg.replace(/\b(ID)=(\d+)/g, (_m, k: string, v: string) => `${k}=${this.id(v)}`);
		s = s.replace(/\b(SPT|DPT)=(\d+)/g, (_m, k: string, v: string) => `${k}=${this.port(v)}`);
		s = tcp ? s.replace(/\b(SEQ|ACK)=(\d+)/g, (_m, k: string, v: string) => `${k}=${this.seq(v)}`) : s.replace(/\bSEQ=(\d+)/g, (_m, v: string) => `SEQ=${this.icmpSeq(v)}`);
		return this.address(s);
	}

	xtables(line: string): string {
		let s = line.replace(/^( ?(?:PACKET|TRACE): \d+ )([0-9a-f]+)/, (_m, head: string, id: string) => head + this.traceId(id));
		s = s.replace(/\bID=(\d+)/g, (_m, v: string) => `ID=${this.id(v)}`);
		s = s.replace(/\b(SPORT|DPORT)=(\d+)/g, (_m, k: string, v: string) => `${k}=${this.port(v)}`);
		return this.address(s);
	}

	nft(line: string): string {
		let s = line.replace(/^trace id ([0-9a-f]+)/, (_m, id: string) => `trace id ${this.traceId(id)}`);
		s = s.replace(/\b(ip id|icmp id|icmpv6 id) (\d+)/g, (_m, k: string, v: string) => `${k} ${this.id(v)}`);
		s = s.replace(/\b((?:tcp|udp) (?:sport|dport)) (\d+)/g, (_m, k: string, v: string) => `${k} ${this.port(v)}`);
		s = s.replace(/\b(tcp (?:sequence|ackseq)) (\d+)/g, (_m, k: string, v: string) => `${k} ${this.seq(v)}`);
		s = s.replace(/\b(icmp(?:v6)? sequence) (\d+)/g, (_m, k: string, v: string) => `${k} ${this.icmpSeq(v)}`);
		return this.address(s);
	}
}

function pick<T>(templates: ReadonlyArray<Template<T>>, r: number): Template<T> {
	const total = templates.reduce((n, t) => n + t.weight, 0);
	let x = r * total;
	for (const t of templates) {
		x -= t.weight;
		if (x < 0) return t;
	}
	return templates.at(-1)!;
}

const NOISE = [
	'cali1a2b3c4d5e6: link becomes ready',
	'IPv6: ADDRCONF(NETDEV_CHANGE): cali1a2b3c4d5e6: link becomes ready',
	'wlp59s0: Limiting TX power to 23 (23 - 0) dBm as advertised by 00:00:5e:00:53:01',
	'EXT4-fs (nvme0n1p2): re-mounted. Quota mode: none.',
	'audit: type=1400 audit(1795323996.350:412): apparmor="STATUS" operation="profile_load" name="cri-containerd"',
];

/** Log time of record t seconds after the copy started, as seconds since boot. */
const BOOT_MONO = 3000;
/** Wall clock at boot: 2026-11-22 04:10:00 UTC. */
const BOOT_WALL = Date.UTC(2026, 10, 22, 4, 10, 0) / 1000;

function pad2(n: number): string {
	return n < 10 ? `0${n}` : String(n);
}

function monoStamp(mono: number): string {
	const sec = Math.floor(mono);
	const usec = Math.round((mono - sec) * 1e6);
	return `[${String(sec).padStart(5)}.${String(usec).padStart(6, '0')}]`;
}

function wallParts(mono: number): {d: Date; usec: number} {
	const wall = BOOT_WALL + mono;
	const sec = Math.floor(wall);
	return {d: new Date(sec * 1000), usec: Math.round((wall - sec) * 1e6) % 1_000_000};
}

function clock(d: Date): string {
	return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

const HOST = 'node-1';

/** One kernel record in the given log form. */
export function kernelLineIn(form: Exclude<Form, 'xtables-monitor' | 'nft-monitor' | 'central'>, mono: number, msg: string): string {
	switch (form) {
		case 'dmesg':
			return `${monoStamp(mono)} ${msg}`;
		case 'dmesg-T': {
			const {d} = wallParts(mono);
			return `[${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${clock(d)} ${d.getUTCFullYear()}] ${msg}`;
		}
		case 'journal': {
			const {d, usec} = wallParts(mono);
			return `${MONTHS[d.getUTCMonth()]} ${pad2(d.getUTCDate())} ${clock(d)}.${String(usec).padStart(6, '0')} ${HOST} kernel: ${msg}`;
		}
		case 'kernlog': {
			const {d} = wallParts(mono);
			return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${clock(d)} ${HOST} kernel: ${monoStamp(mono)} ${msg}`;
		}
	}
}

/** Time-ordered kernel records (mono seconds, rewritten message), forever. */
function* kernelStream(root: string, seed: number): Generator<{mono: number; msg: string; noise: boolean}> {
	const templates = loadKernelTemplates(root);
	const r = rng(seed);
	let copy = 0;
	let start = BOOT_MONO;
	for (;;) {
		// A block of 64 conversations, started about half a conversation apart (two in flight),
		// merged by log time; the next block starts when this one has ended.
		const block: Array<{mono: number; msg: string; noise: boolean}> = [];
		let end = start;
		for (let i = 0; i < 64; i++, copy++) {
			const tpl = pick(templates, r());
			const rw = new Rewrite(copy);
			for (const rec of tpl.items) block.push({mono: start + rec.t, msg: rw.kernel(rec.msg), noise: false});
			end = Math.max(end, start + tpl.span);
			start += Math.max(0.002, tpl.span * 0.5) + r() * 0.004;
		}
		const n = block.length;
		for (let i = 0; i < Math.round(n * 0.02); i++) {
			const msg = NOISE[Math.floor(r() * NOISE.length)]!;
			block.push({mono: block[Math.floor(r() * n)]!.mono, msg, noise: true});
		}
		block.sort((a, b) => a.mono - b.mono);
		yield* block;
		start = Math.max(start, end) + 0.001 + r() * 0.01;
	}
}

/** Monitor lines (no timestamps): two conversations interleaved line by line, forever. */
function* monitorStream(root: string, kind: 'xtables-monitor' | 'nft-monitor', seed: number): Generator<string> {
	const templates = loadMonitorTemplates(root, kind === 'xtables-monitor' ? 'xtables-monitor.log' : 'nft-monitor.log');
	const r = rng(seed);
	let copy = 0;
	const next = (): string[] => {
		const tpl = pick(templates, r());
		const rw = new Rewrite(copy++);
		return tpl.items.map(l => (kind === 'xtables-monitor' ? rw.xtables(l) : rw.nft(l)));
	};
	let a = next();
	let b = next();
	let i = 0;
	let j = 0;
	for (;;) {
		// Mostly the older conversation, sometimes the newer one: as two CPUs interleave them.
		if (j >= b.length || (i < a.length && r() < 0.7)) yield a[i++]!;
		else yield b[j++]!;
		if (i >= a.length) {
			a = b.slice(j);
			i = 0;
			b = next();
			j = 0;
		}
	}
}

/** Hosts in the central form. */
export const CENTRAL_HOSTS = 50;

/** 50 hosts' kernel logs merged by wall time (the central form). */
function* centralStream(root: string, seed: number): Generator<string> {
	const hosts = Array.from({length: CENTRAL_HOSTS}, (_, i) => {
		const gen = kernelStream(root, seed * 1000 + i);
		// Host i booted 97.5·i seconds before host 0: the same wall time, another kernel stamp.
		return {host: `node-${String(i + 1).padStart(2, '0')}`, boot: i * 97.5, gen, next: gen.next().value!};
	});
	for (;;) {
		let best = hosts[0]!;
		for (const h of hosts) if (h.next.mono < best.next.mono) best = h;
		const {mono, msg} = best.next;
		const {d} = wallParts(mono);
		yield `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${clock(d)} ${best.host} kernel: ${monoStamp(mono + best.boot)} ${msg}`;
		best.next = best.gen.next().value!;
	}
}

/** The corpus in one form, as an endless line stream. */
export function* corpusLines(root: string, form: Form, seed = 1): Generator<string> {
	if (form === 'xtables-monitor' || form === 'nft-monitor') {
		yield* monitorStream(root, form, seed);
		return;
	}
	if (form === 'central') {
		yield* centralStream(root, seed);
		return;
	}
	for (const rec of kernelStream(root, seed)) yield kernelLineIn(form, rec.mono, rec.msg);
}
