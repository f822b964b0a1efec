import type { IdMapping, NamespaceType } from '../plan/namespaces.js';
import { describeCloneFlags } from '../plan/namespaces.js';
import { SyncPoint } from '../plan/ops.js';
import { planSpawn, type SpawnPlanInput } from '../plan/spawn.js';
import { ChildHandle, type Exit } from './child.js';
import { SetupError } from './errors.js';
import { type IdMapWriter, planIdMapWrites, writeIdMapsWith } from './id-maps.js';
import { launchPlan } from './launch.js';

/** planSpawn's input, with defaults for argv, the environment and the namespaces. */
export interface SpawnOptions extends Omit<SpawnPlanInput, 'args' | 'env' | 'namespaces'> {
  /** argv, including argv[0] (default [file]). */
  args?: string[];
  /** Environment (default: this process's). */
  env?: Record<string, string | undefined> | string[];
  namespaces?: NamespaceType[];
  /** Called while the child waits after clone: e.g. put it in a cgroup. */
  beforeRelease?(pid: number): void | Promise<void>;
}

export interface SpawnedProcess {
  readonly pid: number;
  wait(): Promise<Exit>;
  kill(signal?: NodeJS.Signals | number): boolean;
}

function envList(env: SpawnOptions['env']): string[] {
  if (Array.isArray(env)) return env;
  return Object.entries(env ?? process.env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
}

/**
 * Forks (clone3) a single-threaded child in new namespaces and execs `file` in it.
 * Resolves once exec has succeeded; rejects with a SetupError naming the step
 * and errno of any failure before that (the child is then already reaped).
 */
export async function spawn(options: SpawnOptions): Promise<SpawnedProcess> {
  const namespaces = options.namespaces ?? [];
  const { beforeRelease, ...planInput } = options;
  const plan = planSpawn({ ...planInput, args: options.args ?? [options.file], env: envList(options.env), namespaces });
  // Checked before the clone: a mapping this caller may not write fails here.
  const idMaps = namespaces.includes('user') ? planIdMapWrites(options.uidMap, options.gidMap, { uid: 'uidMap', gid: 'gidMap' }) : undefined;
  let child: ChildHandle;
  try {
    child = await launchPlan(plan, {
      async onSyncPoint(point, handle) {
        if (point !== SyncPoint.AfterClone) return;
        await beforeRelease?.(handle.pid);
        if (idMaps !== undefined) writeIdMaps(handle.pid, options.uidMap, options.gidMap, idMaps);
      },
    });
  } catch (error) {
    if ((error as { syscall?: string }).syscall?.startsWith('clone')) {
      const e = error as Error & { code: string; errno: number };
      throw new SetupError(`clone3(${describeCloneFlags(plan.cloneFlags)})`, -e.errno);
    }
    throw error;
  }
  return child;
}

/**
 * Writes uid_map and gid_map of a child waiting in a new user namespace: directly, or
 * rootless through newuidmap/newgidmap (src/runtime/id-maps.ts), checked first.
 */
export function writeIdMaps(
  pid: number,
  uidMap: IdMapping[] | undefined,
  gidMap: IdMapping[] | undefined,
  writer: IdMapWriter = planIdMapWrites(uidMap, gidMap, { uid: 'uidMap', gid: 'gidMap' }),
): void {
  writeIdMapsWith(writer, pid, uidMap, gidMap);
}
