import { defineConfig } from 'vitest/config';

// Suites spawn real processes, namespaces and sockets: give them room, and run files in
// separate processes so one suite's netns or listeners never leak into another's.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
