/**
 * Checks that only an attempt can answer: create a namespace, pivot_root.
 * Each runs in a throwaway child made by husk's own spawn (src/runtime/spawn.ts),
 * so the answer is what the runtime itself will meet; nothing is left behind.
 */
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NamespaceKind, Probe } from './types.js';

/** The runtime-spec name of each kind (what spawn's `namespaces` takes). */
export const specTypeOf = {
  mnt: 'mount',
  uts: 'uts',
  ipc: 'ipc',
  pid: 'pid',
  net: 'network',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
} as const satisfies Record<NamespaceKind, string>;

export const namespaceKinds: readonly NamespaceKind[] = ['mnt', 'uts', 'ipc', 'pid', 'net', 'user', 'cgroup', 'time'];

type SpawnModule = typeof import('../runtime/spawn.js');

let spawnModule: Promise<SpawnModule | Error> | undefined;

/** husk's spawn, or the reason it cannot load (the addon is not built). */
function loadSpawn(): Promise<SpawnModule | Error> {
  spawnModule ??= import('../runtime/spawn.js').catch((error: unknown) =>
    error instanceof Error ? error : new Error(String(error)),
  );
  return spawnModule;
}

/** A program that exists on any host and exits 0 at once. */
function trivialProgram(): { file: string; args: string[] } {
  for (const file of ['/usr/bin/true', '/bin/true']) {
    if (existsSync(file)) return { file, args: [file] };
  }
  return { file: process.execPath, args: [process.execPath, '-e', ''] };
}

function errorDetail(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Whether a child can be created in a new namespace of `kind` (as this caller:
 * without CAP_SYS_ADMIN only a user namespace can be, so the others are not
 * tried and say so).
 */
export async function canCreateNamespace(kind: NamespaceKind, privileged: boolean): Promise<Probe> {
  if (!privileged && kind !== 'user') return { status: 'not-checked', detail: 'needs root' };
  const loaded = await loadSpawn();
  if (loaded instanceof Error) return { status: 'not-checked', detail: `cannot load husk's spawn: ${firstLine(loaded.message)}` };
  const program = trivialProgram();
  try {
    const child = await loaded.spawn({ ...program, env: [], namespaces: [specTypeOf[kind]], stdio: devNullStdio() });
    const exit = await child.wait();
    if (exit.exitCode === 0) return { status: 'yes' };
    return { status: 'no', detail: `the child exited with ${exit.exitCode ?? exit.signal}` };
  } catch (error) {
    return { status: 'no', detail: errorDetail(error) };
  }
}

let devNull: number | undefined;
function devNullStdio(): [number, number, number] {
  devNull ??= openSync('/dev/null', 'r+');
  return [devNull, devNull, devNull];
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}

/**
 * The pivot_root probe, run by Node in a new mount namespace: mount a tmpfs
 * over a directory (seen only in that namespace), pivot_root into it the way
 * the runtime does (pivot_root(".", ".") then detach the old root), and print
 * the outcome as JSON. The addon path comes in argv.
 */
const pivotScript = `
const addon = require(process.argv[1]);
const c = addon.constants;
const dir = ['/tmp', '/mnt', '/run', '/var/tmp'].find((d) => require('fs').existsSync(d));
let step = 'make / private';
try {
  addon.mount(null, '/', null, c.MS_REC | c.MS_PRIVATE, null);
  step = 'mount tmpfs on ' + dir;
  addon.mount('tmpfs', dir, 'tmpfs', 0, 'size=64k');
  process.chdir(dir);
  step = 'pivot_root(".", ".")';
  addon.pivotRoot('.', '.');
  step = 'umount2(".", MNT_DETACH)';
  addon.umount2('.', c.MNT_DETACH);
  process.stdout.write(JSON.stringify({ ok: true }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, step, message: e.message }));
}
`;

/** pivot_root into a tmpfs, in a throwaway mount namespace. */
export async function probePivotRoot(privileged: boolean, addonPath: string | undefined): Promise<Probe> {
  if (!privileged) return { status: 'not-checked', detail: 'needs root' };
  const loaded = await loadSpawn();
  if (loaded instanceof Error) return { status: 'not-checked', detail: `cannot load husk's spawn: ${firstLine(loaded.message)}` };
  if (addonPath === undefined) return { status: 'not-checked', detail: 'addon not built' };
  // The child's stdout goes to a file: spawn takes fds, and Node has no pipe().
  const dir = mkdtempSync(join(tmpdir(), 'husk-info-'));
  const outFile = join(dir, 'pivot.json');
  const out = openSync(outFile, 'w');
  try {
    const child = await loaded.spawn({
      file: process.execPath,
      args: [process.execPath, '-e', pivotScript, addonPath],
      env: [],
      namespaces: ['mount'],
      stdio: [devNullStdio()[0], out, devNullStdio()[2]],
    });
    const exit = await child.wait();
    const text = readFileSync(outFile, 'utf8');
    if (text === '') return { status: 'no', detail: `the probe printed nothing (exit ${exit.exitCode ?? exit.signal})` };
    const result = JSON.parse(text) as { ok: boolean; step?: string; message?: string };
    if (result.ok) return { status: 'yes' };
    return { status: 'no', detail: `${result.step}: ${result.message}` };
  } catch (error) {
    return { status: 'no', detail: errorDetail(error) };
  } finally {
    closeSync(out);
    rmSync(dir, { recursive: true, force: true });
  }
}
