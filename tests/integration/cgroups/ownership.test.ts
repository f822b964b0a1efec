/**
 * Who owns a container's cgroup (issue #11, item 6). A cgroup that already holds processes at a
 * new container's path belongs to someone else: create refuses it with runc's words ("container's
 * cgroup is not empty"; runc 1.1.5, alongside as the reference, says it and only warns; runc 1.2
 * refuses), and the refused create must not kill or remove anything of the owner. An empty existing cgroup is used, and what husk did not
 * create is left in place on delete.
 *
 * The attacks, as they were reproduced before the fix: two containers given one cgroupsPath, or
 * one id under two --root's (the default cgroup path derives from the id), and the second one's
 * delete killed the first and removed its cgroup.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCgroupManager, resolveCgroupsPath } from '../../../src/cgroups/index.js';
import { cgroupDirsNamed, makeHusk, testCgroupParent, type Husk } from '../../helpers/husk.js';
import { makeTestBundle, type TestBundle } from '../../helpers/rootfs.js';

const husks: Husk[] = [];
const bundles: TestBundle[] = [];
let counter = 0;
const uniq = (what: string): string => `own-${what}-${process.pid}-${counter++}`;

function newHusk(): Husk {
  const husk = makeHusk();
  husks.push(husk);
  return husk;
}

afterAll(async () => {
  for (const husk of husks) await husk.cleanup();
  for (const bundle of bundles) await bundle.cleanup();
});

async function sleeper(cgroupsPath?: string): Promise<TestBundle> {
  const bundle = await makeTestBundle({
    args: ['sleep', '300'],
    mutate: (spec) => {
      if (cgroupsPath !== undefined) spec.linux!.cgroupsPath = cgroupsPath;
    },
  });
  bundles.push(bundle);
  return bundle;
}

async function runDetached(husk: Husk, bundle: TestBundle, id: string): Promise<number> {
  const run = await husk.detached(['run', '-d', '--bundle', bundle.dir, id]);
  expect(run.stderr).toBe('');
  expect(run.exitCode).toBe(0);
  const state = await husk.state(id);
  expect(state.status).toBe('running');
  return state.pid!;
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

/** What the victim must still have after the intruder's attempt: its init, its status, its cgroup. */
async function expectUntouched(husk: Husk, id: string, pid: number, cgroupName: string): Promise<void> {
  expect(alive(pid), `init ${pid} of ${id} is alive`).toBe(true);
  expect((await husk.state(id)).status).toBe('running');
  expect(cgroupDirsNamed(cgroupName).length, `cgroup directories named ${cgroupName}`).toBeGreaterThan(0);
  const inCgroup = cgroupDirsNamed(cgroupName).some((dir) => readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').includes(String(pid)));
  expect(inCgroup, `init ${pid} is still in its cgroup`).toBe(true);
}

describe('a cgroup that holds processes is not taken over', () => {
  it('a second container with the same cgroupsPath is refused (runc 1.1.5 warns in the same words), and the first lives on', async () => {
    const shared = uniq('shared');
    const husk = newHusk();
    const first = uniq('first');
    const pid = await runDetached(husk, await sleeper(shared), first);

    const intruder = uniq('intruder');
    const create = await husk.detached(['create', '--bundle', (await sleeper(shared)).dir, intruder]);
    if (create.exitCode === 0) {
      // Before the fix the cgroup was adopted; the intruder's delete then killed the first container.
      await husk.run(['delete', '--force', intruder]);
    }
    await expectUntouched(husk, first, pid, shared);
    expect(create.stderr).toContain("container's cgroup is not empty: 1 process(es) found");
    expect(create.exitCode).not.toBe(0);
    husk.expectGone(intruder);

    // runc 1.1.5, same bundle, same cgroupsPath: it sees the same thing in the same words, but
    // only warns ("DEPRECATED: running container in a non-empty cgroup won't be supported in
    // runc 1.2"); runc 1.2 refuses, as husk does. Its delete must not hurt the first either.
    const runcRoot = mkdtempSync('/run/husk-test-runc-');
    const runcOut = join(runcRoot, 'out');
    const out = openSync(runcOut, 'w');
    try {
      const runcId = uniq('runc');
      const runcBundle = await sleeper(shared);
      spawnSync('runc', ['--root', runcRoot, 'create', '--bundle', runcBundle.dir, runcId], { stdio: ['ignore', out, out], timeout: 60_000 });
      expect(readFileSync(runcOut, 'utf8')).toContain("container's cgroup is not empty: 1 process(es) found");
      spawnSync('runc', ['--root', runcRoot, 'delete', '--force', runcId], { stdio: ['ignore', out, out], timeout: 60_000 });
    } finally {
      closeSync(out);
      rmSync(runcRoot, { recursive: true, force: true });
    }
    await expectUntouched(husk, first, pid, shared);

    expect((await husk.run(['delete', '--force', first])).exitCode).toBe(0);
    husk.expectGone(first);
    expect(cgroupDirsNamed(shared)).toEqual([]);
  });

  it('one id under two --root dirs: the second create is refused, the first container lives on', async () => {
    const one = newHusk();
    const two = newHusk();
    const id = uniq('twin');
    // No cgroupsPath: both put the container at <parent>/<id>.
    const pid = await runDetached(one, await sleeper(), id);

    const create = await two.detached(['create', '--bundle', (await sleeper()).dir, id]);
    if (create.exitCode === 0) await two.run(['delete', '--force', id]);
    await expectUntouched(one, id, pid, id);
    expect(create.stderr).toContain("container's cgroup is not empty: 1 process(es) found");
    expect(create.exitCode).not.toBe(0);
    expect(existsSync(`${two.root}/${id}`), "the second root's state directory").toBe(false);

    expect((await one.run(['delete', '--force', id])).exitCode).toBe(0);
    one.expectGone(id);
  });
});

describe('husk removes only the cgroups it created', () => {
  it('an empty cgroup made by someone else is used, emptied on delete, and left in place', async () => {
    const husk = newHusk();
    const name = uniq('premade');
    // Someone else's cgroup, at the path the container will ask for (beneath the test's own).
    const theirs = createCgroupManager(resolveCgroupsPath(name, name, testCgroupParent));
    theirs.create();
    try {
      const dirs = cgroupDirsNamed(name);
      expect(dirs.length).toBeGreaterThan(0);
      const id = uniq('guest');
      const pid = await runDetached(husk, await sleeper(name), id);
      expect(dirs.some((dir) => readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').includes(String(pid)))).toBe(true);

      expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
      expect(alive(pid)).toBe(false);
      expect(existsSync(`${husk.root}/${id}`)).toBe(false);
      // Still there, and empty: not husk's to remove.
      for (const dir of dirs) {
        expect(existsSync(dir), dir).toBe(true);
        expect(readFileSync(`${dir}/cgroup.procs`, 'utf8'), dir).toBe('');
      }
    } finally {
      await theirs.destroy();
    }
    expect(cgroupDirsNamed(name)).toEqual([]);
  });
});
