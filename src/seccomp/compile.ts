/**
 * Compiles linux.seccomp (OCI runtime-spec config-linux.md "Seccomp") into a
 * classic BPF program for seccomp(SECCOMP_SET_MODE_FILTER), with the semantics
 * runc gets from libseccomp, for x86_64 hosts:
 *
 * - Architectures: x86_64 (AUDIT_ARCH_X86_64) is always filtered, as libseccomp
 *   always adds the native arch. SCMP_ARCH_X86 adds an i386 section (its own
 *   syscall numbers). SCMP_ARCH_X32 lets x32 syscalls (nr | 0x40000000) through
 *   the x86_64 rules (nr without the x32 bit; x32's own 512+ numbers get the
 *   default action). Any other arch, or x32 when not listed, gets KILL_PROCESS:
 *   such a syscall can only come from a foreign ABI, which the profile never
 *   allowed; libseccomp's bad-arch default is KILL (thread), we kill the whole
 *   process so no thread survives a forbidden ABI. Other arch names of the spec
 *   (ARM, PPC...) are accepted and add nothing: no syscall of theirs can reach an
 *   x86_64 kernel.
 * - Syscall names unknown to the generated table are skipped, as runc does for
 *   names libseccomp or the kernel lacks.
 * - Per syscall: rules with args first, in spec order (a rule's args are ANDed;
 *   several rules are ORed: the first that matches decides), then the first rule
 *   without args (it matches everything left), else the default action.
 * - runc's -ENOSYS stub (libcontainer/seccomp/patchbpf): unless the default action
 *   lets syscalls through (ALLOW, LOG, TRACE), a syscall numbered above the largest
 *   one the profile names (per arch) gets ENOSYS instead of the default action, so a
 *   libc newer than the profile sees "not implemented" and falls back (clone3 ->
 *   clone, faccessat2 -> faccessat) rather than failing on EPERM.
 * - SCMP_ACT_NOTIFY: the filter is installed with SECCOMP_FILTER_FLAG_NEW_LISTENER
 *   and its notify fd goes to listenerPath (src/runtime/seccomp-listener.ts); it may
 *   not be the default action, nor apply to sendmsg, with which the child hands the
 *   notify fd to the runtime (runc refuses write, its own hand-off, likewise).
 */
import { SpecError } from '../spec/errors.js';
import type { LinuxSeccomp, LinuxSeccompArg, LinuxSyscall } from '../spec/types.js';
import { i386Syscalls, x86_64Syscalls } from './syscall-tables.js';

/** One classic BPF instruction (struct sock_filter). */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export interface SeccompProgram {
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(2). */
  flags: number;
  filter: SockFilter[];
}

/** BPF_MAXINSNS of the kernel: a longer filter is refused with EINVAL. */
export const BPF_MAXINSNS = 4096;

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const X32_SYSCALL_BIT = 0x40000000;

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** Offsets in struct seccomp_data (little-endian). */
export const SECCOMP_DATA = { nr: 0, arch: 4, argLow: (i: number) => 16 + 8 * i, argHigh: (i: number) => 20 + 8 * i } as const;

// BPF opcodes (linux/filter.h, linux/bpf_common.h).
export const BPF = {
  LD_W_ABS: 0x20, // A = *(u32 *)(data + k)
  ALU_AND_K: 0x54, // A &= k
  JMP_JA: 0x05, // pc += k
  JMP_JEQ_K: 0x15, // pc += (A == k) ? jt : jf
  JMP_JGT_K: 0x25, // pc += (A > k) ? jt : jf
  JMP_JGE_K: 0x35, // pc += (A >= k) ? jt : jf
  RET_K: 0x06, // return k
} as const;

/** SECCOMP_FILTER_FLAG_NEW_LISTENER: seccomp(2) returns the notify fd. */
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;

const filterFlags: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};

/** The actions husk compiles. */
export const SECCOMP_ACTIONS = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP'] as const;
export const SECCOMP_OPERATORS = ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'] as const;
/** Filter flag names seccomp(2) takes from linux.seccomp.flags. */
export const SECCOMP_FLAGS: readonly string[] = Object.keys({ SECCOMP_FILTER_FLAG_TSYNC: 1, SECCOMP_FILTER_FLAG_LOG: 2, SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32 });

/** The spec's other arch names: accepted, nothing of theirs reaches an x86_64 kernel. */
export const foreignArches = new Set([
  'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
]);

const EPERM = 1;
const ENOSYS = 38;

/** The SECCOMP_RET_* value of an action; errnoRet for ERRNO and TRACE (default EPERM, as runc). */
export function actionValue(action: string, errnoRet: number | undefined, where: string): number {
  const data = (): number => {
    const value = errnoRet ?? EPERM;
    if (value > 0xffff) throw new SpecError(where, `errno ${value} does not fit the 16 bits seccomp returns`);
    return value;
  };
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP_RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP_RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP_RET.TRAP;
    case 'SCMP_ACT_ERRNO':
      return SECCOMP_RET.ERRNO + data();
    case 'SCMP_ACT_TRACE':
      return SECCOMP_RET.TRACE + data();
    case 'SCMP_ACT_ALLOW':
      return SECCOMP_RET.ALLOW;
    case 'SCMP_ACT_LOG':
      return SECCOMP_RET.LOG;
    case 'SCMP_ACT_NOTIFY':
      return SECCOMP_RET.USER_NOTIF;
    default:
      throw new SpecError(where, `unknown seccomp action "${action}"`);
  }
}

// --- a small assembler: jumps to labels, resolved to 8-bit forward offsets ---

/** A jump target: 0 = the next instruction, or a label placed later in the same block. */
type Target = 0 | symbol;
type Item = { code: number; k: number; jt?: Target; jf?: Target } | { label: symbol };

function assemble(items: Item[]): SockFilter[] {
  const at = new Map<symbol, number>();
  let pc = 0;
  for (const item of items) {
    if ('label' in item) at.set(item.label, pc);
    else pc++;
  }
  const out: SockFilter[] = [];
  const offset = (target: Target | undefined, from: number): number => {
    if (target === undefined || target === 0) return 0;
    const to = at.get(target);
    if (to === undefined) throw new Error('seccomp assembler: undefined label');
    const off = to - from - 1;
    if (off < 0 || off > 255) throw new Error(`seccomp assembler: jump of ${off} out of range`);
    return off;
  };
  for (const item of items) {
    if ('label' in item) continue;
    const pos = out.length;
    out.push({ code: item.code, jt: offset(item.jt, pos), jf: offset(item.jf, pos), k: item.k });
  }
  return out;
}

const ld = (k: number): Item => ({ code: BPF.LD_W_ABS, k });
const ret = (k: number): SockFilter => ({ code: BPF.RET_K, jt: 0, jf: 0, k });

/**
 * Runs `body` (which must end in a return) when `A <op> k` holds, else skips it:
 * with the 8-bit jf when the body is short enough, else through a ja (32-bit offset).
 */
function guard(op: number, k: number, body: SockFilter[]): SockFilter[] {
  if (body.length <= 255) return [{ code: op, jt: 0, jf: body.length, k }, ...body];
  return [{ code: op, jt: 1, jf: 0, k }, { code: BPF.JMP_JA, jt: 0, jf: 0, k: body.length }, ...body];
}

/** The halves of a 64-bit argument value (JSON numbers: exact below 2**53). */
function halves(value: number): [high: number, low: number] {
  if (value >= 2 ** 64 - 1) return [0xffffffff, 0xffffffff];
  const high = Math.floor(value / 2 ** 32);
  return [high, value - high * 2 ** 32];
}

/** One comparison of a 64-bit argument: falls through when it holds, jumps to `fail` when not. */
function comparison(arg: LinuxSeccompArg, where: string, fail: symbol): Item[] {
  if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index > 5) {
    throw new SpecError(`${where}.index`, `syscall argument index ${arg.index} is out of range (0-5)`);
  }
  const hi = ld(SECCOMP_DATA.argHigh(arg.index));
  const lo = ld(SECCOMP_DATA.argLow(arg.index));
  const [vh, vl] = halves(arg.value);
  const ok = Symbol('ok');
  const { JMP_JEQ_K: JEQ, JMP_JGT_K: JGT, JMP_JGE_K: JGE } = BPF;
  let items: Item[];
  switch (arg.op) {
    case 'SCMP_CMP_EQ':
      items = [hi, { code: JEQ, k: vh, jf: fail }, lo, { code: JEQ, k: vl, jf: fail }];
      break;
    case 'SCMP_CMP_NE':
      items = [hi, { code: JEQ, k: vh, jf: ok }, lo, { code: JEQ, k: vl, jt: fail, jf: ok }];
      break;
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
      items = [
        hi,
        { code: JGT, k: vh, jt: ok },
        { code: JEQ, k: vh, jf: fail },
        lo,
        { code: arg.op === 'SCMP_CMP_GT' ? JGT : JGE, k: vl, jt: ok, jf: fail },
      ];
      break;
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE':
      items = [
        hi,
        { code: JGT, k: vh, jt: fail },
        { code: JEQ, k: vh, jf: ok },
        lo,
        // a < v is !(a >= v); a <= v is !(a > v)
        { code: arg.op === 'SCMP_CMP_LT' ? JGE : JGT, k: vl, jt: fail, jf: ok },
      ];
      break;
    case 'SCMP_CMP_MASKED_EQ': {
      // (arg & value) == valueTwo, as libseccomp
      const [dh, dl] = halves(arg.valueTwo ?? 0);
      items = [
        hi,
        { code: BPF.ALU_AND_K, k: vh },
        { code: JEQ, k: dh, jf: fail },
        lo,
        { code: BPF.ALU_AND_K, k: vl },
        { code: JEQ, k: dl, jf: fail },
      ];
      break;
    }
    default:
      throw new SpecError(`${where}.op`, `unknown seccomp comparison "${arg.op}"`);
  }
  return [...items, { label: ok }];
}

interface Rule {
  action: number;
  args: { arg: LinuxSeccompArg; where: string }[];
}

/** The code for one syscall once its number matched: its rules, then its fallback. */
function syscallBlock(rules: Rule[], defaultAction: number): SockFilter[] {
  const items: Item[] = [];
  for (const rule of rules.filter((r) => r.args.length > 0)) {
    const next = Symbol('next');
    for (const { arg, where } of rule.args) items.push(...comparison(arg, where, next));
    items.push({ code: BPF.RET_K, k: rule.action }, { label: next });
  }
  const catchAll = rules.find((r) => r.args.length === 0);
  items.push({ code: BPF.RET_K, k: catchAll ? catchAll.action : defaultAction });
  return assemble(items);
}

/** The largest number in `table` of a syscall the profile names (undefined: none known). */
function lastSyscall(syscalls: LinuxSyscall[], table: Readonly<Record<string, number>>): number | undefined {
  let last: number | undefined;
  for (const sys of syscalls) {
    for (const name of sys.names) {
      const nr = Object.hasOwn(table, name) ? table[name]! : undefined;
      if (nr !== undefined && (last === undefined || nr > last)) last = nr;
    }
  }
  return last;
}

/**
 * Dispatch on the syscall number in A over `table`; ends in the default action.
 * With `enosys`, a number above the largest the profile names returns ENOSYS first.
 */
function dispatch(syscalls: LinuxSyscall[], table: Readonly<Record<string, number>>, defaultAction: number, enosys: boolean): SockFilter[] {
  const byNr = new Map<number, Rule[]>();
  syscalls.forEach((sys, i) => {
    const where = `linux.seccomp.syscalls[${i}]`;
    const action = actionValue(sys.action, sys.errnoRet, `${where}.action`);
    const args = (sys.args ?? []).map((arg, j) => ({ arg, where: `${where}.args[${j}]` }));
    for (const name of sys.names) {
      const nr = Object.hasOwn(table, name) ? table[name] : undefined;
      if (nr === undefined) continue; // unknown to this arch: skipped, as runc/libseccomp do
      const rules = byNr.get(nr) ?? [];
      rules.push({ action, args });
      byNr.set(nr, rules);
    }
  });
  const out: SockFilter[] = [];
  const last = enosys ? lastSyscall(syscalls, table) : undefined;
  if (last !== undefined) out.push(...guard(BPF.JMP_JGT_K, last, [ret(SECCOMP_RET.ERRNO + ENOSYS)]));
  for (const [nr, rules] of byNr) out.push(...guard(BPF.JMP_JEQ_K, nr, syscallBlock(rules, defaultAction)));
  out.push(ret(defaultAction));
  return out;
}

/**
 * husk-exec, the last exec of every process (native/exec_helper.h), must get past
 * any profile the program's own execve gets past: the child's execveat() of the
 * helper's memfd (fd HUSK_EXEC_HELPER_FD, AT_EMPTY_PATH) and the
 * fcntl(HUSK_EXEC_SYNC_FD, F_SETFD) of the child and the helper. Those exact calls
 * are allowed ahead of the profile; they give the program nothing its own allowed
 * execve does not (it can exec a file it holds open, at that fd number). A profile
 * that denies sendto() keeps the helper from reporting a failed execve over the sync
 * socket: it says it on stderr and exits 127 instead.
 */
export const EXEC_HELPER = { syncFd: 910, helperFd: 911 } as const;
const AT_EMPTY_PATH = 0x1000;
const F_SETFD = 2;
const X86_64_NR = { fcntl: 72, execveat: 322 } as const;

function execHelperAllowance(): SockFilter[] {
  const { JMP_JEQ_K: JEQ, RET_K: RET } = BPF;
  const items: Item[] = [];
  const rule = (nr: number, args: [index: number, value: number][]): void => {
    const skip = Symbol('skip');
    const reload = Symbol('reload');
    items.push({ code: JEQ, k: nr, jf: skip });
    for (const [index, value] of args) {
      items.push(ld(SECCOMP_DATA.argHigh(index)), { code: JEQ, k: 0, jf: reload }, ld(SECCOMP_DATA.argLow(index)), { code: JEQ, k: value, jf: reload });
    }
    items.push({ code: RET, k: SECCOMP_RET.ALLOW }, { label: reload }, ld(SECCOMP_DATA.nr), { label: skip });
  };
  rule(X86_64_NR.execveat, [[0, EXEC_HELPER.helperFd], [4, AT_EMPTY_PATH]]);
  rule(X86_64_NR.fcntl, [[0, EXEC_HELPER.syncFd], [1, F_SETFD]]);
  return assemble(items);
}

function seccompFlags(flags: string[] | undefined): number {
  let bits = 0;
  (flags ?? []).forEach((flag, i) => {
    const bit = Object.hasOwn(filterFlags, flag) ? filterFlags[flag] : undefined;
    if (bit === undefined) throw new SpecError(`linux.seccomp.flags[${i}]`, `unknown seccomp filter flag "${flag}"`);
    bits |= bit;
  });
  return bits;
}

/** Compiles linux.seccomp into a BPF program; throws SpecError for what cannot be enforced. */
export function compileSeccomp(seccomp: LinuxSeccomp, hostArch: string = process.arch): SeccompProgram {
  if (hostArch !== 'x64') {
    throw new SpecError('linux.seccomp', `seccomp filters are built for x86_64 hosts only (this host is ${hostArch})`);
  }
  if (seccomp.defaultAction === 'SCMP_ACT_NOTIFY') {
    throw new SpecError('linux.seccomp.defaultAction', 'SCMP_ACT_NOTIFY cannot be the default action (as in runc): the child could not hand the notify fd over');
  }
  const defaultAction = actionValue(seccomp.defaultAction, seccomp.defaultErrnoRet, 'linux.seccomp.defaultAction');
  let flags = seccompFlags(seccomp.flags);
  const syscalls = seccomp.syscalls ?? [];
  if (usesNotify(seccomp)) {
    if (seccomp.listenerPath === undefined || seccomp.listenerPath === '') {
      throw new SpecError('linux.seccomp.listenerPath', 'SCMP_ACT_NOTIFY needs a listenerPath, the unix socket the notify fd is sent to');
    }
    syscalls.forEach((sys, i) => {
      if (sys.action === 'SCMP_ACT_NOTIFY' && sys.names.includes('sendmsg')) {
        throw new SpecError(`linux.seccomp.syscalls[${i}]`, 'SCMP_ACT_NOTIFY cannot be used for sendmsg: the container\'s init hands the notify fd to the runtime with it');
      }
    });
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  }
  // runc's -ENOSYS stub, unless the default lets everything through anyway.
  const permissive = ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(seccomp.defaultAction);
  const enosys = !permissive && defaultAction !== SECCOMP_RET.ERRNO + ENOSYS;

  let i386 = false;
  let x32 = false;
  (seccomp.architectures ?? []).forEach((arch, i) => {
    if (arch === 'SCMP_ARCH_X86') i386 = true;
    else if (arch === 'SCMP_ARCH_X32') x32 = true;
    else if (arch !== 'SCMP_ARCH_X86_64' && !foreignArches.has(arch)) {
      throw new SpecError(`linux.seccomp.architectures[${i}]`, `unknown architecture "${arch}"`);
    }
  });

  const badArch = ret(SECCOMP_RET.KILL_PROCESS);
  const x32Section: SockFilter[] = x32
    ? [
        { code: BPF.ALU_AND_K, jt: 0, jf: 0, k: ~X32_SYSCALL_BIT >>> 0 },
        // x32's own syscalls (512+) have no x86_64 name: the default action
        ...guard(BPF.JMP_JGE_K, 512, [ret(defaultAction)]),
        ...dispatch(syscalls, x86_64Syscalls, defaultAction, enosys),
      ]
    : [badArch];
  const x86_64Section: SockFilter[] = [
    ...assemble([ld(SECCOMP_DATA.nr)]),
    ...execHelperAllowance(),
    // nr -1 (a tracer skipping the syscall) is no x32 call: the default action, as libseccomp
    ...guard(BPF.JMP_JEQ_K, 0xffffffff, [ret(defaultAction)]),
    ...guard(BPF.JMP_JGE_K, X32_SYSCALL_BIT, x32Section),
    ...dispatch(syscalls, x86_64Syscalls, defaultAction, enosys),
  ];
  const filter: SockFilter[] = [...assemble([ld(SECCOMP_DATA.arch)]), ...guard(BPF.JMP_JEQ_K, AUDIT_ARCH_X86_64, x86_64Section)];
  if (i386) {
    filter.push(...guard(BPF.JMP_JEQ_K, AUDIT_ARCH_I386, [...assemble([ld(SECCOMP_DATA.nr)]), ...dispatch(syscalls, i386Syscalls, defaultAction, enosys)]));
  }
  filter.push(badArch);

  if (filter.length > BPF_MAXINSNS) {
    throw new SpecError('linux.seccomp.syscalls', `the seccomp filter needs ${filter.length} BPF instructions, more than the kernel's ${BPF_MAXINSNS}`);
  }
  return { flags, filter };
}

/** Whether a rule of the profile notifies a listener (SCMP_ACT_NOTIFY). */
export function usesNotify(seccomp: LinuxSeccomp | undefined): boolean {
  return (seccomp?.syscalls ?? []).some((sys) => sys.action === 'SCMP_ACT_NOTIFY');
}

/**
 * The program's wire form for the child (native/seccomp_filter.h): two exact
 * numbers per instruction, [code | jt << 16 | jf << 24, k] (each below 2**32).
 */
export function packFilter(filter: SockFilter[]): number[] {
  const out: number[] = [];
  for (const insn of filter) out.push(insn.code + insn.jt * 2 ** 16 + insn.jf * 2 ** 24, insn.k >>> 0);
  return out;
}
