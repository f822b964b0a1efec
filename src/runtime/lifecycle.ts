/**
 * The lifecycle verbs after create, for a container that exists: start, state, kill,
 * delete, list (and the cgroup and processes other verbs read). Each runs in a short
 * CLI process that an engine starts several times per container, so this module
 * imports only what they use: the state store, the cgroup manager, the addon's pidfd
 * calls (loaded on first use). The hooks runner, the notify relay and the image store
 * load only for a container that has hooks, a notify socket or an image.
 * src/runtime/container.ts re-exports them with createContainer and runContainer.
 */
import { closeSync, constants as fsConstants, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { type CgroupManager, loadCgroupManager } from '../cgroups/manager.js';
import { errnoCode } from '../errors.js';
import { native } from '../native/index.js';
import type { ContainerStatus, Hook, HookName, State } from '../spec/types.js';
import type { RuntimeOptions, StartOptions } from './container.js';
import { ContainerError, runcPhrase, runcWords } from './errors.js';
import type { NotifyRelay } from './notify.js';
import { containerNotFound, type ContainerRecord, deriveStatus, initAlive, StateStore, toOciState, validateId } from './state.js';

export function warnTo(rt: RuntimeOptions): (message: string) => void {
  return rt.warn ?? ((message) => process.stderr.write(`husk: ${message}\n`));
}

/** Unmounts the container's overlay and removes its own layer. */
export async function removeImageLayer(image: NonNullable<ContainerRecord['image']>): Promise<void> {
  const { ImageStore } = await import('../image/store.js');
  new ImageStore(image.store).removeContainerLayer(image.layer);
}

/** Runs a stage's hooks whose failures are warnings (poststart, poststop): the hooks runner loads only when there are some. */
async function runHooksWarnOnly(name: HookName, hooks: Hook[] | undefined, state: State, warn: (message: string) => void): Promise<void> {
  if (hooks === undefined || hooks.length === 0) return;
  const hooksRunner = await import('./hooks.js');
  await hooksRunner.runHooksWarnOnly(name, hooks, state, warn);
}

export function managerOf(record: ContainerRecord): CgroupManager | undefined {
  return record.cgroup === undefined ? undefined : loadCgroupManager(record.cgroup as Parameters<typeof loadCgroupManager>[0]);
}

export function statusOf(store: StateStore, record: ContainerRecord): ContainerStatus {
  return deriveStatus(store, record, () => {
    try {
      return managerOf(record)?.isFrozen() ?? false;
    } catch {
      return false;
    }
  });
}

/** Why `start` refuses a container that is not created, in runc's words. */
function startRefusal(id: string, status: ContainerStatus): string {
  if (status === 'running') return runcWords(runcPhrase.startRunning, `"${id}"`);
  if (status === 'stopped') return runcWords(runcPhrase.startStopped, `"${id}"`);
  return `cannot start a container in the ${status} state: "${id}"`;
}

/**
 * Releases the init from its start gate (runc start). With a notify socket, resolves
 * once the container said READY (relayed) or its init exited, as runc start does.
 */
export async function startContainer(rt: RuntimeOptions, id: string, options: StartOptions = {}): Promise<void> {
  const relay = await releaseGate(rt, id, options);
  await relay?.relay();
}

/** Opens the gate; returns the notify relay to await, when there is one. */
export async function releaseGate(rt: RuntimeOptions, id: string, options: StartOptions): Promise<{ relay(): Promise<void> } | undefined> {
  const store = new StateStore(rt.root);
  let notify: NotifyRelay | undefined;
  const record = await store.withLock(id, async () => {
    const current = store.read(id);
    const status = statusOf(store, current);
    if (status !== 'created') throw new ContainerError(startRefusal(id, status), 'ESTATE');
    // Listening before the gate opens: the container cannot say READY before we hear it.
    if (options.notifySocket !== undefined) notify = (await import('./notify.js')).openNotifyRelay(store.dir(id), options.notifySocket);
    const gate = store.gatePath(id);
    let fd: number;
    try {
      // Non-blocking: opening for writing fails with ENXIO when the init (the reader) is gone.
      fd = openSync(gate, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
    } catch (error) {
      notify?.close();
      if ((error as { code?: string }).code === 'ENXIO') throw new ContainerError(`cannot start container "${id}": its init is gone`, 'ESTATE');
      throw error;
    }
    try {
      writeSync(fd, '0');
    } catch (error) {
      notify?.close();
      throw error;
    } finally {
      closeSync(fd);
    }
    unlinkSync(gate);
    return current;
  });
  await runHooksWarnOnly('poststart', record.hooks?.poststart, toOciState(record, 'running'), warnTo(rt));
  const relay = notify;
  return relay === undefined || record.pid === undefined ? (relay?.close(), undefined) : { relay: () => relay.relay(record.pid!) };
}

/** The state JSON of runtime.md. */
export function containerState(rt: RuntimeOptions, id: string): State {
  const store = new StateStore(rt.root);
  const record = store.read(id);
  return toOciState(record, statusOf(store, record));
}

/** The container's processes (host pids, from its cgroup) and its status. */
export function containerProcesses(rt: RuntimeOptions, id: string): { status: ContainerStatus; pids: number[] } {
  const store = new StateStore(rt.root);
  const record = store.read(id);
  const status = statusOf(store, record);
  if (status === 'stopped') return { status, pids: [] };
  const manager = managerOf(record);
  const pids = manager?.pids() ?? (record.pid !== undefined ? [record.pid] : []);
  return { status, pids };
}

/** The cgroup manager of a container (for pause, resume, update, events). */
export function containerCgroup(rt: RuntimeOptions, id: string): { status: ContainerStatus; cgroup: CgroupManager } {
  const store = new StateStore(rt.root);
  const record = store.read(id);
  const cgroup = managerOf(record);
  if (cgroup === undefined) throw new ContainerError(`container "${id}" has no cgroup`, 'ESTATE');
  return { status: statusOf(store, record), cgroup };
}

/** Signals the init, or with `all` every process of the container. */
export async function killContainer(rt: RuntimeOptions, id: string, signal: number, all = false): Promise<void> {
  const store = new StateStore(rt.root);
  const record = store.read(id);
  const status = statusOf(store, record);
  // As runc: --all of a stopped container signals whatever is left in its cgroup (nothing,
  // once it has its own pid namespace) and succeeds; containerd's shim sends `kill --all ID 9`
  // after an init exits and on `ctr task rm -f`.
  if (status === 'stopped' && !all) throw new ContainerError(runcWords(runcPhrase.notRunning, `cannot kill "${id}": it is stopped`), 'ESTATE');
  const cgroup = managerOf(record);
  if (all && cgroup !== undefined) {
    // Through pidfds, to members only (SIGKILL: cgroup.kill where the kernel has it).
    await cgroup.killAll(signal);
  } else {
    signalInit(record, signal);
  }
  // A frozen process only dies once thawed.
  if (status === 'paused' && signal === osConstants.signals.SIGKILL) await cgroup?.thaw();
}

/**
 * Signals the init through a pidfd, after checking it is still our init (not a reused pid).
 * False when it is gone; any other failure to reach it throws (a kill that sent nothing must
 * not succeed).
 */
function signalInit(record: ContainerRecord, signal: number): boolean {
  if (record.pid === undefined) return false;
  let pidfd: number;
  try {
    pidfd = native.pidfdOpen(record.pid);
  } catch (error) {
    if (errnoCode(error) === 'ESRCH') return false;
    throw error;
  }
  try {
    if (!initAlive(record)) return false;
    native.pidfdSendSignal(pidfd, signal);
    return true;
  } finally {
    native.closeRange(pidfd, pidfd);
  }
}

/** Waits until a process (not necessarily our child) has exited, or the timeout passes. */
async function waitExited(record: ContainerRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (initAlive(record)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

/** Removes a stopped (or, with force, any) container and everything it had. */
export async function deleteContainer(rt: RuntimeOptions, id: string, force = false): Promise<void> {
  const store = new StateStore(rt.root);
  validateId(id);
  if (!store.exists(id)) {
    if (force) return;
    throw containerNotFound(id);
  }
  await store.withLock(id, async () => {
    const record = store.read(id);
    const status = statusOf(store, record);
    if (!force && (status === 'running' || status === 'paused' || (status === 'creating' && initAlive(record)))) {
      throw new ContainerError(`cannot delete container ${id} that is not stopped: ${status} (stop it first, or use --force)`, 'ESTATE');
    }
    const cgroup = managerOf(record);
    // Stopped, with nothing left in its cgroup (the common case): one rmdir per hierarchy.
    if (!(status === 'stopped' && cgroup?.removeIfEmpty?.() === true)) {
      signalInit(record, osConstants.signals.SIGKILL);
      if (cgroup !== undefined) {
        if (status === 'paused') await cgroup.thaw().catch(() => {});
        await cgroup.killAll(osConstants.signals.SIGKILL);
      }
      if (!(await waitExited(record, 10_000))) throw new ContainerError(`container "${id}": init ${record.pid} did not die`, 'ESTATE');
      await cgroup?.destroy();
    }
    if (record.image !== undefined) await removeImageLayer(record.image);
    if (record.phase === 'created') {
      await runHooksWarnOnly('poststop', record.hooks?.poststop, toOciState(record, 'stopped'), warnTo(rt));
    }
    store.remove(id);
  });
}

/** One row of `list`: the fields of runc's `list --format json`. */
export interface ListEntry {
  id: string;
  pid: number;
  status: ContainerStatus;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

export function listContainers(rt: RuntimeOptions): ListEntry[] {
  const store = new StateStore(rt.root);
  const entries: ListEntry[] = [];
  for (const id of store.ids()) {
    let record: ContainerRecord;
    try {
      record = store.read(id);
    } catch {
      continue; // removed meanwhile
    }
    const status = statusOf(store, record);
    const uid = statSync(store.dir(id)).uid;
    entries.push({
      id,
      pid: status === 'stopped' ? 0 : (record.pid ?? 0),
      status,
      bundle: record.bundle,
      rootfs: record.rootfs,
      created: record.created,
      owner: uid === 0 ? 'root' : String(uid),
      ...(record.annotations !== undefined && { annotations: record.annotations }),
    });
  }
  return entries;
}
