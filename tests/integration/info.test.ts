/**
 * `husk info` on this very host: what it reports is compared with what the
 * test reads itself from /proc (the expectations are computed here, so the same
 * test is truthful on the hybrid-cgroup machines and on a pure v2 host).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostInfo } from '../../src/info/index.js';
import { createTestUser, type TestUser } from '../helpers/rootless-user.js';

const repoRoot = resolve(import.meta.dirname, '..', '..');
const tsxLoader = createRequire(import.meta.url).resolve('tsx');
/** The CLI from source (through tsx), so the test never runs a stale dist/. */
const cli = ['--import', tsxLoader, join(repoRoot, 'src', 'cli.ts')];

interface ExpectedCgroups {
  mode: 'v2' | 'hybrid' | 'v1' | 'none';
  v1: Map<string, string[]>; // controller -> mount points
  v2MountPoints: string[];
}

/** The cgroup layout read straight from /proc/self/mountinfo and /proc/cgroups. */
function expectedCgroups(): ExpectedCgroups {
  const subsystems = new Set(
    readFileSync('/proc/cgroups', 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split('\t')[0]!),
  );
  const v1 = new Map<string, string[]>();
  const v2MountPoints: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) continue;
    const mountPoint = left.split(' ')[4]!;
    const [fsType, , superOptions] = right.split(' ');
    if (fsType === 'cgroup2') v2MountPoints.push(mountPoint);
    if (fsType !== 'cgroup') continue;
    for (const option of superOptions!.split(',')) {
      if (subsystems.has(option) || option.startsWith('name=')) v1.set(option, [...(v1.get(option) ?? []), mountPoint]);
    }
  }
  const realV1 = [...v1.keys()].some((c) => !c.startsWith('name='));
  const mode = realV1 ? (v2MountPoints.length > 0 ? 'hybrid' : 'v1') : v2MountPoints.length > 0 ? 'v2' : v1.size > 0 ? 'v1' : 'none';
  return { mode, v1, v2MountPoints };
}

function statusMask(key: string): bigint {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${key}:`));
  return BigInt('0x' + line!.split(/\s+/)[1]);
}

const CAP_SYS_RESOURCE = 24n;
const namespaceKinds = ['mnt', 'uts', 'ipc', 'pid', 'net', 'user', 'cgroup', 'time'];

function infoLeftovers(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('husk-info-'));
}

describe('husk info --format json, as root', () => {
  let info: HostInfo;
  beforeAll(async () => {
    expect(process.getuid!()).toBe(0);
    const { stdout } = await execa('node', [...cli, 'info', '--format', 'json']);
    info = JSON.parse(stdout) as HostInfo;
  });

  it('reports the cgroup layout of /proc/self/mountinfo', () => {
    const expected = expectedCgroups();
    expect(info.cgroups.mode).toBe(expected.mode);
    // every v1 controller is reported, on a hierarchy mounted where mountinfo says
    const reported = new Map(info.cgroups.v1.flatMap((h) => h.controllers.map((c) => [c, h] as const)));
    expect([...reported.keys()].sort()).toEqual([...expected.v1.keys()].sort());
    for (const [controller, mountPoints] of expected.v1) {
      expect(mountPoints).toContain(reported.get(controller)!.mountPoint);
    }
    if (expected.v2MountPoints.length === 0) {
      expect(info.cgroups.v2).toBeNull();
    } else {
      expect(expected.v2MountPoints).toContain(info.cgroups.v2!.mountPoint);
      const controllers = readFileSync(join(info.cgroups.v2!.mountPoint, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
      expect(info.cgroups.v2!.controllers).toEqual(controllers);
    }
    if (expected.mode === 'hybrid') {
      // what the hybrid hosts look like: v1 controllers in their own directories, v2 beside them
      expect(reported.get('memory')!.mountPoint).toBe(expected.v1.get('memory')![0]);
      expect(info.cgroups.v2!.controllers.every((c) => !expected.v1.has(c))).toBe(true);
      expect(info.warnings.some((w) => w.startsWith('cgroups are hybrid'))).toBe(true);
    }
    if (expected.mode === 'v2') {
      expect(info.cgroups.v2!.mountPoint).toBe('/sys/fs/cgroup');
      expect(info.cgroups.v2!.controllers).toContain('memory');
    }
  });

  it('names the process own cgroup in each hierarchy, as /proc/self/cgroup does', () => {
    const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').filter(Boolean);
    for (const line of own) {
      const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line)!;
      // the CLI ran as a child of this process, in the same cgroups
      if (controllers === '') {
        if (info.cgroups.v2 !== null) expect(info.cgroups.v2.ownCgroup).toBe(path);
      } else {
        const hierarchy = info.cgroups.v1.find((h) => h.controllers.includes(controllers!.split(',')[0]!));
        expect(hierarchy?.ownCgroup).toBe(path);
      }
    }
  });

  it('creates every namespace kind the kernel has, and pivot_root works', () => {
    expect(info.caller.privileged).toBe(true);
    expect(info.namespaces.map((ns) => ns.kind)).toEqual(namespaceKinds);
    for (const ns of info.namespaces) {
      const supported = existsSync(`/proc/self/ns/${ns.kind}`);
      expect(ns.supported, ns.kind).toBe(supported);
      expect(ns.creatable.status, `${ns.kind}: ${ns.creatable.detail}`).toBe(supported ? 'yes' : 'no');
    }
    expect(info.pivotRoot).toEqual({ status: 'yes' });
    expect(infoLeftovers()).toEqual([]);
  });

  it('reports the capability sets of /proc/self/status', () => {
    const bounding = statusMask('CapBnd');
    const lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    expect(info.capabilities.lastCap).toBe(lastCap);
    expect(info.capabilities.bounding.length + info.capabilities.missingFromBounding.length).toBe(lastCap + 1);
    const hasSysResource = ((bounding >> CAP_SYS_RESOURCE) & 1n) === 1n;
    expect(info.capabilities.bounding.includes('CAP_SYS_RESOURCE')).toBe(hasSysResource);
    expect(info.capabilities.missingFromBounding.includes('CAP_SYS_RESOURCE')).toBe(!hasSysResource);
    if (!hasSysResource) expect(info.warnings.join('\n')).toContain('CAP_SYS_RESOURCE');
  });

  it('reports overlayfs, user namespace settings, seccomp and the version as /proc says', () => {
    const filesystems = readFileSync('/proc/filesystems', 'utf8');
    expect(info.overlayfs.status).toBe(/\toverlay$/m.test(filesystems) ? 'yes' : 'no');
    const max = Number(readFileSync('/proc/sys/user/max_user_namespaces', 'utf8'));
    expect(info.userNamespaces.maxUserNamespaces).toBe(max);
    const actions = existsSync('/proc/sys/kernel/seccomp/actions_avail')
      ? readFileSync('/proc/sys/kernel/seccomp/actions_avail', 'utf8').trim().split(' ')
      : [];
    expect(info.seccomp.actionsAvailable).toEqual(actions);
    expect(info.seccomp.supported).toBe(actions.length > 0);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(info.husk.version).toBe(pkg.version);
    expect(info.husk.addon.loaded).toBe(true);
    expect(info.kernel.release).toBe(readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    expect(info.syscalls.pidfdOpen.status).toBe('yes');
  });

  it('prints the same findings as a table', async () => {
    const { stdout } = await execa('node', [...cli, 'info']);
    expect(stdout).toContain(`Cgroups: ${info.cgroups.mode}`);
    expect(stdout).toMatch(/^ {2}mnt +mount +yes$/m);
    expect(stdout).toMatch(/^ {2}pivot_root +yes$/m);
  });

  it('rejects an unknown format', async () => {
    const result = await execa('node', [...cli, 'info', '--format', 'yaml'], { reject: false });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--format must be table or json');
  });
});

describe('husk info without root', () => {
  // A real user made by the test: it reaches the checkout even below a 0700 /root (CI's clean clone).
  let plainUser: TestUser;
  beforeAll(async () => {
    plainUser = await createTestUser({ subordinateIds: false });
  });
  afterAll(async () => {
    await plainUser?.remove();
  });

  it('still reports, and marks what needs root as not checked', async () => {
    const { stdout, stderr, exitCode } = await plainUser.husk(['info', '--format', 'json']);
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    const info = JSON.parse(String(stdout)) as HostInfo;
    expect(info.caller).toEqual({ uid: plainUser.uid, gid: plainUser.gid, privileged: false });
    for (const ns of info.namespaces.filter((n) => n.kind !== 'user')) {
      expect(ns.creatable, ns.kind).toEqual({ status: 'not-checked', detail: 'needs root' });
    }
    // a user namespace needs no privilege, unless a sysctl forbids it
    const user = info.namespaces.find((n) => n.kind === 'user')!;
    expect(user.creatable.status).toBe(info.userNamespaces.unprivilegedAllowed.status === 'yes' ? 'yes' : 'no');
    expect(info.pivotRoot).toEqual({ status: 'not-checked', detail: 'needs root' });
    expect(info.capabilities.effective).toEqual([]);
    // what needs no privilege is the same as root sees
    expect(info.cgroups.mode).toBe(expectedCgroups().mode);
    expect(info.warnings).toContain('not running as root: checks that need root were not made');

    const table = await plainUser.husk(['info']);
    expect(table.stdout).toMatch(/^ {2}pid +pid +not checked \(needs root\)$/m);
    expect(table.stdout).toMatch(/^ {2}pivot_root +not checked \(needs root\)$/m);
  });
});
