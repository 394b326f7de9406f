/**
 * `tracewatch explain`: what a packet would do in a saved ruleset, without tracing; with
 * `--trace`, each traced packet predicted from its first trace line and compared with its trace.
 *
 *   tracewatch explain --rules node.save --proto tcp --src 198.19.88.69:54318 --dst 198.19.96.1:443 --in cali1a2b3c4d5e6 --out wlp59s0
 *   tracewatch explain --rules node.save --trace trace.log --format json
 *
 * This module reads the arguments and the files and prints; the model (src/model/explain/)
 * decides everything about the packet.
 */
import {parseArgs} from 'node:util';
import {canonicalIp, parseAddr} from '../netfilter/addr.js';
import {icmpCodeNumber, icmpTypeNumber} from '../netfilter/icmp.js';
import {hasPorts, isIcmp} from '../netfilter/protocols.js';
import {parseTraceText} from '../parser/line-stream.js';
import type {Ruleset} from '../parser/ruleset.js';
import {collect} from '../model/collect.js';
import {explainPacket, explainReply, explainTrace, replyIcmp, type ExplainInput} from '../model/explain/predict.js';
import {protoName} from '../model/explain/source.js';
import type {CtState} from '../model/explain/types.js';
import {RuleIndex} from '../model/join.js';
import {explainDocument, renderAgreement, renderExplained, type ExplainedPacket} from '../ui/explain.js';
import {colors, plain} from '../ui/text.js';
import {loadRules, looksLikeRuleset, openInput, reportRulesetProblems} from './io.js';
import {argumentError, EXIT, stdout, UsageError, warn} from './terminal.js';

export const EXPLAIN_HELP = `Usage: tracewatch explain --rules FILE [--rules FILE6] --proto tcp|udp|icmp|icmpv6|N
                          --src ADDR[:PORT] --dst ADDR[:PORT] [options]
       tracewatch explain --rules FILE --trace TRACEFILE [--format text|json]

Predicts a packet's path through a saved ruleset without tracing it: the chains it passes, the
rule that matches at each hop, its NAT, its final hop and verdict, in the layout of replay. The
walk is the kernel's: raw, mangle and nat PREROUTING (nat for a connection's first packet only),
the routing decision, FORWARD or INPUT (OUTPUT for --from-host), then POSTROUTING; DNAT changes
what later rules see and where the packet goes, MARK and CONNMARK what later rules match.
What a dump cannot tell (ipset contents, limit, recent, string, bpf, u32, owner) is assumed to
match and listed as uncertain; a random pick (statistic) shows every branch with its probability.

With --trace, every packet of the trace is predicted from its first trace line (its state from
the connection seen so far in the trace, local addresses and routes learned from the trace) and
compared with the hops it took: "agrees", or the first hop where they part and the likely reason
(a stale dump, a match not modelled, a set's contents unknown, …).

Options:
  --rules FILE          iptables-save / ip6tables-save / iptables -S dump, or nft list ruleset /
                        nft -j list ruleset (repeatable: one per family)
  --proto P             tcp, udp, icmp, icmpv6, sctp, … or a protocol number
  --src ADDR[:PORT]     source address and port ([2001:db8::1]:80 for IPv6 with a port)
  --dst ADDR[:PORT]     destination address and port
  --in IFACE            the interface it arrives on
  --out IFACE           the interface routing sends it out of (without it, a packet to a --local
                        address goes to INPUT, any other is forwarded out an interface not known)
  --from-host           sent by this host (OUTPUT), not arriving on an interface; sent to one of
                        its own (--local) addresses it goes on through PREROUTING and INPUT via lo
  --physdev-in PORT     a bridged packet: the bridge port it came in by (for -m physdev)
  --physdev-out PORT    the bridge port it leaves by (--physdev-is-bridged holds with it)
  --local ADDR,...      this host's addresses (for routing and -m addrtype LOCAL; repeatable)
  --tcp-flags F,...     TCP flags (default SYN for --state new, else ACK)
  --icmp-type T         ICMP/ICMPv6 type: a name (echo-request) or number, with /CODE (3/4)
  --state S             new (default), established, related, invalid, untracked
  --mark N              the packet mark it arrives with (0x4000 or 16384)
  --reply               also walk the reply of the connection this packet opens: from where it
                        went (after DNAT) back to its source, in by the interface it left by,
                        state established, its NAT undone by conntrack
  --trace TRACEFILE     predict every packet of this trace and compare (any format replay reads)
  --format FORMAT       text (default) or json
  --color / --no-color
  -h, --help

Examples (the files are in the tracewatch repository's testdata/):
  What does a pod's SYN to the Kubernetes API do on this node? (DNAT, then out wlp59s0 unmasqueraded)
    tracewatch explain --rules testdata/dmesg/wifi-no-reply/iptables.save --proto tcp \\
      --src 198.19.88.69:54318 --dst 198.19.96.1:443 --in cali1a2b3c4d5e6 --out wlp59s0
  The connection's first packet and then its reply, the NAT undone by conntrack:
    tracewatch explain --rules testdata/dmesg/fwd-dnat-masq/iptables.save --proto tcp \\
      --src 198.18.10.2:40990 --dst 198.18.30.10:80 --in eth0 --out eth1 --reply
  Which endpoints can a ClusterIP connection reach? (each branch of kube-proxy's random pick)
    tracewatch explain --rules testdata/kube-proxy/trace-packet.rules --proto tcp \\
      --src 10.0.0.2 --dst 172.30.0.44:80 --in eth0 --local 192.168.0.2
  A ping this host sends, and a bridged packet:
    tracewatch explain --rules node.save --proto icmp --src 10.0.0.1 --dst 10.0.0.2 --from-host
    tracewatch explain --rules node.save --proto udp --src 10.0.0.5:5353 --dst 10.0.0.9:53 \\
      --in br0 --out br0 --physdev-in veth1 --physdev-out veth2
  Does the dump explain the trace? (here the dump was saved before a rule was inserted)
    tracewatch explain --rules testdata/formats/rules/xtmon-iptables-nft-v4.save \\
      --trace testdata/formats/xtables-monitor-1.8.9-trace-4.log
  Only the packets that part from the prediction, as JSON:
    tracewatch explain --rules node.save --trace dmesg.log --format json | jq '.explained[] | select(.agrees | not) | .divergence'

JSON: {"tracewatch": 1, "explained": [{src, dst, proto, spt, dpt, ipId, in, out, hops, final,
verdict, nat, uncertain, …, and with --trace traced, agrees, divergence}]} (docs/explain.md).

Exit status: 0 done (also when the trace disagrees); 1 a rules dump with lines that did not load,
or a trace that could not be read; 2 usage error.`;

const STATES: readonly CtState[] = ['new', 'established', 'related', 'invalid', 'untracked'];
const TCP_FLAGS = new Set(['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR']);

/** `10.0.0.1:80`, `10.0.0.1`, `[2001:db8::1]:80`, `2001:db8::1`. */
export function parseEndpoint(text: string, what: string): {addr: string; port?: number; v6: boolean} {
	const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
	const v4 = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(text);
	const [addr, port] = bracketed ? [bracketed[1]!, bracketed[2]] : v4 ? [v4[1]!, v4[2]] : [text, undefined];
	const parsed = parseAddr(addr);
	if (!parsed) throw new UsageError(`${what} must be ADDR or ADDR:PORT (an IPv6 address with a port in brackets: [2001:db8::1]:80), not "${text}"`);
	const n = port === undefined ? undefined : Number(port);
	if (n !== undefined && (!Number.isInteger(n) || n > 65535)) throw new UsageError(`${what}: ${port} is no port`);
	return {addr: canonicalIp(addr), ...(n === undefined ? {} : {port: n}), v6: parsed.v6};
}

function parseMark(text: string): number {
	const n = /^0x[\da-f]+$/i.test(text) ? Number.parseInt(text.slice(2), 16) : /^\d+$/.test(text) ? Number(text) : Number.NaN;
	if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new UsageError(`--mark must be a number (0x4000 or 16384), not "${text}"`);
	return n;
}

function parseIcmpType(proto: 'ICMP' | 'ICMPv6', text: string): {type: number; code?: number} {
	const [t, c] = text.split('/');
	const type = icmpTypeNumber(proto, t ?? '');
	const code = c === undefined ? undefined : icmpCodeNumber(c);
	if (type === undefined || type > 255 || (c !== undefined && (code === undefined || code > 255))) throw new UsageError(`--icmp-type must be a type name (echo-request) or number, with an optional /CODE (3/4), not "${text}"`);
	return {type, ...(code === undefined ? {} : {code})};
}

/** Reads a whole trace input: a file (gzip or not) or stdin (`-`). */
async function readTrace(path: string): Promise<string> {
	const {stream} = openInput(path);
	const chunks: Buffer[] = [];
	for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
	return Buffer.concat(chunks).toString('utf8');
}

export async function explain(argv: string[]): Promise<number> {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			allowPositionals: false,
			options: {
				rules: {type: 'string', multiple: true},
				proto: {type: 'string'},
				src: {type: 'string'},
				dst: {type: 'string'},
				in: {type: 'string'},
				out: {type: 'string'},
				'from-host': {type: 'boolean'},
				'physdev-in': {type: 'string'},
				'physdev-out': {type: 'string'},
				'tcp-flags': {type: 'string'},
				'icmp-type': {type: 'string'},
				state: {type: 'string'},
				mark: {type: 'string'},
				reply: {type: 'boolean'},
				local: {type: 'string', multiple: true},
				trace: {type: 'string'},
				format: {type: 'string'},
				color: {type: 'boolean'},
				'no-color': {type: 'boolean'},
				help: {type: 'boolean', short: 'h'},
			},
		});
	} catch (error) {
		throw argumentError(error);
	}
	const v = parsed.values;
	if (v.help) {
		stdout.write(`${EXPLAIN_HELP}\n`);
		return EXIT.ok;
	}
	const format = v.format ?? 'text';
	if (format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, not "${format}"`);
	if (!v.rules || v.rules.length === 0) throw new UsageError('explain needs the saved ruleset: --rules node.save (iptables-save or iptables -S)');
	const style = v['no-color'] ? plain : v.color || stdout.color ? colors : plain;

	const packetOptions = ['proto', 'src', 'dst', 'in', 'out', 'from-host', 'physdev-in', 'physdev-out', 'tcp-flags', 'icmp-type', 'state', 'mark', 'local', 'reply'] as const;
	if (v.trace !== undefined) {
		const given = packetOptions.filter(o => v[o] !== undefined);
		if (given.length > 0) throw new UsageError(`--trace predicts every packet of the trace from its first line; --${given[0]} describes one packet: give one or the other`);
	}

	// No progress while a script waits for JSON in a file.
	const rulesets: Ruleset[] = v.rules.map(path => loadRules(path, {progress: !(format === 'json' && !stdout.isTTY)}));
	let problems = 0;
	for (const rs of rulesets) {
		problems += reportRulesetProblems(rs);
		if (rs.format === 'empty' && rs.problems.length === 0) warn(`${rs.path}: no tables, chains or rules found: is it an iptables-save or iptables -S dump?`);
	}
	const index = new RuleIndex(rulesets);
	const failed = problems > 0 ? EXIT.inputErrors : EXIT.ok;

	if (v.trace !== undefined) {
		if (v.trace !== '-' && looksLikeRuleset(v.trace)) throw new UsageError(`${v.trace} is a saved ruleset, not a trace: give it with --rules, and the trace with --trace`);
		let text: string;
		try {
			text = await readTrace(v.trace);
		} catch (error) {
			if (error instanceof UsageError) throw error;
			warn(`tracewatch: ${v.trace}: ${(error as Error).message}`);
			return EXIT.inputErrors;
		}
		const path = v.trace === '-' ? '(stdin)' : v.trace;
		const {packets, summary} = collect([{path, lines: parseTraceText(text)}], {rules: rulesets});
		const entries: ExplainedPacket[] = explainTrace(packets, index).map(({packet, prediction, divergence}) => ({
			proto: packet.proto,
			src: packet.src,
			dst: packet.dst,
			...(packet.spt === undefined ? {} : {spt: packet.spt}),
			...(packet.dpt === undefined ? {} : {dpt: packet.dpt}),
			...(packet.ipId === undefined ? {} : {ipId: packet.ipId}),
			...(packet.tcpFlags?.length ? {tcpFlags: packet.tcpFlags} : {}),
			...(packet.icmp ? {icmp: packet.icmp} : {}),
			prediction,
			traced: {packet, divergence},
		}));
		if (format === 'json') stdout.write(explainDocument(entries, summary.inputs, {path}));
		else {
			for (const e of entries) stdout.write(`${renderExplained(e, summary.inputs, style)}\n\n`);
			stdout.write(`${renderAgreement(entries, style)}\n`);
			if (entries.length === 0) stdout.write(`no packet in ${path}: ${summary.inputs[0]?.traceLines ?? 0} trace line(s) of ${summary.inputs[0]?.lines ?? 0}\n`);
		}
		return failed;
	}

	for (const o of ['proto', 'src', 'dst'] as const) if (v[o] === undefined) throw new UsageError(`explain needs --proto, --src and --dst (or --trace TRACEFILE): --${o} is missing`);
	const proto = protoName(v.proto!);
	if (proto === undefined) throw new UsageError(`--proto must be tcp, udp, icmp, icmpv6, another protocol name or a number, not "${v.proto}"`);
	const src = parseEndpoint(v.src!, '--src');
	const dst = parseEndpoint(v.dst!, '--dst');
	if (src.v6 !== dst.v6) throw new UsageError('--src and --dst must be of one family (both IPv4 or both IPv6)');
	if (!hasPorts(proto) && (src.port !== undefined || dst.port !== undefined)) throw new UsageError(`${proto} has no ports: give --src and --dst without :PORT`);
	const state = (v.state ?? 'new').toLowerCase() as CtState;
	if (!STATES.includes(state)) throw new UsageError(`--state must be ${STATES.join(', ')}, not "${v.state}"`);
	let tcpFlags: string[] | undefined;
	if (proto === 'TCP') {
		tcpFlags = v['tcp-flags'] ? v['tcp-flags'].split(',').map(f => f.trim().toUpperCase()) : [state === 'new' ? 'SYN' : 'ACK'];
		const bad = tcpFlags.find(f => !TCP_FLAGS.has(f));
		if (bad) throw new UsageError(`--tcp-flags: ${bad} is no TCP flag (${[...TCP_FLAGS].join(', ')})`);
	} else if (v['tcp-flags']) throw new UsageError('--tcp-flags is for --proto tcp');
	let icmp: {type: number; code?: number} | undefined;
	if (isIcmp(proto)) icmp = parseIcmpType(proto, v['icmp-type'] ?? 'echo-request');
	else if (v['icmp-type']) throw new UsageError('--icmp-type is for --proto icmp or icmpv6');
	if (isIcmp(proto) && (proto === 'ICMPv6') !== src.v6) throw new UsageError(`--proto ${v.proto} does not go with ${src.v6 ? 'IPv6' : 'IPv4'} addresses`);
	const locals = (v.local ?? []).flatMap(l => l.split(',')).filter(Boolean).map(l => parseEndpoint(l, '--local').addr);
	const family = src.v6 ? 'ipv6' : 'ipv4';
	if (!rulesets.some(rs => rs.family === family || rs.family === 'unknown')) warn(`tracewatch: no ${family === 'ipv6' ? 'ip6tables' : 'iptables'} dump among --rules: the packet meets no rule`);

	const input: ExplainInput = {
		family,
		proto,
		src: src.addr,
		dst: dst.addr,
		...(src.port === undefined ? {} : {spt: src.port}),
		...(dst.port === undefined ? {} : {dpt: dst.port}),
		...(v.in === undefined ? {} : {in: v.in}),
		...(v.out === undefined ? {} : {out: v.out}),
		fromHost: Boolean(v['from-host']),
		...(tcpFlags ? {tcpFlags} : {}),
		...(icmp ? {icmp} : {}),
		state,
		mark: v.mark === undefined ? 0 : parseMark(v.mark),
		locals,
		...(v['physdev-in'] === undefined ? {} : {physin: v['physdev-in']}),
		...(v['physdev-out'] === undefined ? {} : {physout: v['physdev-out']}),
	};
	if (input.fromHost && input.in !== undefined) throw new UsageError('--from-host packets arrive on no interface: leave out --in');
	if (v.reply && state !== 'new') throw new UsageError('--reply walks the reply of the connection a first packet opens: leave out --state or give --state new');
	const prediction = explainPacket(index, input);
	const entries: ExplainedPacket[] = [
		{
			proto,
			src: src.addr,
			dst: dst.addr,
			...(src.port === undefined ? {} : {spt: src.port}),
			...(dst.port === undefined ? {} : {dpt: dst.port}),
			...(tcpFlags ? {tcpFlags} : {}),
			...(icmp ? {icmp} : {}),
			prediction,
		},
	];
	if (v.reply) {
		const reply = explainReply(index, input, prediction);
		const first = reply.hops[0];
		entries.push({
			proto,
			src: first?.src ?? dst.addr,
			dst: first?.dst ?? src.addr,
			...(first?.spt === undefined ? {} : {spt: first.spt}),
			...(first?.dpt === undefined ? {} : {dpt: first.dpt}),
			...(tcpFlags ? {tcpFlags: tcpFlags.includes('SYN') ? ['SYN', 'ACK'] : ['ACK']} : {}),
			...(icmp ? {icmp: replyIcmp(proto, icmp)} : {}),
			prediction: reply,
		});
	}
	if (format === 'json') stdout.write(explainDocument(entries, []));
	else stdout.write(`${entries.map((e, i) => renderExplained(e, [], style, i + 1)).join('\n\n')}\n`);
	return failed;
}
