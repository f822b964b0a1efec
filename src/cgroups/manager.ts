/**
 * CgroupManager: one cgroup, at the same cgroupsPath-style path in every hierarchy
 * of the host. Pure v2: one cgroup2 directory. v1: one directory per v1 hierarchy.
 * Hybrid: the v1 directories drive the controllers bound to v1, and the process is also
 * placed in the cgroup2 tree, which drives what is bound there (hugetlb on our hosts).
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../native/index.js';
import { constants as osConstants } from 'node:os';
import { cgroupOf, detectCgroups, ownCgroups, type CgroupLayout, type ProcCgroupEntry } from './detect.js';
import { errnoCode } from '../errors.js';
import { CgroupError, type ErrnoLike } from './errors.js';
import { hasFile, pidsStats, readCgroupFile, readOptional, writeCgroupFile } from './files.js';
import { controllerOwner } from './owner.js';
import { absoluteIn } from './path.js';
import type { LinuxResources } from './resources-types.js';
import type { CgroupStats } from './stats.js';
import { validateResources } from './validate.js';
import { checkSystemdHost, parseSystemdCgroupsPath, setScopeProperties, startScope, stopScope, systemdResourceProperties, type SystemdUnit } from './systemd.js';
import * as v1 from './v1.js';
import * as v2 from './v2.js';

export interface CgroupHierarchy {
  version: 1 | 2;
  mount: string;
  /** v1: the controllers mounted there (and "name=X"); v2: []. */
  controllers: string[];
  /** The cgroup's directory in this hierarchy. */
  dir: string;
  /** Directories create() made (ancestors included), outermost first: destroy removes them. */
  createdDirs: string[];
}

export interface SerializedCgroup {
  version: 1;
  path: string;
  layout: CgroupLayout;
  hierarchies: CgroupHierarchy[];
  /** Set when systemd owns the cgroup (the systemd driver): its scope unit. */
  systemd?: SystemdUnit;
  /**
   * The cgroup is this container's (made by it, found empty, or its systemd scope started),
   * so killAll and destroy may act on it. false before that and after a refused create;
   * absent in records written before it existed (taken as true).
   */
  claimed?: boolean;
}

export interface CgroupManager {
  readonly layout: CgroupLayout;
  /** The cgroupsPath-style path (absolute, or relative to the caller's cgroup per hierarchy). */
  readonly path: string;
  /**
   * True when the cgroup comes into existence with its first process (a systemd scope):
   * the first process cannot be cloned into it, and addProcess() of it makes the cgroup.
   */
  readonly placesFirstProcess: boolean;
  create(): void;
  apply(resources: LinuxResources | undefined): void | Promise<void>;
  procsFiles(): string[];
  v2Directory(): string | undefined;
  addProcess(pid: number): void | Promise<void>;
  pids(): number[];
  stats(): CgroupStats;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  isFrozen(): boolean;
  killAll(signal?: number): Promise<void>;
  /**
   * Sends `signal` once to each listed pid that is still a member once held by a pidfd
   * (default list: pids()); returns how many were signalled. A pid that left the cgroup
   * after the listing, and may have been reused by a stranger, is never signalled.
   */
  signalMembers(signal: number, listed?: number[]): number;
  destroy(): Promise<void>;
  /**
   * destroy() for the common case of a cgroup no process is left in: one rmdir per hierarchy,
   * nothing listed, nothing waited for. false when something is still there (a process, a
   * child cgroup, a directory husk did not make): then killAll() and destroy(). Optional: a
   * manager without it always takes the long way.
   */
  removeIfEmpty?(): boolean;
  toJSON(): SerializedCgroup;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How long freeze/kill/destroy wait for the kernel (tasks exiting, freezing) before giving up. */
const WAIT_MS = 10_000;

function dirIn(mount: string, mountRoot: string | undefined, cgroupPath: string): string {
  const root = mountRoot ?? '/';
  let rel = cgroupPath;
  if (root !== '/' && (cgroupPath === root || cgroupPath.startsWith(root + '/'))) rel = cgroupPath.slice(root.length);
  return join(mount, rel);
}

function hierarchiesFor(path: string, layout: CgroupLayout, own: ProcCgroupEntry[] | undefined): CgroupHierarchy[] {
  const byMount = new Map<string, string[]>();
  for (const [controller, mount] of Object.entries(layout.v1Mounts)) byMount.set(mount, [...(byMount.get(mount) ?? []), controller]);
  const out: CgroupHierarchy[] = [];
  const resolve = (controller: string | undefined) => {
    if (path.startsWith('/')) return path;
    const mine = own === undefined ? undefined : cgroupOf(own, controller);
    if (mine === undefined) {
      throw new CgroupError(`cannot place ${JSON.stringify(path)} beneath our own cgroup: /proc/self/cgroup has no entry for ${controller ?? 'the cgroup2 tree'}`, {
        path: '/proc/self/cgroup',
        step: 'resolve',
      });
    }
    return absoluteIn(path, mine);
  };
  for (const [mount, controllers] of byMount) {
    out.push({ version: 1, mount, controllers, dir: dirIn(mount, layout.mountRoots[mount], resolve(controllers[0])), createdDirs: [] });
  }
  if (layout.unifiedMount !== undefined) {
    const mount = layout.unifiedMount;
    out.push({ version: 2, mount, controllers: [], dir: dirIn(mount, layout.mountRoots[mount], resolve(undefined)), createdDirs: [] });
  }
  return out;
}

/** Enables every available controller in `dir`'s cgroup.subtree_control (runc's approach). */
function enableControllers(dir: string): void {
  const available = (readOptional(dir, 'cgroup.controllers') ?? '').trim().split(/\s+/).filter(Boolean);
  const enabled = new Set((readOptional(dir, 'cgroup.subtree_control') ?? '').trim().split(/\s+/).filter(Boolean));
  const missing = available.filter((c) => !enabled.has(c));
  if (missing.length === 0) return;
  try {
    writeCgroupFile(dir, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
  } catch {
    // One at a time, keeping what works: a controller that cannot be enabled here (EBUSY
    // with processes in a non-root cgroup) surfaces as a missing file when it is used.
    for (const c of missing) {
      try {
        writeCgroupFile(dir, 'cgroup.subtree_control', `+${c}`);
      } catch {
        /* reported at apply() */
      }
    }
  }
}

/** The controllers bound to the cgroup2 tree that `resources` would write to. */
function v2ControllersNeeded(r: LinuxResources, layout: CgroupLayout): string[] {
  const wanted: string[] = [];
  const m = r.memory;
  if (m !== undefined && (m.limit || m.reservation || m.swap)) wanted.push('memory');
  const c = r.cpu;
  if (c !== undefined && (c.shares || c.quota || c.period || c.burst !== undefined || c.idle !== undefined)) wanted.push('cpu');
  if (c !== undefined && (c.cpus || c.mems)) wanted.push('cpuset');
  if (r.pids?.limit) wanted.push('pids');
  if (r.blockIO !== undefined) wanted.push('io');
  if ((r.hugepageLimits ?? []).length > 0) wanted.push('hugetlb');
  for (const key of Object.keys(r.unified ?? {})) {
    const controller = key.slice(0, key.indexOf('.'));
    if (controller !== 'cgroup' && !key.endsWith('.pressure')) wanted.push(controller);
  }
  return [...new Set(wanted)].filter((c) => controllerOwner(layout, c) === 'v2');
}

/**
 * A cgroup2 directory has a controller's files only if its parent enabled it in
 * cgroup.subtree_control. The common reason it could not: the parent holds processes and the
 * controller is a domain one (memory, io, hugetlb), which cgroup v2 refuses ("no internal
 * processes"): the case of `--cgroup-parent self` on a systemd host. Say so, not "ENOENT".
 */
function requireV2Controllers(dir: string, wanted: string[]): void {
  const have = new Set((readOptional(dir, 'cgroup.controllers') ?? '').trim().split(/\s+/).filter(Boolean));
  const missing = wanted.filter((c) => !have.has(c));
  if (missing.length === 0) return;
  const parent = join(dir, '..');
  const procs = (readOptional(parent, 'cgroup.procs') ?? '').trim().split('\n').filter(Boolean);
  const parentHas = new Set((readOptional(parent, 'cgroup.controllers') ?? '').trim().split(/\s+/).filter(Boolean));
  const names = missing.join(', ');
  let why: string;
  if (missing.some((c) => !parentHas.has(c))) {
    why = `${parent} itself does not have ${missing.filter((c) => !parentHas.has(c)).join(', ')} (not delegated to it)`;
  } else if (procs.length > 0) {
    why =
      `${parent} holds processes (${procs.length}, e.g. pid ${procs[0]}), and cgroup v2 does not let a cgroup with processes of its own ` +
      `give domain controllers such as memory and io to its children (the "no internal processes" rule)`;
  } else {
    why = `${parent}/cgroup.subtree_control does not enable ${names}`;
  }
  throw new CgroupError(
    `cgroup v2: ${names} cannot be used in ${dir}: ${why}. Place containers beneath a cgroup without processes: ` +
      `--cgroup-parent (or HUSK_CGROUP_PARENT) naming an empty cgroup, e.g. the default /husk, or a systemd scope/service with Delegate=yes`,
    { path: parent, step: 'apply' },
  );
}

function rmdirQuiet(dir: string): void {
  try {
    rmdirSync(dir);
  } catch (err) {
    if (!['ENOENT', 'EBUSY', 'ENOTEMPTY'].includes(errnoCode(err) ?? '')) throw err;
  }
}

/** Removes a cgroup and any child cgroups, leaf first; EBUSY is retried while tasks exit. */
async function removeTree(dir: string, deadline: number): Promise<void> {
  let entries: string[];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  for (const child of entries) await removeTree(join(dir, child), deadline);
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return;
      if ((code !== 'EBUSY' && code !== 'ENOTEMPTY') || Date.now() > deadline) {
        const e = err as ErrnoLike;
        throw new CgroupError(`removing cgroup ${dir}: ${code ?? String(err)}${code === 'EBUSY' ? ' (it still has processes)' : ''}`, {
          path: dir,
          code: e.code,
          errno: e.errno,
          step: 'destroy',
          cause: err,
        });
      }
      await sleep(delay);
    }
  }
}

function readProcs(dir: string, into: Set<number>): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw err;
  }
  for (const line of (readOptional(dir, 'cgroup.procs') ?? '').split('\n')) if (line !== '') into.add(Number(line));
  for (const e of entries) if (e.isDirectory()) readProcs(join(dir, e.name), into);
}

/** The refusal of an existing cgroup that holds processes (runc's words). */
function refuseNonEmpty(dir: string): void {
  const pids = new Set<number>();
  readProcs(dir, pids);
  if (pids.size > 0) {
    throw new CgroupError(`container's cgroup is not empty: ${pids.size} process(es) found in ${dir}`, { path: dir, code: 'EBUSY', step: 'create' });
  }
}

const dirOf = (dir: string): string => dir.slice(0, dir.lastIndexOf('/'));

/**
 * The directories of `h.dir` that do not exist yet, outermost first: found from the leaf up
 * (one mkdir-free stat per level, and most often only the leaf is missing), not by a mkdir
 * of every level of the path in every hierarchy.
 */
function missingDirs(h: CgroupHierarchy): string[] {
  const missing: string[] = [];
  for (let dir = h.dir; dir.length > h.mount.length; dir = dirOf(dir)) {
    if (existsSync(dir)) break;
    missing.unshift(dir);
  }
  return missing;
}

/** `dir` and its ancestors below `mount`, outermost first (the mount itself included). */
function ancestorsFrom(mount: string, dir: string): string[] {
  const dirs: string[] = [];
  for (let d = dir; d.length >= mount.length; d = dirOf(d)) dirs.unshift(d);
  return dirs;
}

/** Whether a cgroup2 directory has every controller of the tree. */
function hasEveryController(dir: string, controllers: string[]): boolean {
  const have = new Set((readOptional(dir, 'cgroup.controllers') ?? '').trim().split(/\s+/).filter(Boolean));
  return controllers.every((c) => have.has(c));
}

class FsCgroupManager implements CgroupManager {
  readonly placesFirstProcess = false;

  constructor(
    readonly path: string,
    readonly layout: CgroupLayout,
    private readonly hierarchies: CgroupHierarchy[],
    /** See SerializedCgroup.claimed. */
    private claimed: boolean,
  ) {}

  private v1Dir(controller: string): string | undefined {
    return this.hierarchies.find((h) => h.version === 1 && h.controllers.includes(controller))?.dir;
  }

  private get v2(): CgroupHierarchy | undefined {
    return this.hierarchies.find((h) => h.version === 2);
  }

  /** The directory that drives `controller`, and in which version. */
  private owner(controller: string): { version: 1 | 2; dir: string } | undefined {
    const version = controllerOwner(this.layout, controller);
    if (version === undefined) return undefined;
    const dir = version === 'v1' ? this.v1Dir(controller) : this.v2?.dir;
    return dir === undefined ? undefined : { version: version === 'v1' ? 1 : 2, dir };
  }

  /**
   * Makes the cgroup in every hierarchy. One that exists already is used only if it holds no
   * process (as runc: "container's cgroup is not empty"): processes there belong to someone
   * else, another container with the same path or the same id under another --root, and a
   * container must never kill them or remove their cgroup. Only what is made here is removed
   * by destroy().
   */
  create(): void {
    try {
      for (const h of this.hierarchies) this.createIn(h);
    } catch (err) {
      this.removeCreatedNow();
      throw err;
    }
    this.claim();
  }

  /**
   * Makes the directories of `h.dir` that are missing, outermost first. A parent removed
   * meanwhile (the last container beneath it deleted, taking the parent it had made) is
   * looked for again, a few times.
   */
  private createIn(h: CgroupHierarchy): void {
    for (let attempt = 1; ; attempt++) {
      const missing = missingDirs(h);
      if (h.version === 2) this.enableAbove(h, missing[0] ?? h.dir);
      if (missing.length === 0) return refuseNonEmpty(h.dir);
      let parentGone = false;
      for (const next of missing) {
        if (h.version === 2 && next !== missing[0]) enableControllers(dirOf(next));
        try {
          mkdirSync(next);
        } catch (err) {
          const code = errnoCode(err);
          if (code === 'ENOENT' && attempt < 3) {
            parentGone = true;
            break;
          }
          if (code !== 'EEXIST') {
            const e = err as ErrnoLike;
            throw new CgroupError(`creating cgroup ${next}: ${e.code ?? String(err)}`, { path: next, code: e.code, errno: e.errno, step: 'create', cause: err });
          }
          // Made meanwhile by someone else: theirs, not ours to remove.
          if (next === h.dir) refuseNonEmpty(next);
          continue;
        }
        h.createdDirs.push(next);
        // A new v1 cpuset has empty cpus/mems and refuses tasks: inherit the parent's.
        if (h.version === 1 && h.controllers.includes('cpuset')) {
          for (const file of ['cpuset.cpus', 'cpuset.mems']) {
            if (readCgroupFile(next, file).trim() === '') writeCgroupFile(next, file, readCgroupFile(dirOf(next), file).trim() || '\n');
          }
        }
      }
      if (!parentGone) return;
    }
  }

  /**
   * cgroup2: a directory has a controller only if its parent enables it (runc enables every
   * available one at each level). A parent that has every controller of the tree already got
   * them from all its ancestors: only the parent itself is left to enable them for its child.
   */
  private enableAbove(h: CgroupHierarchy, dir: string): void {
    const parent = dirOf(dir);
    if (this.layout.v2Controllers.length === 0) return;
    if (hasEveryController(parent, this.layout.v2Controllers)) return enableControllers(parent);
    for (const ancestor of ancestorsFrom(h.mount, parent)) enableControllers(ancestor);
  }

  /** From now on the cgroup is this container's (see SerializedCgroup.claimed). */
  claim(): void {
    this.claimed = true;
  }

  /** Undo of a failed create(): the directories are new and empty. */
  private removeCreatedNow(): void {
    for (const h of this.hierarchies) {
      for (const d of [...h.createdDirs].reverse()) rmdirQuiet(d);
      h.createdDirs = [];
    }
  }

  apply(resources: LinuxResources | undefined): void {
    validateResources(resources, this.layout);
    if (resources === undefined || resources === null) return;
    const { memory, cpu, pids, blockIO, hugepageLimits, devices, network, unified } = resources;
    if (this.v2 !== undefined) requireV2Controllers(this.v2.dir, v2ControllersNeeded(resources, this.layout));
    const at = (controller: string) => this.owner(controller);
    if (memory !== undefined) {
      const o = at('memory');
      if (o?.version === 1) v1.applyMemoryV1(o.dir, memory);
      else if (o?.version === 2) v2.applyMemoryV2(o.dir, memory);
    }
    if (cpu !== undefined) {
      const c = at('cpu');
      if (c?.version === 1) v1.applyCpuV1(c.dir, cpu);
      else if (c?.version === 2) v2.applyCpuV2(c.dir, cpu);
      const s = at('cpuset');
      if (s?.version === 1) v1.applyCpusetV1(s.dir, cpu);
      else if (s?.version === 2) v2.applyCpusetV2(s.dir, cpu);
    }
    if (pids !== undefined) {
      const o = at('pids');
      if (o?.version === 1) v1.applyPidsV1(o.dir, pids.limit ?? 0);
      else if (o?.version === 2) v2.applyPidsV2(o.dir, pids.limit ?? 0);
    }
    if (blockIO !== undefined) {
      const b = at('blkio');
      const io = at('io');
      if (b?.version === 1) v1.applyBlkioV1(b.dir, blockIO);
      else if (io?.version === 2) v2.applyIoV2(io.dir, blockIO);
    }
    if (hugepageLimits !== undefined && hugepageLimits.length > 0) {
      const o = at('hugetlb');
      if (o?.version === 1) v1.applyHugetlbV1(o.dir, hugepageLimits);
      else if (o?.version === 2) v2.applyHugetlbV2(o.dir, hugepageLimits);
    }
    if (devices !== undefined) {
      const d = this.v1Dir('devices');
      if (d !== undefined) v1.applyDevicesV1(d, devices);
      else if (this.v2 !== undefined) v2.applyDevicesV2(this.v2.dir, devices);
    }
    if (network !== undefined) {
      // net_cls/net_prio exist only on v1; cgroup v2 has no equivalent (runc ignores them too).
      const cls = this.v1Dir('net_cls');
      if (cls !== undefined) v1.applyNetClsV1(cls, network);
      const prio = this.v1Dir('net_prio');
      if (prio !== undefined) v1.applyNetPrioV1(prio, network);
    }
    if (unified !== undefined && this.v2 !== undefined) v2.applyUnified(this.v2.dir, unified);
  }

  procsFiles(): string[] {
    return this.hierarchies.map((h) => join(h.dir, 'cgroup.procs'));
  }

  v2Directory(): string | undefined {
    return this.v2?.dir;
  }

  addProcess(pid: number): void {
    for (const h of this.hierarchies) {
      try {
        writeCgroupFile(h.dir, 'cgroup.procs', String(pid));
      } catch (err) {
        const e = err as CgroupError;
        throw new CgroupError(`adding pid ${pid} to ${h.dir}: ${e.code ?? e.message}`, { path: h.dir, code: e.code, errno: e.errno, step: 'add-process', cause: err });
      }
    }
  }

  pids(): number[] {
    if (!this.claimed) return [];
    const all = new Set<number>();
    for (const h of this.hierarchies) readProcs(h.dir, all);
    return [...all].sort((a, b) => a - b);
  }

  stats(): CgroupStats {
    const stats: CgroupStats = {};
    const mem = this.owner('memory');
    const memory = mem === undefined ? undefined : mem.version === 1 ? v1.memoryStatsV1(mem.dir) : v2.memoryStatsV2(mem.dir);
    if (memory !== undefined) stats.memory = memory;
    const p = this.owner('pids');
    const pids = p === undefined ? undefined : pidsStats(p.dir);
    if (pids !== undefined) stats.pids = pids;
    const cpuV1 = controllerOwner(this.layout, 'cpuacct') === 'v1' || controllerOwner(this.layout, 'cpu') === 'v1';
    const cpu = cpuV1 ? v1.cpuStatsV1(this.v1Dir('cpuacct'), this.v1Dir('cpu')) : this.v2 === undefined ? undefined : v2.cpuStatsV2(this.v2.dir);
    if (cpu !== undefined) stats.cpu = cpu;
    const b = this.owner('blkio');
    const io = b?.version === 1 ? v1.ioStatsV1(b.dir) : this.owner('io') !== undefined ? v2.ioStatsV2(this.owner('io')!.dir) : undefined;
    if (io !== undefined) stats.io = { devices: io };
    const h = this.owner('hugetlb');
    if (h !== undefined) {
      const sizes = hugepageSizes();
      stats.hugetlb = h.version === 1 ? v1.hugetlbStatsV1(h.dir, sizes) : v2.hugetlbStatsV2(h.dir, sizes);
    }
    return stats;
  }

  private freezerV1(): string | undefined {
    return this.v1Dir('freezer');
  }

  isFrozen(): boolean {
    const f = this.freezerV1();
    if (f !== undefined) return readCgroupFile(f, 'freezer.state').trim() === 'FROZEN';
    if (this.v2 === undefined) return false;
    return /^frozen 1$/m.test(readOptional(this.v2.dir, 'cgroup.events') ?? '');
  }

  async freeze(): Promise<void> {
    const f = this.freezerV1();
    const deadline = Date.now() + WAIT_MS;
    if (f !== undefined) {
      // FREEZING can stall on a task in an uninterruptible sleep: rewrite FROZEN until it sticks.
      for (let i = 0; ; i++) {
        writeCgroupFile(f, 'freezer.state', 'FROZEN');
        if (readCgroupFile(f, 'freezer.state').trim() === 'FROZEN') return;
        if (Date.now() > deadline) {
          writeCgroupFile(f, 'freezer.state', 'THAWED');
          throw new CgroupError(`freezing ${f}: still FREEZING after ${WAIT_MS} ms (thawed again)`, { path: f, step: 'freeze' });
        }
        await sleep(Math.min(10 * (i + 1), 100));
      }
    }
    const d = this.requireV2('freeze');
    writeCgroupFile(d, 'cgroup.freeze', '1');
    for (let i = 0; !this.isFrozen(); i++) {
      if (Date.now() > deadline) {
        writeCgroupFile(d, 'cgroup.freeze', '0');
        throw new CgroupError(`freezing ${d}: cgroup.events did not report "frozen 1" within ${WAIT_MS} ms (thawed again)`, { path: d, step: 'freeze' });
      }
      await sleep(Math.min(5 * (i + 1), 50));
    }
  }

  async thaw(): Promise<void> {
    const f = this.freezerV1();
    if (f !== undefined) {
      writeCgroupFile(f, 'freezer.state', 'THAWED');
      return;
    }
    writeCgroupFile(this.requireV2('thaw'), 'cgroup.freeze', '0');
  }

  private requireV2(step: string): string {
    if (this.v2 === undefined) throw new CgroupError(`${step}: this host has neither a v1 freezer nor a cgroup2 tree`, { step });
    return this.v2.dir;
  }

  /**
   * SIGKILL (the default): cgroup.kill where the kernel has it (v2, 5.14+), then SIGKILL to
   * every listed pid until none is left (forks racing the listing are caught next round).
   * Any other signal: sent once to every process, without waiting.
   */
  async killAll(signal: number = osConstants.signals.SIGKILL): Promise<void> {
    if (!this.claimed) return; // not ours: whatever is in there belongs to someone else
    if (signal !== osConstants.signals.SIGKILL) {
      this.signalMembers(signal);
      return;
    }
    if (this.v2 !== undefined && hasFile(this.v2.dir, 'cgroup.kill')) writeCgroupFile(this.v2.dir, 'cgroup.kill', '1');
    const deadline = Date.now() + WAIT_MS;
    for (let i = 0; ; i++) {
      const pids = this.pids();
      if (pids.length === 0) return;
      this.signalMembers(signal, pids);
      // A v1-frozen task dies only once thawed.
      const f = this.freezerV1();
      if (f !== undefined && readCgroupFile(f, 'freezer.state').trim() !== 'THAWED') writeCgroupFile(f, 'freezer.state', 'THAWED');
      if (Date.now() > deadline) {
        throw new CgroupError(`killing every process of ${this.path}: ${pids.length} left after ${WAIT_MS} ms (pids ${pids.join(' ')})`, { step: 'kill' });
      }
      await sleep(Math.min(5 * (i + 1), 50));
    }
  }

  signalMembers(signal: number, listed: number[] = this.pids()): number {
    // Pin each listed pid first, then list again: a pidfd opened before the second
    // listing names the process that holds the pid now, so a pid still listed is a member.
    const held = new Map<number, number>();
    for (const pid of listed) {
      try {
        held.set(pid, native.pidfdOpen(pid));
      } catch (err) {
        if (errnoCode(err) !== 'ESRCH') throw err;
      }
    }
    let signalled = 0;
    try {
      const members = new Set(this.pids());
      for (const [pid, pidfd] of held) {
        if (!members.has(pid)) continue;
        try {
          native.pidfdSendSignal(pidfd, signal);
          signalled++;
        } catch (err) {
          if (errnoCode(err) !== 'ESRCH') throw err;
        }
      }
    } finally {
      for (const pidfd of held.values()) native.closeRange(pidfd, pidfd);
    }
    return signalled;
  }

  async destroy(): Promise<void> {
    if (!this.claimed) return;
    const deadline = Date.now() + WAIT_MS;
    let first: unknown;
    for (const h of this.hierarchies) {
      try {
        // A cgroup found there (empty) when the container was made is left in place.
        if (h.createdDirs.includes(h.dir)) await removeTree(h.dir, deadline);
        // Ancestors we created go too, unless something else lives there now.
        for (const d of [...h.createdDirs].reverse()) if (d !== h.dir) rmdirQuiet(d);
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  }

  removeIfEmpty(): boolean {
    if (!this.claimed) return true; // not ours: destroy() leaves it alone too
    if (!this.hierarchies.every((h) => h.createdDirs.includes(h.dir))) return false;
    for (const h of this.hierarchies) {
      try {
        rmdirSync(h.dir);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') return false; // EBUSY: processes; ENOTEMPTY: child cgroups
      }
    }
    for (const h of this.hierarchies) for (const d of [...h.createdDirs].reverse()) if (d !== h.dir) rmdirQuiet(d);
    return true;
  }

  toJSON(): SerializedCgroup {
    return {
      version: 1,
      path: this.path,
      layout: this.layout,
      hierarchies: this.hierarchies.map((h) => ({ ...h, createdDirs: [...h.createdDirs] })),
      claimed: this.claimed,
    };
  }
}

let pageSizesCache: string[] | undefined;
/** "2MB", "1GB"... from /sys/kernel/mm/hugepages. */
function hugepageSizes(): string[] {
  if (pageSizesCache === undefined) {
    try {
      pageSizesCache = readdirSync('/sys/kernel/mm/hugepages')
        .map((n) => /^hugepages-(\d+)kB$/.exec(n)?.[1])
        .filter((k): k is string => k !== undefined)
        .map((k) => {
          const kib = Number(k);
          return kib >= 1024 * 1024 ? `${kib / 1024 / 1024}GB` : kib >= 1024 ? `${kib / 1024}MB` : `${kib}KB`;
        });
    } catch {
      pageSizesCache = [];
    }
  }
  return pageSizesCache;
}

/** `own`: the caller's /proc/self/cgroup when it has read it already (a relative path needs it). */
export function createCgroupManager(path: string, layout: CgroupLayout = detectCgroups(), own?: ProcCgroupEntry[]): CgroupManager {
  return new FsCgroupManager(path, layout, hierarchiesFor(path, layout, path.startsWith('/') ? undefined : (own ?? ownCgroups())), false);
}

/**
 * The systemd driver's manager: systemd makes the scope when the first process is added
 * (with the resource properties systemd knows), then every file operation is the cgroupfs
 * manager's on the scope's directory, which also writes what systemd has no property for.
 */
class SystemdCgroupManager implements CgroupManager {
  readonly placesFirstProcess = true;
  private pending: LinuxResources | undefined;

  constructor(
    readonly unit: SystemdUnit,
    private readonly description: string,
    private started: boolean,
    private readonly files: FsCgroupManager,
  ) {}

  get layout(): CgroupLayout {
    return this.files.layout;
  }

  get path(): string {
    return this.unit.path;
  }

  /** Nothing to make before the first process; a scope cgroup with processes belongs to someone else. */
  create(): void {
    const dir = this.files.v2Directory();
    if (dir !== undefined && (readOptional(dir, 'cgroup.procs') ?? '').trim() !== '') {
      throw new CgroupError(`container's cgroup is not empty: ${dir} (systemd unit ${this.unit.unit}) already has processes`, { path: dir, step: 'create' });
    }
  }

  apply(resources: LinuxResources | undefined): void | Promise<void> {
    validateResources(resources, this.layout);
    if (!this.started) {
      this.pending = resources;
      return;
    }
    return setScopeProperties(this.unit, systemdResourceProperties(resources)).then(() => this.files.apply(resources));
  }

  async addProcess(pid: number): Promise<void> {
    if (this.started) return this.files.addProcess(pid);
    await startScope(this.unit, pid, this.description, systemdResourceProperties(this.pending));
    this.started = true;
    this.files.claim();
    this.files.apply(this.pending);
  }

  procsFiles(): string[] {
    return this.files.procsFiles();
  }

  v2Directory(): string | undefined {
    return this.files.v2Directory();
  }

  pids(): number[] {
    return this.files.pids();
  }

  stats(): CgroupStats {
    return this.files.stats();
  }

  freeze(): Promise<void> {
    return this.files.freeze();
  }

  thaw(): Promise<void> {
    return this.files.thaw();
  }

  isFrozen(): boolean {
    return this.files.isFrozen();
  }

  killAll(signal?: number): Promise<void> {
    return this.files.killAll(signal);
  }

  signalMembers(signal: number, listed?: number[]): number {
    return this.files.signalMembers(signal, listed);
  }

  /** The unit has to be stopped first: never the shortcut. */
  removeIfEmpty(): boolean {
    return false;
  }

  /** Stops the unit (systemd removes its cgroup), then whatever a crash may have left. */
  async destroy(): Promise<void> {
    await stopScope(this.unit);
    await this.files.destroy();
  }

  toJSON(): SerializedCgroup {
    return { ...this.files.toJSON(), systemd: { ...this.unit } };
  }
}

/**
 * The systemd driver's cgroup for a runc-style "slice:prefix:name" cgroupsPath (absent:
 * system.slice:husk:ID). Refuses, before anything exists, a host without systemd or not
 * pure cgroup v2.
 */
export function createSystemdCgroupManager(cgroupsPath: string | undefined, name: string, layout: CgroupLayout = detectCgroups()): CgroupManager {
  checkSystemdHost(layout);
  const unit = parseSystemdCgroupsPath(cgroupsPath, name);
  return new SystemdCgroupManager(unit, `husk container ${name}`, false, new FsCgroupManager(unit.path, layout, hierarchiesFor(unit.path, layout, undefined), false));
}

export function loadCgroupManager(saved: SerializedCgroup): CgroupManager {
  if (saved?.version !== 1 || !Array.isArray(saved.hierarchies)) {
    throw new CgroupError(`unrecognised saved cgroup state (version ${JSON.stringify(saved?.version)})`, { step: 'load' });
  }
  const hierarchies = saved.hierarchies.map((h) => ({ ...h, createdDirs: [...h.createdDirs] }));
  // A systemd scope is the container's once started; a record is written only after that.
  const files = new FsCgroupManager(saved.path, saved.layout, hierarchies, saved.systemd !== undefined || (saved.claimed ?? true));
  return saved.systemd === undefined ? files : new SystemdCgroupManager(saved.systemd, saved.systemd.unit, true, files);
}
