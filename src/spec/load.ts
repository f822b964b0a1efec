/**
 * Loading a bundle: its directory, config.json, and root filesystem. On the
 * hot path of every `husk create`, so it uses a handful of sync fs calls.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { errnoCode } from '../errors.js';
import { BundleError, SpecError } from './errors.js';
import type { Spec } from './types.js';
import { type ValidateOptions, validateSpec } from './validate.js';

export const CONFIG_FILE = 'config.json';

export interface Bundle {
  /** Absolute and free of symlinks. */
  dir: string;
  /** `<dir>/config.json`. */
  configPath: string;
  /** Validated (see validate.ts). */
  spec: Spec;
  /** root.path resolved against the bundle directory, symlinks resolved; a directory. */
  rootfs: string;
}

/** The 1-based line and column of a character offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** JSON.parse with a BundleError that says where the syntax error is. */
function parseConfig(text: string, configPath: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // V8: "... in JSON at position 11" (newer ones add "(line 2 column 3)"); "Unexpected end of JSON input" has none.
    const match = / in JSON at position (\d+)(?: \(line \d+ column \d+\))?/.exec(message);
    const offset = match ? Number(match[1]) : text.length;
    const reason = (match ? message.slice(0, match.index) + message.slice(match.index + match[0].length) : message).trim();
    const { line, column } = lineAndColumn(text, offset);
    throw new BundleError('config-invalid-json', configPath, `${configPath}: invalid JSON at line ${line}, column ${column}: ${reason}`, {
      line,
      column,
      cause: error,
    });
  }
}

/**
 * Loads and validates a bundle. Errors: BundleError (bundle, config.json or
 * rootfs missing or unusable, invalid JSON) or SpecError with `file` set.
 */
export function loadBundleSync(bundleDir: string, options: ValidateOptions = {}): Bundle {
  const requested = resolve(bundleDir);
  let dir: string;
  try {
    dir = realpathSync.native(requested);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new BundleError('bundle-missing', requested, `bundle ${requested}: no such directory`, { code, cause: error });
    }
    throw new BundleError('bundle-missing', requested, `bundle ${requested}: cannot resolve: ${code ?? String(error)}`, { ...(code ? { code } : {}), cause: error });
  }
  if (!statSync(dir).isDirectory()) {
    throw new BundleError('bundle-not-directory', dir, `bundle ${dir}: not a directory`, { code: 'ENOTDIR' });
  }

  const configPath = join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') {
      throw new BundleError('config-missing', configPath, `${configPath}: no such file (a bundle needs a config.json; 'husk spec' writes one)`, {
        code,
        cause: error,
      });
    }
    throw new BundleError('config-unreadable', configPath, `${configPath}: cannot read: ${code ?? String(error)}`, {
      ...(code ? { code } : {}),
      cause: error,
    });
  }

  let spec: Spec;
  try {
    spec = validateSpec(parseConfig(text, configPath), options);
  } catch (error) {
    if (error instanceof SpecError) error.file = configPath;
    throw error;
  }

  const rootPath = spec.root!.path;
  const wanted = resolve(dir, rootPath);
  let rootfs: string;
  try {
    rootfs = realpathSync.native(wanted);
  } catch (error) {
    const code = errnoCode(error);
    throw new BundleError('rootfs-missing', wanted, `rootfs ${wanted} (root.path ${JSON.stringify(rootPath)}): no such directory`, {
      ...(code ? { code } : {}),
      cause: error,
    });
  }
  if (!statSync(rootfs).isDirectory()) {
    throw new BundleError('rootfs-not-directory', rootfs, `rootfs ${rootfs} (root.path ${JSON.stringify(rootPath)}): not a directory`, {
      code: 'ENOTDIR',
    });
  }
  return { dir, configPath, spec, rootfs };
}

/** loadBundleSync, for callers that prefer a promise. */
export async function loadBundle(bundleDir: string, options: ValidateOptions = {}): Promise<Bundle> {
  return loadBundleSync(bundleDir, options);
}
