/**
 * config-linux.md's two MUSTs for the mount namespace: absent from
 * linux.namespaces, the container inherits the runtime's (husk then mounts
 * nothing: the host's mount table is not touched, and only a chroot jails the
 * process); joined by path, the rootfs is set up and pivoted inside the joined
 * namespace, as runc does. The joined namespace is made by the test with
 * `unshare -m`.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle, mountsUnder, type TestBundle } from '../../helpers/rootfs.js';
import { parseMountInfo } from '../../../src/sys/mountinfo.js';
import type { Spec } from '../../../src/spec/types.js';

const { husk, bundles, newId } = useHuskSuite();
const holders: ResultPromise[] = [];
afterAll(() => {
  for (const holder of holders) holder.kill('SIGKILL');
});

const mntOf = (pid: number | 'self'): string => readlinkSync(`/proc/${pid}/ns/mnt`);
/** The optional fields (shared:N, master:N) of the mount at "/" of this process: its propagation. */
const rootPropagation = (): string => {
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === '/')!;
  return line.slice(0, line.indexOf(' - ')).split(' ').slice(6).join(' ');
};

/** The test bundle with no mount namespace and nothing that needs one. */
function withoutMountNs(spec: Spec): void {
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'mount');
  spec.mounts = [];
  spec.root!.readonly = false;
  delete spec.linux!.maskedPaths;
  delete spec.linux!.readonlyPaths;
}

async function run(bundle: TestBundle, id: string): Promise<number> {
  const result = await husk.detached(['run', '-d', '--bundle', bundle.dir, id]);
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  return (await husk.state(id)).pid!;
}

async function exec(id: string, args: string[]): Promise<string> {
  const result = await husk.run(['exec', id, '/bin/testinit', ...args]);
  expect(result.stderr).toBe('');
  return String(result.stdout).trim();
}

describe('no mount namespace in linux.namespaces', () => {
  it("inherits the runtime's mount namespace, mounts nothing, and jails the process with a chroot (exec too)", async () => {
    const bundle = await makeTestBundle({ args: ['sleep', '300'], mutate: withoutMountNs });
    bundles.push(bundle);
    const before = rootPropagation();
    const id = newId('nomnt');
    const pid = await run(bundle, id);
    expect(mntOf(pid)).toBe(mntOf('self'));
    expect(mountsUnder(bundle.dir)).toEqual([]);
    expect(rootPropagation()).toBe(before); // runc would have made "/" rslave here
    const marker = readFileSync(`${bundle.rootfs}/etc/husk-test-rootfs`, 'utf8').trim();
    expect(readFileSync(`/proc/${pid}/root/etc/husk-test-rootfs`, 'utf8').trim()).toBe(marker);
    expect(await exec(id, ['cat', '/etc/husk-test-rootfs'])).toBe(marker);
    expect(await exec(id, ['ls', '/'])).toMatch(/^bin\n/);
    await husk.run(['delete', '--force', id]);
    expect(mountsUnder(bundle.dir)).toEqual([]);
  });

  it('refuses, with one line before anything exists, what would change the host: mounts, a read-only root, masked paths', async () => {
    const cases: [string, (spec: Spec) => void, RegExp][] = [
      ['mounts', (spec) => { withoutMountNs(spec); spec.mounts = [{ destination: '/proc', type: 'proc', source: 'proc' }]; }, /^husk: .*mounts: cannot be mounted without a mount namespace .* host's own mounts/],
      ['root.readonly', (spec) => { withoutMountNs(spec); spec.root!.readonly = true; }, /root\.readonly: cannot be applied without a mount namespace/],
      ['maskedPaths', (spec) => { withoutMountNs(spec); spec.linux!.maskedPaths = ['/proc/kcore']; }, /linux\.maskedPaths: needs a mount namespace/],
    ];
    for (const [what, mutate, line] of cases) {
      const bundle = await makeTestBundle({ mutate });
      bundles.push(bundle);
      const id = newId('nomnt');
      const result = await husk.run(['run', '--bundle', bundle.dir, id]);
      expect(result.exitCode, what).not.toBe(0);
      expect(String(result.stderr).trim().split('\n'), what).toEqual([expect.stringMatching(line)]);
      husk.expectGone(id);
    }
  });
});

describe('a mount namespace joined by path', () => {
  it('sets up and pivots the rootfs inside the joined namespace; the host sees none of it', async () => {
    const holder = execa('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'echo ready; exec sleep 300'], { reject: false });
    holders.push(holder);
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.once('data', () => resolve());
      holder.once('exit', () => reject(new Error('the unshare holder exited')));
    });
    const holderPid = holder.pid!;
    const bundle = await makeTestBundle({
      args: ['sleep', '300'],
      mutate: (spec) => {
        spec.linux!.namespaces = spec.linux!.namespaces!.map((n) => (n.type === 'mount' ? { type: 'mount', path: `/proc/${holderPid}/ns/mnt` } : n));
      },
    });
    bundles.push(bundle);
    const id = newId('joinmnt');
    const pid = await run(bundle, id);
    expect(mntOf(pid)).toBe(mntOf(holderPid));
    expect(mntOf(pid)).not.toBe(mntOf('self'));
    // The joined namespace holds the container's mounts, and its root is now the rootfs
    // (pivot_root moves every process of the namespace whose root was the old one).
    const joined = parseMountInfo(readFileSync(`/proc/${holderPid}/mountinfo`, 'utf8'));
    expect(joined.find((m) => m.mountPoint === '/proc')?.fsType).toBe('proc');
    expect(joined.find((m) => m.mountPoint === '/dev')?.fsType).toBe('tmpfs');
    const marker = readFileSync(`${bundle.rootfs}/etc/husk-test-rootfs`, 'utf8').trim();
    expect(readFileSync(`/proc/${holderPid}/root/etc/husk-test-rootfs`, 'utf8').trim()).toBe(marker);
    expect(await exec(id, ['cat', '/etc/husk-test-rootfs'])).toBe(marker);
    expect(await exec(id, ['open-write', '/proc/sys/kernel/hostname'])).toBe('EROFS'); // readonlyPaths applied there
    // the host's own mount table has nothing of it
    expect(mountsUnder(bundle.dir)).toEqual([]);
    await husk.run(['delete', '--force', id]);
    holder.kill('SIGKILL');
  });
});
