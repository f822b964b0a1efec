import { linuxConstants as constants } from '../sys/constants.js';

/** Namespace kinds as the runtime-spec names them. */
export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

export const namespaceTypes: readonly NamespaceType[] = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];

/**
 * The order namespaces are joined in (setns), as runc's nsexec: the user namespace
 * first (it grants the rights to enter the others), the mount namespace last
 * (entering it changes our root and cwd, and the other paths may not resolve after).
 */
export const NAMESPACE_JOIN_ORDER: readonly NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];

/** The joins sorted by NAMESPACE_JOIN_ORDER. */
export function inJoinOrder<T extends { type: NamespaceType }>(joins: readonly T[]): T[] {
  return [...joins].sort((a, b) => NAMESPACE_JOIN_ORDER.indexOf(a.type) - NAMESPACE_JOIN_ORDER.indexOf(b.type));
}

export const cloneFlagOf: Record<NamespaceType, number> = {
  pid: constants.CLONE_NEWPID,
  network: constants.CLONE_NEWNET,
  mount: constants.CLONE_NEWNS,
  ipc: constants.CLONE_NEWIPC,
  uts: constants.CLONE_NEWUTS,
  user: constants.CLONE_NEWUSER,
  cgroup: constants.CLONE_NEWCGROUP,
  time: constants.CLONE_NEWTIME,
};

const flagNames: Record<NamespaceType, string> = {
  pid: 'CLONE_NEWPID',
  network: 'CLONE_NEWNET',
  mount: 'CLONE_NEWNS',
  ipc: 'CLONE_NEWIPC',
  uts: 'CLONE_NEWUTS',
  user: 'CLONE_NEWUSER',
  cgroup: 'CLONE_NEWCGROUP',
  time: 'CLONE_NEWTIME',
};

/** The /proc/<pid>/ns/<name> file of each kind. */
export const procNsName: Record<NamespaceType, string> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

/** "CLONE_NEWUSER|CLONE_NEWPID" for error messages. */
export function describeCloneFlags(flags: number): string {
  const names = namespaceTypes.filter((t) => (flags & cloneFlagOf[t]) !== 0).map((t) => flagNames[t]);
  return names.length > 0 ? names.join('|') : 'no namespaces';
}

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** The text of /proc/<pid>/uid_map (or gid_map). */
export function formatIdMap(mappings: IdMapping[]): string {
  return mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** True when the mappings give the container's uid/gid `id` a host id. */
export function isMapped(mappings: IdMapping[] | undefined, id: number): boolean {
  return (mappings ?? []).some((m) => id >= m.containerID && id < m.containerID + m.size);
}
