/**
 * Properties husk cannot apply on this host (or at all), refused before anything is
 * created: config.md says a runtime that cannot apply a property "MUST generate an
 * error and a new container MUST NOT be created". Each refusal is one line naming
 * the property and why. Kernel memory limits, which the kernel no longer enforces,
 * are a warning instead, as runc makes them.
 *
 * cgroup resources (network, rdma, kernelTCP) are refused by the cgroups layer
 * (src/cgroups/validate.ts), which knows the host's hierarchies.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SpecError } from '../spec/errors.js';
import type { Process, Spec } from '../spec/types.js';

/** The Linux security modules and resource-control filesystems of this host. */
export interface HostSecurity {
  apparmor: boolean;
  selinux: boolean;
  resctrl: boolean;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** What runc's apparmor.IsEnabled, selinux.GetEnabled and intelrdt look at. */
export function probeHostSecurity(): HostSecurity {
  const mounts = readText('/proc/self/mounts') ?? '';
  return {
    apparmor: readText('/sys/module/apparmor/parameters/enabled')?.trim() === 'Y',
    selinux: existsSync('/sys/fs/selinux/enforce') || / selinuxfs /.test(mounts),
    resctrl: / resctrl /.test(mounts),
  };
}

let lastCap: number | undefined;

/** The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap), read once per process. */
export function lastCapability(): number {
  return (lastCap ??= Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8')));
}

/** The host's facts, probed only when a property needs them (most configs name no label). */
type HostFacts = HostSecurity | (() => HostSecurity);

function lazily(host: HostFacts): () => HostSecurity {
  if (typeof host !== 'function') return () => host;
  let probed: HostSecurity | undefined;
  return () => (probed ??= host());
}

/** A property that cannot be applied, as a SpecError `<jsonPath>: cannot be applied: <why>`. */
function refuse(jsonPath: string, why: string): never {
  throw new SpecError(jsonPath, `cannot be applied: ${why}`);
}

/** The security labels of a process (a container's, or one `husk exec` runs). */
export function checkProcessSupport(process: Process, jsonPath: string, hostFacts: HostFacts = probeHostSecurity): void {
  const at = (key: string): string => (jsonPath === '' ? key : `${jsonPath}.${key}`);
  const host = lazily(hostFacts);
  // An empty label means none, as runc reads it.
  if (process.apparmorProfile) {
    refuse(
      at('apparmorProfile'),
      host().apparmor ? 'husk does not apply AppArmor profiles' : 'AppArmor is not enabled on this host (/sys/module/apparmor/parameters/enabled)',
    );
  }
  if (process.selinuxLabel) {
    refuse(at('selinuxLabel'), host().selinux ? 'husk does not apply SELinux labels' : 'SELinux is not enabled on this host (no selinuxfs)');
  }
}

/**
 * Every property of the config that this host (or husk) cannot apply: throws the
 * first as a SpecError. Returns the warnings for what is accepted but ignored.
 */
export function checkSpecSupport(spec: Spec, hostFacts: HostFacts = probeHostSecurity): string[] {
  const warnings: string[] = [];
  const host = lazily(hostFacts);
  if (spec.process !== undefined) checkProcessSupport(spec.process, 'process', host);
  const linux = spec.linux ?? {};
  if (linux.mountLabel) {
    refuse('linux.mountLabel', host().selinux ? 'husk does not apply SELinux mount labels' : 'SELinux is not enabled on this host (no selinuxfs)');
  }
  if (linux.intelRdt !== undefined) {
    refuse('linux.intelRdt', host().resctrl ? 'husk does not drive Intel RDT (resctrl)' : 'no resctrl filesystem is mounted on this host (Intel RDT)');
  }
  if (linux.resources?.memory?.kernel !== undefined) {
    // Linux 5.16 deprecated kmem.limit_in_bytes and 6.1 stopped enforcing it; runc ignores it too.
    warnings.push('linux.resources.memory.kernel: ignored: kernel memory limits are no longer enforced by the kernel (as runc ignores them)');
  }
  return warnings;
}
