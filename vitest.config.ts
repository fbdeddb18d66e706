import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'docs/**/*.test.ts'],
    reporters: ['default', './test/count-reporter.ts'],
    // What every process entry does before it loads a fleet: give core the resource type index.
    setupFiles: ['./test/setup-adapters.ts'],
    // Both cores: Vitest's default leaves one free (one worker on a 2-core machine), and most test
    // files wait on a store, a child process or a socket rather than compute.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
