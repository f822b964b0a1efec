/** Pure logic of src/cgroups: conversions, path resolution, parsing, validation, the device program. */
import { describe, expect, it } from 'vitest';
import {
  blkioWeightToIoWeight,
  cpuMax,
  ioMaxLine,
  normalizeDeviceRule,
  parseIoStat,
  sharesToWeight,
  swapToV2,
  v1DeviceLine,
  type DeviceRule,
} from '../../src/cgroups/convert.js';
import { cgroupOf, layoutFromMounts, parseCgroupMounts, parseProcCgroup, type CgroupLayout } from '../../src/cgroups/detect.js';
import { resolveCgroupsPath } from '../../src/cgroups/path.js';
import { validateResources } from '../../src/cgroups/validate.js';
import { native } from '../../src/native/index.js';

describe('conversions', () => {
  it('cpu.shares -> cpu.weight is runc\'s linear mapping', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
    expect(sharesToWeight(0)).toBe(0);
  });

  it('blkio weight -> io.weight', () => {
    expect(blkioWeightToIoWeight(10)).toBe(1);
    expect(blkioWeightToIoWeight(1000)).toBe(10000);
    expect(blkioWeightToIoWeight(500)).toBe(4950);
  });

  it('memory+swap -> memory.swap.max as runc converts it', () => {
    expect(swapToV2(200, 100)).toBe(100);
    expect(swapToV2(100, 100)).toBe(0);
    expect(swapToV2(-1, 100)).toBe(-1);
    expect(swapToV2(undefined, -1)).toBe(-1); // unlimited memory: unlimited swap
    expect(swapToV2(undefined, 100)).toBeUndefined();
    expect(() => swapToV2(50, 100)).toThrow('memory+swap (50) must be >= the memory limit (100)');
    expect(() => swapToV2(50, undefined)).toThrow('a swap limit needs a memory limit');
  });

  it('cpu.max keeps the part that is not changed', () => {
    expect(cpuMax(20000, 100000)).toBe('20000 100000');
    expect(cpuMax(-1, undefined, '50000 100000')).toBe('max 100000');
    expect(cpuMax(undefined, 50000, '20000 100000')).toBe('20000 50000');
    expect(cpuMax(30000, undefined, 'max 100000')).toBe('30000 100000');
    expect(cpuMax(undefined, undefined)).toBeUndefined();
  });

  it('io.max lines; a rate of 0 is "no limit"', () => {
    expect(ioMaxLine(8, 0, 'rbps', 1048576)).toBe('8:0 rbps=1048576');
    expect(ioMaxLine(8, 16, 'wiops', 0)).toBe('8:16 wiops=max');
  });

  it('device rules for v1 devices.allow/deny', () => {
    expect(v1DeviceLine(normalizeDeviceRule({ allow: false }))).toBe('a *:* rwm');
    expect(v1DeviceLine(normalizeDeviceRule({ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }))).toBe('c 1:3 rw');
    expect(v1DeviceLine(normalizeDeviceRule({ allow: true, type: 'b', major: 8, minor: -1 }))).toBe('b 8:* rwm');
  });

  it('io.stat parsing', () => {
    expect(parseIoStat('8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n')).toEqual([
      { major: 8, minor: 0, fields: { rbytes: 10, wbytes: 20, rios: 1, wios: 2, dbytes: 0, dios: 0 } },
    ]);
  });
});

describe('cgroupsPath resolution', () => {
  it('absolute, relative to the default parent, relative to a parent, relative to self', () => {
    expect(resolveCgroupsPath('/a/b', 'id')).toBe('/a/b');
    expect(resolveCgroupsPath(undefined, 'id')).toBe('/husk/id');
    expect(resolveCgroupsPath('x/y', 'id')).toBe('/husk/x/y');
    expect(resolveCgroupsPath(undefined, 'id', '/custom/parent')).toBe('/custom/parent/id');
    expect(resolveCgroupsPath(undefined, 'id', 'self')).toBe('id');
    expect(resolveCgroupsPath('//a//./b/', 'id')).toBe('/a/b');
  });

  it('rejects ".." escapes, the root cgroup and bad parents with the field name', () => {
    expect(() => resolveCgroupsPath('/a/../../b', 'id')).toThrow('linux.cgroupsPath: cgroupsPath "/a/../../b" must not contain ".."');
    expect(() => resolveCgroupsPath('../x', 'id', 'self')).toThrow('must not contain ".."');
    expect(() => resolveCgroupsPath('/', 'id')).toThrow('linux.cgroupsPath: "/" is the root cgroup');
    expect(() => resolveCgroupsPath(undefined, 'id', 'relative/parent')).toThrow('must be an absolute cgroup path or "self"');
    expect(() => resolveCgroupsPath(undefined, '..')).toThrow('must not contain ".."');
  });
});

describe('detection', () => {
  const mountinfo = [
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
    '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate',
  ].join('\n');

  it('hybrid: v1 controllers per mountpoint, the cgroup2 tree and its controllers', () => {
    const layout = layoutFromMounts(parseCgroupMounts(mountinfo), () => ['hugetlb']);
    expect(layout).toMatchObject({
      mode: 'hybrid',
      unifiedMount: '/sys/fs/cgroup/unified',
      v1Mounts: { cpu: '/sys/fs/cgroup/cpu,cpuacct', cpuacct: '/sys/fs/cgroup/cpu,cpuacct', memory: '/sys/fs/cgroup/memory', 'name=systemd': '/sys/fs/cgroup/systemd' },
      v2Controllers: ['hugetlb'],
    });
  });

  it('pure v2 and pure v1', () => {
    const v2 = layoutFromMounts(parseCgroupMounts('30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw'), () => ['cpu', 'memory']);
    expect(v2.mode).toBe('v2');
    const v1 = layoutFromMounts(parseCgroupMounts(mountinfo.split('\n').slice(0, 3).join('\n')), () => []);
    expect(v1.mode).toBe('v1');
    expect(v1.unifiedMount).toBeUndefined();
  });

  it('/proc/self/cgroup per hierarchy', () => {
    const entries = parseProcCgroup('9:name=systemd:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/x\n0::/u\n');
    expect(cgroupOf(entries, 'memory')).toBe('/process_api/abc');
    expect(cgroupOf(entries, 'cpuacct')).toBe('/x');
    expect(cgroupOf(entries, 'name=systemd')).toBe('/');
    expect(cgroupOf(entries, undefined)).toBe('/u');
  });
});

describe('validateResources', () => {
  const hybrid: CgroupLayout = {
    mode: 'hybrid',
    unifiedMount: '/sys/fs/cgroup/unified',
    v1Mounts: { memory: '/m', cpu: '/c', pids: '/p', devices: '/d', blkio: '/b', cpuset: '/s' },
    v2Controllers: ['hugetlb'],
    mountRoots: {},
  };
  const v2: CgroupLayout = { mode: 'v2', unifiedMount: '/sys/fs/cgroup', v1Mounts: {}, v2Controllers: ['cpu', 'memory', 'pids', 'io', 'cpuset'], mountRoots: {} };
  const v1: CgroupLayout = { ...hybrid, mode: 'v1', unifiedMount: undefined, v2Controllers: [] };

  it('accepts a typical config on every mode', () => {
    const ok = {
      memory: { limit: 2 ** 30, reservation: 2 ** 29, swap: 2 ** 31 },
      cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-1' },
      pids: { limit: 100 },
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }],
      blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }] },
    };
    for (const layout of [hybrid, v2, v1]) expect(() => validateResources(ok, layout)).not.toThrow();
  });

  it('names the JSON path of a bad value', () => {
    const cases: Array<[object, string]> = [
      [{ memory: { limit: -2 } }, 'linux.resources.memory.limit: must be -1 (unlimited) or a positive number of bytes, got -2'],
      [{ memory: { limit: 100, swap: 50 } }, 'linux.resources.memory.swap: memory+swap (50) must be >= the memory limit (100)'],
      [{ memory: { reservation: 1.5 } }, 'linux.resources.memory.reservation'],
      [{ cpu: { quota: 10 } }, 'linux.resources.cpu.quota: must be -1 (unlimited) or at least 1000 microseconds, got 10'],
      [{ cpu: { cpus: 'all' } }, 'linux.resources.cpu.cpus'],
      [{ pids: { limit: -7 } }, 'linux.resources.pids.limit'],
      [{ blockIO: { weight: 5000 } }, 'linux.resources.blockIO.weight: must be an integer from 10 to 1000'],
      [{ blockIO: { throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: -1 }] } }, 'linux.resources.blockIO.throttleWriteBpsDevice[0].rate'],
      [{ devices: [{ allow: true, type: 'x' }] }, 'linux.resources.devices[0].type'],
      [{ devices: [{ allow: true, access: 'rwx' }] }, 'linux.resources.devices[0].access'],
      [{ devices: [{ allow: 'yes' }] }, 'linux.resources.devices[0].allow'],
      [{ hugepageLimits: [{ pageSize: '2M', limit: 0 }] }, 'linux.resources.hugepageLimits[0].pageSize'],
    ];
    for (const [resources, message] of cases) expect(() => validateResources(resources as never, v2)).toThrow(message);
  });

  it('unified keys: known v2 files of available controllers only', () => {
    expect(() => validateResources({ unified: { 'memory.high': '1G', 'pids.max': '10' } }, v2)).not.toThrow();
    expect(() => validateResources({ unified: { 'memory.nonsense': '1' } }, v2)).toThrow('unknown cgroup v2 interface file');
    expect(() => validateResources({ unified: { 'cgroup.procs': '1' } }, v2)).toThrow('unknown cgroup v2 interface file');
    expect(() => validateResources({ unified: { 'a/b': '1' } }, v2)).toThrow('no "/" and no ".."');
    expect(() => validateResources({ unified: { 'rdma.max': '1' } }, v2)).toThrow('the rdma controller is not available in the cgroup2 tree');
    expect(() => validateResources({ unified: { 'memory.high': '1G' } }, hybrid)).toThrow('the memory controller is bound to cgroup v1 on this host');
    expect(() => validateResources({ unified: { 'hugetlb.2MB.max': '0' } }, hybrid)).not.toThrow();
    expect(() => validateResources({ unified: { 'memory.high': '1G' } }, v1)).toThrow('this host has no cgroup2 tree');
  });

  it('a controller the host lacks is an error, not a silent no-op', () => {
    const noPids: CgroupLayout = { ...v2, v2Controllers: ['cpu', 'memory'] };
    expect(() => validateResources({ pids: { limit: 10 } }, noPids)).toThrow('linux.resources.pids: the pids controller is not available on this host');
    expect(() => validateResources({ cpu: { realtimeRuntime: 1000 } }, v2)).toThrow('real-time CPU limits exist only with the cgroup v1 cpu controller');
  });

  it('refuses what a hierarchy cannot hold: kernelTCP off v1 memory, network without net_cls/net_prio, rdma', () => {
    expect(() => validateResources({ memory: { kernelTCP: 2 ** 20 } }, hybrid)).not.toThrow();
    expect(() => validateResources({ memory: { kernelTCP: 2 ** 20 } }, v2)).toThrow('linux.resources.memory.kernelTCP: cannot be applied: only the cgroup v1 memory controller has a TCP memory limit');
    expect(() => validateResources({ network: { classID: 1 } }, v2)).toThrow('linux.resources.network.classID: cannot be applied: no cgroup v1 net_cls hierarchy is mounted on this host (cgroup v2');
    const withNet: CgroupLayout = { ...hybrid, v1Mounts: { ...hybrid.v1Mounts, net_cls: '/nc', net_prio: '/np' } };
    expect(() => validateResources({ network: { classID: 1, priorities: [{ name: 'lo', priority: 1 }] } }, withNet)).not.toThrow();
    expect(() => validateResources({ network: { priorities: [{ name: 'lo', priority: 1 }] } }, hybrid)).toThrow('linux.resources.network.priorities: cannot be applied');
    expect(() => validateResources({ rdma: { mlx5_0: { hcaHandles: 1 } } }, v2)).toThrow('linux.resources.rdma: cannot be applied: the rdma controller is not available on this host');
    expect(() => validateResources({ rdma: { mlx5_0: { hcaHandles: 1 } } }, { ...v2, v2Controllers: ['rdma'] })).toThrow('husk does not drive the rdma controller');
  });
});

/**
 * A tiny interpreter of the instructions the device program uses, to check its decisions
 * without loading it (the VM test loads it into a real kernel).
 */
function runDeviceProgram(program: Buffer, type: 'c' | 'b', access: string, major: number, minor: number): boolean {
  const acc = (access.includes('m') ? 1 : 0) | (access.includes('r') ? 2 : 0) | (access.includes('w') ? 4 : 0);
  const ctx = [((acc << 16) | (type === 'b' ? 1 : 2)) >>> 0, major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0; pc < program.length / 8; pc++) {
    const code = program.readUInt8(pc * 8);
    const regs = program.readUInt8(pc * 8 + 1);
    const dst = regs & 0xf;
    const src = regs >> 4;
    const off = program.readInt16LE(pc * 8 + 2);
    const imm = program.readInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x61: r[dst] = ctx[off / 4]!; break; // ldxw
      case 0x54: r[dst] = (r[dst]! & imm) >>> 0; break; // and32 imm
      case 0x74: r[dst] = r[dst]! >>> imm; break; // rsh32 imm
      case 0xbc: r[dst] = r[src]!; break; // mov32 reg
      case 0xb4: r[dst] = imm >>> 0; break; // mov32 imm
      case 0x55: if (r[dst] !== imm) pc += off; break; // jne imm
      case 0x15: if (r[dst] === imm) pc += off; break; // jeq imm
      case 0x95: return r[0] === 1; // exit
      default: throw new Error(`unexpected opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('fell off the end of the program');
}

describe('the eBPF device program (generated in the addon)', () => {
  const program = (rules: DeviceRule[]) => native.deviceFilterProgram(rules);
  const rule = (allow: boolean, type: 'a' | 'c' | 'b', major: number, minor: number, access: string): DeviceRule => ({ allow, type, major, minor, access });

  it('deny all, then allow /dev/null rw: only /dev/null read/write passes', () => {
    const p = program([rule(false, 'a', -1, -1, 'rwm'), rule(true, 'c', 1, 3, 'rw')]);
    expect(runDeviceProgram(p, 'c', 'rw', 1, 3)).toBe(true);
    expect(runDeviceProgram(p, 'c', 'r', 1, 3)).toBe(true);
    expect(runDeviceProgram(p, 'c', 'm', 1, 3)).toBe(false);
    expect(runDeviceProgram(p, 'c', 'rw', 1, 5)).toBe(false);
    expect(runDeviceProgram(p, 'b', 'r', 1, 3)).toBe(false);
  });

  it('allow all, then deny /dev/null write: a deny matches any requested bit it names', () => {
    const p = program([rule(true, 'a', -1, -1, 'rwm'), rule(false, 'c', 1, 3, 'w')]);
    expect(runDeviceProgram(p, 'c', 'w', 1, 3)).toBe(false);
    expect(runDeviceProgram(p, 'c', 'rw', 1, 3)).toBe(false);
    expect(runDeviceProgram(p, 'c', 'r', 1, 3)).toBe(true);
    expect(runDeviceProgram(p, 'c', 'w', 1, 5)).toBe(true);
  });

  it('the last matching rule wins; wildcard majors/minors', () => {
    const p = program([rule(false, 'a', -1, -1, 'rwm'), rule(true, 'c', 136, -1, 'rwm'), rule(false, 'c', 136, 2, 'rwm')]);
    expect(runDeviceProgram(p, 'c', 'rw', 136, 0)).toBe(true);
    expect(runDeviceProgram(p, 'c', 'rw', 136, 2)).toBe(false);
    expect(runDeviceProgram(p, 'c', 'rw', 4, 0)).toBe(false);
  });

  it('rules before a full wildcard never decide; no wildcard = deny, as v1 and runc', () => {
    const shadowed = program([rule(true, 'c', 1, 3, 'rwm'), rule(false, 'a', -1, -1, 'rwm')]);
    expect(runDeviceProgram(shadowed, 'c', 'r', 1, 3)).toBe(false);
    expect(shadowed.length / 8).toBe(8); // prologue (6) + default (2)
    const onlyDeny = program([rule(false, 'b', 8, 0, 'rwm')]);
    expect(runDeviceProgram(onlyDeny, 'b', 'r', 8, 0)).toBe(false);
    expect(runDeviceProgram(onlyDeny, 'b', 'r', 8, 1)).toBe(false);
    const onlyAllow = program([rule(true, 'c', 1, 3, 'rw')]);
    expect(runDeviceProgram(onlyAllow, 'c', 'rw', 1, 3)).toBe(true);
    expect(runDeviceProgram(onlyAllow, 'c', 'r', 1, 5)).toBe(false);
    expect(runDeviceProgram(onlyAllow, 'b', 'r', 8, 0)).toBe(false);
    expect(runDeviceProgram(program([]), 'c', 'r', 1, 3)).toBe(false);
  });

  it('rejects malformed rules', () => {
    expect(() => program([{ ...rule(true, 'a', -1, -1, 'rwm'), access: 'x' }])).toThrow('access must be made of r, w and m');
    expect(() => program([{ ...rule(true, 'a', -1, -1, 'rwm'), type: 'z' as never }])).toThrow('type must be');
  });
});
