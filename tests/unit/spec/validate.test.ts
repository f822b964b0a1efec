import { describe, expect, it } from 'vitest';
import { SpecError } from '../../../src/spec/errors.js';
import { type SpecWarning, validateProcess, validateSpec } from '../../../src/spec/validate.js';

/** A small valid config, as plain JSON (mutated by each case). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
function base(): Json {
  return {
    ociVersion: '1.2.0',
    root: { path: 'rootfs' },
    process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/', env: ['PATH=/bin'] },
    hostname: 'h',
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'ipc' }],
    },
  };
}

function errorOf(config: unknown, options?: Parameters<typeof validateSpec>[1]): SpecError {
  try {
    validateSpec(config, options);
  } catch (error) {
    expect(error).toBeInstanceOf(SpecError);
    return error as SpecError;
  }
  throw new Error('expected a SpecError, validation passed');
}

function withChange(change: (c: Json) => void): Json {
  const c = base();
  change(c);
  return c;
}

/** [what, change to the base config, exact message]. */
const failures: [string, (c: Json) => void, string][] = [
  // document and version
  ['ociVersion missing', (c) => delete c.ociVersion, 'ociVersion: is required'],
  ['ociVersion not a string', (c) => (c.ociVersion = 1.2), 'ociVersion: must be a string, got the number 1.2'],
  ['ociVersion not semver', (c) => (c.ociVersion = '1.2'), 'ociVersion: "1.2" is not a semantic version (like "1.2.0")'],
  ['ociVersion too new', (c) => (c.ociVersion = '1.4.0'), 'ociVersion: unsupported version "1.4.0" (husk supports 1.0.0 to 1.3.x)'],
  ['ociVersion major 2', (c) => (c.ociVersion = '2.0.0'), 'ociVersion: unsupported major version 2 in "2.0.0" (husk knows runtime-spec 1.x only: 1.0.0 to 1.3.x)'],
  ['ociVersion 0.x', (c) => (c.ociVersion = '0.6.0'), 'ociVersion: unsupported major version 0 in "0.6.0" (husk knows runtime-spec 1.x only: 1.0.0 to 1.3.x)'],
  // linux.memoryPolicy (1.3) and process.execCPUAffinity
  ['memoryPolicy unknown mode', (c) => (c.linux.memoryPolicy = { mode: 'MPOL_FOO' }), 'linux.memoryPolicy.mode: unknown memory policy mode "MPOL_FOO" (one of "MPOL_DEFAULT", "MPOL_PREFERRED", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_LOCAL", "MPOL_PREFERRED_MANY", "MPOL_WEIGHTED_INTERLEAVE")'],
  ['memoryPolicy bind without nodes', (c) => (c.linux.memoryPolicy = { mode: 'MPOL_BIND' }), 'linux.memoryPolicy.nodes: is required for MPOL_BIND'],
  ['memoryPolicy local with nodes', (c) => (c.linux.memoryPolicy = { mode: 'MPOL_LOCAL', nodes: '0' }), 'linux.memoryPolicy.nodes: must be empty for MPOL_LOCAL'],
  ['memoryPolicy bad nodes', (c) => (c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0-x' }), 'linux.memoryPolicy.nodes: must be a list of numbers and ranges like "0-3,7", got "0-x"'],
  ['memoryPolicy unknown flag', (c) => (c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_X'] }), 'linux.memoryPolicy.flags[0]: unknown memory policy flag "MPOL_F_X" (one of "MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES")'],
  ['execCPUAffinity backwards range', (c) => (c.process.execCPUAffinity = { initial: '3-1' }), 'process.execCPUAffinity.initial: range "3-1" ends before it starts'],
  // root
  ['root missing', (c) => delete c.root, 'root: is required'],
  ['root.path missing', (c) => (c.root = {}), 'root.path: is required'],
  ['root.path not a string', (c) => (c.root.path = 7), 'root.path: must be a string, got the number 7'],
  ['root.path empty', (c) => (c.root.path = ''), 'root.path: must not be empty'],
  ['root.readonly not boolean', (c) => (c.root.readonly = 'yes'), 'root.readonly: must be a boolean, got the string "yes"'],
  // process
  ['process missing', (c) => delete c.process, 'process: is required'],
  ['process not an object', (c) => (c.process = []), 'process: must be an object, got an array'],
  ['args missing', (c) => delete c.process.args, 'process.args: is required'],
  ['args empty', (c) => (c.process.args = []), 'process.args: must have at least one entry (the program to run)'],
  ['args entry not a string', (c) => (c.process.args = ['sh', 3]), 'process.args[1]: must be a string, got the number 3'],
  ['cwd missing', (c) => delete c.process.cwd, 'process.cwd: is required'],
  ['cwd relative', (c) => (c.process.cwd = 'tmp'), 'process.cwd: must be an absolute path, got "tmp"'],
  ['env without =', (c) => (c.process.env = ['PATH=/bin', 'FOO']), 'process.env[1]: must be of the form KEY=VALUE, got "FOO"'],
  ['env with empty key', (c) => (c.process.env = ['=x']), 'process.env[0]: must be of the form KEY=VALUE, got "=x"'],
  ['terminal not boolean', (c) => (c.process.terminal = 1), 'process.terminal: must be a boolean, got the number 1'],
  ['consoleSize width missing', (c) => (c.process.consoleSize = { height: 1 }), 'process.consoleSize.width: is required'],
  ['user not an object', (c) => (c.process.user = 0), 'process.user: must be an object, got the number 0'],
  ['uid negative', (c) => (c.process.user.uid = -1), 'process.user.uid: must be an integer from 0 to 4294967295 (uint32), got the number -1'],
  ['gid fractional', (c) => (c.process.user.gid = 1.5), 'process.user.gid: must be an integer from 0 to 4294967295 (uint32), got the number 1.5'],
  [
    'additionalGids entry negative',
    (c) => (c.process.user.additionalGids = [1, -5]),
    'process.user.additionalGids[1]: must be an integer from 0 to 4294967295 (uint32), got the number -5',
  ],
  ['umask not an integer', (c) => (c.process.user.umask = '022'), 'process.user.umask: must be an integer from 0 to 4294967295 (uint32), got the string "022"'],
  [
    'unknown capability',
    (c) => (c.process.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_SETUID', 'CAP_FOO'] }),
    'process.capabilities.bounding[3]: unknown capability "CAP_FOO"',
  ],
  ['unknown capability (effective)', (c) => (c.process.capabilities = { effective: ['KILL'] }), 'process.capabilities.effective[0]: unknown capability "KILL"'],
  ['unknown capability (permitted)', (c) => (c.process.capabilities = { permitted: ['CAP_BAR'] }), 'process.capabilities.permitted[0]: unknown capability "CAP_BAR"'],
  ['unknown capability (inheritable)', (c) => (c.process.capabilities = { inheritable: ['cap_kill'] }), 'process.capabilities.inheritable[0]: unknown capability "cap_kill"'],
  ['unknown capability (ambient)', (c) => (c.process.capabilities = { ambient: ['CAP_KILL', ''] }), 'process.capabilities.ambient[1]: unknown capability ""'],
  ['capability set not an array', (c) => (c.process.capabilities = { bounding: 'CAP_KILL' }), 'process.capabilities.bounding: must be an array, got the string "CAP_KILL"'],
  [
    'unknown rlimit',
    (c) => (c.process.rlimits = [{ type: 'RLIMIT_FOO', hard: 1, soft: 1 }]),
    'process.rlimits[0].type: unknown rlimit "RLIMIT_FOO"',
  ],
  [
    'rlimit soft above hard',
    (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 2048 }]),
    'process.rlimits[0]: soft limit 2048 exceeds hard limit 1024',
  ],
  [
    'duplicate rlimit',
    (c) =>
      (c.process.rlimits = [
        { type: 'RLIMIT_NOFILE', hard: 1, soft: 1 },
        { type: 'RLIMIT_CORE', hard: 0, soft: 0 },
        { type: 'RLIMIT_NOFILE', hard: 2, soft: 2 },
      ]),
    'process.rlimits[2].type: duplicate rlimit "RLIMIT_NOFILE" (also at process.rlimits[0])',
  ],
  [
    'rlimit hard missing',
    (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1 }]),
    'process.rlimits[0].hard: is required',
  ],
  [
    'rlimit negative',
    (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 1, soft: -1 }]),
    'process.rlimits[0].soft: must be a non-negative integer (uint64), got the number -1',
  ],
  ['oomScoreAdj too big', (c) => (c.process.oomScoreAdj = 1001), 'process.oomScoreAdj: must be an integer from -1000 to 1000, got the number 1001'],
  ['oomScoreAdj too small', (c) => (c.process.oomScoreAdj = -1001), 'process.oomScoreAdj: must be an integer from -1000 to 1000, got the number -1001'],
  ['noNewPrivileges not boolean', (c) => (c.process.noNewPrivileges = 'true'), 'process.noNewPrivileges: must be a boolean, got the string "true"'],
  ['apparmorProfile not a string', (c) => (c.process.apparmorProfile = {}), 'process.apparmorProfile: must be a string, got an object'],
  [
    'unknown scheduler policy',
    (c) => (c.process.scheduler = { policy: 'SCHED_FAST' }),
    'process.scheduler.policy: unknown scheduler policy "SCHED_FAST" (one of "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE")',
  ],
  ['scheduler nice out of range', (c) => (c.process.scheduler = { policy: 'SCHED_OTHER', nice: 20 }), 'process.scheduler.nice: must be an integer from -20 to 19, got the number 20'],
  [
    'ioPriority out of range',
    (c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 }),
    'process.ioPriority.priority: must be an integer from 0 to 7, got the number 8',
  ],
  // hostname, domainname
  ['hostname not a string', (c) => (c.hostname = 5), 'hostname: must be a string, got the number 5'],
  [
    'hostname without uts namespace',
    (c) => (c.linux.namespaces = [{ type: 'pid' }, { type: 'mount' }]),
    'hostname: cannot be set without a UTS namespace (add {"type": "uts"} to linux.namespaces)',
  ],
  [
    'hostname without linux section',
    (c) => delete c.linux,
    'hostname: cannot be set without a UTS namespace (add {"type": "uts"} to linux.namespaces)',
  ],
  [
    'domainname without uts namespace',
    (c) => {
      delete c.hostname;
      c.domainname = 'example.org';
      c.linux.namespaces = [{ type: 'mount' }];
    },
    'domainname: cannot be set without a UTS namespace (add {"type": "uts"} to linux.namespaces)',
  ],
  // mounts
  ['mounts not an array', (c) => (c.mounts = {}), 'mounts: must be an array, got an object'],
  ['mount destination missing', (c) => (c.mounts = [{ type: 'tmpfs' }]), 'mounts[0].destination: is required'],
  ['mount destination empty', (c) => c.mounts.push({ destination: '' }), 'mounts[1].destination: must not be empty'],
  ['mount type not a string', (c) => (c.mounts[0].type = 1), 'mounts[0].type: must be a string, got the number 1'],
  ['mount source not a string', (c) => (c.mounts[0].source = ['x']), 'mounts[0].source: must be a string, got an array'],
  ['mount options not strings', (c) => (c.mounts[0].options = ['ro', 1]), 'mounts[0].options[1]: must be a string, got the number 1'],
  ['mount options a string', (c) => (c.mounts[0].options = 'ro,nosuid'), 'mounts[0].options: must be an array, got the string "ro,nosuid"'],
  [
    'mount uidMappings without gidMappings',
    (c) => (c.mounts[0].uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
    'mounts[0].gidMappings: is required when uidMappings is set',
  ],
  [
    'mount mapping size 0',
    (c) => {
      c.mounts[0].uidMappings = [{ containerID: 0, hostID: 1000, size: 0 }];
      c.mounts[0].gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    },
    'mounts[0].uidMappings[0].size: must be greater than 0',
  ],
  // hooks
  ['hooks not an object', (c) => (c.hooks = []), 'hooks: must be an object, got an array'],
  ['hook path missing', (c) => (c.hooks = { prestart: [{ args: [] }] }), 'hooks.prestart[0].path: is required'],
  ['hook path relative', (c) => (c.hooks = { poststart: [{ path: 'bin/hook' }] }), 'hooks.poststart[0].path: must be an absolute path, got "bin/hook"'],
  ['hook args not strings', (c) => (c.hooks = { createRuntime: [{ path: '/h', args: ['h', false] }] }), 'hooks.createRuntime[0].args[1]: must be a string, got boolean false'],
  ['hook env not KEY=VALUE', (c) => (c.hooks = { createContainer: [{ path: '/h', env: ['X'] }] }), 'hooks.createContainer[0].env[0]: must be of the form KEY=VALUE, got "X"'],
  [
    'hook timeout 0',
    (c) => (c.hooks = { startContainer: [{ path: '/h', timeout: 0 }] }),
    'hooks.startContainer[0].timeout: must be an integer greater than 0 (seconds), got the number 0',
  ],
  [
    'hook timeout fractional',
    (c) => (c.hooks = { poststop: [{ path: '/h' }, { path: '/h', timeout: 1.5 }] }),
    'hooks.poststop[1].timeout: must be an integer greater than 0 (seconds), got the number 1.5',
  ],
  // annotations
  ['annotation not a string', (c) => (c.annotations = { 'org.example': 1 }), 'annotations["org.example"]: must be a string, got the number 1'],
  ['annotations an array', (c) => (c.annotations = ['a']), 'annotations: must be an object, got an array'],
  // linux.netDevices (1.3)
  ['netDevices without a network namespace', (c) => (c.linux.netDevices = { eth1: {} }), 'linux.netDevices: needs a network namespace to move the devices into (add {"type": "network"} to linux.namespaces)'],
  ['netDevices entry not an object', (c) => ((c.linux.namespaces.push({ type: 'network' })), (c.linux.netDevices = { eth1: 'ctr0' })), 'linux.netDevices["eth1"]: must be an object, got the string "ctr0"'],
  ['netDevices name too long', (c) => ((c.linux.namespaces.push({ type: 'network' })), (c.linux.netDevices = { eth1: { name: 'a-name-of-16-chr' } })), 'linux.netDevices["eth1"].name: "a-name-of-16-chr" is not a valid network interface name (1 to 15 bytes, not "." or "..", no "/", ":" or whitespace)'],
  ['netDevices host name with a slash', (c) => ((c.linux.namespaces.push({ type: 'network' })), (c.linux.netDevices = { 'a/b': {} })), 'linux.netDevices["a/b"]: "a/b" is not a valid network interface name (1 to 15 bytes, not "." or "..", no "/", ":" or whitespace)'],
  // linux: namespaces
  [
    'unknown namespace',
    (c) => (c.linux.namespaces = [{ type: 'pid' }, { type: 'mount' }, { type: 'pidd' }]),
    'linux.namespaces[2].type: unknown namespace "pidd"',
  ],
  ['namespace type missing', (c) => c.linux.namespaces.push({ path: '/proc/1/ns/net' }), 'linux.namespaces[4].type: is required'],
  [
    'duplicate namespace',
    (c) => c.linux.namespaces.push({ type: 'pid', path: '/proc/1/ns/pid' }),
    'linux.namespaces[4].type: duplicate namespace "pid" (also at linux.namespaces[0])',
  ],
  [
    'namespace path relative',
    (c) => c.linux.namespaces.push({ type: 'network', path: 'netns/a' }),
    'linux.namespaces[4].path: must be an absolute path, got "netns/a"',
  ],
  ['namespaces not an array', (c) => (c.linux.namespaces = { pid: true }), 'linux.namespaces: must be an array, got an object'],
  // linux: id mappings
  [
    'uidMappings without user namespace',
    (c) => {
      c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    },
    'linux.uidMappings: needs a user namespace (add {"type": "user"} to linux.namespaces)',
  ],
  [
    'gidMappings without user namespace',
    (c) => (c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
    'linux.gidMappings: needs a user namespace (add {"type": "user"} to linux.namespaces)',
  ],
  [
    'mapping size 0',
    (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 0 }];
    },
    'linux.uidMappings[0].size: must be greater than 0',
  ],
  [
    'mapping hostID missing',
    (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.gidMappings = [{ containerID: 0, size: 10 }];
    },
    'linux.gidMappings[0].hostID: is required',
  ],
  [
    'mapping containerID not an integer',
    (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: '0', hostID: 1000, size: 1 }];
    },
    'linux.uidMappings[0].containerID: must be an integer from 0 to 4294967295 (uint32), got the string "0"',
  ],
  // linux: time offsets
  [
    'timeOffsets without time namespace',
    (c) => (c.linux.timeOffsets = { monotonic: { secs: 10 } }),
    'linux.timeOffsets: needs a time namespace (add {"type": "time"} to linux.namespaces)',
  ],
  [
    'timeOffsets unknown clock',
    (c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { realtime: { secs: 10 } };
    },
    'linux.timeOffsets["realtime"]: unknown clock (one of "monotonic", "boottime")',
  ],
  // linux: devices
  [
    'unknown device type',
    (c) => (c.linux.devices = [{ type: 'x', path: '/dev/x', major: 1, minor: 3 }]),
    'linux.devices[0].type: unknown device type "x" (one of "c", "b", "u", "p")',
  ],
  ['device path relative', (c) => (c.linux.devices = [{ type: 'c', path: 'dev/null', major: 1, minor: 3 }]), 'linux.devices[0].path: must be an absolute path, got "dev/null"'],
  ['device major missing', (c) => (c.linux.devices = [{ type: 'c', path: '/dev/null', minor: 3 }]), 'linux.devices[0].major: is required for a "c" device'],
  ['device minor missing (block)', (c) => (c.linux.devices = [{ type: 'b', path: '/dev/sda', major: 8 }]), 'linux.devices[0].minor: is required for a "b" device'],
  ['device minor missing (u)', (c) => (c.linux.devices = [{ type: 'u', path: '/dev/u', major: 8 }]), 'linux.devices[0].minor: is required for a "u" device'],
  ['device fileMode negative', (c) => (c.linux.devices = [{ type: 'p', path: '/dev/fifo', fileMode: -1 }]), 'linux.devices[0].fileMode: must be an integer from 0 to 4294967295 (uint32), got the number -1'],
  // linux: paths, sysctl, misc
  [
    'maskedPaths relative',
    (c) => (c.linux.maskedPaths = ['/proc/kcore', 'proc/keys']),
    'linux.maskedPaths[1]: must be an absolute path, got "proc/keys"',
  ],
  ['readonlyPaths relative', (c) => (c.linux.readonlyPaths = ['sys']), 'linux.readonlyPaths[0]: must be an absolute path, got "sys"'],
  [
    'maskedPaths without mount namespace',
    (c) => {
      c.linux.namespaces = [{ type: 'uts' }];
      c.linux.maskedPaths = ['/proc/kcore'];
    },
    'linux.maskedPaths: needs a mount namespace (add {"type": "mount"} to linux.namespaces)',
  ],
  [
    'readonlyPaths without mount namespace',
    (c) => {
      c.linux.namespaces = [{ type: 'uts' }];
      c.linux.readonlyPaths = ['/proc/sys'];
    },
    'linux.readonlyPaths: needs a mount namespace (add {"type": "mount"} to linux.namespaces)',
  ],
  ['sysctl value not a string', (c) => (c.linux.sysctl = { 'net.ipv4.ip_forward': 1 }), 'linux.sysctl["net.ipv4.ip_forward"]: must be a string, got the number 1'],
  ['sysctl an array', (c) => (c.linux.sysctl = ['a=b']), 'linux.sysctl: must be an object, got an array'],
  ['cgroupsPath not a string', (c) => (c.linux.cgroupsPath = 42), 'linux.cgroupsPath: must be a string, got the number 42'],
  [
    'rootfsPropagation unknown',
    (c) => (c.linux.rootfsPropagation = 'public'),
    'linux.rootfsPropagation: unknown propagation "public" (one of "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable")',
  ],
  ['seccomp defaultAction missing', (c) => (c.linux.seccomp = { syscalls: [] }), 'linux.seccomp.defaultAction: is required'],
  [
    'seccomp syscall names missing',
    (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ action: 'SCMP_ACT_ERRNO' }] }),
    'linux.seccomp.syscalls[0].names: is required',
  ],
  ['personality domain unknown', (c) => (c.linux.personality = { domain: 'BSD' }), 'linux.personality.domain: unknown personality domain "BSD" (one of "LINUX", "LINUX32")'],
  // linux: resources (types only)
  ['resources not an object', (c) => (c.linux.resources = 1), 'linux.resources: must be an object, got the number 1'],
  ['memory limit not a number', (c) => (c.linux.resources = { memory: { limit: '1G' } }), 'linux.resources.memory.limit: must be a 64-bit integer, got the string "1G"'],
  ['memory swappiness negative', (c) => (c.linux.resources = { memory: { swappiness: -1 } }), 'linux.resources.memory.swappiness: must be a non-negative integer (uint64), got the number -1'],
  ['memory disableOOMKiller not boolean', (c) => (c.linux.resources = { memory: { disableOOMKiller: 1 } }), 'linux.resources.memory.disableOOMKiller: must be a boolean, got the number 1'],
  ['cpu shares negative', (c) => (c.linux.resources = { cpu: { shares: -2 } }), 'linux.resources.cpu.shares: must be a non-negative integer (uint64), got the number -2'],
  ['cpu quota fractional', (c) => (c.linux.resources = { cpu: { quota: 0.5 } }), 'linux.resources.cpu.quota: must be a 64-bit integer, got the number 0.5'],
  ['cpu cpus not a string', (c) => (c.linux.resources = { cpu: { cpus: 0 } }), 'linux.resources.cpu.cpus: must be a string, got the number 0'],
  ['pids limit not a number', (c) => (c.linux.resources = { pids: { limit: 'max' } }), 'linux.resources.pids.limit: must be a 64-bit integer, got the string "max"'],
  ['blockIO weight too big', (c) => (c.linux.resources = { blockIO: { weight: 70000 } }), 'linux.resources.blockIO.weight: must be an integer from 0 to 65535 (uint16), got the number 70000'],
  [
    'blockIO throttle rate missing',
    (c) => (c.linux.resources = { blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0 }] } }),
    'linux.resources.blockIO.throttleReadBpsDevice[0].rate: is required',
  ],
  [
    'blockIO weightDevice major missing',
    (c) => (c.linux.resources = { blockIO: { weightDevice: [{ minor: 0, weight: 10 }] } }),
    'linux.resources.blockIO.weightDevice[0].major: is required',
  ],
  [
    'hugepageLimits pageSize missing',
    (c) => (c.linux.resources = { hugepageLimits: [{ limit: 1 }] }),
    'linux.resources.hugepageLimits[0].pageSize: is required',
  ],
  ['device rule allow missing', (c) => (c.linux.resources = { devices: [{ access: 'rwm' }] }), 'linux.resources.devices[0].allow: is required'],
  ['device rule major not an integer', (c) => (c.linux.resources = { devices: [{ allow: true, major: '*' }] }), 'linux.resources.devices[0].major: must be a 64-bit integer, got the string "*"'],
  ['network classID negative', (c) => (c.linux.resources = { network: { classID: -1 } }), 'linux.resources.network.classID: must be an integer from 0 to 4294967295 (uint32), got the number -1'],
  [
    'network priority name missing',
    (c) => (c.linux.resources = { network: { priorities: [{ priority: 1 }] } }),
    'linux.resources.network.priorities[0].name: is required',
  ],
  ['rdma value not an object', (c) => (c.linux.resources = { rdma: { mlx5_1: 3 } }), 'linux.resources.rdma["mlx5_1"]: must be an object, got the number 3'],
  ['rdma hcaHandles negative', (c) => (c.linux.resources = { rdma: { mlx5_1: { hcaHandles: -3 } } }), 'linux.resources.rdma["mlx5_1"].hcaHandles: must be an integer from 0 to 4294967295 (uint32), got the number -3'],
  ['unified value not a string', (c) => (c.linux.resources = { unified: { 'memory.high': 1024 } }), 'linux.resources.unified["memory.high"]: must be a string, got the number 1024'],
];

describe('validateSpec', () => {
  it('accepts the base config and returns it typed', () => {
    const config = base();
    expect(validateSpec(config)).toBe(config);
  });

  it.each(failures)('rejects: %s', (_what, change, message) => {
    const error = errorOf(withChange(change));
    expect(error.message).toBe(message);
    expect(`${error.jsonPath}: ${error.rule}`).toBe(message);
    expect(error.file).toBeUndefined();
  });

  it.each<[string, (c: Json) => void, string]>([
    ['process.args', (c) => (c.process.args = ['/bin/true\u0000-ignored']), 'process.args[0]: must not contain a NUL byte, got "/bin/true\\u0000-ignored"'],
    ['hostname', (c) => (c.hostname = 'evil\u0000'), 'hostname: must not contain a NUL byte, got "evil\\u0000"'],
    ['a mount destination', (c) => (c.mounts = [{ destination: '/mnt\u0000/x', type: 'tmpfs' }]), 'mounts[0].destination: must not contain a NUL byte, got "/mnt\\u0000/x"'],
    ['an annotation key', (c) => (c.annotations = { 'a.b\u0000': 'x' }), 'annotations["a.b\\u0000"]: a key must not contain a NUL byte'],
    ['a field husk does not read', (c) => (c.linux.unknownField = ['x\u0000']), 'linux.unknownField[0]: must not contain a NUL byte, got "x\\u0000"'],
  ])('rejects a NUL byte in %s (the kernel would cut the string there)', (_what, change, message) => {
    expect(errorOf(withChange(change)).message).toBe(message);
  });

  it('rejects a document that is not an object', () => {
    expect(errorOf([]).message).toBe('(root): must be an object, got an array');
    expect(errorOf('x').message).toBe('(root): must be an object, got the string "x"');
  });

  it('reports the first broken rule in document order', () => {
    const error = errorOf(
      withChange((c) => {
        c.process.cwd = 'relative';
        c.linux.namespaces.push({ type: 'bogus' });
      }),
    );
    expect(error.jsonPath).toBe('process.cwd');
  });

  it('accepts every supported ociVersion form', () => {
    for (const v of ['1.0.0', '1.0.2-dev', '1.1.0', '1.1.0-rc.1', '1.2.0', '1.2.1', '1.2.0+build.5', '1.0.0-rc5', '1.3.0', '1.3.1-dev']) {
      expect(() => validateSpec(withChange((c) => (c.ociVersion = v)))).not.toThrow();
    }
  });

  it('makes process optional on request', () => {
    const config = withChange((c) => delete c.process);
    expect(errorOf(config).message).toBe('process: is required');
    expect(() => validateSpec(config, { requireProcess: false })).not.toThrow();
  });

  it('ignores unknown fields, at every level', () => {
    const config = withChange((c) => {
      c.futureField = { x: 1 };
      c.process.futureFlag = true;
      c.linux.futureLinuxField = { eth0: {} };
      c.linux.namespaces[0].extra = 1;
      c.hooks = { prestrat: 'typo is just an unknown field' };
    });
    expect(() => validateSpec(config)).not.toThrow();
  });

  it('treats null as absent, as Go does, and removes it', () => {
    const config = withChange((c) => {
      c.mounts = null;
      c.process.env = null;
      c.linux.resources = null;
    });
    const spec = validateSpec(config);
    expect('mounts' in spec).toBe(false);
    expect('env' in spec.process!).toBe(false);
    expect('resources' in spec.linux!).toBe(false);
  });

  it('fills in a missing user as root (Go zero values)', () => {
    const spec = validateSpec(withChange((c) => delete c.process.user));
    expect(spec.process!.user).toEqual({ uid: 0, gid: 0 });
    const partial = validateSpec(withChange((c) => (c.process.user = { uid: 1000 })));
    expect(partial.process!.user).toEqual({ uid: 1000, gid: 0 });
  });

  it('accepts a relative mount destination as relative to /, with a warning', () => {
    const warnings: SpecWarning[] = [];
    const spec = validateSpec(
      withChange((c) => c.mounts.push({ destination: 'data', type: 'tmpfs', source: 'tmpfs' })),
      { onWarning: (w) => warnings.push(w) },
    );
    expect(spec.mounts![1]!.destination).toBe('/data');
    expect(warnings).toEqual([
      { jsonPath: 'mounts[1].destination', message: 'relative mount destination "data" is deprecated; using it as relative to /' },
    ]);
  });

  it('accepts hostname and domainname with a joined uts namespace (as runc)', () => {
    const config = withChange((c) => {
      c.domainname = 'example.org';
      c.linux.namespaces[2] = { type: 'uts', path: '/proc/1/ns/uts' };
    });
    expect(() => validateSpec(config)).not.toThrow();
  });

  it('accepts an empty hostname without a uts namespace', () => {
    expect(() => validateSpec(withChange((c) => ((c.hostname = ''), (c.linux.namespaces = []))))).not.toThrow();
  });

  it('accepts a full, valid Linux config', () => {
    const config = withChange((c) => {
      c.process.terminal = true;
      c.process.consoleSize = { height: 25, width: 80 };
      c.process.user = { uid: 1, gid: 1, umask: 0o22, additionalGids: [5, 6] };
      c.process.capabilities = {
        bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_CHECKPOINT_RESTORE'],
        effective: ['CAP_KILL'],
        inheritable: [],
        permitted: ['CAP_KILL'],
        ambient: ['CAP_KILL'],
      };
      c.process.rlimits = [
        { type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 },
        { type: 'RLIMIT_CORE', hard: 18446744073709551615, soft: 18446744073709551615 },
      ];
      c.process.oomScoreAdj = -1000;
      c.process.noNewPrivileges = true;
      c.process.scheduler = { policy: 'SCHED_FIFO', priority: 10, flags: ['SCHED_FLAG_RESET_ON_FORK'] };
      c.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 4 };
      c.process.env = ['A=', 'B=c=d'];
      c.domainname = 'example.org';
      c.annotations = { 'org.example.key': 'value' };
      c.hooks = {
        prestart: [{ path: '/usr/bin/fix-mounts', args: ['fix-mounts', 'arg1'], env: ['KEY=value'], timeout: 5 }],
        poststop: [{ path: '/usr/sbin/cleanup.sh' }],
      };
      c.mounts.push({ destination: '/data', type: 'none', source: 'data', options: ['rbind', 'ro'], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] });
      c.linux.namespaces.push({ type: 'user' }, { type: 'network', path: '/var/run/netns/a' }, { type: 'cgroup' }, { type: 'time' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 32000 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 32000 }];
      c.linux.timeOffsets = { monotonic: { secs: 3600, nanosecs: 7 }, boottime: { secs: -5 } };
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      c.linux.cgroupsPath = '/husk/test';
      c.linux.devices = [
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0 },
        { path: '/dev/fifo', type: 'p' },
      ];
      c.linux.resources = {
        devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }],
        memory: { limit: 536870912, reservation: 536870912, swap: -1, kernel: -1, kernelTCP: -1, swappiness: 0, disableOOMKiller: false },
        cpu: { shares: 1024, quota: 1000000, burst: 0, period: 500000, realtimeRuntime: 950000, realtimePeriod: 1000000, cpus: '2-3', mems: '0-7', idle: 0 },
        pids: { limit: 32771 },
        blockIO: {
          weight: 10,
          leafWeight: 10,
          weightDevice: [{ major: 8, minor: 0, weight: 500, leafWeight: 300 }],
          throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }],
          throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 300 }],
        },
        hugepageLimits: [{ pageSize: '2MB', limit: 209715200 }],
        network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 500 }] },
        rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } },
        unified: { 'memory.high': '1G' },
      };
      c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [{ names: ['getcwd'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] }],
      };
      c.linux.rootfsPropagation = 'rslave';
      c.linux.maskedPaths = ['/proc/kcore'];
      c.linux.readonlyPaths = ['/proc/sys'];
      c.linux.mountLabel = 'system_u:object_r:svirt_sandbox_file_t:s0:c715,c811';
      c.linux.intelRdt = { closID: 'guaranteed_group', l3CacheSchema: 'L3:0=7f0', enableCMT: true };
      c.linux.personality = { domain: 'LINUX' };
    });
    expect(() => validateSpec(config)).not.toThrow();
  });
});

describe('validateProcess (husk exec --process)', () => {
  it('validates a process.json on its own, paths relative to the file', () => {
    const process = { args: ['ls'], cwd: '/', capabilities: { bounding: ['CAP_NOPE'] } };
    try {
      validateProcess(process, '');
      throw new Error('expected a SpecError');
    } catch (error) {
      expect((error as SpecError).message).toBe('capabilities.bounding[0]: unknown capability "CAP_NOPE"');
    }
  });

  it('rejects a NUL byte in a process.json', () => {
    expect(() => validateProcess({ args: ['sh'], cwd: '/', env: ['A=b\u0000c'] }, '')).toThrow('env[0]: must not contain a NUL byte');
  });

  it('uses the given prefix', () => {
    expect(() => validateProcess({ args: [], cwd: '/' }, 'process')).toThrow('process.args: must have at least one entry (the program to run)');
    expect(() => validateProcess(null, '')).toThrow('(root): must be an object, got null');
  });

  it('returns the process, with user filled in', () => {
    const process = validateProcess({ args: ['ls'], cwd: '/tmp', env: ['A=b'] }, '');
    expect(process.user).toEqual({ uid: 0, gid: 0 });
    expect(process.args).toEqual(['ls']);
  });
});
