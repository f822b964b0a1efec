import type { WireOp, WirePlan } from '../native/index.js';
import type { Plan, PlanOp, PathMode } from './ops.js';

const pathModes: Record<PathMode, number> = { 'as-is': 0, 'in-root': 1, 'in-root-mkdir': 2, 'in-root-file': 3 };

/** The addon's wire form of one op (native/plan_decode.h): strings s[], numbers n[], vectors v[]. */
function encodeOp(op: PlanOp): WireOp {
  switch (op.kind) {
    case 'unshare':
      return { kind: op.kind, n: [op.flags] };
    case 'setns':
      return { kind: op.kind, s: [op.path], n: [op.nstype] };
    case 'sync':
      return { kind: op.kind, n: [op.point] };
    case 'enter_rootfs':
    case 'open_gate':
      return { kind: op.kind, s: [op.path] };
    case 'mount':
      return {
        kind: op.kind,
        s: [op.source, op.target, op.fstype, op.data],
        n: [op.flags, pathModes[op.targetMode], op.sourceInRoot ? 1 : 0],
      };
    case 'remount':
      return { kind: op.kind, s: [op.target], n: [op.flags, pathModes[op.targetMode], op.clearFlags] };
    case 'mknod':
      return { kind: op.kind, s: [op.path], n: [op.mode, op.dev, op.uid, op.gid] };
    case 'symlink':
      return { kind: op.kind, s: [op.target, op.path] };
    case 'mkdir':
    case 'mask':
    case 'readonly':
      return { kind: op.kind, s: [op.path] };
    case 'chroot':
      return { kind: op.kind, s: [op.path], n: [op.chdir ? 1 : 0] };
    case 'chdir':
      return { kind: op.kind, s: [op.path], n: [op.verifyInRoot ? 1 : 0] };
    case 'sethostname':
    case 'setdomainname':
      return { kind: op.kind, s: [op.name] };
    case 'write_file':
      return { kind: op.kind, s: [op.path, op.content], n: [op.create ? 1 : 0] };
    case 'rlimit':
      return { kind: op.kind, n: [op.resource, op.soft, op.hard] };
    case 'setgroups':
      return { kind: op.kind, nv: op.gids };
    case 'setuser':
      return { kind: op.kind, n: [op.uid, op.gid] };
    case 'bounding':
      return { kind: op.kind, n: [op.keep, op.lastCap] };
    case 'caps':
      return { kind: op.kind, n: [op.effective, op.permitted, op.inheritable, op.ambient] };
    case 'umask':
      return { kind: op.kind, n: [op.mask] };
    case 'seccomp':
      return { kind: op.kind, n: [op.flags], nv: op.filter };
    case 'pdeathsig':
      return { kind: op.kind, n: [op.signal] };
    case 'dumpable':
      return { kind: op.kind, n: [op.value] };
    case 'hook':
      return { kind: op.kind, s: [op.path], v: [op.args, op.env], n: [op.timeout] };
    case 'stdio':
      return { kind: op.kind, n: [...op.fds] };
    case 'close_fds':
      return { kind: op.kind, n: [op.preserve] };
    case 'resolve_exec':
      return { kind: op.kind, s: [op.file], v: [[], op.env] };
    case 'exec':
      return { kind: op.kind, s: [op.file], v: [op.args, op.env] };
    case 'escape_probe':
      return { kind: op.kind, s: [op.path], n: [op.probe, op.hostPid, op.hostMountNsInode] };
    case 'pivot_root':
    case 'move_chroot':
    case 'no_new_privs':
    case 'setsid':
    case 'open_pty':
    case 'wait_gate':
    case 'fork':
      return { kind: op.kind };
  }
}

export function encodePlan(plan: Plan, cgroupFd?: number): WirePlan {
  const wire: WirePlan = { cloneFlags: plan.cloneFlags, ops: plan.ops.map(encodeOp) };
  if (cgroupFd !== undefined) wire.cgroupFd = cgroupFd;
  return wire;
}
