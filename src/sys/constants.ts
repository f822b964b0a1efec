/**
 * The kernel's constants husk plans with (CLONE_*, MS_*, ...), as a plain table:
 * Linux ABI values, the same on every architecture husk builds for. Planning
 * (src/plan/) takes them from here, so it loads without the addon;
 * tests/unit/sys/constants.test.ts checks every value against the addon's own
 * (native/syscalls.cc, from the C headers), both ways. The addon's `constants`
 * has this very type: a constant is added here and there together.
 */
export const linuxConstants = {
  CLONE_NEWNS: 0x20000,
  CLONE_NEWUTS: 0x4000000,
  CLONE_NEWIPC: 0x8000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
  CLONE_NEWCGROUP: 0x2000000,
  CLONE_NEWTIME: 0x80,
  MS_RDONLY: 0x1,
  MS_NOSUID: 0x2,
  MS_NODEV: 0x4,
  MS_NOEXEC: 0x8,
  MS_SYNCHRONOUS: 0x10,
  MS_REMOUNT: 0x20,
  MS_MANDLOCK: 0x40,
  MS_DIRSYNC: 0x80,
  MS_NOSYMFOLLOW: 0x100,
  MS_NOATIME: 0x400,
  MS_NODIRATIME: 0x800,
  MS_BIND: 0x1000,
  MS_MOVE: 0x2000,
  MS_REC: 0x4000,
  MS_SILENT: 0x8000,
  MS_UNBINDABLE: 0x20000,
  MS_PRIVATE: 0x40000,
  MS_SLAVE: 0x80000,
  MS_SHARED: 0x100000,
  MS_RELATIME: 0x200000,
  MS_STRICTATIME: 0x1000000,
  MS_LAZYTIME: 0x2000000,
  MNT_FORCE: 0x1,
  MNT_DETACH: 0x2,
  MNT_EXPIRE: 0x4,
  UMOUNT_NOFOLLOW: 0x8,
  CLOSE_RANGE_CLOEXEC: 0x4,
  CLOSE_RANGE_UNSHARE: 0x2,
  LOCK_SH: 0x1,
  LOCK_EX: 0x2,
  LOCK_NB: 0x4,
  LOCK_UN: 0x8,
} as const;

export type LinuxConstants = { readonly [K in keyof typeof linuxConstants]: number };
