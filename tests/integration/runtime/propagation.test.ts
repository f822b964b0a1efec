/**
 * linux.rootfsPropagation, every value config-linux.md lists (issue #11, item 5), on a host where
 * the rootfs sits on a shared mount (as on any systemd host: here the test makes the bundle
 * directory a shared bind mount, since this machine's / is private):
 *  - private / rprivate: the container's root neither receives nor sends mount events;
 *  - slave / rslave (and the default, rslave as runc): it receives the host's, sends none;
 *  - shared / rshared: it is in a peer group of its own, not the host's;
 *  - unbindable / runbindable: private, and cannot be bind-mounted;
 * and whatever the value, a mount made inside the container (by its own process, with
 * CAP_SYS_ADMIN) never shows up in the host's mount table.
 *
 * Before the fix: "shared" failed with pivot_root EINVAL, "unbindable" with a bind EINVAL, and
 * "private" leaked: the rootfs bind and every mount made in the container appeared on the host.
 */
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mountsUnder } from '../../../src/sys/mountinfo.js';
import type { Spec } from '../../../src/spec/types.js';
import { useHuskSuite } from '../../helpers/husk.js';
import { makeHostToolsBundle } from '../../helpers/rootfs.js';

const { husk, bundles, newId } = useHuskSuite();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Host mounts the test made, unmounted (innermost first) after each test, whatever happened;
 * then whatever leaked under the bundles (the leak itself is asserted in the test).
 */
const hostMounts: string[] = [];
const containers: string[] = [];
afterEach(async () => {
  for (const id of containers.splice(0)) await husk.run(['delete', '--force', id]);
  for (const target of hostMounts.splice(0).reverse()) await execa('umount', ['-l', target], { reject: false });
  for (const bundle of bundles) for (const target of mountsUnder(bundle.dir).reverse()) await execa('umount', ['-l', target], { reject: false });
});

interface MountLine {
  mountPoint: string;
  optional: string[];
  source: string;
}

function mountTable(pid: number | 'self'): MountLine[] {
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const fields = line.split(' ');
      const dash = fields.indexOf('-');
      return { mountPoint: fields[4]!, optional: fields.slice(6, dash), source: fields[dash + 2]! };
    });
}

const peerGroups = (line: MountLine | undefined): string[] => (line?.optional ?? []).filter((o) => o.startsWith('shared:')).map((o) => o.slice(7));

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const withSysAdmin = (spec: Spec): void => {
  const caps = spec.process!.capabilities!;
  for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_SYS_ADMIN'];
};

type Expected = { receives: boolean; root: 'private' | 'slave' | 'shared' | 'unbindable' };
const cases: [string | undefined, Expected][] = [
  [undefined, { receives: true, root: 'slave' }],
  ['private', { receives: false, root: 'private' }],
  ['rprivate', { receives: false, root: 'private' }],
  ['slave', { receives: true, root: 'slave' }],
  ['rslave', { receives: true, root: 'slave' }],
  ['shared', { receives: false, root: 'shared' }],
  ['rshared', { receives: false, root: 'shared' }],
  ['unbindable', { receives: false, root: 'unbindable' }],
  ['runbindable', { receives: false, root: 'unbindable' }],
];

describe('rootfsPropagation', () => {
  it.each(cases)('%s: works as config-linux.md says, and no container mount reaches the host', async (value, expected) => {
    const id = newId(`prop-${value ?? 'default'}`);
    containers.push(id);
    const leak = `leak-${id}`;
    const bundle = await makeHostToolsBundle({
      // The container's own process mounts a tmpfs, as an attacker with CAP_SYS_ADMIN would.
      args: ['/bin/sh', '-c', `mount -t tmpfs ${leak} /tmp && exec /testinit sleep 300`],
      mutate: (spec) => {
        if (value !== undefined) spec.linux!.rootfsPropagation = value;
        withSysAdmin(spec);
      },
    });
    bundles.push(bundle);
    // The rootfs on a shared mount of the host, as on a systemd host.
    await execa('mount', ['--bind', bundle.dir, bundle.dir]);
    hostMounts.push(bundle.dir);
    await execa('mount', ['--make-shared', bundle.dir]);
    const hostGroups = new Set(mountTable('self').flatMap(peerGroups));

    const create = await husk.detached(['create', '--bundle', bundle.dir, id]);
    expect(create.stderr).toBe('');
    expect(create.exitCode).toBe(0);
    const pid = (await husk.state(id)).pid!;

    // The container's root mount has the propagation asked for.
    const root = mountTable(pid).find((m) => m.mountPoint === '/')!;
    const master = root.optional.some((o) => o.startsWith('master:'));
    const groups = peerGroups(root);
    if (expected.root === 'private') expect(root.optional).toEqual([]);
    if (expected.root === 'slave') expect(master && groups.length === 0, root.optional.join(' ')).toBe(true);
    if (expected.root === 'shared') {
      expect(groups.length, root.optional.join(' ')).toBe(1);
      expect(hostGroups.has(groups[0]!), `peer group ${groups[0]} is one of the host's`).toBe(false);
      expect(master).toBe(false);
    }
    if (expected.root === 'unbindable') expect(root.optional).toEqual(['unbindable']);

    // The host mounts something in the rootfs: only a slave receives it.
    const fromHost = `host-${id}`;
    await execa('mount', ['-t', 'tmpfs', fromHost, join(bundle.rootfs, 'root')]);
    hostMounts.push(join(bundle.rootfs, 'root'));
    expect(mountTable(pid).some((m) => m.source === fromHost && m.mountPoint === '/root'), 'the host mount seen inside').toBe(expected.receives);

    // The container mounts: the host must not see it, anywhere.
    const start = await husk.run(['start', id]);
    expect(start.stderr).toBe('');
    await waitFor(`${leak} mounted inside the container`, () => mountTable(pid).some((m) => m.source === leak));
    expect(mountTable('self').filter((m) => m.source === leak)).toEqual([]);
    expect(mountsUnder(bundle.dir)).toEqual([bundle.dir, join(bundle.rootfs, 'root')]);

    expect((await husk.run(['delete', '--force', id])).exitCode).toBe(0);
    husk.expectGone(id);
    expect(mountTable('self').filter((m) => m.source === leak)).toEqual([]);
  });
});
