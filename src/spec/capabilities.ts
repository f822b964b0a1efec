/**
 * Linux capability names <-> numbers (include/uapi/linux/capability.h).
 * Masks are plain numbers: 41 capabilities fit well within 2**53.
 */

/** Index = capability number. */
export const CAPABILITY_NAMES: readonly string[] = [
  'CAP_CHOWN', // 0
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL', // 5
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE', // 10
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', // 15
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', // 20
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', // 25
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL', // 30
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM', // 35
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE', // 40
];

/** The highest capability number husk knows (CAP_CHECKPOINT_RESTORE). */
export const CAP_LAST_CAP = CAPABILITY_NAMES.length - 1;

let byName: Map<string, number> | undefined;

/** The number of a capability name ("CAP_KILL" -> 5), or undefined when unknown. */
export function capabilityNumber(name: string): number | undefined {
  byName ??= new Map(CAPABILITY_NAMES.map((n, i) => [n, i]));
  return byName.get(name);
}

export function isCapabilityName(name: string): boolean {
  return capabilityNumber(name) !== undefined;
}

/** The bit mask of a set of capability names. Throws on an unknown name. */
export function capabilityMask(names: readonly string[]): number {
  let mask = 0n;
  for (const name of names) {
    const n = capabilityNumber(name);
    if (n === undefined) throw new Error(`unknown capability "${name}"`);
    mask |= 1n << BigInt(n);
  }
  return Number(mask);
}

/** The names of the bits set in a mask, lowest first. Bits above CAP_LAST_CAP (capabilities newer than husk) are left out. */
export function capabilityNames(mask: bigint | number): string[] {
  const bits = typeof mask === 'bigint' ? mask : BigInt(mask);
  const names: string[] = [];
  for (let n = 0; n <= CAP_LAST_CAP; n++) {
    if ((bits >> BigInt(n)) & 1n) names.push(CAPABILITY_NAMES[n]!);
  }
  return names;
}
