/**
 * What `husk` (dist/cli.js, a link to dist/cli.cjs) runs first: it compiles one of the CLI's
 * two CommonJS bundles with V8's code cache for it (made at build time by
 * scripts/bundle-cli.mjs after running the verbs once), so that a command deserializes the
 * functions it needs instead of parsing and compiling them:
 *
 *   dist/cli-light.cjs + .cache    the light verbs (src/cli/command-line.ts: start, state, kill,
 *                                  delete, list, pause, resume), chosen from the command line
 *   dist/cli-bundle.cjs + .cache   every verb (and --help, --version)
 *
 * The light one exists because deserializing a cache costs in proportion to its size, and
 * the verbs an engine calls most need a fraction of the code of create and run.
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
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { isLightVerb, verbIndex } from './command-line.js';

/** The bundle with every verb, and the one with only the light verbs. */
export const bundleNames = { full: 'cli-bundle.cjs', light: 'cli-light.cjs' } as const;

/** The code cache of a bundle: dist/cli-bundle.cjs's is dist/cli-bundle.cache. */
export function cacheNameOf(bundleName: string): string {
  return bundleName.replace(/\.cjs$/, '.cache');
}

/** Which bundle runs a command line: the light one for a light verb. */
export function bundleFor(argv: readonly string[]): string {
  return isLightVerb(argv[verbIndex(argv)]) ? bundleNames.light : bundleNames.full;
}

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
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}`);
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

/** Compiles dist/NAME (a bundle), with its code cache when `useCache` and the cache may be trusted. */
export function compileBundle(dir: string, name: string, useCache: boolean, require: NodeJS.Require): CompiledBundle {
  const filename = join(dir, name);
  const fd = openSync(filename, fsConstants.O_RDONLY);
  let source: string;
  let id: string;
  try {
    id = identity(fstatSync(fd));
    source = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  const cachedData = useCache ? readTrustedCache(join(dir, cacheNameOf(name)), id) : undefined;
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

/** dist/cli.cjs: the CLI, from the bundle next to it that the command line needs. */
export function launch(dir: string, require: NodeJS.Require): void {
  const bundle = compileBundle(dir, bundleFor(process.argv.slice(2)), true, require);
  (globalThis as Record<symbol, unknown>)[cacheStatusKey] = bundle.cacheStatus;
  bundle.run();
}

/** Set while the build trains the caches (src/cli/train-cache.ts): a bundle's top level then only exports its program. */
export const trainingFlag = Symbol.for('husk.cli.training');
