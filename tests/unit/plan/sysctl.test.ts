/** runc's sysctl rules, pure (the attacks themselves: tests/integration/runtime/sysctl.test.ts). */
import { describe, expect, it } from 'vitest';
import { checkSysctls, dottedSysctl, sysctlFile } from '../../../src/plan/sysctl.js';

const all = { ipc: true, uts: true, network: true };

describe('sysctl keys', () => {
  it('takes "/" as the separator when it comes first, as sysctl(8) and runc', () => {
    expect(dottedSysctl('net.ipv4.ip_forward')).toBe('net.ipv4.ip_forward');
    expect(dottedSysctl('net/ipv4/conf/eth0.100/rp_filter')).toBe('net.ipv4.conf.eth0/100.rp_filter');
    expect(sysctlFile('net/ipv4/conf/eth0.100/rp_filter', 'k')).toBe('net/ipv4/conf/eth0.100/rp_filter');
    expect(sysctlFile('net.ipv4.ip_forward', 'k')).toBe('net/ipv4/ip_forward');
  });

  it('refuses keys that would walk out of /proc/sys', () => {
    expect(() => sysctlFile('net/../../self/oom_score_adj', 'k')).toThrow('is not a valid key');
    expect(() => sysctlFile('net..ipv4', 'k')).toThrow('is not a valid key');
    expect(() => checkSysctls({ 'net/../vm/swappiness': '1' }, all)).toThrow('is not a valid key');
  });

  it('accepts each namespaced key only with its namespace', () => {
    expect(() => checkSysctls({ 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '1', 'net.core.somaxconn': '1', 'kernel.domainname': 'x' }, all)).not.toThrow();
    expect(() => checkSysctls({ 'kernel.sem': '1' }, { ...all, ipc: false })).toThrow('linux.sysctl["kernel.sem"]: sysctl "kernel.sem" is not allowed in the hosts ipc namespace');
    expect(() => checkSysctls({ 'net.core.somaxconn': '1' }, { ...all, network: false })).toThrow('sysctl "net.core.somaxconn" not allowed in host network namespace');
    expect(() => checkSysctls({ 'kernel.domainname': 'x' }, { ...all, uts: false })).toThrow('sysctl "kernel.domainname" is not in a separate kernel namespace');
    expect(() => checkSysctls({ 'kernel.hostname': 'x' }, all)).toThrow('conflicts with the OCI "hostname" field');
    for (const key of ['vm.swappiness', 'kernel.pid_max', 'fs.file-max', 'kernel.msgmaxx', 'netfilter.x']) {
      expect(() => checkSysctls({ [key]: '1' }, all), key).toThrow(`sysctl "${key}" is not in a separate kernel namespace`);
    }
  });
});
