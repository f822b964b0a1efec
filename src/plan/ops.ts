import type { LinuxIDMapping } from '../spec/types.js';
/**
 * The vocabulary of the child's plan: each op is one step the cloned child takes
 * with raw system calls (native/child.cc); kinds and fields are declared in
 * src/plan/schema.ts. TypeScript decides everything; the child only executes.
 * Ops are plain data, so a plan can be unit-tested, printed with --debug, and
 * its failing step named precisely.
 */

export { SyncPoint, type PathMode } from './schema.js';
import { SyncPoint, type SchemaOp } from './schema.js';

/** One step of the plan: its kinds and fields are declared in src/plan/schema.ts. */
export type PlanOp = SchemaOp;

/** Op: the escape lab's plans also hold its own ops (src/lab/schema.ts). */
export interface Plan<Op extends { kind: string } = PlanOp> {
  /** Namespaces created by clone3 itself (CLONE_NEW*). */
  cloneFlags: number;
  ops: Op[];
  /** Mounts the runtime prepares before the clone; each fills in the treeFd of its move_mount op. */
  detachedMounts?: DetachedMount[];
}

/**
 * An idmapped bind, made by the runtime (it has the privileges over the source's
 * filesystem that a child in a user namespace lacks, as runc 1.2 does): open_tree
 * (OPEN_TREE_CLONE) of the source, mount_setattr(MOUNT_ATTR_IDMAP) with a user
 * namespace holding the mappings, then the child attaches it (move_mount).
 */
export interface DetachedMount {
  /** The move_mount op this tree is for. */
  opIndex: number;
  source: string;
  /** rbind: the whole tree beneath source, not just its top mount. */
  recursive: boolean;
  idmap: { uidMappings: LinuxIDMapping[]; gidMappings: LinuxIDMapping[]; recursive: boolean };
}

/** A human description of an op, used in errors: "mount proc on /proc". */
export function describeOp(op: PlanOp): string {
  switch (op.kind) {
    case 'unshare':
      return `unshare(${op.what})`;
    case 'setns':
      return `setns(${op.what}) into ${op.path}`;
    case 'sync':
      return `wait for the runtime (${SyncPoint[op.point]})`;
    case 'enter_rootfs':
      return `enter rootfs ${op.path}`;
    case 'mount':
      return op.source === null
        ? `set mount propagation of ${op.target}`
        : `mount ${op.fstype ?? 'bind'} ${op.source} on ${op.target}`;
    case 'move_mount':
      return `mount ${op.what} on ${op.target}`;
    case 'mount_overlay':
      return `mount overlay of ${op.lowers.length} layer${op.lowers.length === 1 ? '' : 's'} on ${op.target}${op.options.length > 0 ? ` (${op.options.join(',')})` : ''}`;
    case 'mount_setattr':
      return `set the attributes of ${op.target}${op.recursive ? ' and the mounts beneath it' : ''}`;
    case 'remount':
      return `remount ${op.target}`;
    case 'mknod':
      return `mknod ${op.path}`;
    case 'symlink':
      return `symlink ${op.path} -> ${op.target}`;
    case 'mkdir':
      return `mkdir ${op.path}`;
    case 'mask':
      return `mask ${op.path}`;
    case 'readonly':
      return `make ${op.path} read-only`;
    case 'pivot_root':
      return 'pivot_root into the rootfs';
    case 'move_chroot':
      return 'move the rootfs to / and chroot (--no-pivot)';
    case 'chroot':
      return `chroot ${op.path}`;
    case 'chdir':
      return `chdir to ${op.path}`;
    case 'sethostname':
      return `sethostname ${op.name}`;
    case 'setdomainname':
      return `setdomainname ${op.name}`;
    case 'loopback_up':
      return 'bring the loopback interface (lo) up';
    case 'write_file':
      return `write ${op.path}`;
    case 'sysctl':
      return `write sysctl ${op.file.replace(/\//g, '.')} into the container's /proc/sys (a procfs of its own, nothing mounted or linked over it)`;
    case 'rlimit':
      return `setrlimit ${op.name}`;
    case 'setgroups':
      return `setgroups [${op.gids.join(',')}]`;
    case 'setuser':
      return `set uid ${op.uid} gid ${op.gid}`;
    case 'bounding':
      return 'drop capabilities from the bounding set';
    case 'caps':
      return 'set capabilities';
    case 'no_new_privs':
      return 'set no_new_privs';
    case 'seccomp':
      return `install the seccomp filter (${op.filter.length / 2} instructions)`;
    case 'umask':
      return `umask ${op.mask.toString(8)}`;
    case 'setsid':
      return 'setsid';
    case 'pdeathsig':
      return 'set the parent-death signal';
    case 'dumpable':
      return 'set dumpable';
    case 'join_session_keyring':
      return `join a new session keyring ${op.name}`;
    case 'open_pty':
      return op.console ? 'open the console pty and bind it over /dev/console' : 'open the console pty';
    case 'personality':
      return `set the personality 0x${op.persona.toString(16)} (linux.personality)`;
    case 'sched_setattr':
      return `sched_setattr policy ${op.policy} (process.scheduler)`;
    case 'ioprio_set':
      return `ioprio_set class ${op.value >> 13} level ${op.value & 7} (process.ioPriority)`;
    case 'sched_setaffinity':
      return `sched_setaffinity to CPUs ${op.cpus.join(',')} (process.execCPUAffinity)`;
    case 'set_mempolicy':
      return `set_mempolicy mode ${op.mode & 0xff} nodes ${op.nodes.join(',')} (linux.memoryPolicy)`;
    case 'open_gate':
      return `open the start gate ${op.path}`;
    case 'wait_gate':
      return 'wait at the start gate';
    case 'hook':
      return `${op.name} hook ${op.path}`;
    case 'stdio':
      return 'set up stdio';
    case 'close_fds':
      return 'close inherited fds';
    case 'resolve_exec':
      return `find executable "${op.file}"`;
    case 'exec':
      return `exec ${op.file}`;
    case 'clone_sibling':
      return 'clone into the pid namespace';
  }
}
