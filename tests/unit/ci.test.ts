/** CI (.ci/run) runs the README's commands, and a cgroup v2 part that could not run fails it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');

describe('.ci/run', () => {
  it('requires the VM parts (HUSK_REQUIRE_VM=1) for npm test, which counts a part NOT RUN as a failure then', () => {
    const lines = readFileSync(join(repo, '.ci', 'run'), 'utf8').split('\n').map((l) => l.trim());
    const required = lines.indexOf('export HUSK_REQUIRE_VM=1');
    expect(required).toBeGreaterThan(-1);
    expect(lines.indexOf('npm test')).toBeGreaterThan(required);
    // scripts/test.mjs: every NOT RUN of a VM part adds a failure when it is set.
    const runner = readFileSync(join(repo, 'scripts', 'test.mjs'), 'utf8');
    expect(runner).toMatch(/lines\.push\(`\$\{label\}: NOT RUN: \$\{notRun\}`\);\s*if \(process\.env\.HUSK_REQUIRE_VM === '1'\) totals\.failed \+= 1;/);
  });
});
