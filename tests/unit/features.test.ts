/** `husk features` advertises only what husk really implements. */
import { describe, expect, it } from 'vitest';
import { parseMountOptions } from '../../src/plan/mount-options.js';
import { memoryPolicyOp } from '../../src/plan/attributes.js';
import { runtimeFeatures } from '../../src/runtime/features.js';
import { checkSpecSupport } from '../../src/runtime/host-support.js';
import { compileSeccomp } from '../../src/seccomp/compile.js';
import { defaultSpec } from '../../src/spec/defaults.js';
import { validateSpec } from '../../src/spec/validate.js';

const features = runtimeFeatures() as {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    seccomp: { actions: string[]; operators: string[]; archs: string[]; knownFlags: string[] };
    memoryPolicy: { modes: string[]; flags: string[] };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    intelRdt: { enabled: boolean };
    cgroup: { rdma: boolean };
  };
};

describe('runtimeFeatures', () => {
  it('accepts configs at both ends of the advertised ociVersion range', () => {
    for (const ociVersion of [features.ociVersionMin, features.ociVersionMax]) {
      expect(() => validateSpec({ ...defaultSpec(), ociVersion })).not.toThrow();
    }
  });

  it('every advertised hook, namespace and capability is accepted in a config', () => {
    const spec = defaultSpec();
    spec.hooks = Object.fromEntries(features.hooks.map((h) => [h, [{ path: '/bin/true' }]]));
    spec.process!.capabilities!.bounding = features.linux.capabilities;
    spec.linux!.namespaces = features.linux.namespaces.map((type) => ({ type: type as 'pid' }));
    expect(() => validateSpec(spec)).not.toThrow();
  });

  it('every advertised mount option is understood (none falls through as filesystem data)', () => {
    for (const option of features.mountOptions) expect(parseMountOptions([option], 'm').data, option).toBeNull();
  });

  it('every advertised seccomp action, operator, arch and flag compiles', () => {
    for (const action of features.linux.seccomp.actions) {
      // SCMP_ACT_NOTIFY is a rule's action only (as in runc), with a listener
      const profile = action === 'SCMP_ACT_NOTIFY' ? { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/l.sock', syscalls: [{ names: ['mkdir'], action }] } : { defaultAction: action };
      expect(() => compileSeccomp(profile, 'x64'), action).not.toThrow();
    }
    for (const op of features.linux.seccomp.operators) {
      const seccomp = { defaultAction: 'SCMP_ACT_ALLOW' as const, syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO' as const, args: [{ index: 0, value: 8, valueTwo: 8, op: op as 'SCMP_CMP_EQ' }] }] };
      expect(() => compileSeccomp(seccomp, 'x64'), op).not.toThrow();
    }
    expect(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: features.linux.seccomp.archs as 'SCMP_ARCH_X86'[], flags: features.linux.seccomp.knownFlags as 'SECCOMP_FILTER_FLAG_LOG'[] }, 'x64')).not.toThrow();
  });

  it('every advertised memory policy mode and flag is accepted and planned (runtime-spec 1.3)', () => {
    for (const mode of features.linux.memoryPolicy.modes) {
      const spec = { ...defaultSpec(), ociVersion: '1.3.0' };
      const nodes = mode === 'MPOL_DEFAULT' || mode === 'MPOL_LOCAL' ? '' : '0';
      spec.linux!.memoryPolicy = { mode: mode as 'MPOL_BIND', nodes, flags: features.linux.memoryPolicy.flags as 'MPOL_F_STATIC_NODES'[] };
      expect(() => validateSpec(spec), mode).not.toThrow();
      expect(memoryPolicyOp(spec.linux!.memoryPolicy).kind).toBe('set_mempolicy');
    }
  });

  it('says AppArmor, SELinux, Intel RDT and rdma are not applied: husk refuses them', () => {
    expect([features.linux.apparmor.enabled, features.linux.selinux.enabled, features.linux.intelRdt.enabled, features.linux.cgroup.rdma]).toEqual([false, false, false, false]);
    const host = { apparmor: true, selinux: true, resctrl: true };
    const spec = defaultSpec();
    spec.process!.apparmorProfile = 'p';
    expect(() => checkSpecSupport(spec, host)).toThrow('process.apparmorProfile: cannot be applied: husk does not apply AppArmor profiles');
  });
});
