/**
 * The pure parts of the cgroup verbs: update's merge and flag parsing, events' runc shape
 * and durations, and where the default device rules go.
 */
import { describe, expect, it } from 'vitest';
import { eventLine, parseDuration, toRuncStats } from '../../src/cli/events.js';
import { parseBytes, resourcesFromFlags } from '../../src/cli/update.js';
import { defaultAllowedDevices, withDefaultDevices } from '../../src/runtime/devices.js';
import { mergeResources } from '../../src/runtime/resources.js';

describe('update: merge into the recorded resources (runc update)', () => {
  it('keeps what the patch does not set; 0 and "" mean not set', () => {
    const current = { memory: { limit: 64, swap: 128 }, cpu: { quota: 20_000, period: 100_000, cpus: '0' }, pids: { limit: 10 } };
    const { merged, ignored } = mergeResources(current, { memory: { limit: 48, reservation: 0 }, cpu: { period: 50_000, cpus: '' }, pids: { limit: 0 } });
    expect(merged).toEqual({ memory: { limit: 48, swap: 128 }, cpu: { quota: 20_000, period: 50_000, cpus: '0' }, pids: { limit: 10 } });
    expect(ignored).toEqual([]);
    expect(current.memory.limit).toBe(64); // not mutated
  });

  it('memory -1 without swap makes swap unlimited too; idle 0 is a value', () => {
    expect(mergeResources({ memory: { limit: 64, swap: 128 } }, { memory: { limit: -1 } }).merged.memory).toEqual({ limit: -1, swap: -1 });
    expect(mergeResources({ cpu: { idle: 1 } }, { cpu: { idle: 0 } }).merged.cpu).toEqual({ idle: 0 });
  });

  it('merges unified keys and hugepage limits by size; device rules are ignored', () => {
    const { merged, ignored } = mergeResources(
      { unified: { 'memory.high': '1G' }, hugepageLimits: [{ pageSize: '2MB', limit: 1 }], devices: [{ allow: false, access: 'rwm' }] },
      { unified: { 'pids.max': '5' }, hugepageLimits: [{ pageSize: '2MB', limit: 2 }], devices: [{ allow: true, access: 'rwm' }] },
    );
    expect(merged.unified).toEqual({ 'memory.high': '1G', 'pids.max': '5' });
    expect(merged.hugepageLimits).toEqual([{ pageSize: '2MB', limit: 2 }]);
    expect(merged.devices).toEqual([{ allow: false, access: 'rwm' }]);
    expect(ignored).toEqual(['devices']);
  });
});

describe('update: flags', () => {
  it('parses sizes as docker/go-units RAMInBytes does', () => {
    expect(parseBytes('100', 'memory')).toBe(100);
    expect(parseBytes('512m', 'memory')).toBe(512 << 20);
    expect(parseBytes('1.5GiB', 'memory')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('2k', 'memory')).toBe(2048);
    expect(parseBytes('-1', 'memory')).toBe(-1);
    expect(() => parseBytes('12q', 'memory-swap')).toThrow('--memory-swap: "12q" is not a size');
  });

  it('maps runc update flags to a LinuxResources patch', () => {
    expect(
      resourcesFromFlags({ memory: '1g', 'memory-swap': '-1', 'cpu-share': '512', 'cpu-quota': '-1', 'cpuset-cpus': '0-1', 'pids-limit': '-1', 'blkio-weight': '300' }),
    ).toEqual({ memory: { limit: 1024 ** 3, swap: -1 }, cpu: { shares: 512, quota: -1, cpus: '0-1' }, pids: { limit: -1 }, blockIO: { weight: 300 } });
    expect(() => resourcesFromFlags({ 'pids-limit': 'many' })).toThrow('--pids-limit: "many" is not an integer');
  });
});

describe('events: runc types.Stats', () => {
  it('converts units (ns for CPU) and names oom_kill in memory.event_count', () => {
    const data = toRuncStats({
      cpu: { usageUsec: 5, userUsec: 3, systemUsec: 2, periods: 10, throttledPeriods: 4, throttledUsec: 7 },
      memory: { usageBytes: 100, peakBytes: 200, limitBytes: 300, events: { max: 1, oom: 2, oomKill: 3 } },
      pids: { current: 4, limit: 8 },
      io: { devices: [{ major: 8, minor: 0, readBytes: 1, writeBytes: 2, readOps: 3, writeOps: 4 }] },
    });
    expect(data['cpu']).toEqual({ usage: { total: 5000, kernel: 2000, user: 3000 }, throttling: { periods: 10, throttledPeriods: 4, throttledTime: 7000 } });
    expect(data['memory']).toMatchObject({ usage: { limit: 300, usage: 100, max: 200, failcnt: 1 }, event_count: { max: 1, oom: 2, oom_kill: 3 } });
    expect(data['pids']).toEqual({ current: 4, limit: 8 });
    expect((data['blkio'] as { ioServiceBytesRecursive: unknown[] }).ioServiceBytesRecursive).toEqual([
      { major: 8, minor: 0, op: 'Read', value: 1 },
      { major: 8, minor: 0, op: 'Write', value: 2 },
      { major: 8, minor: 0, op: 'Total', value: 3 },
    ]);
  });

  it('prints an unlimited memory limit as Go\'s MaxUint64, exactly', () => {
    const line = eventLine('stats', 'c1', toRuncStats({ memory: { usageBytes: 1, events: { max: 0, oomKill: 0 } } }));
    expect(line).toContain('"usage":{"limit":18446744073709551615,');
    expect(line.endsWith('}\n')).toBe(true);
    expect(eventLine('oom', 'c1')).toBe('{"type":"oom","id":"c1"}\n');
  });

  it('parses Go durations', () => {
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(() => parseDuration('5')).toThrow('is not a duration');
    expect(() => parseDuration('0s')).toThrow('greater than 0');
  });
});

describe('default device rules', () => {
  it('go after the spec\'s blanket rules and before its specific ones', () => {
    const denyAll = { allow: false, access: 'rwm' };
    const denyNullWrite = { allow: false, type: 'c', major: 1, minor: 3, access: 'w' };
    expect(withDefaultDevices([denyAll])).toEqual([denyAll, ...defaultAllowedDevices]);
    expect(withDefaultDevices([denyAll, denyNullWrite])).toEqual([denyAll, ...defaultAllowedDevices, denyNullWrite]);
    expect(withDefaultDevices(undefined)).toEqual(defaultAllowedDevices);
  });
});
