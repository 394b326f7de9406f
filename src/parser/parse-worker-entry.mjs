// Entry of a parser thread: registers the TypeScript loader, as bin/tracewatch.js does, then
// runs parse-worker.ts.
import {register} from 'tsx/esm/api';

register();
await import('./parse-worker.ts');
