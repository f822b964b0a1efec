/**
 * RLIMIT_* names -> resource numbers for setrlimit/prlimit (the generic Linux
 * values, include/uapi/asm-generic/resource.h, used by x86_64 and arm64; MIPS,
 * SPARC and Alpha number some differently and are not supported).
 */

export const RLIMITS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/** The resource number of an RLIMIT_* name, or undefined when unknown. */
export function rlimitNumber(name: string): number | undefined {
  return Object.hasOwn(RLIMITS, name) ? RLIMITS[name] : undefined;
}

/** RLIM_INFINITY: (rlim_t)-1. */
export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

/**
 * An rlimit value from config.json as the exact 64-bit value. JSON gives
 * doubles: 18446744073709551615 (RLIM_INFINITY) arrives rounded up to 2**64,
 * which therefore means RLIM_INFINITY. (validate.ts rejects anything larger.)
 */
export function rlimitValue(value: number): bigint {
  if (value >= 2 ** 64) return RLIM_INFINITY;
  return BigInt(value);
}
