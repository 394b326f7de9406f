/**
 * Pairing requests with replies (src/model/pairing.ts) on literal packets: it changes only the
 * packet being added and returns what it learned about the others as facts.
 */
import {describe, expect, it} from 'vitest';
import {expectsReply, opens, ReplyMatcher} from '../../src/model/pairing.js';
import type {Hop, Packet} from '../../src/model/types.js';
import {packetLiteral} from '../support/packet.js';

let nextId = 1;

/** A packet with one hop per address pair it was seen with (before and after NAT). */
function packet(o: Partial<Packet> & {seen?: Array<Partial<Hop>>}): Packet {
	const {seen, ...rest} = o;
	const p = packetLiteral({id: nextId++, src: '198.18.0.1', dst: '198.18.9.9', verdict: 'ACCEPT', ...rest});
	p.hops = (seen ?? [{}]).map(h => ({table: 'filter', chain: 'INPUT', kind: 'policy', num: 1, ref: {input: 0, line: 1}, in: '', out: '', src: p.src, dst: p.dst, spt: p.spt, dpt: p.dpt, ...h}) as Hop);
	return p;
}

describe('ReplyMatcher', () => {
	it('a SYN-ACK answers the SYN: it names it, and the SYN learns its reply was seen', () => {
		const m = new ReplyMatcher();
		const syn = packet({spt: 40000, dpt: 80, tcpFlags: ['SYN']});
		const synAck = packet({src: '198.18.9.9', dst: '198.18.0.1', spt: 80, dpt: 40000, tcpFlags: ['ACK', 'SYN']});
		expect(m.add(syn)).toEqual([]);
		const facts = m.add(synAck);
		expect(synAck.replyTo).toBe(syn.id);
		expect(facts).toEqual([{id: syn.id, fact: 'reply-seen', by: synAck.id}]);
		// The SYN itself was not touched: the fact is for whoever keeps it.
		expect(syn.replySeen).toBe(false);
	});

	it('a reply to a DNATed request travels the rewritten tuple back', () => {
		const m = new ReplyMatcher();
		const req = packet({spt: 40000, dpt: 443, tcpFlags: ['SYN'], dst: '198.19.96.1', seen: [{}, {dst: '198.18.1.50', dpt: 6443}]});
		const reply = packet({src: '198.18.1.50', dst: '198.18.0.1', spt: 6443, dpt: 40000, tcpFlags: ['ACK', 'SYN']});
		m.add(req);
		expect(m.add(reply)).toEqual([{id: req.id, fact: 'reply-seen', by: reply.id}]);
		expect(reply.replyTo).toBe(req.id);
	});

	it('two SYNs the other way answer nothing (a simultaneous open is not a reply)', () => {
		const m = new ReplyMatcher();
		m.add(packet({spt: 40000, dpt: 80, tcpFlags: ['SYN']}));
		const other = packet({src: '198.18.9.9', dst: '198.18.0.1', spt: 80, dpt: 40000, tcpFlags: ['SYN']});
		expect(m.add(other)).toEqual([]);
		expect(other.replyTo).toBeNull();
	});

	it('an echo reply answers the request with its id and sequence, not another sequence', () => {
		const m = new ReplyMatcher();
		const req = packet({proto: 'ICMP', icmp: {type: 8, code: 0, id: 7, seq: 1}});
		m.add(req);
		const wrongSeq = packet({proto: 'ICMP', src: '198.18.9.9', dst: '198.18.0.1', icmp: {type: 0, code: 0, id: 7, seq: 2}});
		expect(m.add(wrongSeq)).toEqual([]);
		const reply = packet({proto: 'ICMP', src: '198.18.9.9', dst: '198.18.0.1', icmp: {type: 0, code: 0, id: 7, seq: 1}});
		expect(m.add(reply)).toEqual([{id: req.id, fact: 'reply-seen', by: reply.id}]);
	});

	it('a reply completed before its request (lines interleaved) is named by a reply-to fact', () => {
		const m = new ReplyMatcher();
		const req = packet({spt: 40000, dpt: 80, tcpFlags: ['ACK', 'PSH']});
		const reply = packet({src: '198.18.9.9', dst: '198.18.0.1', spt: 80, dpt: 40000, tcpFlags: ['ACK']});
		// The reply (higher id) completes first.
		m.add(reply);
		const facts = m.add(req);
		expect(req.replySeen).toBe(true);
		expect(facts).toEqual([{id: reply.id, fact: 'reply-to', to: req.id}]);
	});

	it('an ICMP error quotes the packet it is about, by the quoted tuple and IP id', () => {
		const m = new ReplyMatcher();
		const big = packet({spt: 40000, dpt: 443, ipId: 4242, len: 1500, tcpFlags: ['ACK']});
		m.add(big);
		const error = packet({proto: 'ICMP', src: '198.18.5.1', dst: '198.18.0.1', icmp: {type: 3, code: 4, mtu: 1400}, quoted: {family: 'ipv4', proto: 'TCP', src: '198.18.0.1', dst: '198.18.9.9', spt: 40000, dpt: 443, ipId: 4242, len: 1500}});
		m.add(error);
		expect(error.quotes).toBe(big.id);
	});

	it('keeps a bounded number of tuples: the oldest connections are forgotten', () => {
		const m = new ReplyMatcher(10);
		const first = packet({spt: 1000, dpt: 80, tcpFlags: ['SYN']});
		m.add(first);
		for (let i = 1; i <= 20; i++) m.add(packet({spt: 1000 + i, dpt: 80, tcpFlags: ['SYN']}));
		const late = packet({src: '198.18.9.9', dst: '198.18.0.1', spt: 80, dpt: 1000, tcpFlags: ['ACK', 'SYN']});
		expect(m.add(late)).toEqual([]);
		expect(late.replyTo).toBeNull();
	});
});

describe('what a packet expects', () => {
	it('a SYN and an echo request open an exchange and expect a reply; an echo reply and an ICMP error do not', () => {
		expect(opens(packet({tcpFlags: ['SYN']}))).toBe(true);
		expect(opens(packet({tcpFlags: ['ACK', 'SYN']}))).toBe(false);
		expect(expectsReply(packet({proto: 'ICMP', icmp: {type: 8, code: 0, id: 1, seq: 1}}))).toBe(true);
		expect(expectsReply(packet({proto: 'ICMP', icmp: {type: 0, code: 0, id: 1, seq: 1}}))).toBe(false);
		expect(expectsReply(packet({proto: 'ICMP', icmp: {type: 3, code: 4}}))).toBe(false);
		expect(expectsReply(packet({proto: 'ICMPv6', icmp: {type: 128, code: 0, id: 1, seq: 1}}))).toBe(true);
	});

	it('UDP expects an answer unless it is one', () => {
		expect(expectsReply(packet({proto: 'UDP'}))).toBe(true);
		expect(expectsReply(packet({proto: 'UDP', replyTo: 3}))).toBe(false);
	});
});
