/**
 * A container's process table the way `docker top` / `runc ps` show it, given the
 * host pids of its processes (the runtime takes them from the container's cgroup).
 *
 * - top(pids, psArgs): the default columns (`ps -ef`) come from /proc (no ps needed,
 *   faster, same fields); any other ps options run the host's ps and filter its rows.
 * - processTree / formatTree: the tree with host and in-namespace pids.
 */
import { layoutPsTable, type LayoutOptions } from './format.js';
import type { PsTable } from './parse.js';
import { pidColumnWidth } from './proc.js';

export { PsError, type PsErrorReason } from './errors.js';
export { parsePsOutput, validatePsArgs, type PsTable } from './parse.js';
export { cpuPercent, formatCpuTime, formatStartTime, formatUser, type LayoutOptions } from './format.js';
export { procTable, readProcess, PS_EF_TITLES, type ProcessInfo } from './proc.js';
export { psTable } from './run.js';
export { buildTree, formatTree, processTree, type TreeEntry, type TreeNode } from './tree.js';
export { isDefaultListing, top } from './top.js';

/** Docker Engine API's container top body. */
export interface DockerTop {
  Titles: string[];
  Processes: string[][];
}

export function toDockerTop(table: PsTable): DockerTop {
  return { Titles: [...table.titles], Processes: table.processes.map((row) => [...row]) };
}

/**
 * The table as ps prints it: procps's column widths and alignment; a command with
 * spaces stays in its cell. Pid columns are as wide as this pid namespace's pid_max.
 */
export function formatPsTable(table: PsTable, options: LayoutOptions = {}): string {
  return layoutPsTable(table, { pidWidth: options.pidWidth ?? pidColumnWidth() });
}

export {
  containerPids,
  containerProcessTree,
  containerTop,
  type ContainerProcessTree,
  type ContainerTop,
  type ContainerTopOptions,
} from './container.js';
