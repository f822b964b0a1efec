/** The cgroup v2 driver: resources -> files of one cgroup2 directory, and its stats. */
import { native } from '../native/index.js';
import { blkioWeightToIoWeight, cpuMax, limitOrUnlimited, ioMaxLine, normalizeDeviceRule, parseFlatKeyed, parseIoStat, sharesToWeight, swapToV2, v2Limit } from './convert.js';
import { CgroupError } from './errors.js';
import { hasFile, readNumber, readOptional, writeCgroupFile } from './files.js';
import type { LinuxBlockIO, LinuxCPU, LinuxDeviceCgroup, LinuxHugepageLimit, LinuxMemory } from './resources-types.js';
import type { CpuStats, HugetlbStats, IoDeviceStats, MemoryStats } from './stats.js';

const R = 'linux.resources';

export function applyMemoryV2(dir: string, mem: LinuxMemory): void {
  const swap = swapToV2(mem.swap, mem.limit);
  // swap first, as runc: lowering memory.max below the current swap setting is fine either way.
  if (swap !== undefined) {
    if (hasFile(dir, 'memory.swap.max')) writeCgroupFile(dir, 'memory.swap.max', v2Limit(swap), `${R}.memory.swap`);
    else if (swap !== -1) {
      throw new CgroupError(`${R}.memory.swap: this kernel has no swap accounting (${dir}/memory.swap.max is missing)`, {
        path: dir,
        jsonPath: `${R}.memory.swap`,
        step: 'apply',
      });
    }
  }
  if (mem.limit) writeCgroupFile(dir, 'memory.max', v2Limit(mem.limit), `${R}.memory.limit`);
  if (mem.reservation) writeCgroupFile(dir, 'memory.low', v2Limit(mem.reservation), `${R}.memory.reservation`);
}

export function applyCpuV2(dir: string, cpu: LinuxCPU): void {
  if (cpu.shares) writeCgroupFile(dir, 'cpu.weight', String(sharesToWeight(cpu.shares)), `${R}.cpu.shares`);
  const max = cpuMax(cpu.quota, cpu.period, readOptional(dir, 'cpu.max'));
  if (max !== undefined) writeCgroupFile(dir, 'cpu.max', max, `${R}.cpu.quota`);
  if (cpu.burst !== undefined) writeCgroupFile(dir, 'cpu.max.burst', String(cpu.burst), `${R}.cpu.burst`);
  if (cpu.idle !== undefined) writeCgroupFile(dir, 'cpu.idle', String(cpu.idle), `${R}.cpu.idle`);
}

export function applyCpusetV2(dir: string, cpu: LinuxCPU): void {
  if (cpu.cpus) writeCgroupFile(dir, 'cpuset.cpus', cpu.cpus, `${R}.cpu.cpus`);
  if (cpu.mems) writeCgroupFile(dir, 'cpuset.mems', cpu.mems, `${R}.cpu.mems`);
}

export function applyPidsV2(dir: string, limit: number): void {
  if (limit !== 0) writeCgroupFile(dir, 'pids.max', v2Limit(limit), `${R}.pids.limit`);
}

export function applyIoV2(dir: string, bio: LinuxBlockIO): void {
  const p = `${R}.blockIO`;
  const bfq = hasFile(dir, 'io.bfq.weight');
  if (bio.weight) {
    // io.bfq.weight takes blkio's 1..1000 scale as is; io.weight needs the conversion.
    if (bfq) writeCgroupFile(dir, 'io.bfq.weight', String(bio.weight), `${p}.weight`);
    else writeCgroupFile(dir, 'io.weight', String(blkioWeightToIoWeight(bio.weight)), `${p}.weight`);
  }
  (bio.weightDevice ?? []).forEach((d, i) => {
    if (!d.weight) return;
    if (bfq) writeCgroupFile(dir, 'io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`, `${p}.weightDevice[${i}]`);
    else writeCgroupFile(dir, 'io.weight', `${d.major}:${d.minor} ${blkioWeightToIoWeight(d.weight)}`, `${p}.weightDevice[${i}]`);
  });
  const throttles = [
    ['throttleReadBpsDevice', 'rbps'],
    ['throttleWriteBpsDevice', 'wbps'],
    ['throttleReadIOPSDevice', 'riops'],
    ['throttleWriteIOPSDevice', 'wiops'],
  ] as const;
  for (const [field, key] of throttles) {
    (bio[field] ?? []).forEach((d, i) => writeCgroupFile(dir, 'io.max', ioMaxLine(d.major, d.minor, key, d.rate), `${p}.${field}[${i}]`));
  }
}

export function applyHugetlbV2(dir: string, limits: LinuxHugepageLimit[]): void {
  limits.forEach((h, i) => writeCgroupFile(dir, `hugetlb.${h.pageSize}.max`, String(h.limit), `${R}.hugepageLimits[${i}]`));
}

export function applyUnified(dir: string, unified: Record<string, string>): void {
  for (const [key, value] of Object.entries(unified)) writeCgroupFile(dir, key, value, `${R}.unified[${JSON.stringify(key)}]`);
}

/**
 * Device rules on v2: attach the new eBPF program first, then detach the ones attached
 * before (runc's order: the cgroup is never left without a filter during an update).
 */
export function applyDevicesV2(dir: string, devices: LinuxDeviceCgroup[]): number | undefined {
  const before = native.queryDeviceFilters(dir);
  if (devices.length === 0) {
    for (const id of before) native.detachDeviceFilter(dir, id);
    return undefined;
  }
  const rules = devices.map(normalizeDeviceRule);
  let programId: number;
  try {
    programId = native.attachDeviceFilter(dir, rules).programId;
  } catch (err) {
    const e = err as { code?: string; errno?: number; message?: string };
    throw new CgroupError(`${R}.devices: loading/attaching the eBPF device filter on ${dir}: ${e.message ?? String(err)}`, {
      path: dir,
      jsonPath: `${R}.devices`,
      code: e.code,
      errno: e.errno,
      step: 'apply',
      cause: err,
    });
  }
  for (const id of before) if (id !== programId) native.detachDeviceFilter(dir, id);
  return programId;
}

export function memoryStatsV2(dir: string): MemoryStats | undefined {
  const usage = readNumber(dir, 'memory.current');
  if (usage === undefined) return undefined;
  const events = parseFlatKeyed(readOptional(dir, 'memory.events') ?? '');
  const stats: MemoryStats = {
    usageBytes: usage,
    events: { max: events.max ?? 0, oom: events.oom ?? 0, oomKill: events.oom_kill ?? 0, high: events.high ?? 0, low: events.low ?? 0 },
  };
  const peak = readNumber(dir, 'memory.peak');
  if (peak !== undefined) stats.peakBytes = peak;
  const limit = limitOrUnlimited(readNumber(dir, 'memory.max') ?? Infinity);
  if (limit !== undefined) stats.limitBytes = limit;
  const swap = readNumber(dir, 'memory.swap.current');
  if (swap !== undefined) stats.swapUsageBytes = swap;
  return stats;
}

/** cpu.stat exists in every v2 cgroup; the throttling fields only with the cpu controller. */
export function cpuStatsV2(dir: string): CpuStats | undefined {
  const text = readOptional(dir, 'cpu.stat');
  if (text === undefined) return undefined;
  const s = parseFlatKeyed(text);
  const stats: CpuStats = { usageUsec: s.usage_usec ?? 0, userUsec: s.user_usec ?? 0, systemUsec: s.system_usec ?? 0 };
  if (s.nr_periods !== undefined) {
    stats.periods = s.nr_periods;
    stats.throttledPeriods = s.nr_throttled ?? 0;
    stats.throttledUsec = s.throttled_usec ?? 0;
  }
  return stats;
}

export function ioStatsV2(dir: string): IoDeviceStats[] | undefined {
  const text = readOptional(dir, 'io.stat');
  if (text === undefined) return undefined;
  return parseIoStat(text).map(({ major, minor, fields }) => ({
    major,
    minor,
    readBytes: fields.rbytes ?? 0,
    writeBytes: fields.wbytes ?? 0,
    readOps: fields.rios ?? 0,
    writeOps: fields.wios ?? 0,
  }));
}

export function hugetlbStatsV2(dir: string, pageSizes: string[]): Record<string, HugetlbStats> {
  const out: Record<string, HugetlbStats> = {};
  for (const size of pageSizes) {
    const usage = readNumber(dir, `hugetlb.${size}.current`);
    if (usage === undefined) continue;
    const stats: HugetlbStats = { usageBytes: usage, failures: parseFlatKeyed(readOptional(dir, `hugetlb.${size}.events`) ?? '').max ?? 0 };
    const limit = limitOrUnlimited(readNumber(dir, `hugetlb.${size}.max`) ?? Infinity);
    if (limit !== undefined) stats.limitBytes = limit;
    out[size] = stats;
  }
  return out;
}
