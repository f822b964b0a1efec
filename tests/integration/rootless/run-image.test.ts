/**
 * `husk run --image` rootless, as a real unprivileged user with subordinate id
 * ranges: the container's user namespace maps as the store does (0 as the
 * user, 1..N its range), the overlay rootfs is mounted by the init inside it
 * (never in the host's mount table), the image's owners are seen inside as the
 * image gave them, the upper dir's files are owned by the user's ids on the
 * host, and delete and rmi leave no file, mount or state behind.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxEntries, craftLayout, craftOwnersWhiteoutsLayout } from '../../helpers/image-fixtures.js';
import { createTestUser, firstSubordinateRange, hostGidOf, hostMountsMention, hostUidOf, ownerOf, storeLayerDirs, type TestUser } from '../../helpers/rootless-user.js';

let user: TestUser;
let work: string;
let layout: string;


beforeAll(async () => {
  user = await createTestUser();
  work = mkdtempSync('/tmp/husk-rootless-images-');
  chmodSync(work, 0o755);
  // Two layers, as an attacker or a build would write them: owners 0 and 1000, a whiteout, an opaque directory.
  ({ dir: layout } = await craftOwnersWhiteoutsLayout(join(work, 'layout'), [
    ...['sleep', 'id', 'mkdir'].map((a) => ({ name: `bin/${a}`, type: 'symlink' as const, linkname: 'busybox' })),
  ]));
  execFileSync('chmod', ['-R', 'a+rX', work]);
}, 120_000);

afterAll(async () => {
  await user?.remove();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
}, 120_000);

describe('run --image rootless', () => {
  beforeAll(async () => {
    const r = await user.husk(['image', 'import', layout, '--name', 'demo']);
    expect(r.exitCode, String(r.stderr)).toBe(0);
  });

  it('runs it: the overlay is mounted in the container\'s user namespace, not on the host', async () => {
    // Detached, the container keeps husk's stdio: none of it is a pipe this test waits on.
    const started = await user.husk(['run', '-d', '--image', 'demo', 'web', '--', 'sleep', '1000'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
    expect(started.exitCode).toBe(0);
    const state = JSON.parse(String((await user.husk(['state', 'web'])).stdout)) as { pid: number; rootfs: string };
    // The init's root is the overlay, with userxattr; the host's mount table has no such mount.
    const rootLine = readFileSync(`/proc/${state.pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/')!;
    expect(rootLine).toMatch(/ - overlay \S+ rw,.*userxattr/);
    expect(hostMountsMention(state.rootfs)).toBe(false);
    const range = firstSubordinateRange(user, '/etc/subuid');
    expect(readFileSync(`/proc/${state.pid}/uid_map`, 'utf8')).toMatch(new RegExp(`^\\s*0\\s+${user.uid}\\s+1\\n\\s*1\\s+${range.start}\\s+${range.count}\\n`));
    expect((await user.husk(['delete', '--force', 'web'])).exitCode).toBe(0);
    expect(existsSync(state.rootfs)).toBe(false);
  });

  it('sees the image\'s owners and layers inside, and writes its upper dir as the user\'s ids', async () => {
    const script = [
      'stat -c %u:%g /home/app/owned /opq/new',
      'ls /opq',
      'test -e /etc/gone && echo etc-gone-visible || echo etc-gone-deleted',
      'echo by-root > /root-made',
      'id -u',
    ].join('; ');
    const r = await user.husk(['run', '--image', 'demo', 'box', '--', 'sh', '-c', script]);
    expect(r.stderr).toBe('');
    expect(r.exitCode, String(r.stdout)).toBe(0);
    expect(String(r.stdout).split('\n')).toEqual(['1000:1000', '1000:50', 'new', 'etc-gone-deleted', '0']);
    // As uid 1000 inside: a file in the image's /home/app, copied up with its owner.
    const asApp = await user.husk(['run', '--image', 'demo', '-u', '1000:1000', 'app', '--', 'sh', '-c', 'echo by-app > /home/app/made; stat -c %u:%g /home/app/made']);
    expect(asApp.stderr).toBe('');
    expect(String(asApp.stdout).trim()).toBe('1000:1000');

    // The stopped containers keep their layers (run --image without --rm), as the user's ids on the host.
    const containers = join(user.home, '.local/share/husk/containers');
    const uppers = readdirSync(containers).map((c) => join(containers, c, 'upper'));
    const rootMade = uppers.map((u) => join(u, 'root-made')).find(existsSync)!;
    const appMade = uppers.map((u) => join(u, 'home/app/made')).find(existsSync)!;
    expect(ownerOf(rootMade)).toBe(`${user.uid}:${user.gid}`);
    expect(ownerOf(appMade)).toBe(`${hostUidOf(user, 1000)}:${hostGidOf(user, 1000)}`);
    const diff = await user.husk(['diff', 'app']);
    expect(String(diff.stdout)).toContain('A /home/app/made');

    for (const id of ['box', 'app']) expect((await user.husk(['delete', id])).exitCode).toBe(0);
    // Files of the range's ids went too: removed from inside the user namespace.
    expect(readdirSync(containers)).toEqual([]);
  });

  it('leaves nothing when the container fails to start (its layer removed from inside the namespace)', async () => {
    const r = await user.husk(['run', '--rm', '--image', 'demo', 'broken', '--', '/no/such/program']);
    expect(r.exitCode).not.toBe(0);
    expect(String(r.stderr)).toMatch(/no\/such\/program/);
    expect(readdirSync(join(user.home, '.local/share/husk/containers'))).toEqual([]);
    expect(readdirSync(join(user.runtimeDir, 'husk'))).toEqual([]);
  });

  it('leaves nothing: no state in the runtime dir, no layer, no mount', async () => {
    expect((await user.husk(['rmi', 'demo'])).exitCode).toBe(0);
    expect(storeLayerDirs(user)).toEqual([]);
    const store = join(user.home, '.local/share/husk');
    for (const dir of ['tmp', 'containers', 'images']) expect(readdirSync(join(store, dir)), dir).toEqual([]);
    expect(readdirSync(join(user.runtimeDir, 'husk'))).toEqual([]);
    expect(hostMountsMention(user.home)).toBe(false);
  });
});

describe('run --image rootless, a user without subordinate ranges', () => {
  let plain: TestUser;
  beforeAll(async () => {
    plain = await createTestUser({ subordinateIds: false });
  });
  afterAll(async () => {
    await plain?.remove();
  });

  it("maps the user alone: an image of root's files runs, one of other owners is refused naming the entry", async () => {
    expect(readFileSync('/etc/subuid', 'utf8')).not.toContain(`${plain.name}:`);
    const { dir: rootOnly } = await craftLayout(join(work, 'root-only'), [[...busyboxEntries(), { name: 'bin/id', type: 'symlink', linkname: 'busybox' }, { name: 'tmp/', type: 'directory', mode: 0o1777 }]]);
    execFileSync('chmod', ['-R', 'a+rX', rootOnly]);
    expect((await plain.husk(['image', 'import', rootOnly, '--name', 'plain'])).exitCode).toBe(0);
    const r = await plain.husk(['run', '--rm', '--image', 'plain', 'alone', '--', 'sh', '-c', 'id -u; cat /proc/self/uid_map; echo x > /tmp/y']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(String(r.stdout).split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual(['0', `0 ${plain.uid} 1`]);
    const refused = await plain.husk(['image', 'import', layout, '--name', 'owners']);
    expect(refused.exitCode).not.toBe(0);
    expect(String(refused.stderr)).toMatch(/entry "home\/app\/owned": owner 1000:1000 is not mapped in this user namespace \(uids 0-0,/);
    expect((await plain.husk(['rmi', 'plain'])).exitCode).toBe(0);
    expect(readdirSync(join(plain.home, '.local/share/husk/layers'))).toEqual([]);
  });
});
