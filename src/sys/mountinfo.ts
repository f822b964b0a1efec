/**
 * /proc/<pid>/mountinfo, parsed (proc(5)): the one parser every part of husk uses.
 * Bottom-level: imports nothing of husk, so any layer may use it.
 */
import { readFileSync } from 'node:fs';

export interface MountInfoEntry {
  mountId: number;
  parentId: number;
  /** "major:minor" of st_dev. */
  device: string;
  /** The directory of the filesystem that forms this mount's root ("/" unless a bind of a subdir). */
  root: string;
  mountPoint: string;
  /** Per-mount options ("rw", "nosuid", "relatime"). */
  options: string[];
  fsType: string;
  source: string;
  /** Per-superblock options (for a v1 cgroup mount: its controllers and "name=X"). */
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
export function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Pure: the entries of a mountinfo text, in its order; malformed lines are skipped. */
export function parseMountInfo(text: string): MountInfoEntry[] {
  const entries: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.split(' ');
    // optional fields (shared:N master:N ...) end at the "-" separator
    const separator = fields.indexOf('-', 6);
    if (separator === -1 || fields.length < separator + 4) continue;
    entries.push({
      mountId: Number(fields[0]),
      parentId: Number(fields[1]),
      device: fields[2]!,
      root: unescapeMountinfo(fields[3]!),
      mountPoint: unescapeMountinfo(fields[4]!),
      options: fields[5]!.split(','),
      fsType: fields[separator + 1]!,
      source: unescapeMountinfo(fields[separator + 2]!),
      superOptions: fields[separator + 3]!.split(','),
    });
  }
  return entries;
}

/** This process's mount table (its mount namespace). */
export function readMountInfo(): MountInfoEntry[] {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** Pure: mount points at or below `dir`, in mount-table order (a mount precedes those on top of it). */
export function mountPointsUnder(entries: MountInfoEntry[], dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return entries.map((m) => m.mountPoint).filter((p) => p === dir || p.startsWith(prefix));
}

/** Mount points at or below `dir` in this process's mount namespace, in mount-table order. */
export function mountsUnder(dir: string): string[] {
  return mountPointsUnder(readMountInfo(), dir);
}
