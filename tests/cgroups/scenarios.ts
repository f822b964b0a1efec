/**
 * The manager scenarios that must hold on every cgroup mode: registered by
 * tests/cgroups/manager.test.ts (this hybrid host) and tests/vm/cgroups-v2.test.ts (pure v2).
 */
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { expect, it } from 'vitest';
import { loadCgroupManager } from '../../src/cgroups/index.js';
import { newCgroup, sleep, spawnGated, testinit, waitFor } from './lib.js';

export function defineManagerScenarios(): void {
  it('holds a fork loop at pids.max', async () => {
    const cg = newCgroup('pids');
    cg.create();
    cg.apply({ pids: { limit: 8 } });
    const p = spawnGated([testinit, 'forkbomb', '200']);
    cg.addProcess(p.pid);
    p.release();
    expect(await p.exited).toEqual({ code: 0, signal: null });
    // testinit itself is one of the 8: it gets 7 children, then fork fails with EAGAIN.
    expect(p.output()).toContain('forks=7 error=EAGAIN');
    expect(cg.stats().pids).toMatchObject({ limit: 8 });
  });

  it('OOM-kills a memory hog beyond memory.limit and counts oom_kill', async () => {
    const cg = newCgroup('mem');
    cg.create();
    const limit = 32 * 1024 * 1024;
    cg.apply({ memory: { limit, swap: limit } }); // memory+swap = memory: no swap to escape to
    const p = spawnGated([testinit, 'hog', '256']);
    cg.addProcess(p.pid);
    p.release();
    expect(await p.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(p.output()).not.toContain('hogged');
    const memory = cg.stats().memory!;
    expect(memory.limitBytes).toBe(limit);
    expect(memory.events.oomKill).toBeGreaterThanOrEqual(1);
  });

  it('throttles a busy loop to a 0.2 CPU quota', async () => {
    const cg = newCgroup('cpu');
    cg.create();
    cg.apply({ cpu: { quota: 20_000, period: 100_000 } });
    const p = spawnGated([testinit, 'spin', '300']);
    cg.addProcess(p.pid);
    const released = Date.now();
    p.release();
    // On a loaded machine the loop may get less than its 0.2 CPU for a while, and is throttled only
    // once it reaches the quota: wait for that (bounded), over at least a second of wall time.
    await waitFor(
      'the loop to be throttled',
      () => {
        const cpu = cg.stats().cpu!;
        return (cpu.throttledPeriods ?? 0) >= 3 && (cpu.throttledUsec ?? 0) > 0 && Date.now() - released >= 1000;
      },
      90_000,
    );
    const cpu = cg.stats().cpu!;
    const wallUsec = (Date.now() - released) * 1000;
    await cg.killAll();
    expect((await p.exited).signal).toBe('SIGKILL');
    // Its CPU over the wall time is held at the quota: at most 0.2 (plus one period's slack), never the
    // ~1 CPU an unthrottled loop takes on an idle core.
    expect(cpu.usageUsec).toBeGreaterThan(0);
    expect(cpu.usageUsec / wallUsec).toBeLessThan(0.3);
  }, 120_000);

  it('freezes processes (no progress) and thaws them', async () => {
    const cg = newCgroup('freeze');
    cg.create();
    const p = spawnGated(['/bin/sh', '-c', 'while :; do echo tick; sleep 0.02; done']);
    cg.addProcess(p.pid);
    p.release();
    const ticks = () => p.output().split('\n').length;
    await waitFor('first ticks', () => ticks() > 3);
    await cg.freeze();
    expect(cg.isFrozen()).toBe(true);
    await sleep(100); // output already in the pipe drains; then nothing more comes
    const frozenAt = ticks();
    await sleep(400);
    expect(ticks()).toBe(frozenAt);
    await cg.thaw();
    expect(cg.isFrozen()).toBe(false);
    await waitFor('ticks after thaw', () => ticks() > frozenAt + 3);
    await cg.killAll();
    expect((await p.exited).signal).toBe('SIGKILL');
  });

  it('killAll kills processes that ignore SIGTERM, and destroy leaves no directory', async () => {
    const cg = newCgroup('kill');
    cg.create();
    const p = spawnGated(['/bin/sh', '-c', `trap '' TERM; ${testinit} sleep-ignore-term 120 & exec ${testinit} sleep-ignore-term 120`]);
    cg.addProcess(p.pid);
    p.release();
    await waitFor('two processes', () => cg.pids().length === 2);
    await cg.killAll(constants.signals.SIGTERM);
    await sleep(200);
    expect(cg.pids()).toHaveLength(2); // SIGTERM ignored
    await cg.killAll();
    expect(cg.pids()).toEqual([]);
    expect((await p.exited).signal).toBe('SIGKILL');
    // Through the saved state, as `delete` will do it.
    const saved = JSON.parse(JSON.stringify(cg.toJSON()));
    await loadCgroupManager(saved).destroy();
    for (const h of saved.hierarchies) {
      expect(existsSync(h.dir), h.dir).toBe(false);
      for (const d of h.createdDirs) expect(existsSync(d), d).toBe(false);
    }
  });

  it('denies a device by rule: write to /dev/null refused, /dev/zero still writable', async () => {
    const cg = newCgroup('devices');
    cg.create();
    cg.apply({
      devices: [
        { allow: true, access: 'rwm' },
        { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
      ],
    });
    const p = spawnGated(['/bin/sh', '-c', `${testinit} open-write /dev/null; ${testinit} open-write /dev/zero; ${testinit} access /dev/null r`]);
    cg.addProcess(p.pid);
    p.release();
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.output().trim().split('\n')).toEqual(['EPERM', 'ok', 'ok']);
  });

  it('puts the process into every hierarchy of the cgroup', async () => {
    const cg = newCgroup('procs');
    cg.create();
    const p = spawnGated([testinit, 'sleep', '60']);
    cg.addProcess(p.pid);
    const mine = readFileSync(`/proc/${p.pid}/cgroup`, 'utf8');
    for (const file of cg.procsFiles()) {
      expect(readFileSync(file, 'utf8').split('\n')).toContain(String(p.pid));
    }
    expect(mine).toContain(cg.path.split('/').pop()!);
    expect(cg.pids()).toEqual([p.pid]);
    await cg.killAll();
    await p.exited;
  });
}
