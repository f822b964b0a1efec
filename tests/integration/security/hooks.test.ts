/**
 * Hooks where runtime-spec config.md puts them: createContainer hooks in the
 * container's namespaces, all of them (pid and user included), as runc runs
 * them from its init; prestart and createRuntime in the runtime's. And a hook
 * that exits without reading its stdin fails cleanly, never by killing the init.
 */
import { chmodSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle, type TestBundle } from '../../helpers/rootfs.js';
import type { Spec } from '../../../src/spec/types.js';

const { husk, bundles, newId } = useHuskSuite();

async function bundleWith(args: string[], mutate?: (spec: Spec) => void): Promise<TestBundle> {
  const bundle = await makeTestBundle({ args, ...(mutate && { mutate }) });
  bundles.push(bundle);
  return bundle;
}

const kinds = ['pid', 'user', 'mnt', 'net', 'ipc', 'uts'];

describe('createContainer hooks', () => {
  it('run in every namespace of the container, its pid and user namespaces included', async () => {
    const bundle = await bundleWith(['ns']);
    // A log any uid may write: in a user namespace the hook is the container's root, not the host's.
    const logs = join(bundle.dir, 'logs');
    mkdirSync(logs);
    chmodSync(logs, 0o777);
    const script = join(bundle.dir, 'hook.sh');
    writeFileSync(
      script,
      `#!/bin/sh\nfor ns in ${kinds.join(' ')}; do echo "$ns $(readlink /proc/self/ns/$ns | tr -dc 0-9)"; done > ${logs}/$1\nid -u >> ${logs}/$1\n`,
    );
    chmodSync(script, 0o755);
    await bundle.updateSpec((spec) => {
      spec.linux!.namespaces!.push({ type: 'user' });
      spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      spec.hooks = {
        createRuntime: [{ path: script, args: ['hook.sh', 'createRuntime'] }],
        createContainer: [{ path: script, args: ['hook.sh', 'createContainer'] }],
      };
    });
    const id = newId('hookns');
    const result = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    // The container's own namespaces, as its process saw them ("pid 4026531836" lines).
    const container = new Map(String(result.stdout).trim().split('\n').map((line) => line.split(' ') as [string, string]));
    const hookSaw = (name: string): Map<string, string> =>
      new Map(readFileSync(join(logs, name), 'utf8').trim().split('\n').slice(0, kinds.length).map((l) => l.split(' ') as [string, string]));
    const inside = hookSaw('createContainer');
    for (const ns of kinds) expect(inside.get(ns), ns).toBe(container.get(ns));
    expect(readFileSync(join(logs, 'createContainer'), 'utf8').trim().split('\n').at(-1)).toBe('0'); // root of the user namespace
    // createRuntime: the runtime's namespaces, the host's here.
    const outside = hookSaw('createRuntime');
    for (const ns of kinds) expect(outside.get(ns), ns).toBe(readlinkSync(`/proc/self/ns/${ns}`).replace(/\D/g, ''));
    husk.expectGone(id);
  });

  it('a failing one fails create with its status, and leaves nothing', async () => {
    const bundle = await bundleWith(['true'], (spec) => (spec.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 3'] }] }));
    const id = newId('hookfail');
    const result = await husk.detached(['create', '--bundle', bundle.dir, id]);
    expect(result.stderr).toBe('husk: createContainer hook /bin/sh: exited with status 3');
    expect(result.exitCode).toBe(1);
    husk.expectGone(id);
  });

  it('one over its timeout is killed and fails create', async () => {
    const bundle = await bundleWith(['true'], (spec) => (spec.hooks = { createContainer: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] }));
    const id = newId('hooktimeout');
    const result = await husk.detached(['create', '--bundle', bundle.dir, id]);
    expect(result.stderr).toBe('husk: createContainer hook /bin/sleep: timed out after 1s');
    husk.expectGone(id);
  });

  it('a missing one is named with its errno (never lost to a SIGPIPE of the init)', async () => {
    const bundle = await bundleWith(['true'], (spec) => (spec.hooks = { createContainer: [{ path: '/no/such/hook' }] }));
    // Several times: the init writing the state into the pipe of a hook already gone used to die of SIGPIPE.
    for (let i = 0; i < 4; i++) {
      const id = newId('hookmissing');
      const result = await husk.detached(['create', '--bundle', bundle.dir, id]);
      expect(result.stderr).toBe('husk: createContainer hook /no/such/hook: ENOENT (no such file or directory)');
      husk.expectGone(id);
    }
  });

  it('one that exits without reading its stdin is fine, every time', async () => {
    const bundle = await bundleWith(['true'], (spec) => {
      spec.annotations = { big: 'x'.repeat(60_000) }; // a state that takes a while to write
      spec.hooks = { createContainer: [{ path: '/bin/true' }], startContainer: [{ path: '/bin/testinit', args: ['testinit', 'true'] }] };
    });
    for (let i = 0; i < 4; i++) {
      const id = newId('hookearly');
      const result = await husk.run(['run', '--bundle', bundle.dir, id]);
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      husk.expectGone(id);
    }
  });
});
