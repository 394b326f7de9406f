/**
 * Rewrites the golden files of the captured scenarios (testdata/{dmesg,nft}/NAME/*.golden.txt)
 * from the current code. Run it on purpose, then read the diff line by line before committing:
 * a golden is a claim that the output was checked by a person.
 *
 *   node --import tsx scripts/update-goldens.ts
 */
import {spawnSync} from 'node:child_process';
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';

for (const dir of ['testdata/dmesg', 'testdata/nft', 'testdata/ipv6-captures/dmesg', 'testdata/ipv6-captures/nft']) {
	for (const name of readdirSync(dir)) {
		const base = `${dir}/${name}`;
		const rules = ['iptables.save', 'ip6tables.save'].map(f => `${base}/${f}`).filter(f => existsSync(f) && readFileSync(f, 'utf8').trim() !== '');
		for (const form of ['dmesg.log', 'dmesg-T.log', 'xtables-monitor.log', 'nft-monitor.log']) {
			const input = `${base}/${form}`;
			if (!existsSync(input)) continue;
			if (form === 'dmesg-T.log' && existsSync(`${base}/dmesg.log`)) continue;
			const r = spawnSync(process.execPath, ['bin/tracewatch.js', 'replay', input, ...rules.flatMap(f => ['--rules', f]), '--format', 'text', '--no-color'], {encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}});
			writeFileSync(`${input}.golden.txt`, r.stdout);
			console.log(`${input}.golden.txt`);
		}
	}
}
