/**
 * Containers confined by cgroup v2, for real, inside the pure-v2 VM (`npm test` runs tests/vm
 * there). Through the TypeScript API, not the CLI: under TCG every Node start costs seconds.
 * The same scenarios through the CLI on this host's v1 controllers:
 * tests/integration/cgroups/containers.test.ts.
 */
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectCgroups, type LinuxResources } from '../../src/cgroups/index.js';
import {
  containerCgroup,
  containerState,
  createContainer,
  deleteContainer,
  runContainer,
  startContainer,
  type RuntimeOptions,
} from '../../src/runtime/container.js';
import { containerStats, pauseContainer, resumeContainer, updateContainer } from '../../src/runtime/resources.js';
import type { Spec } from '../../src/spec/types.js';
import { testCgroupParent } from '../cgroups/lib.js';
import { makeHostToolsBundle, makeTestBundle, type TestBundle } from '../helpers/rootfs.js';

const isV2 = detectCgroups().mode === 'v2';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let rt: RuntimeOptions;
let outDir: string;
const bundles: TestBundle[] = [];
const ids: string[] = [];
let counter = 0;
const newId = (what: string): string => {
  const id = `v2-${what}-${process.pid}-${counter++}`;
  ids.push(id);
  return id;
};

async function bundle(init: string[] | string, resources: LinuxResources = {}, more?: (spec: Spec) => void): Promise<TestBundle> {
  const mutate = (spec: Spec): void => {
    spec.linux!.resources = { ...spec.linux!.resources, ...resources };
    more?.(spec);
  };
  const b = typeof init === 'string' ? await makeHostToolsBundle({ args: ['/bin/sh', '-c', init], mutate }) : await makeTestBundle({ args: init, mutate });
  bundles.push(b);
  return b;
}

/** The container's stdout and stderr go to a file (a pipe would be held open by the container). */
function outputFile(id: string): { stdio: [number, number, number]; read: () => string; close: () => void } {
  const path = join(outDir, id);
  const fd = openSync(path, 'w+');
  const devNull = openSync('/dev/null', 'r');
  return { stdio: [devNull, fd, fd], read: () => readFileSync(path, 'utf8'), close: () => (closeSync(fd), closeSync(devNull)) };
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function cpuTicks(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Removes the container and checks nothing is left: no state dir, no cgroup. */
async function removeAndCheck(id: string): Promise<void> {
  const dir = containerCgroup(rt, id).cgroup.v2Directory()!;
  await deleteContainer(rt, id, true);
  expect(existsSync(join(rt.root, id)), 'state directory').toBe(false);
  expect(existsSync(dir), `cgroup ${dir}`).toBe(false);
}

describe.skipIf(!isV2)('containers on pure cgroup v2', () => {
  beforeAll(() => {
    rt = { root: mkdtempSync('/run/husk-vm-'), cgroupParent: testCgroupParent };
    outDir = mkdtempSync('/tmp/husk-vm-out-');
  });
  afterAll(async () => {
    for (const id of ids) await deleteContainer(rt, id, true).catch(() => {});
    for (const b of bundles) await b.cleanup();
    rmSync(rt.root, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  });

  it('holds a fork bomb at pids.max; OOM-kills a hog (exit 137) inside the container only', async () => {
    const bomb = await bundle(['forkbomb', '300'], { pids: { limit: 8 } });
    const bombId = newId('pids');
    const out = outputFile(bombId);
    const bombRun = await runContainer(rt, { id: bombId, bundle: bomb.dir, stdio: out.stdio });
    out.close();
    expect(bombRun.code).toBe(0);
    expect(out.read().trim()).toBe('forks=7 error=EAGAIN');

    const memory = { limit: 32 << 20, swap: 32 << 20 };
    const hog = await bundle(['hog', '256'], { memory });
    const hogRun = await runContainer(rt, { id: newId('oom-init'), bundle: hog.dir });
    expect(hogRun.code).toBe(137);

    // A hog child of the container's shell: killed, counted, and the container lives on.
    const shell = await bundle('/testinit hog 256; exec /testinit sleep 300', { memory });
    const id = newId('oom');
    await runContainer(rt, { id, bundle: shell.dir, detach: true });
    await waitFor('oom_kill', () => (containerStats(rt, id).memory?.events.oomKill ?? 0) >= 1);
    expect(containerStats(rt, id).memory?.limitBytes).toBe(32 << 20);
    expect(containerState(rt, id).status).toBe('running');
    await removeAndCheck(id);
  });

  it('throttles a busy loop to a 0.2 CPU quota (cpu.max)', async () => {
    const b = await bundle(['spin', '120'], { cpu: { quota: 20_000, period: 100_000 } });
    const id = newId('cpu');
    await runContainer(rt, { id, bundle: b.dir, detach: true });
    expect(readFileSync(join(containerCgroup(rt, id).cgroup.v2Directory()!, 'cpu.max'), 'utf8').trim()).toBe('20000 100000');
    const first = containerStats(rt, id).cpu!;
    const t0 = Date.now();
    await sleep(1500);
    const second = containerStats(rt, id).cpu!;
    const wallUsec = (Date.now() - t0) * 1000;
    expect(second.throttledPeriods!).toBeGreaterThan(first.throttledPeriods!);
    expect(second.throttledUsec!).toBeGreaterThan(first.throttledUsec!);
    const used = second.usageUsec - first.usageUsec;
    expect(used).toBeGreaterThan(wallUsec * 0.05);
    expect(used).toBeLessThan(wallUsec * 0.45);
    await removeAndCheck(id);
  });

  it('pause freezes every process (cgroup.freeze), resume thaws them; state says paused', async () => {
    const b = await bundle(['spin', '300'], { cpu: { quota: 30_000, period: 100_000 } });
    const id = newId('pause');
    await runContainer(rt, { id, bundle: b.dir, detach: true });
    const { cgroup } = containerCgroup(rt, id);
    const pids = cgroup.pids();
    expect(pids.length).toBe(1);
    await expect(resumeContainer(rt, id)).rejects.toThrow(`container not paused: cannot resume container "${id}": it is running`);
    await pauseContainer(rt, id);
    expect(containerState(rt, id).status).toBe('paused');
    expect(readFileSync(join(cgroup.v2Directory()!, 'cgroup.events'), 'utf8')).toContain('frozen 1');
    const frozen = pids.map(cpuTicks);
    await sleep(500);
    expect(pids.map(cpuTicks)).toEqual(frozen);
    await resumeContainer(rt, id);
    expect(containerState(rt, id).status).toBe('running');
    await waitFor('the spinner to run again', () => cpuTicks(pids[0]!) > frozen[0]!);
    await pauseContainer(rt, id);
    await removeAndCheck(id); // delete --force of a paused container
  });

  it('update changes a live pids limit and merges memory+swap into memory.swap.max', async () => {
    const b = await bundle('while [ ! -e /tmp/go ]; do sleep 0.1; done; exec /testinit forkbomb 300', {
      pids: { limit: 100 },
      memory: { limit: 64 << 20, swap: 96 << 20 },
    });
    const id = newId('update');
    const out = outputFile(id);
    const container = await createContainer(rt, { id, bundle: b.dir, stdio: out.stdio });
    await startContainer(rt, id);
    const dir = containerCgroup(rt, id).cgroup.v2Directory()!;
    const read = (file: string) => readFileSync(join(dir, file), 'utf8').trim();
    expect(read('memory.swap.max')).toBe(String(32 << 20));

    await updateContainer(rt, id, { pids: { limit: 6 } });
    await updateContainer(rt, id, { memory: { limit: 48 << 20 } });
    expect(read('pids.max')).toBe('6');
    expect(read('memory.max')).toBe(String(48 << 20));
    expect(read('memory.swap.max')).toBe(String(48 << 20)); // memory+swap 96M kept: 96 - 48
    await expect(updateContainer(rt, id, { pids: { limit: -3 } })).rejects.toThrow('linux.resources.pids.limit: must be -1');
    await expect(updateContainer(rt, id, { memory: { swap: 16 << 20 } })).rejects.toThrow('linux.resources.memory.swap');
    expect(read('pids.max')).toBe('6');

    writeFileSync(join(b.rootfs, 'tmp', 'go'), '');
    await container.init.wait();
    out.close();
    expect(out.read().trim()).toBe('forks=5 error=EAGAIN');
    await removeAndCheck(id);
  });

  it('denies /dev/null writes by a device rule (eBPF); delete --force kills SIGTERM-ignoring processes', async () => {
    const devices = await bundle('/testinit open-write /dev/null; /testinit open-write /dev/zero', {
      devices: [{ allow: false, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }],
    });
    const devId = newId('devices');
    const out = outputFile(devId);
    const run = await runContainer(rt, { id: devId, bundle: devices.dir, stdio: out.stdio });
    out.close();
    expect(run.code).toBe(0);
    expect(out.read().trim().split('\n')).toEqual(['EPERM', 'ok']);

    const stubborn = await bundle("trap '' TERM; /testinit sleep-ignore-term 300 & exec /testinit sleep-ignore-term 300");
    const id = newId('force');
    await runContainer(rt, { id, bundle: stubborn.dir, detach: true });
    await waitFor('2 processes', () => containerCgroup(rt, id).cgroup.pids().length === 2);
    await removeAndCheck(id);
  });

  it('refuses bad values before anything is created', async () => {
    const cases: [(spec: Spec) => void, string][] = [
      [(s) => (s.linux!.resources!.memory = { limit: -5 }), 'linux.resources.memory.limit: must be -1'],
      [(s) => (s.linux!.resources!.unified = { 'memory.nonsense': '1' }), 'unknown cgroup v2 interface file'],
      [(s) => (s.linux!.cgroupsPath = '../escape'), 'must not contain ".."'],
    ];
    for (const [mutate, message] of cases) {
      const b = await bundle(['true'], {}, mutate);
      const id = newId('bad');
      await expect(createContainer(rt, { id, bundle: b.dir })).rejects.toThrow(message);
      expect(existsSync(join(rt.root, id))).toBe(false);
      expect(existsSync(join('/sys/fs/cgroup', id))).toBe(false);
      expect(existsSync('/sys/fs/cgroup/escape')).toBe(false);
    }
  });
});
