import { describe, expect, it } from 'vitest';
import {
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  BPF,
  BPF_MAXINSNS,
  compileSeccomp,
  packFilter,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_RET,
  usesNotify,
  X32_SYSCALL_BIT,
} from '../../../src/seccomp/compile.js';
import { i386Syscalls, x86_64Syscalls } from '../../../src/seccomp/syscall-tables.js';
import { SpecError } from '../../../src/spec/errors.js';
import type { LinuxSeccomp } from '../../../src/spec/types.js';
import { runFilter } from './bpf.js';

const nr = (name: string): number => x86_64Syscalls[name]!;
const ERRNO = (e: number): number => SECCOMP_RET.ERRNO + e;
const EPERM = 1;
const ENOSYS = 38;

function decide(profile: LinuxSeccomp, name: string, args: (number | bigint)[] = [], arch = AUDIT_ARCH_X86_64): number {
  const { filter } = compileSeccomp(profile, 'x64');
  const table = arch === AUDIT_ARCH_I386 ? i386Syscalls : x86_64Syscalls;
  return runFilter(filter, { nr: table[name]!, arch, args });
}

describe('the generated syscall table', () => {
  it('has the x86_64 and i386 numbers of the kernel headers', () => {
    expect(x86_64Syscalls['read']).toBe(0);
    expect(x86_64Syscalls['mkdir']).toBe(83);
    expect(x86_64Syscalls['seccomp']).toBe(317);
    expect(i386Syscalls['mkdir']).toBe(39);
  });
});

describe('compileSeccomp: shape', () => {
  it('an empty ALLOW profile checks the arch, the x32 bit, then allows', () => {
    const { filter, flags } = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, 'x64');
    expect(flags).toBe(0);
    expect(filter[0]).toEqual({ code: BPF.LD_W_ABS, jt: 0, jf: 0, k: 4 });
    expect(filter[1]).toMatchObject({ code: BPF.JMP_JEQ_K, jt: 0, k: AUDIT_ARCH_X86_64 });
    expect(filter[2]).toEqual({ code: BPF.LD_W_ABS, jt: 0, jf: 0, k: 0 });
    expect(filter.at(-1)).toEqual({ code: BPF.RET_K, jt: 0, jf: 0, k: SECCOMP_RET.KILL_PROCESS });
    expect(filter.at(-2)).toEqual({ code: BPF.RET_K, jt: 0, jf: 0, k: SECCOMP_RET.ALLOW });
  });

  it('one arg-less rule costs two instructions', () => {
    const base = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, 'x64').filter.length;
    const one = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }, 'x64');
    expect(one.filter.length).toBe(base + 2);
    const at = one.filter.findIndex((i) => i.code === BPF.JMP_JEQ_K && i.k === nr('mkdir'));
    expect(one.filter[at]).toEqual({ code: BPF.JMP_JEQ_K, jt: 0, jf: 1, k: nr('mkdir') });
    expect(one.filter[at + 1]).toEqual({ code: BPF.RET_K, jt: 0, jf: 0, k: ERRNO(EPERM) });
  });

  it('passes the filter flags through', () => {
    const flags = compileSeccomp(
      { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] },
      'x64',
    ).flags;
    expect(flags).toBe(2 | 4);
  });

  it('packs each instruction into two exact numbers', () => {
    expect(packFilter([{ code: 0x15, jt: 3, jf: 250, k: 0xc000003e }])).toEqual([0x15 + 3 * 65536 + 250 * 2 ** 24, 0xc000003e]);
  });

  it('skips syscall names the table lacks, as runc does', () => {
    const a = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['no_such_call', 'mkdir'], action: 'SCMP_ACT_ERRNO' }] }, 'x64');
    const b = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }, 'x64');
    expect(a.filter).toEqual(b.filter);
  });

  it('stays under BPF_MAXINSNS for an allow-list of every syscall, with far jumps', () => {
    const names = Object.keys(x86_64Syscalls);
    const many: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }],
    };
    const { filter } = compileSeccomp(many, 'x64');
    expect(filter.length).toBeLessThanOrEqual(BPF_MAXINSNS);
    expect(filter.some((i) => i.code === BPF.JMP_JA)).toBe(true);
    for (const name of ['read', 'mkdir', 'seccomp']) expect(runFilter(filter, { nr: nr(name), arch: AUDIT_ARCH_X86_64 })).toBe(SECCOMP_RET.ALLOW);
    expect(runFilter(filter, { nr: 1000, arch: AUDIT_ARCH_X86_64 })).toBe(ERRNO(ENOSYS)); // newer than the profile: runc's stub
    expect(runFilter(filter, { nr: i386Syscalls['mkdir']!, arch: AUDIT_ARCH_I386 })).toBe(SECCOMP_RET.ALLOW);
  });

  it('refuses a program longer than BPF_MAXINSNS', () => {
    const syscalls = Array.from({ length: 1000 }, (_, i) => ({
      names: ['personality'],
      action: 'SCMP_ACT_ERRNO',
      args: [{ index: 0, value: i, op: 'SCMP_CMP_EQ' }],
    }));
    expect(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls }, 'x64')).toThrow(/more than the kernel's 4096/);
  });
});

describe('compileSeccomp: decisions', () => {
  const denyMkdir: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' },
      { names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
      { names: ['reboot'], action: 'SCMP_ACT_KILL_PROCESS' },
      { names: ['swapon'], action: 'SCMP_ACT_KILL' },
      { names: ['acct'], action: 'SCMP_ACT_TRAP' },
      { names: ['ptrace'], action: 'SCMP_ACT_TRACE', errnoRet: 5 },
      { names: ['uname'], action: 'SCMP_ACT_LOG' },
    ],
  };

  it('applies each action, errnoRet defaulting to EPERM', () => {
    expect(decide(denyMkdir, 'mkdir')).toBe(ERRNO(EPERM));
    expect(decide(denyMkdir, 'mkdirat')).toBe(ERRNO(EPERM));
    expect(decide(denyMkdir, 'chmod')).toBe(ERRNO(ENOSYS));
    expect(decide(denyMkdir, 'reboot')).toBe(SECCOMP_RET.KILL_PROCESS);
    expect(decide(denyMkdir, 'swapon')).toBe(SECCOMP_RET.KILL_THREAD);
    expect(decide(denyMkdir, 'acct')).toBe(SECCOMP_RET.TRAP);
    expect(decide(denyMkdir, 'ptrace')).toBe(SECCOMP_RET.TRACE + 5);
    expect(decide(denyMkdir, 'uname')).toBe(SECCOMP_RET.LOG);
    expect(decide(denyMkdir, 'read')).toBe(SECCOMP_RET.ALLOW);
  });

  it('uses defaultAction with defaultErrnoRet for everything else', () => {
    const p: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: ENOSYS, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
    expect(decide(p, 'read')).toBe(SECCOMP_RET.ALLOW);
    expect(decide(p, 'write')).toBe(ERRNO(ENOSYS));
    const { filter } = compileSeccomp(p, 'x64');
    expect(runFilter(filter, { nr: 0xffffffff, arch: AUDIT_ARCH_X86_64 })).toBe(ERRNO(ENOSYS));
  });

  it('kills the process for a foreign arch and for x32 unless listed', () => {
    const { filter } = compileSeccomp(denyMkdir, 'x64');
    expect(runFilter(filter, { nr: 39, arch: AUDIT_ARCH_I386 })).toBe(SECCOMP_RET.KILL_PROCESS);
    expect(runFilter(filter, { nr: 0, arch: 0xc00000b7 /* aarch64 */ })).toBe(SECCOMP_RET.KILL_PROCESS);
    expect(runFilter(filter, { nr: X32_SYSCALL_BIT + nr('read'), arch: AUDIT_ARCH_X86_64 })).toBe(SECCOMP_RET.KILL_PROCESS);
  });

  it('filters i386 and x32 syscalls by their own numbers when listed', () => {
    const p = { ...denyMkdir, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64'] };
    expect(decide(p, 'mkdir', [], AUDIT_ARCH_I386)).toBe(ERRNO(EPERM));
    expect(decide(p, 'read', [], AUDIT_ARCH_I386)).toBe(SECCOMP_RET.ALLOW);
    const { filter } = compileSeccomp(p, 'x64');
    expect(runFilter(filter, { nr: X32_SYSCALL_BIT + nr('mkdir'), arch: AUDIT_ARCH_X86_64 })).toBe(ERRNO(EPERM));
    expect(runFilter(filter, { nr: X32_SYSCALL_BIT + nr('read'), arch: AUDIT_ARCH_X86_64 })).toBe(SECCOMP_RET.ALLOW);
    expect(runFilter(filter, { nr: X32_SYSCALL_BIT + 512, arch: AUDIT_ARCH_X86_64 })).toBe(SECCOMP_RET.ALLOW);
  });
});

describe('compileSeccomp: argument comparisons', () => {
  const on = (op: string, value: number, valueTwo?: number): LinuxSeccomp => ({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value, op, ...(valueTwo !== undefined && { valueTwo }) }] }],
  });
  const denied = (p: LinuxSeccomp, arg: number | bigint): boolean => decide(p, 'personality', [arg]) === ERRNO(EPERM);
  const big = 2 ** 32 + 5; // differs from 5 only in the high half

  it('EQ and NE compare all 64 bits', () => {
    expect([denied(on('SCMP_CMP_EQ', 5), 5), denied(on('SCMP_CMP_EQ', 5), 6), denied(on('SCMP_CMP_EQ', 5), big)]).toEqual([true, false, false]);
    expect([denied(on('SCMP_CMP_NE', 5), 5), denied(on('SCMP_CMP_NE', 5), 6), denied(on('SCMP_CMP_NE', 5), big)]).toEqual([false, true, true]);
    expect(denied(on('SCMP_CMP_EQ', big), big)).toBe(true);
  });

  it('GT, GE, LT, LE are unsigned 64-bit orderings', () => {
    const values = [0, 4, 5, 6, big, 2 ** 33];
    const expectOp = (op: string, holds: (a: number, b: number) => boolean): void => {
      for (const bound of [5, big]) {
        for (const v of values) expect(denied(on(op, bound), v), `${v} ${op} ${bound}`).toBe(holds(v, bound));
      }
    };
    expectOp('SCMP_CMP_GT', (a, b) => a > b);
    expectOp('SCMP_CMP_GE', (a, b) => a >= b);
    expectOp('SCMP_CMP_LT', (a, b) => a < b);
    expectOp('SCMP_CMP_LE', (a, b) => a <= b);
    expect(denied(on('SCMP_CMP_GT', 5), 0xffffffffffffffffn)).toBe(true);
  });

  it('MASKED_EQ tests (arg & value) == valueTwo', () => {
    const wronly = on('SCMP_CMP_MASKED_EQ', 3, 1); // O_ACCMODE == O_WRONLY
    expect(denied(wronly, 1)).toBe(true);
    expect(denied(wronly, 0o2000001)).toBe(true);
    expect(denied(wronly, 0)).toBe(false);
    expect(denied(wronly, 2)).toBe(false);
    expect(denied(on('SCMP_CMP_MASKED_EQ', 2 ** 32, 2 ** 32), big)).toBe(true);
    expect(denied(on('SCMP_CMP_MASKED_EQ', 2 ** 32, 2 ** 32), 5)).toBe(false);
  });

  it('ANDs the args of one rule and ORs rules of one syscall; an arg-less rule catches the rest', () => {
    const p: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['socket'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 2, op: 'SCMP_CMP_EQ' }, { index: 1, value: 1, op: 'SCMP_CMP_EQ' }] },
        { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, args: [{ index: 0, value: 10, op: 'SCMP_CMP_EQ' }] },
        { names: ['kill'], action: 'SCMP_ACT_ERRNO' },
        { names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }] },
      ],
    };
    expect(decide(p, 'socket', [2, 1])).toBe(ERRNO(EPERM)); // AF_INET, SOCK_STREAM
    expect(decide(p, 'socket', [2, 2])).toBe(SECCOMP_RET.ALLOW); // AF_INET, SOCK_DGRAM
    expect(decide(p, 'socket', [1, 1])).toBe(SECCOMP_RET.ALLOW); // AF_UNIX
    expect(decide(p, 'socket', [10, 1])).toBe(ERRNO(ENOSYS)); // AF_INET6
    expect(decide(p, 'kill', [1, 0])).toBe(SECCOMP_RET.ALLOW);
    expect(decide(p, 'kill', [1, 9])).toBe(ERRNO(EPERM));
  });
});

describe('compileSeccomp: errors', () => {
  const fails = (p: LinuxSeccomp, path: string, rule: RegExp): void => {
    let error: unknown;
    try {
      compileSeccomp(p, 'x64');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).jsonPath).toBe(path);
    expect((error as SpecError).rule).toMatch(rule);
  };

  it('refuses SCMP_ACT_NOTIFY without a listener, as the default action, or on sendmsg', () => {
    fails({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, 'linux.seccomp.listenerPath', /needs a listenerPath/);
    fails({ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/run/x.sock' }, 'linux.seccomp.defaultAction', /cannot be the default action/);
    fails(
      { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/x.sock', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir', 'sendmsg'], action: 'SCMP_ACT_NOTIFY' }] },
      'linux.seccomp.syscalls[1]',
      /cannot be used for sendmsg/,
    );
  });

  it('names unknown actions, ops, flags, arches and bad arg indexes', () => {
    fails({ defaultAction: 'SCMP_ACT_MAYBE' }, 'linux.seccomp.defaultAction', /unknown seccomp action "SCMP_ACT_MAYBE"/);
    fails({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NOPE'] }, 'linux.seccomp.flags[0]', /unknown seccomp filter flag/);
    fails({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_VAX'] }, 'linux.seccomp.architectures[1]', /unknown architecture/);
    fails(
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] },
      'linux.seccomp.syscalls[0].args[0].index',
      /out of range/,
    );
    fails(
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0, op: 'SCMP_CMP_ABOUT' }] }] },
      'linux.seccomp.syscalls[0].args[0].op',
      /unknown seccomp comparison/,
    );
    fails({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 70000 }, 'linux.seccomp.defaultAction', /16 bits/);
  });

  it('is for x86_64 hosts only', () => {
    expect(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW' }, 'arm64')).toThrow(/x86_64 hosts only/);
  });
});

describe('compileSeccomp: SCMP_ACT_NOTIFY', () => {
  const notifyMkdir: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath: '/run/agent.sock',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
  };

  it('returns USER_NOTIF for the rule and asks seccomp(2) for a listener fd', () => {
    const { flags } = compileSeccomp(notifyMkdir, 'x64');
    expect(flags & SECCOMP_FILTER_FLAG_NEW_LISTENER).toBe(SECCOMP_FILTER_FLAG_NEW_LISTENER);
    expect(decide(notifyMkdir, 'mkdirat')).toBe(SECCOMP_RET.USER_NOTIF);
    expect(decide(notifyMkdir, 'read')).toBe(SECCOMP_RET.ALLOW);
    expect(usesNotify(notifyMkdir)).toBe(true);
  });

  it('a listenerPath alone asks for no listener (nothing would notify it)', () => {
    const { flags } = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock' }, 'x64');
    expect(flags).toBe(0);
  });
});

describe("compileSeccomp: runc's -ENOSYS stub", () => {
  // A default-deny allow-list that knows nothing newer than openat2 (437).
  const old: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [{ names: ['read', 'write', 'openat2', 'mkdir'], action: 'SCMP_ACT_ALLOW' }],
  };

  it('answers ENOSYS above the largest syscall the profile names, the default action below it', () => {
    expect(nr('openat2')).toBe(437);
    expect(decide(old, 'faccessat2')).toBe(ERRNO(ENOSYS)); // 439: newer than the profile
  });

  it('keeps the default action for an unlisted syscall older than the newest listed', () => {
    expect(decide(old, 'chmod')).toBe(ERRNO(EPERM)); // 90
    expect(decide(old, 'clone3')).toBe(ERRNO(EPERM)); // 435, below openat2: runc's stub has the same blind spot
    expect(decide(old, 'openat2')).toBe(SECCOMP_RET.ALLOW);
    expect(decide(old, 'mkdir')).toBe(SECCOMP_RET.ALLOW);
  });

  it('does so per arch: i386 numbers against the i386 table, x32 against x86_64 below 512', () => {
    const { filter } = compileSeccomp(old, 'x64');
    expect(runFilter(filter, { nr: i386Syscalls['faccessat2']!, arch: AUDIT_ARCH_I386 })).toBe(ERRNO(ENOSYS));
    expect(runFilter(filter, { nr: i386Syscalls['chmod']!, arch: AUDIT_ARCH_I386 })).toBe(ERRNO(EPERM));
    expect(runFilter(filter, { nr: (X32_SYSCALL_BIT | nr('faccessat2')) >>> 0, arch: AUDIT_ARCH_X86_64 })).toBe(ERRNO(ENOSYS));
    expect(runFilter(filter, { nr: (X32_SYSCALL_BIT | 520) >>> 0, arch: AUDIT_ARCH_X86_64 })).toBe(ERRNO(EPERM)); // x32's own
  });

  it('is left out when the default action lets syscalls through, or already is ENOSYS', () => {
    for (const defaultAction of ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE']) {
      const p: LinuxSeccomp = { defaultAction, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
      expect(decide(p, 'faccessat2'), defaultAction).not.toBe(ERRNO(ENOSYS));
    }
    const enosys: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: ENOSYS, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
    const without: LinuxSeccomp = { ...enosys, defaultErrnoRet: EPERM };
    expect(compileSeccomp(enosys, 'x64').filter.length).toBe(compileSeccomp(without, 'x64').filter.length - 2);
  });

  it('applies to a kill default too', () => {
    const kill: LinuxSeccomp = { defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
    expect(decide(kill, 'write')).toBe(ERRNO(ENOSYS)); // write (1) > read (0)
    expect(decide(kill, 'read')).toBe(SECCOMP_RET.ALLOW);
  });
});
