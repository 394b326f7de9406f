/**
 * The HTML report (`--format html`) and the drawn graph (`--format svg`) on real traces: one
 * self-contained page that loads nothing, one packet per settled packet, findings linked to their
 * packets, markup from input escaped — and, in a real headless Chromium, a page that renders
 * without a console error, shows the graph, and whose finding links open their packet.
 */
import {execFile} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {promisify} from 'node:util';
import {beforeAll, describe, expect, it} from 'vitest';
import {loadGraphviz} from '../../src/cli/graphviz.js';
import {Pipeline} from '../../src/model/pipeline.js';
import {parseTraceText} from '../../src/parser/line-stream.js';
import {parseRuleset} from '../../src/parser/ruleset.js';
import {esc, type DotToSvg} from '../../src/ui/html.js';
import {outputView} from '../../src/ui/output.js';
import {plain} from '../../src/ui/text.js';
import {ROOT} from '../support/replay.js';
import {skipWhen} from '../support/skip.js';

const exec = promisify(execFile);
const BIN = join(ROOT, 'bin/tracewatch.js');
const WIFI = ['testdata/dmesg/wifi-no-reply/dmesg-T.log', '--rules', 'testdata/dmesg/wifi-no-reply/iptables.save'];

async function tracewatch(...args: string[]): Promise<string> {
	const {stdout} = await exec(process.execPath, [BIN, 'replay', ...args], {cwd: ROOT, maxBuffer: 64 << 20});
	return stdout;
}

/** Every `<tag` in a page, for checking what it may load. */
function tags(html: string): Set<string> {
	return new Set([...html.matchAll(/<([a-zA-Z][\w-]*)/g)].map(m => m[1]!.toLowerCase()));
}

describe('--format html', () => {
	let page = '';
	let json: {packets: Array<{id: number}>; findings: Array<{kind: string; packets: number[]}>; graph: {nodes: unknown[]}};
	beforeAll(async () => {
		[page, json] = await Promise.all([tracewatch(...WIFI, '--format', 'html'), tracewatch(...WIFI, '--format', 'json').then(t => JSON.parse(t) as typeof json)]);
	});

	it('one self-contained page: nothing to fetch, one inline script allowed by its hash, no URL but its own anchors', () => {
		expect(page.startsWith('<!doctype html>')).toBe(true);
		expect(page.trimEnd().endsWith('</html>')).toBe(true);
		const used = tags(page);
		for (const tag of ['link', 'img', 'iframe', 'object', 'embed']) expect(used.has(tag), tag).toBe(false);
		expect([...page.matchAll(/<script\b[^>]*>/g)].map(m => m[0])).toEqual(['<script>']);
		expect(page).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'; [^"]*script-src 'sha256-[A-Za-z0-9+\/=]+'">/);
		// Every href is a fragment of the page itself; the only URLs are the SVG namespaces.
		for (const [, href] of page.matchAll(/href="([^"]*)"/g)) expect(href).toMatch(/^#/);
		expect([...page.matchAll(/https?:\/\/[^\s"']+/g)].map(m => m[0]).filter(u => !/^http:\/\/www\.w3\.org\//.test(u))).toEqual([]);
	});

	it('every packet once, with its id as the anchor, and each finding linked to the packets it names', () => {
		const ids = [...page.matchAll(/<details class="packet" id="p-(\d+)"/g)].map(m => Number(m[1]));
		expect(ids).toEqual(json.packets.map(p => p.id));
		expect(json.findings.length).toBeGreaterThan(0);
		const findings = page.slice(page.indexOf('<section id="findings">'), page.indexOf('<section id="graph">'));
		for (const f of json.findings) {
			expect(findings).toContain(`<b>${f.kind}</b>`);
			for (const id of f.packets) expect(findings).toContain(`<a href="#p-${id}">#${id}</a>`);
		}
		// The no-reply packet shows the rule of each hop, as the text view does.
		expect(page).toContain('KUBE-SEP-MQ2DQMRXMYZTEZLC');
	});

	it('the chain graph inline, drawn: one SVG node per graph node', () => {
		const graph = page.slice(page.indexOf('<section id="graph">'), page.indexOf('<section id="inputs">'));
		expect(graph).toContain('<svg');
		expect(graph).not.toContain('<?xml');
		expect([...graph.matchAll(/<g id="node\d+" class="node">/g)]).toHaveLength(json.graph.nodes.length);
	});

	it('--format svg writes that graph alone', async () => {
		const svg = await tracewatch(...WIFI, '--format', 'svg');
		expect(svg.trimStart().startsWith('<svg')).toBe(true);
		expect([...svg.matchAll(/<g id="node\d+" class="node">/g)]).toHaveLength(json.graph.nodes.length);
	});
});

describe('markup from a trace or a dump', () => {
	let dotToSvg: DotToSvg;
	beforeAll(async () => {
		dotToSvg = await loadGraphviz();
	});

	it('is shown as text: a comment, a log prefix, an interface and a file name cannot add an element', () => {
		const evil = `<img src=x onerror=alert(1)>"'&\u001b[2J`;
		const dump = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', `-A INPUT -p tcp -m comment --comment "${evil.replace(/"/g, '')}" -j LOG --log-prefix "x<b>y "`, 'COMMIT', ''].join('\n');
		const fields = 'IN=et<i>0 OUT= MAC= SRC=198.18.0.1 DST=198.18.0.2 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7 DF PROTO=TCP SPT=40000 DPT=22 SEQ=1 ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0';
		const trace = [`[  10.000001] TRACE: filter:INPUT:rule:1 ${fields}`, `[  10.000002] x<b>y ${fields}`, `[  10.000003] TRACE: filter:INPUT:policy:2 ${fields}`].join('\n');
		const p = new Pipeline({rules: [parseRuleset(dump, 'ru<s>les.save')]});
		let out = '';
		p.on(outputView({format: 'html', live: false, write: t => (out += t), style: plain, inputs: p.inputNames, dotToSvg, title: `t<script>.log`}));
		const input = p.addInput('t<script>.log');
		for (const line of parseTraceText(trace, input)) p.push(line);
		p.end();
		expect(out).toContain('<details class="packet" id="p-1"');
		expect([...out.matchAll(/<script/g)]).toHaveLength(1);
		expect(tags(out).has('img')).toBe(false);
		expect(tags(out).has('i')).toBe(false);
		expect(out).toContain('&lt;img src=x onerror=alert(1)&gt;');
		expect(out).toContain('et&lt;i&gt;0');
		expect(out).not.toContain('\u001b');
		expect(esc(`a<b>&"c'\u0007`)).toBe('a&lt;b&gt;&amp;&quot;c&#39;\\x07');
	});
});

/** Chromium for the browser test: CHROMIUM, else the Debian package's path. */
const CHROMIUM = process.env['CHROMIUM'] ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(p => existsSync(p));

describe('the report in a real browser', skipWhen(CHROMIUM ? undefined : 'no Chromium (apt-get install chromium, or set CHROMIUM=path)', 'HTML report in headless Chromium'), () => {
	it('renders with no console error, shows the graph, and a finding link opens its packet', async () => {
		const {chromium} = await import('playwright-core');
		const dir = mkdtempSync(join(tmpdir(), 'tw-html-'));
		const file = join(dir, 'report.html');
		writeFileSync(file, await tracewatch(...WIFI, '--format', 'html'));
		const browser = await chromium.launch({executablePath: CHROMIUM!, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking']});
		try {
			const page = await browser.newPage({viewport: {width: 1280, height: 900}});
			const problems: string[] = [];
			const requests: string[] = [];
			page.on('console', m => {
				if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
			});
			page.on('pageerror', e => problems.push(`pageerror: ${e.message}`));
			page.on('request', r => requests.push(r.url()));
			await page.goto(pathToFileURL(file).href, {waitUntil: 'load'});

			// The graph is laid out and visible: a box of real size, with its nodes drawn.
			const svg = page.locator('#graph svg');
			const box = await svg.boundingBox();
			expect(box!.width).toBeGreaterThan(300);
			expect(box!.height).toBeGreaterThan(100);
			expect(await page.locator('#graph svg g.node').count()).toBeGreaterThan(10);
			const shot = await svg.screenshot();
			expect(shot.length).toBeGreaterThan(10_000);

			// Findings come first on screen, packets after (they are written first in the file).
			const findingsTop = (await page.locator('#findings').boundingBox())!.y;
			const packetsTop = (await page.locator('#packets').boundingBox())!.y;
			expect(findingsTop).toBeLessThan(packetsTop);

			// A finding's link opens its packet and scrolls it into view.
			const link = page.locator('#findings a[href^="#p-"]').first();
			const href = (await link.getAttribute('href'))!;
			const target = page.locator(`details${href}`);
			expect(await target.evaluate(d => (d as unknown as {open: boolean}).open)).toBe(false);
			await link.click();
			expect(await page.evaluate(() => (globalThis as unknown as {location: {hash: string}}).location.hash)).toBe(href);
			expect(await target.evaluate(d => (d as unknown as {open: boolean}).open)).toBe(true);
			await expect.poll(() => target.evaluate(d => (d as unknown as {getBoundingClientRect(): {top: number}}).getBoundingClientRect().top)).toBeLessThan(900);
			expect(await target.locator('table tr').count()).toBeGreaterThan(5);

			expect(problems).toEqual([]);
			expect(requests.filter(u => !u.startsWith('file:'))).toEqual([]);
		} finally {
			await browser.close();
			rmSync(dir, {recursive: true, force: true});
		}
	}, 60_000);
});
