/**
 * Pure conversions from OCI resource values to cgroup file contents.
 * Conventions (as runc): 0 = "not set" (nothing written) for memory, swap, shares,
 * quota, period, pids and blkio weight; -1 = unlimited ("max" on v2, -1 on v1).
 */
import type { LinuxDeviceCgroup } from './resources-types.js';

/**
 * cpu.shares (v1, 2..262144) -> cpu.weight (v2, 1..10000): runc's linear mapping
 * `1 + ((shares - 2) * 9999) / 262142` (integer division), so 2 -> 1, 1024 -> 39,
 * 262144 -> 10000. (crun >= 1.23 uses a quadratic curve that maps 1024 to 100; we keep
 * runc's, which is what runc users and `runc update` expect.)
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight (10..1000) -> io.weight (1..10000), runc's ConvertBlkIOToIOWeightValue. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** v2 value of a limit: -1 -> "max". */
export function v2Limit(value: number): string {
  return value === -1 ? 'max' : String(value);
}

/**
 * OCI memory.swap is memory+swap (the v1 memsw meaning); v2's memory.swap.max is swap
 * alone: swap - limit (runc's ConvertMemorySwapToCgroupV2Value). Returns undefined for
 * "not set", -1 for unlimited; throws a message for impossible pairs.
 */
export function swapToV2(swap: number | undefined, limit: number | undefined): number | undefined {
  const s = swap ?? 0;
  const m = limit ?? 0;
  // memory unlimited and swap not set: both unlimited, as on v1.
  if (m === -1 && s === 0) return -1;
  if (s === -1) return -1;
  if (s === 0) return undefined;
  if (m === 0 || m === -1) throw new Error('a swap limit needs a memory limit (memory+swap is set, memory is not)');
  if (s < m) throw new Error(`memory+swap (${s}) must be >= the memory limit (${m})`);
  return s - m;
}

/**
 * cpu.max "<quota|max> <period>". `current` is the file's present content, used to keep
 * the part that is not being changed (only quota or only period given).
 */
export function cpuMax(quota: number | undefined, period: number | undefined, current?: string): string | undefined {
  const q = quota ?? 0;
  const p = period ?? 0;
  if (q === 0 && p === 0) return undefined;
  const [curQuota, curPeriod] = (current ?? 'max 100000').trim().split(/\s+/);
  const quotaText = q === 0 ? (curQuota ?? 'max') : q < 0 ? 'max' : String(q);
  const periodText = p === 0 ? (curPeriod ?? '100000') : String(p);
  return `${quotaText} ${periodText}`;
}

/** One io.max line: rate 0 means no limit ("max"; the kernel rejects 0). */
export function ioMaxLine(major: number, minor: number, key: 'rbps' | 'wbps' | 'riops' | 'wiops', rate: number): string {
  return `${major}:${minor} ${key}=${rate === 0 ? 'max' : rate}`;
}

/** A device rule as the addon and v1 devices.allow/deny take it. */
export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  /** -1 = any. */
  major: number;
  minor: number;
  access: string;
}

export function normalizeDeviceRule(rule: LinuxDeviceCgroup): DeviceRule {
  return {
    allow: rule.allow,
    type: (rule.type ?? 'a') as DeviceRule['type'],
    major: rule.major ?? -1,
    minor: rule.minor ?? -1,
    access: rule.access === undefined || rule.access === '' ? 'rwm' : rule.access,
  };
}

/** "c 1:3 rwm", "a *:* rwm" for devices.allow / devices.deny. */
export function v1DeviceLine(rule: DeviceRule): string {
  const n = (x: number) => (x < 0 ? '*' : String(x));
  return `${rule.type} ${n(rule.major)}:${n(rule.minor)} ${rule.access}`;
}

/** A hugepage size as the spec writes it ("2MB", "1GB") -> KiB, as /sys/kernel/mm/hugepages names it. */
export function hugepageSizeToKiB(pageSize: string): number | undefined {
  const m = /^(\d+)(KB|MB|GB)$/.exec(pageSize);
  if (m === null) return undefined;
  const n = Number(m[1]);
  return m[2] === 'KB' ? n : m[2] === 'MB' ? n * 1024 : n * 1024 * 1024;
}

/** Limit files may show "unlimited" as a huge number (PAGE_COUNTER_MAX pages): undefined. */
export function limitOrUnlimited(value: number): number | undefined {
  return value >= 2 ** 62 ? undefined : value;
}

/** Parses "key value" lines (cpu.stat, memory.events, memory.stat...). */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k !== undefined && k !== '' && v !== undefined) out[k] = Number(v);
  }
  return out;
}

/** Parses io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0". */
export function parseIoStat(text: string): Array<{ major: number; minor: number; fields: Record<string, number> }> {
  const out: Array<{ major: number; minor: number; fields: Record<string, number> }> = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    const dev = parts.shift();
    if (dev === undefined || !dev.includes(':')) continue;
    const [major, minor] = dev.split(':').map(Number);
    const fields: Record<string, number> = {};
    for (const p of parts) {
      const [k, v] = p.split('=');
      if (k !== undefined && v !== undefined) fields[k] = Number(v);
    }
    out.push({ major: major ?? 0, minor: minor ?? 0, fields });
  }
  return out;
}

/** Parses v1 blkio "8:0 Read 123" lines into per-device op -> value. */
export function parseBlkioStat(text: string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const line of text.split('\n')) {
    const [dev, op, value] = line.trim().split(/\s+/);
    if (dev === undefined || op === undefined || value === undefined || !dev.includes(':')) continue;
    const entry = out.get(dev) ?? {};
    entry[op] = Number(value);
    out.set(dev, entry);
  }
  return out;
}
