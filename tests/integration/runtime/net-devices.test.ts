/**
 * linux.netDevices (runtime-spec 1.3): an interface of the runtime's network
 * namespace is moved into the container's, renamed, set up, its addresses kept.
 * husk runs inside a private network namespace the test makes (a holder process
 * from `unshare -n`, entered with nsenter), holding a veth pair (this kernel has
 * no dummy driver): the host's own interfaces are never touched.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, testCgroupParent, useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle, type TestBundle } from '../../helpers/rootfs.js';
import type { LinuxNetDevice } from '../../../src/spec/types.js';

const { husk, bundles, newId } = useHuskSuite();
let holder: ResultPromise;
let holderPid = 0;

beforeAll(async () => {
  holder = execa('unshare', ['-n', 'sh', '-c', 'echo ready; exec sleep 600'], { reject: false });
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve());
    holder.once('exit', () => reject(new Error('the unshare -n holder exited')));
  });
  holderPid = holder.pid!;
});
afterAll(() => holder.kill('SIGKILL'));

/** A command in the test's private network namespace. */
const inNetns = (command: string[]): ResultPromise => execa('nsenter', ['-t', String(holderPid), '-n', ...command], { reject: false, timeout: 60_000 });
const huskArgs = (args: string[]): string[] => ['node', cliPath, '--root', husk.root, '--cgroup-parent', testCgroupParent, ...args];

/** `husk run -d` in the private namespace, its output in files (the container keeps husk's stdio). */
async function runDetached(bundle: TestBundle, id: string): Promise<{ exitCode: number; stderr: string }> {
  const errFile = join(bundle.dir, 'husk.stderr');
  const err = openSync(errFile, 'w');
  const child = spawn('nsenter', ['-t', String(holderPid), '-n', ...huskArgs(['run', '-d', '--bundle', bundle.dir, id])], { stdio: ['ignore', 'ignore', err] });
  closeSync(err);
  const exitCode = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  const stderr = readFileSync(errFile, 'utf8').trim();
  rmSync(errFile);
  return { exitCode, stderr };
}

async function bundleWith(devices: Record<string, LinuxNetDevice>, args = ['sleep', '300']): Promise<TestBundle> {
  const bundle = await makeTestBundle({
    args,
    mutate: (spec) => {
      spec.ociVersion = '1.3.0';
      spec.linux!.netDevices = devices;
    },
  });
  bundles.push(bundle);
  return bundle;
}

describe('linux.netDevices', () => {
  it("moves the interface into the container's network namespace, renamed, up, with its addresses", async () => {
    expect((await inNetns(['ip', 'link', 'add', 'husk0', 'type', 'veth', 'peer', 'name', 'husk1'])).exitCode).toBe(0);
    await inNetns(['ip', 'addr', 'add', '192.0.2.7/24', 'dev', 'husk0']);
    await inNetns(['ip', '-6', 'addr', 'add', '2001:db8::7/64', 'dev', 'husk0', 'nodad']);
    const bundle = await bundleWith({ husk0: { name: 'ctr0' } });
    const id = newId('netdev');
    const run = await runDetached(bundle, id);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    const exec = async (args: string[]): Promise<string> => {
      const result = await inNetns(huskArgs(['exec', id, '/bin/testinit', ...args]));
      expect(result.stderr).toBe('');
      return String(result.stdout).trim();
    };
    // inside: renamed, up, the addresses back
    expect((await exec(['netdevs'])).split('\n').sort()).toEqual(['ctr0', 'lo']);
    expect(Number(await exec(['cat', '/sys/class/net/ctr0/flags'])) & 1).toBe(1); // IFF_UP
    expect(await exec(['cat', '/proc/net/fib_trie'])).toMatch(/192\.0\.2\.7\n\s+\/32 host LOCAL/);
    expect(await exec(['cat', '/proc/net/if_inet6'])).toMatch(/^20010db8000000000000000000000007 .* ctr0$/m);
    // from the runtime's namespace: husk0 is gone, its veth peer now points into another namespace
    expect((await inNetns(['ip', '-o', 'link', 'show', 'husk0'])).exitCode).not.toBe(0);
    expect(String((await inNetns(['ip', '-o', 'link', 'show', 'husk1'])).stdout)).toMatch(/husk1@if\d+: .* link-netnsid \d+/);
    expect((await inNetns(huskArgs(['delete', '--force', id]))).exitCode).toBe(0);
    // the container's namespace is gone, and with it the veth pair
    expect((await inNetns(['ip', '-o', 'link', 'show', 'husk1'])).exitCode).not.toBe(0);
  });

  it('keeps the name when none is given', async () => {
    await inNetns(['ip', 'link', 'add', 'husk2', 'type', 'veth', 'peer', 'name', 'husk3']);
    const bundle = await bundleWith({ husk2: {} }, ['netdevs']);
    const result = await inNetns(huskArgs(['run', '--bundle', bundle.dir, newId('netdev')]));
    expect(result.stderr).toBe('');
    expect(String(result.stdout).trim().split('\n').sort()).toEqual(['husk2', 'lo']);
    await inNetns(['ip', 'link', 'del', 'husk3']);
  });

  it('an interface that is not there fails create with one line naming it, and leaves nothing', async () => {
    const bundle = await bundleWith({ nosuch0: { name: 'ctr0' } });
    const id = newId('netdev');
    const result = await inNetns(huskArgs(['run', '--bundle', bundle.dir, id]));
    expect(result.exitCode).not.toBe(0);
    expect(String(result.stderr).trim().split('\n')).toEqual([expect.stringMatching(/^husk: linux\.netDevices\["nosuch0"\]: find network device nosuch0: ENODEV/)]);
    husk.expectGone(id);
  });

  it('is refused without a network namespace, before anything exists', async () => {
    const bundle = await bundleWith({ husk0: {} });
    await bundle.updateSpec((spec) => (spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'network')));
    const id = newId('netdev');
    const result = await inNetns(huskArgs(['run', '--bundle', bundle.dir, id]));
    expect(result.exitCode).not.toBe(0);
    expect(String(result.stderr).trim().split('\n')).toEqual([expect.stringMatching(/^husk: .*linux\.netDevices: needs a network namespace/)]);
    husk.expectGone(id);
  });
});
