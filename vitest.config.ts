import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Native code, namespaces and real processes: each test file in its own process.
    pool: 'forks',
    include: ['tests/**/*.test.ts'],
    // Builds husk-testinit (tests/helpers/testinit.ts): the tests' own tool, not part of npm install.
    globalSetup: ['tests/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Containers and cgroups share the machine: two files at a time on 2 cores.
    maxWorkers: 2,
  },
});
