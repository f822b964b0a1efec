/**
 * The host's cgroup layout, from the mount table: which hierarchies exist,
 * their controllers and mount points, and where this process sits in each.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type MountInfoEntry, parseMountInfo } from './mountinfo.js';
import type { CgroupMode, CgroupReport, CgroupV1Hierarchy, CgroupV2Hierarchy } from './types.js';

/** v1 controllers, for a kernel without /proc/cgroups (CONFIG_CGROUP_V1 off or a future kernel). */
const knownV1Controllers = [
  'cpuset', 'cpu', 'cpuacct', 'blkio', 'memory', 'devices', 'freezer', 'net_cls',
  'perf_event', 'net_prio', 'hugetlb', 'pids', 'rdma', 'misc', 'debug',
];

export interface CgroupSources {
  /** Text of /proc/self/mountinfo. */
  mountinfo: string;
  /** Text of /proc/cgroups, or null when absent. */
  procCgroups: string | null;
  /** Text of /proc/self/cgroup, or null when absent. */
  selfCgroup: string | null;
  /** cgroup.controllers of the unified hierarchy mounted at `mountPoint`. */
  readV2Controllers(mountPoint: string): string[];
}

/** Subsystem names from /proc/cgroups ("#subsys_name hierarchy num_cgroups enabled"). */
export function parseProcCgroups(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.split(/\s+/)[0]!)
    .filter((name) => name !== '');
}

/** /proc/self/cgroup as [controllers of the hierarchy (empty for v2), path]. */
export function parseSelfCgroup(text: string): { controllers: string[]; path: string }[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const first = line.indexOf(':');
      const second = line.indexOf(':', first + 1);
      const controllers = line.slice(first + 1, second);
      return { controllers: controllers === '' ? [] : controllers.split(','), path: line.slice(second + 1) };
    });
}

const sameSet = (a: string[], b: string[]): boolean =>
  a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');

/** Pure: the layout the sources describe. */
export function describeCgroups(sources: CgroupSources): CgroupReport {
  const mounts = parseMountInfo(sources.mountinfo);
  const subsystems = new Set(sources.procCgroups === null ? knownV1Controllers : parseProcCgroups(sources.procCgroups));
  const own = sources.selfCgroup === null ? [] : parseSelfCgroup(sources.selfCgroup);

  // v1: one hierarchy per set of controllers, possibly mounted in several places
  const byControllers = new Map<string, { controllers: string[]; mounts: MountInfoEntry[] }>();
  for (const mount of mounts.filter((m) => m.fsType === 'cgroup')) {
    const controllers = mount.superOptions.filter((o) => subsystems.has(o) || o.startsWith('name='));
    if (controllers.length === 0) continue;
    const key = [...controllers].sort().join(',');
    const group = byControllers.get(key) ?? { controllers, mounts: [] };
    group.mounts.push(mount);
    byControllers.set(key, group);
  }
  const v1: CgroupV1Hierarchy[] = [...byControllers.values()].map(({ controllers, mounts: where }) => {
    // a mount of the hierarchy's root first; others may be binds of a subtree
    const ordered = [...where].sort((a, b) => Number(b.root === '/') - Number(a.root === '/'));
    const hierarchy: CgroupV1Hierarchy = {
      controllers,
      mountPoint: ordered[0]!.mountPoint,
      mountPoints: ordered.map((m) => m.mountPoint),
    };
    const mine = own.find((o) => o.controllers.length > 0 && sameSet(o.controllers, controllers));
    if (mine !== undefined) hierarchy.ownCgroup = mine.path;
    return hierarchy;
  });

  const v2Mounts = mounts.filter((m) => m.fsType === 'cgroup2');
  const v2Mount = v2Mounts.find((m) => m.mountPoint === '/sys/fs/cgroup' && m.root === '/') ??
    v2Mounts.find((m) => m.root === '/') ??
    v2Mounts[0];
  let v2: CgroupV2Hierarchy | null = null;
  if (v2Mount !== undefined) {
    v2 = { mountPoint: v2Mount.mountPoint, controllers: sources.readV2Controllers(v2Mount.mountPoint) };
    const mine = own.find((o) => o.controllers.length === 0);
    if (mine !== undefined) v2.ownCgroup = mine.path;
  }

  const v1HasControllers = v1.some((h) => h.controllers.some((c) => !c.startsWith('name=')));
  let mode: CgroupMode;
  if (v1HasControllers) mode = v2 !== null ? 'hybrid' : 'v1';
  else if (v2 !== null) mode = 'v2';
  else mode = v1.length > 0 ? 'v1' : 'none';
  return { mode, v1, v2 };
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The layout of this host, as this process sees it. */
export function readCgroupReport(): CgroupReport {
  return describeCgroups({
    mountinfo: readFileSync('/proc/self/mountinfo', 'utf8'),
    procCgroups: readOrNull('/proc/cgroups'),
    selfCgroup: readOrNull('/proc/self/cgroup'),
    readV2Controllers: (mountPoint) =>
      (readOrNull(join(mountPoint, 'cgroup.controllers')) ?? '').split(/\s+/).filter((c) => c !== ''),
  });
}
