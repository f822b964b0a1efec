/** Where the seccomp step lands in the child's plan: runc's two places. */
import { describe, expect, it } from 'vitest';
import { planContainer } from '../../../src/plan/container.js';
import { planExec } from '../../../src/plan/exec.js';
import type { PlanOp } from '../../../src/plan/ops.js';
import { defaultSpec } from '../../../src/spec/defaults.js';
import type { LinuxSeccomp, Spec } from '../../../src/spec/types.js';

const profile: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'], syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };

function containerOps(noNewPrivileges: boolean, seccomp: LinuxSeccomp | null = profile): PlanOp[] {
  const spec: Spec = defaultSpec({ args: ['/bin/true'], terminal: false });
  spec.process!.noNewPrivileges = noNewPrivileges;
  if (seccomp) spec.linux!.seccomp = seccomp;
  else delete spec.linux!.seccomp;
  return planContainer({ spec, rootfs: '/b/rootfs', bundle: '/b', gatePath: '/run/x/exec.fifo', lastCap: 40, cgroupMount: { kind: 'v2' } }).ops;
}

const kinds = (ops: PlanOp[]): string[] => ops.map((op) => op.kind);

describe('the seccomp step', () => {
  it('without noNewPrivileges: before the identity steps (it needs CAP_SYS_ADMIN)', () => {
    const k = kinds(containerOps(false));
    expect(k.filter((x) => x === 'seccomp')).toHaveLength(1);
    expect(k.indexOf('seccomp')).toBe(k.indexOf('setgroups') - 1);
    expect(k.indexOf('seccomp')).toBeGreaterThan(k.indexOf('pivot_root'));
  });

  it('with noNewPrivileges: after the start gate, right before exec', () => {
    const ops = containerOps(true);
    const k = kinds(ops);
    expect(k.filter((x) => x === 'seccomp')).toHaveLength(1);
    expect(k.slice(-2)).toEqual(['seccomp', 'exec']);
    expect(k.indexOf('no_new_privs')).toBeLessThan(k.indexOf('seccomp'));
    const op = ops.at(-2) as Extract<PlanOp, { kind: 'seccomp' }>;
    expect(op.flags).toBe(2);
    expect(op.filter.length % 2).toBe(0);
  });

  it('is absent without linux.seccomp', () => {
    expect(kinds(containerOps(true, null))).not.toContain('seccomp');
    expect(kinds(containerOps(false, null))).not.toContain('seccomp');
  });

  it('exec gets the same filter, in the same places', () => {
    const process = { args: ['/bin/true'], cwd: '/', user: { uid: 0, gid: 0 } };
    const withNnp = kinds(planExec({ process: { ...process, noNewPrivileges: true }, joins: [], lastCap: 40, seccomp: profile }).ops);
    expect(withNnp.slice(-2)).toEqual(['seccomp', 'exec']);
    const without = kinds(planExec({ process, joins: [], lastCap: 40, seccomp: profile }).ops);
    expect(without.indexOf('seccomp')).toBe(without.indexOf('setgroups') - 1);
    expect(kinds(planExec({ process, joins: [], lastCap: 40 }).ops)).not.toContain('seccomp');
  });
});
