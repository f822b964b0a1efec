import { compileSeccomp, packFilter } from '../seccomp/compile.js';
import { capabilityMask } from '../spec/capabilities.js';
import { SpecError } from '../spec/errors.js';
import { rlimitNumber } from '../spec/rlimits.js';
import type { LinuxSeccomp, Process } from '../spec/types.js';
import { ioPriorityOp, schedulerOp } from './attributes.js';
import type { PlanOp } from './ops.js';

/**
 * The process's own attributes, the same for a container's init and for exec:
 * rlimits, a session (and the pty as its controlling terminal), stdio, the cwd
 * (checked to be inside the root), then its identity. Without noNewPrivileges the
 * seccomp filter comes before the identity (see seccompOps); with it, the caller
 * places seccompOps right before exec.
 */
export function processOps(
  process: Process,
  options: {
    lastCap: number;
    stdio?: [number, number, number] | undefined;
    seccomp?: LinuxSeccomp | undefined;
    /** The container's init: its pty is also its /dev/console (config-linux.md's default devices). */
    console?: boolean;
    /** Attributes of the container's own (linux.personality, linux.memoryPolicy), set with the process's. */
    containerOps?: PlanOp[];
    /**
     * setgroups(2) works in the process's user namespace (default true). false where it is
     * denied (an unprivileged user's own gid mapped alone): the groups are left as they are.
     */
    setgroups?: boolean;
  },
): PlanOp[] {
  const ops: PlanOp[] = [...rlimitOps(process), { kind: 'setsid' }];
  if (process.terminal) {
    const size = process.consoleSize;
    ops.push({ kind: 'open_pty', rows: size?.height ?? 0, columns: size?.width ?? 0, console: options.console ?? false });
  } else if (options.stdio !== undefined) {
    ops.push({ kind: 'stdio', fds: options.stdio });
  }
  ops.push({ kind: 'chdir', path: process.cwd, verifyInRoot: true });
  // While the process still has every capability (a real-time class or policy needs
  // CAP_SYS_ADMIN / CAP_SYS_NICE), and before a seccomp profile could refuse the calls.
  if (process.ioPriority !== undefined) ops.push(ioPriorityOp(process.ioPriority));
  if (process.scheduler !== undefined) ops.push(schedulerOp(process.scheduler, 'process.scheduler'));
  ops.push(...(options.containerOps ?? []));
  if (!process.noNewPrivileges) ops.push(...seccompOps(options.seccomp));
  ops.push(...identityOps(process, options.lastCap, options.setgroups ?? true));
  return ops;
}

/**
 * linux.seccomp as its step, placed as runc places it: without no_new_privs,
 * installing a filter needs CAP_SYS_ADMIN, so it goes before the capabilities
 * are dropped (the profile must then allow setgroups, setresuid, capset, prctl,
 * close_range, execve...); with no_new_privs it goes as late as possible, right
 * before exec, so the fewest of our own syscalls run under it.
 */
export function seccompOps(seccomp: LinuxSeccomp | undefined): PlanOp[] {
  if (seccomp === undefined) return [];
  const program = compileSeccomp(seccomp);
  return [{ kind: 'seccomp', flags: program.flags, filter: packFilter(program.filter) }];
}

/** process.rlimits as steps; JSON gives 2**64 for RLIM_INFINITY, the child takes -1 for it. */
export function rlimitOps(process: Process): PlanOp[] {
  const value = (v: number): number => (v >= 2 ** 64 - 1 ? -1 : v);
  return (process.rlimits ?? []).map((rlimit, i) => {
    const resource = rlimitNumber(rlimit.type);
    if (resource === undefined) throw new SpecError(`process.rlimits[${i}].type`, `unknown rlimit "${rlimit.type}"`);
    return { kind: 'rlimit', name: rlimit.type, resource, soft: value(rlimit.soft), hard: value(rlimit.hard) };
  });
}

/**
 * Who the process is, in the order the kernel allows: groups, the bounding set
 * (needs CAP_SETPCAP, so before the uid changes), the uid/gid (keeping the
 * permitted set), then the capability sets, no_new_privs and the umask.
 */
export function identityOps(process: Process, lastCap: number, setgroups = true): PlanOp[] {
  const caps = process.capabilities ?? {};
  const user = process.user;
  const permitted = capabilityMask(caps.permitted ?? []);
  const inheritable = capabilityMask(caps.inheritable ?? []);
  // The kernel raises an ambient capability only if it is permitted and inheritable;
  // runc skips the others with a warning (`runc spec` of runc 1.1 asks for ambient
  // capabilities without inheritable ones), and so do we.
  const ambient = (caps.ambient ?? []).filter((name) => {
    const bit = capabilityMask([name]);
    return Math.floor(permitted / bit) % 2 === 1 && Math.floor(inheritable / bit) % 2 === 1;
  });
  if (!setgroups && (user.additionalGids?.length ?? 0) > 0) {
    throw new SpecError('process.user.additionalGids', 'cannot be set: setgroups(2) is denied in this user namespace');
  }
  const ops: PlanOp[] = [
    ...(setgroups ? [{ kind: 'setgroups', gids: user.additionalGids ?? [] } as const] : []),
    { kind: 'bounding', keep: capabilityMask(caps.bounding ?? []), lastCap },
    { kind: 'setuser', uid: user.uid, gid: user.gid },
    { kind: 'caps', effective: capabilityMask(caps.effective ?? []), permitted, inheritable, ambient: capabilityMask(ambient) },
  ];
  if (process.noNewPrivileges) ops.push({ kind: 'no_new_privs' });
  ops.push({ kind: 'umask', mask: user.umask ?? 0o022 });
  return ops;
}
