/**
 * linux.sysctl never reaches the host (issue #11, item 2), with runc 1.1.5 on the same bundles as
 * the reference. runc's rules: only namespaced keys, each only when the container has its own
 * namespace of that kind (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* with ipc; net.* with
 * network, a joined one counting as the host's when it is runc's own; kernel.domainname with uts,
 * kernel.hostname never: it is the `hostname` field), refused before anything exists; and a
 * procfs that must be one (a /proc or /sys that is a symlink or not a directory is refused with
 * runc's "must be mounted on ordinary directory").
 *
 * The attacks, as reproduced before the fix: vm.swappiness set by a container changed the host's;
 * a net.* key with the host's network namespace changed the host's; and a rootfs whose /proc is a
 * symlink to a host directory made the sysctl write land in that host directory.
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '../../../src/sys/mountinfo.js';
import type { Spec } from '../../../src/spec/types.js';
import { useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle, type TestBundle } from '../../helpers/rootfs.js';

const { husk, bundles, newId } = useHuskSuite();
const runcRoot = mkdtempSync('/run/husk-test-runc-');
const hostDirs: string[] = [];
afterAll(() => {
  rmSync(runcRoot, { recursive: true, force: true });
  for (const dir of hostDirs) rmSync(dir, { recursive: true, force: true });
});

const procSys = (key: string): string => `/proc/sys/${key.replace(/\./g, '/')}`;
const hostValue = (key: string): string => readFileSync(procSys(key), 'utf8').trim();

/** A value for `key` that differs from the host's (the keys used here hold one number). */
function otherThanHost(key: string): string {
  return String(Number(hostValue(key).split(/\s+/)[0]) + 1);
}

const withoutNamespace = (type: string) => (spec: Spec) => {
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== type);
};

async function bundleWith(args: string[], mutate: (spec: Spec) => void, files?: Record<string, string>): Promise<TestBundle> {
  const bundle = await makeTestBundle({ args, mutate, ...(files && { files }) });
  bundles.push(bundle);
  return bundle;
}

async function runc(bundle: TestBundle): Promise<{ exitCode: number; stderr: string }> {
  const id = newId('runc');
  const result = await execa('runc', ['--root', runcRoot, 'run', '--bundle', bundle.dir, id], { reject: false, stdin: 'ignore' });
  await execa('runc', ['--root', runcRoot, 'delete', '--force', id], { reject: false });
  // runc logs in logrus's text format, with quotes escaped.
  return { exitCode: result.exitCode ?? -1, stderr: String(result.stderr).replace(/\\"/g, '"') };
}

/**
 * husk and runc both refuse the bundle in runc's words; husk before anything exists. With the
 * host value checked after each: before the fix husk wrote it, so put it back then.
 */
async function expectRefused(key: string, mutate: (spec: Spec) => void, words: string): Promise<void> {
  const before = hostValue(key);
  const bundle = await bundleWith(['sysctl', key], (spec) => {
    spec.linux!.sysctl = { [key]: otherThanHost(key) };
    mutate(spec);
  });
  const id = newId('refused');
  let result;
  try {
    result = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(hostValue(key), `the host's ${key}`).toBe(before);
  } finally {
    if (hostValue(key) !== before) writeFileSync(procSys(key), before);
  }
  expect(result.stderr).toContain(words);
  expect(result.exitCode).not.toBe(0);
  husk.expectGone(id);
  expect(mountsUnder(bundle.dir)).toEqual([]);
  const reference = await runc(bundle);
  expect(reference.stderr).toContain(words);
  expect(reference.exitCode).not.toBe(0);
}

describe('sysctls that are not the container\'s are refused before anything exists, as runc refuses them', () => {
  it('a key no namespace isolates (vm.swappiness)', async () => {
    await expectRefused('vm.swappiness', () => {}, 'sysctl "vm.swappiness" is not in a separate kernel namespace');
  });

  it('an ipc key without an ipc namespace', async () => {
    await expectRefused('kernel.shmmni', withoutNamespace('ipc'), 'sysctl "kernel.shmmni" is not allowed in the hosts ipc namespace');
  });

  it('a net key without a network namespace, and with the host\'s own joined by path', async () => {
    const key = 'net.ipv4.tcp_keepalive_time';
    await expectRefused(key, withoutNamespace('network'), `sysctl "${key}" not allowed in host network namespace`);
    await expectRefused(
      key,
      (spec) => {
        for (const ns of spec.linux!.namespaces!) if (ns.type === 'network') ns.path = `/proc/${process.pid}/ns/net`;
      },
      `sysctl "${key}" not allowed in host network namespace`,
    );
  });

  it('kernel.hostname (the hostname field says it) and kernel.domainname without a uts namespace', async () => {
    await expectRefused('kernel.hostname', () => {}, 'sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field');
    const bundle = await bundleWith(['true'], (spec) => {
      withoutNamespace('uts')(spec);
      delete spec.hostname;
      spec.linux!.sysctl = { 'kernel.domainname': 'intruder' };
    });
    const id = newId('domain');
    const result = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(result.stderr).toContain('sysctl "kernel.domainname" is not in a separate kernel namespace');
    expect(readFileSync('/proc/sys/kernel/domainname', 'utf8')).not.toContain('intruder');
    husk.expectGone(id);
    expect((await runc(bundle)).stderr).toContain('sysctl "kernel.domainname" is not in a separate kernel namespace');
  });
});

describe('a procfs that must be one', () => {
  /** A host directory shaped like /proc/sys, with a marker where the sysctl would land. */
  function hostDecoy(): { dir: string; file: string } {
    const dir = mkdtempSync('/tmp/husk-test-decoy-');
    hostDirs.push(dir);
    mkdirSync(join(dir, 'sys/net/ipv4'), { recursive: true });
    const file = join(dir, 'sys/net/ipv4/tcp_keepalive_time');
    writeFileSync(file, 'host file\n');
    return { dir, file };
  }

  it('refuses a rootfs whose /proc is a symlink to a host directory, and writes nothing there', async () => {
    const decoy = hostDecoy();
    const bundle = await bundleWith(['true'], (spec) => (spec.linux!.sysctl = { 'net.ipv4.tcp_keepalive_time': '666' }));
    rmSync(join(bundle.rootfs, 'proc'), { recursive: true });
    symlinkSync(decoy.dir, join(bundle.rootfs, 'proc'));
    const id = newId('proclink');
    const result = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(readFileSync(decoy.file, 'utf8'), 'the host file').toBe('host file\n');
    expect(result.stderr).toContain('filesystem "proc" must be mounted on ordinary directory');
    expect(result.exitCode).not.toBe(0);
    husk.expectGone(id);
    expect(mountsUnder(bundle.dir)).toEqual([]);
    expect(existsSync(join(bundle.rootfs, decoy.dir)), 'nothing made inside the rootfs through the link').toBe(false);
    const reference = await runc(bundle);
    expect(reference.stderr).toContain('filesystem "proc" must be mounted on ordinary directory');
    expect(readFileSync(decoy.file, 'utf8')).toBe('host file\n');
  });

  it('refuses a /sys that is a symlink and a /proc that is a file', async () => {
    const decoy = hostDecoy();
    const sysLink = await bundleWith(['true'], () => {});
    rmSync(join(sysLink.rootfs, 'sys'), { recursive: true });
    symlinkSync(decoy.dir, join(sysLink.rootfs, 'sys'));
    const id = newId('syslink');
    const result = await husk.run(['run', '--bundle', sysLink.dir, id]);
    expect(result.stderr).toContain('filesystem "sysfs" must be mounted on ordinary directory');
    husk.expectGone(id);
    expect(mountsUnder(sysLink.dir)).toEqual([]);

    const procFile = await bundleWith(['true'], () => {});
    rmSync(join(procFile.rootfs, 'proc'), { recursive: true });
    writeFileSync(join(procFile.rootfs, 'proc'), '');
    const fileId = newId('procfile');
    const fileResult = await husk.run(['run', '--bundle', procFile.dir, fileId]);
    expect(fileResult.stderr).toContain('filesystem "proc" must be mounted on ordinary directory');
    husk.expectGone(fileId);
    expect((await runc(procFile)).stderr).toContain('filesystem "proc" must be mounted on ordinary directory');
  });

  it('writes a sysctl only into a real procfs: a host directory bound over /proc gets nothing', async () => {
    const decoy = hostDecoy();
    const bundle = await bundleWith(['true'], (spec) => {
      spec.mounts = (spec.mounts ?? []).filter((m) => m.destination !== '/proc');
      spec.mounts.push({ destination: '/proc', type: 'bind', source: decoy.dir, options: ['rbind'] });
      spec.linux!.sysctl = { 'net.ipv4.tcp_keepalive_time': '666' };
      spec.linux!.maskedPaths = [];
      spec.linux!.readonlyPaths = [];
    });
    const id = newId('procbind');
    const result = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(readFileSync(decoy.file, 'utf8'), 'the host file').toBe('host file\n');
    expect(result.stderr).toContain("into the container's /proc/sys (a procfs of its own, nothing mounted or linked over it): EXDEV");
    expect(result.exitCode).not.toBe(0);
    husk.expectGone(id);
    expect(mountsUnder(bundle.dir)).toEqual([]);
  });
});

describe('namespaced sysctls apply inside only', () => {
  it('net.*, kernel.shm*, fs.mqueue.* and kernel.domainname reach the container and not the host', async () => {
    const keys = ['net.ipv4.tcp_keepalive_time', 'kernel.shmmni', 'fs.mqueue.msg_max'];
    const before = Object.fromEntries(keys.map((k) => [k, hostValue(k)]));
    const wanted = Object.fromEntries(keys.map((k) => [k, otherThanHost(k)]));
    const hostDomain = readFileSync('/proc/sys/kernel/domainname', 'utf8');
    // testinit reads them back from the container's own /proc, one per run.
    for (const key of [...keys, 'kernel.domainname']) {
      const sysctl = { ...wanted, 'kernel.domainname': 'inside.example', 'net/ipv4/tcp_fin_timeout': '42' };
      const out = await husk.run(['run', '--bundle', (await bundleWith(['sysctl', key], (spec) => (spec.linux!.sysctl = sysctl))).dir, newId('ns')]);
      expect(out.stderr).toBe('');
      expect(out.exitCode).toBe(0);
      expect(String(out.stdout).trim(), key).toBe(key === 'kernel.domainname' ? 'inside.example' : wanted[key]);
    }
    // The slash form of a key (sysctl.d(5)), as runc takes it.
    const slash = await husk.run(['run', '--bundle', (await bundleWith(['sysctl', 'net.ipv4.tcp_fin_timeout'], (spec) => (spec.linux!.sysctl = { 'net/ipv4/tcp_fin_timeout': '42' }))).dir, newId('slash')]);
    expect(String(slash.stdout).trim()).toBe('42');
    for (const key of keys) expect(hostValue(key), `the host's ${key}`).toBe(before[key]);
    expect(readFileSync('/proc/sys/kernel/domainname', 'utf8')).toBe(hostDomain);
  });
});
