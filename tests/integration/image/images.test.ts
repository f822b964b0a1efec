/**
 * Images for real: podman-built busybox images imported in every archive kind,
 * layers shared, run on an overlay with a copy-on-write upper layer, diffed,
 * removed; crafted layouts for whiteouts, opaque directories, many layers and
 * hostile layers. No mocks: real tars, real overlayfs, real containers.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHusk } from '../../helpers/husk.js';
import { baseContainerfile, busyboxEntries, craftLayout, type PodmanImage, podmanBuild, tarOf } from '../../helpers/image-fixtures.js';

const husk = makeHusk();
const work = mkdtempSync('/tmp/husk-images-test-');
const store = join(work, 'store');
const withStore = (args: string[]) => husk.run(['--store', store, ...args]);
let base: PodmanImage;
let derived: PodmanImage;

/** Mounts under the store (none must be left by any test). */
function storeMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(work));
}

function dirEntries(path: string): string[] {
  return existsSync(path) ? readdirSync(path) : [];
}

beforeAll(() => {
  base = podmanBuild(work, 'localhost/husk-test-base:1', baseContainerfile);
  derived = podmanBuild(work, 'localhost/husk-test-derived:1', 'FROM localhost/husk-test-base:1\nUSER root\nRUN echo derived > /etc/derived\n');
}, 300_000);

afterAll(async () => {
  await husk.cleanup();
  for (const line of storeMounts()) {
    const target = line.split(' ')[4];
    if (target) await import('node:child_process').then((cp) => cp.spawnSync('umount', ['-l', target]));
  }
  rmSync(work, { recursive: true, force: true });
}, 180_000); // registries, podman storage and stores to remove, on a loaded machine

describe('import', { timeout: 180_000 }, () => {
  it('gives one image, stored once, from a docker-archive, an oci-archive and an OCI layout', async () => {
    for (const file of [base.dockerArchive, base.ociArchive, base.ociDir]) {
      const result = await withStore(['image', 'import', file]);
      expect(result.stderr).not.toMatch(/husk:/);
      expect(result.exitCode).toBe(0);
      expect(String(result.stdout)).toContain(`${base.id} localhost/husk-test-base:1`);
    }
    const images = JSON.parse(String((await withStore(['images', '--format', 'json'])).stdout)) as { id: string; names: string[]; layers: string[]; size: number }[];
    expect(images.map((i) => i.id)).toEqual([base.id]);
    expect(images[0]!.names).toEqual(['localhost/husk-test-base:1']);
    expect(images[0]!.layers).toHaveLength(4);
    expect(images[0]!.size).toBeGreaterThan(1_000_000);
    // One directory per layer however many imports.
    expect(dirEntries(join(store, 'layers'))).toHaveLength(4);
    expect(dirEntries(join(store, 'tmp'))).toEqual([]);
  });

  it('shares the base layers between two images', async () => {
    const result = await withStore(['image', 'import', derived.ociArchive]);
    expect(result.exitCode).toBe(0);
    expect(String(result.stderr).match(/already present/g)).toHaveLength(4);
    expect(dirEntries(join(store, 'layers'))).toHaveLength(5);
    const inspect = JSON.parse(String((await withStore(['image', 'inspect', 'localhost/husk-test-derived:1'])).stdout)) as { layers: string[] }[];
    const baseInspect = JSON.parse(String((await withStore(['image', 'inspect', base.id])).stdout)) as { layers: string[] }[];
    expect(inspect[0]!.layers.slice(0, 4)).toEqual(baseInspect[0]!.layers);
  });

  it('imports the same image three times at once without a half layer or a clash', async () => {
    const other = join(work, 'store-concurrent');
    const runs = await Promise.all([base.ociArchive, base.dockerArchive, base.ociDir].map((f) => husk.run(['--store', other, 'image', 'import', f])));
    for (const r of runs) expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(dirEntries(join(other, 'layers'))).toHaveLength(4);
    expect(dirEntries(join(other, 'tmp'))).toEqual([]);
    const run = await husk.run(['--store', other, 'run', '--rm', '--image', base.id, 'concurrent']);
    expect(String(run.stdout)).toBe('entry default-cmd');
  });
});

describe('run --image', { timeout: 180_000 }, () => {
  it("applies the image's config: entrypoint + cmd, env, workdir, user and groups from the image's files", async () => {
    const plain = await withStore(['run', '--rm', '--image', 'localhost/husk-test-base:1', 'cfg1']);
    expect(String(plain.stdout)).toBe('entry default-cmd');
    const cmd = await withStore(['run', '--rm', '--image', 'localhost/husk-test-base:1', 'cfg2', '--', 'other', 'args']);
    expect(String(cmd.stdout)).toBe('entry other args');
    const shell = await withStore(['run', '--rm', '--image', 'localhost/husk-test-base:1', '--entrypoint', '', '-e', 'EXTRA=1', 'cfg3', '--', '/bin/sh', '-c', 'id; pwd; echo $GREETING $EXTRA $HOME; hostname']);
    expect(String(shell.stderr)).toBe('');
    expect(String(shell.stdout).split('\n')).toEqual(['uid=1000(app) gid=1000(app) groups=50(staff)', '/work', 'hello 1 /home/app', 'cfg3']);
    const root = await withStore(['run', '--rm', '--image', 'localhost/husk-test-base:1', '--entrypoint', '', '-u', 'root', '-w', '/tmp', 'cfg4', '--', '/bin/sh', '-c', 'id -u; pwd']);
    expect(String(root.stdout).split('\n')).toEqual(['0', '/tmp']);
    const unknown = await withStore(['run', '--rm', '--image', 'localhost/husk-test-base:1', '-u', 'nobody-here', 'cfg5']);
    expect(unknown.exitCode).not.toBe(0);
    expect(String(unknown.stderr)).toContain('user "nobody-here" is not in the image\'s /etc/passwd');
    husk.expectGone('cfg5');
  });

  it('keeps writes in the container layer: the image and other containers never see them, and they vanish with the container', async () => {
    const write = await withStore(['run', '--image', base.id, '--entrypoint', '', '-u', 'root', 'cow1', '--', '/bin/sh', '-c', 'echo changed > /etc/passwd; echo new > /etc/new; rm /etc/group; touch /work/file']);
    expect(write.exitCode, String(write.stderr)).toBe(0);
    const other = await withStore(['run', '--rm', '--image', base.id, '--entrypoint', '', 'cow2', '--', '/bin/sh', '-c', 'head -1 /etc/passwd; ls /etc/group; ls /etc/new; ls /work']);
    expect(String(other.stdout).split('\n')).toEqual(['root:x:0:0:root:/root:/bin/sh', '/etc/group']);
    expect(String(other.stderr)).toContain("/etc/new: No such file or directory");
    const diff = await withStore(['diff', 'cow1']);
    expect(String(diff.stdout).split('\n')).toEqual(['C /etc', 'D /etc/group', 'A /etc/new', 'C /etc/passwd', 'C /work', 'A /work/file']);
    // The layers themselves are untouched.
    const layerFiles = dirEntries(join(store, 'layers')).flatMap((l) => dirEntries(join(store, 'layers', l, 'diff', 'etc')));
    expect(layerFiles).not.toContain('new');
    const containers = dirEntries(join(store, 'containers'));
    expect(containers).toHaveLength(1);
    await withStore(['delete', 'cow1']);
    husk.expectGone('cow1');
    expect(dirEntries(join(store, 'containers'))).toEqual([]);
    expect(storeMounts()).toEqual([]);
  });

  it('leaves nothing mounted after run --rm, delete, and a create that fails', async () => {
    const created = await husk.detached(['--store', store, 'create', '--image', base.id, 'mnt1']);
    expect(created.exitCode, String(created.stderr)).toBe(0);
    expect(storeMounts()).toHaveLength(1);
    await withStore(['delete', 'mnt1']);
    expect(storeMounts()).toEqual([]);
    // The bind source does not exist: the child's mount fails after the overlay was mounted.
    const failed = await withStore(['run', '--rm', '--image', base.id, '-v', `${work}/no-such-dir:/x`, 'mnt2']);
    expect(failed.exitCode).not.toBe(0);
    expect(String(failed.stderr)).toMatch(/no-such-dir|ENOENT/);
    husk.expectGone('mnt2');
    expect(storeMounts()).toEqual([]);
    expect(dirEntries(join(store, 'containers'))).toEqual([]);
  });

  it('binds volumes, applies limits and capabilities, and gives the image Volumes an anonymous volume', async () => {
    const host = join(work, 'vol');
    await import('node:fs').then((fs) => fs.mkdirSync(host, { recursive: true }));
    writeFileSync(join(host, 'in'), 'from host\n');
    const envFile = join(work, 'env');
    writeFileSync(envFile, '# comment\nFROM_FILE=yes\n');
    const run = await withStore([
      'run', '--rm', '--image', base.id, '--entrypoint', '', '-u', 'root', '-v', `${host}:/mnt/host:ro`, '--env-file', envFile,
      '--memory', '64m', '--pids-limit', '20', '--cap-add', 'NET_ADMIN', '--cap-drop', 'KILL', '--read-only', '--hostname', 'box',
      'lim1', '--', '/bin/sh', '-c',
      'cat /mnt/host/in; echo $FROM_FILE; hostname; touch /mnt/host/x 2>/dev/null || echo host-ro; touch /etc/x 2>/dev/null || echo root-ro; touch /data/ok && echo data-rw; grep CapBnd /proc/self/status',
    ]);
    expect(String(run.stderr)).toBe('');
    expect(String(run.stdout).split('\n')).toEqual(['from host', 'yes', 'box', 'host-ro', 'root-ro', 'data-rw', 'CapBnd:\t0000000020001400']);
  });

  it('refuses rmi while a container uses the image, then removes its own layers only', async () => {
    const created = await husk.detached(['--store', store, 'create', '--image', derived.id, 'rmi1']);
    expect(created.exitCode, String(created.stderr)).toBe(0);
    const refused = await withStore(['rmi', derived.id]);
    expect(refused.exitCode).toBe(1);
    expect(String(refused.stderr)).toContain('in use by container rmi1');
    await withStore(['delete', 'rmi1']);
    const removed = await withStore(['rmi', derived.id]);
    expect(removed.exitCode, String(removed.stderr)).toBe(0);
    expect(String(removed.stdout).match(/Deleted layer/g)).toHaveLength(1);
    expect(dirEntries(join(store, 'layers'))).toHaveLength(4);
  });
});

describe('layers', { timeout: 180_000 }, () => {
  it('turns whiteouts and opaque directories into overlay ones', async () => {
    const layout = await craftLayout(join(work, 'wh'), [
      [...busyboxEntries(), { name: 'a/', type: 'directory' }, { name: 'a/x', data: 'x' }, { name: 'a/y', data: 'y' }, { name: 'b/', type: 'directory' }, { name: 'b/z', data: 'z' }],
      [{ name: 'a/.wh.x' }, { name: 'b/' , type: 'directory' }, { name: 'b/.wh..wh..opq' }, { name: 'b/w', data: 'w' }],
    ], { name: 'localhost/husk-test-wh:1' });
    expect((await withStore(['image', 'import', layout.dir])).exitCode).toBe(0);
    const run = await withStore(['run', '--rm', '--image', 'localhost/husk-test-wh:1', 'wh1', '--', '/bin/ls', '/a', '/b']);
    expect(String(run.stdout).split('\n')).toEqual(['/a:', 'y', '', '/b:', 'w']);
  });

  it('mounts an image of 120 layers (more than one page of lowerdir= paths)', async () => {
    const layers = [busyboxEntries(), ...Array.from({ length: 119 }, (_, i) => [{ name: `layer${i}`, data: String(i) }])];
    const layout = await craftLayout(join(work, 'many'), layers, { name: 'localhost/husk-test-many:1', compress: (i) => (i % 2 === 0 ? 'gzip' : 'none') });
    expect((await withStore(['image', 'import', layout.dir])).exitCode).toBe(0);
    const run = await withStore(['run', '--rm', '--image', 'localhost/husk-test-many:1', 'many1', '--', '/bin/sh', '-c', 'cat /layer0 /layer118; ls / | grep -c layer']);
    expect(String(run.stderr)).toBe('');
    expect(String(run.stdout).split('\n')).toEqual(['0118119']);
  });

  it('keeps owners, modes (setuid), xattrs and mtimes', async () => {
    const layout = await craftLayout(join(work, 'meta'), [
      [
        ...busyboxEntries(),
        { name: 'su', data: 'x', mode: 0o4755, uid: 0, gid: 0 },
        { name: 'owned', data: 'x', mode: 0o640, uid: 1234, gid: 5678, pax: { 'SCHILY.xattr.user.note': 'kept' } },
      ],
    ], { name: 'localhost/husk-test-meta:1' });
    expect((await withStore(['image', 'import', layout.dir])).exitCode).toBe(0);
    const run = await withStore(['run', '--rm', '--image', 'localhost/husk-test-meta:1', 'meta1', '--', '/bin/stat', '-c', '%a %u %g %Y', '/su', '/owned']);
    expect(String(run.stdout).split('\n')).toEqual(['4755 0 0 1600000000', '640 1234 5678 1600000000']);
  });

  // Each as an attacker would write it; the marker is where the entry aims, outside the layer.
  const hostile: [string, (marker: string) => Parameters<typeof tarOf>[0], RegExp][] = [
    ['an absolute path', (m) => [{ name: m, data: 'pwned' }], /never written/],
    ['".."', (m) => [{ name: `../../../../../../..${m}`, data: 'pwned' }], /".." would leave the layer/],
    ['a symlinked parent', (m) => [{ name: 'evil', type: 'symlink', linkname: join(m, '..') }, { name: `evil/${m.split('/').pop()}`, data: 'pwned' }], /through a symlink/],
    ['a relative symlinked parent', (m) => [{ name: 'evil', type: 'symlink', linkname: `../../../../../../..${join(m, '..')}` }, { name: `evil/${m.split('/').pop()}`, data: 'pwned' }], /through a symlink/],
    ['a hard link out of the layer', () => [{ name: 'pw', type: 'link', linkname: '/etc/passwd' }], /not in the layer/],
    ['a hard link with ".."', () => [{ name: 'pw', type: 'link', linkname: '../../../../../../etc/passwd' }], /".." would leave the layer/],
    ['a device node', () => [{ name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 }], /device nodes/],
    ['an overlay xattr', () => [{ name: 'd/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } }], /overlayfs's own/],
  ];
  for (const [what, entries, message] of hostile) {
    it(`refuses a layer with ${what} and keeps nothing of it`, async () => {
      const marker = join(work, `marker-${what.replace(/\W/g, '_')}`);
      const hostileStore = join(work, `store-hostile-${what.replace(/\W/g, '_')}`);
      const layout = await craftLayout(join(work, `hostile-${what.replace(/\W/g, '_')}`), [[{ name: 'ok', data: 'fine' }, ...entries(marker)]]);
      const result = await husk.run(['--store', hostileStore, 'image', 'import', layout.dir]);
      if (what === 'an absolute path') {
        // Absolute names are taken relative to the layer, as every runtime does: the host file is never written.
        expect(result.exitCode, String(result.stderr)).toBe(0);
        expect(existsSync(marker), 'never written').toBe(false);
        const layer = dirEntries(join(hostileStore, 'layers'))[0]!;
        expect(readFileSync(join(hostileStore, 'layers', layer, 'diff', marker), 'utf8')).toBe('pwned');
        return;
      }
      expect(result.exitCode).toBe(1);
      expect(String(result.stderr)).toMatch(message);
      expect(existsSync(marker)).toBe(false);
      expect(dirEntries(join(hostileStore, 'layers'))).toEqual([]);
      expect(dirEntries(join(hostileStore, 'images'))).toEqual([]);
      expect(dirEntries(join(hostileStore, 'tmp'))).toEqual([]);
      expect(readFileSync('/etc/passwd', 'utf8')).toMatch(/^root:/);
    });
  }

  it('refuses a layer whose content does not match its diffID', async () => {
    const layout = await craftLayout(join(work, 'tampered'), [[{ name: 'a', data: 'original' }]]);
    // Replace the layer blob with another tar: its blob digest no longer matches the manifest.
    const manifestDigest = (JSON.parse(readFileSync(join(layout.dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] }).manifests[0]!.digest;
    const manifest = JSON.parse(readFileSync(join(layout.dir, 'blobs', 'sha256', manifestDigest.slice(7)), 'utf8')) as { layers: { digest: string }[] };
    writeFileSync(join(layout.dir, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7)), await tarOf([{ name: 'a', data: 'evil' }]));
    const tamperedStore = join(work, 'store-tampered');
    const result = await husk.run(['--store', tamperedStore, 'image', 'import', layout.dir]);
    expect(result.exitCode).toBe(1);
    expect(String(result.stderr)).toContain('digest mismatch');
    expect(dirEntries(join(tamperedStore, 'layers'))).toEqual([]);
  });
});
