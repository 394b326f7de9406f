/**
 * Soak test (not part of npm test): stream 10 million trace lines through the live path
 * (`node bin/tracewatch.js --format ndjson`, lines on stdin through a real pipe), sample
 * tracewatch's resident memory as it goes, and print the curve.
 *
 *   node --import tsx scripts/soak.ts [--lines N] [--ceiling MB]
 *
 * Exit status 1 when memory grows (more than 2 MB per million lines from the first tenth of the
 * stream to the last) or passes the ceiling (default 200 MB).
 */
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {measureStream} from './bench/live.js';

const {values} = parseArgs({options: {lines: {type: 'string'}, ceiling: {type: 'string'}}});
const lines = Number(values.lines ?? 10_000_000);
const ceiling = Number(values.ceiling ?? 200);
const root = fileURLToPath(new URL('..', import.meta.url));

console.log(`soak: ${lines.toLocaleString('en')} lines into \`tracewatch --format ndjson\` on stdin; RSS ceiling ${ceiling} MB`);
let next = 0;
const r = await measureStream(root, lines, Math.max(ceiling * 4, 2048), (written, mb) => {
	if (written >= next) {
		console.log(`  ${written.toLocaleString('en').padStart(12)} lines   RSS ${mb.toFixed(0).padStart(5)} MB`);
		next += Math.max(1, Math.floor(lines / 20));
	}
});
console.log(`${r.lines.toLocaleString('en')} lines in ${r.seconds.toFixed(0)} s (${Math.round(r.lines / r.seconds).toLocaleString('en')} lines/s), ${r.packetsOut.toLocaleString('en')} packets out`);
console.log(`RSS peak ${r.peakMB.toFixed(0)} MB, at the end ${r.endMB.toFixed(0)} MB, growth ${r.slopeMBPerMillion.toFixed(1)} MB per million lines`);
const ok = !r.stopped && r.peakMB <= ceiling && r.slopeMBPerMillion < 2;
console.log(ok ? 'flat: within the ceiling, not growing' : 'NOT flat');
process.exitCode = ok ? 0 : 1;
