import { linuxConstants as c } from '../sys/constants.js';
import { SpecError } from '../spec/errors.js';

export interface MountOptions {
  /** MS_* flags to set. */
  flags: number;
  /** MS_* flags the options explicitly clear ("rw", "suid", "exec"...): a remount must not keep them. */
  clearFlags: number;
  /** Propagation changes, applied one by one after the mount (MS_PRIVATE, MS_SHARED|MS_REC...). */
  propagation: number[];
  /** Filesystem-specific options, passed as mount(2)'s data ("mode=755,size=65536k"). */
  data: string | null;
  /**
   * Recursive attributes ("rro", "rnosuid"...), applied to the mount and every
   * mount beneath it with mount_setattr(2) AT_RECURSIVE, as runc 1.2 does:
   * MOUNT_ATTR_* bits to set and to clear. Both 0: none.
   */
  recursive: { set: number; clear: number };
  /** "idmap" (the mount only) or "ridmap" (its submounts too); null for neither. */
  idmap: 'idmap' | 'ridmap' | null;
  /** "tmpcopyup": a tmpfs starts with a copy of what the directory it covers holds. */
  tmpcopyup: boolean;
}

/** MOUNT_ATTR_* of linux/mount.h (mount_setattr(2)). */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  /** The access-time mode: RELATIME (0), NOATIME or STRICTATIME; changing it needs the whole field in attr_clr. */
  _ATIME: 0x70,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  IDMAP: 0x100000,
  NOSYMFOLLOW: 0x200000,
} as const;

/** MS_POSIXACL: "acl"/"noacl" are a mount flag, not filesystem data. */
export const MS_POSIXACL = 1 << 16;

const MS_I_VERSION = 1 << 23;

// [flag, clear?]: "ro" sets MS_RDONLY, "rw" clears it (runc's table).
const flagOptions: Record<string, [number, boolean]> = {
  async: [c.MS_SYNCHRONOUS, true],
  atime: [c.MS_NOATIME, true],
  bind: [c.MS_BIND, false],
  defaults: [0, false],
  dev: [c.MS_NODEV, true],
  diratime: [c.MS_NODIRATIME, true],
  dirsync: [c.MS_DIRSYNC, false],
  exec: [c.MS_NOEXEC, true],
  acl: [MS_POSIXACL, false],
  iversion: [MS_I_VERSION, false],
  lazytime: [c.MS_LAZYTIME, false],
  loud: [c.MS_SILENT, true],
  mand: [c.MS_MANDLOCK, false],
  noatime: [c.MS_NOATIME, false],
  nodev: [c.MS_NODEV, false],
  nodiratime: [c.MS_NODIRATIME, false],
  noexec: [c.MS_NOEXEC, false],
  noiversion: [MS_I_VERSION, true],
  noacl: [MS_POSIXACL, true],
  nolazytime: [c.MS_LAZYTIME, true],
  nomand: [c.MS_MANDLOCK, true],
  norelatime: [c.MS_RELATIME, true],
  nostrictatime: [c.MS_STRICTATIME, true],
  nosuid: [c.MS_NOSUID, false],
  nosymfollow: [c.MS_NOSYMFOLLOW, false],
  rbind: [c.MS_BIND | c.MS_REC, false],
  relatime: [c.MS_RELATIME, false],
  remount: [c.MS_REMOUNT, false],
  ro: [c.MS_RDONLY, false],
  rw: [c.MS_RDONLY, true],
  silent: [c.MS_SILENT, false],
  strictatime: [c.MS_STRICTATIME, false],
  suid: [c.MS_NOSUID, true],
  sync: [c.MS_SYNCHRONOUS, false],
};

export const propagationFlags: Record<string, number> = {
  private: c.MS_PRIVATE,
  rprivate: c.MS_PRIVATE | c.MS_REC,
  shared: c.MS_SHARED,
  rshared: c.MS_SHARED | c.MS_REC,
  slave: c.MS_SLAVE,
  rslave: c.MS_SLAVE | c.MS_REC,
  unbindable: c.MS_UNBINDABLE,
  runbindable: c.MS_UNBINDABLE | c.MS_REC,
};

// [MOUNT_ATTR_*, clear?]: runc's recAttrFlags (libcontainer/specconv).
const recursiveOptions: Record<string, [number, boolean]> = {
  rro: [MOUNT_ATTR.RDONLY, false],
  rrw: [MOUNT_ATTR.RDONLY, true],
  rnosuid: [MOUNT_ATTR.NOSUID, false],
  rsuid: [MOUNT_ATTR.NOSUID, true],
  rnodev: [MOUNT_ATTR.NODEV, false],
  rdev: [MOUNT_ATTR.NODEV, true],
  rnoexec: [MOUNT_ATTR.NOEXEC, false],
  rexec: [MOUNT_ATTR.NOEXEC, true],
  rnodiratime: [MOUNT_ATTR.NODIRATIME, false],
  rdiratime: [MOUNT_ATTR.NODIRATIME, true],
  rrelatime: [MOUNT_ATTR.RELATIME, false],
  rnorelatime: [MOUNT_ATTR.RELATIME, true],
  rnoatime: [MOUNT_ATTR.NOATIME, false],
  ratime: [MOUNT_ATTR.NOATIME, true],
  rstrictatime: [MOUNT_ATTR.STRICTATIME, false],
  rnostrictatime: [MOUNT_ATTR.STRICTATIME, true],
  rnosymfollow: [MOUNT_ATTR.NOSYMFOLLOW, false],
  rsymfollow: [MOUNT_ATTR.NOSYMFOLLOW, true],
};

/** Parses a mount's options as runc does; `where` is the JSON path for errors. */
export function parseMountOptions(options: readonly string[] | undefined, where: string): MountOptions {
  const result: MountOptions = { flags: 0, clearFlags: 0, propagation: [], data: null, recursive: { set: 0, clear: 0 }, idmap: null, tmpcopyup: false };
  const data: string[] = [];
  (options ?? []).forEach((option, i) => {
    const flag = flagOptions[option];
    if (flag !== undefined) {
      const [bits, clear] = flag;
      if (clear) {
        result.flags &= ~bits;
        result.clearFlags |= bits;
      } else {
        result.flags |= bits;
        result.clearFlags &= ~bits;
      }
    } else if (propagationFlags[option] !== undefined) {
      result.propagation.push(propagationFlags[option]);
    } else if (recursiveOptions[option] !== undefined) {
      const [bits, clear] = recursiveOptions[option];
      const rec = result.recursive;
      if ((bits & ~MOUNT_ATTR._ATIME) === 0) {
        // The access-time mode is a field, not a bit: a change clears the whole field
        // (mount_setattr(2) refuses a partial one); turning a mode off means relatime.
        if (!clear) rec.set = (rec.set & ~MOUNT_ATTR._ATIME) | bits;
        else if ((rec.set & MOUNT_ATTR._ATIME) === bits) rec.set &= ~MOUNT_ATTR._ATIME;
        rec.clear |= MOUNT_ATTR._ATIME;
      } else if (clear) {
        rec.set &= ~bits;
        rec.clear |= bits;
      } else {
        rec.set |= bits;
        rec.clear &= ~bits;
      }
    } else if (option === 'idmap' || option === 'ridmap') {
      result.idmap = option;
    } else if (option === 'tmpcopyup' || option === 'notmpcopyup') {
      result.tmpcopyup = option === 'tmpcopyup';
    } else {
      data.push(option);
    }
  });
  if (data.length > 0) result.data = data.join(',');
  return result;
}

/** Every mount option husk understands itself (others go to the filesystem as data). */
export function knownMountOptions(): string[] {
  return [...Object.keys(flagOptions), ...Object.keys(propagationFlags), ...Object.keys(recursiveOptions), 'idmap', 'ridmap', 'tmpcopyup', 'notmpcopyup'].sort();
}
