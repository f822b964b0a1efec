/**
 * Container limits for real, through the CLI, on this host's cgroups (v1 controllers on our
 * hybrid machines; tests/vm/containers-v2.test.ts runs the same ideas on pure v2): pids, memory
 * (OOM inside the container only), CPU quota, pause/resume, update of a live limit, device
 * rules, delete --force, and bad values refused before anything exists.
 */
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupDirsNamed, makeHusk, type Husk } from '../../helpers/husk.js';
import { makeHostToolsBundle, makeTestBundle, type TestBundle } from '../../helpers/rootfs.js';
import type { LinuxResources, Spec } from '../../../src/spec/types.js';

let husk: Husk;
const bundles: TestBundle[] = [];
let counter = 0;
const newId = (what: string): string => `cg-${what}-${process.pid}-${counter++}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

beforeAll(() => {
  husk = makeHusk();
});
afterAll(async () => {
  await husk.cleanup();
  for (const bundle of bundles) await bundle.cleanup();
});

function withResources(resources: LinuxResources, more?: (spec: Spec) => void): (spec: Spec) => void {
  return (spec) => {
    spec.linux!.resources = { ...spec.linux!.resources, ...resources };
    more?.(spec);
  };
}

async function testinitBundle(args: string[], resources: LinuxResources = {}, more?: (spec: Spec) => void): Promise<TestBundle> {
  const bundle = await makeTestBundle({ args, mutate: withResources(resources, more) });
  bundles.push(bundle);
  return bundle;
}

/** A bundle whose init is `/bin/sh -c script` from the host's own tools (testinit is /testinit). */
async function shellBundle(script: string, resources: LinuxResources = {}): Promise<TestBundle> {
  const bundle = await makeHostToolsBundle({ args: ['/bin/sh', '-c', script], mutate: withResources(resources) });
  bundles.push(bundle);
  return bundle;
}


interface RuncStats {
  cpu: { usage: { total: number }; throttling: { periods: number; throttledPeriods: number; throttledTime: number } };
  memory: { usage: { limit: number; usage: number; max: number }; event_count: { oom_kill: number } };
  pids: { current: number; limit: number };
}

async function stats(id: string): Promise<RuncStats> {
  const result = await husk.run(['events', '--stats', id]);
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  const event = JSON.parse(String(result.stdout)) as { type: string; id: string; data: RuncStats };
  expect(event).toMatchObject({ type: 'stats', id });
  return event.data;
}

async function runDetached(bundle: TestBundle, id: string): Promise<void> {
  const run = await husk.detached(['run', '-d', '--bundle', bundle.dir, id]);
  expect(run.stderr).toBe('');
  expect(run.exitCode).toBe(0);
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function containerPids(id: string): Promise<number[]> {
  const result = await husk.run(['ps', '--format', 'json', id]);
  expect(result.stderr).toBe('');
  return JSON.parse(String(result.stdout)) as number[];
}

/** utime + stime of a process, in clock ticks. */
function cpuTicks(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}


describe('limits that hold', () => {
  it('holds a fork bomb at pids.max while the host keeps forking', async () => {
    const bundle = await testinitBundle(['forkbomb', '500'], { pids: { limit: 8 } });
    const id = newId('forkbomb');
    const run = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    // testinit (pid 1 of the container) is one of the 8.
    expect(String(run.stdout).trim()).toBe('forks=7 error=EAGAIN');
    expect((await execa('/bin/sh', ['-c', 'echo host-ok'])).stdout).toBe('host-ok');
    husk.expectGone(id);
  });

  it('OOM-kills a memory hog inside the container only, counts it in events, and run reports 137', async () => {
    const limit = 32 * 1024 * 1024;
    const memory = { limit, swap: limit };
    // The hog is a child of the container's shell: the OOM killer takes it, the shell lives on.
    // (The shell's own "Killed" notice would land on husk's stderr, which the container
    // inherits as with runc, racing the check that husk itself printed nothing.)
    const bundle = await shellBundle('exec 2>/dev/null; /testinit hog 256; echo "hog exited $?"; exec /testinit sleep 300', { memory });
    const id = newId('oom');
    await runDetached(bundle, id);
    await waitFor('oom_kill in events', async () => (await stats(id)).memory.event_count.oom_kill >= 1);
    const after = await stats(id);
    expect(after.memory.usage.limit).toBe(limit);
    expect(after.memory.usage.max).toBeGreaterThan(limit / 2);
    expect((await husk.state(id)).status).toBe('running');
    expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
    husk.expectGone(id);

    // The hog as the container's init: run exits 128 + SIGKILL.
    const hog = await testinitBundle(['hog', '256'], { memory });
    const hogId = newId('oom-init');
    const run = await husk.run(['run', '--bundle', hog.dir, hogId]);
    expect(run.exitCode).toBe(137);
    expect(String(run.stdout)).not.toContain('hogged');
    husk.expectGone(hogId);
  });

  it('throttles a busy loop to a 0.2 CPU quota', async () => {
    const bundle = await testinitBundle(['spin', '120'], { cpu: { quota: 20_000, period: 100_000 } });
    const id = newId('cpu');
    await runDetached(bundle, id);
    const first = await stats(id);
    const t0 = Date.now();
    // On a loaded machine the loop may get less than its 0.2 CPU for a while, and is throttled only once
    // it reaches the quota: wait for that (bounded), over at least 1.5 s of wall time, not a fixed 1.5 s.
    let second = first;
    await waitFor('the loop to be throttled', async () => {
      second = await stats(id);
      const throttled = second.cpu.throttling;
      return throttled.throttledPeriods > first.cpu.throttling.throttledPeriods && throttled.throttledTime > first.cpu.throttling.throttledTime && Date.now() - t0 >= 1500;
    }, 90_000);
    const wallNs = (Date.now() - t0) * 1e6;
    const used = second.cpu.usage.total - first.cpu.usage.total;
    // Unthrottled the loop would use ~1 CPU; at 0.2 CPU it gets at most ~0.2 of the wall time.
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(wallNs * 0.45);
    expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
    husk.expectGone(id);
  }, 120_000);
});

describe('pause, resume, update', () => {
  it('pause freezes every process of the container and resume thaws them', async () => {
    // Three busy processes (the shell waits), held to half a CPU so the host keeps breathing.
    const bundle = await shellBundle('/testinit spin 300 & /testinit spin 300 & /testinit spin 300 & wait', { cpu: { quota: 50_000, period: 100_000 } });
    const id = newId('pause');
    await runDetached(bundle, id);
    await waitFor('4 processes', async () => (await containerPids(id)).length === 4);
    const pids = await containerPids(id);

    expect((await husk.run(['resume', id])).stderr).toBe(`husk: container not paused: cannot resume container "${id}": it is running`);
    const pause = await husk.run(['pause', id]);
    expect(pause.stderr).toBe('');
    expect(pause.exitCode).toBe(0);
    expect((await husk.state(id)).status).toBe('paused');
    expect((await husk.run(['pause', id])).stderr).toBe(`husk: container not running: cannot pause container "${id}": it is paused`);
    const frozenAt = pids.map(cpuTicks);
    const usageFrozen = (await stats(id)).cpu.usage.total;
    await sleep(500);
    expect(pids.map(cpuTicks)).toEqual(frozenAt);
    expect((await stats(id)).cpu.usage.total).toBe(usageFrozen);

    const resume = await husk.run(['resume', id]);
    expect(resume.stderr).toBe('');
    expect((await husk.state(id)).status).toBe('running');
    await waitFor('every spinner to run again', () => pids.slice(1).every((pid, i) => cpuTicks(pid) > frozenAt[i + 1]!));

    // delete --force of a paused container: thawed and killed.
    expect((await husk.run(['pause', id])).exitCode).toBe(0);
    expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
    husk.expectGone(id);
  });

  it('update changes a live pids limit, keeps earlier limits, and refuses bad values before writing', async () => {
    // The shell waits for /tmp/go (created by the test in the rootfs), then becomes a fork bomb.
    const bundle = await shellBundle('while [ ! -e /tmp/go ]; do sleep 0.05; done; exec /testinit forkbomb 500', {
      pids: { limit: 100 },
      memory: { limit: 64 << 20 },
    });
    const id = newId('update');
    const run = husk.run(['run', '--bundle', bundle.dir, id]);
    await waitFor('running', async () => String((await husk.run(['state', id])).stdout).includes('"running"'));

    const update = await husk.run(['update', '--pids-limit', '6', id]);
    expect(update.stderr).toBe('');
    expect(update.exitCode).toBe(0);
    const mem = await husk.run(['update', '--memory', '48m', id]);
    expect(mem.exitCode).toBe(0);
    let now = await stats(id);
    expect(now.pids.limit).toBe(6);
    expect(now.memory.usage.limit).toBe(48 << 20);

    const negative = await husk.run(['update', '--pids-limit', '-5', id]);
    expect(negative.exitCode).toBe(2);
    expect(negative.stderr).toBe('husk: --pids-limit: must be -1 (unlimited) or a positive number of processes, got -5');
    const swapBelow = await husk.run(['update', '--memory-swap', '16m', id]);
    expect(swapBelow.exitCode).not.toBe(0);
    expect(swapBelow.stderr).toContain('--memory-swap');
    const json = await husk.run(['update', '-r', '-', id], { input: JSON.stringify({ unified: { 'memory.bogus': '1' } }) });
    expect(json.exitCode).toBe(1);
    expect(json.stderr).toContain('linux.resources.unified["memory.bogus"]');
    now = await stats(id);
    expect(now.pids.limit).toBe(6);
    expect(now.memory.usage.limit).toBe(48 << 20);

    writeFileSync(join(bundle.rootfs, 'tmp', 'go'), '');
    const result = await run;
    expect(result.stderr).toBe('');
    expect(String(result.stdout).trim()).toBe('forks=5 error=EAGAIN');
    husk.expectGone(id);
  });

  it('events streams stats every --interval and an oom event, and ends when the container stops', async () => {
    const bundle = await shellBundle('while [ ! -e /tmp/go ]; do sleep 0.05; done; /testinit hog 256; exec /testinit sleep 1', {
      memory: { limit: 32 << 20, swap: 32 << 20 },
    });
    const id = newId('events');
    await runDetached(bundle, id);
    const events = husk.run(['events', '--interval', '300ms', id]);
    let seen = '';
    const stdout = (events as unknown as { stdout: NodeJS.ReadableStream }).stdout;
    stdout.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    await waitFor('a first stats event', () => seen.includes('"type":"stats"'));
    writeFileSync(join(bundle.rootfs, 'tmp', 'go'), ''); // the hog starts only once events watches
    const result = await events;
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const lines = String(result.stdout).trim().split('\n').map((l) => JSON.parse(l) as { type: string; id: string });
    expect(lines.filter((e) => e.type === 'stats').length).toBeGreaterThanOrEqual(2);
    expect(lines).toContainEqual({ type: 'oom', id });
    expect(lines.every((e) => e.id === id)).toBe(true);
    expect((await husk.run(['delete', id])).exitCode).toBe(0);
    husk.expectGone(id);
  });

  it('events and update refuse a stopped container; pause refuses a created one', async () => {
    const bundle = await testinitBundle(['true']);
    const id = newId('stopped');
    expect((await husk.detached(['create', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    expect((await husk.run(['pause', id])).stderr).toBe(`husk: container not running: cannot pause container "${id}": it is created`);
    expect((await husk.run(['start', id])).exitCode).toBe(0);
    await waitFor('stopped', async () => (await husk.state(id)).status === 'stopped');
    const events = await husk.run(['events', '--stats', id]);
    expect(events.exitCode).toBe(1);
    expect(events.stderr).toBe(`husk: container with id ${id} is not running`);
    expect((await husk.run(['update', '--pids-limit', '5', id])).stderr).toBe(`husk: container not running: cannot update container "${id}": it is stopped`);
    expect((await husk.run(['delete', id])).exitCode).toBe(0);
    husk.expectGone(id);
  });
});

describe('devices and deletion', () => {
  it('a device rule denies writing /dev/null inside the container (other devices stay usable)', async () => {
    const bundle = await shellBundle('/testinit open-write /dev/null; /testinit open-write /dev/zero; /testinit access /dev/null r', {
      devices: [
        { allow: false, access: 'rwm' },
        { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
      ],
    });
    const id = newId('devices');
    const run = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(run.stderr).toBe('');
    expect(String(run.stdout).trim().split('\n')).toEqual(['EPERM', 'ok', 'ok']);
    husk.expectGone(id);
  });

  it('delete --force kills processes that ignore SIGTERM and leaves no cgroup on any hierarchy', async () => {
    const bundle = await shellBundle("trap '' TERM; /testinit sleep-ignore-term 300 & /testinit sleep-ignore-term 300 & exec /testinit sleep-ignore-term 300");
    const id = newId('force');
    await runDetached(bundle, id);
    await waitFor('3 processes', async () => (await containerPids(id)).length === 3);
    const pids = await containerPids(id);
    expect(cgroupDirsNamed(id).length).toBeGreaterThan(1); // one per hierarchy here
    expect((await husk.run(['kill', '--all', id, 'TERM'])).exitCode).toBe(0);
    await sleep(200);
    expect((await containerPids(id)).sort()).toEqual([...pids].sort());
    expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
    husk.expectGone(id);
  });
});

describe('bad values are refused before anything is created', () => {
  const cases: [string, (spec: Spec) => void, string][] = [
    ['a negative memory limit', (s) => (s.linux!.resources!.memory = { limit: -5 }), 'linux.resources.memory.limit: must be -1 (unlimited) or a positive number of bytes, got -5'],
    ['a negative pids limit', (s) => (s.linux!.resources!.pids = { limit: -2 }), 'linux.resources.pids.limit: must be -1'],
    ['an unknown unified key', (s) => (s.linux!.resources!.unified = { 'memory.nonsense': '1' }), 'linux.resources.unified["memory.nonsense"]: unknown cgroup v2 interface file'],
    ['a cgroupsPath escaping with ..', (s) => (s.linux!.cgroupsPath = '../../escape'), 'linux.cgroupsPath: cgroupsPath "../../escape" must not contain ".."'],
  ];
  for (const [what, mutate, message] of cases) {
    it(`refuses ${what}`, async () => {
      const bundle = await testinitBundle(['true'], {}, mutate);
      const id = newId('bad');
      const create = await husk.run(['create', '--bundle', bundle.dir, id]);
      expect(create.exitCode).toBe(1);
      expect(create.stderr).toContain(message);
      husk.expectGone(id);
      expect(cgroupDirsNamed('escape')).toEqual([]);
    });
  }
});
