/**
 * Writing a new user namespace's uid_map and gid_map, for root and rootless alike.
 *
 * - The host's root writes /proc/PID/uid_map and gid_map itself (CAP_SETUID/CAP_SETGID).
 * - An unprivileged user may write one line mapping its own id, and for gid_map only after
 *   "deny" went to /proc/PID/setgroups (the kernel's rule since 3.19): that is all a
 *   config of `husk spec --rootless` (or the user namespace husk adds) asks.
 * - Anything beyond the user's own id must lie in its ranges of /etc/subuid and /etc/subgid
 *   and goes through the set-uid helpers newuidmap/newgidmap, as podman writes them
 *   (runc and crun fall back to them too). newgidmap leaves setgroups allowed only when a
 *   range comes from /etc/subgid (shadow's rule), else it writes "deny" itself.
 * - Uid 0 of a user namespace (podman's rootless one) has CAP_SETUID there and writes the
 *   files itself, for ids that exist in its namespace.
 *
 * Every mapping is checked before anything is created: the error names the mapping and
 * the file that does not allow it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { HuskError } from '../errors.js';
import { formatIdMap, type IdMapping } from '../plan/namespaces.js';
import { SpecError } from '../spec/errors.js';
import {
  callerName,
  findIdMapHelper,
  idsOfOwnNamespace,
  inUserNamespace,
  isUnprivilegedUser,
  type SubordinateRange,
  subordinateRanges,
} from '../sys/rootless.js';
import { SetupError } from './errors.js';

/** How one of the two files is written: by us, or by newuidmap/newgidmap at `helper`. */
export type IdMapMethod = { via: 'proc' } | { via: 'helper'; helper: string };

export interface IdMapWriter {
  uid: IdMapMethod;
  gid: IdMapMethod;
  /** Write "deny" to /proc/PID/setgroups before gid_map (an unprivileged direct write needs it). */
  denySetgroups: boolean;
  /** Whether setgroups(2) will work in the new namespace: false when it was denied. */
  setgroupsAllowed: boolean;
}

/** A host that does not let this user map what the config asks (no helper, a helper that failed). */
export class IdMapError extends HuskError {
  override name = 'IdMapError';
}

const rootWriter: IdMapWriter = { uid: { via: 'proc' }, gid: { via: 'proc' }, denySetgroups: false, setgroupsAllowed: true };

function describeRanges(ranges: SubordinateRange[]): string {
  return ranges.length === 0 ? 'none' : ranges.map((r) => `${r.start}-${r.start + r.count - 1}`).join(', ');
}

const inRange = (m: IdMapping, r: SubordinateRange): boolean => m.hostID >= r.start && m.hostID + m.size <= r.start + r.count;

/**
 * How the maps of a user namespace made by this process will be written; throws, naming the
 * mapping and the file, for one this caller may not map. `where` names the mappings in errors.
 */
export function planIdMapWrites(
  uidMap: IdMapping[] | undefined,
  gidMap: IdMapping[] | undefined,
  where: { uid: string; gid: string } = { uid: 'linux.uidMappings', gid: 'linux.gidMappings' },
): IdMapWriter {
  if (!isUnprivilegedUser()) {
    if (!inUserNamespace()) return rootWriter;
    // Root of a user namespace: the ids of that namespace, written by us.
    for (const kind of ['uid', 'gid'] as const) {
      const own = idsOfOwnNamespace(kind);
      (kind === 'uid' ? uidMap : gidMap)?.forEach((m, i) => {
        if (!own.some((r) => inRange(m, r))) {
          throw new SpecError(
            `${where[kind]}[${i}]`,
            `${describeMapping(m, kind)}: host ${kind}s ${m.hostID}-${m.hostID + m.size - 1} do not exist in husk's own user namespace (/proc/self/${kind}_map maps ${describeRanges(own)})`,
          );
        }
      });
    }
    return { ...rootWriter, setgroupsAllowed: setgroupsAllowedHere() };
  }

  const uid = process.geteuid!();
  const gid = process.getegid!();
  const name = callerName();
  const uidMethod = methodFor('uid', uidMap ?? [], uid, name, where.uid);
  const gidMethod = methodFor('gid', gidMap ?? [], gid, name, where.gid);
  const subgids = subordinateRanges('/etc/subgid', name, process.getuid!());
  return {
    uid: uidMethod,
    gid: gidMethod,
    denySetgroups: gidMethod.via === 'proc' && (gidMap?.length ?? 0) > 0,
    // newgidmap allows setgroups when a range comes from /etc/subgid, denies it otherwise.
    setgroupsAllowed: gidMethod.via === 'helper' && (gidMap ?? []).some((m) => subgids.some((r) => inRange(m, r))),
  };
}

/**
 * Whether setgroups(2) works in this process's own user namespace: a namespace made by an
 * unprivileged user who mapped its own gid alone says "deny", and so do the ones made in it.
 */
export function setgroupsAllowedHere(): boolean {
  try {
    return readFileSync('/proc/self/setgroups', 'utf8').trim() !== 'deny';
  } catch {
    return true; // kernels before 3.19 have no such file
  }
}

function describeMapping(m: IdMapping, kind: 'uid' | 'gid'): string {
  return `containerID ${m.containerID} hostID ${m.hostID} size ${m.size} (${kind}s ${m.containerID}-${m.containerID + m.size - 1} in the container)`;
}

/** The caller's own id alone is written directly; the rest must be in its ranges and needs the helper. */
function methodFor(kind: 'uid' | 'gid', mappings: IdMapping[], own: number, name: string | undefined, where: string): IdMapMethod {
  if (mappings.length === 0) return { via: 'proc' };
  const isOwn = (m: IdMapping): boolean => m.size === 1 && m.hostID === own;
  if (mappings.length === 1 && isOwn(mappings[0]!)) return { via: 'proc' };
  const file = kind === 'uid' ? '/etc/subuid' : '/etc/subgid';
  const ranges = subordinateRanges(file, name, process.getuid!());
  mappings.forEach((m, i) => {
    if (isOwn(m) || ranges.some((r) => inRange(m, r))) return;
    throw new SpecError(
      `${where}[${i}]`,
      `${describeMapping(m, kind)}: host ${kind}s ${m.hostID}-${m.hostID + m.size - 1} are neither the caller's own ${kind} ${own} nor in its ranges in ${file} (${describeRanges(ranges)}${name === undefined ? '' : ` for ${name}`})`,
    );
  });
  const helper = findIdMapHelper(kind === 'uid' ? 'newuidmap' : 'newgidmap');
  if (helper.path === undefined) {
    throw new IdMapError(`${where}: mapping ${kind}s beyond the caller's own ${kind} ${own} needs ${helper.name}, which is not installed (Debian/Ubuntu: apt-get install uidmap)`, {
      code: 'ENOENT',
      path: helper.name,
    });
  }
  return { via: 'helper', helper: helper.path };
}

/** Writes uid_map and gid_map (and setgroups) of a child waiting in its new user namespace. */
export function writeIdMapsWith(writer: IdMapWriter, pid: number, uidMap: IdMapping[] | undefined, gidMap: IdMapping[] | undefined): void {
  if (uidMap !== undefined && uidMap.length > 0) writeOne(writer.uid, pid, 'uid_map', uidMap);
  if (writer.denySetgroups) writeProc(pid, 'setgroups', 'deny');
  if (gidMap !== undefined && gidMap.length > 0) writeOne(writer.gid, pid, 'gid_map', gidMap);
}

function writeOne(method: IdMapMethod, pid: number, file: 'uid_map' | 'gid_map', mappings: IdMapping[]): void {
  if (method.via === 'proc') {
    writeProc(pid, file, formatIdMap(mappings));
    return;
  }
  const args = [String(pid), ...mappings.flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)])];
  // node:child_process (and node:net under it) loads when a helper runs, not with every create.
  const result = process.getBuiltinModule('node:child_process').spawnSync(method.helper, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  if (result.error !== undefined || result.status !== 0) {
    const why = result.error?.message ?? (result.stderr.trim() || `exit status ${result.status ?? result.signal}`);
    throw new IdMapError(`${method.helper} ${args.join(' ')}: ${why}`, { code: 'EPERM', path: method.helper, step: `write /proc/${pid}/${file}` });
  }
}

function writeProc(pid: number, file: string, text: string): void {
  try {
    writeFileSync(`/proc/${pid}/${file}`, text);
  } catch (error) {
    const e = error as { code?: string; errno?: number };
    throw new SetupError(`write /proc/${pid}/${file} "${text.trim().replace(/\n/g, ', ')}"`, Math.abs(e.errno ?? 22));
  }
}
