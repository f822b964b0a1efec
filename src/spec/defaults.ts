/**
 * The config.json `husk spec` writes: runc's example spec
 * (libcontainer/specconv/example.go Example and ToRootless), key for key and
 * in the same order, with hostname "husk" and ociVersion 1.2.0.
 */
import type { Mount, Spec } from './types.js';

export const OCI_VERSION = '1.2.0';

export interface DefaultSpecOptions {
  /** process.args (default ["sh"]). */
  args?: string[];
  /** The `runc spec --rootless` variant: a user namespace mapping the caller to root, no network namespace, no cgroup settings. */
  rootless?: boolean;
  /** process.terminal (default true, as runc). */
  terminal?: boolean;
  /**
   * Add a cgroup namespace (default false). runc adds one when the host is in cgroup v2
   * unified mode: callers that want that pass isCgroup2UnifiedMode() (src/cgroups), as
   * `husk spec` does; this module does not look at the host.
   */
  cgroupNamespace?: boolean;
  /** Host ids mapped to root in the rootless variant (default: the caller's effective uid/gid). */
  hostUid?: number;
  hostGid?: number;
}

const DEFAULT_CAPABILITIES = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/proc/scsi',
  '/sys/devices/virtual/tpm',
];

export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

function defaultMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
}

/** A fresh default spec (the caller may modify it). */
export function defaultSpec(options: DefaultSpecOptions = {}): Spec {
  const terminal = options.terminal ?? true;
  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: {
      // Go's omitempty: a false terminal is left out.
      ...(terminal ? { terminal: true } : {}),
      user: { uid: 0, gid: 0 },
      args: [...(options.args ?? ['sh'])],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPABILITIES],
        effective: [...DEFAULT_CAPABILITIES],
        permitted: [...DEFAULT_CAPABILITIES],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'husk',
    mounts: defaultMounts(),
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
  if (options.cgroupNamespace) spec.linux!.namespaces!.push({ type: 'cgroup' });
  if (options.rootless) toRootless(spec, options.hostUid ?? process.geteuid!(), options.hostGid ?? process.getegid!());
  return spec;
}

/** runc's ToRootless, in place. */
function toRootless(spec: Spec, hostUid: number, hostGid: number): void {
  const linux = spec.linux!;
  const namespaces = (linux.namespaces ?? []).filter((ns) => ns.type !== 'network' && ns.type !== 'user');
  namespaces.push({ type: 'user' });

  const mounts: Mount[] = [];
  for (const mount of spec.mounts ?? []) {
    if (mount.destination.replace(/\/+$/, '') === '/sys') {
      // sysfs cannot be mounted without owning the network namespace: bind the host's.
      mounts.push({ destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
      continue;
    }
    const options = mount.options?.filter((o) => !o.startsWith('gid=') && !o.startsWith('uid='));
    const copy: Mount = { destination: mount.destination };
    if (mount.type !== undefined) copy.type = mount.type;
    if (mount.source !== undefined) copy.source = mount.source;
    if (options !== undefined && options.length > 0) copy.options = options;
    mounts.push(copy);
  }
  spec.mounts = mounts;

  // Rebuilt so the keys come in runc's order: mappings first, resources gone.
  spec.linux = {
    uidMappings: [{ containerID: 0, hostID: hostUid, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: hostGid, size: 1 }],
    namespaces,
    ...(linux.maskedPaths ? { maskedPaths: linux.maskedPaths } : {}),
    ...(linux.readonlyPaths ? { readonlyPaths: linux.readonlyPaths } : {}),
  };
}

const GO_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

/**
 * A spec as `runc spec` writes it (Go's json.MarshalIndent with a tab): tab
 * indentation, no trailing newline, <, > and & escaped as \u003c, \u003e, \u0026.
 */
export function formatSpec(spec: Spec): string {
  return JSON.stringify(spec, null, '\t').replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]!);
}
