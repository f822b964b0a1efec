/**
 * Checks of a config against the host and the rootfs that planning (pure) cannot make, run
 * before anything of the container exists.
 */
import { lstatSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { dottedSysctl } from '../plan/sysctl.js';
import { SpecError } from '../spec/errors.js';
import type { Spec } from '../spec/types.js';

/**
 * runc's rule for proc and sysfs mounts: the destination must be an ordinary directory (or
 * not exist yet). A symlink there is the classic way to make a runtime mount, or write
 * sysctls, somewhere it did not mean to. Stricter than runc, no component of the path may be
 * a symlink either (runc resolves those inside the rootfs).
 */
export function checkProcSysMountpoints(spec: Spec, rootfs: string): void {
  (spec.mounts ?? []).forEach((mount, i) => {
    if (mount.type !== 'proc' && mount.type !== 'sysfs') return;
    let path = rootfs;
    for (const part of posix.normalize(`/${mount.destination}`).split('/').filter(Boolean)) {
      path = `${path}/${part}`;
      let stat;
      try {
        stat = lstatSync(path);
      } catch {
        return; // made as a directory when mounted
      }
      if (!stat.isDirectory()) {
        const what = stat.isSymbolicLink() ? 'a symlink' : 'not a directory';
        throw new SpecError(`mounts[${i}].destination`, `filesystem ${JSON.stringify(mount.type)} must be mounted on ordinary directory (${path} is ${what})`);
      }
    }
  });
}

/**
 * linux.namespaces' network path names this process's own network namespace (runc's
 * isHostNetNS). Asked, as runc asks it, only when a net.* sysctl needs the answer.
 */
export function joinsOwnNetworkNs(spec: Spec): boolean {
  const path = spec.linux?.namespaces?.find((n) => n.type === 'network')?.path;
  if (path === undefined || path === '') return false;
  if (!Object.keys(spec.linux?.sysctl ?? {}).some((key) => dottedSysctl(key).startsWith('net.'))) return false;
  const own = statSync('/proc/self/ns/net');
  let joined;
  try {
    joined = statSync(path);
  } catch (error) {
    throw new SpecError('linux.namespaces', `invalid netns path ${JSON.stringify(path)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return own.dev === joined.dev && own.ino === joined.ino;
}
