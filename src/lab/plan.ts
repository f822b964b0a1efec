/**
 * The escape lab's plans: for each jail configuration and escape attempt, the
 * ops the child takes. Pure: everything read from the host comes in LabSetup.
 *
 * Every plan starts with the same leak (an fd to the host's "/" opened without
 * O_CLOEXEC, as a careless runtime would hold one) and ends with the attempt,
 * which stands in for the exec of a real plan: it first closes what execve would
 * close, then tries to read the marker.
 */
import { constants as c } from '../native/index.js';
import type { CgroupMountSource } from '../plan/container.js';
import { planContainer } from '../plan/container.js';
import type { Plan } from '../plan/ops.js';
import type { LabOp, LabPlanOp as PlanOp } from './schema.js';
import type { Spec } from '../spec/types.js';
import type { AttemptId, AttemptInfo, ConfigurationId, ConfigurationInfo } from './types.js';

export interface LabSetup {
  /** The throwaway rootfs (a directory). */
  rootfs: string;
  /** The lab's directory (the rootfs's parent): bundle dir for planContainer. */
  labDir: string;
  /** Host path of the marker file, outside the rootfs. */
  marker: string;
  /** The directory leaked into the child ("/"). */
  leakDir: string;
  /** The lab's own pid and mount namespace inode, as the host sees them. */
  hostPid: number;
  hostMountNsInode: number;
  /** The fd the probe's result line goes to (becomes the child's 1 and 2). */
  outputFd: number;
  /** /proc/sys/kernel/cap_last_cap. */
  lastCap: number;
  /** The lab's permitted capabilities (what "all capabilities kept" means here). */
  permittedCaps: number;
  /** The default container: `husk run`'s embedded spec (host /usr, /etc... read-only over a tmpfs). */
  container: { spec: Spec; symlinks: [string, string][]; cgroupMount: CgroupMountSource };
}

const CAP_SYS_CHROOT = 18;

export const configurations: readonly ConfigurationInfo[] = [
  {
    id: 'chroot',
    number: 1,
    title: 'chroot only (host mount ns, CAP_SYS_CHROOT kept)',
    isDefault: false,
    closesFds: false,
    explanation:
      'chroot(2) changes one pointer of the process, its root directory, and nothing else: not the cwd, not the mount ' +
      'namespace, not the open fds. The host\'s whole tree is still mounted around the jail. Like chroot(8), this ' +
      'jailer closes no fds.',
  },
  {
    id: 'chroot-no-cap',
    number: 2,
    title: 'chroot, CAP_SYS_CHROOT dropped',
    isDefault: false,
    closesFds: false,
    explanation:
      'As (1), then CAP_SYS_CHROOT is dropped from the bounding, effective and permitted sets: the process can no ' +
      'longer call chroot(2) or setns(2) into a mount namespace. Every other capability (CAP_SYS_ADMIN included) stays.',
  },
  {
    id: 'no-pivot',
    number: 3,
    title: 'chroot in a private mount ns (husk --no-pivot: MS_MOVE + chroot)',
    isDefault: false,
    closesFds: true,
    explanation:
      'New mount and pid namespaces, / made rslave, the rootfs bound onto itself, moved over / (MS_MOVE) and chroot(".") ' +
      'into it. The rootfs mount now covers the namespace\'s root mount, but that root mount (a copy of the host\'s ' +
      'tree) is still there beneath it. Capabilities are kept; fds are closed as husk does.',
  },
  {
    id: 'pivot-root',
    number: 4,
    title: 'pivot_root, old root detached (husk\'s jail)',
    isDefault: true,
    closesFds: true,
    explanation:
      'New mount and pid namespaces, / made rslave, the rootfs bound onto itself, then pivot_root(".", ".") makes it the ' +
      'root mount of the namespace, and umount2(MNT_DETACH) drops the old root: no mount of the host\'s tree is left ' +
      'in the namespace. Capabilities are all kept (root with CAP_SYS_ADMIN), so it is the jail that is tested, ' +
      'not the capability set. Fds are closed as husk does (close_fds: CLOSE_RANGE_CLOEXEC before exec).',
  },
  {
    id: 'container',
    number: 5,
    title: 'the default container of `husk run`',
    isDefault: true,
    closesFds: true,
    explanation:
      'The plan of `husk run --rm ID -- CMD` itself (planContainer over the embedded spec): pid, net, ipc, uts, mount ' +
      'namespaces (and cgroup on cgroup v2), a tmpfs root with the host\'s /usr, /etc... bound read-only, proc, sysfs, ' +
      '/dev, masked and read-only paths, pivot_root, runc\'s default capabilities (CAP_AUDIT_WRITE, CAP_KILL, ' +
      'CAP_NET_BIND_SERVICE), no_new_privs, fds closed; only the exec is replaced by the attempt. It runs in the ' +
      'lab\'s own cgroup (no cgroup is created).',
  },
  {
    id: 'pivot-root-open-fds',
    number: 6,
    title: 'pivot_root, but the runtime leaks its fds',
    isDefault: false,
    closesFds: false,
    explanation:
      'As (4) without close_fds: what a runtime that forgets its fds gives (runc CVE-2024-21626). The jail is as ' +
      'strong as (4); the open fd is not part of it.',
  },
];

export const attempts: readonly AttemptInfo[] = [
  {
    id: 'classic',
    title: 'classic chroot escape (mkdir, chroot, .. x64, chroot .)',
    explanation:
      'mkdir a directory, chroot(2) into it while the cwd stays outside it (chroot moves no cwd), then chdir("..") 64 ' +
      'times: path walking stops ".." only at the process\'s root or at the root of the mount namespace, and the stale ' +
      'cwd is below neither, so it climbs to the top of the tree; chroot(".") makes that the root.',
  },
  {
    id: 'leaked-fd',
    title: 'fchdir to a leaked fd of the host\'s /',
    explanation:
      'An fd refers to an open directory (a mount and a dentry), not to a path: it stays valid whatever chroot or ' +
      'pivot_root does afterwards, and keeps its mount alive even when that mount is detached. fchdir(fd) puts the cwd ' +
      'on the host\'s / and relative paths go on from there.',
  },
  {
    id: 'proc-root',
    title: '/proc/<host pid>/root, then /proc/1/root',
    explanation:
      '/proc/<pid>/root is a "magic link": opening through it jumps to that process\'s root, ignoring the opener\'s. A ' +
      'procfs that shows a host process (any procfs of the host\'s pid namespace, which a process with CAP_SYS_ADMIN ' +
      'can mount) is a way out. Only a pid namespace of its own limits what procfs shows.',
  },
  {
    id: 'mount-ns',
    title: 'detach the jail\'s root mount, setns into the own mount ns',
    explanation:
      'setns(2) into a mount namespace, even the one the process is in, sets root and cwd to that namespace\'s root ' +
      '(following mounts stacked on it). Before that, umount2("/", MNT_DETACH) uncovers whatever lies beneath the ' +
      'jail\'s root mount (never done in the host\'s own mount namespace). Needs CAP_SYS_ADMIN and CAP_SYS_CHROOT.',
  },
];

const probeNumbers: Record<AttemptId, number> = { classic: 1, 'leaked-fd': 2, 'proc-root': 3, 'mount-ns': 4 };

function plantOp(setup: LabSetup): LabOp {
  return { kind: 'escape_probe', probe: 0, path: setup.leakDir, hostPid: setup.hostPid, hostMountNsInode: setup.hostMountNsInode };
}

function attemptOp(setup: LabSetup, attempt: AttemptId): LabOp {
  return {
    kind: 'escape_probe',
    probe: probeNumbers[attempt],
    path: setup.marker,
    hostPid: setup.hostPid,
    hostMountNsInode: setup.hostMountNsInode,
  };
}

/** The ops that make the rootfs a mount point of a private, rslave namespace and enter it (as planContainer does). */
function privateRootfs(setup: LabSetup): PlanOp[] {
  return [
    { kind: 'mount', source: null, target: '/', fstype: null, flags: c.MS_SLAVE | c.MS_REC, data: null, targetMode: 'as-is' },
    { kind: 'mount', source: setup.rootfs, target: setup.rootfs, fstype: null, flags: c.MS_BIND | c.MS_REC, data: null, targetMode: 'as-is' },
    { kind: 'enter_rootfs', path: setup.rootfs },
  ];
}

/** The plan of one row: the jail of `configuration`, then `attempt` in place of exec. */
export function planRow(setup: LabSetup, configuration: ConfigurationId, attempt: AttemptId): Plan<PlanOp> {
  const stdio: PlanOp = { kind: 'stdio', fds: [-1, setup.outputFd, setup.outputFd] };
  const start: PlanOp[] = [plantOp(setup), { kind: 'pdeathsig', signal: 9 }];
  const probe = attemptOp(setup, attempt);
  switch (configuration) {
    case 'chroot':
      return { cloneFlags: 0, ops: [...start, { kind: 'chroot', path: setup.rootfs, chdir: true }, stdio, probe] };
    case 'chroot-no-cap': {
      // BigInt: capability masks pass 32 bits, where JS's bitwise operators stop.
      const keep = Number(BigInt(setup.permittedCaps) & ~(1n << BigInt(CAP_SYS_CHROOT)));
      return {
        cloneFlags: 0,
        ops: [
          ...start,
          { kind: 'chroot', path: setup.rootfs, chdir: true },
          { kind: 'bounding', keep, lastCap: setup.lastCap },
          { kind: 'caps', effective: keep, permitted: keep, inheritable: 0, ambient: 0 },
          stdio,
          probe,
        ],
      };
    }
    case 'no-pivot':
    case 'pivot-root':
    case 'pivot-root-open-fds': {
      const jail: PlanOp = configuration === 'no-pivot' ? { kind: 'move_chroot' } : { kind: 'pivot_root' };
      const closeFds: PlanOp[] = configuration === 'pivot-root-open-fds' ? [] : [{ kind: 'close_fds', preserve: 0 }];
      return {
        cloneFlags: c.CLONE_NEWNS | c.CLONE_NEWPID,
        ops: [...start, ...privateRootfs(setup), jail, stdio, ...closeFds, probe],
      };
    }
    case 'container':
      return planDefaultContainer(setup, attempt);
  }
}

/**
 * The default container exactly as the runtime plans it, with two changes only:
 * the leak planted first, and the attempt in place of finding and exec'ing the
 * program (resolve_exec, exec).
 */
function planDefaultContainer(setup: LabSetup, attempt: AttemptId): Plan<PlanOp> {
  const { spec, symlinks, cgroupMount } = setup.container;
  const plan = planContainer({
    spec,
    rootfs: setup.rootfs,
    bundle: setup.labDir,
    lastCap: setup.lastCap,
    cgroupMount,
    rootfsTmpfs: true,
    rootfsSymlinks: symlinks,
    stdio: [-1, setup.outputFd, setup.outputFd],
  });
  const ops: PlanOp[] = [plantOp(setup)];
  for (const op of plan.ops) {
    if (op.kind === 'resolve_exec') continue;
    ops.push(op.kind === 'exec' ? attemptOp(setup, attempt) : op);
  }
  return { cloneFlags: plan.cloneFlags, ops };
}
