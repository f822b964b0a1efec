/**
 * What one `husk run` does to the system, counted with strace (issue 15): the state is written
 * once per transition, only the cgroup directories that are missing are made, nobody writes a
 * pid to a cgroup.procs (the child is cloned into its cgroup2 cgroup and moves itself into its
 * v1 ones, which costs no RCU grace period), a stopped container's empty cgroup is removed
 * without listing it, and the mount table is read once. Counts, not times: they do not vary
 * with the load of the machine.
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectCgroups } from '../../../src/cgroups/index.js';
import { cgroupDirsNamed, cliPath, testCgroupParent, useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle } from '../../helpers/rootfs.js';

const { husk, bundles, newId } = useHuskSuite();
const traceDir = mkdtempSync('/tmp/husk-test-strace-');
afterAll(() => rmSync(traceDir, { recursive: true, force: true }));

interface Call {
  pid: number;
  name: string;
  args: string;
  result: string;
}

/** Runs husk under `strace -f` and returns its system calls of interest. */
async function traced(args: string[]): Promise<{ exitCode: number; stderr: string; calls: Call[] }> {
  const out = join(traceDir, `trace-${bundles.length}-${Date.now()}`);
  const result = await execa(
    'strace',
    ['-f', '-qq', '-s', '256', '-o', out, '-e', 'trace=openat,rename,mkdir,mkdirat,rmdir,unlink', 'node', cliPath, '--root', husk.root, '--cgroup-parent', testCgroupParent, ...args],
    { reject: false, timeout: 60_000 },
  );
  const calls: Call[] = [];
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const m = /^(\d+)\s+(\w+)\((.*)\)\s+=\s+(.*)$/.exec(line);
    if (m) calls.push({ pid: Number(m[1]), name: m[2]!, args: m[3]!, result: m[4]! });
  }
  return { exitCode: result.exitCode ?? -1, stderr: String(result.stderr), calls };
}

const hierarchies = (): number => {
  const layout = detectCgroups();
  return new Set(Object.values(layout.v1Mounts)).size + (layout.unifiedMount !== undefined ? 1 : 0);
};

describe('one `husk run` of /bin/true, counted', () => {
  it('writes the state twice, makes only the missing cgroup dirs, places the child without cgroup.procs, reads the mount table once', async () => {
    const parent = newId('lw-parent');
    const leaf = newId('lw-leaf');
    const bundle = await makeTestBundle({ args: ['true'], mutate: (spec) => (spec.linux!.cgroupsPath = `${parent}/${leaf}`) });
    bundles.push(bundle);
    // A first container keeps the parent cgroup in place: the second one has only its own to make.
    const first = newId('lw-first');
    const sleeper = await makeTestBundle({ args: ['sleep', '300'], mutate: (spec) => (spec.linux!.cgroupsPath = `${parent}/first`) });
    bundles.push(sleeper);
    expect((await husk.detached(['run', '-d', '--bundle', sleeper.dir, first])).exitCode).toBe(0);

    const id = newId('lw');
    const run = await traced(['run', '--bundle', bundle.dir, id]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    husk.expectGone(id);
    expect(cgroupDirsNamed(leaf)).toEqual([]);
    const calls = run.calls.filter((c) => !c.result.startsWith('-1 ENOENT') || c.name !== 'openat');

    // creating, created: two temp+rename cycles of state.json, no other state file.
    const renames = calls.filter((c) => c.name === 'rename' && c.args.includes(`/${id}/`));
    expect(renames.map((c) => c.args.replace(/^.*", "/, '').replace(/"$/, ''))).toEqual([join(husk.root, id, 'state.json'), join(husk.root, id, 'state.json')]);

    // One mkdir per hierarchy (the leaf; the parent exists), not one per level of the path.
    const cgroupMkdirs = calls.filter((c) => (c.name === 'mkdir' || c.name === 'mkdirat') && c.args.includes('/sys/fs/cgroup/'));
    expect(cgroupMkdirs.map((c) => c.args.split('"')[1]!.split('/').pop())).toEqual(Array(hierarchies()).fill(leaf));

    // No pid written to a cgroup.procs, none read (delete of a stopped container: rmdir, no listing).
    const procs = calls.filter((c) => c.name === 'openat' && c.args.includes('/cgroup.procs'));
    expect(procs.map((c) => c.args)).toEqual([]);
    // The v1 hierarchies: the child moved itself (tasks, "0").
    const tasks = calls.filter((c) => c.name === 'openat' && c.args.endsWith(`/${leaf}/tasks", O_WRONLY|O_CLOEXEC`));
    expect(tasks).toHaveLength(new Set(Object.values(detectCgroups().v1Mounts)).size);

    // The mount table once; /proc/self/mounts (the LSM probe) not at all: this config asks for no label.
    const opened = (path: string): number => calls.filter((c) => c.name === 'openat' && c.args.includes(`"${path}"`)).length;
    expect(opened('/proc/self/mountinfo')).toBe(1);
    expect(opened('/proc/self/mounts')).toBe(0);
    expect(opened('/proc/sys/kernel/cap_last_cap')).toBe(1);

    expect((await husk.run(['delete', '--force', first])).exitCode).toBe(0);
    husk.expectGone(first);
    expect(cgroupDirsNamed(parent)).toEqual([]);
  });
});
