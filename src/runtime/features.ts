import { readFileSync } from 'node:fs';
import { MEMORY_POLICY_FLAGS, MEMORY_POLICY_MODES } from '../plan/attributes.js';
import { knownMountOptions } from '../plan/mount-options.js';
import { foreignArches, SECCOMP_ACTIONS, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../seccomp/compile.js';
import { CAPABILITY_NAMES } from '../spec/capabilities.js';
import { HOOK_NAMES, NAMESPACE_TYPES, OCI_VERSION_MAX } from '../spec/validate.js';

/**
 * What this runtime implements, as the runtime-spec's features.md describes it
 * and `runc features` prints it: for tools that drive runtimes (containerd...)
 * to ask before they build a config. Properties of husk, not of this host.
 */
export function runtimeFeatures(): Record<string, unknown> {
  const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION_MAX,
    hooks: [...HOOK_NAMES],
    mountOptions: knownMountOptions(),
    linux: {
      namespaces: [...NAMESPACE_TYPES],
      capabilities: [...CAPABILITY_NAMES],
      // rdma: refused (src/cgroups/validate.ts); net_cls/net_prio are applied where v1 mounts them.
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: false, rdma: false },
      seccomp: {
        enabled: process.arch === 'x64',
        actions: [...SECCOMP_ACTIONS],
        operators: [...SECCOMP_OPERATORS],
        archs: ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', ...foreignArches].sort(),
        knownFlags: [...SECCOMP_FLAGS],
        supportedFlags: [...SECCOMP_FLAGS],
      },
      // Refused, whatever the host has (src/runtime/host-support.ts).
      // runtime-spec 1.3 (features-linux.md): what set_mempolicy is given (src/plan/attributes.ts).
      memoryPolicy: { modes: Object.keys(MEMORY_POLICY_MODES), flags: Object.keys(MEMORY_POLICY_FLAGS) },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
      netDevices: { enabled: true },
    },
    annotations: { 'io.github.husk.version': version, 'io.github.husk.checkpoint.enabled': 'false' },
  };
}
