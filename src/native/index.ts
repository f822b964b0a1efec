/**
 * The C++ addon (native/), typed. Loading fails with a message that says how to
 * build it rather than a bare "cannot find module".
 *
 * About the primitives (unshare, setns, mount, pivotRoot, chroot, sethostname...):
 * Node is multithreaded (V8 and libuv threads). unshare() and setns() called
 * here change only the calling thread, and some fail outright in a multithreaded
 * process (unshare(CLONE_NEWUSER) gives EINVAL; setns into a user namespace too).
 * Use them in a throwaway single-purpose process. To run a process in new
 * namespaces, use `launch` (through src/runtime/spawn.ts), which clones a
 * single-threaded child that makes these calls itself.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LinuxConstants, linuxConstants } from '../sys/constants.js';

/** What the addon throws: shaped like Node's own system errors. */
export interface SystemError extends Error {
  code: string;
  /** Negative, as Node and libuv report it. */
  errno: number;
  syscall: string;
  path?: string;
  dest?: string;
}

export interface CapabilitySets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

/**
 * The plan as the addon decodes it (native/plan_decode.h): the ops are the
 * objects the planners build, each `{ kind, ...fields }` as src/plan/schema.ts
 * declares them (checked field by field by the generated decoder).
 */
export interface WirePlan {
  cloneFlags: number;
  cgroupFd?: number;
  ops: readonly { readonly kind: string }[];
}

export interface Launched {
  pid: number;
  pidfd: number;
  syncFd: number;
}

/** A message from the child; type 0 = end of stream (exec'd or died). */
export interface RawSyncMessage {
  type: number;
  op: number;
  err: number;
  value: number;
  fd?: number;
  payload?: Buffer;
}

export interface ExitStatus {
  pid: number;
  exitCode: number | null;
  signal: number | null;
}

/** The kernel constants the addon exports: exactly the table of src/sys/constants.ts. */
export type Constants = LinuxConstants;

/** A device rule for the cgroup v2 eBPF device filter (src/cgroups/convert.ts normalises OCI rules). */
export interface DeviceFilterRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  /** -1 = any. */
  major: number;
  minor: number;
  /** Some of "rwm". */
  access: string;
}

/** A property of a systemd unit, typed with its D-Bus signature (native/systemd_bus.cc). */
export type SystemdProperty =
  | { name: string; type: 't'; value: bigint | number }
  | { name: string; type: 'b'; value: boolean }
  | { name: string; type: 's'; value: string }
  | { name: string; type: 'au'; value: number[] }
  | { name: string; type: 'ay'; value: Buffer };

export interface SystemdManagerRequest {
  method: 'StartTransientUnit' | 'StopUnit' | 'SetUnitProperties' | 'ResetFailedUnit';
  unit: string;
  /** The job mode of StartTransientUnit/StopUnit (default "replace"). */
  mode?: string;
  /** SetUnitProperties: runtime only (default true), not persisted. */
  runtime?: boolean;
  properties?: SystemdProperty[];
  /** How long the call, and for Start/Stop the job, may take (default 10000). */
  waitMs?: number;
}

export interface HuskNative {
  unshare(flags: number): void;
  setns(fd: number, nstype?: number): void;
  mount(source: string | null, target: string, fstype?: string | null, flags?: number, data?: string | null): void;
  umount2(target: string, flags?: number): void;
  pivotRoot(newRoot: string, putOld: string): void;
  chroot(path: string): void;
  sethostname(name: string): void;
  pidfdOpen(pid: number, flags?: number): number;
  pidfdSendSignal(pidfd: number, signal: number): void;
  closeRange(first: number, last?: number, flags?: number): void;
  /** _exit(2): ends the process at once, skipping Node's teardown (and every 'exit' listener: emit those first). */
  exitNow(code: number): never;
  /** Capability sets of a process (0 = the calling thread). */
  capGet(pid?: number): CapabilitySets;
  /** Sets the calling thread's capabilities; the kernel refuses other pids (EPERM). */
  capSet(pid: number, sets: CapabilitySets): void;
  mkfifo(path: string, mode: number): void;
  flock(fd: number, operation: number): boolean;
  sendFdToSocket(path: string, fd: number, name?: string): void;
  /** linux.netDevices: moves a network interface into the network namespace netnsFd, renamed, up, its permanent addresses kept. */
  moveNetDevice(hostName: string, netnsFd: number, newName: string): void;
  /** A detached, idmapped clone of the mount tree at source (open_tree + mount_setattr); returns its fd. */
  openTreeIdmapped(source: string, recursive: boolean, usernsFd: number, recursiveIdmap: boolean): number;
  setWindowSize(fd: number, rows: number, columns: number): void;
  /** A non-blocking unix datagram socket bound to `path` ("@name": abstract). */
  unixDgramBind(path: string): number;
  /** One datagram, or null when none is waiting. */
  unixDgramRecv(fd: number): Buffer | null;
  /** Sends one datagram to the socket at `path`, passing `fd` (SCM_RIGHTS) when given. */
  unixDgramSend(path: string, data: string, fd?: number): void;
  /** [read end (non-blocking), write end], both close-on-exec. */
  pipe(): [number, number];
  constants: Constants;

  launch(plan: WirePlan): Launched;
  /** Seals the helpers launch execs (700 KB) on a thread of their own, ahead of the first launch. */
  prepareLaunch(): void;
  waitReadable(fd: number): Promise<void>;
  /** The index of the first of `fds` to become readable, or -1 after timeoutMs (default: none); cancels the rest. */
  waitAny(fds: number[], timeoutMs?: number): Promise<number>;
  syncRecv(fd: number): RawSyncMessage | null;
  syncSend(fd: number, type: number, value?: number, payload?: Buffer): void;
  reap(pidfd: number): ExitStatus | null;

  /** The BPF_PROG_TYPE_CGROUP_DEVICE program for these rules, as struct bpf_insn[] (no syscall). */
  deviceFilterProgram(rules: DeviceFilterRule[]): Buffer;
  /** Loads the program and attaches it to the cgroup2 directory (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI). */
  attachDeviceFilter(cgroupDir: string, rules: DeviceFilterRule[]): { programId: number; instructions: number };
  /** Ids of the device programs attached to the cgroup directory itself. */
  queryDeviceFilters(cgroupDir: string): number[];
  detachDeviceFilter(cgroupDir: string, programId: number): void;

  /**
   * A call to systemd's manager over D-Bus (libsystemd loaded on first use), on a worker
   * thread. StartTransientUnit and StopUnit resolve once their job is done, with its result
   * ("done", "failed", ...). Rejects with the D-Bus error name as `code`.
   */
  systemdManagerCall(request: SystemdManagerRequest): Promise<{ job?: string; result?: string }>;
  // File operations confined to a root directory fd (native/in_root.cc), for
  // unpacking image layers: paths are relative to the root, resolved inside it
  // (RESOLVE_IN_ROOT) with no symlink in the parent (ELOOP), the last component
  // never followed.
  inRootMkdir(root: number, path: string, mode: number): void;
  /** A new regular file (an existing non-directory is replaced); returns an fd open for writing. */
  inRootCreate(root: number, path: string, mode: number): number;
  inRootSymlink(root: number, path: string, target: string): void;
  /** A hard link at `path` to `existing`, both inside the root. */
  inRootLink(root: number, path: string, existing: string): void;
  inRootMknod(root: number, path: string, mode: number, major: number, minor: number): void;
  /** chown, chmod (not for symlinks), then the access and modification times. */
  inRootSetMeta(root: number, path: string, uid: number, gid: number, mode: number, mtimeSec: number, mtimeNsec: number): void;
  inRootSetXattr(root: number, path: string, name: string, value: Buffer): void;
  /** Opens a file for reading, symlinks resolved within the root (as the container sees them). */
  inRootOpen(root: number, path: string): number;
  /** The attribute's value, or null when the entry has none. */
  lgetxattr(path: string, name: string): Buffer | null;
  /**
   * Mounts an overlay at `target` with the new mount API: each lower layer (top
   * first) is its own fsconfig("lowerdir+"), so many layers fit; nodev.
   * Without upper and work, the overlay is read-only.
   */
  mountOverlay(target: string, lowers: string[], upper: string | null, work: string | null, flags?: string[]): void;
}

function load(): HuskNative {
  if (process.platform !== 'linux') {
    throw new Error(`husk: the native addon exists only for Linux (this is ${process.platform})`);
  }
  // src/native or dist/native: the package root is two levels up.
  const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const candidates = ['build/Release/husk.node', 'build/Debug/husk.node'].map((p) => join(packageRoot, p));
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) {
    throw new Error(
      `husk: the native addon is not built (looked for ${candidates[0]}).\n` +
        `  Build it with \`npm install\` (or \`npm run build:native\`) in ${packageRoot};\n` +
        `  it needs make, python3 and a C++17 compiler (apt-get install -y build-essential python3).`,
    );
  }
  // process.dlopen is what require() of a .node file ends in; called directly, it skips the
  // module loader's resolution, its package.json scope lookups and node:module itself
  // (about 4 M instructions of a 100 M `husk start`).
  const addon = { exports: {} };
  process.dlopen(addon, found);
  return addon.exports as HuskNative;
}

let loaded: HuskNative | undefined;

/** Whether this process has loaded the addon already (without loading it). */
export function addonLoaded(): boolean {
  return loaded !== undefined;
}

/** The addon, loaded now if it was not yet (throws when it cannot be: not built, not Linux). */
export function loadAddon(): HuskNative {
  return (loaded ??= load());
}

/**
 * The addon, loaded on first use: most commands (`husk state`, `list`, a `kill` or
 * `delete` of a container without a cgroup...) never call it, and dlopen()ing it costs
 * every command. A missing addon is reported by the first call that needs it.
 */
export const native: HuskNative = new Proxy({} as HuskNative, {
  get: (_target, key) => loadAddon()[key as keyof HuskNative],
  has: (_target, key) => key in loadAddon(),
});

/** The kernel's constants: src/sys/constants.ts's table, which a test checks against the addon's. */
export const constants: Constants = linuxConstants;
