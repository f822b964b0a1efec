/**
 * The systemd cgroup driver (runc's --systemd-cgroup): systemd owns the container's cgroup
 * as a transient scope unit, `PREFIX-NAME.scope` in a slice, made through the manager's
 * D-Bus API with Delegate=yes and the resource properties systemd knows; whatever systemd
 * has no property for is written straight to the scope's cgroup files, as runc does. Pure
 * cgroup v2 only (GitHub runners, current distributions). Like the rest of cgroups/, it
 * knows nothing of containers.
 */
import { existsSync } from 'node:fs';
import { native, type SystemdProperty } from '../native/index.js';
import { blkioWeightToIoWeight, sharesToWeight, swapToV2 } from './convert.js';
import { detectCgroups, type CgroupLayout } from './detect.js';
import { CgroupError } from './errors.js';
import type { LinuxResources } from './resources-types.js';

/** Where a container's scope lives: runc's "slice:prefix:name" cgroupsPath, resolved. */
export interface SystemdUnit {
  /** The slice unit, e.g. "system.slice" or "machine-libpod.slice". */
  slice: string;
  /** The scope unit, e.g. "husk-ID.scope". */
  unit: string;
  /** Its cgroup, from the root of the cgroup2 tree: "/system.slice/husk-ID.scope". */
  path: string;
}

export const DEFAULT_SYSTEMD_SLICE = 'system.slice';
export const DEFAULT_SYSTEMD_PREFIX = 'husk';

/** runc's ExpandSlice: "a-b.slice" -> "/a.slice/a-b.slice"; "-.slice" is the root. */
export function expandSlice(slice: string): string {
  const suffix = '.slice';
  const invalid = () => new CgroupError(`invalid slice name ${JSON.stringify(slice)}: a systemd slice is NAME.slice, its parts joined by single "-"`, { jsonPath: 'linux.cgroupsPath' });
  if (slice.length <= suffix.length - 1 || !slice.endsWith(suffix) || slice.includes('/')) throw invalid();
  const name = slice.slice(0, -suffix.length);
  if (name === '-') return '/';
  let path = '';
  let prefix = '';
  for (const component of name.split('-')) {
    if (component === '') throw invalid();
    path += `/${prefix}${component}${suffix}`;
    prefix += `${component}-`;
  }
  return path;
}

/**
 * runc's systemd form of linux.cgroupsPath: "slice:prefix:name" (an empty slice is
 * system.slice); absent, "system.slice:husk:ID".
 */
export function parseSystemdCgroupsPath(cgroupsPath: string | undefined, id: string): SystemdUnit {
  let slice = '';
  let prefix = DEFAULT_SYSTEMD_PREFIX;
  let name = id;
  if (cgroupsPath !== undefined && cgroupsPath !== '') {
    const parts = cgroupsPath.split(':');
    if (parts.length !== 3) {
      throw new CgroupError(`linux.cgroupsPath: expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(cgroupsPath)} instead`, {
        jsonPath: 'linux.cgroupsPath',
      });
    }
    [slice, prefix, name] = parts as [string, string, string];
  }
  if (slice === '') slice = DEFAULT_SYSTEMD_SLICE;
  if (name === '' || /[/\0\n]/.test(name) || /[/\0\n]/.test(prefix)) {
    throw new CgroupError(`linux.cgroupsPath: ${JSON.stringify(cgroupsPath)}: the name must be non-empty, and neither it nor the prefix may hold "/", NUL or a newline`, {
      jsonPath: 'linux.cgroupsPath',
    });
  }
  if (name.endsWith('.slice')) {
    throw new CgroupError(`linux.cgroupsPath: ${JSON.stringify(cgroupsPath)} names a slice as the container's unit; husk makes a scope for each container (give a name without ".slice")`, {
      jsonPath: 'linux.cgroupsPath',
    });
  }
  const unit = prefix === '' ? `${name}.scope` : `${prefix}-${name}.scope`;
  const parent = expandSlice(slice);
  return { slice, unit, path: `${parent === '/' ? '' : parent}/${unit}` };
}

/** Refuses hosts the driver cannot serve, before anything is created. */
export function checkSystemdHost(layout: CgroupLayout = detectCgroups()): void {
  // sd_booted()'s test: systemd is the init when this directory exists.
  if (!existsSync('/run/systemd/system')) {
    throw new CgroupError('--systemd-cgroup: this host does not run systemd (no /run/systemd/system); leave the flag out to use the cgroupfs driver', {
      step: 'systemd',
    });
  }
  if (layout.mode !== 'v2') {
    throw new CgroupError(`--systemd-cgroup: husk's systemd driver needs a pure cgroup v2 host (this one is ${layout.mode}); leave the flag out to use the cgroupfs driver`, {
      step: 'systemd',
    });
  }
}

const USEC_INFINITY = 0xffff_ffff_ffff_ffffn;
const DEFAULT_CPU_PERIOD = 100_000;

/** "0-3,7" -> systemd's CPU/NUMA mask: little-endian bytes, bit j of byte i = item 8i+j (runc's RangeToBits). */
export function rangeToMask(list: string): Buffer {
  const items: number[] = [];
  for (const part of list.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) throw new CgroupError(`invalid cpu/memory-node list ${JSON.stringify(list)}`, { step: 'systemd' });
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to > 65535) throw new CgroupError(`invalid range ${JSON.stringify(part)} in ${JSON.stringify(list)}`, { step: 'systemd' });
    for (let i = from; i <= to; i++) items.push(i);
  }
  if (items.length === 0) throw new CgroupError(`empty cpu/memory-node list ${JSON.stringify(list)}`, { step: 'systemd' });
  const mask = Buffer.alloc(Math.floor(Math.max(...items) / 8) + 1);
  for (const i of items) mask[i >> 3]! |= 1 << (i & 7);
  return mask;
}

const limit = (value: number): bigint => (value < 0 ? USEC_INFINITY : BigInt(value));

/**
 * The unit properties systemd knows for these resources, converted as runc's systemd v2
 * driver converts them. The rest (and these again, harmlessly) the caller writes to files.
 */
export function systemdResourceProperties(r: LinuxResources | undefined): SystemdProperty[] {
  const props: SystemdProperty[] = [];
  if (r === undefined) return props;
  const m = r.memory;
  if (m?.limit) props.push({ name: 'MemoryMax', type: 't', value: limit(m.limit) });
  if (m?.reservation) props.push({ name: 'MemoryLow', type: 't', value: limit(m.reservation) });
  if (m?.swap) {
    const swap = swapToV2(m.swap, m.limit);
    if (swap !== undefined) props.push({ name: 'MemorySwapMax', type: 't', value: limit(swap) });
  }
  const c = r.cpu;
  if (c?.shares) props.push({ name: 'CPUWeight', type: 't', value: BigInt(sharesToWeight(c.shares)) });
  if (c?.quota || c?.period) {
    let perSec = USEC_INFINITY;
    if (c.quota !== undefined && c.quota > 0) {
      const period = c.period || DEFAULT_CPU_PERIOD;
      // systemd keeps CPUQuota as whole percent: round up to 10 ms so the kernel still gets the quota asked for.
      let usec = Math.floor((c.quota * 1_000_000) / period);
      if (usec % 10_000 !== 0) usec = (Math.floor(usec / 10_000) + 1) * 10_000;
      perSec = BigInt(usec);
    }
    props.push({ name: 'CPUQuotaPerSecUSec', type: 't', value: perSec });
    if (c.period) props.push({ name: 'CPUQuotaPeriodUSec', type: 't', value: BigInt(c.period) });
  }
  if (c?.cpus) props.push({ name: 'AllowedCPUs', type: 'ay', value: rangeToMask(c.cpus) });
  if (c?.mems) props.push({ name: 'AllowedMemoryNodes', type: 'ay', value: rangeToMask(c.mems) });
  if (r.pids?.limit) props.push({ name: 'TasksMax', type: 't', value: limit(r.pids.limit) });
  if (r.blockIO?.weight) props.push({ name: 'IOWeight', type: 't', value: BigInt(blkioWeightToIoWeight(r.blockIO.weight)) });
  return props;
}

/** How long a unit's start or stop job may take. */
const JOB_WAIT_MS = 10_000;

/** Starts the transient scope holding `pid`, with Delegate=yes and these properties; waits for its job. */
export async function startScope(unit: SystemdUnit, pid: number, description: string, properties: SystemdProperty[]): Promise<void> {
  const { result } = await native.systemdManagerCall({
    method: 'StartTransientUnit',
    unit: unit.unit,
    mode: 'replace',
    waitMs: JOB_WAIT_MS,
    properties: [
      { name: 'Description', type: 's', value: description },
      { name: 'Slice', type: 's', value: unit.slice },
      { name: 'PIDs', type: 'au', value: [pid] },
      { name: 'Delegate', type: 'b', value: true },
      // As runc: no implicit ordering against shutdown.target and friends.
      { name: 'DefaultDependencies', type: 'b', value: false },
      { name: 'MemoryAccounting', type: 'b', value: true },
      { name: 'CPUAccounting', type: 'b', value: true },
      { name: 'IOAccounting', type: 'b', value: true },
      { name: 'TasksAccounting', type: 'b', value: true },
      ...properties,
    ],
  }).catch((error: Error & { code?: string }) => {
    throw new CgroupError(`starting systemd scope ${unit.unit} in ${unit.slice}: ${error.message}`, { step: 'systemd', code: error.code, cause: error });
  });
  if (result !== 'done') {
    throw new CgroupError(`starting systemd scope ${unit.unit} in ${unit.slice}: its job ended "${result ?? 'unknown'}" (see journalctl -u ${unit.unit})`, { step: 'systemd' });
  }
}

/** Changes the running scope's properties (runtime only, as runc update). */
export async function setScopeProperties(unit: SystemdUnit, properties: SystemdProperty[]): Promise<void> {
  if (properties.length === 0) return;
  await native.systemdManagerCall({ method: 'SetUnitProperties', unit: unit.unit, runtime: true, properties, waitMs: JOB_WAIT_MS }).catch((error: Error & { code?: string }) => {
    throw new CgroupError(`setting properties of systemd scope ${unit.unit}: ${error.message}`, { step: 'systemd', code: error.code, cause: error });
  });
}

/** Stops the scope and forgets a failed state; a unit systemd already collected is fine. */
export async function stopScope(unit: SystemdUnit): Promise<void> {
  const gone = (error: Error & { code?: string }) => error.code === 'org.freedesktop.systemd1.NoSuchUnit';
  await native.systemdManagerCall({ method: 'StopUnit', unit: unit.unit, mode: 'replace', waitMs: JOB_WAIT_MS }).catch((error: Error & { code?: string }) => {
    if (!gone(error)) throw new CgroupError(`stopping systemd scope ${unit.unit}: ${error.message}`, { step: 'systemd', code: error.code, cause: error });
  });
  await native.systemdManagerCall({ method: 'ResetFailedUnit', unit: unit.unit, waitMs: JOB_WAIT_MS }).catch(() => {
    // Not failed, or already collected: nothing to reset.
  });
}
