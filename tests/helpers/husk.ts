/**
 * Drives the built CLI (dist/cli.js) as users and runc-driving tools do, with a
 * private state root and containers placed beneath this test's own cgroup.
 */
import { execa, type Options, type ResultPromise } from 'execa';
import { spawn as spawnProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { afterAll, expect } from 'vitest';
import type { State } from '../../src/spec/types.js';
import type { TestBundle } from './rootfs.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const cliPath = join(repoRoot, 'dist', 'cli.js');
/**
 * Where tests put containers: beneath the test's own cgroup ("self"), unless the runner set up
 * a delegated parent (scripts/vm/delegate.mjs: pure cgroup v2 hosts whose own cgroup is not the root).
 */
export const testCgroupParent = process.env['HUSK_TEST_CGROUP_PARENT'] ?? 'self';

export interface Husk {
  /** The --root state directory. */
  root: string;
  /** The subprocess: await it for the result, or kill() it. Never rejects. */
  run(args: string[], options?: Options): ResultPromise;
  /**
   * For verbs that leave a container running (create, run -d): the container
   * inherits husk's stdio, as with runc, so pipes would never close. Here its
   * stdio are files; the result's stdout/stderr are husk's (and the container's).
   */
  detached(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** `husk state ID`, parsed (asserting husk printed no error). */
  state(id: string): Promise<State>;
  /** Asserts nothing of container `id` is left: no state dir, no cgroup on any hierarchy, no process. */
  expectGone(id: string): void;
  /** Removes every container left and the state root itself. */
  cleanup(): Promise<void>;
}

export function makeHusk(): Husk {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first`);
  const root = mkdtempSync('/run/husk-test-');
  const run = (args: string[], options: Options = {}): ResultPromise =>
    execa('node', [cliPath, '--root', root, '--cgroup-parent', testCgroupParent, ...args], {
      reject: false,
      timeout: 60_000,
      ...options,
    }) as ResultPromise;
  let outputs = 0;
  const detached = async (args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> => {
    // Real fds (execa would put a pipe in between that the container keeps open).
    const base = join(root, `.out-${outputs++}`);
    const out = openSync(`${base}.stdout`, 'w');
    const err = openSync(`${base}.stderr`, 'w');
    const child = spawnProcess('node', [cliPath, '--root', root, '--cgroup-parent', testCgroupParent, ...args], { stdio: ['ignore', out, err] });
    closeSync(out);
    closeSync(err);
    const exitCode = await new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0))));
    const read = (file: string): string => readFileSync(file, 'utf8').replace(/\n$/, '');
    const output = { exitCode, stdout: read(`${base}.stdout`), stderr: read(`${base}.stderr`) };
    rmSync(`${base}.stdout`);
    rmSync(`${base}.stderr`);
    return output;
  };
  return {
    root,
    run,
    detached,
    async state(id) {
      const result = await run(['state', id]);
      expect(result.stderr).toBe('');
      return JSON.parse(String(result.stdout)) as State;
    },
    expectGone(id) {
      expect(existsSync(join(root, id)), 'state directory').toBe(false);
      expect(cgroupDirsNamed(id), 'cgroup directories').toEqual([]);
      expect(processesMatching(id), 'processes').toEqual([]);
    },
    async cleanup() {
      for (const id of existsSync(root) ? readdirSync(root).filter((e) => !e.startsWith('.')) : []) await run(['delete', '--force', id]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Every cgroup directory named `name` on any hierarchy (a leak if the container is gone). */
export function cgroupDirsNamed(name: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry);
      let isDir = false;
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        continue;
      }
      if (!isDir) continue;
      if (entry === name) found.push(path);
      if (depth < 6) walk(path, depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found;
}

/** Live (non-zombie) processes whose command line contains `needle`: a leak if the container is gone. */
export function processesMatching(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (/\) Z /.test(readFileSync(`/proc/${entry}/stat`, 'utf8'))) continue; // a zombie only waits for its reaper
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/**
 * A test file's husk: one private state root, the bundles it makes, ids unique
 * to this run; all removed after the file's tests (every container deleted).
 */
export function useHuskSuite(): { husk: Husk; bundles: TestBundle[]; newId: (what: string) => string } {
  const husk = makeHusk();
  const bundles: TestBundle[] = [];
  let counter = 0;
  afterAll(async () => {
    await husk.cleanup();
    for (const bundle of bundles) await bundle.cleanup();
  });
  return { husk, bundles, newId: (what) => `${what}-${process.pid}-${counter++}` };
}
