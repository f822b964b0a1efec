import { SpecError } from '../spec/errors.js';
import type { LinuxSeccomp, Process } from '../spec/types.js';
import { cpuAffinityOp } from './attributes.js';
import { cloneFlagOf, inJoinOrder, type NamespaceType } from './namespaces.js';
import { type Plan, type PlanOp, SyncPoint } from './ops.js';
import { processOps, seccompOps } from './process.js';

export interface ExecPlanInput {
  /** The process to run: the container's own process config with the exec's overrides applied. */
  process: Process;
  /** The container's namespaces to enter, as /proc/<init>/ns/* paths (only those that differ from ours). */
  joins: { type: NamespaceType; path: string }[];
  lastCap: number;
  /** The container's linux.seccomp: exec'd processes get the same filter. */
  seccomp?: LinuxSeccomp | undefined;
  preserveFds?: number;
  stdio?: [number, number, number];
  /**
   * The init's root (/proc/<init>/root) when the container shares our mount namespace
   * (it has none of its own): no setns moves us there, so the process chroots into it.
   */
  chroot?: string;
  /** setgroups(2) works in the container's user namespace (default true); see processOps. */
  setgroups?: boolean;
}

/**
 * The plan of `husk exec`: enter a running container's namespaces, clone the
 * process into its pid namespace (a sibling, our child), then take the process's attributes as
 * the container's init did (rlimits, user, capabilities, cwd) and exec.
 */
export function planExec(input: ExecPlanInput): Plan {
  const { process } = input;
  if (!process.args || process.args.length === 0) throw new SpecError('process.args', 'exec needs a command');
  // execCPUAffinity (runtime-spec): `initial` while the runtime's child works outside the
  // container's cgroup, `final` once it is in it (joining a cpuset resets the affinity).
  const affinity = process.execCPUAffinity ?? {};
  const ops: PlanOp[] = [
    { kind: 'dumpable', value: 0 },
    { kind: 'pdeathsig', signal: 9 },
    ...cpuAffinityOp(affinity.initial, 'process.execCPUAffinity.initial'),
    { kind: 'sync', point: SyncPoint.AfterClone },
    ...cpuAffinityOp(affinity.final, 'process.execCPUAffinity.final'),
  ];
  const joins = inJoinOrder(input.joins);
  for (const join of joins) ops.push({ kind: 'setns', path: join.path, nstype: cloneFlagOf[join.type], what: join.type });
  if (input.chroot !== undefined) ops.push({ kind: 'chroot', path: input.chroot, chdir: true });
  if (joins.some((j) => j.type === 'pid')) {
    ops.push({ kind: 'clone_sibling' });
    ops.push({ kind: 'pdeathsig', signal: 9 }); // a clone does not inherit it
  }

  ops.push(...processOps(process, { lastCap: input.lastCap, stdio: input.stdio, seccomp: input.seccomp, setgroups: input.setgroups ?? true }));

  const env = process.env ?? [];
  const file = process.args[0]!;
  ops.push({ kind: 'resolve_exec', file, env });
  ops.push({ kind: 'close_fds', preserve: input.preserveFds ?? 0 });
  // From here the process outlives `husk exec` (-d, or a killed runtime), as with runc.
  ops.push({ kind: 'pdeathsig', signal: 0 });
  if (process.noNewPrivileges) ops.push(...seccompOps(input.seccomp));
  ops.push({ kind: 'exec', file, args: process.args, env });
  return { cloneFlags: 0, ops };
}
