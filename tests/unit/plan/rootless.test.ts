/** What the planners do differently for a rootless container. Pure: no root, no host. */
import { describe, expect, it } from 'vitest';
import { planContainer, type ContainerPlanInput } from '../../../src/plan/container.js';
import { planExec } from '../../../src/plan/exec.js';
import { SyncPoint, type PlanOp } from '../../../src/plan/ops.js';
import { requestedLimits, checkRootlessDeviceRules } from '../../../src/runtime/rootless.js';
import { defaultSpec } from '../../../src/spec/defaults.js';
import { SpecError } from '../../../src/spec/errors.js';

function input(extra: Partial<ContainerPlanInput> = {}): ContainerPlanInput {
  const spec = defaultSpec({ args: ['/bin/app'], terminal: false, rootless: true, hostUid: 1000, hostGid: 1000 });
  return { spec, rootfs: '/b/rootfs', bundle: '/b', gatePath: '/run/user/1000/husk/x/exec.fifo', lastCap: 40, cgroupMount: { kind: 'v2' }, ...extra };
}
const kinds = (ops: PlanOp[]): string[] => ops.map((op) => op.kind);

describe('rootless plans', () => {
  it('an unprivileged parent writes the maps: the child stays dumpable until then (runc nsexec), not a step longer', () => {
    const rootful = kinds(planContainer(input()).ops);
    expect(rootful.slice(0, 3)).toEqual(['dumpable', 'pdeathsig', 'open_gate']);
    const ops = planContainer(input({ unprivilegedIdMaps: true })).ops;
    // The maps are written at IdMaps, once the child has made its user namespace (unshare).
    const sync = ops.findIndex((op) => op.kind === 'sync' && op.point === SyncPoint.IdMaps);
    expect(sync).toBeGreaterThan(0);
    expect(ops.slice(0, sync).some((op) => op.kind === 'dumpable')).toBe(false);
    expect(ops[sync + 1]).toEqual({ kind: 'dumpable', value: 0 });
  });

  it('where setgroups is denied, the groups are left alone; additional gids are refused', () => {
    expect(kinds(planContainer(input()).ops)).toContain('setgroups');
    expect(kinds(planContainer(input({ setgroups: false })).ops)).not.toContain('setgroups');
    const withGroups = input({ setgroups: false });
    withGroups.spec.process!.user.additionalGids = [10];
    expect(() => planContainer(withGroups)).toThrow(SpecError);
    const exec = planExec({ process: { ...input().spec.process!, args: ['id'] }, joins: [], lastCap: 40, setgroups: false });
    expect(kinds(exec.ops)).not.toContain('setgroups');
  });

  it('a runtime in a user namespace binds the host\'s device nodes (no mknod) and, without a network namespace, its /sys', () => {
    const spec = defaultSpec({ args: ['/bin/app'], terminal: false });
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'network');
    const ops = planContainer({ ...input(), spec, runtimeInUserNs: true }).ops;
    expect(kinds(ops)).not.toContain('mknod');
    expect(ops).toContainEqual(expect.objectContaining({ kind: 'mount', source: '/dev/null', target: '/dev/null' }));
    expect(ops).toContainEqual(expect.objectContaining({ kind: 'mount', source: '/sys', target: '/sys' }));
  });

  it('without a cgroup nor a cgroup namespace, /sys/fs/cgroup is the host\'s tree, bound', () => {
    const ops = planContainer(input({ cgroupMount: { kind: 'bind', hostPath: '/sys/fs/cgroup' } })).ops;
    expect(ops).toContainEqual(expect.objectContaining({ kind: 'mount', source: '/sys/fs/cgroup', target: '/sys/fs/cgroup', fstype: null }));
  });
});

describe('rootless resources', () => {
  it('names the limits a config asks for, devices aside', () => {
    expect(requestedLimits(undefined)).toEqual([]);
    expect(requestedLimits({ devices: [{ allow: false, access: 'rwm' }], pids: { limit: 0 }, memory: { limit: -1 } })).toEqual([]);
    expect(requestedLimits({ memory: { limit: 1 << 20, swap: 2 << 20 }, cpu: { shares: 512 }, unified: { 'memory.high': '1G' } })).toEqual([
      'linux.resources.memory.limit',
      'linux.resources.memory.swap',
      'linux.resources.cpu.shares',
      'linux.resources.unified',
    ]);
  });

  it('accepts blanket device rules and allows, refuses a rule that denies a device', () => {
    expect(() => checkRootlessDeviceRules([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }])).not.toThrow();
    expect(() => checkRootlessDeviceRules([{ allow: false, type: 'c', major: 1, minor: 3, access: 'w' }])).toThrow(/linux\.resources\.devices\[0\]: a rule denying a device cannot be enforced rootless/);
  });
});
