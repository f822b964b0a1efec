/** The escape lab's pure parts: plans per configuration, the probe's line, the why, the table. No root needed. */
import { describe, expect, it } from 'vitest';
import { constants as c } from '../../../src/native/index.js';
import {
  attempts,
  configurations,
  type EscapeLabReport,
  formatReport,
  labExitCode,
  type LabSetup,
  parseProbeLine,
  planRow,
  whyOf,
  wrap,
} from '../../../src/lab/index.js';
import { hostRootfsSpec } from '../../../src/runtime/host-rootfs.js';

const embedded = hostRootfsSpec(['escape-probe'], 'lab', false);
const setup: LabSetup = {
  rootfs: '/tmp/lab/rootfs',
  labDir: '/tmp/lab',
  marker: '/tmp/lab/marker',
  leakDir: '/',
  hostPid: 4242,
  hostMountNsInode: 4026531841,
  outputFd: 17,
  lastCap: 40,
  permittedCaps: 2 ** 41 - 1,
  container: { spec: embedded.spec, symlinks: embedded.symlinks, cgroupMount: { kind: 'v1', hierarchies: [] } },
};

const kinds = (ops: { kind: string }[]): string[] => ops.map((op) => op.kind);

describe('planRow', () => {
  it('every plan plants the leak first and ends with the attempt in place of exec', () => {
    for (const configuration of configurations) {
      for (const attempt of attempts) {
        const { ops } = planRow(setup, configuration.id, attempt.id);
        expect(ops[0]).toEqual({ kind: 'escape_probe', probe: 0, path: '/', hostPid: 4242, hostMountNsInode: 4026531841 });
        const last = ops.at(-1)!;
        expect(last).toMatchObject({ kind: 'escape_probe', path: '/tmp/lab/marker' });
        expect((last as { probe: number }).probe).toBe(attempts.indexOf(attempt) + 1);
        expect(kinds(ops)).not.toContain('exec');
        expect(kinds(ops)).not.toContain('resolve_exec');
        expect(kinds(ops).includes('close_fds')).toBe(configuration.closesFds);
      }
    }
  });

  it('(1) and (2) are a chroot in the host namespaces; (2) drops CAP_SYS_CHROOT after it', () => {
    const one = planRow(setup, 'chroot', 'classic');
    expect(one.cloneFlags).toBe(0);
    expect(kinds(one.ops)).toEqual(['escape_probe', 'pdeathsig', 'chroot', 'stdio', 'escape_probe']);
    const two = planRow(setup, 'chroot-no-cap', 'classic');
    expect(kinds(two.ops)).toEqual(['escape_probe', 'pdeathsig', 'chroot', 'bounding', 'caps', 'stdio', 'escape_probe']);
    const caps = two.ops.find((op) => op.kind === 'caps') as { effective: number; permitted: number };
    expect(caps.permitted).toBe(2 ** 41 - 1 - 2 ** 18);
    expect(caps.effective).toBe(caps.permitted);
  });

  it('(3) moves the rootfs and chroots, (4) pivots, both in new mount and pid namespaces', () => {
    const three = planRow(setup, 'no-pivot', 'mount-ns');
    const four = planRow(setup, 'pivot-root', 'mount-ns');
    for (const plan of [three, four]) expect(plan.cloneFlags).toBe(c.CLONE_NEWNS | c.CLONE_NEWPID);
    expect(kinds(three.ops)).toContain('move_chroot');
    expect(kinds(four.ops)).toContain('pivot_root');
    expect(kinds(four.ops).slice(2, 5)).toEqual(['mount', 'mount', 'enter_rootfs']);
  });

  it('(5) is planContainer\'s plan of the default container, unchanged but for the leak and the exec', () => {
    const { ops, cloneFlags } = planRow(setup, 'container', 'proc-root');
    expect(cloneFlags & c.CLONE_NEWPID).toBeTruthy();
    expect(cloneFlags & c.CLONE_NEWNET).toBeTruthy();
    const k = kinds(ops);
    for (const kind of ['pivot_root', 'mask', 'readonly', 'bounding', 'caps', 'no_new_privs', 'close_fds']) expect(k).toContain(kind);
    expect(k.indexOf('close_fds')).toBe(k.length - 2);
    expect(ops).toContainEqual({ kind: 'stdio', fds: [-1, 17, 17] });
  });
});

describe('parseProbeLine', () => {
  it('reads both line forms and nothing else', () => {
    expect(parseProbeLine('escaped chroot-dotdot 0123abcd\n')).toEqual({ outcome: 'escaped', step: 'chroot-dotdot', evidence: '0123abcd' });
    expect(parseProbeLine('held EPERM chroot-subdir\n')).toEqual({ outcome: 'held', errno: 'EPERM', step: 'chroot-subdir' });
    expect(parseProbeLine('')).toBeUndefined();
    expect(parseProbeLine('held EPERM')).toBeUndefined();
  });
});

describe('whyOf and the report', () => {
  it('names the capability behind an EPERM chroot, and falls back to step and errno', () => {
    expect(whyOf({ configuration: 'chroot-no-cap', attempt: 'classic', outcome: 'held', errno: 'EPERM', step: 'chroot-subdir' })).toContain('CAP_SYS_CHROOT');
    expect(whyOf({ configuration: 'pivot-root', attempt: 'classic', outcome: 'held', errno: 'EIO', step: 'chdir-dotdot' })).toBe('chdir-dotdot failed with EIO');
    expect(whyOf({ configuration: 'pivot-root', attempt: 'classic', outcome: 'error', error: 'pivot_root: EINVAL' })).toContain('pivot_root: EINVAL');
  });

  const report = (outcome: 'held' | 'escaped' | 'error'): EscapeLabReport => ({
    version: 1,
    kernel: '6.1',
    marker: '/tmp/l/marker',
    secret: 'ab'.repeat(16),
    rootfs: '/tmp/l/rootfs',
    configurations: configurations.map((x) => ({ ...x })),
    attempts: attempts.map((x) => ({ ...x })),
    results: [
      { configuration: 'pivot-root', attempt: 'classic', outcome, why: 'w', explanation: 'e', ...(outcome === 'escaped' ? { secretReadBack: 'ab'.repeat(16), step: 's' } : { errno: 'ENOENT', step: 'open-marker' }) },
    ],
    defaultEscaped: outcome === 'escaped',
    cleanup: [],
  });

  it('exits 1 when a default jail was escaped, 2 when a row could not run', () => {
    expect(labExitCode(report('held'))).toBe(0);
    expect(labExitCode(report('escaped'))).toBe(1);
    expect(labExitCode(report('error'))).toBe(2);
  });

  it('formats the table and the summary', () => {
    const text = formatReport(report('held'));
    expect(text).toMatch(/^CONFIGURATION +ATTEMPT +RESULT +EVIDENCE +WHY$/m);
    expect(text).toContain('(4) pivot-root   classic   HELD');
    expect(text).toContain('ENOENT at open-marker');
    expect(text).toContain('(4) and (5) held against every attempt.');
    expect(formatReport(report('escaped'))).toContain('ESCAPED: (4)');
  });

  it('wraps explanations at the width', () => {
    const out = wrap('a '.repeat(100), 20, '  ');
    for (const line of out.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(20);
  });
});
