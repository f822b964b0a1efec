/** The cgroup v1 driver: resources -> files of the per-controller directories, and stats. */
import { normalizeDeviceRule, parseBlkioStat, parseFlatKeyed, v1DeviceLine, limitOrUnlimited } from './convert.js';
import { CgroupError } from './errors.js';
import { hasFile, readNumber, readOptional, writeCgroupFile } from './files.js';
import type { LinuxBlockIO, LinuxCPU, LinuxDeviceCgroup, LinuxHugepageLimit, LinuxMemory, LinuxNetwork } from './resources-types.js';
import type { CpuStats, HugetlbStats, IoDeviceStats, MemoryStats } from './stats.js';

const R = 'linux.resources';

/**
 * memory.limit_in_bytes and memory.memsw.limit_in_bytes must stay memsw >= limit at every
 * write, so the order depends on the direction of the change (runc's setMemoryAndSwap).
 */
export function applyMemoryV1(dir: string, mem: LinuxMemory): void {
  const limit = mem.limit ?? 0;
  let swap = mem.swap ?? 0;
  if (limit === -1 && swap === 0) swap = -1; // unlimited memory means unlimited memory+swap
  const hasMemsw = hasFile(dir, 'memory.memsw.limit_in_bytes');
  if (swap !== 0 && !hasMemsw && swap !== -1) {
    throw new CgroupError(`${R}.memory.swap: this kernel has no swap accounting (${dir}/memory.memsw.limit_in_bytes is missing)`, {
      path: dir,
      jsonPath: `${R}.memory.swap`,
      step: 'apply',
    });
  }
  const writeSwap = () => {
    if (swap !== 0 && hasMemsw) writeCgroupFile(dir, 'memory.memsw.limit_in_bytes', String(swap), `${R}.memory.swap`);
  };
  const writeLimit = () => {
    if (limit !== 0) writeCgroupFile(dir, 'memory.limit_in_bytes', String(limit), `${R}.memory.limit`);
  };
  const current = readNumber(dir, 'memory.limit_in_bytes') ?? 0;
  if (limit !== 0 && swap !== 0 && (swap === -1 || current < swap)) {
    writeSwap();
    writeLimit();
  } else {
    writeLimit();
    writeSwap();
  }
  if (mem.reservation) writeCgroupFile(dir, 'memory.soft_limit_in_bytes', String(mem.reservation), `${R}.memory.reservation`);
  if (mem.swappiness !== undefined) writeCgroupFile(dir, 'memory.swappiness', String(mem.swappiness), `${R}.memory.swappiness`);
  if (mem.disableOOMKiller) writeCgroupFile(dir, 'memory.oom_control', '1', `${R}.memory.disableOOMKiller`);
  // TCP buffer memory (v1 only; validate refuses it elsewhere). 0 = not set, -1 = unlimited.
  if (mem.kernelTCP) writeCgroupFile(dir, 'memory.kmem.tcp.limit_in_bytes', String(mem.kernelTCP), `${R}.memory.kernelTCP`);
}

export function applyCpuV1(dir: string, cpu: LinuxCPU): void {
  if (cpu.shares) writeCgroupFile(dir, 'cpu.shares', String(cpu.shares), `${R}.cpu.shares`);
  // The kernel checks quota against period at each write: set the period first, and if the
  // new period does not fit the old quota, set it again after the quota (as runc).
  let periodPending = false;
  if (cpu.period) {
    try {
      writeCgroupFile(dir, 'cpu.cfs_period_us', String(cpu.period), `${R}.cpu.period`);
    } catch (err) {
      if ((err as CgroupError).code !== 'EINVAL' || !cpu.quota) throw err;
      periodPending = true;
    }
  }
  if (cpu.quota) writeCgroupFile(dir, 'cpu.cfs_quota_us', String(cpu.quota), `${R}.cpu.quota`);
  if (periodPending) writeCgroupFile(dir, 'cpu.cfs_period_us', String(cpu.period), `${R}.cpu.period`);
  if (cpu.burst !== undefined) writeCgroupFile(dir, 'cpu.cfs_burst_us', String(cpu.burst), `${R}.cpu.burst`);
  if (cpu.idle !== undefined) writeCgroupFile(dir, 'cpu.idle', String(cpu.idle), `${R}.cpu.idle`);
  if (cpu.realtimePeriod) writeCgroupFile(dir, 'cpu.rt_period_us', String(cpu.realtimePeriod), `${R}.cpu.realtimePeriod`);
  if (cpu.realtimeRuntime) writeCgroupFile(dir, 'cpu.rt_runtime_us', String(cpu.realtimeRuntime), `${R}.cpu.realtimeRuntime`);
}

export function applyCpusetV1(dir: string, cpu: LinuxCPU): void {
  if (cpu.cpus) writeCgroupFile(dir, 'cpuset.cpus', cpu.cpus, `${R}.cpu.cpus`);
  if (cpu.mems) writeCgroupFile(dir, 'cpuset.mems', cpu.mems, `${R}.cpu.mems`);
}

export function applyPidsV1(dir: string, limit: number): void {
  if (limit !== 0) writeCgroupFile(dir, 'pids.max', limit === -1 ? 'max' : String(limit), `${R}.pids.limit`);
}

export function applyBlkioV1(dir: string, bio: LinuxBlockIO): void {
  const p = `${R}.blockIO`;
  // blkio.weight exists only with CFQ (gone since 5.0); BFQ has blkio.bfq.weight.
  const weightFile = hasFile(dir, 'blkio.weight') ? 'blkio' : 'blkio.bfq';
  if (bio.weight) writeCgroupFile(dir, `${weightFile}.weight`, String(bio.weight), `${p}.weight`);
  if (bio.leafWeight && hasFile(dir, 'blkio.leaf_weight')) writeCgroupFile(dir, 'blkio.leaf_weight', String(bio.leafWeight), `${p}.leafWeight`);
  (bio.weightDevice ?? []).forEach((d, i) => {
    if (d.weight) writeCgroupFile(dir, `${weightFile}.weight_device`, `${d.major}:${d.minor} ${d.weight}`, `${p}.weightDevice[${i}]`);
  });
  const throttles = [
    ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
    ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
    ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
    ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
  ] as const;
  for (const [field, file] of throttles) {
    (bio[field] ?? []).forEach((d, i) => writeCgroupFile(dir, file, `${d.major}:${d.minor} ${d.rate}`, `${p}.${field}[${i}]`));
  }
}

export function applyHugetlbV1(dir: string, limits: LinuxHugepageLimit[]): void {
  limits.forEach((h, i) => writeCgroupFile(dir, `hugetlb.${h.pageSize}.limit_in_bytes`, String(h.limit), `${R}.hugepageLimits[${i}]`));
}

/**
 * devices.deny "a" first (nothing allowed), then each rule in order, so the last rule
 * that matches decides, as in the eBPF program used on v2.
 */
export function applyDevicesV1(dir: string, devices: LinuxDeviceCgroup[]): void {
  if (devices.length === 0) return;
  writeCgroupFile(dir, 'devices.deny', 'a', `${R}.devices`);
  devices.forEach((d, i) => {
    const rule = normalizeDeviceRule(d);
    writeCgroupFile(dir, rule.allow ? 'devices.allow' : 'devices.deny', v1DeviceLine(rule), `${R}.devices[${i}]`);
  });
}

export function applyNetClsV1(dir: string, net: LinuxNetwork): void {
  if (net.classID !== undefined) writeCgroupFile(dir, 'net_cls.classid', String(net.classID), `${R}.network.classID`);
}

export function applyNetPrioV1(dir: string, net: LinuxNetwork): void {
  (net.priorities ?? []).forEach((p, i) => writeCgroupFile(dir, 'net_prio.ifpriomap', `${p.name} ${p.priority}`, `${R}.network.priorities[${i}]`));
}

export function memoryStatsV1(dir: string): MemoryStats | undefined {
  const usage = readNumber(dir, 'memory.usage_in_bytes');
  if (usage === undefined) return undefined;
  const oom = parseFlatKeyed(readOptional(dir, 'memory.oom_control') ?? '');
  const stats: MemoryStats = { usageBytes: usage, events: { max: readNumber(dir, 'memory.failcnt') ?? 0, oomKill: oom.oom_kill ?? 0 } };
  const peak = readNumber(dir, 'memory.max_usage_in_bytes');
  if (peak !== undefined) stats.peakBytes = peak;
  const limit = limitOrUnlimited(readNumber(dir, 'memory.limit_in_bytes') ?? Infinity);
  if (limit !== undefined) stats.limitBytes = limit;
  const memsw = readNumber(dir, 'memory.memsw.usage_in_bytes');
  if (memsw !== undefined) stats.swapUsageBytes = Math.max(0, memsw - usage);
  return stats;
}

/** USER_HZ: the unit of cpuacct.stat (100 on every Linux ABI). */
const USER_HZ = 100;

export function cpuStatsV1(cpuacctDir: string | undefined, cpuDir: string | undefined): CpuStats | undefined {
  if (cpuacctDir === undefined && cpuDir === undefined) return undefined;
  const stats: CpuStats = { usageUsec: 0, userUsec: 0, systemUsec: 0 };
  if (cpuacctDir !== undefined) {
    stats.usageUsec = Math.round((readNumber(cpuacctDir, 'cpuacct.usage') ?? 0) / 1000);
    const ticks = parseFlatKeyed(readOptional(cpuacctDir, 'cpuacct.stat') ?? '');
    stats.userUsec = ((ticks.user ?? 0) * 1_000_000) / USER_HZ;
    stats.systemUsec = ((ticks.system ?? 0) * 1_000_000) / USER_HZ;
  }
  if (cpuDir !== undefined) {
    const s = parseFlatKeyed(readOptional(cpuDir, 'cpu.stat') ?? '');
    stats.periods = s.nr_periods ?? 0;
    stats.throttledPeriods = s.nr_throttled ?? 0;
    stats.throttledUsec = Math.round((s.throttled_time ?? 0) / 1000);
  }
  return stats;
}

export function ioStatsV1(dir: string): IoDeviceStats[] {
  const bytes = parseBlkioStat(readOptional(dir, 'blkio.throttle.io_service_bytes_recursive') ?? '');
  const ops = parseBlkioStat(readOptional(dir, 'blkio.throttle.io_serviced_recursive') ?? '');
  const devices = new Set([...bytes.keys(), ...ops.keys()]);
  return [...devices].map((dev) => {
    const [major, minor] = dev.split(':').map(Number);
    return {
      major: major ?? 0,
      minor: minor ?? 0,
      readBytes: bytes.get(dev)?.Read ?? 0,
      writeBytes: bytes.get(dev)?.Write ?? 0,
      readOps: ops.get(dev)?.Read ?? 0,
      writeOps: ops.get(dev)?.Write ?? 0,
    };
  });
}

export function hugetlbStatsV1(dir: string, pageSizes: string[]): Record<string, HugetlbStats> {
  const out: Record<string, HugetlbStats> = {};
  for (const size of pageSizes) {
    const usage = readNumber(dir, `hugetlb.${size}.usage_in_bytes`);
    if (usage === undefined) continue;
    const stats: HugetlbStats = { usageBytes: usage, failures: readNumber(dir, `hugetlb.${size}.failcnt`) ?? 0 };
    const limit = limitOrUnlimited(readNumber(dir, `hugetlb.${size}.limit_in_bytes`) ?? Infinity);
    if (limit !== undefined) stats.limitBytes = limit;
    out[size] = stats;
  }
  return out;
}
