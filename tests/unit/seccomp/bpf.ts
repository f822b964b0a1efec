/**
 * A tiny classic-BPF interpreter over struct seccomp_data, enough for the
 * instructions src/seccomp/compile.ts emits: the tests ask it what the kernel
 * would decide for a syscall.
 */
import { BPF, type SockFilter } from '../../../src/seccomp/compile.js';

export interface SeccompData {
  nr: number;
  arch: number;
  /** Up to six 64-bit arguments (bigint for values beyond 2**53). */
  args?: (number | bigint)[];
}

function word(data: SeccompData, offset: number): number {
  if (offset === 0) return data.nr >>> 0;
  if (offset === 4) return data.arch >>> 0;
  if (offset >= 16 && offset < 64 && offset % 4 === 0) {
    const arg = BigInt(data.args?.[Math.floor((offset - 16) / 8)] ?? 0) & 0xffffffffffffffffn;
    return Number(offset % 8 === 0 ? arg & 0xffffffffn : arg >> 32n);
  }
  throw new Error(`load out of seccomp_data at ${offset}`);
}

/** Runs the filter; returns its SECCOMP_RET_* value. */
export function runFilter(filter: SockFilter[], data: SeccompData): number {
  let a = 0;
  for (let pc = 0; pc < filter.length; pc++) {
    const { code, jt, jf, k } = filter[pc]!;
    switch (code) {
      case BPF.LD_W_ABS: a = word(data, k); break;
      case BPF.ALU_AND_K: a = (a & k) >>> 0; break;
      case BPF.JMP_JA: pc += k; break;
      case BPF.JMP_JEQ_K: pc += a === k >>> 0 ? jt : jf; break;
      case BPF.JMP_JGT_K: pc += a > k >>> 0 ? jt : jf; break;
      case BPF.JMP_JGE_K: pc += a >= k >>> 0 ? jt : jf; break;
      case BPF.RET_K: return k >>> 0;
      default: throw new Error(`unknown BPF opcode ${code} at ${pc}`);
    }
  }
  throw new Error('the filter ran off its end');
}
