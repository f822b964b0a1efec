/**
 * The host's cgroup layout for `husk info`, built on the cgroups library's parsing
 * (src/cgroups/detect.ts): which hierarchies exist, their controllers and mount
 * points, and where this process sits in each. Unlike detectCgroups it keeps every
 * mount of a v1 hierarchy and reports a host without cgroups ("none") instead of failing.
 */
import { readFileSync } from 'node:fs';
import { type CgroupMount, cgroupOf, parseCgroupMounts, parseProcCgroup, readCgroup2Controllers, unifiedMountOf } from '../cgroups/detect.js';
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

/** Pure: the layout the sources describe. */
export function describeCgroups(sources: CgroupSources): CgroupReport {
  // what this kernel calls a controller; the rest of a cgroup mount's options are options
  const subsystems = new Set(sources.procCgroups === null ? knownV1Controllers : parseProcCgroups(sources.procCgroups));
  const mounts = parseCgroupMounts(sources.mountinfo, subsystems);
  const own = sources.selfCgroup === null ? [] : parseProcCgroup(sources.selfCgroup);

  // v1: one hierarchy per set of controllers, possibly mounted in several places
  const byControllers = new Map<string, { controllers: string[]; mounts: CgroupMount[] }>();
  for (const mount of mounts) {
    if (mount.version !== 1 || mount.controllers.length === 0) continue;
    const key = [...mount.controllers].sort().join(',');
    const group = byControllers.get(key) ?? { controllers: mount.controllers, mounts: [] };
    group.mounts.push(mount);
    byControllers.set(key, group);
  }
  const v1: CgroupV1Hierarchy[] = [...byControllers.values()].map(({ controllers, mounts: where }) => {
    // a mount of the hierarchy's root first; others may be binds of a subtree
    const ordered = [...where].sort((a, b) => Number(b.root === '/') - Number(a.root === '/'));
    const hierarchy: CgroupV1Hierarchy = {
      controllers,
      mountPoint: ordered[0]!.mountpoint,
      mountPoints: ordered.map((m) => m.mountpoint),
    };
    const mine = cgroupOf(own, controllers[0]);
    if (mine !== undefined) hierarchy.ownCgroup = mine;
    return hierarchy;
  });

  // the same cgroup2 mount the runtime uses
  const v2Mount = unifiedMountOf(mounts);
  let v2: CgroupV2Hierarchy | null = null;
  if (v2Mount !== undefined) {
    v2 = { mountPoint: v2Mount.mountpoint, controllers: sources.readV2Controllers(v2Mount.mountpoint) };
    const mine = cgroupOf(own, undefined);
    if (mine !== undefined) v2.ownCgroup = mine;
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
    readV2Controllers: readCgroup2Controllers,
  });
}
