/**
 * The subordinate id ranges a user may map (/etc/subuid and /etc/subgid, as
 * shadow's newuidmap/newgidmap read them), and the id maps of a rootless user
 * namespace built from them the way podman builds its own: the user as 0, its
 * first range from 1 on. Plain file reads: any layer may ask.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { IdMapping } from '../plan/namespaces.js';

export interface SubordinateRange {
  start: number;
  count: number;
}

/** The ranges of `file` for the user, named by name or by uid (as newuidmap accepts both). */
export function subordinateRanges(file: string, user: { name: string; id: number }): SubordinateRange[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const ranges: SubordinateRange[] = [];
  for (const line of text.split('\n')) {
    const [owner, start, count] = line.trim().split(':');
    if (owner === undefined || start === undefined || count === undefined) continue;
    if (owner !== user.name && owner !== String(user.id)) continue;
    const range = { start: Number(start), count: Number(count) };
    if (Number.isSafeInteger(range.start) && Number.isSafeInteger(range.count) && range.count > 0) ranges.push(range);
  }
  return ranges;
}

export interface RootlessIdMaps {
  uidMap: IdMapping[];
  gidMap: IdMapping[];
  /** Whether both maps have a subordinate range (else only the user's own id is mapped). */
  ranges: boolean;
}

/**
 * The maps of the user's own user namespace, as podman's: uid 0 is the caller,
 * 1..N its first subordinate range (each of uids and gids); without ranges, the
 * caller's own id alone.
 */
export function rootlessIdMaps(): RootlessIdMaps {
  const uid = process.geteuid!();
  const gid = process.getegid!();
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    name = String(uid);
  }
  const subuid = subordinateRanges('/etc/subuid', { name, id: uid })[0];
  const subgid = subordinateRanges('/etc/subgid', { name, id: gid })[0] ?? subordinateRanges('/etc/subgid', { name, id: uid })[0];
  const own = (id: number): IdMapping[] => [{ containerID: 0, hostID: id, size: 1 }];
  if (subuid === undefined || subgid === undefined) return { uidMap: own(uid), gidMap: own(gid), ranges: false };
  return {
    uidMap: [...own(uid), { containerID: 1, hostID: subuid.start, size: subuid.count }],
    gidMap: [...own(gid), { containerID: 1, hostID: subgid.start, size: subgid.count }],
    ranges: true,
  };
}
