/**
 * Signals reach the container's processes only, even when a pid read a moment
 * ago now names a stranger (a container process exited and its pid was reused):
 * `kill --all` pins each pid with a pidfd and keeps only those still in the
 * container's cgroup. And a NUL byte in the config is refused, never cut.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { containerCgroup } from '../../../src/runtime/container.js';
import { testCgroupParent, useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle } from '../../helpers/rootfs.js';

const { husk, bundles, newId } = useHuskSuite();

describe('kill --all', () => {
  it('signals every process of the container', async () => {
    const bundle = await makeTestBundle({ args: ['spawn', '3', '300'] });
    bundles.push(bundle);
    const id = newId('killall');
    expect((await husk.detached(['run', '-d', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    const { cgroup } = containerCgroup({ root: husk.root, cgroupParent: testCgroupParent }, id);
    for (let i = 0; i < 200 && cgroup.pids().length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    expect(cgroup.pids().length).toBeGreaterThanOrEqual(4);
    const kill = await husk.run(['kill', '--all', id, 'KILL']);
    expect(kill.stderr).toBe('');
    expect(kill.exitCode).toBe(0);
    expect(cgroup.pids()).toEqual([]);
    expect((await husk.run(['delete', id])).exitCode).toBe(0);
    husk.expectGone(id);
  });

  it('never signals a listed pid that is no longer in the cgroup (a reused pid)', async () => {
    const bundle = await makeTestBundle({ args: ['sleep', '300'] });
    bundles.push(bundle);
    const id = newId('reuse');
    expect((await husk.detached(['run', '-d', '--bundle', bundle.dir, id])).exitCode).toBe(0);
    const { cgroup } = containerCgroup({ root: husk.root, cgroupParent: testCgroupParent }, id);
    // A stranger on the host whose pid sits in a listing taken earlier, as a reused pid would.
    const stranger = spawn('sleep', ['300'], { stdio: 'ignore' });
    const strangerExit = new Promise((resolve) => stranger.on('exit', (code, signal) => resolve(signal ?? code)));
    try {
      const stale = [...cgroup.pids(), stranger.pid!];
      expect(cgroup.signalMembers(15, stale)).toBe(stale.length - 1);
      await new Promise((r) => setTimeout(r, 100));
      expect(stranger.exitCode).toBeNull();
      expect(stranger.signalCode).toBeNull(); // the stranger lives on
      for (let i = 0; i < 200 && cgroup.pids().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(cgroup.pids()).toEqual([]); // the container's process got the SIGTERM
    } finally {
      stranger.kill('SIGKILL');
      await strangerExit;
    }
    expect((await husk.run(['delete', id])).exitCode).toBe(0);
    husk.expectGone(id);
  });
});

describe('NUL bytes in the config', () => {
  it('are refused with the JSON path before anything is created, where the kernel would have cut the string', async () => {
    const bundle = await makeTestBundle({ args: ['hostname'], mutate: (spec) => (spec.hostname = 'evil\u0000.example.com') });
    bundles.push(bundle);
    const id = newId('nul');
    const result = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(String(result.stdout)).toBe(''); // before: the container ran, named "evil"
    expect(result.stderr).toBe('husk: hostname: must not contain a NUL byte, got "evil\\u0000.example.com"');
    expect(result.exitCode).toBe(1);
    husk.expectGone(id);
  });
});
