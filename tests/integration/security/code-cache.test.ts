/**
 * The CLI's V8 code cache is executable code that root runs: it is used only when it and
 * its directory are owned by root (or the invoking user) and writable by no one else, only
 * for the bundle it was made from, and only when V8 accepts it; anything else is silently
 * skipped and the CLI still works. Tried for real, for both bundles (the light verbs' and
 * every verb's, which the launcher picks from the command line): the built dist/ (their
 * caches must be used), then copies of the CLI's files in directories an attacker could
 * write, a cache of another owner, a link, a cache of another bundle, and V8 flags that
 * make it refuse.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleFor, bundleNames, compileBundle, ownedSafely, readTrustedCache, trainingFlag, writeTrustedCache } from '../../../src/cli/launcher.js';
import { trainingRunIds, trainLifecycle, trainRun } from '../../../src/cli/train-cache.js';
import { cgroupDirsNamed, processesMatching, repoRoot } from '../../helpers/husk.js';

const dist = join(repoRoot, 'dist');
const work = mkdtempSync(join(tmpdir(), 'husk-code-cache-'));
chmodSync(work, 0o755);
// The copies of dist/ below sit in `work`, where `features` finds the package's version (../package.json).
copyFileSync(join(repoRoot, 'package.json'), join(work, 'package.json'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A command of each bundle: `list` runs from the light one, `features` from the full one. */
const bundles = [
  { bundle: 'cli-light', argv: ['list', '--format', 'json'], output: [] as unknown },
  { bundle: 'cli-bundle', argv: ['features'], output: expect.objectContaining({ ociVersionMax: expect.any(String) }) as unknown },
];

/** What the launcher did with the cache (`husk --debug` says it), and the exit status. */
function cacheStatus(cli: string, argv: string[], nodeFlags: string[] = []): { status: string | undefined; exit: number | null; stdout: string } {
  const result = spawnSync(process.execPath, [...nodeFlags, cli, '--debug', '--root', join(work, 'state'), ...argv], {
    encoding: 'utf8',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
  });
  return { status: /code cache: (.*)/.exec(result.stderr)?.[1], exit: result.status, stdout: result.stdout };
}

let copies = 0;
/** dist's cli.cjs and both bundles with their caches copied into a new directory. */
function copyCli(mode = 0o755): string {
  const dir = join(work, `copy${copies++}`);
  mkdirSync(dir);
  chmodSync(dir, mode);
  copyFileSync(join(dist, 'cli.cjs'), join(dir, 'cli.cjs'));
  for (const { bundle } of bundles) {
    copyFileSync(join(dist, `${bundle}.cjs`), join(dir, `${bundle}.cjs`));
    // The cache names its bundle by inode, size and mtime: the copy's first line is rewritten for the copy.
    const cache = readFileSync(join(dist, `${bundle}.cache`));
    const newline = cache.indexOf(10);
    const stats = statSync(join(dir, `${bundle}.cjs`));
    writeFileSync(join(dir, `${bundle}.cache`), Buffer.concat([Buffer.from(`husk-cli-cache 1 ${stats.ino} ${stats.size} ${stats.mtimeMs}\n`), cache.subarray(newline + 1)]));
    chmodSync(join(dir, `${bundle}.cache`), 0o644);
  }
  return dir;
}

describe('the built CLI', () => {
  it('is CommonJS behind dist/cli.js, and the API beside it stays ESM', async () => {
    expect(lstatSync(join(dist, 'cli.js')).isSymbolicLink()).toBe(true);
    // Run as a program and by its #! (as engines exec it).
    expect(execFileSync(join(dist, 'cli.js'), ['--version'], { encoding: 'utf8' })).toMatch(/^husk version /);
    for (const { bundle } of bundles) expect(readFileSync(join(dist, `${bundle}.cjs`), 'utf8')).not.toMatch(/\bimport\(/);
    const api = (await import(join(dist, 'index.js'))) as Record<string, unknown>;
    expect(typeof api['createContainer']).toBe('function');
  });

  it.each(bundles)('$bundle: uses its own code cache (root-owned, 0644, made at build time)', ({ bundle, argv }) => {
    const cache = statSync(join(dist, `${bundle}.cache`));
    expect(cache.mode & 0o777).toBe(0o644);
    expect(cacheStatus(join(dist, 'cli.js'), argv).status).toBe('used');
  });

  it.each(bundles)('$bundle: skips a cache V8 refuses (other V8 flags) and still runs', ({ argv, output }) => {
    const { status, exit, stdout } = cacheStatus(join(dist, 'cli.js'), argv, ['--no-opt']);
    expect(status).toBe('rejected by V8');
    expect(exit).toBe(0);
    expect(JSON.parse(stdout)).toEqual(output);
  });

  it.each(bundles)('$bundle: uses a copy made right (the test of the copies below can fail)', ({ argv }) => {
    expect(cacheStatus(join(copyCli(), 'cli.cjs'), argv).status).toBe('used');
  });

  it.each(bundles)('$bundle: skips a cache in a directory others can write, with the sticky bit too', ({ argv }) => {
    for (const mode of [0o775, 0o757, 0o1777]) {
      const { status, exit } = cacheStatus(join(copyCli(mode), 'cli.cjs'), argv);
      expect({ mode: mode.toString(8), status, exit }).toEqual({ mode: mode.toString(8), status: 'none', exit: 0 });
    }
  });

  it.each(bundles)('$bundle: skips a cache others can write, one owned by another user, and a link to a cache', ({ bundle, argv }) => {
    const cache = `${bundle}.cache`;
    const groupWritable = copyCli();
    chmodSync(join(groupWritable, cache), 0o664);
    const otherOwner = copyCli();
    chownSync(join(otherOwner, cache), 65534, 65534);
    const linked = copyCli();
    rmSync(join(linked, cache));
    symlinkSync(join(copyCli(), cache), join(linked, cache));
    for (const dir of [groupWritable, otherOwner, linked]) expect(cacheStatus(join(dir, 'cli.cjs'), argv)).toMatchObject({ status: 'none', exit: 0 });
  });

  it.each(bundles)('$bundle: skips a cache made for another bundle (the bundle changed after the build)', ({ bundle, argv }) => {
    const dir = copyCli();
    const file = join(dir, `${bundle}.cjs`);
    const later = new Date(statSync(file).mtimeMs + 5000);
    utimesSync(file, later, later);
    expect(cacheStatus(join(dir, 'cli.cjs'), argv)).toMatchObject({ status: 'none', exit: 0 });
  });

  it("skips the other bundle's cache (each cache holds its own bundle's identity)", () => {
    const dir = copyCli();
    copyFileSync(join(dir, 'cli-bundle.cache'), join(dir, 'cli-light.cache'));
    expect(cacheStatus(join(dir, 'cli.cjs'), bundles[0]!.argv)).toMatchObject({ status: 'none', exit: 0 });
  });
});

describe('which bundle runs a command line', () => {
  it('the light one for the light verbs, wherever the global flags put them; the full one otherwise', () => {
    expect(bundleFor(['state', 'x'])).toBe('cli-light.cjs');
    expect(bundleFor(['--root', '/run/x', '--log', 'start', 'kill', 'x'])).toBe('cli-light.cjs');
    expect(bundleFor(['--log', 'state', 'run', 'x'])).toBe('cli-bundle.cjs');
    expect(bundleFor(['--root', 'state', 'create', 'x'])).toBe('cli-bundle.cjs');
    expect(bundleFor(['--debug', '--root=/r', 'delete', '--force', 'x'])).toBe('cli-light.cjs');
    for (const argv of [[], ['--version'], ['--help'], ['run', 'x'], ['exec', 'x'], ['features']]) expect(bundleFor(argv)).toBe('cli-bundle.cjs');
    for (const verb of ['start', 'state', 'kill', 'delete', 'list', 'pause', 'resume']) expect(bundleFor(['--root', '/r', verb])).toBe('cli-light.cjs');
  });

  it('the light bundle holds none of create, run or exec', () => {
    const light = readFileSync(join(dist, 'cli-light.cjs'), 'utf8');
    for (const module of ['src/cli/create.ts', 'src/cli/run.ts', 'src/cli/exec.ts', 'src/plan/', 'src/runtime/inherited-fds.ts']) expect(light).not.toContain(`// ${module}`);
    expect(light).toContain('// src/runtime/lifecycle.ts');
  });
});

describe("the light cache's training", () => {
  it('runs a created container through start, kill KILL and delete on a stand-in, every step succeeding, and leaves nothing', async () => {
    const dir = join(work, 'train');
    mkdirSync(dir);
    const root = join(dir, 'state');
    (globalThis as Record<symbol, unknown>)[trainingFlag] = true; // the bundle's top level only exports its program
    const { runCli } = compileBundle(dist, bundleNames.light, false, createRequire(import.meta.url)).run() as { runCli: (argv: string[]) => Promise<number> };
    const steps: string[] = [];
    let standIn: number | undefined;
    await trainLifecycle(async (argv) => {
      standIn ??= JSON.parse(readFileSync(join(root, 'train-live', 'state.json'), 'utf8')).pid as number;
      const code = await runCli(argv);
      steps.push(`${argv.slice(2).join(' ')}: ${code}`);
      return code;
    }, root, dir);
    // Each verb did its real work (a failure would only train its error path).
    expect(steps).toEqual(['state train-live: 0', 'start train-live: 0', 'state train-live: 0', 'list --format json: 0', 'kill train-live KILL: 0', 'state train-live: 0', 'delete train-live: 0']);
    expect(existsSync(`/proc/${standIn}`)).toBe(false);
    expect(readdirSync(root)).toEqual([]);
    expect(readdirSync(join(dir, 'cgroup', 'freezer'))).toEqual([]);
    expect(readdirSync(join(dir, 'cgroup', 'unified'))).toEqual([]);
  });
});

describe("the full cache's training", () => {
  it('runs real containers (run, create and delete --force of a bundle, the embedded default), every step succeeding, and leaves nothing', async () => {
    const dir = join(work, 'train-run');
    mkdirSync(dir);
    const root = join(dir, 'state');
    (globalThis as Record<symbol, unknown>)[trainingFlag] = true;
    const { runCli } = compileBundle(dist, bundleNames.full, false, createRequire(import.meta.url)).run() as { runCli: (argv: string[]) => Promise<number> };
    const steps: string[] = [];
    await trainRun(async (argv) => {
      const code = await runCli(argv);
      steps.push(`${argv.slice(4).join(' ')}: ${code}`);
      return code;
    }, root, dir);
    const bundle = join(dir, 'run-bundle');
    // Each step did its real work (a failure would only train its error path); then the force-deletes of the clean-up, of containers already gone.
    expect(steps.slice(0, 4)).toEqual([`run --bundle ${bundle} train-run: 0`, `create --bundle ${bundle} train-create: 0`, 'delete --force train-create: 0', 'run --rm train-default -- true: 0']);
    expect(steps.slice(4)).toEqual(trainingRunIds.map((id) => `delete --force ${id}: 0`));
    expect(existsSync(root) ? readdirSync(root) : []).toEqual([]);
    for (const id of trainingRunIds) expect({ id, cgroups: cgroupDirsNamed(id), processes: processesMatching(id) }).toEqual({ id, cgroups: [], processes: [] });
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dir);
  }, 60_000);
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
