/**
 * validateResources: every check that can be made before anything is created.
 * Errors name the JSON path: "linux.resources.memory.limit: must be ...".
 */
import { existsSync } from 'node:fs';
import type { CgroupLayout } from './detect.js';
import { CgroupError } from './errors.js';
import { hugepageSizeToKiB, swapToV2 } from './convert.js';
import type { LinuxResources, LinuxThrottleDevice } from './resources-types.js';
import { controllerOwner } from './owner.js';

const R = 'linux.resources';

/**
 * cgroup v2 interface files a bundle may set through `unified` (Documentation/admin-guide/
 * cgroup-v2.rst). Files the runtime itself drives (cgroup.procs, cgroup.freeze, cgroup.kill,
 * cgroup.subtree_control...) are deliberately absent.
 */
const UNIFIED_FILES = new Set([
  'cgroup.max.depth', 'cgroup.max.descendants', 'cgroup.pressure',
  'cpu.weight', 'cpu.weight.nice', 'cpu.max', 'cpu.max.burst', 'cpu.idle', 'cpu.uclamp.min', 'cpu.uclamp.max', 'cpu.pressure',
  'cpuset.cpus', 'cpuset.mems', 'cpuset.cpus.partition', 'cpuset.cpus.exclusive',
  'memory.min', 'memory.low', 'memory.high', 'memory.max', 'memory.oom.group', 'memory.swap.high', 'memory.swap.max',
  'memory.zswap.max', 'memory.zswap.writeback', 'memory.reclaim', 'memory.pressure', 'memory.peak', 'memory.swap.peak',
  'io.weight', 'io.bfq.weight', 'io.max', 'io.latency', 'io.cost.qos', 'io.cost.model', 'io.prio.class', 'io.pressure',
  'pids.max', 'rdma.max', 'misc.max',
]);
const UNIFIED_PATTERNS = [/^hugetlb\.\d+[KMG]B\.(max|rsvd\.max)$/];

function fail(jsonPath: string, message: string): never {
  throw new CgroupError(`${jsonPath}: ${message}`, { jsonPath, step: 'validate' });
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/** -1 (unlimited), 0 (not set) or positive. */
function checkLimit(v: unknown, jsonPath: string, unit: string): void {
  if (v === undefined) return;
  if (!isInt(v) || v < -1) fail(jsonPath, `must be -1 (unlimited) or a positive number of ${unit}, got ${JSON.stringify(v)}`);
}

function checkRange(v: unknown, jsonPath: string, min: number, max: number, allowZero = true): void {
  if (v === undefined) return;
  if (!isInt(v) || ((v < min || v > max) && !(allowZero && v === 0))) {
    fail(jsonPath, `must be an integer from ${min} to ${max}${allowZero ? ' (or 0: not set)' : ''}, got ${JSON.stringify(v)}`);
  }
}

function checkNonNegative(v: unknown, jsonPath: string): void {
  if (v === undefined) return;
  if (!isInt(v) || v < 0) fail(jsonPath, `must be a non-negative integer, got ${JSON.stringify(v)}`);
}

function need(layout: CgroupLayout, controller: string, jsonPath: string): void {
  if (controllerOwner(layout, controller) === undefined) {
    fail(jsonPath, `the ${controller} controller is not available on this host (cgroup ${layout.mode})`);
  }
}

function checkThrottle(list: LinuxThrottleDevice[] | undefined, jsonPath: string): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) fail(jsonPath, 'must be an array');
  list.forEach((d, i) => {
    checkNonNegative(d.major, `${jsonPath}[${i}].major`);
    checkNonNegative(d.minor, `${jsonPath}[${i}].minor`);
    checkNonNegative(d.rate, `${jsonPath}[${i}].rate`);
  });
}

export function validateResources(resources: LinuxResources | undefined, layout: CgroupLayout): void {
  if (resources === undefined || resources === null) return;
  if (typeof resources !== 'object') fail(R, 'must be an object');

  const mem = resources.memory;
  if (mem !== undefined) {
    const p = `${R}.memory`;
    checkLimit(mem.limit, `${p}.limit`, 'bytes');
    checkLimit(mem.reservation, `${p}.reservation`, 'bytes');
    checkLimit(mem.swap, `${p}.swap`, 'bytes');
    if (mem.swappiness !== undefined && (!isInt(mem.swappiness) || mem.swappiness < 0 || mem.swappiness > 100)) {
      fail(`${p}.swappiness`, `must be an integer from 0 to 100, got ${JSON.stringify(mem.swappiness)}`);
    }
    try {
      swapToV2(mem.swap, mem.limit);
    } catch (err) {
      fail(`${p}.swap`, (err as Error).message);
    }
    checkLimit(mem.kernelTCP, `${p}.kernelTCP`, 'bytes');
    if (mem.limit !== undefined || mem.reservation !== undefined || mem.swap !== undefined) need(layout, 'memory', p);
    // TCP buffer memory has a limit of its own only on v1 (memory.kmem.tcp.limit_in_bytes); v2
    // counts it in memory.max and has no separate file.
    if (mem.kernelTCP) {
      if (controllerOwner(layout, 'memory') !== 'v1') {
        fail(`${p}.kernelTCP`, 'cannot be applied: only the cgroup v1 memory controller has a TCP memory limit (cgroup v2 counts it in memory.max)');
      }
    }
  }

  const cpu = resources.cpu;
  if (cpu !== undefined) {
    const p = `${R}.cpu`;
    checkRange(cpu.shares, `${p}.shares`, 2, 262144);
    if (cpu.quota !== undefined && (!isInt(cpu.quota) || (cpu.quota < 1000 && cpu.quota !== -1 && cpu.quota !== 0))) {
      fail(`${p}.quota`, `must be -1 (unlimited) or at least 1000 microseconds, got ${JSON.stringify(cpu.quota)}`);
    }
    checkRange(cpu.period, `${p}.period`, 1000, 1000000);
    checkNonNegative(cpu.burst, `${p}.burst`);
    if (cpu.idle !== undefined && cpu.idle !== 0 && cpu.idle !== 1) fail(`${p}.idle`, `must be 0 or 1, got ${JSON.stringify(cpu.idle)}`);
    checkNonNegative(cpu.realtimeRuntime, `${p}.realtimeRuntime`);
    checkNonNegative(cpu.realtimePeriod, `${p}.realtimePeriod`);
    for (const key of ['cpus', 'mems'] as const) {
      const v = cpu[key];
      if (v !== undefined && (typeof v !== 'string' || !/^[0-9,\-\s]*$/.test(v))) {
        fail(`${p}.${key}`, `must be a list like "0-3,5", got ${JSON.stringify(v)}`);
      }
    }
    if (cpu.shares || cpu.quota || cpu.period || cpu.burst || cpu.idle) need(layout, 'cpu', p);
    if (cpu.cpus || cpu.mems) need(layout, 'cpuset', p);
    if ((cpu.realtimeRuntime || cpu.realtimePeriod) && controllerOwner(layout, 'cpu') !== 'v1') {
      fail(`${p}.realtimeRuntime`, 'real-time CPU limits exist only with the cgroup v1 cpu controller');
    }
  }

  if (resources.pids !== undefined) {
    checkLimit(resources.pids.limit, `${R}.pids.limit`, 'processes');
    if (resources.pids.limit) need(layout, 'pids', `${R}.pids`);
  }

  const bio = resources.blockIO;
  if (bio !== undefined) {
    const p = `${R}.blockIO`;
    checkRange(bio.weight, `${p}.weight`, 10, 1000);
    checkRange(bio.leafWeight, `${p}.leafWeight`, 10, 1000);
    (bio.weightDevice ?? []).forEach((d, i) => {
      checkNonNegative(d.major, `${p}.weightDevice[${i}].major`);
      checkNonNegative(d.minor, `${p}.weightDevice[${i}].minor`);
      checkRange(d.weight, `${p}.weightDevice[${i}].weight`, 10, 1000);
    });
    checkThrottle(bio.throttleReadBpsDevice, `${p}.throttleReadBpsDevice`);
    checkThrottle(bio.throttleWriteBpsDevice, `${p}.throttleWriteBpsDevice`);
    checkThrottle(bio.throttleReadIOPSDevice, `${p}.throttleReadIOPSDevice`);
    checkThrottle(bio.throttleWriteIOPSDevice, `${p}.throttleWriteIOPSDevice`);
    need(layout, controllerOwner(layout, 'blkio') !== undefined ? 'blkio' : 'io', p);
  }

  (resources.hugepageLimits ?? []).forEach((h, i) => {
    const p = `${R}.hugepageLimits[${i}]`;
    const kib = typeof h.pageSize === 'string' ? hugepageSizeToKiB(h.pageSize) : undefined;
    if (kib === undefined) fail(`${p}.pageSize`, `must look like "2MB" or "1GB", got ${JSON.stringify(h.pageSize)}`);
    if (!existsSync(`/sys/kernel/mm/hugepages/hugepages-${kib}kB`)) fail(`${p}.pageSize`, `${h.pageSize} pages are not supported by this kernel`);
    checkNonNegative(h.limit, `${p}.limit`);
    need(layout, 'hugetlb', p);
  });

  (resources.devices ?? []).forEach((d, i) => {
    const p = `${R}.devices[${i}]`;
    if (typeof d !== 'object' || d === null) fail(p, 'must be an object');
    if (typeof d.allow !== 'boolean') fail(`${p}.allow`, 'must be true or false');
    if (d.type !== undefined && !['a', 'b', 'c'].includes(d.type)) fail(`${p}.type`, `must be "a", "b" or "c", got ${JSON.stringify(d.type)}`);
    for (const key of ['major', 'minor'] as const) {
      const v = d[key];
      if (v !== undefined && v !== null && (!isInt(v) || v < -1 || v > 0x7fffffff)) fail(`${p}.${key}`, `must be -1 (any) or a device number, got ${JSON.stringify(v)}`);
    }
    if (d.access !== undefined && !/^[rwm]*$/.test(d.access)) fail(`${p}.access`, `must be made of r, w and m, got ${JSON.stringify(d.access)}`);
  });
  if (resources.devices !== undefined && resources.devices.length > 0) {
    if (controllerOwner(layout, 'devices') === undefined && layout.unifiedMount === undefined) {
      fail(`${R}.devices`, 'no devices cgroup (v1) and no cgroup2 tree for an eBPF device filter on this host');
    }
  }

  const net = resources.network;
  if (net !== undefined) {
    // net_cls and net_prio exist only as cgroup v1 controllers: v2 has no equivalent.
    if (net.classID !== undefined && layout.v1Mounts['net_cls'] === undefined) {
      fail(`${R}.network.classID`, `cannot be applied: no cgroup v1 net_cls hierarchy is mounted on this host (cgroup ${layout.mode}; cgroup v2 has no net_cls)`);
    }
    if ((net.priorities ?? []).length > 0 && layout.v1Mounts['net_prio'] === undefined) {
      fail(`${R}.network.priorities`, `cannot be applied: no cgroup v1 net_prio hierarchy is mounted on this host (cgroup ${layout.mode}; cgroup v2 has no net_prio)`);
    }
  }

  if (resources.rdma !== undefined && Object.keys(resources.rdma).length > 0) {
    const owner = controllerOwner(layout, 'rdma');
    fail(
      `${R}.rdma`,
      owner === undefined
        ? `cannot be applied: the rdma controller is not available on this host (cgroup ${layout.mode})`
        : 'cannot be applied: husk does not drive the rdma controller (rdma.max) yet',
    );
  }

  if (resources.unified !== undefined) {
    const p = `${R}.unified`;
    if (typeof resources.unified !== 'object' || resources.unified === null) fail(p, 'must be an object of file name -> value');
    if (layout.unifiedMount === undefined) fail(p, 'this host has no cgroup2 tree (cgroup v1 only)');
    for (const [key, value] of Object.entries(resources.unified)) {
      const kp = `${p}[${JSON.stringify(key)}]`;
      if (key.includes('/') || key.includes('..') || key.includes('\0')) fail(kp, 'a key is a file name of the cgroup: no "/" and no ".."');
      if (typeof value !== 'string') fail(kp, `the value must be a string, got ${JSON.stringify(value)}`);
      if (!UNIFIED_FILES.has(key) && !UNIFIED_PATTERNS.some((re) => re.test(key))) fail(kp, 'unknown cgroup v2 interface file');
      const controller = key.slice(0, key.indexOf('.'));
      if (controller !== 'cgroup' && !key.endsWith('.pressure')) {
        if (layout.v1Mounts[controller] !== undefined) fail(kp, `the ${controller} controller is bound to cgroup v1 on this host`);
        if (!layout.v2Controllers.includes(controller)) fail(kp, `the ${controller} controller is not available in the cgroup2 tree`);
      }
    }
  }
}
