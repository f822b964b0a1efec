/**
 * Rootless mode: whether husk runs without the host's root, and where its state
 * and image store go then. Plain reads of the process's own ids and /proc, so
 * every layer (runtime, image, cli) can ask without loading the addon.
 *
 * runc's rule: rootless when the effective uid is not 0, or when husk's uid 0 is
 * not the host's root (it runs in a user namespace that does not map the whole
 * id space, as inside `podman unshare` or a rootless engine's namespace).
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { IdMapping } from '../plan/namespaces.js';

/** The uid_map of a process that is the initial user namespace's own. */
const INITIAL_USER_NAMESPACE_MAP = /^\s*0\s+0\s+4294967295\s*$/;

/** Whether this process runs in a user namespace other than the host's (initial) one. */
export function inUserNamespace(): boolean {
  try {
    return !INITIAL_USER_NAMESPACE_MAP.test(readFileSync('/proc/self/uid_map', 'utf8'));
  } catch {
    return false;
  }
}

/** Whether husk runs without the host's root: euid != 0, or uid 0 of a user namespace of its own. */
export function isRootless(): boolean {
  return process.geteuid!() !== 0 || inUserNamespace();
}

/**
 * The default state root: /run/husk for the host's root; rootless, runc's rule,
 * $XDG_RUNTIME_DIR/husk, else husk-<uid> under the temporary directory (runc
 * would fall back to /run/runc and fail with EACCES).
 */
export function defaultStateRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (!isRootless()) return '/run/husk';
  const runtimeDir = env['XDG_RUNTIME_DIR'];
  if (runtimeDir) return join(runtimeDir, 'husk');
  return join(env['TMPDIR'] || '/tmp', `husk-${process.geteuid!()}`);
}

/**
 * The default image store: /var/lib/husk for the host's root; rootless,
 * $XDG_DATA_HOME/husk, else ~/.local/share/husk (where podman keeps its own).
 */
export function defaultStoreRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (!isRootless()) return '/var/lib/husk';
  const dataHome = env['XDG_DATA_HOME'];
  if (dataHome) return join(dataHome, 'husk');
  return join(env['HOME'] || homedir(), '.local', 'share', 'husk');
}

/**
 * runc's "rootless EUID": the effective uid is not 0, so nothing of the host's root is
 * ours and a container needs a user namespace of its own (husk adds one when the config
 * has none, as crun does). Uid 0 of a user namespace (podman's rootless one) has the
 * capabilities of that namespace and is not in this case.
 */
export function isUnprivilegedUser(): boolean {
  return process.geteuid!() !== 0;
}

/** One line of /etc/subuid or /etc/subgid: `count` ids from `start`. */
export interface SubordinateRange {
  start: number;
  count: number;
}

/**
 * The caller's ranges in /etc/subuid (or /etc/subgid), as shadow's newuidmap reads them:
 * lines `NAME:START:COUNT` or `UID:START:COUNT` for the caller's name or uid.
 */
export function subordinateRanges(file: string, name: string | undefined, id: number): SubordinateRange[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const ranges: SubordinateRange[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(':');
    if (fields.length !== 3 || (fields[0] !== name && fields[0] !== String(id))) continue;
    const start = Number(fields[1]);
    const count = Number(fields[2]);
    if (Number.isSafeInteger(start) && Number.isSafeInteger(count) && start >= 0 && count > 0) ranges.push({ start, count });
  }
  return ranges;
}

/** The caller's user name in /etc/passwd (by its real uid, as shadow's tools look it up), if any. */
export function callerName(uid: number = process.getuid!()): string | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields.length >= 3 && Number(fields[2]) === uid && fields[0] !== '') return fields[0];
    }
  } catch {
    // no passwd: numeric lines only
  }
  return undefined;
}

/** newuidmap or newgidmap (Debian's uidmap package): where it is and whether it can work. */
export interface IdMapHelper {
  name: 'newuidmap' | 'newgidmap';
  /** Absolute path, absent when not found. */
  path?: string;
  /** Set-uid root: it may write maps for ids the caller does not own. */
  setuid: boolean;
}

/** Finds newuidmap/newgidmap in $PATH, then in /usr/bin and /bin (as podman looks for them). */
export function findIdMapHelper(name: 'newuidmap' | 'newgidmap', env: NodeJS.ProcessEnv = process.env): IdMapHelper {
  const dirs = [...(env['PATH'] ?? '').split(':').filter((d) => d.startsWith('/')), '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      const stat = statSync(path);
      if (!stat.isFile()) continue;
      return { name, path, setuid: stat.uid === 0 && (stat.mode & 0o4000) !== 0 };
    } catch {
      // not here
    }
  }
  return { name, setuid: false };
}

/**
 * The ids that exist in this process's user namespace (/proc/self/uid_map's or gid_map's
 * first column and count): what a mapping of a namespace made here may use. The host's
 * own namespace has them all.
 */
export function idsOfOwnNamespace(kind: 'uid' | 'gid'): SubordinateRange[] {
  try {
    return readFileSync(`/proc/self/${kind}_map`, 'utf8')
      .split('\n')
      .map((line) => line.trim().split(/\s+/).map(Number))
      .filter((f) => f.length === 3 && f.every(Number.isSafeInteger))
      .map(([inside, , count]) => ({ start: inside!, count: count! }));
  } catch {
    return [];
  }
}

/** The maps of a rootless user namespace (RootlessIdMaps.ranges: whether both have a subordinate range). */
export interface RootlessIdMaps {
  uidMap: IdMapping[];
  gidMap: IdMapping[];
  ranges: boolean;
}

/**
 * The maps of the user's own user namespace, as podman's: uid 0 is the caller, 1..N its
 * first subordinate range (of uids and of gids, both looked up by the caller's name or uid,
 * as newuidmap and newgidmap do); without ranges, the caller's own ids alone. The image
 * store's layers are owned by ids of this namespace (src/image/userns.ts), and a rootless
 * container of an image maps the same way.
 */
export function rootlessIdMaps(): RootlessIdMaps {
  const uid = process.geteuid!();
  const gid = process.getegid!();
  const name = callerName();
  const subuid = subordinateRanges('/etc/subuid', name, process.getuid!())[0];
  const subgid = subordinateRanges('/etc/subgid', name, process.getuid!())[0];
  const own = (id: number): IdMapping[] => [{ containerID: 0, hostID: id, size: 1 }];
  if (subuid === undefined || subgid === undefined) return { uidMap: own(uid), gidMap: own(gid), ranges: false };
  return {
    uidMap: [...own(uid), { containerID: 1, hostID: subuid.start, size: subuid.count }],
    gidMap: [...own(gid), { containerID: 1, hostID: subgid.start, size: subgid.count }],
    ranges: true,
  };
}
