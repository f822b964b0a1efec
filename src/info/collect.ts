/**
 * `husk info`: what this host offers for containers (like `docker info` and
 * lxc-checkconfig). Reads /proc and /sys; the checks only an attempt can answer
 * (namespaces, pivot_root) run concurrently in throwaway children.
 */
import { existsSync, readFileSync } from 'node:fs';
import { machine, release, version as kernelVersion } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CAPABILITY_NAMES, capabilityNames } from '../spec/capabilities.js';
import { readCgroupReport } from './cgroups.js';
import { describeRootless } from './rootless.js';
import { canCreateNamespace, namespaceKinds, probePivotRoot, specTypeOf } from './probes.js';
import type {
  CapabilityReport,
  HostInfo,
  NamespaceReport,
  Probe,
  SeccompReport,
  SyscallReport,
  UserNamespaceReport,
} from './types.js';

// src/info or dist/info: the package root is two levels up
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const CAP_SYS_ADMIN = 21;

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function readNumber(path: string): number | null {
  const text = readText(path);
  if (text === null) return null;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : null;
}

/** "Key:\tvalue" lines of /proc/self/status. */
export function parseStatus(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** [major, minor, patch] of a release string like "6.1.0-18-amd64". */
export function parseKernelRelease(text: string): [number, number, number] {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (match === null) return [0, 0, 0];
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

function atLeast(kernel: [number, number, number], major: number, minor: number): boolean {
  return kernel[0] > major || (kernel[0] === major && kernel[1] >= minor);
}

function packageVersion(): string {
  const text = readText(join(packageRoot, 'package.json'));
  return text === null ? 'unknown' : ((JSON.parse(text) as { version?: string }).version ?? 'unknown');
}

/** The built addon file (the candidates src/native/index.ts loads), if any. */
function addonFile(): string | undefined {
  return ['build/Release/husk.node', 'build/Debug/husk.node'].map((p) => join(packageRoot, p)).find((p) => existsSync(p));
}

type NativeModule = typeof import('../native/index.js');

async function loadNative(): Promise<NativeModule | Error> {
  try {
    const loaded = await import('../native/index.js');
    loaded.loadAddon(); // the addon itself loads on first use
    return loaded;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

export function describeCapabilities(status: Map<string, string>, lastCap: number | null): CapabilityReport {
  const mask = (key: string): bigint => BigInt('0x' + (status.get(key) ?? '0'));
  const effective = capabilityNames(mask('CapEff'));
  const bounding = capabilityNames(mask('CapBnd'));
  const known = CAPABILITY_NAMES.slice(0, (lastCap ?? CAPABILITY_NAMES.length - 1) + 1);
  return {
    effective,
    permitted: capabilityNames(mask('CapPrm')),
    bounding,
    ambient: capabilityNames(mask('CapAmb')),
    missingFromBounding: known.filter((c) => !bounding.includes(c)),
    missingFromEffective: bounding.filter((c) => !effective.includes(c)),
    lastCap,
  };
}

function describeUserNamespaces(): UserNamespaceReport {
  const maxUserNamespaces = readNumber('/proc/sys/user/max_user_namespaces');
  const unprivilegedUsernsClone = readNumber('/proc/sys/kernel/unprivileged_userns_clone');
  const apparmorRestrictUnprivilegedUserns = readNumber('/proc/sys/kernel/apparmor_restrict_unprivileged_userns');
  let unprivilegedAllowed: Probe;
  if (maxUserNamespaces === 0) unprivilegedAllowed = { status: 'no', detail: 'user.max_user_namespaces is 0' };
  else if (unprivilegedUsernsClone === 0) unprivilegedAllowed = { status: 'no', detail: 'kernel.unprivileged_userns_clone is 0' };
  else if (apparmorRestrictUnprivilegedUserns === 1) {
    unprivilegedAllowed = {
      status: 'no',
      detail: 'kernel.apparmor_restrict_unprivileged_userns is 1: created without capabilities unless an AppArmor profile allows it',
    };
  } else if (maxUserNamespaces === null) unprivilegedAllowed = { status: 'no', detail: 'the kernel has no user namespaces' };
  else unprivilegedAllowed = { status: 'yes', detail: 'no sysctl restricts them' };
  return { maxUserNamespaces, unprivilegedUsernsClone, apparmorRestrictUnprivilegedUserns, unprivilegedAllowed };
}

function describeSeccomp(status: Map<string, string>): SeccompReport {
  const actions = readText('/proc/sys/kernel/seccomp/actions_avail');
  const mode = status.get('Seccomp');
  const filters = status.get('Seccomp_filters');
  return {
    supported: actions !== null,
    callerMode: mode === undefined ? null : Number(mode),
    callerFilters: filters === undefined ? null : Number(filters),
    actionsAvailable: actions === null ? [] : actions.trim().split(/\s+/),
  };
}

function byKernelVersion(kernel: [number, number, number], major: number, minor: number): Probe {
  return atLeast(kernel, major, minor)
    ? { status: 'yes', detail: `kernel >= ${major}.${minor}` }
    : { status: 'no', detail: `needs kernel >= ${major}.${minor}` };
}

function describeSyscalls(kernel: [number, number, number], loaded: NativeModule | Error): SyscallReport {
  let pidfdOpen: Probe;
  if (loaded instanceof Error) pidfdOpen = { ...byKernelVersion(kernel, 5, 3), detail: 'not tried (addon not loaded); by kernel version' };
  else {
    try {
      const fd = loaded.native.pidfdOpen(process.pid);
      loaded.native.closeRange(fd, fd);
      pidfdOpen = { status: 'yes', detail: 'tried' };
    } catch (error) {
      pidfdOpen = { status: 'no', detail: (error as Error).message };
    }
  }
  return {
    clone3: byKernelVersion(kernel, 5, 3),
    pidfdOpen,
    pidfdSendSignal: byKernelVersion(kernel, 5, 1),
    openat2: byKernelVersion(kernel, 5, 6),
    closeRange: byKernelVersion(kernel, 5, 9),
  };
}

function collectWarnings(info: Omit<HostInfo, 'warnings'>): string[] {
  const warnings: string[] = [];
  if (!info.caller.privileged) warnings.push('not running as root: checks that need root were not made');
  if (!info.husk.addon.loaded) warnings.push(`the native addon is not loaded: ${info.husk.addon.error ?? 'unknown error'}`);
  if (info.capabilities.missingFromBounding.length > 0) {
    warnings.push(
      `not in the bounding set (no container can have them): ${info.capabilities.missingFromBounding.join(', ')}`,
    );
  }
  for (const ns of info.namespaces) {
    if (ns.creatable.status === 'no') warnings.push(`cannot create a ${ns.kind} namespace: ${ns.creatable.detail ?? ''}`);
  }
  if (info.cgroups.mode === 'hybrid' && info.cgroups.v2 !== null) {
    const v2 = info.cgroups.v2.controllers;
    warnings.push(
      `cgroups are hybrid: resource limits use the v1 hierarchies; the unified hierarchy at ${info.cgroups.v2.mountPoint} has ${v2.length > 0 ? `only ${v2.join(' ')}` : 'no controllers'}`,
    );
  }
  if (info.cgroups.mode === 'none') warnings.push('no cgroup hierarchy is mounted: resource limits cannot be applied');
  if (info.overlayfs.status === 'no') warnings.push(`overlayfs: ${info.overlayfs.detail ?? 'not available'}`);
  if (info.pivotRoot.status === 'no') warnings.push(`pivot_root failed (use --no-pivot): ${info.pivotRoot.detail ?? ''}`);
  if (!info.seccomp.supported) warnings.push('the kernel has no seccomp filtering');
  const rootless = info.rootless;
  if (rootless.active) {
    if (rootless.subuid.length === 0 || rootless.subgid.length === 0) {
      warnings.push(`rootless: ${rootless.user ?? `uid ${info.caller.uid}`} has no ${rootless.subuid.length === 0 ? '/etc/subuid' : '/etc/subgid'} range: containers can map only its own id (usermod --add-subuids/--add-subgids)`);
    } else if (!rootless.newuidmap.setuid || !rootless.newgidmap.setuid) {
      warnings.push('rootless: newuidmap/newgidmap are missing or not set-uid root: only the caller\'s own id can be mapped (Debian/Ubuntu: apt-get install uidmap)');
    }
    if (rootless.delegatedCgroup.status === 'no') warnings.push(`rootless: no delegated cgroup (${rootless.delegatedCgroup.detail ?? ''})`);
  }
  return warnings;
}

/** Everything `husk info` reports; `cgroupParent` is where the rootless cgroup check looks (default /husk). */
export async function collectHostInfo(options: { cgroupParent?: string } = {}): Promise<HostInfo> {
  const status = parseStatus(readText('/proc/self/status') ?? '');
  const privileged = ((BigInt('0x' + (status.get('CapEff') ?? '0')) >> BigInt(CAP_SYS_ADMIN)) & 1n) === 1n;
  const kernel = parseKernelRelease(release());
  const loaded = await loadNative();
  const addonPath = addonFile();

  const namespaceProbes = namespaceKinds.map(async (kind): Promise<NamespaceReport> => {
    const supported = existsSync(`/proc/self/ns/${kind}`);
    const creatable: Probe = supported
      ? await canCreateNamespace(kind, privileged)
      : { status: 'no', detail: `the kernel has no ${kind} namespaces (/proc/self/ns/${kind} is missing)` };
    return { kind, specType: specTypeOf[kind], supported, creatable };
  });
  const [namespaces, pivotRoot, rootless] = await Promise.all([
    Promise.all(namespaceProbes),
    probePivotRoot(privileged, addonPath),
    describeRootless({ cgroupParent: options.cgroupParent, addonPath: loaded instanceof Error ? undefined : addonPath }),
  ]);

  const filesystems = readText('/proc/filesystems') ?? '';
  const overlayfs: Probe = /\toverlay$/m.test(filesystems)
    ? { status: 'yes', detail: 'in /proc/filesystems' }
    : { status: 'no', detail: 'not in /proc/filesystems (modprobe overlay, if it is a module)' };

  const addon: HostInfo['husk']['addon'] = { loaded: !(loaded instanceof Error) };
  if (addonPath !== undefined) addon.path = addonPath;
  if (loaded instanceof Error) addon.error = loaded.message.split('\n')[0]!;

  const info: Omit<HostInfo, 'warnings'> = {
    schemaVersion: 1,
    husk: { version: packageVersion(), addon },
    kernel: { release: release(), version: kernelVersion(), machine: machine() },
    caller: { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1, privileged },
    namespaces,
    cgroups: readCgroupReport(),
    overlayfs,
    pivotRoot,
    userNamespaces: describeUserNamespaces(),
    seccomp: describeSeccomp(status),
    capabilities: describeCapabilities(status, readNumber('/proc/sys/kernel/cap_last_cap')),
    syscalls: describeSyscalls(kernel, loaded),
    rootless,
  };
  return { ...info, warnings: collectWarnings(info) };
}
