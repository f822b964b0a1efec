import { closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { planExec } from '../plan/exec.js';
import { NAMESPACE_JOIN_ORDER, type NamespaceType, procNsName } from '../plan/namespaces.js';
import { type Plan, SyncPoint } from '../plan/ops.js';
import type { Process } from '../spec/types.js';
import { validateProcess } from '../spec/validate.js';
import type { RuntimeOptions } from './container.js';
import { managerOf, statusOf } from './lifecycle.js';
import { FdKind } from './channel.js';
import { deliverConsole } from './console.js';
import { sendToSeccompListener } from './seccomp-listener.js';
import { ContainerError, runcPhrase, runcWords } from './errors.js';
import { checkProcessSupport, lastCapability } from './host-support.js';
import { checkPreservedFds } from './inherited-fds.js';
import { setgroupsAllowedHere } from './id-maps.js';
import { launchPlan } from './launch.js';
import type { SpawnedProcess } from './spawn.js';
import { type ContainerRecord, initAlive, StateStore, toOciState } from './state.js';

export interface ExecOptions {
  /** The command; replaces the container's process.args. */
  args: string[];
  /** KEY=VALUE entries added to (or replacing in) the container's process.env. */
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number; additionalGids?: number[] };
  tty?: boolean;
  /** A whole process.json instead of the container's process config (runc exec --process). */
  process?: unknown;
  consoleSocket?: string;
  onConsole?: (masterFd: number) => void;
  preserveFds?: number;
  noNewPrivileges?: boolean;
}

/**
 * Runs a new process in a running container (runc exec): in its namespaces and
 * cgroup, with its process attributes unless overridden. Resolves once the
 * process has exec'd. It is a child of this process (cloned as a sibling of the
 * intermediate that entered the pid namespace, when there is one): wait() reaps it
 * through its pidfd, and once this process exits it passes, or its exit status, to
 * our caller's subreaper (an engine's conmon or shim).
 */
export async function execInContainer(rt: RuntimeOptions, id: string, options: ExecOptions): Promise<SpawnedProcess> {
  const store = new StateStore(rt.root);
  const record = store.read(id);
  const status = statusOf(store, record);
  // As runc: a created container (its init waiting at the start gate) can be entered too.
  if (status === 'stopped') throw new ContainerError(runcWords(runcPhrase.execStopped, `"${id}"`), 'ESTATE');
  if (status === 'paused') throw new ContainerError(runcWords(runcPhrase.execPaused, `"${id}"`), 'ESTATE');
  if (status !== 'running' && status !== 'created') throw new ContainerError(runcWords(runcPhrase.notRunning, `cannot exec in "${id}": it is ${status}`), 'ESTATE');
  const base: Process =
    options.process !== undefined ? validateProcess(options.process, '') : structuredClone(record.process ?? { user: { uid: 0, gid: 0 }, cwd: '/' });
  const process: Process = { ...base, args: options.args.length > 0 ? options.args : (base.args ?? []) };
  if (options.env !== undefined) {
    const names = new Set(options.env.map((e) => e.slice(0, e.indexOf('='))));
    process.env = [...(process.env ?? []).filter((e) => !names.has(e.slice(0, e.indexOf('=')))), ...options.env];
  }
  if (options.cwd !== undefined) process.cwd = options.cwd;
  if (options.user !== undefined) process.user = { ...process.user, ...options.user };
  if (options.tty !== undefined) process.terminal = options.tty;
  if (options.noNewPrivileges) process.noNewPrivileges = true;
  checkProcessSupport(process, options.process !== undefined ? '' : 'process');
  if (process.terminal && options.consoleSocket === undefined && options.onConsole === undefined) {
    throw new ContainerError('exec with a terminal needs --console-socket, or to run attached (husk exec -t)', 'EINVAL');
  }
  checkPreservedFds(options.preserveFds ?? 0);

  // The init's namespaces (and root) are opened first, then the init is checked to still be
  // the container's (its start time): the child joins these very files, through its copy of
  // our fds (/proc/self/fd/N), so an init that dies and whose pid a stranger reuses meanwhile
  // can never make exec join the stranger.
  const init = record.pid!;
  const held: number[] = [];
  const hold = (path: string, flags = 'r'): number | undefined => {
    try {
      const fd = openSync(path, flags);
      held.push(fd);
      return fd;
    } catch {
      return undefined; // a kind this kernel lacks, or the init is gone (checked below)
    }
  };
  try {
    const joins: { type: NamespaceType; path: string }[] = [];
    for (const type of NAMESPACE_JOIN_ORDER) {
      const fd = hold(`/proc/${init}/ns/${procNsName[type]}`);
      if (fd === undefined) continue;
      const theirs = fstatSync(fd);
      const ours = statSync(`/proc/self/ns/${procNsName[type]}`, { throwIfNoEntry: false });
      if (ours !== undefined && ours.ino === theirs.ino && ours.dev === theirs.dev) continue;
      joins.push({ type, path: `/proc/self/fd/${fd}` });
    }
    const root = joins.some((j) => j.type === 'mount') ? undefined : hold(`/proc/${init}/root`, 'r');
    // A rootless container's user namespace may deny setgroups(2) (its own gid mapped alone).
    const setgroups = joins.some((j) => j.type === 'user') ? readSetgroups(init) !== 'deny' : setgroupsAllowedHere();
    if (!initAlive(record)) throw new ContainerError(`cannot exec in container "${id}": it is stopped, not running`, 'ESTATE');
    const plan = planExec({
      process,
      joins,
      lastCap: lastCapability(),
      seccomp: record.seccomp,
      preserveFds: options.preserveFds ?? 0,
      setgroups,
      ...(root !== undefined && { chroot: `/proc/self/fd/${root}` }),
    });
    return await launchExec(plan, record, options);
  } finally {
    for (const fd of held) closeSync(fd);
  }
}

function readSetgroups(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/setgroups`, 'utf8').trim();
  } catch {
    return undefined; // gone (checked next), or a kernel before 3.19
  }
}

async function launchExec(plan: Plan, record: ContainerRecord, options: ExecOptions): Promise<SpawnedProcess> {
  const cgroup = managerOf(record);
  /** The process that runs the program: the child, or the sibling it clones into a pid namespace. */
  let pid: number | undefined;
  const child = await launchPlan(plan, {
    // The intermediate goes in; the process it clones is born there.
    async onSyncPoint(point, handle) {
      if (point === SyncPoint.AfterClone) {
        pid = handle.pid;
        await cgroup?.addProcess(handle.pid);
      }
    },
    onPid: (sibling) => (pid = sibling),
    onFd: (kind, fd) => {
      if (kind === FdKind.SeccompNotify) sendToSeccompListener(record.seccomp, fd, pid!, toOciState(record, 'running'));
      else deliverConsole(options, fd);
    },
  });
  return { pid: child.pid, wait: () => child.wait(), kill: (signal) => child.kill(signal) };
}
