/**
 * What `husk` (dist/cli.js, a link to dist/cli.cjs) runs first: it compiles the CLI's
 * CommonJS bundle (dist/cli-bundle.cjs) with V8's code cache for it (dist/cli-bundle.cache,
 * made at build time by scripts/bundle-cli.mjs after running the verbs once), so that a
 * command deserializes the functions it needs instead of parsing and compiling them.
 *
 * The cache is executable code, run as root: it is used only when it and its directory are
 * owned by root or by the invoking user and writable by no one else, only for the very
 * bundle file it was made from (its inode, size and mtime are in the cache's first line),
 * and only when V8 accepts it (same Node, same flags; otherwise `cachedDataRejected`, and
 * the bundle compiles from source). Any doubt means no cache, silently.
 * Code compiled by vm.Script cannot use dynamic import() on Node 20: the bundle has none
 * (scripts/bundle-cli.mjs checks).
 */
import { closeSync, constants as fsConstants, fchmodSync, fstatSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

export const bundleName = 'cli-bundle.cjs';
export const cacheName = 'cli-bundle.cache';
const magic = 'husk-cli-cache 1';

/** The function a CommonJS module's code becomes (as Node's loader wraps it). */
type ModuleFunction = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;

/** A trusted file or directory: owned by root or by the invoking user, writable by no one else. */
export function ownedSafely(stats: { uid: number; mode: number }, euid: number = process.geteuid?.() ?? -1): boolean {
  return (stats.uid === 0 || stats.uid === euid) && (stats.mode & 0o022) === 0;
}

/** Which bundle file a cache belongs to. */
function identity(stats: { ino: number; size: number; mtimeMs: number }): string {
  return `${stats.ino} ${stats.size} ${stats.mtimeMs}`;
}

/** The V8 data of the cache at `path` when it may be trusted for this bundle, else undefined; never throws. */
export function readTrustedCache(path: string, bundle: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile() || !ownedSafely(stats) || !ownedSafely(statSync(dirname(path)))) return undefined;
    const data = readFileSync(fd);
    const newline = data.indexOf(10);
    if (newline < 0 || data.toString('latin1', 0, newline) !== `${magic} ${bundle}`) return undefined;
    return data.subarray(newline + 1);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes the cache atomically: a new temp file (O_EXCL, 0644) in the same directory,
 * renamed over the old one. Refused where the directory is not trusted (the reader
 * would not use it).
 */
export function writeTrustedCache(path: string, bundle: string, data: Buffer): void {
  const dir = dirname(path);
  if (!ownedSafely(statSync(dir))) throw new Error(`${dir} is writable by others or owned by someone else: no code cache written there`);
  // O_EXCL: a name someone else made (or a leftover) fails, it is never written through.
  const temp = join(dir, `.${cacheName}.${process.pid}.${Date.now()}`);
  const fd = openSync(temp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o644);
  try {
    try {
      fchmodSync(fd, 0o644); // whatever the umask
      const content = Buffer.concat([Buffer.from(`${magic} ${bundle}\n`, 'latin1'), data]);
      for (let done = 0; done < content.length; ) done += writeSync(fd, content, done);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // renamed already, or gone
    }
    throw error;
  }
}

export interface CompiledBundle {
  script: Script;
  /** Which bundle file this is (for the cache's first line). */
  identity: string;
  /** "used", "rejected by V8" (another Node version or other flags), or "none" (missing or not trusted). */
  cacheStatus: 'used' | 'rejected by V8' | 'none';
  /** Runs the bundle's top level as a CommonJS module of `dir`; returns its exports. */
  run(): Record<string, unknown>;
}

/** Compiles dist/cli-bundle.cjs, with its code cache when `useCache` and the cache may be trusted. */
export function compileBundle(dir: string, useCache: boolean, require: NodeJS.Require): CompiledBundle {
  const filename = join(dir, bundleName);
  const fd = openSync(filename, fsConstants.O_RDONLY);
  let source: string;
  let id: string;
  try {
    id = identity(fstatSync(fd));
    source = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  const cachedData = useCache ? readTrustedCache(join(dir, cacheName), id) : undefined;
  // The wrapper's first line is the bundle's first line: stack traces keep their line numbers.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename,
    ...(cachedData !== undefined && { cachedData }),
  });
  return {
    script,
    identity: id,
    cacheStatus: cachedData === undefined ? 'none' : script.cachedDataRejected === true ? 'rejected by V8' : 'used',
    run() {
      const module = { exports: {} };
      (script.runInThisContext() as ModuleFunction).call(module.exports, module.exports, require, module, filename, dir);
      return module.exports as Record<string, unknown>;
    },
  };
}

/** What became of the code cache in this process (`husk --debug` says it). */
export const cacheStatusKey = Symbol.for('husk.cli.codeCache');

/** dist/cli.cjs: the CLI, from the bundle next to it. */
export function launch(dir: string, require: NodeJS.Require): void {
  const bundle = compileBundle(dir, true, require);
  (globalThis as Record<symbol, unknown>)[cacheStatusKey] = bundle.cacheStatus;
  bundle.run();
}

/** Set while the build trains the cache: the bundle then only exports runCli (src/cli.ts). */
export const trainingFlag = Symbol.for('husk.cli.training');

/** The command lines the cache is trained on, with `root` as the state root (no container in it). */
export function trainingCommandLines(root: string, verbs: string[]): string[][] {
  const r = ['--root', root];
  return [
    ['--version'],
    ['--help'],
    ...verbs.map((verb) => [verb, "--help"]),
    [...r, 'list'],
    [...r, 'list', '--format', 'json'],
    [...r, 'state', 'train'],
    [...r, 'start', 'train'],
    [...r, 'kill', 'train', 'KILL'],
    [...r, 'kill', '--all', 'train', 'KILL'],
    [...r, 'delete', 'train'],
    [...r, 'delete', '--force', 'train'],
    [...r, 'pause', 'train'],
    [...r, 'resume', 'train'],
  ];
}

/**
 * The build's trainer (scripts/bundle-cli.mjs runs it with stdout and stderr leading
 * nowhere): runs the verbs once in this process, then writes what V8 compiled as the
 * cache of dist/ (V8 caches every function compiled so far). Reports on fd 3.
 */
export async function trainAndWrite(dir: string, stateRoot: string, require: NodeJS.Require): Promise<void> {
  const report = (text: string): void => {
    try {
      writeSync(3, text + '\n');
    } catch {
      // no one listening
    }
  };
  try {
    (globalThis as Record<symbol, unknown>)[trainingFlag] = true;
    const bundle = compileBundle(dir, false, require);
    const { runCli, verbNames } = bundle.run() as { runCli: (argv: string[]) => Promise<number>; verbNames: () => string[] };
    for (const argv of trainingCommandLines(stateRoot, verbNames())) await runCli(argv);
    const data = bundle.script.createCachedData();
    writeTrustedCache(join(dir, cacheName), bundle.identity, data);
    report(`code cache: ${join(dir, cacheName)} (${(data.length / 1024).toFixed(0)} KiB)`);
    process.exit(0);
  } catch (error) {
    report(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
