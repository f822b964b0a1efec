import { linuxConstants as constants } from '../sys/constants.js';
import { cloneFlagOf, describeCloneFlags, type IdMapping, isMapped, NAMESPACE_JOIN_ORDER, type NamespaceType, procNsName } from './namespaces.js';
import { type Plan, type PlanOp, SyncPoint } from './ops.js';

export interface SpawnPlanInput {
  file: string;
  args: string[];
  env: string[];
  cwd?: string;
  namespaces: NamespaceType[];
  /** With a user namespace: written by the parent while the child waits. */
  uidMap?: IdMapping[];
  gidMap?: IdMapping[];
  hostname?: string;
  /** Mount a fresh /proc for the new pid namespace (default: when pid and mount are both new). */
  mountProc?: boolean;
  /** fds for the child's 0, 1, 2 (default: inherit). */
  stdio?: [number, number, number];
  /** Join these namespaces of a running process first (setns into /proc/<pid>/ns/*). */
  join?: { pid: number; namespaces: NamespaceType[] };
}

/**
 * The plan of `spawn`: a process in new namespaces, without a rootfs of its own.
 * The cgroup namespace is created after the parent's sync point (so it is rooted
 * at the cgroup the process ends up in), every other one by clone3 itself; with a new
 * user namespace, by the child with unshare (husk-init, exec'd in a user namespace
 * without id maps, would have no capabilities), and a new pid namespace then gets a
 * sibling cloned into it (as src/plan/container.ts does).
 */
export function planSpawn(input: SpawnPlanInput): Plan {
  const wanted = new Set(input.namespaces);
  let flags = 0;
  for (const ns of wanted) if (ns !== 'cgroup') flags |= cloneFlagOf[ns];
  const userNs = wanted.has('user');
  const cloneFlags = userNs ? 0 : flags;
  const ops: PlanOp[] = [];

  if (userNs) ops.push({ kind: 'unshare', flags, what: describeCloneFlags(flags) });
  const needsParent = userNs || wanted.has('cgroup');
  if (needsParent) ops.push({ kind: 'sync', point: SyncPoint.AfterClone });
  if (userNs && isMapped(input.uidMap, 0) && isMapped(input.gidMap, 0)) {
    ops.push({ kind: 'setuser', uid: 0, gid: 0 }); // be root of the new user namespace
  }
  if (userNs && wanted.has('pid')) ops.push({ kind: 'clone_sibling' });
  if (input.join !== undefined) {
    const { pid, namespaces } = input.join;
    for (const ns of NAMESPACE_JOIN_ORDER.filter((type) => namespaces.includes(type))) {
      ops.push({ kind: 'setns', path: `/proc/${pid}/ns/${procNsName[ns]}`, nstype: cloneFlagOf[ns], what: ns });
    }
  }
  if (wanted.has('cgroup')) ops.push({ kind: 'unshare', flags: constants.CLONE_NEWCGROUP, what: 'CLONE_NEWCGROUP' });
  if (input.hostname !== undefined) ops.push({ kind: 'sethostname', name: input.hostname });
  if (wanted.has('network')) ops.push({ kind: 'loopback_up' }); // as runc: 127.0.0.1 works in a new one
  if (wanted.has('mount')) {
    // Nothing this process mounts may propagate back to the host.
    ops.push({ kind: 'mount', source: null, target: '/', fstype: null, flags: constants.MS_REC | constants.MS_PRIVATE, data: null, targetMode: 'as-is' });
    if (input.mountProc ?? wanted.has('pid')) {
      ops.push({
        kind: 'mount',
        source: 'proc',
        target: '/proc',
        fstype: 'proc',
        flags: constants.MS_NOSUID | constants.MS_NODEV | constants.MS_NOEXEC,
        data: null,
        targetMode: 'as-is',
      });
    }
  }
  if (input.cwd !== undefined) ops.push({ kind: 'chdir', path: input.cwd, verifyInRoot: false });
  if (input.stdio !== undefined) ops.push({ kind: 'stdio', fds: input.stdio });
  ops.push({ kind: 'close_fds', preserve: 0 });
  ops.push({ kind: 'exec', file: input.file, args: input.args, env: input.env });
  return { cloneFlags, ops };
}
