/**
 * Which cgroup hierarchies this host has, and where the caller sits in them.
 * Reads /proc/self/mountinfo once (cached); pure parsers are exported for tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMountInfo } from '../sys/mountinfo.js';
import { CgroupError } from './errors.js';

export type CgroupMode = 'v2' | 'hybrid' | 'v1';

export interface CgroupLayout {
  mode: CgroupMode;
  /** Mountpoint of the cgroup2 tree (pure v2: /sys/fs/cgroup; hybrid: usually /sys/fs/cgroup/unified). */
  unifiedMount?: string;
  /** v1 controller (or "name=systemd") -> mountpoint; co-mounted controllers share one. */
  v1Mounts: Record<string, string>;
  /** Controllers available in the cgroup2 tree (its root's cgroup.controllers). */
  v2Controllers: string[];
  /** Mountpoint -> the cgroup path its root shows ("/" except inside a cgroup namespace). */
  mountRoots: Record<string, string>;
}

/** The v1 controllers the kernel knows (anything else in a cgroup mount's options is an option). */
const V1_CONTROLLERS: ReadonlySet<string> = new Set([
  'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio', 'blkio',
  'perf_event', 'hugetlb', 'pids', 'rdma', 'misc',
]);

export interface CgroupMount {
  version: 1 | 2;
  mountpoint: string;
  root: string;
  /** v1: controllers and "name=X"; v2: empty. */
  controllers: string[];
}

/**
 * The cgroup mounts of a mountinfo text. `knownControllers` names what counts as a v1
 * controller among a cgroup mount's super options (anything else is an option, like xattr).
 */
export function parseCgroupMounts(mountinfo: string, knownControllers: ReadonlySet<string> = V1_CONTROLLERS): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const entry of parseMountInfo(mountinfo)) {
    if (entry.fsType === 'cgroup2') {
      mounts.push({ version: 2, mountpoint: entry.mountPoint, root: entry.root, controllers: [] });
    } else if (entry.fsType === 'cgroup') {
      const controllers = entry.superOptions.filter((o) => knownControllers.has(o) || o.startsWith('name='));
      mounts.push({ version: 1, mountpoint: entry.mountPoint, root: entry.root, controllers });
    }
  }
  return mounts;
}

/** The cgroup2 mount to use: /sys/fs/cgroup (pure v2), else /sys/fs/cgroup/unified (hybrid), else the first. */
export function unifiedMountOf(mounts: CgroupMount[]): CgroupMount | undefined {
  const v2Mounts = mounts.filter((m) => m.version === 2);
  return (
    v2Mounts.find((m) => m.mountpoint === '/sys/fs/cgroup') ?? v2Mounts.find((m) => m.mountpoint === '/sys/fs/cgroup/unified') ?? v2Mounts[0]
  );
}

/** The root's cgroup.controllers of the cgroup2 tree mounted at `mountpoint` ([] when unreadable). */
export function readCgroup2Controllers(mountpoint: string): string[] {
  try {
    return readFileSync(join(mountpoint, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** Builds the layout from the mounts; v2Controllers comes from the caller (it needs a file read). */
export function layoutFromMounts(mounts: CgroupMount[], readV2Controllers: (mountpoint: string) => string[]): CgroupLayout {
  const v1Mounts: Record<string, string> = {};
  const mountRoots: Record<string, string> = {};
  for (const m of mounts) {
    if (m.version !== 1) continue;
    for (const c of m.controllers) {
      if (v1Mounts[c] === undefined) {
        v1Mounts[c] = m.mountpoint;
        mountRoots[m.mountpoint] = m.root;
      }
    }
  }
  const unified = unifiedMountOf(mounts);
  const hasV1 = Object.keys(v1Mounts).length > 0;
  if (unified === undefined && !hasV1) {
    throw new CgroupError('no cgroup filesystem is mounted (neither cgroup2 nor any cgroup v1 hierarchy in /proc/self/mountinfo)', {
      path: '/proc/self/mountinfo',
      step: 'detect',
    });
  }
  const layout: CgroupLayout = {
    mode: unified === undefined ? 'v1' : hasV1 ? 'hybrid' : 'v2',
    v1Mounts,
    v2Controllers: unified === undefined ? [] : readV2Controllers(unified.mountpoint),
    mountRoots,
  };
  if (unified !== undefined) {
    layout.unifiedMount = unified.mountpoint;
    mountRoots[unified.mountpoint] = unified.root;
  }
  return layout;
}

let cached: CgroupLayout | undefined;

export function detectCgroups(): CgroupLayout {
  if (cached === undefined) {
    const mounts = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
    cached = layoutFromMounts(mounts, readCgroup2Controllers);
  }
  return cached;
}

/** Whether the host is in cgroup v2 unified mode (a pure v2 host), as runc's IsCgroup2UnifiedMode. */
export function isCgroup2UnifiedMode(): boolean {
  try {
    return detectCgroups().mode === 'v2';
  } catch {
    return false; // no cgroup filesystem at all
  }
}

/** A line of /proc/<pid>/cgroup: "4:memory:/a/b" or "0::/a/b" (v2). */
export interface ProcCgroupEntry {
  id: number;
  controllers: string[];
  path: string;
}

export function parseProcCgroup(text: string): ProcCgroupEntry[] {
  const entries: ProcCgroupEntry[] = [];
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    entries.push({
      id: Number(line.slice(0, first)),
      controllers: line.slice(first + 1, second).split(',').filter(Boolean),
      path: line.slice(second + 1),
    });
  }
  return entries;
}

/**
 * The cgroup path of a process in one hierarchy: a v1 hierarchy is named by any
 * of its controllers; `undefined` names the v2 tree.
 */
export function cgroupOf(entries: ProcCgroupEntry[], controller: string | undefined): string | undefined {
  const entry =
    controller === undefined
      ? entries.find((e) => e.id === 0 && e.controllers.length === 0)
      : entries.find((e) => e.controllers.includes(controller));
  return entry?.path;
}

export function ownCgroups(): ProcCgroupEntry[] {
  return parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
}
