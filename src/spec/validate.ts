/**
 * Validation of config.json (runtime-spec 1.0.0 to 1.3.x, Linux): structure
 * (types of every field husk reads) and the semantic rules that need no
 * access to the host. Rules that depend on the host (does the rootfs exist,
 * is this cgroup controller there, is this sysctl namespaced) belong to the
 * layers that act on them.
 *
 * The first broken rule throws a SpecError `<jsonPath>: <rule>`; fields are
 * checked in document order (ociVersion, root, process, hostname, domainname,
 * mounts, hooks, annotations, linux), then the rules that relate fields to
 * each other (namespaces needed by hostname, uidMappings...).
 *
 * Leniency, as runc and the spec allow:
 * - unknown fields are ignored; a `null` field counts as absent (Go decoding)
 *   and is removed;
 * - a relative mount destination is deprecated but accepted, interpreted as
 *   relative to "/" (runc warns and does the same, whatever the ociVersion):
 *   it is rewritten to "/<dest>" and reported through `onWarning`;
 * - a missing process.user, user.uid or user.gid means 0 (Go zero values) and
 *   is filled in.
 * Other than that the value returned is the input object itself, typed.
 *
 * Stricter than runc: an unknown capability name is an error (runc only
 * warns), so that a typo never silently drops a capability.
 */
import { isCapabilityName } from './capabilities.js';
import { SpecError } from './errors.js';
import { rlimitNumber } from './rlimits.js';
import type { CapabilitySetName, HookName, LinuxNamespaceType, Process, Spec } from './types.js';

/**
 * The range of ociVersion husk accepts: any 1.0.x to 1.3.x (pre-releases included).
 * A newer 1.x minor is refused too: it may carry properties husk would ignore, and
 * the spec's compatibility promise runs only from older minors to newer runtimes.
 */
export const SUPPORTED_OCI_VERSIONS = '1.0.0 to 1.3.x';
/** The newest runtime-spec release whose properties husk knows (features.md's ociVersionMax). */
export const OCI_VERSION_MAX = '1.3.0';
const MAX_MINOR = 3;

export interface SpecWarning {
  jsonPath: string;
  message: string;
}

export interface ValidateOptions {
  /**
   * Whether `process` must be present (default true). The spec makes it
   * optional until `start`; pass false for configs that only describe the
   * container (e.g. an update or a template).
   */
  requireProcess?: boolean;
  /** Called for accepted-but-deprecated constructs (relative mount destinations). */
  onWarning?: (warning: SpecWarning) => void;
}

export const NAMESPACE_TYPES: readonly LinuxNamespaceType[] = [
  'pid',
  'network',
  'mount',
  'ipc',
  'uts',
  'user',
  'cgroup',
  'time',
];
export const CAPABILITY_SETS: readonly CapabilitySetName[] = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'];
export const HOOK_NAMES: readonly HookName[] = [
  'prestart',
  'createRuntime',
  'createContainer',
  'startContainer',
  'poststart',
  'poststop',
];

const SCHEDULER_POLICIES = ['SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE'];
const SCHEDULER_FLAGS = [
  'SCHED_FLAG_RESET_ON_FORK',
  'SCHED_FLAG_RECLAIM',
  'SCHED_FLAG_DL_OVERRUN',
  'SCHED_FLAG_KEEP_POLICY',
  'SCHED_FLAG_KEEP_PARAMS',
  'SCHED_FLAG_UTIL_CLAMP_MIN',
  'SCHED_FLAG_UTIL_CLAMP_MAX',
];
const IOPRIO_CLASSES = ['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE'];
const DEVICE_TYPES = ['c', 'b', 'u', 'p'];
/** What runc accepts for linux.rootfsPropagation ("" = leave as is). */
const ROOTFS_PROPAGATIONS = ['', 'shared', 'slave', 'private', 'unbindable', 'rshared', 'rslave', 'rprivate', 'runbindable'];
const TIME_CLOCKS = ['monotonic', 'boottime'];
const PERSONALITY_DOMAINS = ['LINUX', 'LINUX32'];
/** linux.memoryPolicy (runtime-spec 1.3): the modes and flags of set_mempolicy(2). */
export const MEMORY_POLICY_MODES = [
  'MPOL_DEFAULT',
  'MPOL_PREFERRED',
  'MPOL_BIND',
  'MPOL_INTERLEAVE',
  'MPOL_LOCAL',
  'MPOL_PREFERRED_MANY',
  'MPOL_WEIGHTED_INTERLEAVE',
] as const;
export const MEMORY_POLICY_FLAGS = ['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES'] as const;
/** A list of numbers and ranges, as cpuset.cpus takes it: "0-3,7". */
const NUMBER_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

const UINT16_MAX = 0xffff;
const UINT32_MAX = 0xffff_ffff;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
/** As doubles: JSON numbers near the ends of the 64-bit ranges round to these. */
const INT64_MIN = -(2 ** 63);
const INT64_MAX = 2 ** 63;
const UINT64_MAX = 2 ** 64;

type Obj = Record<string, unknown>;

// ---------------------------------------------------------------------------
// JSON-path building and primitive checks

function at(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function item(path: string, index: number): string {
  return `${path}[${index}]`;
}

function entry(path: string, key: string): string {
  return `${path}[${JSON.stringify(key)}]`;
}

function fail(path: string, rule: string): never {
  throw new SpecError(path, rule);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field's value; `null` counts as absent and is removed (as Go's decoder treats it). */
function field(o: Obj, key: string): unknown {
  if (!Object.hasOwn(o, key)) return undefined;
  const value = o[key];
  if (value === null) {
    delete o[key];
    return undefined;
  }
  return value;
}

function required(o: Obj, key: string, path: string): unknown {
  const value = field(o, key);
  if (value === undefined) fail(at(path, key), 'is required');
  return value;
}

function object(value: unknown, path: string): Obj {
  if (!isObj(value)) fail(path, `must be an object, got ${kindOf(value)}`);
  return value;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, `must be an array, got ${kindOf(value)}`);
  return value;
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, `must be a string, got ${kindOf(value)}`);
  return value;
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, `must be a boolean, got ${kindOf(value)}`);
  return value;
}

function integer(value: unknown, path: string, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, `must be ${what}, got ${kindOf(value)}`);
  }
  return value;
}

const uint16 = (v: unknown, p: string): number => integer(v, p, 0, UINT16_MAX, 'an integer from 0 to 65535 (uint16)');
const uint32 = (v: unknown, p: string): number => integer(v, p, 0, UINT32_MAX, 'an integer from 0 to 4294967295 (uint32)');
const int32 = (v: unknown, p: string): number => integer(v, p, INT32_MIN, INT32_MAX, 'a 32-bit integer');
const int64 = (v: unknown, p: string): number => integer(v, p, INT64_MIN, INT64_MAX, 'a 64-bit integer');
const uint64 = (v: unknown, p: string): number => integer(v, p, 0, UINT64_MAX, 'a non-negative integer (uint64)');

function absolutePath(value: unknown, path: string): string {
  const s = string(value, path);
  if (!s.startsWith('/')) fail(path, `must be an absolute path, got ${JSON.stringify(s)}`);
  return s;
}

function oneOf(value: unknown, path: string, allowed: readonly string[], what: string): string {
  const s = string(value, path);
  if (!allowed.includes(s)) {
    fail(path, `unknown ${what} ${JSON.stringify(s)} (one of ${allowed.filter((a) => a !== '').map((a) => `"${a}"`).join(', ')})`);
  }
  return s;
}

/** Checks an optional field with `check` when present. */
function optional<T>(o: Obj, key: string, path: string, check: (value: unknown, path: string) => T): T | undefined {
  const value = field(o, key);
  return value === undefined ? undefined : check(value, at(path, key));
}

function arrayOf<T>(check: (value: unknown, path: string) => T): (value: unknown, path: string) => T[] {
  return (value, path) => {
    const list = array(value, path);
    for (let i = 0; i < list.length; i++) check(list[i], item(path, i));
    return list as T[];
  };
}

function mapOf<T>(check: (value: unknown, path: string) => T): (value: unknown, path: string) => Record<string, T> {
  return (value, path) => {
    const o = object(value, path);
    for (const key of Object.keys(o)) check(o[key], entry(path, key));
    return o as Record<string, T>;
  };
}

const strings = arrayOf(string);

/** A CPU or NUMA node list ("0-3,7"); "" means not set. */
function cpuList(value: unknown, path: string): string {
  const s = string(value, path);
  if (s !== '' && !NUMBER_LIST.test(s)) fail(path, `must be a list of numbers and ranges like "0-3,7", got ${JSON.stringify(s)}`);
  for (const range of s === '' ? [] : s.split(',')) {
    const [low, high] = range.split('-').map(Number);
    if (high !== undefined && high < low!) fail(path, `range ${JSON.stringify(range)} ends before it starts`);
  }
  return s;
}
const absolutePaths = arrayOf(absolutePath);

function envEntry(value: unknown, path: string): string {
  const s = string(value, path);
  if (s.indexOf('=') < 1) fail(path, `must be of the form KEY=VALUE, got ${JSON.stringify(s)}`);
  return s;
}
const envList = arrayOf(envEntry);

/**
 * Refuses a NUL byte in any string of the document, keys included: the kernel takes
 * C strings, so "/bin/sh\u0000-ignored" would silently become "/bin/sh" there, a
 * different value from the one validated here.
 */
function refuseNulBytes(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (value.includes('\0')) fail(path, `must not contain a NUL byte, got ${JSON.stringify(value)}`);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => refuseNulBytes(v, item(path, i)));
  } else if (isObj(value)) {
    for (const key of Object.keys(value)) {
      const keyPath = path === '' || path === '(root)' ? key : /^[A-Za-z_]\w*$/.test(key) ? at(path, key) : entry(path, key);
      if (key.includes('\0')) fail(keyPath, 'a key must not contain a NUL byte');
      refuseNulBytes(value[key], keyPath);
    }
  }
}

// ---------------------------------------------------------------------------
// The document

/** Validates a parsed config.json and returns it typed. Throws the first SpecError. */
export function validateSpec(raw: unknown, options: ValidateOptions = {}): Spec {
  const spec = object(raw, '(root)');
  refuseNulBytes(spec, '(root)');

  const version = string(required(spec, 'ociVersion', ''), 'ociVersion');
  const semver = SEMVER.exec(version);
  if (semver === null) fail('ociVersion', `${JSON.stringify(version)} is not a semantic version (like "1.2.0")`);
  if (Number(semver[1]) !== 1) {
    fail('ociVersion', `unsupported major version ${semver[1]} in ${JSON.stringify(version)} (husk knows runtime-spec 1.x only: ${SUPPORTED_OCI_VERSIONS})`);
  }
  if (Number(semver[2]) > MAX_MINOR) {
    fail('ociVersion', `unsupported version ${JSON.stringify(version)} (husk supports ${SUPPORTED_OCI_VERSIONS})`);
  }

  const root = object(required(spec, 'root', ''), 'root');
  const rootPath = string(required(root, 'path', 'root'), 'root.path');
  if (rootPath === '') fail('root.path', 'must not be empty');
  optional(root, 'readonly', 'root', boolean);

  if (field(spec, 'process') === undefined) {
    if (options.requireProcess !== false) fail('process', 'is required');
  } else {
    validateProcess(spec['process'], 'process');
  }

  const hostname = optional(spec, 'hostname', '', string);
  const domainname = optional(spec, 'domainname', '', string);

  optional(spec, 'mounts', '', (value, path) => {
    const mounts = array(value, path);
    for (let i = 0; i < mounts.length; i++) validateMount(mounts[i], item(path, i), options);
  });

  optional(spec, 'hooks', '', validateHooks);
  optional(spec, 'annotations', '', mapOf(string));
  for (const other of ['solaris', 'windows', 'vm', 'zos']) optional(spec, other, '', object);

  const linux = optional(spec, 'linux', '', object) ?? {};
  validateLinux(linux, 'linux');

  // Rules relating fields to each other.
  const namespaces = (linux['namespaces'] as { type: string }[] | undefined) ?? [];
  const has = (type: LinuxNamespaceType): boolean => namespaces.some((ns) => ns.type === type);
  // As runc: a "uts" entry (new or joined) is what makes hostname/domainname settable.
  if (hostname !== undefined && hostname !== '' && !has('uts')) {
    fail('hostname', 'cannot be set without a UTS namespace (add {"type": "uts"} to linux.namespaces)');
  }
  if (domainname !== undefined && domainname !== '' && !has('uts')) {
    fail('domainname', 'cannot be set without a UTS namespace (add {"type": "uts"} to linux.namespaces)');
  }
  for (const key of ['uidMappings', 'gidMappings']) {
    if (linux[key] !== undefined && !has('user')) {
      fail(at('linux', key), 'needs a user namespace (add {"type": "user"} to linux.namespaces)');
    }
  }
  if (Object.keys((linux['netDevices'] as Obj | undefined) ?? {}).length > 0 && !has('network')) {
    fail('linux.netDevices', 'needs a network namespace to move the devices into (add {"type": "network"} to linux.namespaces)');
  }
  if (linux['timeOffsets'] !== undefined && !has('time')) {
    fail('linux.timeOffsets', 'needs a time namespace (add {"type": "time"} to linux.namespaces)');
  }
  for (const key of ['maskedPaths', 'readonlyPaths']) {
    const paths = linux[key] as string[] | undefined;
    if (paths !== undefined && paths.length > 0 && !has('mount')) {
      fail(at('linux', key), 'needs a mount namespace (add {"type": "mount"} to linux.namespaces)');
    }
  }

  return spec as unknown as Spec;
}

// ---------------------------------------------------------------------------
// process

/**
 * Validates a process object (config.json's `process`, or the whole
 * process.json of `husk exec --process`). `jsonPath` prefixes error paths:
 * "process" for config.json, "" to report paths relative to the file itself.
 */
export function validateProcess(raw: unknown, jsonPath = 'process'): Process {
  const path = jsonPath;
  const self = jsonPath === '' ? '(root)' : jsonPath;
  const p = object(raw, self);
  refuseNulBytes(p, path);

  optional(p, 'terminal', path, boolean);
  optional(p, 'consoleSize', path, (value, boxPath) => {
    const box = object(value, boxPath);
    uint32(required(box, 'height', boxPath), at(boxPath, 'height'));
    uint32(required(box, 'width', boxPath), at(boxPath, 'width'));
  });

  const userPath = at(path, 'user');
  let user = optional(p, 'user', path, object);
  if (user === undefined) p['user'] = user = {};
  user['uid'] = uint32(field(user, 'uid') ?? 0, at(userPath, 'uid'));
  user['gid'] = uint32(field(user, 'gid') ?? 0, at(userPath, 'gid'));
  optional(user, 'umask', userPath, uint32);
  optional(user, 'additionalGids', userPath, arrayOf(uint32));
  optional(user, 'username', userPath, string);

  const args = strings(required(p, 'args', path), at(path, 'args'));
  if (args.length === 0) fail(at(path, 'args'), 'must have at least one entry (the program to run)');
  optional(p, 'commandLine', path, string);
  optional(p, 'env', path, envList);

  const cwd = string(required(p, 'cwd', path), at(path, 'cwd'));
  if (!cwd.startsWith('/')) fail(at(path, 'cwd'), `must be an absolute path, got ${JSON.stringify(cwd)}`);

  optional(p, 'capabilities', path, (value, capsPath) => {
    const caps = object(value, capsPath);
    for (const set of CAPABILITY_SETS) {
      optional(caps, set, capsPath, (names, setPath) => {
        const list = array(names, setPath);
        for (let i = 0; i < list.length; i++) {
          const name = string(list[i], item(setPath, i));
          if (!isCapabilityName(name)) fail(item(setPath, i), `unknown capability ${JSON.stringify(name)}`);
        }
      });
    }
  });

  optional(p, 'rlimits', path, (value, rlimitsPath) => {
    const list = array(value, rlimitsPath);
    const seen = new Map<string, number>();
    for (let i = 0; i < list.length; i++) {
      const rPath = item(rlimitsPath, i);
      const r = object(list[i], rPath);
      const type = string(required(r, 'type', rPath), at(rPath, 'type'));
      if (rlimitNumber(type) === undefined) fail(at(rPath, 'type'), `unknown rlimit ${JSON.stringify(type)}`);
      const first = seen.get(type);
      if (first !== undefined) fail(at(rPath, 'type'), `duplicate rlimit ${JSON.stringify(type)} (also at ${item(rlimitsPath, first)})`);
      seen.set(type, i);
      const hard = uint64(required(r, 'hard', rPath), at(rPath, 'hard'));
      const soft = uint64(required(r, 'soft', rPath), at(rPath, 'soft'));
      if (soft > hard) fail(rPath, `soft limit ${soft} exceeds hard limit ${hard}`);
    }
  });

  optional(p, 'noNewPrivileges', path, boolean);
  optional(p, 'apparmorProfile', path, string);
  optional(p, 'selinuxLabel', path, string);
  optional(p, 'oomScoreAdj', path, (v, oomPath) => integer(v, oomPath, -1000, 1000, 'an integer from -1000 to 1000'));

  optional(p, 'scheduler', path, (value, sPath) => {
    const s = object(value, sPath);
    oneOf(required(s, 'policy', sPath), at(sPath, 'policy'), SCHEDULER_POLICIES, 'scheduler policy');
    optional(s, 'nice', sPath, (v, nPath) => integer(v, nPath, -20, 19, 'an integer from -20 to 19'));
    optional(s, 'priority', sPath, int32);
    optional(s, 'flags', sPath, arrayOf((v, fPath) => oneOf(v, fPath, SCHEDULER_FLAGS, 'scheduler flag')));
    for (const key of ['runtime', 'deadline', 'period']) optional(s, key, sPath, uint64);
  });

  optional(p, 'ioPriority', path, (value, iPath) => {
    const io = object(value, iPath);
    oneOf(required(io, 'class', iPath), at(iPath, 'class'), IOPRIO_CLASSES, 'I/O priority class');
    integer(required(io, 'priority', iPath), at(iPath, 'priority'), 0, 7, 'an integer from 0 to 7');
  });

  optional(p, 'execCPUAffinity', path, (value, aPath) => {
    const affinity = object(value, aPath);
    optional(affinity, 'initial', aPath, cpuList);
    optional(affinity, 'final', aPath, cpuList);
  });

  return p as unknown as Process;
}

// ---------------------------------------------------------------------------
// mounts, hooks

function idMapping(value: unknown, path: string): void {
  const m = object(value, path);
  uint32(required(m, 'containerID', path), at(path, 'containerID'));
  uint32(required(m, 'hostID', path), at(path, 'hostID'));
  const size = uint32(required(m, 'size', path), at(path, 'size'));
  if (size === 0) fail(at(path, 'size'), 'must be greater than 0');
}
const idMappings = arrayOf(idMapping);

function validateMount(value: unknown, path: string, options: ValidateOptions): void {
  const m = object(value, path);
  const destination = string(required(m, 'destination', path), at(path, 'destination'));
  if (destination === '') fail(at(path, 'destination'), 'must not be empty');
  if (!destination.startsWith('/')) {
    m['destination'] = '/' + destination;
    options.onWarning?.({
      jsonPath: at(path, 'destination'),
      message: `relative mount destination ${JSON.stringify(destination)} is deprecated; using it as relative to /`,
    });
  }
  optional(m, 'type', path, string);
  optional(m, 'source', path, string);
  optional(m, 'options', path, strings);
  const uid = optional(m, 'uidMappings', path, idMappings);
  const gid = optional(m, 'gidMappings', path, idMappings);
  if ((uid === undefined) !== (gid === undefined)) {
    const missing = uid === undefined ? 'uidMappings' : 'gidMappings';
    fail(at(path, missing), `is required when ${missing === 'uidMappings' ? 'gidMappings' : 'uidMappings'} is set`);
  }
}

function validateHook(value: unknown, path: string): void {
  const h = object(value, path);
  absolutePath(required(h, 'path', path), at(path, 'path'));
  optional(h, 'args', path, strings);
  optional(h, 'env', path, envList);
  optional(h, 'timeout', path, (v, tPath) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      fail(tPath, `must be an integer greater than 0 (seconds), got ${kindOf(v)}`);
    }
  });
}

function validateHooks(value: unknown, path: string): void {
  const hooks = object(value, path);
  for (const name of HOOK_NAMES) optional(hooks, name, path, arrayOf(validateHook));
}

// ---------------------------------------------------------------------------
// linux

function validateLinux(linux: Obj, path: string): void {
  optional(linux, 'uidMappings', path, idMappings);
  optional(linux, 'gidMappings', path, idMappings);

  optional(linux, 'timeOffsets', path, (value, tPath) => {
    const offsets = object(value, tPath);
    for (const clock of Object.keys(offsets)) {
      const cPath = entry(tPath, clock);
      if (!TIME_CLOCKS.includes(clock)) fail(cPath, `unknown clock (one of "monotonic", "boottime")`);
      const offset = object(offsets[clock], cPath);
      optional(offset, 'secs', cPath, int64);
      optional(offset, 'nanosecs', cPath, uint32);
    }
  });

  optional(linux, 'sysctl', path, mapOf(string));
  optional(linux, 'resources', path, validateResources);
  optional(linux, 'cgroupsPath', path, string);

  optional(linux, 'namespaces', path, (value, nsPath) => {
    const list = array(value, nsPath);
    const seen = new Map<string, number>();
    for (let i = 0; i < list.length; i++) {
      const entryPath = item(nsPath, i);
      const ns = object(list[i], entryPath);
      const type = string(required(ns, 'type', entryPath), at(entryPath, 'type'));
      if (!(NAMESPACE_TYPES as readonly string[]).includes(type)) {
        fail(at(entryPath, 'type'), `unknown namespace ${JSON.stringify(type)}`);
      }
      const first = seen.get(type);
      if (first !== undefined) {
        fail(at(entryPath, 'type'), `duplicate namespace ${JSON.stringify(type)} (also at ${item(nsPath, first)})`);
      }
      seen.set(type, i);
      optional(ns, 'path', entryPath, absolutePath);
    }
  });

  optional(linux, 'devices', path, arrayOf(validateDevice));

  optional(linux, 'seccomp', path, (value, sPath) => {
    const s = object(value, sPath);
    string(required(s, 'defaultAction', sPath), at(sPath, 'defaultAction'));
    optional(s, 'defaultErrnoRet', sPath, uint32);
    optional(s, 'architectures', sPath, strings);
    optional(s, 'flags', sPath, strings);
    optional(s, 'listenerPath', sPath, string);
    optional(s, 'listenerMetadata', sPath, string);
    optional(
      s,
      'syscalls',
      sPath,
      arrayOf((sys, sysPath) => {
        const rule = object(sys, sysPath);
        strings(required(rule, 'names', sysPath), at(sysPath, 'names'));
        string(required(rule, 'action', sysPath), at(sysPath, 'action'));
        optional(rule, 'errnoRet', sysPath, uint32);
        optional(
          rule,
          'args',
          sysPath,
          arrayOf((arg, argPath) => {
            const a = object(arg, argPath);
            uint32(required(a, 'index', argPath), at(argPath, 'index'));
            uint64(required(a, 'value', argPath), at(argPath, 'value'));
            optional(a, 'valueTwo', argPath, uint64);
            string(required(a, 'op', argPath), at(argPath, 'op'));
          }),
        );
      }),
    );
  });

  optional(linux, 'rootfsPropagation', path, (v, pPath) => oneOf(v, pPath, ROOTFS_PROPAGATIONS, 'propagation'));
  optional(linux, 'maskedPaths', path, absolutePaths);
  optional(linux, 'readonlyPaths', path, absolutePaths);
  optional(linux, 'mountLabel', path, string);

  optional(linux, 'intelRdt', path, (value, rPath) => {
    const rdt = object(value, rPath);
    for (const key of ['closID', 'l3CacheSchema', 'memBwSchema']) optional(rdt, key, rPath, string);
    for (const key of ['enableCMT', 'enableMBM']) optional(rdt, key, rPath, boolean);
  });

  optional(linux, 'memoryPolicy', path, (value, mPath) => {
    const policy = object(value, mPath);
    const mode = oneOf(required(policy, 'mode', mPath), at(mPath, 'mode'), MEMORY_POLICY_MODES, 'memory policy mode');
    const nodes = optional(policy, 'nodes', mPath, cpuList) ?? '';
    optional(policy, 'flags', mPath, arrayOf((v, fPath) => oneOf(v, fPath, MEMORY_POLICY_FLAGS, 'memory policy flag')));
    // set_mempolicy(2): these two take no nodes, the others need some.
    if ((mode === 'MPOL_DEFAULT' || mode === 'MPOL_LOCAL') && nodes !== '') fail(at(mPath, 'nodes'), `must be empty for ${mode}`);
    if (mode !== 'MPOL_DEFAULT' && mode !== 'MPOL_LOCAL' && mode !== 'MPOL_PREFERRED' && nodes === '') {
      fail(at(mPath, 'nodes'), `is required for ${mode}`);
    }
  });

  optional(
    linux,
    'netDevices',
    path,
    mapOf((value, dPath) => {
      const device = object(value, dPath);
      optional(device, 'name', dPath, interfaceName);
    }),
  );
  for (const host of Object.keys((linux['netDevices'] as Obj | undefined) ?? {})) interfaceName(host, entry(at(path, 'netDevices'), host));

  optional(linux, 'personality', path, (value, pPath) => {
    const personality = object(value, pPath);
    oneOf(required(personality, 'domain', pPath), at(pPath, 'domain'), PERSONALITY_DOMAINS, 'personality domain');
    optional(personality, 'flags', pPath, strings);
  });
}

/** A network interface name the kernel accepts (dev_valid_name): 1 to 15 bytes, not "." or "..", no "/", ":" or space. */
function interfaceName(value: unknown, path: string): string {
  const name = string(value, path);
  if (name === '' || Buffer.byteLength(name) > 15 || name === '.' || name === '..' || /[/:\s]/.test(name)) {
    fail(path, `${JSON.stringify(name)} is not a valid network interface name (1 to 15 bytes, not "." or "..", no "/", ":" or whitespace)`);
  }
  return name;
}

function validateDevice(value: unknown, path: string): void {
  const d = object(value, path);
  const type = string(required(d, 'type', path), at(path, 'type'));
  if (!DEVICE_TYPES.includes(type)) {
    fail(at(path, 'type'), `unknown device type ${JSON.stringify(type)} (one of "c", "b", "u", "p")`);
  }
  absolutePath(required(d, 'path', path), at(path, 'path'));
  for (const key of ['major', 'minor']) {
    const n = field(d, key);
    if (n === undefined) {
      if (type !== 'p') fail(at(path, key), `is required for a "${type}" device`);
    } else {
      int64(n, at(path, key));
    }
  }
  optional(d, 'fileMode', path, uint32);
  optional(d, 'uid', path, uint32);
  optional(d, 'gid', path, uint32);
}

/** Types only: what the values mean for a cgroup is checked by the cgroups layer. */
function validateResources(value: unknown, path: string): void {
  const r = object(value, path);

  optional(
    r,
    'devices',
    path,
    arrayOf((v, dPath) => {
      const d = object(v, dPath);
      boolean(required(d, 'allow', dPath), at(dPath, 'allow'));
      optional(d, 'type', dPath, string);
      optional(d, 'major', dPath, int64);
      optional(d, 'minor', dPath, int64);
      optional(d, 'access', dPath, string);
    }),
  );

  optional(r, 'memory', path, (v, mPath) => {
    const m = object(v, mPath);
    for (const key of ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP']) optional(m, key, mPath, int64);
    optional(m, 'swappiness', mPath, uint64);
    for (const key of ['disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate']) optional(m, key, mPath, boolean);
  });

  optional(r, 'cpu', path, (v, cPath) => {
    const c = object(v, cPath);
    for (const key of ['shares', 'burst', 'period', 'realtimePeriod']) optional(c, key, cPath, uint64);
    for (const key of ['quota', 'realtimeRuntime', 'idle']) optional(c, key, cPath, int64);
    for (const key of ['cpus', 'mems']) optional(c, key, cPath, string);
  });

  optional(r, 'pids', path, (v, pPath) => {
    const p = object(v, pPath);
    optional(p, 'limit', pPath, int64);
  });

  optional(r, 'blockIO', path, (v, bPath) => {
    const b = object(v, bPath);
    optional(b, 'weight', bPath, uint16);
    optional(b, 'leafWeight', bPath, uint16);
    const majorMinor = (d: Obj, dPath: string): void => {
      int64(required(d, 'major', dPath), at(dPath, 'major'));
      int64(required(d, 'minor', dPath), at(dPath, 'minor'));
    };
    optional(
      b,
      'weightDevice',
      bPath,
      arrayOf((w, wPath) => {
        const d = object(w, wPath);
        majorMinor(d, wPath);
        optional(d, 'weight', wPath, uint16);
        optional(d, 'leafWeight', wPath, uint16);
      }),
    );
    for (const key of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice']) {
      optional(
        b,
        key,
        bPath,
        arrayOf((t, tPath) => {
          const d = object(t, tPath);
          majorMinor(d, tPath);
          uint64(required(d, 'rate', tPath), at(tPath, 'rate'));
        }),
      );
    }
  });

  optional(
    r,
    'hugepageLimits',
    path,
    arrayOf((v, hPath) => {
      const h = object(v, hPath);
      string(required(h, 'pageSize', hPath), at(hPath, 'pageSize'));
      uint64(required(h, 'limit', hPath), at(hPath, 'limit'));
    }),
  );

  optional(r, 'network', path, (v, nPath) => {
    const n = object(v, nPath);
    optional(n, 'classID', nPath, uint32);
    optional(
      n,
      'priorities',
      nPath,
      arrayOf((p, pPath) => {
        const prio = object(p, pPath);
        string(required(prio, 'name', pPath), at(pPath, 'name'));
        uint32(required(prio, 'priority', pPath), at(pPath, 'priority'));
      }),
    );
  });

  optional(
    r,
    'rdma',
    path,
    mapOf((v, dPath) => {
      const d = object(v, dPath);
      optional(d, 'hcaHandles', dPath, uint32);
      optional(d, 'hcaObjects', dPath, uint32);
    }),
  );

  optional(r, 'unified', path, mapOf(string));
}
