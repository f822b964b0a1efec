/**
 * The escape lab's report: what `husk escape-lab --format json` prints. Stable
 * for scripts: fields are only ever added, and `version` changes if one is
 * renamed or removed.
 */

/** The jails, weakest first. */
export type ConfigurationId =
  | 'chroot' // (1) chroot(2) only, host mount namespace, all capabilities (CAP_SYS_CHROOT kept)
  | 'chroot-no-cap' // (2) as (1), with CAP_SYS_CHROOT dropped after the chroot
  | 'no-pivot' // (3) husk --no-pivot: new mount + pid namespaces, MS_MOVE the rootfs onto / and chroot
  | 'pivot-root' // (4) husk's jail: new mount + pid namespaces, pivot_root, old root detached
  | 'container' // (5) the default container of `husk run`, planned by planContainer
  | 'pivot-root-open-fds'; // (6) as (4), but the runtime does not close its fds

export type AttemptId =
  | 'classic' // mkdir, chroot into it, walk ".." from the stale cwd, chroot(".")
  | 'leaked-fd' // fchdir to a directory fd the runtime leaked into the child
  | 'proc-root' // /proc/<host pid>/root and /proc/1/root, mounting proc if the jail may
  | 'mount-ns'; // detach the jail's root mount, setns into the own mount namespace

export type Outcome =
  /** The marker's secret was read back from inside the jail. */
  | 'escaped'
  /** The attempt was stopped; `errno` and `step` say where. */
  | 'held'
  /** The lab could not run this row (the jail could not be set up, or the probe said nothing). */
  | 'error';

export interface ConfigurationInfo {
  id: ConfigurationId;
  /** 1-6, as in the docs. */
  number: number;
  title: string;
  /** True for the jails husk uses by default (4 and 5): escaping them fails the lab. */
  isDefault: boolean;
  /** Whether fds other than 0-2 are closed (made close-on-exec) before the process starts. */
  closesFds: boolean;
  /** What the kernel does to set this jail up. */
  explanation: string;
}

export interface AttemptInfo {
  id: AttemptId;
  title: string;
  /** The kernel behaviour the attempt relies on. */
  explanation: string;
}

export interface EscapeResult {
  configuration: ConfigurationId;
  attempt: AttemptId;
  outcome: Outcome;
  /** escaped: the step that got out ("chroot-dotdot", "fchdir-leaked-fd", "proc-hostpid-root", "setns-mnt"...). */
  /** held: the step the kernel refused ("chroot-subdir", "open-marker", "leaked-fd", "setns-mnt"...). */
  step?: string;
  /** held: the errno name of the refusal ("EPERM"). */
  errno?: string;
  /** escaped: what was read from the marker (equals the report's secret). */
  secretReadBack?: string;
  /** error: what went wrong. */
  error?: string;
  /** One line: why it escaped or held. */
  why: string;
  /** What the kernel did, step by step (printed by --explain). */
  explanation: string;
}

export interface EscapeLabReport {
  version: 1;
  /** uname -r. */
  kernel: string;
  /** The host file outside the rootfs that every attempt tries to read. */
  marker: string;
  /** The random secret written to it (a throwaway). */
  secret: string;
  /** The throwaway rootfs the jails are made of. */
  rootfs: string;
  configurations: ConfigurationInfo[];
  attempts: AttemptInfo[];
  /** One per configuration x attempt, in configuration then attempt order. */
  results: EscapeResult[];
  /** True when configuration 4 or 5 was escaped (the command then exits 1). */
  defaultEscaped: boolean;
  /** Anything the lab had to clean up after a row (a mount left by a killed probe...): empty when all went well. */
  cleanup: string[];
}
