/**
 * What the bench sets up, and takes down again even when interrupted: the
 * shared rootfs and per-container configs, the cgroup every container goes
 * beneath, crun's private mount namespace, the runtimes' state roots.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestBundle, type TestBundle } from '../../tests/helpers/rootfs.js';
import type { Spec } from '../../src/spec/types.js';
import { type Runtime, verbs } from './runtimes.js';

const cgroupRoot = '/sys/fs/cgroup';

/**
 * The cgroup to put every container beneath: `<own>/husk-bench-<pid>`, where
 * <own> is this process's deepest cgroup. One absolute cgroupsPath serves all
 * three runtimes only when every other hierarchy's own cgroup is an ancestor
 * of it (here: memory is /process_api/<hash>, the rest "/"), which is checked.
 * (crun reads a relative cgroupsPath from the root, runc and husk from their
 * own cgroup: an absolute path is the one form all three place alike.)
 */
export function benchCgroupBase(): string {
  const owns = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.slice(l.indexOf(':', l.indexOf(':') + 1) + 1));
  const deepest = owns.reduce((a, b) => (b.length > a.length ? b : a), '/');
  for (const own of owns) {
    if (!(deepest === own || deepest.startsWith(own === '/' ? '/' : `${own}/`))) {
      throw new Error(`cannot place containers beneath this process's cgroups with one path: ${own} is not an ancestor of ${deepest} (/proc/self/cgroup)`);
    }
  }
  return `${deepest === '/' ? '' : deepest}/husk-bench-${process.pid}`;
}

/** Every directory named by `cgroupPath` in any hierarchy (v1 controllers and the unified tree). */
function cgroupDirs(cgroupPath: string): string[] {
  const dirs: string[] = [];
  const add = (dir: string): void => {
    if (!existsSync(dir)) return;
    const real = realpathSync(dir); // cpu and cpuacct may be links to one "cpu,cpuacct"
    if (!dirs.includes(real)) dirs.push(real);
  };
  if (existsSync(join(cgroupRoot, 'cgroup.controllers'))) add(join(cgroupRoot, cgroupPath)); // pure v2
  else for (const hierarchy of readdirSync(cgroupRoot)) add(join(cgroupRoot, hierarchy, cgroupPath));
  return dirs;
}

/**
 * Makes the bench's cgroup in every hierarchy before any runtime runs, as an engine's parent
 * (machine.slice, /docker) exists before its containers: each runtime then makes only its
 * container's own cgroup, and none of them makes and removes the parent with every container.
 * A new v1 cpuset gets its parent's cpus and mems (it refuses tasks with none). removeCgroupTree
 * removes it at the end.
 */
export function makeCgroupBase(cgroupPath: string): void {
  const hierarchies = existsSync(join(cgroupRoot, 'cgroup.controllers')) ? [cgroupRoot] : readdirSync(cgroupRoot).map((h) => join(cgroupRoot, h));
  const seen = new Set<string>();
  for (const hierarchy of hierarchies) {
    if (!existsSync(join(hierarchy, 'cgroup.procs'))) continue; // not a cgroup mount (or a link already seen)
    const real = realpathSync(hierarchy);
    if (seen.has(real)) continue;
    seen.add(real);
    const dir = join(real, cgroupPath);
    if (!existsSync(join(dir, '..'))) continue; // only the bench's own directory, never its ancestors: the runtimes make those
    mkdirSync(dir);
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const path = join(dir, file);
      if (existsSync(path) && readFileSync(path, 'utf8').trim() === '') writeFileSync(path, readFileSync(join(dir, '..', file), 'utf8').trim() || '\n');
    }
  }
}

/** Removes the bench's cgroups, children first; returns what could not be removed. */
export function removeCgroupTree(cgroupPath: string): string[] {
  const left: string[] = [];
  const remove = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) remove(join(dir, entry.name));
    try {
      rmdirSync(dir);
    } catch (error) {
      left.push(`${dir} (${(error as { code?: string }).code})`);
    }
  };
  for (const dir of cgroupDirs(cgroupPath)) remove(dir);
  return left;
}

/** Processes in the cgroup tree (any hierarchy): what a leaked container leaves. */
export function pidsInCgroupTree(cgroupPath: string): number[] {
  const pids = new Set<number>();
  const collect = (dir: string): void => {
    try {
      for (const p of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (p !== '') pids.add(Number(p));
      for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) collect(join(dir, entry.name));
    } catch {
      // removed meanwhile
    }
  };
  for (const dir of cgroupDirs(cgroupPath)) collect(dir);
  return [...pids];
}

/**
 * crun 1.8.1 refuses a hybrid host whose cgroup2 tree has a controller ("cgroups
 * in hybrid mode not supported, drop all controllers from cgroupv2"); ours has
 * hugetlb. A persistent private mount namespace with an empty tmpfs over
 * /sys/fs/cgroup/unified hides it; exec-timed joins it (setns, outside the timed
 * window) before running crun, so crun pays nothing for it.
 */
export function crunNamespace(dir: string): string {
  const unified = join(cgroupRoot, 'unified');
  const nsFile = join(dir, 'crun-mntns');
  writeFileSync(nsFile, '');
  const script = existsSync(unified) ? `mount -t tmpfs tmpfs ${unified}` : 'true';
  execFileSync('unshare', [`--mount=${nsFile}`, '--propagation', 'private', 'sh', '-c', script], { stdio: 'inherit' });
  return nsFile;
}

export interface Bundles {
  /** The shared rootfs bundle (testinit as /bin/testinit; tests/helpers/rootfs.ts). */
  shared: TestBundle;
  /** Directory of container i's config: `<dir>/b<i>` (root.path = the shared rootfs). */
  configDir(index: number | '%i'): string;
  /** A config running other args (ps: 10 processes), same rootfs. */
  extra(name: string, args: string[]): string;
  spec: Spec;
}

/**
 * One rootfs for every runtime: runc spec's defaults (pid, network, ipc, uts,
 * mount namespaces, read-only root) running `testinit true` (/bin/true, static).
 * Container i gets its own small bundle directory whose config differs only by
 * linux.cgroupsPath (<base>/c<i>), so that concurrent containers never share a
 * cgroup, and whose root.path points at the shared rootfs.
 */
export async function makeBundles(count: number, cgroupBase: string): Promise<Bundles> {
  const shared = await makeTestBundle({ args: ['true'] });
  const spec = shared.spec;
  const write = (dir: string, mutate: (s: Spec) => void): void => {
    const copy = structuredClone(spec);
    copy.root = { path: shared.rootfs, readonly: spec.root?.readonly ?? true };
    copy.ociVersion = '1.0.2'; // crun 1.8.1 refuses anything but 1.0.x ("unknown version specified")
    mutate(copy);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(copy, null, 2) + '\n');
  };
  for (let i = 0; i < count; i++) {
    write(join(shared.dir, `b${i}`), (s) => {
      s.linux = { ...s.linux, cgroupsPath: `${cgroupBase}/c${i}` };
    });
  }
  return {
    shared,
    spec,
    configDir: (index) => join(shared.dir, `b${index}`),
    extra(name, args) {
      const dir = join(shared.dir, name);
      write(dir, (s) => {
        s.process = { ...s.process!, args: ['/bin/testinit', ...args] };
        s.linux = { ...s.linux, cgroupsPath: `${cgroupBase}/${name}` };
      });
      return dir;
    },
  };
}

/** Ids of the containers a runtime still has under its state root. */
export function leftoverIds(rt: Runtime): string[] {
  try {
    return readdirSync(rt.root).filter((name) => statSync(join(rt.root, name)).isDirectory());
  } catch {
    return [];
  }
}

/** `delete --force` of every container the runtime still has (synchronous: usable from a signal handler). */
export function forceDeleteAll(rt: Runtime): string[] {
  const failed: string[] = [];
  for (const id of leftoverIds(rt)) {
    const argv = verbs.delete(rt, id, true);
    const command = rt.mntns !== undefined ? ['nsenter', `--mount=${rt.mntns}`, ...argv] : argv;
    try {
      execFileSync(command[0]!, command.slice(1), { env: rt.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      failed.push(`${rt.name} ${id}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return failed;
}

/** Detaches the namespace file and removes a directory tree (no-op if absent). */
export function removeNamespaceFile(nsFile: string): void {
  try {
    execFileSync('umount', [nsFile], { stdio: 'ignore' });
  } catch {
    // not mounted
  }
  rmSync(nsFile, { force: true });
}
