/**
 * cgroup v2 for real, inside the pure-v2 VM (scripts/vm/run-in-vm.sh; `npm test` runs it
 * there with HUSK_REQUIRE_V2=1). On a host that is not pure v2 these tests are reported as
 * skipped (not run) unless HUSK_REQUIRE_V2=1, which turns that into a failure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCgroupManager, detectCgroups, resolveCgroupsPath } from '../../src/cgroups/index.js';
import { native } from '../../src/native/index.js';
import { cleanupCgroups, newCgroup, requireTestinit, spawnGated, testCgroupParent, testinit } from '../cgroups/lib.js';
import { defineManagerScenarios } from '../cgroups/scenarios.js';

const layout = detectCgroups();
const isV2 = layout.mode === 'v2';
const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim();

it.runIf(process.env.HUSK_REQUIRE_V2 === '1')('runs on a pure cgroup v2 host', () => {
  expect(layout.mode).toBe('v2');
});

describe.skipIf(!isV2)(`cgroup v2 (NOT RUN unless pure v2; this host is ${layout.mode})`, () => {
  beforeAll(() => requireTestinit());
  afterAll(cleanupCgroups);

  defineManagerScenarios();

  it('enables controllers in every ancestor, never in the leaf; destroy removes what it created', async () => {
    const parent = `husk-vm-parent-${process.pid}`;
    const cg = createCgroupManager(resolveCgroupsPath(`${parent}/leaf`, 'x', testCgroupParent));
    cg.create();
    const dir = cg.v2Directory()!;
    const parentDir = join(dir, '..');
    for (const c of ['cpu', 'memory', 'pids']) expect(read(parentDir, 'cgroup.subtree_control').split(' ')).toContain(c);
    expect(read(dir, 'cgroup.subtree_control')).toBe('');
    expect(cg.toJSON().hierarchies[0]!.createdDirs).toEqual([parentDir, dir]);
    await cg.destroy();
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(parentDir)).toBe(false);
  });

  it('writes the v2 files: memory.max/low/swap.max, cpu.weight/max, pids.max, unified', () => {
    const cg = newCgroup('files');
    cg.create();
    cg.apply({
      memory: { limit: 64 << 20, reservation: 16 << 20, swap: 96 << 20 },
      cpu: { shares: 1024, quota: 20_000, period: 100_000 },
      pids: { limit: 42 },
      unified: { 'memory.high': '50M' },
    });
    const dir = cg.v2Directory()!;
    expect(read(dir, 'memory.max')).toBe(String(64 << 20));
    expect(read(dir, 'memory.low')).toBe(String(16 << 20));
    expect(read(dir, 'memory.swap.max')).toBe(String(32 << 20)); // memory+swap - memory
    expect(read(dir, 'memory.high')).toBe(String(50 << 20));
    expect(read(dir, 'cpu.weight')).toBe('39');
    expect(read(dir, 'cpu.max')).toBe('20000 100000');
    expect(read(dir, 'pids.max')).toBe('42');
    cg.apply({ cpu: { period: 50_000 }, pids: { limit: -1 } }); // update: the quota stays
    expect(read(dir, 'cpu.max')).toBe('20000 50000');
    expect(read(dir, 'pids.max')).toBe('max');
  });

  it('replaces the eBPF device program on re-apply and removes it with no rules', async () => {
    const cg = newCgroup('bpf');
    cg.create();
    const dir = cg.v2Directory()!;
    cg.apply({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }] });
    const [first] = native.queryDeviceFilters(dir);
    expect(native.queryDeviceFilters(dir)).toHaveLength(1);
    cg.apply({ devices: [{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 5, access: 'r' }] });
    const now = native.queryDeviceFilters(dir);
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(first);
    const p = spawnGated(['/bin/sh', '-c', `${testinit} open-write /dev/null; ${testinit} access /dev/zero r`]);
    cg.addProcess(p.pid);
    p.release();
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.output().trim().split('\n')).toEqual(['ok', 'EPERM']);
    cg.apply({ devices: [] });
    expect(native.queryDeviceFilters(dir)).toEqual([]);
  });
});
