/**
 * The report of `husk info --format json`. Keys are stable: scripts may rely on
 * them; new keys may be added, none renamed or removed without a new
 * `schemaVersion`.
 */

/**
 * The answer to one question about the host.
 * - yes / no: checked (for "no", `detail` says why: errno, setting, version).
 * - not-checked: could not be checked by this caller; `detail` says why
 *   ("needs root", "addon not built").
 */
export type ProbeStatus = 'yes' | 'no' | 'not-checked';

export interface Probe {
  status: ProbeStatus;
  /** Why, how it was decided, or what failed ("unshare(CLONE_NEWTIME): EINVAL"). */
  detail?: string;
}

/** Namespace kinds by their /proc/<pid>/ns name. */
export type NamespaceKind = 'mnt' | 'uts' | 'ipc' | 'pid' | 'net' | 'user' | 'cgroup' | 'time';

export interface NamespaceReport {
  kind: NamespaceKind;
  /** The runtime-spec name of the kind (linux.namespaces[].type). */
  specType: 'mount' | 'uts' | 'ipc' | 'pid' | 'network' | 'user' | 'cgroup' | 'time';
  /** The kernel offers it (/proc/self/ns/<kind> exists). */
  supported: boolean;
  /** A throwaway child really created one. */
  creatable: Probe;
}

export type CgroupMode = 'v2' | 'hybrid' | 'v1' | 'none';

export interface CgroupV1Hierarchy {
  /** Controllers bound to the hierarchy ("cpu", "memory"), plus "name=<x>" for named ones. */
  controllers: string[];
  /** Where it is mounted (first mount point); more in `mountPoints`. */
  mountPoint: string;
  mountPoints: string[];
  /** This process's cgroup in it (from /proc/self/cgroup), if listed there. */
  ownCgroup?: string;
}

export interface CgroupV2Hierarchy {
  mountPoint: string;
  /** The root's cgroup.controllers: what the unified hierarchy can control here. */
  controllers: string[];
  ownCgroup?: string;
}

export interface CgroupReport {
  /** v2: unified only; hybrid: v1 controllers plus a cgroup2 mount; v1: legacy only. */
  mode: CgroupMode;
  v1: CgroupV1Hierarchy[];
  v2: CgroupV2Hierarchy | null;
}

export interface UserNamespaceReport {
  /** /proc/sys/user/max_user_namespaces (null when absent). */
  maxUserNamespaces: number | null;
  /** /proc/sys/kernel/unprivileged_userns_clone (Debian/Ubuntu patch; null when absent). */
  unprivilegedUsernsClone: number | null;
  /** kernel.apparmor_restrict_unprivileged_userns (Ubuntu 23.10+; null when absent). */
  apparmorRestrictUnprivilegedUserns: number | null;
  /** Whether an unprivileged user may create one, as the settings above say. */
  unprivilegedAllowed: Probe;
}

export interface SeccompReport {
  /** The kernel has seccomp filtering (/proc/sys/kernel/seccomp/actions_avail or a Seccomp line). */
  supported: boolean;
  /** The caller's own mode from /proc/self/status: 0 disabled, 1 strict, 2 filter (null when absent). */
  callerMode: number | null;
  /** Filters already applied to the caller (Seccomp_filters), null when absent. */
  callerFilters: number | null;
  /** /proc/sys/kernel/seccomp/actions_avail. */
  actionsAvailable: string[];
}

export interface CapabilityReport {
  effective: string[];
  permitted: string[];
  bounding: string[];
  ambient: string[];
  /** Capabilities this kernel knows (up to cap_last_cap) that are not in the bounding set. */
  missingFromBounding: string[];
  /** Capabilities in the bounding set but not effective. */
  missingFromEffective: string[];
  /** /proc/sys/kernel/cap_last_cap. */
  lastCap: number | null;
}

export interface SyscallReport {
  clone3: Probe;
  pidfdOpen: Probe;
  pidfdSendSignal: Probe;
  openat2: Probe;
  closeRange: Probe;
}

/** A range of /etc/subuid or /etc/subgid. */
export interface IdRange {
  start: number;
  count: number;
}

export interface IdMapHelperReport {
  /** Absolute path, null when not installed. */
  path: string | null;
  /** Set-uid root (what it needs to map ids beyond the caller's own). */
  setuid: boolean;
}

/** What rootless mode can do on this host, for this caller (`husk info` run as the user who will use it). */
export interface RootlessReport {
  /** husk runs rootless now: euid != 0, or uid 0 of a user namespace of its own. */
  active: boolean;
  /** The caller's name in /etc/passwd, null when it has none. */
  user: string | null;
  /** The state root husk uses by default for this caller. */
  stateRoot: string;
  /** The caller's ranges in /etc/subuid and /etc/subgid: ids beyond its own it may map. */
  subuid: IdRange[];
  subgid: IdRange[];
  newuidmap: IdMapHelperReport;
  newgidmap: IdMapHelperReport;
  /**
   * Whether a container of this caller gets a cgroup (a delegated cgroup v2 subtree it may
   * write, at the default or given --cgroup-parent); no: why, and resource limits are refused.
   */
  delegatedCgroup: Probe;
  /** overlayfs mounted inside a throwaway user namespace (kernel >= 5.11). */
  overlayInUserNamespace: Probe;
}

export interface HostInfo {
  schemaVersion: 1;
  husk: {
    version: string;
    addon: { loaded: boolean; path?: string; error?: string };
  };
  kernel: { release: string; version: string; machine: string };
  caller: {
    uid: number;
    gid: number;
    /** Has CAP_SYS_ADMIN in its effective set: the checks that need root were run. */
    privileged: boolean;
  };
  namespaces: NamespaceReport[];
  cgroups: CgroupReport;
  /** overlay in /proc/filesystems (a module not yet loaded is reported as no). */
  overlayfs: Probe;
  /** pivot_root into a tmpfs in a throwaway mount namespace. */
  pivotRoot: Probe;
  userNamespaces: UserNamespaceReport;
  seccomp: SeccompReport;
  capabilities: CapabilityReport;
  syscalls: SyscallReport;
  rootless: RootlessReport;
  /** Things a user should know (missing capability, restricted user namespaces...). */
  warnings: string[];
}
