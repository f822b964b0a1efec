/** The systemd driver's pure parts, against runc's rules (libcontainer/cgroups/systemd). */
import { describe, expect, it } from 'vitest';
import { expandSlice, parseSystemdCgroupsPath, rangeToMask, systemdResourceProperties } from '../../../src/cgroups/systemd.js';

describe('systemd cgroupsPath (runc: slice:prefix:name)', () => {
  it('expands nested slices as runc ExpandSlice does', () => {
    expect(expandSlice('system.slice')).toBe('/system.slice');
    expect(expandSlice('a-b-c.slice')).toBe('/a.slice/a-b.slice/a-b-c.slice');
    expect(expandSlice('-.slice')).toBe('/');
    for (const bad of ['test--a.slice', '-test.slice', 'test-.slice', 'a/b.slice', 'system', '.slice']) expect(() => expandSlice(bad), bad).toThrow(/invalid slice name/);
  });

  it('makes PREFIX-NAME.scope in the slice, system.slice by default', () => {
    expect(parseSystemdCgroupsPath('system.slice:docker:abc', 'x')).toEqual({ slice: 'system.slice', unit: 'docker-abc.scope', path: '/system.slice/docker-abc.scope' });
    expect(parseSystemdCgroupsPath('machine-libpod.slice:libpod:1', 'x').path).toBe('/machine.slice/machine-libpod.slice/libpod-1.scope');
    expect(parseSystemdCgroupsPath(':husk:web', 'x').path).toBe('/system.slice/husk-web.scope');
    expect(parseSystemdCgroupsPath(undefined, 'web')).toEqual({ slice: 'system.slice', unit: 'husk-web.scope', path: '/system.slice/husk-web.scope' });
    expect(parseSystemdCgroupsPath('system.slice::web', 'x').unit).toBe('web.scope');
  });

  it('refuses what runc refuses, and a slice as the unit', () => {
    expect(() => parseSystemdCgroupsPath('/husk/web', 'web')).toThrow(/expected cgroupsPath to be of format "slice:prefix:name"/);
    expect(() => parseSystemdCgroupsPath('a:b', 'web')).toThrow(/slice:prefix:name/);
    expect(() => parseSystemdCgroupsPath('bad--.slice:p:n', 'web')).toThrow(/invalid slice name/);
    expect(() => parseSystemdCgroupsPath('system.slice:p:n/../x', 'web')).toThrow(/must be non-empty/);
    expect(() => parseSystemdCgroupsPath('system.slice:p:sub.slice', 'web')).toThrow(/names a slice/);
  });
});

describe('systemd unit properties from linux.resources (runc systemd v2 conversions)', () => {
  const byName = (r: Parameters<typeof systemdResourceProperties>[0]) => Object.fromEntries(systemdResourceProperties(r).map((p) => [p.name, p.value]));

  it('memory, pids, weights', () => {
    expect(byName({ memory: { limit: 64 << 20, reservation: 32 << 20, swap: 96 << 20 }, pids: { limit: 64 }, cpu: { shares: 1024 }, blockIO: { weight: 500 } })).toEqual({
      MemoryMax: BigInt(64 << 20),
      MemoryLow: BigInt(32 << 20),
      MemorySwapMax: BigInt(32 << 20),
      TasksMax: 64n,
      CPUWeight: 39n,
      IOWeight: 4950n,
    });
    expect(byName({ memory: { limit: -1 }, pids: { limit: -1 } })).toEqual({ MemoryMax: 0xffffffffffffffffn, TasksMax: 0xffffffffffffffffn });
    expect(systemdResourceProperties(undefined)).toEqual([]);
  });

  it('cpu quota rounds up to 10 ms per second, as runc; period passes through', () => {
    expect(byName({ cpu: { quota: 20000, period: 100000 } })).toEqual({ CPUQuotaPerSecUSec: 200000n, CPUQuotaPeriodUSec: 100000n });
    expect(byName({ cpu: { quota: 12345, period: 100000 } }).CPUQuotaPerSecUSec).toBe(130000n);
    expect(byName({ cpu: { quota: 50000 } }).CPUQuotaPerSecUSec).toBe(500000n);
    expect(byName({ cpu: { quota: -1, period: 100000 } }).CPUQuotaPerSecUSec).toBe(0xffffffffffffffffn);
  });

  it('cpu and memory-node lists become little-endian masks (runc RangeToBits)', () => {
    expect([...rangeToMask('0')]).toEqual([1]);
    expect([...rangeToMask('0-3,7')]).toEqual([0x8f]);
    expect([...rangeToMask('8,10-11')]).toEqual([0, 0b1101]);
    expect(() => rangeToMask('')).toThrow(/empty/);
    expect(() => rangeToMask('3-1')).toThrow(/invalid range/);
    expect(byName({ cpu: { cpus: '1', mems: '0' } })).toEqual({ AllowedCPUs: Buffer.from([2]), AllowedMemoryNodes: Buffer.from([1]) });
  });
});
