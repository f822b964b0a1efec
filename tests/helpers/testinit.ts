/**
 * husk-testinit, the static multi-tool the tests put in otherwise empty rootfs
 * (native/tools/testinit.c). It is built for the tests only, never by `npm
 * install` (which then needs no static libc): by the vitest global setup
 * (tests/helpers/global-setup.ts) and by whatever else uses the test bundles
 * (the bench), when it is missing or older than its source.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const source = join(repoRoot, 'native', 'tools', 'testinit.c');

/** Where it is built (outside build/Release: node-gyp rebuild does not remove it). */
export const testinitBinary = join(repoRoot, 'build-test', 'husk-testinit');

/** Builds testinit when it is missing or stale; returns its path. Throws with the compiler's output on failure. */
export function ensureTestinit(): string {
  if (existsSync(testinitBinary) && statSync(testinitBinary).mtimeMs >= statSync(source).mtimeMs) return testinitBinary;
  mkdirSync(dirname(testinitBinary), { recursive: true });
  // Built beside and renamed: test files may ask for it at the same time.
  const temp = `${testinitBinary}.${process.pid}.tmp`;
  const cc = process.env.CC ?? 'cc';
  const run = spawnSync(cc, ['-O2', '-Wall', '-static', '-o', temp, source], { encoding: 'utf8' });
  if (run.status !== 0) {
    rmSync(temp, { force: true });
    throw new Error(
      `building ${testinitBinary} failed (${cc} -static: it needs a static libc, Debian's libc6-dev):\n${run.stderr ?? run.error}`,
    );
  }
  renameSync(temp, testinitBinary);
  return testinitBinary;
}
