/**
 * Trace findings on literal packets (src/model/findings/trace.ts): hints hold only when the trace
 * supports them.
 */
import {describe, expect, it} from 'vitest';
import {collect} from '../../src/model/collect.js';
import {parseTraceText} from '../../src/parser/line-stream.js';

/** A forwarded TCP segment from a pod to `dst`, seen in raw PREROUTING, filter FORWARD and nat POSTROUTING, never SNATed. */
function forwarded(t: number, dst: string, spt: number, id: number): string[] {
	const f = (inIf: string, out: string, ttl: number) =>
		`IN=${inIf} OUT=${out} SRC=198.19.88.69 DST=${dst} LEN=60 TOS=0x00 PREC=0x00 TTL=${ttl} ID=${id} DF PROTO=TCP SPT=${spt} DPT=443 SEQ=${id} ACK=0 WINDOW=64240 RES=0x00 SYN URGP=0`;
	const s = (dt: number) => `[${(t + dt).toFixed(6).padStart(12)}]`;
	return [`${s(0)} TRACE: raw:PREROUTING:policy:2 ${f('cali1', '', 64)}`, `${s(0.000001)} TRACE: filter:FORWARD:policy:1 ${f('cali1', 'eth1', 63)}`, `${s(0.000002)} TRACE: nat:POSTROUTING:policy:1 ${f('', 'eth1', 63)}`];
}

/** The answer coming back in on eth1 to the pod (no de-NAT: there was no NAT). */
function answer(t: number, src: string, dpt: number): string[] {
	const f = `IN=eth1 OUT= SRC=${src} DST=198.19.88.69 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=0 DF PROTO=TCP SPT=443 DPT=${dpt} SEQ=9 ACK=2 WINDOW=64240 RES=0x00 ACK SYN URGP=0`;
	return [`[${t.toFixed(6).padStart(12)}] TRACE: raw:PREROUTING:policy:2 ${f}`];
}

describe('no-reply', () => {
	it('blames the missing SNAT when nothing on that path was answered', () => {
		const {summary} = collect([{path: 't.log', lines: parseTraceText(forwarded(10, '198.51.100.7', 40001, 1).join('\n'))}]);
		const f = summary.findings.find(x => x.kind === 'no-reply')!;
		expect(f.message).toContain('still carrying the private source 198.19.88.69');
		expect(f.hint).toContain('MASQUERADE');
	});

	it('does not blame the missing SNAT when another request went the same way and was answered; it says what differs', () => {
		const lines = [...forwarded(10, '198.51.100.7', 40001, 1), ...answer(10.01, '198.51.100.7', 40001), ...forwarded(12, '203.0.113.9', 40002, 2)];
		const {summary} = collect([{path: 't.log', lines: parseTraceText(lines.join('\n'))}]);
		const noReply = summary.findings.filter(x => x.kind === 'no-reply');
		expect(noReply).toHaveLength(1);
		expect(noReply[0]!.message).toContain('198.19.88.69:40002 → 203.0.113.9:443');
		expect(noReply[0]!.message).toContain('went the same way through the same rules and was answered');
		expect(noReply[0]!.hint).not.toContain('-j MASQUERADE');
		expect(noReply[0]!.hint).toContain('destination 203.0.113.9:443, not 198.51.100.7:443');
	});
});
