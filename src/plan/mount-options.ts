import { constants as c } from '../native/index.js';
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
}

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
  iversion: [MS_I_VERSION, false],
  lazytime: [c.MS_LAZYTIME, false],
  loud: [c.MS_SILENT, true],
  mand: [c.MS_MANDLOCK, false],
  noatime: [c.MS_NOATIME, false],
  nodev: [c.MS_NODEV, false],
  nodiratime: [c.MS_NODIRATIME, false],
  noexec: [c.MS_NOEXEC, false],
  noiversion: [MS_I_VERSION, true],
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

// Options that need mount_setattr(2) (recursive attributes, idmapped mounts).
const unsupported = new Set(['idmap', 'ridmap', 'rro', 'rrw', 'rnosuid', 'rsuid', 'rnodev', 'rdev', 'rnoexec', 'rexec', 'rnoatime', 'ratime', 'rrelatime', 'rnorelatime', 'rstrictatime', 'rnostrictatime', 'rnosymfollow', 'rsymfollow', 'rnodiratime', 'rdiratime']);
// runc extensions with no meaning for husk's mounts.
const ignored = new Set(['tmpcopyup', 'notmpcopyup']);

/** Parses a mount's options as runc does; `where` is the JSON path for errors. */
export function parseMountOptions(options: readonly string[] | undefined, where: string): MountOptions {
  const result: MountOptions = { flags: 0, clearFlags: 0, propagation: [], data: null };
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
    } else if (unsupported.has(option)) {
      throw new SpecError(`${where}.options[${i}]`, `mount option "${option}" is not supported by husk`);
    } else if (!ignored.has(option)) {
      data.push(option);
    }
  });
  if (data.length > 0) result.data = data.join(',');
  return result;
}

/** Every mount option husk understands itself (others go to the filesystem as data). */
export function knownMountOptions(): string[] {
  return [...Object.keys(flagOptions), ...Object.keys(propagationFlags)].sort();
}
