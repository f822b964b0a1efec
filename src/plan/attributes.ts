/**
 * The process attributes the kernel sets with one system call each, from their
 * runtime-spec names to the numbers of the syscall ABI: process.scheduler
 * (sched_setattr), process.ioPriority (ioprio_set), process.execCPUAffinity
 * (sched_setaffinity), linux.personality (personality) and linux.memoryPolicy
 * (set_mempolicy). These tables are also what `husk features` reports.
 */
import { SpecError } from '../spec/errors.js';
import type { LinuxIOPriority, LinuxMemoryPolicy, LinuxPersonality, Scheduler } from '../spec/types.js';
import type { PlanOp } from './ops.js';

/** include/uapi/linux/sched.h. SCHED_ISO is in the spec but was never merged into Linux. */
export const SCHEDULER_POLICIES: Readonly<Record<string, number>> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};

/** include/uapi/linux/sched.h SCHED_FLAG_*. */
export const SCHEDULER_FLAGS: Readonly<Record<string, number>> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

/** include/uapi/linux/ioprio.h. */
export const IOPRIO_CLASSES: Readonly<Record<string, number>> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
const IOPRIO_CLASS_SHIFT = 13;

/** include/uapi/linux/personality.h: PER_LINUX, PER_LINUX32. */
export const PERSONALITY_DOMAINS: Readonly<Record<string, number>> = { LINUX: 0x0000, LINUX32: 0x0008 };

/** include/uapi/linux/mempolicy.h. */
export const MEMORY_POLICY_MODES: Readonly<Record<string, number>> = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
};
export const MEMORY_POLICY_FLAGS: Readonly<Record<string, number>> = {
  MPOL_F_NUMA_BALANCING: 1 << 13,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_STATIC_NODES: 1 << 15,
};

/** The highest CPU or node number the child's fixed-size masks hold (CPU_SETSIZE). */
const MAX_MASK_BIT = 1023;

/** "0-3,7" -> [0, 1, 2, 3, 7] (validated by the spec layer). */
export function parseNumberList(list: string, jsonPath: string): number[] {
  const out: number[] = [];
  for (const range of list === '' ? [] : list.split(',')) {
    const [low, high = low] = range.split('-').map(Number) as [number, number?];
    if (high! > MAX_MASK_BIT) throw new SpecError(jsonPath, `${high} is beyond the highest number husk can set (${MAX_MASK_BIT})`);
    for (let n = low; n <= high!; n++) out.push(n);
  }
  return out;
}

export function schedulerOp(scheduler: Scheduler, jsonPath: string): PlanOp {
  const policy = SCHEDULER_POLICIES[scheduler.policy];
  if (policy === undefined) throw new SpecError(`${jsonPath}.policy`, `cannot be applied: Linux has no ${scheduler.policy} scheduling policy`);
  const flags = (scheduler.flags ?? []).reduce((all, name) => all | SCHEDULER_FLAGS[name]!, 0);
  return {
    kind: 'sched_setattr',
    policy,
    flags,
    nice: scheduler.nice ?? 0,
    priority: scheduler.priority ?? 0,
    runtime: scheduler.runtime ?? 0,
    deadline: scheduler.deadline ?? 0,
    period: scheduler.period ?? 0,
  };
}

export function ioPriorityOp(io: LinuxIOPriority): PlanOp {
  return { kind: 'ioprio_set', value: (IOPRIO_CLASSES[io.class]! << IOPRIO_CLASS_SHIFT) | io.priority };
}

export function personalityOp(personality: LinuxPersonality): PlanOp {
  // config-linux.md: "Currently no flag values are supported."
  if ((personality.flags ?? []).length > 0) {
    throw new SpecError('linux.personality.flags', `cannot be applied: runtime-spec defines no personality flags (got ${JSON.stringify(personality.flags)})`);
  }
  return { kind: 'personality', persona: PERSONALITY_DOMAINS[personality.domain]! };
}

export function memoryPolicyOp(policy: LinuxMemoryPolicy): PlanOp {
  const flags = (policy.flags ?? []).reduce((all, name) => all | MEMORY_POLICY_FLAGS[name]!, 0);
  return {
    kind: 'set_mempolicy',
    mode: MEMORY_POLICY_MODES[policy.mode]! | flags,
    nodes: parseNumberList(policy.nodes ?? '', 'linux.memoryPolicy.nodes'),
  };
}

/** execCPUAffinity.initial or .final as an op; none for an absent or empty list. */
export function cpuAffinityOp(list: string | undefined, jsonPath: string): PlanOp[] {
  if (list === undefined || list === '') return [];
  return [{ kind: 'sched_setaffinity', cpus: parseNumberList(list, jsonPath) }];
}
