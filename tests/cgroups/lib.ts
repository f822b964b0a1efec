/**
 * Helpers for the cgroup tests on the host (tests/cgroups) and in the pure-v2 VM (tests/vm):
 * real processes (the static husk-testinit) moved into a real cgroup beneath our own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTestinit, testinitBinary } from '../helpers/testinit.js';
import { createCgroupManager, resolveCgroupsPath, type CgroupManager } from '../../src/cgroups/index.js';

export const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const testinit = testinitBinary;

export function requireTestinit(): void {
  ensureTestinit();
}

const made: CgroupManager[] = [];
let counter = 0;

/** Where test cgroups go: beneath our own cgroup, or the delegated parent of scripts/vm/delegate.mjs. */
export const testCgroupParent = process.env['HUSK_TEST_CGROUP_PARENT'] ?? 'self';

/** A new cgroup beneath the test process's own cgroup in every hierarchy (parent "self"). */
export function newCgroup(label: string, prefix = ''): CgroupManager {
  const name = `${prefix}husk-test-${process.pid}-${label}-${counter++}`;
  const m = createCgroupManager(resolveCgroupsPath(name, name, testCgroupParent));
  made.push(m);
  return m;
}

/** afterAll: kill whatever is left and remove every cgroup the file made. */
export async function cleanupCgroups(): Promise<void> {
  for (const m of made.splice(0)) {
    try {
      if (m.isFrozen()) await m.thaw();
    } catch {
      /* not created */
    }
    await m.killAll();
    await m.destroy();
  }
}

export interface Gated {
  child: ChildProcess;
  pid: number;
  /** Lets the child exec its command (after it has been put into the cgroup). */
  release(): void;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `sh` waits for a line on stdin, then execs the command: the test moves the pid into
 * the cgroup first, as the runtime does before it releases a container's init.
 */
export function spawnGated(command: string[]): Gated {
  const child = spawn('/bin/sh', ['-c', 'read _gate; exec "$@"', 'sh', ...command], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  if (child.pid === undefined) throw new Error(`spawning ${command.join(' ')} failed`);
  return {
    child,
    pid: child.pid,
    release: () => child.stdin!.end('go\n'),
    output: () => out,
    exited,
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` is true (no timing assertion: a generous bound, then a clear failure). */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
