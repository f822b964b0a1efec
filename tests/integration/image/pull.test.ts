/**
 * husk pull against a real registry on loopback (Debian's docker-registry, its
 * own config, data dir and port, stopped at the end), images pushed with
 * skopeo: the same image as an import gives, present layers skipped, bearer
 * token auth, zstd layers, an OCI index resolved to this host, a pull killed
 * midway, concurrent pulls.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, makeHusk } from '../../helpers/husk.js';
import { baseContainerfile, busyboxEntries, craftLayout, type PodmanImage, podmanBuild } from '../../helpers/image-fixtures.js';
import { push, startRegistry, type TestRegistry } from '../../helpers/registry.js';

const husk = makeHusk();
const work = mkdtempSync('/tmp/husk-pull-test-');
let registry: TestRegistry;
let tokenRegistry: TestRegistry;
let basicRegistry: TestRegistry;
let base: PodmanImage;
let derived: PodmanImage;

const dirEntries = (path: string): string[] => (existsSync(path) ? readdirSync(path) : []);
const storeAt = (name: string): string => join(work, name);
const pull = (store: string, ...args: string[]) => husk.run(['--store', store, 'pull', ...args], { timeout: 120_000 });

beforeAll(async () => {
  registry = await startRegistry(join(work, 'registry'));
  tokenRegistry = await startRegistry(join(work, 'token-registry'), { tokenAuth: { username: 'alice', password: 's3cret' } });
  basicRegistry = await startRegistry(join(work, 'basic-registry'), { basicAuth: { username: 'bob', password: 'hunter2' } });
  base = podmanBuild(work, 'localhost/husk-pull-base:1', baseContainerfile);
  derived = podmanBuild(work, 'localhost/husk-pull-derived:1', 'FROM localhost/husk-pull-base:1\nUSER root\nRUN echo derived > /etc/derived\n');
  await push(`oci:${base.ociDir}`, registry, 'husk/base:1');
  await push(`docker-archive:${derived.dockerArchive}`, registry, 'husk/derived:1');
  await push(`oci:${base.ociDir}`, tokenRegistry, 'husk/private:1', 'alice:s3cret');
  await push(`oci:${base.ociDir}`, basicRegistry, 'husk/basic:1', 'bob:hunter2');
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  await tokenRegistry?.stop();
  await basicRegistry?.stop();
  await husk.cleanup();
  rmSync(work, { recursive: true, force: true });
}, 180_000); // registries, podman storage and stores to remove, on a loaded machine

describe('pull', { timeout: 180_000 }, () => {
  it('refuses a plain-HTTP registry unless --tls-verify=false', async () => {
    const result = await pull(storeAt('s-tls'), `${registry.host}/husk/base:1`);
    expect(result.exitCode).toBe(1);
    expect(String(result.stderr)).toContain('needs --tls-verify=false');
    expect(dirEntries(join(storeAt('s-tls'), 'images'))).toEqual([]);
  });

  it('gives the image an import gives (same id, same layers), and runs it', async () => {
    const store = storeAt('s1');
    const pulled = await pull(store, '--tls-verify=false', `${registry.host}/husk/base:1`);
    expect(pulled.exitCode, String(pulled.stderr)).toBe(0);
    expect(String(pulled.stdout)).toBe(base.id);
    expect(String(pulled.stderr).match(/: done/g)).toHaveLength(4);
    const imported = await husk.run(['--store', storeAt('s1-import'), 'image', 'import', base.ociArchive]);
    expect(String(imported.stdout)).toContain(base.id);
    const list = async (s: string) => JSON.parse(String((await husk.run(['--store', s, 'images', '--format', 'json'])).stdout)) as { id: string; layers: string[]; names: string[] }[];
    const [a] = await list(store);
    const [b] = await list(storeAt('s1-import'));
    expect(a!.layers).toEqual(b!.layers);
    expect(a!.names).toEqual([`${registry.host}/husk/base:1`]);
    const run = await husk.run(['--store', store, 'run', '--rm', '--image', `${registry.host}/husk/base:1`, 'pulled1']);
    expect(String(run.stdout)).toBe('entry default-cmd');
  });

  it('skips the layers already in the store', async () => {
    const store = storeAt('s1');
    const again = await pull(store, '--tls-verify=false', `${registry.host}/husk/base:1`);
    expect(String(again.stderr).match(/already present/g)).toHaveLength(4);
    const other = await pull(store, '--tls-verify=false', `${registry.host}/husk/derived:1`);
    expect(other.exitCode, String(other.stderr)).toBe(0);
    expect(String(other.stdout)).toBe(derived.id);
    expect(String(other.stderr).match(/already present/g)).toHaveLength(4);
    expect(String(other.stderr).match(/: done/g)).toHaveLength(1);
    expect(dirEntries(join(store, 'layers'))).toHaveLength(5);
  });

  it('authenticates with a bearer token from the registry\'s realm (--creds, or an auth file)', async () => {
    const anonymous = await pull(storeAt('s-auth'), '--tls-verify=false', `${tokenRegistry.host}/husk/private:1`);
    expect(anonymous.exitCode).toBe(1);
    expect(String(anonymous.stderr)).toContain('refused an anonymous pull');
    const wrong = await pull(storeAt('s-auth'), '--tls-verify=false', '--creds', 'alice:wrong', `${tokenRegistry.host}/husk/private:1`);
    expect(String(wrong.stderr)).toContain('refused the credentials of alice');
    const right = await pull(storeAt('s-auth'), '--tls-verify=false', '--creds', 'alice:s3cret', `${tokenRegistry.host}/husk/private:1`);
    expect(right.exitCode, String(right.stderr)).toBe(0);
    expect(String(right.stdout)).toBe(base.id);
    const authFile = join(work, 'auth.json');
    writeFileSync(authFile, JSON.stringify({ auths: { [tokenRegistry.host]: { auth: Buffer.from('alice:s3cret').toString('base64') } } }));
    const fromFile = await husk.run(['--store', storeAt('s-auth-file'), 'pull', '--tls-verify=false', `${tokenRegistry.host}/husk/private:1`], { env: { REGISTRY_AUTH_FILE: authFile } });
    expect(fromFile.exitCode, String(fromFile.stderr)).toBe(0);
  });

  it('authenticates with basic auth when the registry asks for it', async () => {
    const anonymous = await pull(storeAt('s-basic'), '--tls-verify=false', `${basicRegistry.host}/husk/basic:1`);
    expect(anonymous.exitCode).toBe(1);
    expect(String(anonymous.stderr)).toContain('wants a user and password');
    const wrong = await pull(storeAt('s-basic'), '--tls-verify=false', '--creds', 'bob:wrong', `${basicRegistry.host}/husk/basic:1`);
    expect(wrong.exitCode).toBe(1);
    expect(String(wrong.stderr)).toContain('access denied (401)');
    const right = await pull(storeAt('s-basic'), '--tls-verify=false', '--creds', 'bob:hunter2', `${basicRegistry.host}/husk/basic:1`);
    expect(right.exitCode, String(right.stderr)).toBe(0);
    expect(String(right.stdout)).toBe(base.id);
  });

  it('pulls zstd, gzip and plain layers, and picks this host from an OCI index', async () => {
    const layout = await craftLayout(join(work, 'zstd'), [busyboxEntries(), [{ name: 'z', data: 'zstd layer' }], [{ name: 'p', data: 'plain layer' }]], {
      compress: (i) => (['gzip', 'zstd', 'none'] as const)[i]!,
      platformIndex: true,
      cmd: ['/bin/cat', '/z', '/p'],
    });
    await push(`oci:${layout.dir}`, registry, 'husk/multi:1');
    const result = await pull(storeAt('s-zstd'), '--tls-verify=false', `${registry.host}/husk/multi:1`);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(String(result.stdout)).toBe(layout.id);
    const run = await husk.run(['--store', storeAt('s-zstd'), 'run', '--rm', '--image', layout.id, 'zstd1']);
    expect(String(run.stdout)).toBe('zstd layerplain layer');
  });

  it('leaves nothing used when killed midway, and a second pull completes', async () => {
    // A layer big enough to be caught downloading: 48 MiB that gzip cannot shrink.
    const layout = await craftLayout(join(work, 'big'), [busyboxEntries(), [{ name: 'big', data: randomBytes(48 << 20) }]], { cmd: ['/bin/stat', '-c', '%s', '/big'] });
    await push(`oci:${layout.dir}`, registry, 'husk/big:1');
    const store = storeAt('s-killed');
    const child = spawn('node', [cliPath, '--store', store, 'pull', '--tls-verify=false', `${registry.host}/husk/big:1`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        // The big layer's line: the first that starts downloading is either; wait for two.
        if ((stderr.match(/downloading/g) ?? []).length >= 2) resolve();
      });
      child.once('exit', () => resolve());
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(dirEntries(join(store, 'images')), 'no image recorded').toEqual([]);
    // Whatever was unpacked is either a whole layer (layer.json last) or a tmp/ entry of the dead pull.
    for (const layer of dirEntries(join(store, 'layers'))) expect(existsSync(join(store, 'layers', layer, 'layer.json'))).toBe(true);
    expect(dirEntries(join(store, 'layers')).length).toBeLessThan(2);
    const again = await pull(store, '--tls-verify=false', `${registry.host}/husk/big:1`);
    expect(again.exitCode, String(again.stderr)).toBe(0);
    expect(dirEntries(join(store, 'tmp')), 'the dead pull\'s work removed').toEqual([]);
    const run = await husk.run(['--store', store, 'run', '--rm', '--image', layout.id, 'big1']);
    expect(String(run.stdout)).toBe(String(48 << 20));
  });

  it('pulls one image twice at once into one store', async () => {
    const store = storeAt('s-concurrent');
    const [a, b] = await Promise.all([pull(store, '--tls-verify=false', `${registry.host}/husk/derived:1`), pull(store, '--tls-verify=false', `${registry.host}/husk/derived:1`)]);
    expect(a!.exitCode, String(a!.stderr)).toBe(0);
    expect(b!.exitCode, String(b!.stderr)).toBe(0);
    expect(dirEntries(join(store, 'layers'))).toHaveLength(5);
    expect(dirEntries(join(store, 'images'))).toHaveLength(1);
    expect(dirEntries(join(store, 'tmp'))).toEqual([]);
  });

  it('refuses a blob whose content does not match its digest', async () => {
    // Corrupt the registry's copy of the derived image's top layer.
    const blobs = join(registry.dir, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256');
    const manifest = JSON.parse(String((await import('node:child_process')).execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/husk/derived:1`]))) as { layers: { digest: string }[] };
    const top = manifest.layers[manifest.layers.length - 1]!.digest.slice(7);
    const data = join(blobs, top.slice(0, 2), top, 'data');
    const { readFileSync } = await import('node:fs');
    const original = readFileSync(data);
    const corrupted = Buffer.from(original);
    const at = corrupted.length - 20;
    corrupted.writeUInt8(corrupted.readUInt8(at) ^ 0xff, at);
    writeFileSync(data, corrupted);
    try {
      const store = storeAt('s-corrupt');
      await pull(store, '--tls-verify=false', `${registry.host}/husk/base:1`);
      const result = await pull(store, '--tls-verify=false', `${registry.host}/husk/derived:1`);
      expect(result.exitCode).toBe(1);
      expect(String(result.stderr)).toMatch(/digest mismatch|cannot read/);
      expect(dirEntries(join(store, 'layers'))).toHaveLength(4);
      expect(dirEntries(join(store, 'images'))).toHaveLength(1);
    } finally {
      writeFileSync(data, original);
    }
  });
});
