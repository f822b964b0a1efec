/**
 * Rootless containers: what `create` changes and checks when husk runs without the
 * host's root (src/sys/rootless.ts says when), the way runc and crun run rootless.
 *
 * - A user namespace always: a config without one gets one (as crun adds it), mapping
 *   the caller's own uid and gid to 0; the mounts' uid=/gid= options that name ids this
 *   namespace does not map (runc's default devpts gid=5) are dropped then, as runc's
 *   `spec --rootless` drops them. A config's own mappings are checked against what the
 *   caller may map (src/runtime/id-maps.ts), and their uid=/gid= options must be mapped
 *   (runc's rootlessEUIDMount).
 * - cgroups: a container gets one only where the caller was delegated a cgroup v2 subtree
 *   (it may create the cgroup and move its init there); otherwise none, and resource limits
 *   are refused before anything is created (runc's `--rootless auto`). Device rules
 *   cannot be enforced without root (no device controller, no cgroup BPF program): device
 *   nodes are the host's own, bound with their permissions, so a rule that would deny one
 *   is refused.
 * - rlimits above the caller's hard limits, a lower oom_score_adj and additional groups
 *   where setgroups is denied are refused with what to change, not left to EPERM.
 */
import { accessSync, constants as fsConstants, existsSync, lstatSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type CgroupLayout, createCgroupManager } from '../cgroups/index.js';
import { ownCgroups } from '../cgroups/detect.js';
import { type IdMapping, isMapped } from '../plan/namespaces.js';
import { SpecError } from '../spec/errors.js';
import { RLIM_INFINITY, rlimitValue } from '../spec/rlimits.js';
import type { LinuxDeviceCgroup, LinuxResources, Mount, Spec } from '../spec/types.js';
import { HuskError } from '../errors.js';
import { idsOfOwnNamespace, inUserNamespace, isUnprivilegedUser } from '../sys/rootless.js';

/**
 * A rootless state root must be the caller's own: one under a shared directory ($TMPDIR/husk-UID
 * when there is no XDG_RUNTIME_DIR) that someone else made first, or that others may write,
 * would let them tamper with the containers' state. Refused, before anything is written there.
 */
export function checkStateRootOwner(root: string): void {
  let stat;
  try {
    stat = lstatSync(root);
  } catch {
    return; // made by us, 0700, when the first container is
  }
  const uid = process.geteuid!();
  if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o022) !== 0) {
    throw new HuskError(
      `state root ${root} is ${!stat.isDirectory() ? 'not a directory' : stat.uid !== uid ? `owned by uid ${stat.uid}, not by this user (uid ${uid})` : 'writable by others'}: refusing it (set XDG_RUNTIME_DIR, or --root DIR)`,
      { code: 'EPERM', path: root },
    );
  }
}

/** What adaptSpec did, for the record and the plan. */
export interface RootlessSpecChanges {
  /** The config had no user namespace: husk added one with the caller's own ids as 0. */
  addedUserNamespace: boolean;
  /** uid=/gid= mount options dropped, as "mounts[i]: gid=5". */
  droppedMountOptions: string[];
}

/**
 * Gives an unprivileged caller's config a user namespace when it has none, with its own
 * uid/gid as 0 where the config has no mappings, and checks the mounts' uid=/gid=
 * options against the mappings. Changes `spec` in place. Root of a user namespace
 * (podman's rootless one) needs no namespace of its own and is left as it is.
 */
export function adaptSpecForRootless(spec: Spec): RootlessSpecChanges {
  const changes: RootlessSpecChanges = { addedUserNamespace: false, droppedMountOptions: [] };
  const linux = (spec.linux ??= {});
  const namespaces = (linux.namespaces ??= []);
  const userNs = namespaces.find((n) => n.type === 'user');
  if (!isUnprivilegedUser()) {
    // Root of a user namespace, and the container shares it: the ids are that namespace's
    // (`unshare -r` maps one); a config written for the host's root names others.
    if (userNs === undefined && inUserNamespace()) {
      const own = (kind: 'uid' | 'gid'): IdMapping[] => idsOfOwnNamespace(kind).map((r) => ({ containerID: r.start, hostID: r.start, size: r.count }));
      (spec.mounts ?? []).forEach((mount, i) => {
        const kept = checkMountIds(mount, `mounts[${i}]`, own('uid'), own('gid'), changes.droppedMountOptions);
        if (kept !== undefined) mount.options = kept;
      });
    }
    return changes;
  }
  if (userNs === undefined) {
    namespaces.push({ type: 'user' });
    changes.addedUserNamespace = true;
  }
  if (userNs?.path !== undefined) return changes; // joined: its maps are set already
  // Mappings husk chose: the config could not know them, so its unmapped uid=/gid= are dropped.
  let chosen = changes.addedUserNamespace;
  if ((linux.uidMappings?.length ?? 0) === 0) {
    linux.uidMappings = [{ containerID: 0, hostID: process.geteuid!(), size: 1 }];
    chosen = true;
  }
  if ((linux.gidMappings?.length ?? 0) === 0) {
    linux.gidMappings = [{ containerID: 0, hostID: process.getegid!(), size: 1 }];
    chosen = true;
  }
  (spec.mounts ?? []).forEach((mount, i) => {
    const kept = checkMountIds(mount, `mounts[${i}]`, linux.uidMappings!, linux.gidMappings!, chosen ? changes.droppedMountOptions : undefined);
    if (kept !== undefined) mount.options = kept;
  });
  return changes;
}

/**
 * runc's rootlessEUIDMount: uid=N and gid=N must name mapped ids. With `dropped` (a config written
 * without the namespace it gets), an unmapped one is dropped and listed there instead of refused.
 */
function checkMountIds(mount: Mount, where: string, uids: IdMapping[], gids: IdMapping[], dropped: string[] | undefined): string[] | undefined {
  if (mount.options === undefined) return undefined;
  let changed = false;
  const kept = mount.options.filter((option) => {
    const match = /^(uid|gid)=(\d+)$/.exec(option);
    if (match === null) return true;
    if (isMapped(match[1] === 'uid' ? uids : gids, Number(match[2]))) return true;
    if (dropped === undefined) {
      throw new SpecError(
        `${where}.options`,
        `${option}: ${match[1]} ${match[2]} is not mapped in the container's user namespace (linux.${match[1]}Mappings), so a rootless container cannot mount with it`,
      );
    }
    dropped.push(`${where}: ${option}`);
    changed = true;
    return false;
  });
  return changed ? kept : undefined;
}

/** The caller's hard limits, by RLIMIT_ name, from /proc/self/limits (undefined: unlimited). */
function hardLimits(): Map<string, bigint | undefined> {
  const names: Record<string, string> = {
    'Max cpu time': 'RLIMIT_CPU',
    'Max file size': 'RLIMIT_FSIZE',
    'Max data size': 'RLIMIT_DATA',
    'Max stack size': 'RLIMIT_STACK',
    'Max core file size': 'RLIMIT_CORE',
    'Max resident set': 'RLIMIT_RSS',
    'Max processes': 'RLIMIT_NPROC',
    'Max open files': 'RLIMIT_NOFILE',
    'Max locked memory': 'RLIMIT_MEMLOCK',
    'Max address space': 'RLIMIT_AS',
    'Max file locks': 'RLIMIT_LOCKS',
    'Max pending signals': 'RLIMIT_SIGPENDING',
    'Max msgqueue size': 'RLIMIT_MSGQUEUE',
    'Max nice priority': 'RLIMIT_NICE',
    'Max realtime priority': 'RLIMIT_RTPRIO',
    'Max realtime timeout': 'RLIMIT_RTTIME',
  };
  const limits = new Map<string, bigint | undefined>();
  for (const line of readFileSync('/proc/self/limits', 'utf8').split('\n').slice(1)) {
    const label = Object.keys(names).find((l) => line.startsWith(l));
    if (label === undefined) continue;
    const hard = line.slice(label.length).trim().split(/\s+/)[1];
    limits.set(names[label]!, hard === undefined || hard === 'unlimited' ? undefined : BigInt(hard));
  }
  return limits;
}

/**
 * What a user namespace cannot give, refused before anything exists: an rlimit above the
 * caller's hard limit (raising one needs CAP_SYS_RESOURCE of the host), an oom_score_adj
 * below the caller's own, additional groups where setgroups(2) will be denied.
 */
export function checkRootlessProcess(spec: Spec, setgroupsAllowed: boolean): void {
  const process = spec.process;
  if (process === undefined) return;
  const limits = (process.rlimits?.length ?? 0) > 0 ? hardLimits() : new Map<string, bigint | undefined>();
  process.rlimits?.forEach((rlimit, i) => {
    if (!limits.has(rlimit.type)) return;
    const ours = limits.get(rlimit.type);
    const hard = rlimitValue(rlimit.hard);
    if (ours !== undefined && (hard === RLIM_INFINITY || hard > ours)) {
      throw new SpecError(
        `process.rlimits[${i}]`,
        `${rlimit.type} hard limit ${hard === RLIM_INFINITY ? 'unlimited' : hard} is above this user's own hard limit ${ours}: rootless it cannot be raised (that needs CAP_SYS_RESOURCE); ask for ${ours} or less`,
      );
    }
  });
  if (process.oomScoreAdj !== undefined) {
    const own = Number(readFileSync('/proc/self/oom_score_adj', 'utf8').trim());
    if (process.oomScoreAdj < own) {
      throw new SpecError('process.oomScoreAdj', `${process.oomScoreAdj} is below this user's own oom_score_adj ${own}: rootless it cannot be lowered (that needs CAP_SYS_RESOURCE)`);
    }
  }
  if (!setgroupsAllowed && (process.user.additionalGids?.length ?? 0) > 0) {
    throw new SpecError(
      'process.user.additionalGids',
      'cannot be set: setgroups(2) is denied in this user namespace (an unprivileged user maps its own gid alone only with setgroups "deny"); map gids from /etc/subgid to have groups',
    );
  }
}

/** Where a rootless container's cgroup goes: a delegated cgroup v2 directory, or none, and why. */
export type RootlessCgroup = { delegated: true } | { delegated: false; why: string };

/**
 * Whether the caller may make the container's cgroup at `path` and move its init there:
 * pure cgroup v2, the nearest existing directory on the way writable by the caller, and
 * the cgroup.procs of the common ancestor of its own cgroup and the new one too (the
 * kernel's rule for moving a process, clone3's CLONE_INTO_CGROUP included).
 */
export function rootlessCgroup(path: string, layout: CgroupLayout): RootlessCgroup {
  const uid = process.geteuid!();
  if (layout.mode !== 'v2') {
    return { delegated: false, why: `cgroups here are ${layout.mode}, and only a cgroup v2 subtree can be delegated to a user` };
  }
  let dir: string | undefined;
  try {
    dir = createCgroupManager(path, layout).v2Directory();
  } catch (error) {
    return { delegated: false, why: (error as Error).message };
  }
  if (dir === undefined) return { delegated: false, why: 'no cgroup2 hierarchy is mounted' };
  const mount = layout.unifiedMount ?? '/sys/fs/cgroup';
  let existing = dir;
  while (!existsSync(existing) && existing !== mount) existing = dirname(existing);
  if (!writable(existing)) return { delegated: false, why: `${existing} is not writable by uid ${uid} (no cgroup is delegated to it there)` };
  const own = ownCgroups().find((e) => e.id === 0 && e.controllers.length === 0)?.path;
  if (own === undefined) return { delegated: false, why: '/proc/self/cgroup has no cgroup2 entry' };
  const ownDir = join(mount, own);
  let common = ownDir;
  while (common !== mount && !(dir === common || dir.startsWith(`${common}/`))) common = dirname(common);
  const procs = join(common, 'cgroup.procs');
  if (!writable(procs)) {
    return { delegated: false, why: `${procs} (of the common ancestor of this process's cgroup ${ownDir} and ${dir}) is not writable by uid ${uid}, so no process could be moved there` };
  }
  return { delegated: true };
}

function writable(path: string): boolean {
  try {
    accessSync(path, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const isSet = (value: unknown): boolean => {
  if (value === undefined || value === null || value === false || value === '') return false;
  if (typeof value === 'number') return value !== 0 && value !== -1;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.values(value as object).some(isSet);
  return true;
};

/** The json paths of the limits `resources` asks for (devices aside). */
export function requestedLimits(resources: LinuxResources | undefined): string[] {
  if (resources === undefined || resources === null) return [];
  const paths: string[] = [];
  for (const [key, value] of Object.entries(resources)) {
    if (key === 'devices') continue;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && key !== 'unified' && key !== 'rdma') {
      for (const [field, v] of Object.entries(value as object)) if (isSet(v)) paths.push(`linux.resources.${key}.${field}`);
    } else if (isSet(value)) {
      paths.push(`linux.resources.${key}`);
    }
  }
  return paths;
}

/** Refuses limits when the container gets no cgroup (runc's `--rootless auto`: never silently unlimited). */
export function refuseLimitsWithoutCgroup(resources: LinuxResources | undefined, why: string): void {
  const limits = requestedLimits(resources);
  if (limits.length === 0) return;
  throw new SpecError(
    limits[0]!,
    `cannot be applied rootless: the container gets no cgroup because ${why}. Run it with a delegated cgroup v2 subtree (--cgroup-parent PATH of one the user owns, e.g. made by systemd with Delegate=yes), or without resource limits${limits.length > 1 ? ` (also set: ${limits.slice(1).join(', ')})` : ''}`,
  );
}

/**
 * Device rules, rootless: nothing can enforce them (cgroup v1's devices controller and
 * cgroup v2's BPF programs need root), so a rule that would deny a device the container
 * could otherwise open is refused. Blanket rules and allows are fine: the only device nodes
 * a user namespace has are binds of the host's, opened with their own permissions.
 */
export function checkRootlessDeviceRules(rules: LinuxDeviceCgroup[] | undefined): void {
  (rules ?? []).forEach((rule, i) => {
    const blanket = (rule.type === undefined || rule.type === 'a') && (rule.major ?? -1) === -1 && (rule.minor ?? -1) === -1;
    if (!rule.allow && !blanket) {
      throw new SpecError(
        `linux.resources.devices[${i}]`,
        'a rule denying a device cannot be enforced rootless: there is no device cgroup without root; the container\'s device nodes are the host\'s own, bound with their permissions',
      );
    }
  });
}
