import { isAbsolute, join, posix } from 'node:path';
import { linuxConstants as c } from '../sys/constants.js';
import { SpecError } from '../spec/errors.js';
import type { Hook, LinuxDevice, LinuxTimeOffset, Mount, Spec } from '../spec/types.js';
import { memoryPolicyOp, personalityOp } from './attributes.js';
import { cloneFlagOf, describeCloneFlags, inJoinOrder, isMapped, type NamespaceType } from './namespaces.js';
import { parseMountOptions, propagationFlags } from './mount-options.js';
import { type DetachedMount, type Plan, type PlanOp, SyncPoint } from './ops.js';
import { processOps, seccompOps } from './process.js';
import { usesNotify } from '../seccomp/compile.js';
import { checkSysctls, sysctlFile } from './sysctl.js';

/** How /sys/fs/cgroup is given to the container, from the host's cgroup layout. */
export type CgroupMountSource =
  /** Pure v2: a fresh cgroup2 mount (rooted at the container's cgroup by its cgroup namespace). */
  | { kind: 'v2' }
  /** v1 or hybrid: a tmpfs with a bind of the container's own cgroup of each hierarchy (as runc does). */
  | { kind: 'v1'; hierarchies: { name: string; hostPath: string }[] }
  /**
   * The host's tree at `hostPath`, bound (rbind): a rootless container on cgroup v2 without a
   * cgroup namespace, which could not mount a cgroup2 of its own (as runc and crun bind it).
   */
  | { kind: 'bind'; hostPath: string };

export interface ContainerPlanInput {
  spec: Spec;
  /** Absolute path of the rootfs. */
  rootfs: string;
  /** Absolute path of the bundle (relative bind sources resolve against it). */
  bundle: string;
  /** The start gate (exec.fifo); the child waits there until `start`. Absent: exec at once. */
  gatePath?: string;
  /** --no-pivot: MS_MOVE + chroot instead of pivot_root. */
  noPivot?: boolean;
  /** --preserve-fds N: fds 3..3+N-1 stay open in the container. */
  preserveFds?: number;
  /** /proc/sys/kernel/cap_last_cap of the host. */
  lastCap: number;
  cgroupMount: CgroupMountSource;
  /**
   * The `tasks` files of the container's v1 cgroups. The child moves itself there ("0": the
   * writing thread, and it is the only one) right after the clone: the kernel then takes no
   * cgroup_threadgroup_rwsem, whose writer waits for an RCU grace period (6 to 12 ms here) when
   * the runtime writes a pid to cgroup.procs. A user namespace comes later (unshare), so the
   * child still may write the host's files then.
   */
  cgroupTasks?: string[];
  /**
   * The runtime puts the child into cgroups itself (a systemd scope, v1 cgroups it cannot join
   * alone), while the child waits at AfterClone. Without it the child does not stop there: the
   * runtime has nothing to do at that point, and a round trip less is one wake-up of each side less.
   */
  placedByRuntime?: boolean;
  /** The rootfs is an empty directory to cover with a private tmpfs (the embedded default). */
  rootfsTmpfs?: boolean;
  /**
   * The rootfs is an overlay the child mounts on it (rootless: only the container's own
   * user namespace, owning its mount namespace, may mount it): lowers top first.
   */
  rootfsOverlay?: { lowers: string[]; upper: string; work: string; options: string[] };
  /** [target, path] symlinks to create first in the rootfs (the embedded default's merged-/usr links). */
  rootfsSymlinks?: [string, string][];
  /** HOME for the process when its env has none (runc takes it from the container's /etc/passwd). */
  home?: string;
  /** The container's 0, 1, 2 (default: inherit the runtime's). */
  stdio?: [number, number, number];
  /** linux.namespaces' network path names the runtime's own network namespace (runc's isHostNetNS). */
  joinsOwnNetworkNs?: boolean;
  /**
   * The name of the container's own session keyring (runc: "_ses." + id), so that it sees
   * none of the host's keys; absent with --no-new-keyring.
   */
  sessionKeyring?: string;
  /**
   * The id maps are written by an unprivileged parent (rootless): the child stays dumpable
   * until then, or its /proc files would belong to the host's root, which the parent is not
   * (runc's nsexec does the same).
   */
  unprivilegedIdMaps?: boolean;
  /** setgroups(2) works in the container's user namespace (default true); see processOps. */
  setgroups?: boolean;
  /**
   * The runtime itself runs in a user namespace other than the host's (rootless, as uid 0 of
   * podman's): mknod is refused there too, and sysfs needs a network namespace of the container's own.
   */
  runtimeInUserNs?: boolean;
}

/** runc's default devices: created in /dev unless /dev is bound from the host. */
const defaultDevices: LinuxDevice[] = [
  { type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: 0o666 },
  { type: 'c', path: '/dev/zero', major: 1, minor: 5, fileMode: 0o666 },
  { type: 'c', path: '/dev/full', major: 1, minor: 7, fileMode: 0o666 },
  { type: 'c', path: '/dev/tty', major: 5, minor: 0, fileMode: 0o666 },
  { type: 'c', path: '/dev/urandom', major: 1, minor: 9, fileMode: 0o666 },
  { type: 'c', path: '/dev/random', major: 1, minor: 8, fileMode: 0o666 },
];

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

/** makedev(3) of glibc. */
export function makedev(major: number, minor: number): number {
  // Arithmetic, not bitwise: the result can exceed 32 bits.
  return (minor % 256) + (major % 4096) * 2 ** 8 + Math.floor(minor / 256) * 2 ** 20 + Math.floor(major / 4096) * 2 ** 44;
}

/**
 * Turns an OCI spec into the ordered steps of the container's init, in the order
 * runc's init takes them: namespaces, mounts, /dev, masked and read-only paths,
 * the create hooks, the jail (pivot_root), then the process's own attributes,
 * and last the start gate and exec. Pure: throws SpecError for what it cannot do.
 */
export function planContainer(input: ContainerPlanInput): Plan {
  const { spec } = input;
  const process = spec.process;
  if (process === undefined || !process.args || process.args.length === 0) {
    throw new SpecError('process.args', 'the container needs a process to run');
  }
  const linux = spec.linux ?? {};
  const namespaces = linux.namespaces ?? [];
  const newNs = new Set<NamespaceType>(namespaces.filter((n) => !n.path).map((n) => n.type));
  // No mount namespace at all: the container shares the runtime's, so nothing may be
  // mounted (it would land in the host's mount table and outlive the container).
  const sharedMountNs = !namespaces.some((n) => n.type === 'mount');
  if (sharedMountNs) refuseWithoutMountNamespace(spec, input);
  const joinedMountNs = namespaces.findIndex((n) => n.type === 'mount' && n.path);
  if (joinedMountNs !== -1 && newNs.has('user')) {
    // A new user namespace never owns a mount namespace made before it: its root could
    // mount nothing there, nor pivot_root (EPERM at the first mount).
    throw new SpecError(`linux.namespaces[${joinedMountNs}]`, 'a mount namespace joined by path cannot be set up from a new user namespace (it does not own it): join the user namespace that owns it too');
  }
  const userNs = newNs.has('user');
  const ops: PlanOp[] = [];
  const has = (type: NamespaceType): boolean => namespaces.some((n) => n.type === type);
  checkSysctls(linux.sysctl ?? {}, {
    ipc: has('ipc'),
    uts: has('uts'),
    network: newNs.has('network') || (has('network') && !input.joinsOwnNetworkNs),
  });

  const joins = namespaces.filter((ns) => ns.path);
  const joinedPid = joins.some((ns) => ns.type === 'pid');
  const joinedUser = joins.some((ns) => ns.type === 'user');
  // clone3 makes every new namespace at once, owned by our user namespace. That will
  // not do when a user or pid namespace is joined, or a user namespace is made: the child
  // execs husk-init right after the clone, and an exec in a user namespace whose id maps are
  // not written yet drops every capability (its uid 0 is unmapped). Then (as runc's nsexec)
  // the child joins first, user namespace first, makes the new namespaces with unshare, and
  // clones the init so that it is born inside the joined or new pid namespace: a sibling of
  // the child (CLONE_PARENT), as runc's stage-2, so it is the runtime's own child and the
  // child does not stay behind.
  const joinFirst = joinedPid || joinedUser || userNs;
  // The cgroup and time namespaces are made later, by unshare: the cgroup one once the
  // child is in its cgroup, the time one once its clocks' offsets can be written (a
  // process inside a time namespace can no longer change them).
  const laterNs = (ns: NamespaceType): boolean => ns === 'cgroup' || ns === 'time';
  let cloneFlags = 0;
  if (!joinFirst) for (const ns of newNs) if (!laterNs(ns)) cloneFlags |= cloneFlagOf[ns];

  // No ptrace or /proc access by the container until exec; rootless only once the parent has
  // written the id maps (of a child the caller owns, which nothing of the container is yet).
  const dumpableOff: PlanOp = { kind: 'dumpable', value: 0 };
  const deferDumpable = userNs && (input.unprivilegedIdMaps ?? false);
  if (!deferDumpable) ops.push(dumpableOff);
  ops.push({ kind: 'pdeathsig', signal: 9 }); // a runtime killed mid-create takes its child along
  // Before any user namespace exists (it comes by unshare, later): the host's tasks files are writable.
  for (const path of input.cgroupTasks ?? []) ops.push({ kind: 'write_file', path, content: '0', create: false });
  if (input.placedByRuntime) ops.push({ kind: 'sync', point: SyncPoint.AfterClone });
  // Opened now, while the child still has the runtime's credentials: as the
  // mapped root of a user namespace it could not open a file of the host's root.
  if (input.gatePath !== undefined) ops.push({ kind: 'open_gate', path: input.gatePath });
  for (const ns of inJoinOrder(joins)) {
    ops.push({ kind: 'setns', path: ns.path!, nstype: cloneFlagOf[ns.type], what: ns.type });
  }
  if (joinFirst) {
    const created = [...newNs].filter((ns) => !laterNs(ns));
    const flags = created.reduce((all, ns) => all | cloneFlagOf[ns], 0);
    if (flags !== 0) ops.push({ kind: 'unshare', flags, what: describeCloneFlags(flags) });
    if (userNs) ops.push({ kind: 'sync', point: SyncPoint.IdMaps });
    if (deferDumpable) ops.push(dumpableOff);
  }
  if ((userNs && isMapped(linux.uidMappings, 0) && isMapped(linux.gidMappings, 0)) || joinedUser) {
    ops.push({ kind: 'setuser', uid: 0, gid: 0 }); // root of the user namespace
    ops.push({ kind: 'pdeathsig', signal: 9 }); // a credential change clears it
  }
  if (joinFirst && (joinedPid || newNs.has('pid'))) {
    ops.push({ kind: 'clone_sibling' });
    ops.push({ kind: 'pdeathsig', signal: 9 });
  }
  if (linux.timeOffsets !== undefined && !newNs.has('time')) {
    throw new SpecError('linux.timeOffsets', 'cannot be applied to a joined time namespace: its clocks are set once, by whoever made it');
  }
  if (newNs.has('time')) ops.push(...timeNamespaceOps(linux.timeOffsets, userNs || joinedUser));
  if (newNs.has('cgroup')) ops.push({ kind: 'unshare', flags: c.CLONE_NEWCGROUP, what: 'CLONE_NEWCGROUP' });
  if (spec.hostname !== undefined) ops.push({ kind: 'sethostname', name: spec.hostname });
  if (spec.domainname !== undefined) ops.push({ kind: 'setdomainname', name: spec.domainname });
  if (newNs.has('network')) ops.push({ kind: 'loopback_up' }); // as runc: 127.0.0.1 works in a new one
  // In its user namespace, if any, so the keyring belongs to the container's root.
  if (input.sessionKeyring !== undefined) ops.push({ kind: 'join_session_keyring', name: input.sessionKeyring });

  // In any user namespace but the host's, mknod is refused; and sysfs can only be
  // mounted there if that user namespace owns the network namespace.
  const detached: DetachedMount[] = [];
  if (!sharedMountNs) planRootfs(input, ops, detached, { inUserNs: userNs || joinedUser || (input.runtimeInUserNs ?? false), ownsNetwork: newNs.has('network') });

  if (process.oomScoreAdj !== undefined) {
    ops.push({ kind: 'write_file', path: '/proc/self/oom_score_adj', content: String(process.oomScoreAdj), create: false });
  }
  const hooks = spec.hooks ?? {};
  // linux.netDevices are moved by the runtime there too, before any hook runs.
  const netDevices = Object.keys(linux.netDevices ?? {}).length > 0;
  if (netDevices || (hooks.prestart?.length ?? 0) + (hooks.createRuntime?.length ?? 0) + (hooks.createContainer?.length ?? 0) > 0) {
    // The runtime runs prestart and createRuntime hooks; the payload is the state for these.
    ops.push({ kind: 'sync', point: SyncPoint.CreateHooks });
  }
  // createContainer hooks run in the container's namespaces (runtime-spec config.md), all of
  // them, pid and user included: the init runs them itself, before pivot_root (as runc's init).
  for (const hook of hooks.createContainer ?? []) ops.push(hookOp('createContainer', hook));
  if (sharedMountNs) {
    ops.push({ kind: 'chroot', path: input.rootfs, chdir: true }); // as runc: no namespace to pivot
  } else {
    ops.push(input.noPivot ? { kind: 'move_chroot' } : { kind: 'pivot_root' });
    planInsideJail(spec, ops);
  }

  const containerOps: PlanOp[] = [];
  if (linux.personality !== undefined) containerOps.push(personalityOp(linux.personality));
  if (linux.memoryPolicy !== undefined) containerOps.push(memoryPolicyOp(linux.memoryPolicy));
  ops.push(
    ...processOps(process, { lastCap: input.lastCap, stdio: input.stdio, seccomp: linux.seccomp, console: true, containerOps, setgroups: input.setgroups ?? true }),
  );

  const env = containerEnv(process.env ?? [], input.home);
  const file = process.args[0]!;
  ops.push({ kind: 'resolve_exec', file, env });
  ops.push({ kind: 'close_fds', preserve: input.preserveFds ?? 0 });
  // A notifying filter goes where runc puts it, before the start gate: `create` is still
  // there to hand its notify fd to the listener.
  const notify = usesNotify(linux.seccomp);
  if (process.noNewPrivileges && notify) ops.push(...seccompOps(linux.seccomp));
  if (input.gatePath !== undefined) {
    ops.push({ kind: 'pdeathsig', signal: 0 }); // from here the container outlives `husk create`
    ops.push({ kind: 'sync', point: SyncPoint.Ready });
    ops.push({ kind: 'wait_gate' });
  }
  for (const hook of hooks.startContainer ?? []) ops.push(hookOp('startContainer', hook));
  if (process.noNewPrivileges && !notify) ops.push(...seccompOps(linux.seccomp));
  ops.push({ kind: 'exec', file, args: process.args, env });
  return { cloneFlags, ops, ...(detached.length > 0 && { detachedMounts: detached }) };
}

/**
 * What a container without a mount namespace cannot have, refused before anything
 * is made: runc would apply these in the host's own mount namespace (make "/" rslave,
 * bind the rootfs, mount every entry of `mounts` on the host, where they stay after
 * the container is gone); husk touches no mount then and only chroots.
 */
function refuseWithoutMountNamespace(spec: Spec, input: ContainerPlanInput): void {
  const why = 'without a mount namespace (linux.namespaces has no "mount") it would change the host\'s own mounts';
  const linux = spec.linux ?? {};
  if ((spec.mounts?.length ?? 0) > 0) throw new SpecError('mounts', `cannot be mounted ${why}`);
  if (spec.root?.readonly) throw new SpecError('root.readonly', `cannot be applied ${why}`);
  if (linux.rootfsPropagation !== undefined) throw new SpecError('linux.rootfsPropagation', `cannot be applied ${why}`);
  if ((linux.devices?.length ?? 0) > 0) {
    throw new SpecError('linux.devices', 'cannot be created without a mount namespace: the nodes would be made in the host\'s filesystem and outlive the container');
  }
  if (Object.keys(linux.sysctl ?? {}).length > 0) {
    throw new SpecError('linux.sysctl', 'cannot be written without a mount namespace: there is no procfs of the container to write them through');
  }
  if (input.rootfsTmpfs || input.rootfsOverlay !== undefined || input.noPivot) {
    const what = input.rootfsTmpfs ? 'tmpfs rootfs' : input.rootfsOverlay !== undefined ? 'overlay rootfs mounted in the container' : '--no-pivot jail';
    throw new SpecError('linux.namespaces', `a ${what} needs a mount namespace`);
  }
}

/**
 * A new time namespace with linux.timeOffsets, as crun makes it: unshare(CLONE_NEWTIME)
 * only prepares the namespace for our children, whose clock offsets we can still
 * write; then setns into it moves this process in (exec would too), before any
 * process has entered it. The offsets go through the host's /proc (we have not
 * pivoted yet), as /proc/self.
 */
function timeNamespaceOps(offsets: Record<string, LinuxTimeOffset> | undefined, inUserNs: boolean): PlanOp[] {
  const ops: PlanOp[] = [{ kind: 'unshare', flags: c.CLONE_NEWTIME, what: 'CLONE_NEWTIME' }];
  const lines = Object.entries(offsets ?? {}).map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`);
  if (lines.length > 0) {
    const write: PlanOp = { kind: 'write_file', path: '/proc/self/timens_offsets', content: lines.join(''), create: false };
    // A non-dumpable process's /proc files belong to the host's root, which the mapped
    // root of a user namespace is not: dumpable for this one write (runc's nsexec does the
    // same while its parent writes the id maps), then not again.
    if (inUserNs) ops.push({ kind: 'dumpable', value: 1 }, write, { kind: 'dumpable', value: 0 });
    else ops.push(write);
  }
  ops.push({ kind: 'setns', path: '/proc/self/ns/time_for_children', nstype: c.CLONE_NEWTIME, what: 'time' });
  return ops;
}

function containerEnv(env: string[], home: string | undefined): string[] {
  if (home === undefined || env.some((e) => e.startsWith('HOME='))) return env;
  return [...env, `HOME=${home}`];
}

function hookOp(name: string, hook: Hook): PlanOp {
  return { kind: 'hook', name, path: hook.path, args: hook.args ?? [hook.path], env: hook.env ?? [], timeout: hook.timeout ?? 0 };
}

function planRootfs(input: ContainerPlanInput, ops: PlanOp[], detached: DetachedMount[], ns: { inUserNs: boolean; ownsNetwork: boolean }): void {
  const { spec, rootfs } = input;
  const linux = spec.linux ?? {};
  rootPropagationOps(linux.rootfsPropagation); // refused now, applied once in the jail
  // Nothing mounted from here on may propagate back to the host, whatever rootfsPropagation
  // says: it applies to the container's root once pivot_root has made it one. No mount is
  // shared from here to pivot_root, so neither the rootfs's parent (runc makes it private
  // when it is shared: rootfsParentMountPrivate) nor the new root can make pivot_root fail
  // with EINVAL, and the bind of the rootfs below is seen by no other namespace.
  ops.push({ kind: 'mount', source: null, target: '/', fstype: null, flags: c.MS_SLAVE | c.MS_REC, data: null, targetMode: 'as-is' });
  if (input.rootfsTmpfs) {
    ops.push({ kind: 'mount', source: 'tmpfs', target: rootfs, fstype: 'tmpfs', flags: c.MS_NOSUID | c.MS_NODEV, data: 'mode=755', targetMode: 'as-is' });
  } else if (input.rootfsOverlay !== undefined) {
    const { lowers, upper, work, options } = input.rootfsOverlay;
    ops.push({ kind: 'mount_overlay', target: rootfs, lowers, lowerdirJoined: lowers.join(':'), upper, work, options });
  } else {
    // pivot_root needs the rootfs to be a mount point.
    ops.push({ kind: 'mount', source: rootfs, target: rootfs, fstype: null, flags: c.MS_BIND | c.MS_REC, data: null, targetMode: 'as-is' });
  }
  ops.push({ kind: 'enter_rootfs', path: rootfs });
  for (const [target, path] of input.rootfsSymlinks ?? []) ops.push({ kind: 'symlink', target, path });

  const mounts = spec.mounts ?? [];
  const sysfsFromHost = ns.inUserNs && !ns.ownsNetwork;
  mounts.forEach((mount, i) => planMount(input, sysfsFromHost ? hostSysfs(mount) : mount, `mounts[${i}]`, ops, detached));

  const devBound = mounts.some((m) => posix.normalize(m.destination) === '/dev' && isBind(m));
  if (!devBound) {
    for (const device of [...defaultDevices, ...(linux.devices ?? [])]) planDevice(device, ns.inUserNs, ops);
    const links: [string, string][] = [
      ['/proc/self/fd', '/dev/fd'],
      ['/proc/self/fd/0', '/dev/stdin'],
      ['/proc/self/fd/1', '/dev/stdout'],
      ['/proc/self/fd/2', '/dev/stderr'],
    ];
    if (mounts.some((m) => posix.normalize(m.destination) === '/dev/pts')) links.push(['pts/ptmx', '/dev/ptmx']);
    for (const [target, path] of links) ops.push({ kind: 'symlink', target, path });
  }
}

/**
 * What runc does once the rootfs is the root (pivot_root or --no-pivot): sysctls through the
 * container's own procfs (verified by the child), before readonlyPaths makes /proc/sys read-only; masked and read-only
 * paths; the root's propagation; the read-only root last.
 */
function planInsideJail(spec: Spec, ops: PlanOp[]): void {
  const linux = spec.linux ?? {};
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    ops.push({ kind: 'sysctl', file: sysctlFile(key, `linux.sysctl[${JSON.stringify(key)}]`), value });
  }
  for (const path of linux.maskedPaths ?? []) ops.push({ kind: 'mask', path });
  for (const path of linux.readonlyPaths ?? []) ops.push({ kind: 'readonly', path });
  ops.push(...rootPropagationOps(linux.rootfsPropagation));
  if (spec.root?.readonly) {
    ops.push({ kind: 'remount', target: '/', flags: c.MS_RDONLY, clearFlags: 0, targetMode: 'as-is' });
  }
}

/**
 * linux.rootfsPropagation, applied to the container's root (config-linux.md): slave receives
 * the host's mount events, private none, unbindable is a private mount that cannot be
 * bound, and shared is a peer group of its own, not the host's (so made private first, as
 * runc's result is). Absent or "": runc's default, rslave, which the namespace has already.
 */
function rootPropagationOps(value: string | undefined): PlanOp[] {
  if (value === undefined || value === '') return [];
  const flags = propagationFlags[value];
  if (flags === undefined) throw new SpecError('linux.rootfsPropagation', `unknown propagation "${value}"`);
  const root = (f: number): PlanOp => ({ kind: 'mount', source: null, target: '/', fstype: null, flags: f, data: null, targetMode: 'as-is' });
  if ((flags & c.MS_SHARED) !== 0) return [root(c.MS_PRIVATE | (flags & c.MS_REC)), root(flags)];
  return [root(flags)];
}

/**
 * A sysfs mount as runc makes it when the user namespace does not own the network
 * namespace (the kernel refuses a new sysfs then): the host's /sys, bound read-only.
 */
function hostSysfs(mount: Mount): Mount {
  if (mount.type !== 'sysfs') return mount;
  const options = (mount.options ?? []).filter((o) => o !== 'rw');
  return { ...mount, type: 'bind', source: '/sys', options: ['rbind', 'ro', ...options.filter((o) => o !== 'ro')] };
}

function isBind(mount: Mount): boolean {
  return mount.type === 'bind' || (mount.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

function planMount(input: ContainerPlanInput, mount: Mount, where: string, ops: PlanOp[], detached: DetachedMount[]): void {
  const target = posix.normalize(isAbsolute(mount.destination) ? mount.destination : `/${mount.destination}`);
  const options = parseMountOptions(mount.options, where);
  const type = mount.type ?? (isBind(mount) ? 'bind' : undefined);
  const bind = type === 'bind' || (options.flags & c.MS_BIND) !== 0;
  const idmapped = options.idmap !== null || mount.uidMappings !== undefined || mount.gidMappings !== undefined;
  if (idmapped && !bind) {
    throw new SpecError(where, 'idmapped mounts (idmap, ridmap, uidMappings) are only supported for bind mounts, as in runc');
  }
  if (options.tmpcopyup && type !== 'tmpfs') {
    throw new SpecError(where, `tmpcopyup copies a directory into a new tmpfs: it does not apply to a ${type ?? 'typeless'} mount`);
  }
  if (type === 'cgroup' || type === 'cgroup2') {
    planCgroupMount(input.cgroupMount, target, options.flags, ops);
  } else if (bind) {
    const source = mount.source ?? '';
    if (source === '') throw new SpecError(`${where}.source`, 'a bind mount needs a source');
    const hostSource = isAbsolute(source) ? source : join(input.bundle, source);
    const recursive = (options.flags & c.MS_REC) !== 0;
    if (idmapped) {
      // The runtime clones the source tree detached (open_tree), idmaps it with a user
      // namespace of the mount's mappings, and the child attaches it (move_mount).
      const linux = input.spec.linux ?? {};
      const uidMappings = mount.uidMappings ?? linux.uidMappings;
      const gidMappings = mount.gidMappings ?? linux.gidMappings;
      if (uidMappings === undefined || gidMappings === undefined || uidMappings.length === 0 || gidMappings.length === 0) {
        throw new SpecError(`${where}.uidMappings`, 'an idmapped mount needs uidMappings and gidMappings (its own, or those of the container\'s user namespace)');
      }
      detached.push({ opIndex: ops.length, source: hostSource, recursive, idmap: { uidMappings, gidMappings, recursive: options.idmap === 'ridmap' } });
      ops.push({ kind: 'move_mount', treeFd: -1, target, targetMode: 'in-root-mkdir', what: `idmapped bind ${hostSource}` });
    } else {
      ops.push({ kind: 'mount', source: hostSource, target, fstype: null, flags: c.MS_BIND | (options.flags & c.MS_REC), data: null, targetMode: 'in-root-mkdir' });
    }
    // A bind ignores other flags: they take a remount of the new mount.
    const attributes = options.flags & ~(c.MS_BIND | c.MS_REC | c.MS_REMOUNT);
    if (attributes !== 0 || options.clearFlags !== 0) {
      ops.push({ kind: 'remount', target, flags: attributes, clearFlags: options.clearFlags, targetMode: 'in-root' });
    }
  } else {
    if (type === undefined) throw new SpecError(`${where}.type`, 'a mount that is not a bind needs a type');
    ops.push({
      kind: 'mount',
      source: mount.source ?? type,
      target,
      fstype: type,
      flags: options.flags,
      data: options.data,
      targetMode: 'in-root-mkdir',
      ...(options.tmpcopyup && { copyUp: true }),
    });
  }
  const { set, clear } = options.recursive;
  if (set !== 0 || clear !== 0) ops.push({ kind: 'mount_setattr', target, attrSet: set, attrClear: clear, recursive: true });
  for (const flags of options.propagation) {
    ops.push({ kind: 'mount', source: null, target, fstype: null, flags, data: null, targetMode: 'in-root' });
  }
}

function planCgroupMount(source: CgroupMountSource, target: string, flags: number, ops: PlanOp[]): void {
  const readonly = (flags & c.MS_RDONLY) !== 0;
  if (source.kind === 'v2') {
    ops.push({ kind: 'mount', source: 'cgroup2', target, fstype: 'cgroup2', flags, data: null, targetMode: 'in-root-mkdir' });
    return;
  }
  if (source.kind === 'bind') {
    ops.push({ kind: 'mount', source: source.hostPath, target, fstype: null, flags: c.MS_BIND | c.MS_REC, data: null, targetMode: 'in-root-mkdir' });
    const attributes = flags & ~(c.MS_BIND | c.MS_REC | c.MS_REMOUNT);
    if (attributes !== 0) ops.push({ kind: 'remount', target, flags: attributes, clearFlags: 0, targetMode: 'in-root' });
    return;
  }
  const fsFlags = c.MS_NOSUID | c.MS_NODEV | c.MS_NOEXEC;
  ops.push({ kind: 'mount', source: 'tmpfs', target, fstype: 'tmpfs', flags: fsFlags, data: 'mode=755', targetMode: 'in-root-mkdir' });
  for (const hierarchy of source.hierarchies) {
    const dest = posix.join(target, hierarchy.name);
    ops.push({ kind: 'mount', source: hierarchy.hostPath, target: dest, fstype: null, flags: c.MS_BIND | c.MS_REC, data: null, targetMode: 'in-root-mkdir' });
    ops.push({ kind: 'remount', target: dest, flags: fsFlags | (readonly ? c.MS_RDONLY : 0), clearFlags: 0, targetMode: 'in-root' });
  }
  if (readonly) ops.push({ kind: 'remount', target, flags: fsFlags | c.MS_RDONLY, clearFlags: 0, targetMode: 'in-root' });
}

function planDevice(device: LinuxDevice, userNs: boolean, ops: PlanOp[]): void {
  // In a user namespace mknod is refused: bind the host's node instead (as runc does).
  if (userNs) {
    ops.push({ kind: 'mount', source: device.path, target: device.path, fstype: null, flags: c.MS_BIND, data: null, targetMode: 'in-root-file' });
    return;
  }
  const type = device.type === 'b' ? S_IFBLK : device.type === 'p' ? S_IFIFO : S_IFCHR;
  ops.push({
    kind: 'mknod',
    path: device.path,
    mode: type | (device.fileMode ?? 0o666),
    dev: device.type === 'p' ? 0 : makedev(device.major ?? 0, device.minor ?? 0),
    uid: device.uid ?? 0,
    gid: device.gid ?? 0,
  });
}
