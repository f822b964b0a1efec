import { lstatSync, readlinkSync } from 'node:fs';
import { isCgroup2UnifiedMode } from '../cgroups/index.js';
import { defaultSpec } from '../spec/defaults.js';
import type { Mount, Spec } from '../spec/types.js';

/**
 * Host directories the embedded default rootfs shares read-only (as bubblewrap's --ro-bind),
 * recursively: a mount beneath /usr or /etc is read-only too (mount_setattr AT_RECURSIVE).
 */
const sharedDirs = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc'];

export interface HostRootfs {
  spec: Spec;
  /** [target, path]: merged-/usr links such as /bin -> usr/bin, recreated in the tmpfs root. */
  symlinks: [string, string][];
}

/**
 * A container with no image: the host's own /usr, /bin, /lib*, /etc bound
 * read-only over a private tmpfs root, with runc's default namespaces, mounts,
 * masks and capabilities. Nothing is downloaded and nothing of the host is writable.
 */
export function hostRootfsSpec(args: string[], hostname: string, terminal: boolean): HostRootfs {
  const spec = defaultSpec({ args, terminal, cgroupNamespace: isCgroup2UnifiedMode() });
  spec.root = { path: 'rootfs', readonly: false };
  spec.hostname = hostname;
  const symlinks: [string, string][] = [];
  const binds: Mount[] = [];
  for (const dir of sharedDirs) {
    let stat;
    try {
      stat = lstatSync(dir);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) symlinks.push([readlinkSync(dir), dir]);
    else if (stat.isDirectory()) binds.push({ destination: dir, type: 'bind', source: dir, options: ['rbind', 'rro', 'rnosuid', 'rnodev'] });
  }
  const tmp: Mount = { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] };
  spec.mounts = [...(spec.mounts ?? []), ...binds, tmp];
  if (spec.process !== undefined) {
    spec.process.env = [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      ...(terminal ? [`TERM=${process.env['TERM'] ?? 'xterm'}`] : []),
      'HOME=/root',
    ];
  }
  return { spec, symlinks };
}
