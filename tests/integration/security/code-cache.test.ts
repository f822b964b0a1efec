/**
 * The CLI's V8 code cache is executable code that root runs: it is used only when it and
 * its directory are owned by root (or the invoking user) and writable by no one else, only
 * for the bundle it was made from, and only when V8 accepts it; anything else is silently
 * skipped and the CLI still works. Tried for real: the built dist/ (its cache must be used),
 * then copies of the CLI's three files in directories an attacker could write, a cache of
 * another owner, a link, a cache of another bundle, and V8 flags that make it refuse.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ownedSafely, readTrustedCache, writeTrustedCache } from '../../../src/cli/launcher.js';
import { repoRoot } from '../../helpers/husk.js';

const dist = join(repoRoot, 'dist');
const work = mkdtempSync(join(tmpdir(), 'husk-code-cache-'));
chmodSync(work, 0o755);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What the launcher did with the cache (`husk --debug` says it), and the exit status. */
function cacheStatus(cli: string, nodeFlags: string[] = []): { status: string | undefined; exit: number | null; stdout: string } {
  const result = spawnSync(process.execPath, [...nodeFlags, cli, '--debug', '--root', join(work, 'state'), 'list', '--format', 'json'], {
    encoding: 'utf8',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
  });
  return { status: /code cache: (.*)/.exec(result.stderr)?.[1], exit: result.status, stdout: result.stdout };
}

let copies = 0;
/** dist's cli.cjs, cli-bundle.cjs and cli-bundle.cache copied (times kept) into a new directory. */
function copyCli(mode = 0o755): string {
  const dir = join(work, `copy${copies++}`);
  mkdirSync(dir);
  chmodSync(dir, mode);
  for (const name of ['cli.cjs', 'cli-bundle.cjs', 'cli-bundle.cache']) copyFileSync(join(dist, name), join(dir, name));
  // The cache names its bundle by inode, size and mtime: the copy's first line is rewritten for the copy.
  const cache = readFileSync(join(dir, 'cli-bundle.cache'));
  const newline = cache.indexOf(10);
  const bundle = statSync(join(dir, 'cli-bundle.cjs'));
  writeFileSync(join(dir, 'cli-bundle.cache'), Buffer.concat([Buffer.from(`husk-cli-cache 1 ${bundle.ino} ${bundle.size} ${bundle.mtimeMs}\n`), cache.subarray(newline + 1)]));
  chmodSync(join(dir, 'cli-bundle.cache'), 0o644);
  return dir;
}

describe('the built CLI', () => {
  it('is CommonJS behind dist/cli.js, and the API beside it stays ESM', async () => {
    expect(lstatSync(join(dist, 'cli.js')).isSymbolicLink()).toBe(true);
    // Run as a program and by its #! (as engines exec it).
    expect(execFileSync(join(dist, 'cli.js'), ['--version'], { encoding: 'utf8' })).toMatch(/^husk version /);
    expect(readFileSync(join(dist, 'cli-bundle.cjs'), 'utf8')).not.toMatch(/\bimport\(/);
    const api = (await import(join(dist, 'index.js'))) as Record<string, unknown>;
    expect(typeof api['createContainer']).toBe('function');
  });

  it('uses its own code cache (root-owned, 0644, made at build time)', () => {
    const cache = statSync(join(dist, 'cli-bundle.cache'));
    expect(cache.mode & 0o777).toBe(0o644);
    expect(cacheStatus(join(dist, 'cli.js')).status).toBe('used');
  });

  it('skips a cache V8 refuses (other V8 flags) and still runs', () => {
    const { status, exit, stdout } = cacheStatus(join(dist, 'cli.js'), ['--no-opt']);
    expect(status).toBe('rejected by V8');
    expect(exit).toBe(0);
    expect(JSON.parse(stdout)).toEqual([]);
  });

  it('uses a copy made right (the test of the copies below can fail)', () => {
    expect(cacheStatus(join(copyCli(), 'cli.cjs')).status).toBe('used');
  });

  it('skips a cache in a directory others can write, with the sticky bit too', () => {
    for (const mode of [0o775, 0o757, 0o1777]) {
      const { status, exit } = cacheStatus(join(copyCli(mode), 'cli.cjs'));
      expect({ mode: mode.toString(8), status, exit }).toEqual({ mode: mode.toString(8), status: 'none', exit: 0 });
    }
  });

  it('skips a cache others can write, one owned by another user, and a link to a cache', () => {
    const groupWritable = copyCli();
    chmodSync(join(groupWritable, 'cli-bundle.cache'), 0o664);
    const otherOwner = copyCli();
    chownSync(join(otherOwner, 'cli-bundle.cache'), 65534, 65534);
    const linked = copyCli();
    rmSync(join(linked, 'cli-bundle.cache'));
    symlinkSync(join(copyCli(), 'cli-bundle.cache'), join(linked, 'cli-bundle.cache'));
    for (const dir of [groupWritable, otherOwner, linked]) expect(cacheStatus(join(dir, 'cli.cjs'))).toMatchObject({ status: 'none', exit: 0 });
  });

  it('skips a cache made for another bundle (the bundle changed after the build)', () => {
    const dir = copyCli();
    const bundle = join(dir, 'cli-bundle.cjs');
    const later = new Date(statSync(bundle).mtimeMs + 5000);
    utimesSync(bundle, later, later);
    expect(cacheStatus(join(dir, 'cli.cjs'))).toMatchObject({ status: 'none', exit: 0 });
  });
});

describe('readTrustedCache and writeTrustedCache', () => {
  it('round-trip, atomically: 0644, no temp file left, the old cache replaced', () => {
    const dir = join(work, 'rw');
    mkdirSync(dir, { mode: 0o755 });
    const path = join(dir, 'cli-bundle.cache');
    const old = process.umask(0o077);
    try {
      writeTrustedCache(path, '1 2 3', Buffer.from('first'));
      writeTrustedCache(path, '1 2 3', Buffer.from('second'));
    } finally {
      process.umask(old);
    }
    expect(readdirSync(dir)).toEqual(['cli-bundle.cache']);
    expect(statSync(path).mode & 0o777).toBe(0o644);
    expect(readTrustedCache(path, '1 2 3')?.toString()).toBe('second');
    expect(readTrustedCache(path, '1 2 4')).toBeUndefined();
    expect(readTrustedCache(join(dir, 'missing'), '1 2 3')).toBeUndefined();
  });

  it('refuse to write where others can write', () => {
    const dir = join(work, 'open');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    expect(() => writeTrustedCache(join(dir, 'cli-bundle.cache'), '1 2 3', Buffer.from('x'))).toThrow(/writable by others/);
    expect(existsSync(join(dir, 'cli-bundle.cache'))).toBe(false);
  });

  it('trust root and the invoking user only, and never group or other write', () => {
    expect(ownedSafely({ uid: 0, mode: 0o100644 }, 1000)).toBe(true);
    expect(ownedSafely({ uid: 1000, mode: 0o100644 }, 1000)).toBe(true);
    expect(ownedSafely({ uid: 1000, mode: 0o100644 }, 0)).toBe(false);
    expect(ownedSafely({ uid: 0, mode: 0o100664 }, 0)).toBe(false);
    expect(ownedSafely({ uid: 0, mode: 0o100646 }, 0)).toBe(false);
    expect(ownedSafely({ uid: 0, mode: 0o41777 }, 0)).toBe(false);
  });
});
