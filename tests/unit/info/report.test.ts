import { describe, expect, it } from 'vitest';
import { describeCapabilities, parseKernelRelease, parseStatus } from '../../../src/info/collect.js';
import { describeProbe, formatHostInfo } from '../../../src/info/format.js';
import type { HostInfo } from '../../../src/info/types.js';

describe('parseKernelRelease', () => {
  it('reads major.minor.patch from distribution release strings', () => {
    expect(parseKernelRelease('6.1.0-18-amd64')).toEqual([6, 1, 0]);
    expect(parseKernelRelease('6.18.44-fc-v657')).toEqual([6, 18, 44]);
    expect(parseKernelRelease('5.4')).toEqual([5, 4, 0]);
    expect(parseKernelRelease('weird')).toEqual([0, 0, 0]);
  });
});

describe('describeCapabilities', () => {
  it('names the sets and what is missing from the bounding set (CAP_SYS_RESOURCE here)', () => {
    const status = parseStatus('CapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n');
    const caps = describeCapabilities(status, 40);
    expect(caps.missingFromBounding).toEqual(['CAP_SYS_RESOURCE']);
    expect(caps.bounding).toHaveLength(40);
    expect(caps.effective).toEqual(caps.bounding);
    expect(caps.missingFromEffective).toEqual([]);
    expect(caps.ambient).toEqual([]);
  });

  it('lists bounding capabilities that are not effective (an unprivileged caller)', () => {
    const status = parseStatus('CapEff:\t0000000000000000\nCapPrm:\t0000000000000000\nCapBnd:\t0000000000000021\nCapAmb:\t0000000000000000\n');
    const caps = describeCapabilities(status, 5);
    expect(caps.bounding).toEqual(['CAP_CHOWN', 'CAP_KILL']);
    expect(caps.missingFromEffective).toEqual(['CAP_CHOWN', 'CAP_KILL']);
    expect(caps.missingFromBounding).toEqual(['CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID']);
  });
});

describe('formatHostInfo', () => {
  const info: HostInfo = {
    schemaVersion: 1,
    husk: { version: '9.9.9', addon: { loaded: false, error: 'husk: the native addon is not built' } },
    kernel: { release: '6.1.0', version: '#1', machine: 'x86_64' },
    caller: { uid: 1000, gid: 1000, privileged: false },
    namespaces: [
      { kind: 'mnt', specType: 'mount', supported: true, creatable: { status: 'not-checked', detail: 'needs root' } },
      { kind: 'user', specType: 'user', supported: true, creatable: { status: 'no', detail: 'clone3(CLONE_NEWUSER): EPERM' } },
    ],
    cgroups: { mode: 'hybrid', v1: [{ controllers: ['memory'], mountPoint: '/sys/fs/cgroup/memory', mountPoints: ['/sys/fs/cgroup/memory'] }], v2: { mountPoint: '/sys/fs/cgroup/unified', controllers: [] } },
    overlayfs: { status: 'yes' },
    pivotRoot: { status: 'not-checked', detail: 'needs root' },
    userNamespaces: { maxUserNamespaces: 0, unprivilegedUsernsClone: null, apparmorRestrictUnprivilegedUserns: null, unprivilegedAllowed: { status: 'no', detail: 'user.max_user_namespaces is 0' } },
    seccomp: { supported: false, callerMode: null, callerFilters: null, actionsAvailable: [] },
    capabilities: { effective: [], permitted: [], bounding: ['CAP_CHOWN'], ambient: [], missingFromBounding: [], missingFromEffective: ['CAP_CHOWN'], lastCap: 0 },
    syscalls: {
      clone3: { status: 'yes', detail: 'kernel >= 5.3' },
      pidfdOpen: { status: 'no', detail: 'needs kernel >= 5.3' },
      pidfdSendSignal: { status: 'yes', detail: 'kernel >= 5.1' },
      openat2: { status: 'yes', detail: 'kernel >= 5.6' },
      closeRange: { status: 'yes', detail: 'kernel >= 5.9' },
    },
    rootless: {
      active: true,
      user: 'alice',
      stateRoot: '/run/user/1000/husk',
      subuid: [{ start: 100000, count: 65536 }],
      subgid: [],
      newuidmap: { path: '/usr/bin/newuidmap', setuid: true },
      newgidmap: { path: null, setuid: false },
      delegatedCgroup: { status: 'no', detail: 'cgroups here are hybrid, and only a cgroup v2 subtree can be delegated to a user: containers get no cgroup, resource limits are refused' },
      overlayInUserNamespace: { status: 'yes', detail: 'mounted in a throwaway user namespace' },
    },
    warnings: ['not running as root: checks that need root were not made'],
  };

  it('prints every section, the reasons of "no" and "not checked", and the warnings', () => {
    const text = formatHostInfo(info);
    expect(text).toContain('husk     9.9.9 (addon NOT loaded: husk: the native addon is not built)');
    expect(text).toMatch(/^ {2}mnt +mount +not checked \(needs root\)$/m);
    expect(text).toMatch(/^ {2}user +user +no \(clone3\(CLONE_NEWUSER\): EPERM\)$/m);
    expect(text).toContain('Cgroups: hybrid');
    expect(text).toMatch(/^ {2}v2 +\(none\) +\/sys\/fs\/cgroup\/unified +-$/m);
    expect(text).toMatch(/^ {2}pidfd_open +no \(needs kernel >= 5\.3\)$/m);
    expect(text).toMatch(/^ {2}seccomp +no$/m);
    expect(text).toContain('unprivileged: no (user.max_user_namespaces is 0)');
    expect(text).toContain('  - not running as root: checks that need root were not made');
  });

  it('says what rootless mode can do: ranges, helpers, the delegated cgroup, overlay in a user namespace', () => {
    const text = formatHostInfo(info);
    expect(text).toContain('Rootless (husk runs rootless now, user alice):');
    expect(text).toMatch(/^ {2}state root +\/run\/user\/1000\/husk$/m);
    expect(text).toMatch(/^ {2}subuid ranges +100000-165535 \(\/etc\/subuid\)$/m);
    expect(text).toMatch(/^ {2}subgid ranges +none in \/etc\/subgid$/m);
    expect(text).toMatch(/^ {2}newuidmap +\/usr\/bin\/newuidmap \(set-uid root\)$/m);
    expect(text).toMatch(/^ {2}newgidmap +not installed/m);
    expect(text).toMatch(/^ {2}delegated cgroup +no \(cgroups here are hybrid.*resource limits are refused\)$/m);
    expect(text).toMatch(/^ {2}overlay in a user namespace +yes \(mounted in a throwaway user namespace\)$/m);
  });

  it('describes probes', () => {
    expect(describeProbe({ status: 'yes', detail: 'tried' })).toBe('yes');
    expect(describeProbe({ status: 'yes', detail: 'tried' }, true)).toBe('yes (tried)');
    expect(describeProbe({ status: 'not-checked', detail: 'needs root' })).toBe('not checked (needs root)');
  });
});
