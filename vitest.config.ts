import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Native code, namespaces and real processes: each test file in its own process.
    pool: 'forks',
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Containers and cgroups share the machine: two files at a time on 2 cores.
    maxWorkers: 2,
  },
});
