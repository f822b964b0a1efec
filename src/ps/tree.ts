/**
 * The process tree of a set of pids, with each process's pid in its own pid
 * namespace next to its host pid (what `--tree` shows for a container).
 */
import { formatCommand, formatUser, layoutPsTable, type LayoutOptions } from './format.js';
import { pidColumnWidth, ProcReader, readProcess } from './proc.js';

export interface TreeNode {
  /** Host pid (as seen from our pid namespace). */
  pid: number;
  /** The pid inside the process's innermost pid namespace (NSpid's last field); null if the kernel has no NSpid. */
  nsPid: number | null;
  ppid: number;
  uid: number;
  /** User name, or the uid as a number when it has none. */
  user: string;
  /** One-letter state (R, S, D, Z, T...). */
  state: string;
  /** Command line as ps's args column shows it. */
  command: string;
  children: TreeNode[];
}

export type TreeEntry = Omit<TreeNode, 'children'>;

/**
 * Links entries into trees: a process is a root when its parent is not among the
 * entries. Roots and children are in ascending pid order.
 */
export function buildTree(entries: readonly TreeEntry[]): TreeNode[] {
  const nodes = new Map<number, TreeNode>();
  for (const entry of entries) nodes.set(entry.pid, { ...entry, children: [] });
  const roots: TreeNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.ppid !== node.pid ? nodes.get(node.ppid) : undefined;
    if (parent) parent.children.push(node);
    else roots.push(node);
  }
  // Parent links that loop (impossible in one /proc snapshot, possible across pid reuse)
  // would hide processes: make every process not reachable from a root a root itself.
  const reached = new Set<number>();
  const visit = (node: TreeNode): void => {
    if (reached.has(node.pid)) return;
    reached.add(node.pid);
    node.children.forEach(visit);
  };
  roots.forEach(visit);
  for (const node of nodes.values()) {
    if (reached.has(node.pid)) continue;
    const parent = nodes.get(node.ppid);
    if (parent) parent.children = parent.children.filter((c) => c !== node);
    roots.push(node);
    visit(node);
  }
  const byPid = (a: TreeNode, b: TreeNode): number => a.pid - b.pid;
  for (const node of nodes.values()) node.children.sort(byPid);
  return roots.sort(byPid);
}

/** The tree of the live processes among `pids` (processes that exit meanwhile are left out). */
export function processTree(pids: readonly number[]): TreeNode[] {
  const reader = new ProcReader();
  const entries: TreeEntry[] = [];
  for (const pid of new Set(pids)) {
    const info = readProcess(pid);
    if (!info) continue;
    entries.push({
      pid: info.pid,
      nsPid: info.nsPid,
      ppid: info.ppid,
      uid: info.euid,
      user: reader.userName(info.euid) ?? String(info.euid),
      state: info.state,
      command: formatCommand(info.cmdline, info.comm, info.state),
    });
  }
  return buildTree(entries);
}

export const TREE_TITLES = ['PID', 'NSPID', 'USER', 'S', 'COMMAND'];

/**
 * One row per process, depth first, the command indented like `ps --forest`
 * (" \_ " before a child, " |  " under a parent whose later siblings follow).
 */
export function treeRows(roots: readonly TreeNode[]): string[][] {
  const rows: string[][] = [];
  const walk = (node: TreeNode, prefix: string, isChild: boolean, isLast: boolean): void => {
    const branch = isChild ? ' \\_ ' : '';
    rows.push([
      String(node.pid),
      node.nsPid === null ? '-' : String(node.nsPid),
      formatUser(node.user === String(node.uid) ? undefined : node.user, node.uid),
      node.state,
      prefix + branch + node.command,
    ]);
    const childPrefix = isChild ? prefix + (isLast ? '    ' : ' |  ') : prefix;
    node.children.forEach((child, i) => walk(child, childPrefix, true, i === node.children.length - 1));
  };
  roots.forEach((root) => walk(root, '', false, true));
  return rows;
}

/** The tree as text: PID (host), NSPID (in its namespace), USER, S (state), COMMAND. */
export function formatTree(roots: readonly TreeNode[], options: LayoutOptions = {}): string {
  const pidWidth = options.pidWidth ?? pidColumnWidth();
  return layoutPsTable({ titles: [...TREE_TITLES], processes: treeRows(roots) }, { pidWidth });
}
