/**
 * What the runtime does to a live container's cgroup (runc pause, resume, update,
 * events): thin functions over containerCgroup() and the cgroup manager; `update` merges
 * into the resources last applied (the state's `resources`) as runc merges into its saved config.
 */
import { CgroupError, type CgroupStats, detectCgroups, type LinuxResources, validateResources } from '../cgroups/index.js';
import type { ContainerStatus } from '../spec/types.js';
import type { RuntimeOptions } from './container.js';
import { containerCgroup } from './lifecycle.js';
import { ContainerError, runcPhrase, runcWords } from './errors.js';
import { StateStore } from './state.js';

/**
 * `update`'s merge, as runc update's: every value the patch sets replaces the current one;
 * 0 and "" mean "not set" (runc's convention), so they keep the current value. Memory set to
 * -1 without a swap value makes swap unlimited too. Device rules are not updated (runc sets
 * SkipDevices): the returned `ignored` names what was left out.
 */
export function mergeResources(current: LinuxResources, patch: LinuxResources): { merged: LinuxResources; ignored: string[] } {
  const merged: LinuxResources = structuredClone(current);
  const ignored: string[] = [];
  const set = (v: unknown): boolean => v !== undefined && v !== null && v !== 0 && v !== '';
  const pick = <T extends object>(into: T, from: Partial<T> | undefined): void => {
    for (const [key, value] of Object.entries(from ?? {})) if (set(value)) (into as Record<string, unknown>)[key] = value;
  };
  if (patch.memory !== undefined) {
    const memory = { ...merged.memory };
    pick(memory, patch.memory);
    if (patch.memory.limit === -1 && !set(patch.memory.swap)) memory.swap = -1;
    merged.memory = memory;
  }
  if (patch.cpu !== undefined) {
    const cpu = { ...merged.cpu };
    pick(cpu, patch.cpu);
    // idle 0 is a value (back to normal scheduling), not "unset".
    if (patch.cpu.idle === 0) cpu.idle = 0;
    merged.cpu = cpu;
  }
  if (patch.pids !== undefined && set(patch.pids.limit)) merged.pids = { limit: patch.pids.limit! };
  if (patch.blockIO !== undefined) {
    const blockIO = { ...merged.blockIO };
    pick(blockIO, patch.blockIO);
    merged.blockIO = blockIO;
  }
  if (patch.hugepageLimits !== undefined) {
    const bySize = new Map((merged.hugepageLimits ?? []).map((h) => [h.pageSize, h]));
    for (const h of patch.hugepageLimits) bySize.set(h.pageSize, h);
    merged.hugepageLimits = [...bySize.values()];
  }
  if (patch.unified !== undefined) merged.unified = { ...merged.unified, ...patch.unified };
  if (patch.devices !== undefined) ignored.push('devices');
  if (patch.network !== undefined) ignored.push('network');
  if (patch.rdma !== undefined) ignored.push('rdma');
  return { merged, ignored };
}

/** The patch's sections are objects (the values are checked after the merge, in context). */
function checkSections(patch: LinuxResources): void {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new CgroupError('linux.resources: must be an object', { jsonPath: 'linux.resources', step: 'validate' });
  }
  for (const key of ['memory', 'cpu', 'pids', 'blockIO', 'unified'] as const) {
    const v = patch[key];
    if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) {
      throw new CgroupError(`linux.resources.${key}: must be an object, got ${JSON.stringify(v)}`, { jsonPath: `linux.resources.${key}`, step: 'validate' });
    }
  }
  if (patch.hugepageLimits !== undefined && !Array.isArray(patch.hugepageLimits)) {
    throw new CgroupError('linux.resources.hugepageLimits: must be an array', { jsonPath: 'linux.resources.hugepageLimits', step: 'validate' });
  }
}

/** Runs fn on the container's cgroup, holding the container's lock (no delete meanwhile). */
async function withCgroup<T>(rt: RuntimeOptions, id: string, fn: (c: ReturnType<typeof containerCgroup>, store: StateStore) => Promise<T>): Promise<T> {
  const store = new StateStore(rt.root);
  return store.withLock(id, () => fn(containerCgroup(rt, id), store));
}

function refuse(verb: string, id: string, status: ContainerStatus, phrase: string): never {
  throw new ContainerError(runcWords(phrase, `cannot ${verb} container "${id}": it is ${status}`), 'ESTATE');
}

/** Freezes every process of a running container (runc pause). */
export async function pauseContainer(rt: RuntimeOptions, id: string): Promise<void> {
  await withCgroup(rt, id, async ({ status, cgroup }) => {
    if (status !== 'running') refuse('pause', id, status, runcPhrase.notRunning);
    await cgroup.freeze();
  });
}

/** Thaws a paused container (runc resume). */
export async function resumeContainer(rt: RuntimeOptions, id: string): Promise<void> {
  await withCgroup(rt, id, async ({ status, cgroup }) => {
    if (status !== 'paused') refuse('resume', id, status, runcPhrase.notPaused);
    await cgroup.thaw();
  });
}

/**
 * Changes the limits of a created, running or paused container (runc update): the patch is
 * merged into the resources last applied and the merge validated as a whole (a swap value
 * is checked against the memory limit set earlier) before anything is written. Device rules are never
 * rewritten. Returns what was applied and what of the patch was ignored.
 */
export async function updateContainer(rt: RuntimeOptions, id: string, patch: LinuxResources): Promise<{ applied: LinuxResources; ignored: string[] }> {
  const layout = detectCgroups();
  checkSections(patch);
  return withCgroup(rt, id, async ({ status, cgroup }, store) => {
    if (status === 'stopped') refuse('update', id, status, runcPhrase.notRunning);
    const record = store.read(id);
    // {} for a container whose state predates the record of its resources.
    const current = record.resources ?? {};
    const { merged, ignored } = mergeResources(current, patch);
    validateResources(merged, layout);
    const { devices: _devices, ...withoutDevices } = merged;
    await cgroup.apply(withoutDevices);
    store.write({ ...record, resources: merged });
    return { applied: merged, ignored };
  });
}

/** runc's words for `events --stats` of a stopped container. */
export function statsRefusal(id: string): string {
  return `container with id ${id} is not running`;
}

/** The container's cgroup statistics (runc events --stats); refused for a stopped container. */
export function containerStats(rt: RuntimeOptions, id: string): CgroupStats {
  const { status, cgroup } = containerCgroup(rt, id);
  if (status === 'stopped') throw new ContainerError(statsRefusal(id), 'ESTATE');
  return cgroup.stats();
}
