/**
 * Rootless with a delegated cgroup v2 subtree (pure v2 only: the VM of npm test): a real user
 * owns a subtree as systemd's Delegate=yes would give it (the directory and its cgroup.procs,
 * cgroup.subtree_control, cgroup.threads chowned to it, controllers enabled above it), husk runs
 * as that user from a leaf of it; a container beneath gets its cgroup there and its limits
 * apply, as with runc rootless beside it; and delete removes what husk made. Outside the subtree
 * (the default parent /husk, root's) the same limits are refused before anything exists.
 */
import { execa } from 'execa';
import { chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectCgroups } from '../../src/cgroups/index.js';
import { runContainer } from '../../src/runtime/container.js';
import { testCgroupParent } from '../cgroups/lib.js';
import { makeTestBundle } from '../helpers/rootfs.js';
import { makeRootlessBundle } from '../helpers/rootless-bundle.js';
import { createTestUser, type TestUser } from '../helpers/rootless-user.js';
import { runcBinary } from '../helpers/runc.js';

const isV2 = detectCgroups().mode === 'v2';
const MOUNT = '/sys/fs/cgroup';

describe.skipIf(!isV2)('rootless with a delegated cgroup v2 subtree (pure v2)', () => {
  let user: TestUser;
  const delegated = join(MOUNT, `husk-rootless-${process.pid}`);
  const runner = join(delegated, 'runner');

  /** A command as the user, started from the delegated leaf `runner` (root moves it there, then drops to the user). */
  const asUserInSubtree = (command: string[], cwd: string) =>
    execa('sh', ['-c', `echo $$ > ${runner}/cgroup.procs && exec setpriv --reuid=${user.uid} --regid=${user.gid} --init-groups -- "$@"`, 'sh', ...command], {
      cwd,
      env: user.env,
      extendEnv: false,
      reject: false,
      timeout: 240_000,
    });

  beforeAll(async () => {
    // The VM's /etc is an overlay on the host's, which other work on the host changes meanwhile
    // (useradd there replaces /etc/passwd): useradd's rename over a file whose lower changed
    // fails with ESTALE. Remade as files of the upper layer alone, they are the VM's own.
    for (const file of ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow', '/etc/subuid', '/etc/subgid']) {
      if (!existsSync(file)) continue;
      const content = readFileSync(file);
      const st = statSync(file);
      unlinkSync(file);
      writeFileSync(file, content, { mode: st.mode & 0o7777 });
      chownSync(file, st.uid, st.gid);
    }
    user = await createTestUser();
    mkdirSync(delegated);
    // What the subtree's parent must enable for it (root's part of a delegation).
    writeFileSync(join(MOUNT, 'cgroup.subtree_control'), '+memory +pids');
    for (const file of ['', 'cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) chownSync(join(delegated, file), user.uid, user.gid);
    mkdirSync(runner);
  });
  afterAll(async () => {
    await user?.remove();
    // Whatever is left beneath (a failed test), innermost first; the runner's processes are gone with the user.
    const remove = (dir: string): void => {
      if (!existsSync(dir)) return;
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) remove(join(dir, e.name));
      rmdirSync(dir);
    };
    remove(delegated);
  });

  it('the container gets its cgroup in the subtree and its limits apply (runc rootless alike); outside it they are refused', async () => {
    const bundle = await makeRootlessBundle(user, 'limits');
    bundle.spec.process!.terminal = false;
    // The rootless template has a cgroup namespace on pure v2: /sys/fs/cgroup is the container's own cgroup.
    bundle.spec.process!.args = ['sh', '-c', 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /proc/self/cgroup'];
    bundle.spec.linux!.resources = { memory: { limit: 64 << 20 }, pids: { limit: 32 } };
    bundle.save();
    const parent = `/${delegated.slice(MOUNT.length + 1)}/containers`;
    const husk = await asUserInSubtree([process.execPath, user.cli, '--cgroup-parent', parent, 'run', 'lim'], bundle.dir);
    expect(husk.stderr).toBe('');
    expect(husk.exitCode).toBe(0);
    expect(String(husk.stdout).split('\n')).toEqual([String(64 << 20), '32', '0::/']);
    // delete removed the cgroup it made (and the parent it made for it).
    expect(existsSync(join(delegated, 'containers'))).toBe(false);

    expect(runcBinary).toBeDefined();
    bundle.spec.linux!.cgroupsPath = `${parent}/runc-lim`;
    bundle.save();
    const runc = await asUserInSubtree([runcBinary!, '--root', join(user.home, '.runc'), 'run', 'lim'], bundle.dir);
    expect(runc.exitCode, String(runc.stderr)).toBe(0);
    expect(String(runc.stdout).split('\n').slice(0, 2)).toEqual([String(64 << 20), '32']);
    delete bundle.spec.linux!.cgroupsPath;
    bundle.save();

    // The default parent /husk is root's: no cgroup there, so the limits are refused, before anything exists.
    const refused = await asUserInSubtree([process.execPath, user.cli, 'run', 'lim'], bundle.dir);
    expect(refused.exitCode).not.toBe(0);
    expect(String(refused.stderr)).toMatch(/^husk: linux\.resources\.memory\.limit: cannot be applied rootless: the container gets no cgroup because \/sys\/fs\/cgroup(\/husk)? is not writable by uid \d+/);
    expect(readdirSync(join(user.runtimeDir, 'husk'))).toEqual([]);
  });

  it("root's container with a user and a cgroup namespace but no network namespace: /sys is the host's, /sys/fs/cgroup its own cgroup bound (a cgroup2 over the host's is EBUSY)", async () => {
    const root = mkdtempSync('/run/husk-vm-userns-');
    const out = join(root, 'out');
    const fd = openSync(out, 'w');
    const bundle = await makeTestBundle({
      args: ['cat', '/sys/fs/cgroup/memory.max'],
      mutate: (spec) => {
        const namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'user' && n.type !== 'cgroup' && n.type !== 'network');
        spec.linux!.namespaces = [...namespaces, { type: 'user' }, { type: 'cgroup' }];
        spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 32 << 20 } };
      },
    });
    try {
      const { code } = await runContainer({ root, cgroupParent: testCgroupParent }, { id: `userns-${process.pid}`, bundle: bundle.dir, stdio: [fd, fd, fd] });
      expect(readFileSync(out, 'utf8')).toBe(`${32 << 20}\n`);
      expect(code).toBe(0);
    } finally {
      closeSync(fd);
      await bundle.cleanup();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
