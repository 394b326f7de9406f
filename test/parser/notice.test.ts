/**
 * Lines that say the log around them lost lines, or that the program writing the trace failed
 * (grammar/trace.ohm noticeLine): read as notices, not skipped; other lines that share a word
 * with them stay skipped. And what the pipeline does with them: a packet whose reply may be
 * among the lost lines has reply state "unknown", and no finding blames the rules for it.
 */
import {describe, expect, it} from 'vitest';
import {collect} from '../../src/model/collect.js';
import {matchTraceLine, matchWholeLine} from '../../src/parser/trace-line.js';
import {parseTraceText} from '../../src/parser/line-stream.js';
import {read} from '../support/replay.js';

const ref = {input: 0, line: 1};

describe('notice lines', () => {
	it.each([
		['[ 1234.567890] nf_log_syslog: 12 callbacks suppressed', 'suppressed', 12],
		['[ 1234.567890] net_ratelimit: 3 callbacks suppressed', 'suppressed', 3],
		['Nov 22 02:56:52 node1 kernel: [ 1234.5] nf_log_syslog: 5 callbacks suppressed', 'suppressed', 5],
		['printk: 17 messages suppressed.', 'suppressed', 17],
		['[ 1234.567890] ** 40 printk messages dropped **', 'dropped', 40],
		['Nov 22 02:56:52 node1 systemd-journald[312]: Suppressed 1234 messages from /system.slice/kubelet.service', 'suppressed', 1234],
		['Error: unsupported layer 4 protocol value', 'tool-error', undefined],
		['xtables-monitor v1.8.9 (nf_tables): Parsing nftables rule failed', 'tool-error', undefined],
	])('%s', (text, what, count) => {
		const line = matchTraceLine(text, ref);
		expect(line).toMatchObject({kind: 'notice', notice: {what, ...(count !== undefined ? {count} : {})}});
		expect(matchWholeLine(text, ref)).toEqual(line);
	});

	it('keeps the time of a kernel notice', () => {
		expect(matchTraceLine('[ 1234.567890] nf_log_syslog: 12 callbacks suppressed', ref)).toMatchObject({notice: {time: {mono: 1234.56789}}});
	});

	it.each([
		'Nov 22 02:56:52 node1 kernel: some driver: Error: timeout',
		'[ 1.0] usb 1-1: device descriptor read/64, error -71 suppressed',
		'Nov 22 02:56:52 node1 systemd[1]: Suppressed nothing',
	])('other lines that share a word stay skipped: %s', text => {
		expect(matchTraceLine(text, ref)).toEqual({kind: 'skipped', ref});
	});
});

describe('a packet whose reply the log may have lost', () => {
	// A real capture (nat-replies): the LAN host's ping, then its echo reply, masqueraded on the way.
	const lines = read('testdata/dmesg/nat-replies/dmesg.log').split('\n');
	const request = lines.slice(0, 10);
	const reply = lines.slice(10, 17);
	const run = (text: string[]) => collect([{path: 'cut.log', lines: parseTraceText(text.join('\n'))}]);

	it('the echo request and its reply as captured: answered', () => {
		const {packets} = run([...request, ...reply]);
		expect(packets[0]).toMatchObject({icmp: {type: 8}, replySeen: true});
	});

	it('the reply lost to a rate limit that says so: reply unknown, the notice reported, no finding', () => {
		const {packets, summary} = run([...request, '[12669.117800] nf_log_syslog: 7 callbacks suppressed']);
		expect(packets[0]).toMatchObject({replySeen: false, replyUnknown: expect.stringContaining('cut.log:11 (nf_log_syslog: 7 callbacks suppressed)')});
		expect(summary.noticeCount).toBe(1);
		expect(summary.findings.filter(f => f.kind === 'no-reply')).toEqual([]);
	});

	it('the reply lost without a word: none seen, and the no-reply finding stands', () => {
		const {packets, summary} = run(request);
		expect(packets[0]).toMatchObject({replySeen: false});
		expect(packets[0]!.replyUnknown).toBeUndefined();
		expect(summary.findings.filter(f => f.kind === 'no-reply').length).toBe(1);
	});
});
