import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  CAP_LAST_CAP,
  CAPABILITY_NAMES,
  capabilityMask,
  capabilityNames,
  capabilityNumber,
  isCapabilityName,
} from '../../../src/spec/capabilities.js';
import { RLIM_INFINITY, RLIMITS, rlimitNumber, rlimitValue } from '../../../src/spec/rlimits.js';
import { parseSignal, signalName, UnknownSignalError } from '../../../src/spec/signals.js';

describe('capabilities', () => {
  it('numbers the capabilities as linux/capability.h', () => {
    const known: [string, number][] = [
      ['CAP_CHOWN', 0],
      ['CAP_DAC_OVERRIDE', 1],
      ['CAP_KILL', 5],
      ['CAP_SETUID', 7],
      ['CAP_NET_BIND_SERVICE', 10],
      ['CAP_NET_RAW', 13],
      ['CAP_SYS_CHROOT', 18],
      ['CAP_SYS_ADMIN', 21],
      ['CAP_SYS_RESOURCE', 24],
      ['CAP_MKNOD', 27],
      ['CAP_AUDIT_WRITE', 29],
      ['CAP_SETFCAP', 31],
      ['CAP_SYSLOG', 34],
      ['CAP_AUDIT_READ', 37],
      ['CAP_PERFMON', 38],
      ['CAP_BPF', 39],
      ['CAP_CHECKPOINT_RESTORE', 40],
    ];
    for (const [name, n] of known) expect(capabilityNumber(name), name).toBe(n);
    expect(CAP_LAST_CAP).toBe(40);
    expect(new Set(CAPABILITY_NAMES).size).toBe(41);
  });

  it('rejects unknown names', () => {
    expect(capabilityNumber('CAP_FOO')).toBeUndefined();
    expect(capabilityNumber('KILL')).toBeUndefined();
    expect(capabilityNumber('constructor')).toBeUndefined();
    expect(isCapabilityName('CAP_KILL')).toBe(true);
    expect(() => capabilityMask(['CAP_KILL', 'CAP_FOO'])).toThrow('unknown capability "CAP_FOO"');
  });

  it('builds masks and reads them back', () => {
    // runc's default set: AUDIT_WRITE(29) KILL(5) NET_BIND_SERVICE(10)
    expect(capabilityMask(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'])).toBe(0x20000420);
    expect(capabilityMask([])).toBe(0);
    expect(capabilityMask(['CAP_KILL', 'CAP_KILL'])).toBe(32);
    // Above bit 31: exact in a double, no 32-bit truncation.
    expect(capabilityMask(['CAP_CHECKPOINT_RESTORE'])).toBe(2 ** 40);
    expect(capabilityMask([...CAPABILITY_NAMES])).toBe(2 ** 41 - 1);
    // Docker's default CapBnd as /proc/<pid>/status shows it.
    expect(capabilityNames(0x00000000a80425fbn)).toEqual([
      'CAP_CHOWN',
      'CAP_DAC_OVERRIDE',
      'CAP_FOWNER',
      'CAP_FSETID',
      'CAP_KILL',
      'CAP_SETGID',
      'CAP_SETUID',
      'CAP_SETPCAP',
      'CAP_NET_BIND_SERVICE',
      'CAP_NET_RAW',
      'CAP_SYS_CHROOT',
      'CAP_MKNOD',
      'CAP_AUDIT_WRITE',
      'CAP_SETFCAP',
    ]);
    expect(capabilityNames(2 ** 40 + 1)).toEqual(['CAP_CHOWN', 'CAP_CHECKPOINT_RESTORE']);
    // A full 64-bit mask (newer kernels' extra bits) names only the known ones.
    expect(capabilityNames(0xffffffffffffffffn)).toEqual(CAPABILITY_NAMES);
  });
});

describe('rlimits', () => {
  it('numbers the rlimits as asm-generic/resource.h', () => {
    expect(rlimitNumber('RLIMIT_CPU')).toBe(0);
    expect(rlimitNumber('RLIMIT_CORE')).toBe(4);
    expect(rlimitNumber('RLIMIT_NPROC')).toBe(6);
    expect(rlimitNumber('RLIMIT_NOFILE')).toBe(7);
    expect(rlimitNumber('RLIMIT_MEMLOCK')).toBe(8);
    expect(rlimitNumber('RLIMIT_AS')).toBe(9);
    expect(rlimitNumber('RLIMIT_RTTIME')).toBe(15);
    expect(Object.keys(RLIMITS)).toHaveLength(16);
    expect(rlimitNumber('RLIMIT_FOO')).toBeUndefined();
    expect(rlimitNumber('toString')).toBeUndefined();
  });

  it('maps JSON values to exact 64-bit values, 2**64 meaning RLIM_INFINITY', () => {
    expect(rlimitValue(1024)).toBe(1024n);
    expect(rlimitValue(0)).toBe(0n);
    expect(rlimitValue(JSON.parse('18446744073709551615') as number)).toBe(RLIM_INFINITY);
    expect(RLIM_INFINITY).toBe(2n ** 64n - 1n);
  });
});

describe('signals', () => {
  it('parses names and numbers as runc kill does', () => {
    expect(parseSignal('SIGTERM')).toBe(15);
    expect(parseSignal('TERM')).toBe(15);
    expect(parseSignal('term')).toBe(15);
    expect(parseSignal('sigkill')).toBe(9);
    expect(parseSignal('KILL')).toBe(9);
    expect(parseSignal('15')).toBe(15);
    expect(parseSignal('9')).toBe(9);
    expect(parseSignal('0')).toBe(0);
    expect(parseSignal('HUP')).toBe(1);
    expect(parseSignal('SIGUSR1')).toBe(10);
    expect(parseSignal('WINCH')).toBe(28);
    expect(parseSignal('SIGCHLD')).toBe(17);
    expect(parseSignal('STOP')).toBe(constants.signals.SIGSTOP);
  });

  it('parses real-time signals', () => {
    expect(parseSignal('SIGRTMIN')).toBe(34);
    expect(parseSignal('RTMIN+3')).toBe(37);
    expect(parseSignal('rtmax-1')).toBe(63);
    expect(parseSignal('SIGRTMAX')).toBe(64);
    expect(parseSignal('64')).toBe(64);
  });

  it('rejects unknown signals with a typed error', () => {
    expect(() => parseSignal('SIGFOO')).toThrow(UnknownSignalError);
    expect(() => parseSignal('SIGFOO')).toThrow('unknown signal "SIGFOO"');
    expect(() => parseSignal('65')).toThrow('unknown signal "65" (signal numbers go from 0 to 64)');
    expect(() => parseSignal('-9')).toThrow('unknown signal "-9"');
    expect(() => parseSignal('RTMIN+31')).toThrow('unknown signal "RTMIN+31"');
    expect(() => parseSignal('')).toThrow(UnknownSignalError);
    expect(() => parseSignal('constructor')).toThrow(UnknownSignalError);
  });

  it('names signal numbers', () => {
    expect(signalName(15)).toBe('SIGTERM');
    expect(signalName(6)).toBe('SIGABRT');
    expect(signalName(35)).toBe('SIGRTMIN+1');
    expect(signalName(63)).toBe('SIGRTMAX-1');
    expect(signalName(99)).toBeUndefined();
  });
});
