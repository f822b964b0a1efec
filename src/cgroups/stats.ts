/** What stats() returns, the same shape on v1 and v2. Units are in the field names. */
export interface MemoryStats {
  usageBytes: number;
  /** Highest usage seen (v2 memory.peak, kernel >= 5.19; v1 max_usage_in_bytes). */
  peakBytes?: number;
  /** undefined = unlimited. */
  limitBytes?: number;
  swapUsageBytes?: number;
  events: {
    /** v2 memory.events "max"; v1: memory.failcnt (times the limit was hit). */
    max: number;
    /** v2 only: times the cgroup entered OOM. */
    oom?: number;
    /** Processes killed by the OOM killer (v2 memory.events; v1 memory.oom_control). */
    oomKill: number;
    high?: number;
    low?: number;
  };
}

export interface PidsStats {
  current: number;
  /** undefined = unlimited. */
  limit?: number;
}

export interface CpuStats {
  usageUsec: number;
  userUsec: number;
  systemUsec: number;
  /** Only with the cpu controller (a quota can only be enforced with it). */
  periods?: number;
  throttledPeriods?: number;
  throttledUsec?: number;
}

export interface IoDeviceStats {
  major: number;
  minor: number;
  readBytes: number;
  writeBytes: number;
  readOps: number;
  writeOps: number;
}

export interface HugetlbStats {
  usageBytes: number;
  limitBytes?: number;
  /** Allocations that failed because of the limit. */
  failures: number;
}

export interface CgroupStats {
  memory?: MemoryStats;
  pids?: PidsStats;
  cpu?: CpuStats;
  io?: { devices: IoDeviceStats[] };
  /** By page size ("2MB"). */
  hugetlb?: Record<string, HugetlbStats>;
}
