/**
 * The systemd cgroup driver (--systemd-cgroup) on a host like a GitHub runner: pure cgroup v2
 * with systemd as PID 1. `npm test` runs tests/vm-systemd inside the pure-v2 VM booted with
 * systemd (scripts/vm/run-in-vm.sh -Y). Through the TypeScript API, as tests/vm does (every Node
 * start costs seconds under TCG), but for podman, which drives husk's CLI as it drives runc.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectCgroups } from '../../src/cgroups/index.js';
import { containerCgroup, containerProcesses, containerState, createContainer, deleteContainer, killContainer, runContainer, startContainer, type RuntimeOptions } from '../../src/runtime/container.js';
import { containerStats, pauseContainer, resumeContainer, updateContainer } from '../../src/runtime/resources.js';
import { makeTestBundle, type TestBundle } from '../helpers/rootfs.js';

const onSystemdV2 = detectCgroups().mode === 'v2' && existsSync('/run/systemd/system');
const repo = join(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let rt: RuntimeOptions;
const bundles: TestBundle[] = [];
const ids: string[] = [];

function systemctlShow(unit: string, ...props: string[]): Record<string, string> {
  const out = execFileSync('systemctl', ['show', unit, ...props.map((p) => `--property=${p}`)], { encoding: 'utf8' });
  return Object.fromEntries(out.trim().split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// npm test runs this suite where systemd is PID 1 on pure v2 (HUSK_REQUIRE_V2=1): skipping there is a failure.
it.runIf(process.env.HUSK_REQUIRE_V2 === '1')('runs on a pure cgroup v2 host with systemd as PID 1', () => {
  expect({ mode: detectCgroups().mode, systemd: existsSync('/run/systemd/system') }).toEqual({ mode: 'v2', systemd: true });
});

describe.skipIf(!onSystemdV2)('the systemd cgroup driver on pure v2 + systemd', () => {
  beforeAll(() => {
    rt = { root: mkdtempSync('/run/husk-systemd-'), systemdCgroup: true };
  });
  afterAll(async () => {
    for (const id of ids) await deleteContainer(rt, id, true).catch(() => {});
    for (const b of bundles) await b.cleanup();
    rmSync(rt.root, { recursive: true, force: true });
  });

  it('lives in system.slice/husk-ID.scope with its limits; update, pause, stats, ps, kill and delete work; nothing is left', async () => {
    const id = `sd-${process.pid}`;
    ids.push(id);
    const unit = `husk-${id}.scope`;
    const b = await makeTestBundle({
      args: ['sleep', '300'],
      mutate: (spec) => {
        spec.linux!.cgroupsPath = `system.slice:husk:${id}`;
        spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 64 << 20 }, pids: { limit: 32 }, cpu: { quota: 20_000, period: 100_000, shares: 1024 } };
      },
    });
    bundles.push(b);
    const container = await createContainer(rt, { id, bundle: b.dir });
    const dir = '/sys/fs/cgroup/system.slice/' + unit;
    expect(readFileSync(`/proc/${container.pid}/cgroup`, 'utf8').trim()).toBe(`0::/system.slice/${unit}`);
    expect(containerCgroup(rt, id).cgroup.v2Directory()).toBe(dir);
    const shown = systemctlShow(unit, 'ActiveState', 'Delegate', 'Slice', 'MemoryMax', 'TasksMax', 'CPUQuotaPerSecUSec', 'CPUWeight');
    expect(shown).toMatchObject({ ActiveState: 'active', Delegate: 'yes', Slice: 'system.slice', MemoryMax: String(64 << 20), TasksMax: '32', CPUQuotaPerSecUSec: '200ms', CPUWeight: '39' });
    expect(readFileSync(join(dir, 'memory.max'), 'utf8').trim()).toBe(String(64 << 20));
    expect(readFileSync(join(dir, 'pids.max'), 'utf8').trim()).toBe('32');
    expect(readFileSync(join(dir, 'cpu.max'), 'utf8').trim()).toBe('20000 100000');
    await startContainer(rt, id);
    expect(containerState(rt, id).status).toBe('running');

    // update: through SetUnitProperties, and in the files.
    await updateContainer(rt, id, { pids: { limit: 64 }, memory: { limit: 128 << 20 } });
    expect(systemctlShow(unit, 'TasksMax', 'MemoryMax')).toEqual({ TasksMax: '64', MemoryMax: String(128 << 20) });
    expect(readFileSync(join(dir, 'pids.max'), 'utf8').trim()).toBe('64');

    await pauseContainer(rt, id);
    expect(containerState(rt, id).status).toBe('paused');
    await resumeContainer(rt, id);
    expect(containerState(rt, id).status).toBe('running');
    expect(containerStats(rt, id).pids?.current).toBe(1);
    expect(containerProcesses(rt, id).pids).toEqual([container.pid]);

    await killContainer(rt, id, 9);
    await container.init.wait();
    await deleteContainer(rt, id);
    ids.pop();
    expect(systemctlShow(unit, 'LoadState').LoadState).toBe('not-found');
    expect(existsSync(dir), dir).toBe(false);
    expect(existsSync(join(rt.root, id))).toBe(false);
  });

  it('holds a fork bomb at the scope\'s TasksMax; a failed create leaves no unit', async () => {
    const id = `sd-bomb-${process.pid}`;
    ids.push(id);
    const b = await makeTestBundle({ args: ['forkbomb', '300'], mutate: (spec) => (spec.linux!.resources = { ...spec.linux!.resources, pids: { limit: 8 } }) });
    bundles.push(b);
    const run = await runContainer(rt, { id, bundle: b.dir });
    expect(run.code).toBe(0);
    expect(systemctlShow(`husk-${id}.scope`, 'LoadState').LoadState).toBe('not-found');

    const bad = `sd-bad-${process.pid}`;
    ids.push(bad);
    // systemd takes AllowedCPUs=99 (it only logs the kernel's refusal); husk's own write of cpuset.cpus fails after the scope exists.
    const nowhere = await makeTestBundle({ args: ['true'], mutate: (spec) => (spec.linux!.resources = { ...spec.linux!.resources, cpu: { cpus: '99' } }) });
    bundles.push(nowhere);
    await expect(runContainer(rt, { id: bad, bundle: nowhere.dir })).rejects.toThrow(/cpuset\.cpus/);
    await waitFor('the failed scope to go', () => systemctlShow(`husk-${bad}.scope`, 'LoadState').LoadState === 'not-found', 20_000);
    expect(existsSync(join(rt.root, bad))).toBe(false);
  });

  it('podman with its default systemd cgroup manager drives husk', { timeout: 300_000 }, async () => {
    const work = mkdtempSync('/tmp/husk-podman-sd-');
    try {
      const husk = join(repo, 'dist', 'cli.js');
      const podman = (...args: string[]) =>
        spawnSync('podman', ['--root', join(work, 'root'), '--runroot', join(work, 'run'), '--tmpdir', join(work, 'tmp'), '--storage-driver', 'vfs', '--events-backend', 'file', '--cgroup-manager', 'systemd', '--runtime', husk, ...args], {
          encoding: 'utf8',
          timeout: 240_000,
        });
      const image = spawnSync('sh', ['-c', `mkdir -p ${work}/img/bin && cp /bin/busybox ${work}/img/bin/ && for a in sh cat true; do ln -s busybox ${work}/img/bin/$a; done && tar -C ${work}/img -c . > ${work}/img.tar`]);
      expect(image.status).toBe(0);
      expect(podman('import', join(work, 'img.tar'), 'localhost/sdbox').status).toBe(0);
      const r = podman('run', '--rm', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--cgroupns', 'host', 'localhost/sdbox', 'cat', '/proc/self/cgroup');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toMatch(/^0::\/machine\.slice\/libpod-[0-9a-f]{64}\.scope$/);
    } finally {
      spawnSync('podman', ['--root', join(work, 'root'), '--runroot', join(work, 'run'), '--storage-driver', 'vfs', 'rm', '-af']);
      spawnSync('umount', ['-R', join(work, 'root')]);
      rmSync(work, { recursive: true, force: true });
    }
  });
});
