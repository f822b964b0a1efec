/**
 * Mount properties applied with the new mount API, checked from inside the
 * container (testinit) and from the host (/proc/<init>/mountinfo, the source's
 * own owners): recursive attributes (mount_setattr AT_RECURSIVE), idmapped
 * binds (open_tree + MOUNT_ATTR_IDMAP + move_mount), tmpcopyup, acl/noacl, and
 * the embedded default's recursive read-only host binds.
 */
import { chownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, testCgroupParent, useHuskSuite } from '../../helpers/husk.js';
import { makeTestBundle, type TestBundle } from '../../helpers/rootfs.js';
import { parseMountInfo } from '../../../src/sys/mountinfo.js';
import type { Mount, Spec } from '../../../src/spec/types.js';

const { husk, bundles, newId } = useHuskSuite();

/** Host tmpfs mounts a test made under its bundle, unmounted after the file (before the bundles go). */
const hostMounts: string[] = [];
afterAll(async () => {
  for (const dir of hostMounts.reverse()) await execa('umount', ['-l', dir], { reject: false });
});

/** A host directory `src` in a fresh bundle, holding file `f` and a tmpfs submount `sub` holding `g`. */
async function bundleWithSubmount(mounts: Mount[] | ((src: string) => Mount[]), args: string[] = ['sleep', '300'], mutate?: (spec: Spec) => void): Promise<{ bundle: TestBundle; src: string }> {
  let src = '';
  const bundle = await makeTestBundle({
    args,
    mutate: (spec) => {
      mutate?.(spec);
    },
  });
  bundles.push(bundle);
  src = join(bundle.dir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  writeFileSync(join(src, 'f'), 'f\n');
  await execa('mount', ['-t', 'tmpfs', '-o', 'mode=755', 'husk-test-sub', join(src, 'sub')]);
  hostMounts.push(join(src, 'sub'));
  writeFileSync(join(src, 'sub', 'g'), 'g\n');
  await bundle.updateSpec((spec) => spec.mounts!.push(...(typeof mounts === 'function' ? mounts(src) : mounts)));
  return { bundle, src };
}

/** Starts `bundle` detached; returns its id and the init's mountinfo as the host reads it. */
async function started(bundle: TestBundle): Promise<{ id: string; pid: number; mountinfo: ReturnType<typeof parseMountInfo> }> {
  const id = newId('mnt');
  const result = await husk.detached(['run', '-d', '--bundle', bundle.dir, id]);
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  const pid = (await husk.state(id)).pid!;
  return { id, pid, mountinfo: parseMountInfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8')) };
}

async function exec(id: string, args: string[]): Promise<string> {
  const result = await husk.run(['exec', id, '/bin/testinit', ...args]);
  expect(result.stderr).toBe('');
  return String(result.stdout).trim();
}

const optionsAt = (mountinfo: ReturnType<typeof parseMountInfo>, point: string): string[] => {
  const entry = mountinfo.filter((m) => m.mountPoint === point).at(-1);
  expect(entry, `a mount at ${point}`).toBeDefined();
  return entry!.options;
};

describe('recursive mount attributes (mount_setattr AT_RECURSIVE)', () => {
  it('rro, rnosuid, rnoexec reach the submount; plain ro does not', async () => {
    const { bundle } = await bundleWithSubmount((src) => [
      { destination: '/rec', type: 'bind', source: src, options: ['rbind', 'rro', 'rnosuid', 'rnoexec'] },
      { destination: '/top', type: 'bind', source: src, options: ['rbind', 'ro'] },
    ]);
    const { id, mountinfo } = await started(bundle);
    for (const point of ['/rec', '/rec/sub']) {
      expect(optionsAt(mountinfo, point), point).toEqual(expect.arrayContaining(['ro', 'nosuid', 'noexec']));
    }
    // the reference: a remount read-only changes the top mount only (what husk did for the default)
    expect(optionsAt(mountinfo, '/top')).toContain('ro');
    expect(optionsAt(mountinfo, '/top/sub')).toContain('rw');
    expect(await exec(id, ['open-write', '/rec/sub/g'])).toBe('EROFS');
    expect(await exec(id, ['open-write', '/rec/f'])).toBe('EROFS');
    expect(await exec(id, ['open-write', '/top/sub/g'])).toBe('ok');
    await husk.run(['delete', '--force', id]);
  });

  it('rnoatime, rnodev, rnosymfollow, rnodiratime; rrw and rsuid clear what the source had', async () => {
    const { bundle } = await bundleWithSubmount((src) => [
      { destination: '/a', type: 'bind', source: src, options: ['rbind', 'rnoatime', 'rnodev', 'rnosymfollow', 'rnodiratime'] },
      { destination: '/b', type: 'bind', source: src, options: ['rbind', 'rro', 'rnosuid', 'rrw', 'rsuid', 'rstrictatime'] },
      { destination: '/c', type: 'bind', source: src, options: ['rbind', 'nosymfollow'] },
    ]);
    const { id, mountinfo } = await started(bundle);
    for (const point of ['/a', '/a/sub']) {
      expect(optionsAt(mountinfo, point), point).toEqual(expect.arrayContaining(['noatime', 'nodev', 'nosymfollow', 'nodiratime']));
    }
    for (const point of ['/b', '/b/sub']) {
      const options = optionsAt(mountinfo, point);
      expect(options, point).toContain('rw');
      expect(options, point).not.toContain('nosuid');
      expect(options, point).not.toContain('relatime'); // strictatime shows as neither relatime nor noatime
      expect(options, point).not.toContain('noatime');
    }
    expect(optionsAt(mountinfo, '/c')).toContain('nosymfollow');
    await husk.run(['delete', '--force', id]);
  });

  it('an option husk does not know goes to the filesystem, whose refusal names the mount and leaves nothing', async () => {
    // ("rbogus" is no recursive attribute: tmpfs gets it as data and refuses it)
    const bundle = await makeTestBundle({ mutate: (spec) => spec.mounts!.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['rbogus'] }) });
    bundles.push(bundle);
    const id = newId('mnt');
    const result = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(result.exitCode).not.toBe(0);
    expect(String(result.stderr)).toMatch(/mount tmpfs tmpfs on \/t: EINVAL/);
    husk.expectGone(id);
  });
});

describe('the embedded default (no bundle)', () => {
  it('binds the host directories recursively read-only: a submount under /usr is not writable', async () => {
    // A private mount namespace holds the writable submount, so the host's /usr is never touched.
    const result = await execa(
      'unshare',
      ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs husk-test-usr /usr/local && touch /usr/local/ok && exec "$@"', 'sh',
        'node', cliPath, '--root', husk.root, '--cgroup-parent', testCgroupParent, 'run', '--rm', newId('default'), '--',
        'sh', '-c', 'touch /usr/local/x 2>&1; grep " /usr/local " /proc/self/mountinfo'],
      { reject: false, timeout: 60_000 },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/Read-only file system/);
    expect(result.stdout).toMatch(/ \/usr\/local ro,nosuid,nodev/);
  });
});

describe('idmapped mounts', () => {
  it('shows the owners through the mount\'s mappings inside; the source keeps its own; ridmap reaches submounts, idmap does not', async () => {
    const mapping = [{ containerID: 0, hostID: 2000, size: 1000 }];
    const { bundle, src } = await bundleWithSubmount((s) => [
      { destination: '/id', type: 'bind', source: s, options: ['rbind', 'idmap'], uidMappings: mapping, gidMappings: mapping },
      { destination: '/rid', type: 'bind', source: s, options: ['rbind', 'ridmap'], uidMappings: mapping, gidMappings: mapping },
    ]);
    writeFileSync(join(src, 'five'), '5\n');
    chownSync(join(src, 'five'), 5, 7);
    chownSync(join(src, 'f'), 0, 0);
    const { id } = await started(bundle);
    expect(await exec(id, ['stat', '/id/f'])).toMatch(/uid=2000 gid=2000 /);
    expect(await exec(id, ['stat', '/id/five'])).toMatch(/uid=2005 gid=2007 /);
    expect(await exec(id, ['stat', '/id/sub/g'])).toMatch(/uid=0 gid=0 /); // idmap: the top mount only
    expect(await exec(id, ['stat', '/rid/sub/g'])).toMatch(/uid=2000 gid=2000 /); // ridmap: every mount
    // from the host: the source is as it was
    const stat = await execa('stat', ['-c', '%u:%g', join(src, 'f'), join(src, 'five'), join(src, 'sub', 'g')]);
    expect(stat.stdout.split('\n')).toEqual(['0:0', '5:7', '0:0']);
    await husk.run(['delete', '--force', id]);
  });

  it("an idmap option alone takes the container's user namespace mappings: its root owns the files", async () => {
    const userns = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const { bundle, src } = await bundleWithSubmount(
      (s) => [
        { destination: '/plain', type: 'bind', source: s, options: ['rbind'] },
        { destination: '/mapped', type: 'bind', source: s, options: ['rbind', 'idmap'] },
      ],
      ['sleep', '300'],
      (spec) => {
        spec.linux!.namespaces!.push({ type: 'user' });
        spec.linux!.uidMappings = userns;
        spec.linux!.gidMappings = userns;
      },
    );
    chownSync(join(src, 'f'), 0, 0);
    // the container's root may not create them in a rootfs owned by the host's root
    for (const dir of ['plain', 'mapped']) mkdirSync(join(bundle.rootfs, dir));
    const { id } = await started(bundle);
    expect(await exec(id, ['stat', '/plain/f'])).toMatch(/uid=65534 gid=65534 /); // host root is unmapped in the userns
    expect(await exec(id, ['stat', '/mapped/f'])).toMatch(/uid=0 gid=0 /);
    expect(await exec(id, ['open-write', '/mapped/f'])).toBe('ok');
    expect((await execa('stat', ['-c', '%u:%g', join(src, 'f')])).stdout).toBe('0:0');
    await husk.run(['delete', '--force', id]);
  });

  it('an idmapped bind of a source that is not there fails create with its path, leaving nothing', async () => {
    const mapping = [{ containerID: 0, hostID: 2000, size: 1 }];
    const bundle = await makeTestBundle({
      mutate: (spec) => spec.mounts!.push({ destination: '/x', type: 'bind', source: '/nonexistent/husk-src', options: ['rbind'], uidMappings: mapping, gidMappings: mapping }),
    });
    bundles.push(bundle);
    const id = newId('mnt');
    const result = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(result.exitCode).not.toBe(0);
    expect(String(result.stderr).trim().split('\n')).toEqual([expect.stringMatching(/^husk: open_tree of the idmapped bind \/nonexistent\/husk-src: ENOENT/)]);
    husk.expectGone(id);
  });

  it('refuses an idmapped mount that is not a bind with one line, before anything exists', async () => {
    const bundle = await makeTestBundle({
      mutate: (spec) => spec.mounts!.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['idmap'], uidMappings: [{ containerID: 0, hostID: 1, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }),
    });
    bundles.push(bundle);
    const id = newId('mnt');
    const result = await husk.run(['run', '--bundle', bundle.dir, id]);
    expect(result.exitCode).not.toBe(0);
    expect(String(result.stderr).trim().split('\n')).toEqual([expect.stringMatching(/^husk: .*mounts\[7\]: idmapped mounts .* only supported for bind mounts/)]);
    husk.expectGone(id);
  });
});

describe('tmpcopyup and acl', () => {
  it('a tmpfs with tmpcopyup starts with a copy of the directory, owners, modes and links kept; writes stay in the tmpfs', async () => {
    const bundle = await makeTestBundle({
      args: ['sleep', '300'],
      mutate: (spec) => spec.mounts!.push({ destination: '/seed', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'mode=755', 'acl'] }),
    });
    bundles.push(bundle);
    const seed = join(bundle.rootfs, 'seed');
    mkdirSync(join(seed, 'dir', 'deeper'), { recursive: true });
    writeFileSync(join(seed, 'a'), 'alpha\n');
    chmodSync(join(seed, 'a'), 0o640);
    chownSync(join(seed, 'a'), 1000, 1000);
    chmodSync(join(seed, 'dir'), 0o701);
    chownSync(join(seed, 'dir'), 1000, 5);
    writeFileSync(join(seed, 'dir', 'deeper', 'b'), 'beta\n');
    symlinkSync('a', join(seed, 'l'));
    const { id, mountinfo } = await started(bundle);
    expect(mountinfo.filter((m) => m.mountPoint === '/seed').at(-1)?.fsType).toBe('tmpfs');
    expect(await exec(id, ['stat', '/seed/a'])).toMatch(/^type=file mode=0640 uid=1000 gid=1000 size=6$/);
    expect(await exec(id, ['stat', '/seed/dir'])).toMatch(/^type=directory mode=0701 uid=1000 gid=5 /);
    expect(await exec(id, ['cat', '/seed/dir/deeper/b'])).toBe('beta');
    expect(await exec(id, ['readlink', '/seed/l'])).toBe('a');
    expect(await exec(id, ['write', '/seed/new', 'x'])).toBe('');
    expect(existsSync(join(seed, 'new'))).toBe(false); // the write went to the tmpfs
    await husk.run(['delete', '--force', id]);
  });

  it("never copies from outside the rootfs: a target symlinked out of it resolves inside, and symlinks are copied, not followed", async () => {
    const bundle = await makeTestBundle({
      args: ['sleep', '300'],
      mutate: (spec) => spec.mounts!.push({ destination: '/seedlink', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] }),
    });
    bundles.push(bundle);
    // as an image could ship them: the mount point leads "out" to /etc, and /etc holds a link to the host's passwd
    symlinkSync('/../../../../../etc', join(bundle.rootfs, 'seedlink'));
    symlinkSync('/etc/os-release', join(bundle.rootfs, 'etc', 'release-link'));
    const { id } = await started(bundle);
    expect(await exec(id, ['cat', '/seedlink/husk-test-rootfs'])).toBe(`husk test rootfs ${bundle.rootfs}`); // the rootfs's /etc
    expect(await exec(id, ['access', '/seedlink/os-release', 'r'])).toBe('ENOENT'); // not the host's /etc
    expect(await exec(id, ['readlink', '/seedlink/release-link'])).toBe('/etc/os-release'); // a link, still a link
    await husk.run(['delete', '--force', id]);
  });

  it('acl and noacl are mount flags (MS_POSIXACL), not tmpfs data it would refuse', async () => {
    for (const option of ['acl', 'noacl']) {
      const bundle = await makeTestBundle({ args: ['true'], mutate: (spec) => spec.mounts!.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: [option] }) });
      bundles.push(bundle);
      const result = await husk.run(['run', '--bundle', bundle.dir, newId('acl')]);
      expect(String(result.stderr), option).toBe('');
      expect(result.exitCode, option).toBe(0);
    }
  });
});
