/**
 * Pure cgroup v2 when the caller's own cgroup holds processes (systemd hosts, GitHub runners):
 * cgroup v2 gives memory/io to children only of a cgroup without processes. In the VM (we run
 * in the root cgroup) such an "own cgroup" is simulated with a fresh cgroup.
 * - the runtime: a clear error naming the rule and --cgroup-parent, and nothing left behind;
 * - scripts/vm/delegate.mjs (npm test's set-up): moves the runner (only when it is alone in
 *   its cgroup) into a leaf of its own subtree so that containers beneath get memory, and
 *   undoes it; refuses, with the way out, when other processes share the cgroup.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectCgroups } from '../../src/cgroups/index.js';
import { createContainer } from '../../src/runtime/container.js';
import { repoRoot } from '../cgroups/lib.js';
import { makeTestBundle, type TestBundle } from '../helpers/rootfs.js';

const isV2 = detectCgroups().mode === 'v2';
const MOUNT = '/sys/fs/cgroup';
const made: string[] = [];
const sleepers: number[] = [];
const bundles: TestBundle[] = [];

/** A fresh cgroup at the root, optionally with a sleeping process in it. */
function simulatedCgroup(label: string, withProcess: boolean): string {
  const dir = join(MOUNT, `husk-sim-${label}-${process.pid}`);
  mkdirSync(dir);
  made.push(dir);
  if (withProcess) {
    const sleeper = spawn('/bin/sleep', ['300'], { stdio: 'ignore' });
    sleepers.push(sleeper.pid!);
    writeFileSync(join(dir, 'cgroup.procs'), String(sleeper.pid));
  }
  return dir;
}

const subdirs = (dir: string) => readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);

describe.skipIf(!isV2)('a caller whose own cgroup holds processes (pure v2)', () => {
  afterAll(async () => {
    for (const pid of sleepers) process.kill(pid, 'SIGKILL');
    // A killed process leaves its cgroup once reaped: wait for that (bounded), not a fixed 100 ms (too short under TCG).
    const populated = (): boolean => made.some((dir) => existsSync(dir) && readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() !== '');
    for (const deadline = Date.now() + 10_000; populated() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    for (const dir of made.reverse()) rmdirSync(dir);
    for (const b of bundles) await b.cleanup();
  });

  it('the runtime refuses memory limits beneath a populated parent with a clear error, leaving nothing', async () => {
    const parent = simulatedCgroup('populated', true);
    const root = mkdtempSync('/run/husk-vm-deleg-');
    const bundle = await makeTestBundle({ args: ['true'], mutate: (s) => (s.linux!.resources!.memory = { limit: 64 << 20 }) });
    bundles.push(bundle);
    const id = `deleg-${process.pid}`;
    const rt = { root, cgroupParent: parent.slice(MOUNT.length) };
    await expect(createContainer(rt, { id, bundle: bundle.dir })).rejects.toThrow(
      /cgroup v2: memory cannot be used in .*: .* holds processes .*"no internal processes" rule\)\. Place containers beneath a cgroup without processes: --cgroup-parent/,
    );
    expect(existsSync(join(root, id))).toBe(false);
    expect(subdirs(parent)).toEqual([]);
    rmSync(root, { recursive: true, force: true });
  });

  it('delegate.mjs: refuses when others share the cgroup; otherwise a leaf for the runner, memory beneath, all undone', () => {
    const shared = simulatedCgroup('shared', true);
    const alone = simulatedCgroup('alone', false);
    const delegate = join(repoRoot, 'scripts', 'vm', 'delegate.mjs');
    // One Node process (they are slow here): first in the shared cgroup, then alone in its own.
    const script = `
      import { readFileSync, writeFileSync, mkdirSync, existsSync, rmdirSync } from 'node:fs';
      import { enterDelegatedLeaf } from ${JSON.stringify(delegate)};
      const out = {};
      writeFileSync(${JSON.stringify(join(shared, 'cgroup.procs'))}, String(process.pid));
      out.shared = enterDelegatedLeaf();
      out.sharedLeaf = existsSync(${JSON.stringify(join(shared, 'husk-tests-runner'))});
      writeFileSync(${JSON.stringify(join(alone, 'cgroup.procs'))}, String(process.pid));
      const d = enterDelegatedLeaf();
      out.alone = { env: d.env, note: d.note, problem: d.problem };
      out.during = readFileSync('/proc/self/cgroup', 'utf8').trim();
      const parent = '/sys/fs/cgroup' + d.env.HUSK_TEST_CGROUP_PARENT;
      mkdirSync(parent);
      writeFileSync(parent + '/cgroup.subtree_control', '+memory');
      mkdirSync(parent + '/ctr');
      writeFileSync(parent + '/ctr/memory.max', String(32 << 20));
      out.memoryMax = readFileSync(parent + '/ctr/memory.max', 'utf8').trim();
      rmdirSync(parent + '/ctr');
      d.restore();
      out.after = readFileSync('/proc/self/cgroup', 'utf8').trim();
      console.log(JSON.stringify(out));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as Record<string, any>;
    expect(out.shared.problem).toMatch(/also holds 1 process\(es\) that are not the test runner's .*systemd-run --scope -p Delegate=yes/);
    expect(out.shared.env).toEqual({});
    expect(out.sharedLeaf).toBe(false);
    const own = alone.slice(MOUNT.length);
    expect(out.alone.problem).toBeUndefined();
    expect(out.alone.env).toEqual({ HUSK_TEST_CGROUP_PARENT: `${own}/husk-tests` });
    expect(out.during).toBe(`0::${own}/husk-tests-runner`);
    expect(out.memoryMax).toBe(String(32 << 20));
    expect(out.after).toBe(`0::${own}`);
    // Undone: no leaf, no tests parent, controllers off again.
    expect(subdirs(alone)).toEqual([]);
    expect(readFileSync(join(alone, 'cgroup.subtree_control'), 'utf8').trim()).toBe('');
  });
});
