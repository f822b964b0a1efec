/**
 * The cgroup manager for real on this host (hybrid here: v1 controllers + a cgroup2 tree
 * holding hugetlb; pure v1 or pure v2 hosts run the same scenarios). Cgroups are made
 * beneath the test process's own cgroup and removed in afterAll.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CgroupError, createCgroupManager, detectCgroups, resolveCgroupsPath, validateResources } from '../../src/cgroups/index.js';
import { cleanupCgroups, newCgroup, requireTestinit, spawnGated, testinit } from './lib.js';
import { defineManagerScenarios } from './scenarios.js';

const layout = detectCgroups();

beforeAll(() => requireTestinit());
afterAll(cleanupCgroups);

describe(`cgroup manager on this host (${layout.mode})`, () => {
  defineManagerScenarios();

  it('fails bad resources before creating anything', () => {
    const cg = newCgroup('invalid');
    const dirs = cg.toJSON().hierarchies.map((h) => h.dir);
    const bad = [
      [{ memory: { limit: -5 } }, 'linux.resources.memory.limit: must be -1 (unlimited) or a positive number of bytes, got -5'],
      [{ pids: { limit: -2 } }, 'linux.resources.pids.limit: must be -1'],
      [{ cpu: { shares: -1 } }, 'linux.resources.cpu.shares: must be an integer from 2 to 262144'],
      [{ unified: { 'memory.bogus': '1' } }, 'linux.resources.unified["memory.bogus"]: unknown cgroup v2 interface file'],
      [{ unified: { '../cgroup.procs': '1' } }, 'no "/" and no ".."'],
    ] as const;
    for (const [resources, message] of bad) {
      expect(() => validateResources(resources as never, layout), message).toThrow(message);
      // apply() validates first too: nothing is written and nothing was created.
      expect(() => cg.apply(resources as never)).toThrow(CgroupError);
    }
    expect(() => resolveCgroupsPath('../../escape', 'x', 'self')).toThrow(/linux\.cgroupsPath: .* must not contain "\.\."/);
    for (const d of dirs) expect(existsSync(d), d).toBe(false);
  });

  it.runIf(layout.mode === 'hybrid')('hybrid: v1 controllers on v1, the process also in the cgroup2 tree, hugetlb through v2', async () => {
    expect(layout.unifiedMount).toBeDefined();
    const cg = newCgroup('hybrid');
    cg.create();
    const v2dir = cg.v2Directory()!;
    expect(v2dir.startsWith(layout.unifiedMount!)).toBe(true);
    expect(cg.procsFiles()).toContain(join(v2dir, 'cgroup.procs'));
    cg.apply({ memory: { limit: 64 << 20 }, hugepageLimits: [{ pageSize: '2MB', limit: 0 }] });
    const memDir = cg.toJSON().hierarchies.find((h) => h.controllers.includes('memory'))!.dir;
    expect(readFileSync(join(memDir, 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(64 << 20));
    expect(readFileSync(join(v2dir, 'hugetlb.2MB.max'), 'utf8').trim()).toBe('0');
    // the unified side never gets memory files: memory is bound to v1 here
    expect(existsSync(join(v2dir, 'memory.max'))).toBe(false);
    const p = spawnGated([testinit, 'sleep', '60']);
    cg.addProcess(p.pid);
    expect(readFileSync(`/proc/${p.pid}/cgroup`, 'utf8')).toMatch(new RegExp(`^0::.*${cg.path.split('/').pop()}$`, 'm'));
    await cg.killAll();
    await p.exited;
  });

  it.runIf(layout.v1Mounts.cpuset !== undefined)('v1: a new cpuset cgroup inherits cpus and mems, so tasks can join', () => {
    const cg = newCgroup('cpuset');
    cg.create();
    const dir = cg.toJSON().hierarchies.find((h) => h.controllers.includes('cpuset'))!.dir;
    expect(readFileSync(join(dir, 'cpuset.cpus'), 'utf8').trim()).not.toBe('');
    expect(readFileSync(join(dir, 'cpuset.mems'), 'utf8').trim()).not.toBe('');
    cg.apply({ cpu: { cpus: '0', shares: 512 } });
    expect(readFileSync(join(dir, 'cpuset.cpus'), 'utf8').trim()).toBe('0');
  });

  const disk = ['vda', 'sda', 'nvme0n1'].find((d) => existsSync(`/sys/block/${d}/dev`));
  it.runIf(layout.v1Mounts.blkio !== undefined && disk !== undefined)(`v1 blkio: weight and a read bps throttle on ${disk}`, () => {
    const [major, minor] = readFileSync(`/sys/block/${disk}/dev`, 'utf8').trim().split(':').map(Number) as [number, number];
    const cg = newCgroup('blkio');
    cg.create();
    cg.apply({ blockIO: { weight: 500, throttleReadBpsDevice: [{ major, minor, rate: 1 << 20 }] } });
    const dir = cg.toJSON().hierarchies.find((h) => h.controllers.includes('blkio'))!.dir;
    const weightFile = existsSync(join(dir, 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight';
    expect(readFileSync(join(dir, weightFile), 'utf8')).toMatch(/\b500\b/);
    expect(readFileSync(join(dir, 'blkio.throttle.read_bps_device'), 'utf8').trim()).toBe(`${major}:${minor} ${1 << 20}`);
    // a device that does not exist is refused by the kernel, with the field named
    expect(() => cg.apply({ blockIO: { throttleReadBpsDevice: [{ major: 4095, minor: 0, rate: 1 }] } })).toThrow(
      /linux\.resources\.blockIO\.throttleReadBpsDevice\[0\]: writing "4095:0 1" to .*: ENODEV/,
    );
  });

  it('stats have the same typed shape on every mode', () => {
    const cg = newCgroup('stats');
    cg.create();
    cg.apply({ memory: { limit: 48 << 20 }, pids: { limit: 5 } });
    const s = cg.stats();
    expect(s.memory).toMatchObject({ usageBytes: expect.any(Number), limitBytes: 48 << 20, events: { max: expect.any(Number), oomKill: 0 } });
    expect(s.pids).toEqual({ current: 0, limit: 5 });
    expect(s.cpu).toMatchObject({ usageUsec: expect.any(Number), userUsec: expect.any(Number), systemUsec: expect.any(Number) });
    expect(s.io?.devices).toBeInstanceOf(Array);
  });

  it('a cgroup path relative to an absolute parent lands under that parent in every hierarchy', () => {
    const m = createCgroupManager(resolveCgroupsPath(undefined, 'abc', '/husk-unit-parent'), layout);
    for (const h of m.toJSON().hierarchies) expect(h.dir).toBe(join(h.mount, '/husk-unit-parent/abc'));
  });
});
