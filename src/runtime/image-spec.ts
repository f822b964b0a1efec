/**
 * The config of a container run from an image: runc's defaults
 * (src/spec/defaults.ts) under the image's config (Entrypoint + Cmd, Env,
 * WorkingDir, User, Volumes, StopSignal, Labels), under the run's own flags
 * (-e, -v, -w, -u, --memory...), as `docker run` and `podman run` layer them.
 */
import { closeSync, fstatSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { constants as fsConstants, openSync } from 'node:fs';
import { isCgroup2UnifiedMode } from '../cgroups/index.js';
import { native } from '../native/index.js';
import { CAPABILITY_NAMES } from '../spec/capabilities.js';
import { defaultSpec } from '../spec/defaults.js';
import type { Mount, Spec } from '../spec/types.js';
import type { ImageConfig } from '../image/store.js';
import { rootlessIdMaps } from '../sys/rootless.js';
import { ContainerError } from './errors.js';

/** What `husk run --image` takes beyond the image itself. */
export interface ImageRunOptions {
  /** The image: a name, an id or an id prefix. */
  ref: string;
  /** The image store (default: HUSK_STORE, else /var/lib/husk; rootless ~/.local/share/husk). */
  store?: string;
  /** Replaces the image's Cmd (the Entrypoint stays). */
  args?: string[];
  /** Replaces the image's Entrypoint (and then drops its Cmd, as docker does); "" clears it. */
  entrypoint?: string;
  /** K=V (or K, taken from this process's environment). */
  env?: string[];
  /** Files of K=V lines (# comments and blank lines skipped). */
  envFiles?: string[];
  /** HOST:CTR[:ro] bind mounts. */
  volumes?: string[];
  workdir?: string;
  /** USER[:GROUP], names or ids, resolved in the image's /etc/passwd and /etc/group. */
  user?: string;
  hostname?: string;
  /** Bytes, or a number with a k/m/g suffix ("512m"). */
  memory?: string;
  pidsLimit?: number;
  /** CPUs as a fraction (1.5 = 150 ms of CPU time per 100 ms). */
  cpus?: number;
  readOnly?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  network?: 'none' | 'host';
  terminal?: boolean;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Reads a file of the image: the topmost layer that has it (layers top first), within that layer's root. */
function readImageFile(lowers: string[], path: string): string | undefined {
  for (const layer of lowers) {
    const root = openSync(layer, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
    try {
      const fd = native.inRootOpen(root, path);
      try {
        if (!fstatSync(fd).isFile()) return undefined;
        return readFileSync(fd, 'utf8');
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') return undefined;
    } finally {
      closeSync(root);
    }
  }
  return undefined;
}

function parseColonFile(text: string | undefined): string[][] {
  return (text ?? '').split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':'));
}

/** USER[:GROUP] as docker resolves it: names from the image's files, numbers as they are. */
export function resolveUser(user: string, lowers: string[]): { uid: number; gid: number; additionalGids?: number[]; home?: string } {
  const [userPart = '', groupPart] = user.split(':', 2);
  const passwd = parseColonFile(readImageFile(lowers, 'etc/passwd'));
  const groups = parseColonFile(readImageFile(lowers, 'etc/group'));
  const isNumber = (s: string): boolean => /^\d+$/.test(s);
  const entry = passwd.find((p) => (isNumber(userPart) ? p[2] === userPart : p[0] === userPart));
  let uid: number;
  let gid: number;
  if (entry !== undefined) {
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  } else if (isNumber(userPart)) {
    uid = Number(userPart);
    gid = 0;
  } else {
    throw new ContainerError(`user ${JSON.stringify(userPart)} is not in the image's /etc/passwd`, 'EINVAL');
  }
  if (groupPart !== undefined && groupPart !== '') {
    const group = groups.find((g) => (isNumber(groupPart) ? g[2] === groupPart : g[0] === groupPart));
    if (group !== undefined) gid = Number(group[2]);
    else if (isNumber(groupPart)) gid = Number(groupPart);
    else throw new ContainerError(`group ${JSON.stringify(groupPart)} is not in the image's /etc/group`, 'EINVAL');
  }
  const name = entry?.[0];
  const additional = name === undefined || groupPart !== undefined ? [] : groups.filter((g) => (g[3] ?? '').split(',').includes(name)).map((g) => Number(g[2])).filter((g) => g !== gid);
  const result: { uid: number; gid: number; additionalGids?: number[]; home?: string } = { uid, gid };
  if (additional.length > 0) result.additionalGids = additional;
  if (entry?.[5]) result.home = entry[5];
  return result;
}

/** "512m" -> 536870912. */
export function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(text.trim());
  if (match === null) throw new ContainerError(`--memory ${JSON.stringify(text)}: not a size (e.g. 512m, 1g)`, 'EINVAL');
  const scale = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[match[2]!.toLowerCase() as 'k'];
  return Math.floor(Number(match[1]) * scale);
}

function setEnv(env: string[], entry: string): string[] {
  const key = entry.split('=', 1)[0]!;
  return [...env.filter((e) => e.split('=', 1)[0] !== key), entry];
}

function capName(name: string): string {
  const upper = name.toUpperCase();
  return upper === 'ALL' || upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
}

export interface ImageSpec {
  spec: Spec;
  /** Image Volumes: each gets an empty directory in the container's layer, bound there. */
  anonymousVolumes: string[];
}

/**
 * The container's spec. `lowers` are the image's layer directories, top first
 * (for /etc/passwd and /etc/group); `volumeDir(i)` is where anonymous volume i lives.
 */
export function imageSpec(config: ImageConfig, lowers: string[], id: string, run: ImageRunOptions, volumeDir: (i: number) => string): ImageSpec {
  const image = config.config ?? {};
  const terminal = run.terminal ?? false;
  const spec = defaultSpec({ terminal, cgroupNamespace: isCgroup2UnifiedMode() });
  spec.root = { path: 'rootfs', readonly: run.readOnly ?? false };
  spec.hostname = run.hostname ?? id;
  const process = spec.process!;

  const entrypoint = run.entrypoint !== undefined ? (run.entrypoint === '' ? [] : [run.entrypoint]) : (image.Entrypoint ?? []);
  const cmd = run.args !== undefined && run.args.length > 0 ? run.args : run.entrypoint !== undefined ? [] : (image.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new ContainerError(`the image has no Entrypoint or Cmd: give a command (husk run --image ${run.ref} NAME -- CMD)`, 'EINVAL');
  process.args = args;

  let env: string[] = image.Env ?? [];
  if (!env.some((e) => e.startsWith('PATH='))) env = [DEFAULT_PATH, ...env];
  if (terminal) env = setEnv(env, 'TERM=xterm');
  for (const file of run.envFiles ?? []) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      env = setEnv(env, trimmed.includes('=') ? trimmed : `${trimmed}=${globalThis.process.env[trimmed] ?? ''}`);
    }
  }
  for (const entry of run.env ?? []) {
    if (entry.includes('=')) env = setEnv(env, entry);
    else if (globalThis.process.env[entry] !== undefined) env = setEnv(env, `${entry}=${globalThis.process.env[entry]}`);
  }

  const cwd = run.workdir ?? (image.WorkingDir || '/');
  if (!isAbsolute(cwd)) throw new ContainerError(`working directory ${JSON.stringify(cwd)} must be absolute`, 'EINVAL');
  process.cwd = cwd;

  const user = run.user ?? image.User ?? '';
  if (user !== '') {
    const resolved = resolveUser(user, lowers);
    process.user = { uid: resolved.uid, gid: resolved.gid, ...(resolved.additionalGids !== undefined && { additionalGids: resolved.additionalGids }) };
    if (resolved.home !== undefined && !env.some((e) => e.startsWith('HOME='))) env = setEnv(env, `HOME=${resolved.home}`);
  } else if (!env.some((e) => e.startsWith('HOME='))) {
    env = setEnv(env, `HOME=${resolveUser('0', lowers).home ?? '/root'}`);
  }
  process.env = env;

  // Capabilities: runc's defaults, then --cap-add, then --cap-drop (ALL allowed in both).
  let caps = [...(process.capabilities?.bounding ?? [])];
  for (const raw of run.capAdd ?? []) {
    const name = capName(raw);
    if (name === 'ALL') caps = [...CAPABILITY_NAMES];
    else if (!CAPABILITY_NAMES.includes(name)) throw new ContainerError(`--cap-add ${raw}: unknown capability`, 'EINVAL');
    else if (!caps.includes(name)) caps.push(name);
  }
  for (const raw of run.capDrop ?? []) {
    const name = capName(raw);
    if (name === 'ALL') caps = [];
    else if (!CAPABILITY_NAMES.includes(name)) throw new ContainerError(`--cap-drop ${raw}: unknown capability`, 'EINVAL');
    else caps = caps.filter((c) => c !== name);
  }
  process.capabilities = { bounding: [...caps], effective: [...caps], permitted: [...caps] };

  const mounts: Mount[] = [...(spec.mounts ?? [])];
  const volumes = Object.keys(image.Volumes ?? {});
  volumes.forEach((destination, i) => mounts.push({ destination, type: 'bind', source: volumeDir(i), options: ['rbind', 'nosuid', 'nodev'] }));
  for (const volume of run.volumes ?? []) {
    const [host, target, mode, ...extra] = volume.split(':');
    if (!host || !target || extra.length > 0 || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
      throw new ContainerError(`-v ${JSON.stringify(volume)}: expected HOST:CONTAINER[:ro]`, 'EINVAL');
    }
    if (!isAbsolute(target)) throw new ContainerError(`-v ${volume}: the container path must be absolute`, 'EINVAL');
    mounts.push({ destination: target, type: 'bind', source: resolve(host), options: ['rbind', ...(mode === 'ro' ? ['ro'] : [])] });
  }
  spec.mounts = mounts;

  const linux = spec.linux!;
  const resources = { ...linux.resources };
  if (run.memory !== undefined) resources.memory = { limit: parseBytes(run.memory) };
  if (run.pidsLimit !== undefined) resources.pids = { limit: run.pidsLimit };
  if (run.cpus !== undefined) {
    if (!(run.cpus > 0)) throw new ContainerError(`--cpus ${run.cpus}: must be more than 0`, 'EINVAL');
    resources.cpu = { period: 100_000, quota: Math.round(run.cpus * 100_000) };
  }
  linux.resources = resources;
  if (run.network === 'host') linux.namespaces = (linux.namespaces ?? []).filter((n) => n.type !== 'network');
  else if (run.network !== undefined && run.network !== 'none') throw new ContainerError(`--network ${String(run.network)}: husk knows none and host`, 'EINVAL');

  const annotations: Record<string, string> = { ...(image.Labels ?? {}) };
  if (image.StopSignal) annotations['org.opencontainers.image.stopSignal'] = image.StopSignal;
  if (Object.keys(annotations).length > 0) spec.annotations = annotations;
  return { spec, anonymousVolumes: volumes };
}

/**
 * Rootless, the container's user namespace maps ids as the store's own (uid 0 as the
 * user, 1..N its subordinate range: src/image/userns.ts), so that the layers' files keep
 * the owners the image gave them; a user namespace is added when the config has none.
 * Mappings the config already has are kept (and checked when they are written).
 */
export function withStoreUserNamespace(spec: Spec): void {
  const maps = rootlessIdMaps();
  // Without ranges the store maps the user alone: the namespace husk adds for any rootless
  // config (src/runtime/rootless.ts) is that one already, and drops what it cannot map.
  if (!maps.ranges) return;
  const linux = (spec.linux ??= {});
  const namespaces = (linux.namespaces ??= []);
  if (!namespaces.some((n) => n.type === 'user')) namespaces.push({ type: 'user' });
  if (linux.uidMappings !== undefined || linux.gidMappings !== undefined) return;
  linux.uidMappings = maps.uidMap;
  linux.gidMappings = maps.gidMap;
}
