/**
 * A container's process table and tree, by container id: the pids come from the
 * container's cgroup (src/runtime), the rows from /proc or the host's ps (this
 * folder). The dependency runs cli -> ps -> runtime; the runtime knows nothing of ps.
 */
import type { RuntimeOptions } from '../runtime/container.js';
import { containerProcesses } from '../runtime/lifecycle.js';
import { ContainerError } from '../runtime/errors.js';
import type { ContainerStatus } from '../spec/types.js';
import type { PsTable } from './parse.js';
import { processTree, type TreeNode } from './tree.js';
import { top } from './top.js';

export interface ContainerTopOptions {
  /** ps options (default: ps -ef's columns, read from /proc). */
  psArgs?: string[];
}

/** The table, with the container status it was read in (running, paused, created...). */
export type ContainerTop = PsTable & { status: ContainerStatus };

export interface ContainerProcessTree {
  status: ContainerStatus;
  /** Normally one root: the container's init (pid 1 in its pid namespace). */
  roots: TreeNode[];
}

/**
 * The host pids of a container that has processes. A stopped container has none:
 * that is an error (as docker top's "is not running"), not an empty table.
 * An unknown id throws the runtime's ContainerError (code ENOTFOUND).
 */
export function containerPids(rt: RuntimeOptions, id: string): { status: ContainerStatus; pids: number[] } {
  const { status, pids } = containerProcesses(rt, id);
  if (status === 'stopped') {
    throw new ContainerError(`container "${id}" is stopped: it has no processes to show`, 'ESTATE');
  }
  return { status, pids };
}

/**
 * The container's process table as `docker top` gets it: `ps -ef`'s columns by
 * default, or the host's ps with options.psArgs (validated as moby does: PsError
 * for a relabelled PID column or a header-less listing).
 */
export async function containerTop(rt: RuntimeOptions, id: string, options: ContainerTopOptions = {}): Promise<ContainerTop> {
  const { status, pids } = containerPids(rt, id);
  const table = await top(pids, options.psArgs ?? []);
  return { ...table, status };
}

/** The container's processes as a tree, each with its host pid and its pid inside the container. */
export function containerProcessTree(rt: RuntimeOptions, id: string): ContainerProcessTree {
  const { status, pids } = containerPids(rt, id);
  return { status, roots: processTree(pids) };
}
