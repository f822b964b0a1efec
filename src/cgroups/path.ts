/**
 * linux.cgroupsPath -> the path of the cgroup inside each hierarchy.
 *
 * - absolute ("/a/b"): that path in every hierarchy;
 * - relative ("a/b") or absent (the container id): beneath `parent` (default "/husk");
 * - parent "self": beneath the caller's own cgroup, which differs per hierarchy, so the
 *   result stays RELATIVE ("a/b" = relative to the caller's cgroup in each hierarchy,
 *   as runc reads a relative cgroupsPath). createCgroupManager resolves it per hierarchy.
 */
import { CgroupError } from './errors.js';

export const DEFAULT_CGROUP_PARENT = '/husk';
export const SELF_PARENT = 'self';

function components(path: string, jsonPath: string, what: string): string[] {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  for (const p of parts) {
    if (p === '..') {
      throw new CgroupError(`${jsonPath}: ${what} ${JSON.stringify(path)} must not contain ".." (it would escape its parent cgroup)`, {
        jsonPath,
      });
    }
    if (p.includes('\0') || p.includes('\n')) {
      throw new CgroupError(`${jsonPath}: ${what} ${JSON.stringify(path)} contains a NUL or newline`, { jsonPath });
    }
  }
  return parts;
}

export function resolveCgroupsPath(cgroupsPath: string | undefined, id: string, parent: string = DEFAULT_CGROUP_PARENT): string {
  const jsonPath = 'linux.cgroupsPath';
  if (cgroupsPath !== undefined && cgroupsPath !== '' && cgroupsPath.startsWith('/')) {
    const parts = components(cgroupsPath, jsonPath, 'cgroupsPath');
    if (parts.length === 0) {
      throw new CgroupError(`${jsonPath}: "/" is the root cgroup; a container needs a cgroup of its own`, { jsonPath });
    }
    return '/' + parts.join('/');
  }
  let relative: string[];
  if (cgroupsPath !== undefined && cgroupsPath !== '') {
    relative = components(cgroupsPath, jsonPath, 'cgroupsPath');
  } else {
    relative = components(id, 'id', 'container id');
    if (id.includes('/')) throw new CgroupError(`id: container id ${JSON.stringify(id)} must not contain "/"`, { jsonPath: 'id' });
  }
  if (relative.length === 0) {
    throw new CgroupError(`${jsonPath}: ${JSON.stringify(cgroupsPath ?? id)} names no cgroup`, { jsonPath });
  }
  if (parent === SELF_PARENT) return relative.join('/');
  if (!parent.startsWith('/')) {
    throw new CgroupError(`cgroup parent ${JSON.stringify(parent)} must be an absolute cgroup path or "self"`, { jsonPath: 'cgroupParent' });
  }
  const parentParts = components(parent, 'cgroupParent', 'cgroup parent');
  return '/' + [...parentParts, ...relative].join('/');
}

/** Joins a cgroupsPath-style path (absolute, or relative to `own`) to the caller's own cgroup. */
export function absoluteIn(path: string, own: string): string {
  if (path.startsWith('/')) return path;
  const base = own.endsWith('/') ? own.slice(0, -1) : own;
  return `${base}/${path}`;
}
