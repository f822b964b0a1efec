/**
 * Joining existing namespaces by path (linux.namespaces[].path), as a pod's
 * containers join its sandbox: pid and user namespaces need the child to join
 * first and fork; the init then lives inside the joined pid namespace.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cgroupDirsNamed, processesMatching, useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle } from '../../helpers/rootfs.js';
import type { Spec } from '../../../src/spec/types.js';

const { husk, bundles, newId } = useHuskSuite();


/** A running "sandbox" container with a user namespace mapping root to host uid 100000. */
async function sandbox(): Promise<{ id: string; pid: number }> {
  const bundle = await makeTestBundle({
    args: ['sleep', '300'],
    mutate: (spec) => {
      spec.linux!.namespaces!.push({ type: 'user' });
      spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    },
  });
  bundles.push(bundle);
  const id = newId('sandbox');
  expect((await husk.detached(['run', '-d', '--bundle', bundle.dir, id])).stderr).toBe('');
  return { id, pid: (await husk.state(id)).pid! };
}

function joining(pid: number, types: string[], args: string[]): (spec: Spec) => void {
  return (spec) => {
    spec.process!.args = ['/bin/testinit', ...args];
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => !types.includes(n.type));
    for (const type of types) spec.linux!.namespaces!.push({ type: type as 'pid', path: `/proc/${pid}/ns/${type === 'network' ? 'net' : type}` });
  };
}

const nsInode = (pid: number | 'self', ns: string): string => readlinkSync(`/proc/${pid}/ns/${ns}`).match(/\[(\d+)\]/)![1]!;

describe('joining namespaces', () => {
  it('joins a pid namespace: the process is another pid of it, and sees its init', async () => {
    const box = await sandbox();
    const bundle = await makeTestBundle({ mutate: joining(box.pid, ['pid'], ['ls', '/proc/1']) });
    bundles.push(bundle);
    const result = await husk.run(['run', '--bundle', bundle.dir, newId('joinpid')]);
    expect(result.stderr).toBe('');
    expect(String(result.stdout).split('\n')).toContain('cmdline'); // /proc/1 is the sandbox's init
    const pidBundle = await makeTestBundle({ mutate: joining(box.pid, ['pid'], ['pid']) });
    bundles.push(pidBundle);
    const pid = Number(String((await husk.run(['run', '--bundle', pidBundle.dir, newId('joinpid')])).stdout).trim());
    expect(pid).toBeGreaterThan(1);
  });

  it('joins a user and a pid namespace together (a pod), with the exit code passed back', async () => {
    const box = await sandbox();
    const bundle = await makeTestBundle({ mutate: joining(box.pid, ['user', 'pid'], ['ids']) });
    bundles.push(bundle);
    const ids = await husk.run(['run', '--bundle', bundle.dir, newId('joinpod')]);
    expect(ids.stderr).toBe('');
    expect(String(ids.stdout)).toMatch(/^uid=0 gid=0 /); // root of the sandbox's user namespace
    const exitBundle = await makeTestBundle({ mutate: joining(box.pid, ['user', 'pid'], ['exit', '7']) });
    bundles.push(exitBundle);
    expect((await husk.run(['run', '--bundle', exitBundle.dir, newId('joinexit')])).exitCode).toBe(7);
  });

  it('a detached joined container is the host uid the sandbox maps, in its pid namespace, and leaves nothing', async () => {
    const box = await sandbox();
    const bundle = await makeTestBundle({ mutate: joining(box.pid, ['user', 'pid'], ['sleep', '300']) });
    bundles.push(bundle);
    const id = newId('joindetached');
    expect((await husk.detached(['run', '-d', '--bundle', bundle.dir, id])).stderr).toBe('');
    const { pid, status } = await husk.state(id);
    expect(status).toBe('running');
    const procStatus = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(procStatus).toMatch(/^Uid:\t100000\t/m);
    expect(nsInode(pid!, 'pid')).toBe(nsInode(box.pid, 'pid'));
    expect(nsInode(pid!, 'user')).toBe(nsInode(box.pid, 'user'));
    expect(nsInode(pid!, 'mnt')).not.toBe(nsInode(box.pid, 'mnt')); // its own rootfs
    expect((await husk.run(['kill', id, 'KILL'])).exitCode).toBe(0);
    expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
    expect(cgroupDirsNamed(id)).toEqual([]);
    expect(processesMatching(id)).toEqual([]);
  });

  it('joins a network namespace alongside a new user namespace', async () => {
    const box = await sandbox();
    const bundle = await makeTestBundle({
      mutate: (spec) => {
        joining(box.pid, ['network'], ['ns'])(spec);
        spec.linux!.namespaces!.push({ type: 'user' });
        spec.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
        spec.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      },
    });
    bundles.push(bundle);
    const result = await husk.run(['run', '--bundle', bundle.dir, newId('joinnet')]);
    expect(result.stderr).toBe('');
    const inside = Object.fromEntries(String(result.stdout).trim().split('\n').map((l) => l.split(' ') as [string, string]));
    expect(inside['net']).toBe(nsInode(box.pid, 'net'));
    expect(inside['user']).not.toBe(nsInode(box.pid, 'user'));
    expect(inside['user']).not.toBe(nsInode('self', 'user'));
  });
});
