/** /proc/<pid>/mountinfo, parsed (proc(5)). */

export interface MountInfoEntry {
  id: number;
  parentId: number;
  /** "major:minor" of st_dev. */
  device: string;
  /** The directory of the filesystem that forms this mount's root ("/" unless a bind of a subdir). */
  root: string;
  mountPoint: string;
  mountOptions: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
export function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMountInfo(text: string): MountInfoEntry[] {
  const entries: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.split(' ');
    // optional fields (shared:N master:N ...) end at the "-" separator
    const separator = fields.indexOf('-', 6);
    if (separator === -1 || fields.length < separator + 4) continue;
    entries.push({
      id: Number(fields[0]),
      parentId: Number(fields[1]),
      device: fields[2]!,
      root: unescapeMountinfo(fields[3]!),
      mountPoint: unescapeMountinfo(fields[4]!),
      mountOptions: fields[5]!.split(','),
      fsType: fields[separator + 1]!,
      source: unescapeMountinfo(fields[separator + 2]!),
      superOptions: fields[separator + 3]!.split(','),
    });
  }
  return entries;
}
