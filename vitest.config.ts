import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
		testTimeout: 60_000,
		hookTimeout: 120_000,
		env: {FORCE_COLOR: '0', NO_COLOR: '1'},
		// Vitest's default is one worker per core less one: a single worker on a 2-core machine,
		// which runs the files one after another while most of them wait on child processes (the
		// CLI, the kernel, tmux). Two workers keep both cores busy (`npm test` took about half
		// as long here as with one); more only made the processes they start compete for them.
		maxWorkers: 2,
		// Test files share each worker's modules instead of loading them again for every file:
		// loading the grammar and the model took a minute of the suite's two (97 s instead of
		// 131–152 s on a clean clone here). A test that needs cold caches clears them itself
		// (clearSegmentCaches); none relies on module state another file left.
		isolate: false,
	},
});
