/**
 * Real captures from this project's kernel tests (scripts/capture-testdata.sh): every log form of
 * one run rebuilds the same packets, and the rebuilt packets match their golden files, which were
 * read and checked by a person (regenerate with scripts/update-goldens.ts only on purpose).
 */
import {createReadStream, readdirSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {runPipeline} from '../src/cli/replay.js';
import {packetJson} from '../src/ui/json.js';
import {exists, read, replayFiles, ROOT, rules} from './support/replay.js';

const LEGACY_FORMS = ['dmesg.log', 'dmesg-T.log', 'dmesg-r.log', 'dmesg-x.log', 'dmesg-iso.log', 'kmsg.log'];

function scenarios(dir: string): string[] {
	return readdirSync(new URL(dir, `file://${ROOT}`)).filter(n => exists(`${dir}/${n}/README.md`));
}

function rulesOf(dir: string): string[] {
	return ['iptables.save', 'ip6tables.save'].map(f => `${dir}/${f}`).filter(f => exists(f) && read(f).trim() !== '');
}

/** The packets as JSON without what differs between log forms (time stamps and the file name). */
function comparable(trace: string, rulePaths: string[]): unknown[] {
	const {inputs, packets} = replayFiles([trace], rulePaths);
	return packets.map(p => {
		const j = packetJson(p, inputs) as {hops: Array<Record<string, unknown>>};
		return {...j, hops: j.hops.map(({time: _t, file: _f, ...h}) => h)};
	});
}

async function replayText(trace: string, rulePaths: string[]): Promise<string> {
	let out = '';
	await runPipeline([{path: trace, stream: createReadStream(new URL(trace, `file://${ROOT}`)), live: false}], {
		format: 'text',
		rules: rules(...rulePaths),
		out: {write: t => (out += t), isTTY: false, color: false},
		warn: () => {},
	});
	return out;
}

describe('legacy captures: every kernel log form rebuilds the same packets', () => {
	it.each(scenarios('testdata/dmesg').filter(n => exists(`testdata/dmesg/${n}/dmesg.log`)))('%s', name => {
		const dir = `testdata/dmesg/${name}`;
		const forms = LEGACY_FORMS.filter(f => exists(`${dir}/${f}`));
		expect(forms).toEqual(LEGACY_FORMS);
		const reference = comparable(`${dir}/dmesg.log`, rulesOf(dir));
		expect(reference.length).toBeGreaterThan(0);
		for (const form of forms.slice(1)) expect(comparable(`${dir}/${form}`, rulesOf(dir)), form).toEqual(reference);
	});
});

describe('golden files of the rebuilt packets', () => {
	const cases: Array<[string, string]> = [];
	for (const top of ['testdata/dmesg', 'testdata/nft']) {
		for (const name of scenarios(top)) {
			for (const form of ['dmesg.log', 'dmesg-T.log', 'xtables-monitor.log', 'nft-monitor.log']) {
				if (exists(`${top}/${name}/${form}.golden.txt`)) cases.push([`${top}/${name}`, form]);
			}
		}
	}
	it('covers every scenario in both backends', () => {
		expect(cases.length).toBeGreaterThanOrEqual(29);
	});
	it.each(cases)('%s/%s', async (dir, form) => {
		expect(await replayText(`${dir}/${form}`, rulesOf(dir))).toBe(read(`${dir}/${form}.golden.txt`));
	});
});
