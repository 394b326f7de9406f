/**
 * A report to share: one self-contained HTML page (no network resource; it opens from a file or
 * an attachment) with the findings linked to their packets, the chain-traversal graph as inline
 * SVG laid out by Graphviz, and every packet with its path and hops. `--format svg` writes the
 * graph alone.
 *
 * Input:  pipeline events, as the other printing views take them (src/ui/output.ts)
 * Output: <!doctype html> … <section id="packets"> <details id="p-1">#1 TCP … </details> …
 *         <section id="findings"> … <a href="#p-1">#1</a> … <section id="graph"><svg …></svg> …
 *
 * The packets are written as they settle, so a trace of any size is reported in bounded memory;
 * the findings and the graph, known at the end, come after them in the file and are shown first
 * (CSS order). Every string from input is shown through visible() and escaped for HTML.
 */
import {createHash} from 'node:crypto';
import type {Finding} from '../model/findings/types.js';
import type {InputNames} from '../model/inputs.js';
import type {PipelineEvent, Summary} from '../model/pipeline.js';
import type {Packet} from '../model/types.js';
import type {FleetSummary} from '../model/fleet.js';
import {renderDot} from './graph.js';
import {isFleet} from './journeys.js';
import {describeTuple, foldedPath, hopChanges, hopName, lineRange, renderSummary} from './text.js';
import {visible, visibleDeep} from './visible.js';

/** Graphviz as a function of DOT text to SVG text (loaded by the CLI: @viz-js/viz). */
export type DotToSvg = (dot: string) => string;

/** Text from anywhere, safe inside HTML text and attribute values. */
export function esc(text: string | number | undefined | null): string {
	return visible(String(text ?? '')).replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[c]!);
}

const STYLE = `
:root { color-scheme: light dark; --muted: #6b7280; --bad: #c62828; --ok: #2e7d32; --warn: #b26a00; --info: #0277bd; --line: #d0d7de; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem 3rem; }
header h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
header p, footer { color: var(--muted); margin: .2rem 0; }
nav a { margin-right: 1rem; }
main { display: flex; flex-direction: column; }
#findings { order: 1; } #journeys { order: 2; } #graph { order: 3; } #packets { order: 4; } #inputs { order: 5; }
h2 { font-size: 1.15rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; margin-top: 1.6rem; }
code, .mono, td.rule, .path { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.finding { border-left: 4px solid var(--muted); padding: .3rem .8rem; margin: .6rem 0; }
.finding.error { border-color: var(--bad); } .finding.warning { border-color: var(--warn); } .finding.info { border-color: var(--info); }
.sev { font-weight: 600; text-transform: uppercase; font-size: .75rem; margin-right: .4rem; }
.error .sev, .DROP, .REJECT { color: var(--bad); } .warning .sev { color: var(--warn); } .info .sev { color: var(--info); } .ACCEPT { color: var(--ok); }
.hint { color: var(--muted); }
#graph svg { max-width: 100%; height: auto; }
details.packet { border-bottom: 1px solid var(--line); padding: .25rem 0; }
details.packet > summary { cursor: pointer; }
details.packet:target { background: color-mix(in srgb, var(--info) 12%, transparent); }
table { border-collapse: collapse; margin: .4rem 0 .6rem 1.2rem; }
td { padding: 1px 8px 1px 0; vertical-align: top; }
td.rule { color: var(--muted); }
.change { color: var(--info); }
.note { color: var(--warn); }
`;

/**
 * The page's one script: a link to a packet (`#p-12`, from a finding or an answer) opens its
 * collapsed section. Without it the page still reads; nothing else runs: the Content-Security-Policy
 * allows this script by its hash and no other, and no fetch at all.
 */
const SCRIPT = `function openTarget(){var d=document.getElementById(decodeURIComponent(location.hash.slice(1)));if(d&&d.tagName==='DETAILS'){d.open=true;d.scrollIntoView();}}
addEventListener('hashchange',openTarget);openTarget();`;
const CSP = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${createHash('sha256').update(SCRIPT).digest('base64')}'`;

function verdict(p: Packet): string {
	return `<span class="${esc(p.verdict)}">${esc(p.verdict)}</span>`;
}

/** A packet's anchor: `p-12`, or `p-node-a-12` when several nodes are replayed (ids are per node). */
function anchor(id: number, node?: string): string {
	return node === undefined ? `p-${id}` : `p-${esc(node).replace(/[^A-Za-z0-9_.-]/g, '_')}-${id}`;
}

function packetLink(id: number, node?: string): string {
	return `<a href="#${anchor(id, node)}">${node === undefined ? '' : `${esc(node)} `}#${id}</a>`;
}

function packetHtml(p: Packet, inputs: InputNames): string {
	const out: string[] = [];
	const reply = p.replySeen ? 'reply seen' : p.replyTo !== null ? `answers ${packetLink(p.replyTo, p.node)}` : '';
	out.push(
		`<details class="packet" id="${anchor(p.id, p.node)}"><summary>${p.node === undefined ? '' : `${esc(p.node)} `}<b>#${p.id}</b> <span class="mono">${esc(describeTuple(p))}</span> · ${esc(p.in || '-')} → ${esc(p.out || '-')} · ${verdict(p)}${reply ? ` · ${reply}` : ''}</summary>`,
	);
	out.push(`<p class="mono">${esc(lineRange(p, inputs))}${p.hops[0]?.time ? ` · ${esc(p.hops[0].time.text)}` : ''}</p>`);
	if (p.names) out.push(`<p>${Object.entries(p.names).map(([what, name]) => `<code>${esc(what)}</code> ${esc(name)}`).join(' · ')}</p>`);
	for (const n of p.nat) out.push(`<p>NAT ${esc(n.type)} <code>${esc(n.from)}</code> → <code>${esc(n.to)}</code> at <code>${esc(n.at)}</code></p>`);
	const steps = foldedPath(p);
	if (steps.length > 0) out.push(`<p class="path">${steps.map(s => `<b>${esc(s.hook)}</b> ${esc(s.text)}`).join('<br>')}</p>`);
	out.push('<table>');
	// Each change under the rule (or routing, or conntrack) that made it, as the text view shows it.
	const changes = hopChanges(p);
	for (const [i, h] of p.hops.entries()) {
		const extra = [
			...(changes[i] ?? []).map(c => `<div class="change">${esc(c)}</div>`),
			...(h.logPrefix !== undefined && h.kind !== 'log' ? [`<div>logged "${esc(h.logPrefix)}"</div>`] : []),
			...(h.note ? [`<div class="note">note: ${esc(h.note)}</div>`] : []),
		].join('');
		out.push(`<tr><td class="mono">${esc(hopName(h))}</td><td class="mono">${esc(h.target ?? h.traceVerdict ?? '')}</td><td class="rule">${esc(h.rule ?? '')}${extra}</td></tr>`);
	}
	out.push('</table>');
	const last = p.hops.at(-1);
	if (last) out.push(`<p>final <code>${esc(hopName(last))}</code> → ${verdict(p)} <span class="hint">(${esc(p.verdictBasis)})</span></p>`);
	out.push('</details>');
	return out.join('\n');
}

function findingHtml(f: Finding): string {
	const packets = f.packets.slice(0, 200).map(id => packetLink(id, f.node)).join(' ');
	const rules = f.rules.map(r => `<div class="mono">${esc(r.file ? `${r.file}:${r.line ?? '?'} ` : '')}${esc(`${r.table}:${r.chain}`)}${r.pos ? ` #${r.pos}` : ''} ${esc(r.text)}</div>`).join('');
	return [
		`<div class="finding ${esc(f.severity)}"><span class="sev">${esc(f.severity)}</span><b>${esc(f.kind)}</b>: ${esc(f.message)}`,
		rules,
		packets ? `<div>packets ${packets}${f.packets.length > 200 ? ` … (${f.packets.length})` : ''}</div>` : '',
		`<div class="hint">→ ${esc(f.hint)}</div></div>`,
	].join('');
}

/** The SVG of the graph, ready to inline (without its XML declaration and doctype). */
export function graphSvg(summary: Summary, dotToSvg: DotToSvg): string {
	return dotToSvg(renderDot(summary.graph, summary.findings)).replace(/^[\s\S]*?(?=<svg)/, '');
}

export interface HtmlOptions {
	readonly write: (text: string) => void;
	readonly inputs: InputNames;
	/** What was replayed, for the page's title: the file names. */
	readonly title: string;
	readonly dotToSvg: DotToSvg;
	/** Print packets as they complete instead of as they settle (live input). */
	readonly live: boolean;
	/** Packets written into the page at most (a page of hundreds of thousands helps nobody); the findings still count them all. @default 20000 */
	readonly maxPackets?: number;
}

/** A listener that writes the HTML report as the pipeline's events come. */
export function htmlView(options: HtmlOptions): (event: PipelineEvent) => void {
	const {write, live} = options;
	const inputs = visibleDeep(options.inputs);
	const max = options.maxPackets ?? 20_000;
	let written = 0;
	let skipped = 0;
	write(
		[
			'<!doctype html>',
			'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
			`<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
			`<title>tracewatch: ${esc(options.title)}</title><style>${STYLE}</style></head><body>`,
			`<header><h1>tracewatch report</h1><p class="mono">${esc(options.title)}</p>`,
			'<nav><a href="#findings">Findings</a><a href="#graph">Chain graph</a><a href="#packets">Packets</a><a href="#inputs">Inputs</a></nav></header>',
			'<main><section id="packets"><h2>Packets</h2>',
			'',
		].join('\n'),
	);
	const packet = (p: Packet): void => {
		if (written >= max) {
			skipped++;
			return;
		}
		written++;
		write(`${packetHtml(visibleDeep(p), inputs)}\n`);
	};
	return event => {
		if (event.type === 'packet' && live) packet(event.packet);
		else if (event.type === 'settled' && !live) packet(event.packet);
		else if (event.type === 'end') {
			const summary = visibleDeep(event.summary);
			const findings = summary.findings;
			write(
				[
					skipped > 0 ? `<p class="hint">… and ${skipped} more packets, not written into this page (the first ${max} are).</p>` : '',
					'</section>',
					`<section id="findings"><h2>Findings (${findings.length})</h2>`,
					findings.length === 0 ? '<p>None.</p>' : [...findings].sort((a, b) => rank(a) - rank(b)).map(findingHtml).join('\n'),
					'</section>',
					isFleet(summary) ? journeysHtml(summary) : '',
					`<section id="graph"><h2>Chain graph</h2><p class="hint">Packets through each chain and along each jump; red: a finding points here.</p>`,
					summary.graph.nodes.length === 0 ? '<p>No packets.</p>' : graphSvg(summary, options.dotToSvg),
					'</section>',
					`<section id="inputs"><h2>Inputs</h2><pre class="mono">${esc(renderSummary(summary))}</pre></section>`,
					'</main><footer>Written by tracewatch. Open it from a file: it loads nothing from the network.</footer>',
					`<script>${SCRIPT}</script></body></html>`,
					'',
				].join('\n'),
			);
		}
	};
}

/** Several nodes: each packet that crossed, from the node it left to the node it reached. */
function journeysHtml(summary: FleetSummary): string {
	const rows = summary.journeys.slice(0, 2000).map(j => {
		const o = j.wire.outer;
		const outer = o ? `${esc(j.wire.kind.toUpperCase())} <code>${esc(o.src)} → ${esc(o.dst)}</code> (${o.sent ? packetLink(o.sent.id, o.sent.node) : '?'} ⇒ ${o.received ? packetLink(o.received.id, o.received.node) : 'not received'})` : '';
		return `<tr><td>${packetLink(j.from.id, j.from.node)}</td><td class="mono">${esc(j.wire.device)}</td><td>${outer}</td><td>${j.to ? packetLink(j.to.id, j.to.node) : esc(j.toward ?? '?')}</td><td class="${esc(j.verdict)}">${esc(j.verdict)}</td><td class="mono">${esc(j.what)}</td></tr>`;
	});
	return `<section id="journeys"><h2>Across nodes (${summary.journeys.length})</h2><table>${rows.join('\n')}</table></section>`;
}

function rank(f: Finding): number {
	return f.severity === 'error' ? 0 : f.severity === 'warning' ? 1 : 2;
}
