/**
 * The yardstick: a bare regular-expression tokenizer for the same three formats, used only by
 * the benchmark to show what reading the text costs at all. tracewatch never uses it.
 *
 * Input:  `[ 3341.290254] TRACE: raw:PREROUTING:policy:4 IN=cali1a2b3c4d5e6 OUT= … SYN URGP=0 `
 * Output: {stamp:'[ 3341.290254]', table:'raw', chain:'PREROUTING', type:'policy', num:4,
 *          fields:['IN', 'cali1a2b3c4d5e6', 'OUT', '', …, 'SYN', '']}
 *
 * It tokenizes what a line says (prefix, hop, KEY=value fields, nft items) into an object per
 * line, as a hand-written parser's first step would, and checks nothing: no grammar, no
 * meaning of repeated keys, no packets. Run as a child: `node --import tsx regex-tokenizer.ts FILE`
 * prints {lines, bytes, ms, tokens, maxRssMB}.
 */
import {createReadStream, statSync} from 'node:fs';

const KERNEL = /^(.*?)TRACE: ([^:\s]+):([^:\s]+):(rule|return|policy):(\d+) +(.*)$/;
const LOG = /^(.*?)(IN=.*)$/;
const XT_PACKET = /^ *PACKET: (\d+) ([0-9a-fA-F]+) +(.*)$/;
const XT_TRACE = /^ *TRACE: (\d+) ([0-9a-fA-F]+) ([^:]+):([^:]+):(rule|return|policy):(.*)$/;
const NFT = /^trace id ([0-9a-f]+) (?:(ip6?|inet|arp|bridge|netdev) )?(\S+) (\S+) (packet:|rule|verdict|policy|unknown rule handle|conntrack:) ?(.*)$/;
const FIELD = /(\S+?)=(\S*)|(\S+)/g;
const NFT_ITEM = /(\S+ \S+)(?: ==)? ("[^"]*"|\S+)/g;

type Tokens = Record<string, unknown>;

/** KEY=value and bare words, as a flat [key, value, key, value, …] list (the cheapest shape to build). */
function fields(text: string): string[] {
	const out: string[] = [];
	FIELD.lastIndex = 0;
	for (let m = FIELD.exec(text); m; m = FIELD.exec(text)) {
		if (m[1] !== undefined) out.push(m[1], m[2]!);
		else out.push(m[3]!, '');
	}
	return out;
}

export function tokenize(line: string): Tokens | undefined {
	if (line.startsWith('trace id ')) {
		const m = NFT.exec(line);
		if (!m) return undefined;
		const items: string[] = [];
		if (m[5] === 'packet:') {
			NFT_ITEM.lastIndex = 0;
			for (let i = NFT_ITEM.exec(m[6]!); i; i = NFT_ITEM.exec(m[6]!)) items.push(i[1]!, i[2]!);
		}
		return {traceId: m[1], family: m[2], table: m[3], chain: m[4], event: m[5], rest: m[6], items};
	}
	let m = XT_PACKET.exec(line);
	if (m) return {nfproto: Number(m[1]), traceId: m[2], fields: fields(m[3]!)};
	m = XT_TRACE.exec(line);
	if (m) return {nfproto: Number(m[1]), traceId: m[2], table: m[3], chain: m[4], type: m[5], rest: m[6]};
	m = KERNEL.exec(line);
	if (m) return {stamp: m[1], table: m[2], chain: m[3], type: m[4], num: Number(m[5]), fields: fields(m[6]!)};
	m = LOG.exec(line);
	if (m) return {prefix: m[1], fields: fields(m[2]!)};
	return undefined;
}

/** Reads a file as the replay does (64 KB chunks, lines split at LF) and tokenizes every line. */
export async function tokenizeFile(path: string): Promise<{lines: number; tokens: number}> {
	let lines = 0;
	let tokens = 0;
	let carry = '';
	for await (const chunk of createReadStream(path, {encoding: 'utf8'}) as AsyncIterable<string>) {
		const parts = (carry + chunk).split('\n');
		carry = parts.pop()!;
		for (const line of parts) {
			lines++;
			if (tokenize(line)) tokens++;
		}
	}
	if (carry) {
		lines++;
		if (tokenize(carry)) tokens++;
	}
	return {lines, tokens};
}

if (import.meta.url === `file://${process.argv[1]}`) {
	const path = process.argv[2]!;
	const start = performance.now();
	const {lines, tokens} = await tokenizeFile(path);
	const ms = performance.now() - start;
	process.stdout.write(`${JSON.stringify({lines, bytes: statSync(path).size, ms, tokens, maxRssMB: process.resourceUsage().maxRSS / 1024})}\n`);
}
