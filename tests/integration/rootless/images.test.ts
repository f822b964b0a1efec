/**
 * The image store rootless, as a real unprivileged user with subordinate id
 * ranges: the store in ~/.local/share/husk, layers unpacked inside the user's
 * own user namespace (a layer file owned by 1000 is owned by the range's
 * 1000th id on the host), removed from inside it by rmi, nothing left behind.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { craftLayout, craftOwnersWhiteoutsLayout } from '../../helpers/image-fixtures.js';
import { push, startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { createTestUser, firstSubordinateRange, hostGidOf, hostMountsMention, hostUidOf, ownerOf, storeLayerDirs, type TestUser } from '../../helpers/rootless-user.js';

let user: TestUser;
let work: string;
let layout: string;
let registry: TestRegistry;


beforeAll(async () => {
  user = await createTestUser();
  work = mkdtempSync('/tmp/husk-rootless-images-');
  chmodSync(work, 0o755);
  // Two layers, as an attacker or a build would write them: owners 0 and 1000, a whiteout, an opaque directory.
  ({ dir: layout } = await craftOwnersWhiteoutsLayout(join(work, 'layout')));
  execFileSync('chmod', ['-R', 'a+rX', work]);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  await user?.remove();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
}, 120_000);

describe('images rootless', () => {
  it('imports into ~/.local/share/husk, owners mapped into the user\'s subordinate range', async () => {
    const r = await user.husk(['image', 'import', layout, '--name', 'demo']);
    expect(r.stderr).not.toMatch(/error|husk:/i);
    expect(r.exitCode).toBe(0);
    const layers = storeLayerDirs(user);
    expect(layers).toHaveLength(2);
    const base = layers.find((l) => existsSync(join(l, 'home/app/owned')))!;
    const top = layers.find((l) => existsSync(join(l, 'opq/new')))!;
    // The image's 0 is the user itself, its 1000 the range's 1000th id, as podman's storage keeps them.
    expect(ownerOf(join(base, 'home/app/owned'))).toBe(`${hostUidOf(user, 1000)}:${hostGidOf(user, 1000)}`);
    expect(ownerOf(join(base, 'home/app'))).toBe(`${hostUidOf(user, 1000)}:${hostGidOf(user, 1000)}`);
    expect(ownerOf(join(base, 'bin/busybox'))).toBe(`${user.uid}:${user.gid}`);
    expect(ownerOf(join(top, 'opq/new'))).toBe(`${hostUidOf(user, 1000)}:${hostGidOf(user, 50)}`);
    // Overlay's own marks, in the xattrs an overlay in a user namespace reads (userxattr).
    const whiteout = lstatSync(join(top, 'etc/gone'));
    expect(whiteout.isCharacterDevice() && whiteout.rdev === 0).toBe(true);
    const xattrs = execFileSync('python3', ['-c', 'import os,sys; print(os.listxattr(sys.argv[1]))', join(top, 'opq')], { encoding: 'utf8' });
    expect(xattrs).toContain('user.overlay.opaque');
    expect(readFileSync(join(user.home, '.local/share/husk/overlay-xattrs'), 'utf8').trim()).toBe('user');
  });

  it('removes the image and its layers (files of other ids included), and leaves nothing behind', async () => {
    const r = await user.husk(['rmi', 'demo']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(storeLayerDirs(user)).toEqual([]);
    const store = join(user.home, '.local/share/husk');
    for (const dir of ['tmp', 'containers', 'images']) expect(readdirSync(join(store, dir)), dir).toEqual([]);
    expect(readdirSync(user.runtimeDir)).toEqual([]);
    expect(hostMountsMention(user.home)).toBe(false);
  });

  it('pulls from a registry the same way: streamed into the namespace, owners mapped', async () => {
    registry = await startRegistry(join(work, 'registry'));
    await push(`oci:${layout}:rootless-demo:latest`, registry, 'rootless/demo:1');
    const r = await user.husk(['pull', '--tls-verify=false', `${registry.host}/rootless/demo:1`], { timeout: 120_000 });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const base = storeLayerDirs(user).find((l) => existsSync(join(l, 'home/app/owned')))!;
    expect(ownerOf(join(base, 'home/app/owned'))).toBe(`${hostUidOf(user, 1000)}:${hostGidOf(user, 1000)}`);
    expect((await user.husk(['rmi', `${registry.host}/rootless/demo:1`])).exitCode).toBe(0);
    expect(storeLayerDirs(user)).toEqual([]);
  }, 180_000);

  it('refuses a hostile layer from inside the namespace too, keeping nothing of it', async () => {
    const { dir: hostile } = await craftLayout(join(work, 'hostile'), [[{ name: 'up', type: 'symlink', linkname: '/tmp' }, { name: 'up/planted', data: 'x' }]]);
    execFileSync('chmod', ['-R', 'a+rX', hostile]);
    const r = await user.husk(['image', 'import', hostile, '--name', 'hostile']);
    expect(r.exitCode).not.toBe(0);
    expect(String(r.stderr)).toMatch(/entry "up\/planted": .*through a symlink/);
    expect(existsSync('/tmp/planted')).toBe(false);
    const store = join(user.home, '.local/share/husk');
    expect(readdirSync(join(store, 'tmp'))).toEqual([]);
    expect(storeLayerDirs(user)).toEqual([]);
  });

  it('refuses an owner beyond the mapped range, naming it and the ranges', async () => {
    const { dir: big } = await craftLayout(join(work, 'big'), [[{ name: 'far', data: 'x', uid: 70_000 }]]);
    execFileSync('chmod', ['-R', 'a+rX', big]);
    const r = await user.husk(['image', 'import', big, '--name', 'big']);
    expect(r.exitCode).not.toBe(0);
    expect(String(r.stderr)).toMatch(/entry "far": owner 70000:0 is not mapped in this user namespace \(uids 0-0, 1-65536,/);
    expect(readdirSync(join(user.home, '.local/share/husk/tmp'))).toEqual([]);
  });

  it('refuses a store made by root (trusted.* layers) rather than mix the two kinds', async () => {
    const rootStore = mkdtempSync(join(work, 'root-store-'));
    execFileSync(process.execPath, [join(user.repo, 'dist/cli.js'), '--store', rootStore, 'image', 'import', layout, '--name', 'demo'], { stdio: 'ignore' });
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, rootStore]);
    const r = await user.husk(['--store', rootStore, 'image', 'import', layout, '--name', 'again']);
    expect(r.exitCode).not.toBe(0);
    expect(String(r.stderr)).toMatch(/was made by the host's root/);
  });
});
